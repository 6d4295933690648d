"""The school lookup finds real schools by name and place words, typed as people type them.

The oracle is the shipped DUO data itself, read here with ``gzip``/``json``/``csv`` (not
through the directory), and brute force over it: which schools in a place have a word in
their name. The lookup is asked through its service function and the JSON endpoint.
"""
from __future__ import annotations

import csv
import gzip
import json
import random
import re
import statistics
import time
import unicodedata
from pathlib import Path

import pytest

from registry.geo.services import search_schools

DATA = Path(__file__).resolve().parents[2] / "registry" / "geo" / "data"
SEED = 20261119
TOP = 5
# Words that say what kind of school it is rather than which one (the test's own list).
GENERIC = {"school", "basisschool", "scholengemeenschap", "college", "lyceum", "voor", "havo",
           "mavo", "vwo", "vbo", "vmbo", "lwoo", "atheneum", "gymnasium", "locatie", "loc",
           "openbare", "christelijke", "katholieke", "rooms", "protestants", "stichting",
           "regionaal", "opleidingen", "centrum", "opleidingencentrum", "kindcentrum", "sgm",
           "praktijkonderwijs", "onderwijs", "speciaal", "het", "de", "van", "en", "mbo",
           "basisonderwijs", "scholengroep", "vestiging", "afdeling", "roc", "sbo", "obs",
           "cbs", "ikc", "rkbs", "pcbs", "csg", "rsg"}


def plain(text: str) -> str:
    """What a hurried typist writes: lower case, no accents (the test's own folding)."""
    decomposed = unicodedata.normalize("NFKD", text)
    return "".join(c for c in decomposed if not unicodedata.combining(c)).lower()


def words_of(text: str) -> list[str]:
    return [w for w in re.split(r"[^a-z0-9]+", plain(text).replace("'", "")) if w]


def load_schools() -> list[dict]:
    """Every school in the shipped files: po/vo locations and the mbo institutions."""
    with gzip.open(DATA / "schools.json.gz", "rt", encoding="utf-8") as fh:
        rows = json.load(fh)
    out = [{"code": r[0], "name": r[2], "sector": r[4], "city": r[7]} for r in rows]
    with open(DATA / "mbo_instellingen.csv", encoding="utf-8-sig", newline="") as fh:
        for row in csv.DictReader(fh, delimiter=";"):
            out.append({"code": row["INSTELLINGSCODE"].strip().upper(),
                        "name": row["INSTELLINGSNAAM"].strip(), "sector": "mbo",
                        "city": row["PLAATSNAAM"].strip().title()})
    for school in out:
        school["words"] = words_of(school["name"])
    return out


@pytest.fixture(scope="module")
def schools() -> list[dict]:
    return load_schools()


def codes(query: str, limit: int = 10) -> list[str]:
    return [s.code for s in search_schools(query, limit=limit).schools]


def distinctive_word(school: dict, same_place: list[dict]) -> tuple[str, int] | None:
    """The word of the name that the fewest other schools in the same place share (brute
    force), with that number; None when the name has no such word."""
    place_words = set(words_of(school["city"]))
    best = None
    for word in words_of(school["name"]):
        if len(word) < 4 or word in GENERIC or word in place_words or word.isdigit():
            continue
        sharing = sum(1 for other in same_place if word in other["words"])
        if best is None or sharing < best[1]:
            best = (word, sharing)
    return best


def sample(schools: list[dict]) -> list[tuple[dict, str]]:
    """30 schools spread over the file (fixed seed), 12 po, 12 vo and 6 mbo, each with a
    query "distinctive name word + place" in a shuffled order; only schools whose word
    fewer than TOP schools in their place share (otherwise no lookup could tell them apart)."""
    rnd = random.Random(SEED)
    by_place: dict[str, list[dict]] = {}
    for s in schools:
        by_place.setdefault(plain(s["city"]), []).append(s)
    picked = []
    for sector, wanted in (("po", 12), ("vo", 12), ("mbo", 6)):
        rows = [s for s in schools if s["sector"] == sector]
        stride = len(rows) / wanted
        for n in range(wanted):
            # one school from each stretch of the file, at a random place in the stretch
            for _attempt in range(50):
                school = rows[int(n * stride + rnd.random() * stride) % len(rows)]
                found = distinctive_word(school, by_place[plain(school["city"])])
                if found and found[1] < TOP:
                    break
            else:  # pragma: no cover - the data always has one
                pytest.fail(f"no usable school in stretch {n} of {sector}")
            parts = [found[0], plain(school["city"])]
            rnd.shuffle(parts)
            picked.append((school, " ".join(parts)))
    return picked


def test_thirty_real_schools_by_a_name_word_and_their_place(schools):
    picked = sample(schools)
    assert len(picked) == 30
    assert len({s["code"] for s, _ in picked}) == 30
    misses = [(query, school["name"], school["city"], codes(query, TOP))
              for school, query in picked if school["code"] not in codes(query, TOP)]
    assert misses == []


def test_agora_roermond(schools):
    """The reported case. The shipped data has one Agora school, in Utrecht, and none in
    Roermond: the lookup says no school matched every word and shows the Agora school and
    the schools of Roermond instead."""
    agoras = [s for s in schools if "agora" in words_of(s["name"])]
    assert [plain(s["city"]) for s in agoras] == ["utrecht"]
    found = search_schools("Agora Roermond", limit=10)
    assert found.partial
    assert found.schools[0].code == agoras[0]["code"]
    roermond = {s["code"] for s in schools if plain(s["city"]) == "roermond"}
    assert {s.code for s in found.schools[1:]} <= roermond
    assert search_schools("agora", limit=10).schools[0].code == agoras[0]["code"]
    assert not search_schools("agora utrecht").partial


@pytest.mark.parametrize("query", ["yuverta roermond", "Roermond Yuverta", "YUVERTA roermond"])
def test_a_name_with_many_locations_and_the_place(schools, query):
    """Yuverta has a location in many places; with the place, the one in Roermond first."""
    yuverta = [s for s in schools if words_of(s["name"]) == ["yuverta"]]
    assert len(yuverta) > 10
    in_roermond = [s["code"] for s in yuverta if plain(s["city"]) == "roermond"]
    assert len(in_roermond) == 1
    found = search_schools(query)
    assert not found.partial
    assert found.schools[0].code == in_roermond[0]


def _named(schools, *required: str, city: str | None = None) -> set[str]:
    """Brute force: codes of the schools whose name has all these words (and the place)."""
    return {s["code"] for s in schools
            if all(w in s["words"] for w in required)
            and (city is None or plain(s["city"]) == city)}


@pytest.mark.parametrize(("query", "words", "city"), [
    # the abbreviation typed, the name written out, and the other way round
    ("csg bogerman koudum", ("bogerman",), "koudum"),
    ("christelijke scholengemeenschap bogerman balk", ("csg", "bogerman"), "balk"),
    ("regionale scholengemeenschap simon vestdijk franeker", ("rsg", "simon", "vestdijk"),
     "franeker"),
    ("scholengemeenschap helinium hellevoetsluis", ("sg", "helinium"), "hellevoetsluis"),
    ("roc nijmegen", ("regionaal", "opleidingen", "centrum", "nijmegen"), "nijmegen"),
    ("regionaal opleidingscentrum midden nederland", ("roc", "midden", "nederland"), None),
    ("openbare basisschool kasteel spangen", ("obs", "kasteel", "spangen"), "rotterdam"),
    ("rooms katholieke basisschool de bras den haag", ("rkbs", "bras"), "'s-gravenhage"),
    ("protestants christelijke basisschool beatrixschool huizen", ("pcbs", "beatrixschool"),
     "huizen"),
    ("cbs melodie rijswijk", ("melodie",), "rijswijk"),
])
def test_abbreviations_both_ways(schools, query, words, city):
    expected = _named(schools, *words, city=city)
    assert expected, "the test's school is not in the data"
    found = codes(query)
    assert expected <= set(found[:max(TOP, len(expected))]), (query, found)


@pytest.mark.parametrize(("query", "words", "city"), [
    ("Sint-Michaël Zaandam", ("michaelcollege",), "zaandam"),  # "St Michaelcollege"
    ("sint michael groningen", ("st", "michael"), "groningen"),
    # "Michaël" in the data
    ("vrije school michael zwolle", ("vrije", "school", "michael"), "zwolle"),
    ("het mozaiek nieuw vennep", ("mozaiek",), "nieuw-vennep"),  # "Mozaïek"
    ("Het Mozaïek, Nieuw-Vennep", ("mozaiek",), "nieuw-vennep"),
    ("T KOMPAS EMMELOORD", ("kompas",), "emmeloord"),  # "CBS 't Kompas"
    ("'t kompas emmeloord", ("kompas",), "emmeloord"),
    ("montesori delft", ("montessorischool",), "delft"),  # a typo
])
def test_accents_case_punctuation_and_typos(schools, query, words, city):
    expected = _named(schools, *words, city=city)
    assert expected, "the test's school is not in the data"
    found = codes(query)
    assert expected <= set(found[:TOP]), (query, found)


def test_codes_and_postcodes_still_work(schools):
    aida = next(s for s in schools if s["code"] == "32DD00")
    assert codes("32dd00")[0] == aida["code"]
    assert aida["code"] in codes("2516 PV")
    assert aida["code"] in codes("aida den haag")[:2]


def test_json_endpoint_says_when_the_match_is_partial(client):
    full = client.get("/geo/scholen?q=agora utrecht").get_json()
    assert full["partial"] is False
    assert full["results"][0]["name"] == "Agora HUB030"
    partial = client.get("/geo/scholen?q=agora roermond").get_json()
    assert partial["partial"] is True
    assert partial["results"][0]["name"] == "Agora HUB030"
    assert client.get("/geo/scholen?q=x").get_json() == {"query": "x", "results": [],
                                                        "partial": False}


def test_a_lookup_takes_a_few_milliseconds():
    """CPU time per lookup (not wall time: the test machine runs other work too)."""
    queries = ["agora roermond", "csg bogerman", "de regenboog utrecht", "sint michael",
               "montesori delft", "roc amsterdam", "obs de vlinder", "mundium roermond",
               "yuverta", "2516 PV", "het mozaiek", "vrije school zwolle"] * 3
    search_schools("warm up")  # the index is built once per process
    spent = []
    for query in queries:
        start = time.process_time()
        search_schools(query)
        spent.append(time.process_time() - start)
    assert statistics.median(spent) < 0.005  # measured ~1 ms
