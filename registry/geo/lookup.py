"""Finding schools by what people type: name and place words in any order.

The DUO directory has thousands of school locations; this index folds every name and place
once (lower case, no accents or punctuation) into tokens, adds the common Dutch
abbreviations both ways (``csg`` <-> "christelijke scholengemeenschap", ``obs`` <->
"openbare basisschool", ``st`` <-> "sint", ...) and the kind of school from DUO
(basisschool, mavo, havo, vwo, ...), and keeps an inverted index from token to schools.

A query word matches a token when it equals it, starts it ("mont" -> "montessori"), or, from
four letters on, lies inside it ("college" in "michaelcollege"); a word matching nothing gets
its nearest tokens by edit distance (rapidfuzz), for typos. Descriptive words ("school",
"de", "obs", "college", "havo") are *soft*: they improve the ranking when they match but do
not exclude a school whose name lacks them (DUO often leaves out "openbare basisschool").
Every other word must match. Ranking: how well each word matches (whole word > start >
inside), a bonus when the words cover both the name and the place, and one when the name
starts with a query word; then shorter names first.

When no school matches every word, the schools matching the rarest words are returned as a
*partial* result ("agora roermond" when there is no Agora in Roermond: the Agora schools
elsewhere first, then the schools in Roermond), so the caller can say so.
"""
from __future__ import annotations

import bisect
import math
import re
import unicodedata
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING

from rapidfuzz import fuzz, process

if TYPE_CHECKING:
    from registry.geo.directory import School

MAX_WORDS = 8
FUZZY_CUTOFF = 80  # rapidfuzz ratio (0-100) for a typo to count as a match
MIN_INSIDE = 4  # a word this long may match inside a longer token

# Letters NFKD does not decompose.
_EXTRA_FOLDS = str.maketrans({"ø": "o", "æ": "ae", "œ": "oe", "ß": "ss", "ł": "l", "đ": "d",
                              "ı": "i"})
_APOSTROPHES = re.compile(r"['’‘`´]")
# Dotted initials: "R.K." -> "rk", "o.b.s." -> "obs" (two or more single letters with dots).
_INITIALS = re.compile(r"\b(?:[a-z]\.\s?){2,}")
_NON_WORD = re.compile(r"[^a-z0-9]+")


def fold(text: str | None) -> str:
    """Lower case, no diacritics, apostrophes or punctuation, single spaces."""
    value = unicodedata.normalize("NFKD", text or "")
    value = "".join(c for c in value if not unicodedata.combining(c)).lower()
    value = value.translate(_EXTRA_FOLDS)
    value = _APOSTROPHES.sub("", value)
    value = _INITIALS.sub(lambda m: m.group(0).replace(".", "").replace(" ", "") + " ", value)
    return _NON_WORD.sub(" ", value).strip()


def fold_words(text: str | None) -> list[str]:
    return fold(text).split()


# Abbreviation -> the phrases it stands for (folded). A school whose name has the
# abbreviation gets the words of the phrases as tokens; a name with one of the phrases gets
# the abbreviation: both spellings find both kinds of name.
ABBREVIATIONS: dict[str, tuple[str, ...]] = {
    "sg": ("scholengemeenschap",),
    "sgm": ("scholengemeenschap",),
    "csg": ("christelijke scholengemeenschap", "christelijk scholengemeenschap"),
    "rsg": ("regionale scholengemeenschap",),
    "roc": ("regionaal opleidingscentrum", "regionaal opleidingencentrum",
            "regionaal opleidingen centrum", "regionaal opleidings centrum"),
    "obs": ("openbare basisschool",),
    "cbs": ("christelijke basisschool", "protestants christelijke basisschool"),
    "pcbs": ("protestants christelijke basisschool", "protestantse christelijke basisschool"),
    "rkbs": ("rooms katholieke basisschool",),
    "kbs": ("katholieke basisschool",),
    "rk": ("rooms katholieke", "rooms katholiek"),
    "pc": ("protestants christelijke", "protestants christelijk"),
    "chr": ("christelijke", "christelijk"),
    "ibs": ("islamitische basisschool",),
    "sbo": ("speciaal basisonderwijs", "speciale basisschool"),
    "sbao": ("speciaal basisonderwijs",),
    "so": ("speciaal onderwijs",),
    "vso": ("voortgezet speciaal onderwijs",),
    "ikc": ("integraal kindcentrum",),
    "kc": ("kindcentrum",),
    "st": ("sint",),
    "ath": ("atheneum",),
    "lyc": ("lyceum",),
    "gymn": ("gymnasium",),
    "gym": ("gymnasium",),
    "vmbo": ("voorbereidend middelbaar beroepsonderwijs",),
    "mbo": ("middelbaar beroepsonderwijs",),
    "pro": ("praktijkonderwijs",),
    "bs": ("basisschool",),
}

# Phrases to find in a folded name, per abbreviation (word boundaries on both sides).
_PHRASES = [
    (abbr, re.compile(r"\b(?:" + "|".join(re.escape(p) for p in phrases) + r")\b"))
    for abbr, phrases in ABBREVIATIONS.items()
]

# What DUO's school type ("VBO/MAVO/HAVO/VWO", "basisschool", "SBAO", "(V)SO") says, as
# tokens a query may use.
KIND_WORDS: dict[str, tuple[str, ...]] = {
    "basisschool": ("basisschool", "bs", "basisonderwijs", "po"),
    "sbao": ("sbo", "sbao", "speciaal", "basisonderwijs", "basisschool"),
    "so": ("so", "speciaal", "onderwijs"),
    "vso": ("vso", "voortgezet", "speciaal", "onderwijs"),
    "vbo": ("vbo", "vmbo"),
    "mavo": ("mavo", "vmbo", "tl"),
    "havo": ("havo",),
    "vwo": ("vwo", "atheneum", "gymnasium", "lyceum"),
    "pro": ("pro", "praktijkonderwijs", "praktijkschool"),
    "brugjaar": ("brugjaar",),
}

# Places known by two names.
PLACE_ALIASES = {
    "s gravenhage": ("den", "haag"),
    "s hertogenbosch": ("den", "bosch"),
}

# Descriptive words: they rank, they do not filter (see the module docstring).
SOFT_WORDS = frozenset("""
    de het t een van der den te voor en op in aan bij v loc locatie vestiging afdeling
    school scholen basisschool basisonderwijs bs scholengemeenschap scholengroep sg sgm csg rsg
    roc obs cbs pcbs rkbs kbs ibs rk pc chr openbare openbaar christelijke christelijk
    protestants protestantse katholieke katholiek rooms islamitische algemeen bijzondere
    lyceum college atheneum ath gymnasium gymn gym lyc mavo havo vwo vbo vmbo lwoo tl
    ikc kc kindcentrum integraal sbo sbao so vso speciaal speciale onderwijs voortgezet pro
    praktijkonderwijs praktijkschool mbo middelbaar beroepsonderwijs regionaal regionale
    opleidingscentrum opleidingencentrum stichting po primair
""".split())

NAME, PLACE, KIND = 0, 1, 2
KIND_WEIGHT = 0.5  # a word matching the DUO type counts half
# Match quality: the whole token, its start, inside it, a typo.
EXACT, PREFIX, INSIDE, FUZZY = 3.0, 2.0, 1.0, 0.8
SOFT_WEIGHT = 0.5
NAME_AND_PLACE_BONUS = 2.0
NAME_START_BONUS = 1.0


def name_tokens(name: str) -> set[str]:
    """The folded words of a school name plus the abbreviations and their expansions."""
    folded = fold(name)
    words = set(folded.split())
    out = set(words)
    for abbr, pattern in _PHRASES:
        if abbr in words or pattern.search(folded):
            out.add(abbr)
            for phrase in ABBREVIATIONS[abbr]:
                out.update(phrase.split())
    return out


def place_tokens(city: str, postcode: str) -> set[str]:
    folded = fold(city)
    out = set(folded.split())
    out.update(PLACE_ALIASES.get(folded, ()))
    compact = "".join(postcode.split()).lower()
    if compact:
        out.add(compact)
        out.add(compact[:4])
    return out


def kind_tokens(kind: str, sector: str) -> set[str]:
    """Words for DUO's type of school and its sector ("VBO/MAVO" -> vbo, mavo, vmbo, ...)."""
    out = {sector.lower()} if sector else set()
    folded = fold(kind)
    if folded.startswith("v so"):  # "(V)SO": both
        folded = "so vso"
    for part in folded.split():
        if len(part) > 1:
            out.update(KIND_WORDS.get(part, (part,)))
    return out


def is_soft(word: str) -> bool:
    return word in SOFT_WORDS or len(word) == 1


@dataclass(frozen=True)
class LookupResult:
    schools: list[School]
    partial: bool = False  # no school matched every word: the closest ones instead


class SchoolIndex:
    """Inverted index over the schools' name, place and kind tokens (built once)."""

    def __init__(self, schools: Sequence[School]):
        self.schools = list(schools)
        # token -> (school index, NAME or PLACE); the kind only by whole words
        postings: dict[str, list[tuple[int, int]]] = {}
        kinds: dict[str, list[int]] = {}
        self.name_length: list[int] = []
        self.first_word: list[str] = []
        for idx, school in enumerate(self.schools):
            words = fold_words(school.name)
            self.name_length.append(len(words))
            self.first_word.append(words[0] if words else "")
            for field, tokens in ((NAME, name_tokens(school.name)),
                                  (PLACE, place_tokens(school.city, school.postcode))):
                for token in tokens:
                    postings.setdefault(token, []).append((idx, field))
            for token in kind_tokens(school.kind, school.sector):
                kinds.setdefault(token, []).append(idx)
        self.postings = postings
        self.kinds = kinds
        self.vocabulary = sorted(postings)
        self._long_tokens = [t for t in self.vocabulary if len(t) > MIN_INSIDE]

    # --- matching one word -------------------------------------------------------------------
    def _tokens_for(self, word: str) -> list[tuple[str, float]]:
        """Tokens a query word matches, with the quality of each match."""
        found = self._spelled(word, EXACT, PREFIX, INSIDE)
        if not found and len(word) >= MIN_INSIDE and not word.isdigit():
            # A typo ("montesori"): the nearest tokens, then what they start or lie inside.
            for token, _score, _i in process.extract(
                    word, self._long_tokens, scorer=fuzz.ratio, score_cutoff=FUZZY_CUTOFF,
                    limit=3):
                for other, _quality in self._spelled(token, FUZZY, FUZZY, FUZZY).items():
                    found.setdefault(other, FUZZY)
        return list(found.items())

    def _spelled(self, word: str, exact: float, prefix: float, inside: float
                 ) -> dict[str, float]:
        found: dict[str, float] = {}
        vocab = self.vocabulary
        for token in vocab[bisect.bisect_left(vocab, word):]:
            if not token.startswith(word):
                break
            found[token] = exact if token == word else prefix
        # Inside longer words ("college" in "michaelcollege"), except for descriptive words,
        # which lie inside thousands of names ("school").
        if len(word) >= MIN_INSIDE and not is_soft(word):
            for token in self._long_tokens:
                if word in token and token not in found:
                    found[token] = inside
        return found

    def _word_scores(self, word: str, exact_only: bool = False
                     ) -> dict[int, tuple[float, float, float]]:
        """School index -> best (name, place, kind) score of this word."""
        scores: dict[int, list[float]] = {}
        tokens = ([(word, EXACT)] if word in self.postings else []) if exact_only \
            else self._tokens_for(word)
        for token, quality in tokens:
            for idx, field in self.postings[token]:
                best = scores.get(idx)
                if best is None:
                    scores[idx] = best = [0.0, 0.0, 0.0]
                if quality > best[field]:
                    best[field] = quality
        kind_value = EXACT * KIND_WEIGHT
        for idx in self.kinds.get(word, ()):
            best = scores.get(idx)
            if best is None:
                scores[idx] = [0.0, 0.0, kind_value]
            else:
                best[KIND] = kind_value
        return {idx: (s[0], s[1], s[2]) for idx, s in scores.items()}

    # --- the query ---------------------------------------------------------------------------
    def search(self, query: str, limit: int = 10) -> LookupResult:
        words = list(dict.fromkeys(fold_words(query)))[:MAX_WORDS]
        if not words:
            return LookupResult([])
        hard = [w for w in words if not is_soft(w)]
        soft = [w for w in words if is_soft(w)]
        if not hard:  # only descriptive words ("basisschool", "csg"): they must match
            hard, soft = soft, []
        hard_scores = [self._word_scores(w) for w in hard]
        # A descriptive word counts when it is a whole word of the school ("de", "s", "obs").
        soft_scores = [self._word_scores(w, exact_only=True) for w in soft]
        candidates = set(hard_scores[0]).intersection(*hard_scores[1:])
        partial = False
        if not candidates:
            candidates = set().union(*hard_scores)
            partial = bool(candidates)
        ranked = self._rank(candidates, hard, hard_scores, soft_scores, partial)
        return LookupResult([self.schools[i] for i in ranked[:limit]], partial)

    def _rank(self, candidates: Iterable[int], hard: list[str],
              hard_scores: list[dict[int, tuple[float, float, float]]],
              soft_scores: list[dict[int, tuple[float, float, float]]],
              partial: bool) -> list[int]:
        total = len(self.schools)
        # Rarer words weigh more when not every word matched (partial results).
        rarity = [math.log(1 + total / max(1, len(s))) for s in hard_scores]

        def score(idx: int) -> tuple:
            value = 0.0
            in_name: set[int] = set()
            in_place: set[int] = set()
            starts_name = False
            for n, scores in enumerate(hard_scores):
                best = scores.get(idx)
                if best is None:
                    continue
                word_score = max(best)
                value += word_score * rarity[n] if partial else word_score
                if best[NAME] > 0:
                    in_name.add(n)
                    if self.first_word[idx].startswith(hard[n]):
                        starts_name = True
                if best[PLACE] > 0:
                    in_place.add(n)
            for scores in soft_scores:
                best = scores.get(idx)
                if best is not None:
                    value += SOFT_WEIGHT * max(best)
            # one word in the name and another in the place ("agora roermond")
            if in_name and in_place and len(in_name | in_place) > 1:
                value += NAME_AND_PLACE_BONUS
            if starts_name:
                value += NAME_START_BONUS
            school = self.schools[idx]
            return (-value, self.name_length[idx], school.name, school.city, school.code)

        return sorted(candidates, key=score)
