"""Live data and a snapshot of it select the same initiatives and the same obstacles, for any
combination of filters, and both agree with a brute-force oracle over plain SQL rows
(tests/summary/oracle.py, with its own accent and case folding). Runs on every database of
the suite (SQLite and PostgreSQL), with hypothesis choosing the filters."""
from __future__ import annotations

import random
import unicodedata

import pytest
from hypothesis import example, given, settings
from hypothesis import strategies as st
from werkzeug.datastructures import MultiDict

from registry.extensions import db
from registry.published import records
from registry.published.filters import InitiativeFilter
from registry.published.snapshots import create_snapshot
from registry.published.sources import PUBLISHED, SnapshotSource
from tests.factories import AREA_CODES, DIMENSION_CODES, PHASE_CODES, SECTOR_CODES
from tests.summary import oracle
from tests.summary.oracle import PROVINCES, Args
from tests.summary.varied import build_varied

# Words that occur in the data (see tests/summary/varied.py) in other case, accents and
# Unicode forms, plus some that do not occur; hypothesis also makes short random texts.
WORDS = ["École", "ecole", "ÉCOLE", "éCoLe", "Één", "een", "EEN", "één", "Fryslân", "fryslan",
         "FRYSLÂN", "Súdwest", "sudwest", "Straße", "strasse", "STRASSE", "ß", "Zoë", "ZOE",
         "Crème", "creme", "ﬁets", "fiets", "FIETS", "Ĳssel", "ijssel", "Naïef", "naief",
         "100%", "0% o", "maat_2", "t_2", "_", "%", "Urennorm_plus", "50%", "Examen pas",
         "examen  pas", " leerroute ", "eigen leerroute 1", "Ljouwert", "'s-Hertogenbosch",
         "élèves", "ELEVES", "sans classes", "tempo", "nergens", "ÆRØ", "\\", "ø"]
ALPHABET = "aeiouéèëêïôüÉËÏÂâßnrstlkpd %_'-"


def variant(word: str, how: str) -> str:
    return {
        "asis": word, "upper": word.upper(), "lower": word.lower(), "title": word.title(),
        "nfd": unicodedata.normalize("NFD", word), "nfc": unicodedata.normalize("NFC", word),
        "swap": word.swapcase(),
    }[how]


queries = st.one_of(
    st.builds(variant, st.sampled_from(WORDS),
              st.sampled_from(["asis", "upper", "lower", "title", "nfd", "nfc", "swap"])),
    st.text(alphabet=ALPHABET, max_size=4),
)


def subset(values):
    return st.lists(st.sampled_from(list(values)), max_size=3, unique=True)


def filters(theme_ids: list[int]):
    return st.fixed_dictionaries({}, optional={
        "sector": subset(SECTOR_CODES),
        "area": subset(AREA_CODES),
        "theme": subset([*theme_ids, 999_999]),
        "province": subset(PROVINCES),
        "phase": subset(PHASE_CODES),
        "dimension": st.sampled_from(DIMENSION_CODES),
        "min_level": st.sampled_from(["0", "1", "2", "3"]),
        "q": queries,
    })


def to_multidict(args: dict) -> MultiDict:
    out = MultiDict()
    for key, value in args.items():
        for item in value if isinstance(value, list) else [value]:
            out.add(key, str(item))
    return out


def read(src, flt: InitiativeFilter) -> tuple[list[int], dict[int, list[int]], int, list[int]]:
    """What the read path selects from ``src``: the ids (filter SQL), the obstacles of each
    record (record path), the count, and the obstacle ids of the obstacle listing."""
    ids = list(db.session.scalars(flt.select_ids(src).order_by(src.col("id"))))
    narrowed = {rec["id"]: [o["id"] for o in rec["obstacles"]]
                for rec in records.initiatives(src, flt, fields=("id",),
                                               obstacle_fields=("id",), dimensions=False)}
    total, items = records.obstacle_page(src, flt, page=1, per_page=100_000)
    assert total == len(items)
    return ids, narrowed, records.count(src, flt), sorted(o["id"] for o in items)


@pytest.fixture
def frozen(app):
    """The varied data set (built once per test) and a snapshot taken of it."""
    themes = build_varied(random.Random(20261130), count=60)
    snapshot = create_snapshot(note="property test")
    db.session.commit()
    return [t.id for t in themes], SnapshotSource(snapshot), oracle.load(db.session)


def check(args: dict, snap, rows) -> tuple[list[int], list[int]]:
    flt = InitiativeFilter.from_args(to_multidict(args))
    live = read(PUBLISHED, flt)
    frozen = read(snap, flt)
    assert frozen == live, args
    expected = Args.of(args)
    ids, narrowed, count, obstacle_ids = live
    assert ids == oracle.ids(rows, expected), args
    assert narrowed == oracle.narrowed(rows, expected), args
    assert count == len(ids)
    assert obstacle_ids == oracle.obstacle_ids(rows, expected), args
    return ids, obstacle_ids


def test_live_and_snapshot_select_the_same_as_the_oracle(frozen):
    theme_ids, snap, rows = frozen
    seen = {"some": 0, "none": 0}

    @given(args=filters(theme_ids))
    @settings(max_examples=100, deadline=None, database=None)
    @example(args={"q": "École"})
    @example(args={"q": "Één", "sector": ["mbo", "vo"]})
    @example(args={"q": "Fryslân", "province": ["Fryslân"]})
    @example(args={"area": ["examineren"], "theme": [theme_ids[0]]})
    @example(args={"dimension": "doelen", "min_level": "0"})
    @example(args={"q": "0% o"})
    @example(args={"q": "t_2"})
    def run(args):
        ids, _ = check(args, snap, rows)
        seen["some" if ids else "none"] += 1

    run()
    # The data set and the strategies really exercise both outcomes.
    assert seen["some"] >= 20, seen
    assert seen["none"] >= 3, seen


@pytest.mark.parametrize("spellings", [
    ["École", "ecole", "ÉCOLE", "eCoLe", "E\u0301cole"],
    ["Één", "een", "EEN", "e\u0301e\u0301n"],
    ["Fryslân", "fryslan", "FRYSLÂN"],
    ["Straße", "strasse", "STRASSE"],
    ["ﬁets", "fiets", "FIETS"],
], ids=lambda s: s[0])
def test_accent_and_case_variants_find_the_same(frozen, spellings):
    """Each spelling selects the same, non-empty set (also from the snapshot), and the set
    is the oracle's."""
    _theme_ids, snap, rows = frozen
    found = [check({"q": q}, snap, rows)[0] for q in spellings]
    assert found[0], spellings[0]
    assert all(f == found[0] for f in found), spellings
    assert found[0] != oracle.ids(rows, Args())  # a real restriction, not everything


def test_like_wildcards_are_literal(frozen):
    """"%" and "_" in a query are characters, not LIKE wildcards."""
    _theme_ids, snap, rows = frozen
    exact = check({"q": "100% op maat_2"}, snap, rows)[0]
    assert exact
    assert exact == check({"q": "100% OP MAAT_2"}, snap, rows)[0]
    assert check({"q": "100%_op"}, snap, rows)[0] == []
    assert check({"q": "1_0"}, snap, rows)[0] == []
