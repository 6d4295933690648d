"""Round trip: what the registry exports imports into an empty registry as the same public
data. The oracle is the export itself: the published entries are exported (CSV with
``initiatieven`` and ``knelpunten``, with either separator, or the workbook), imported into
an emptied registry, published and exported again; every public column must hold the same
values, except those that cannot travel by design:

- the numbers and links the new registry gives its own entries (ids, references, URLs) and
  the dates of its own publication and reports;
- the contact person's name (personal data: without an e-mail address no contact is stored);
- the curated themes (a moderator's grouping, not the school's report).
"""
from __future__ import annotations

import csv
import io

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from openpyxl import load_workbook
from sqlalchemy import select

from registry.database import utcnow
from registry.extensions import db
from registry.imports import services
from registry.moderation import services as moderation
from registry.submissions.demo import seed_demo
from registry.submissions.models import Initiative
from registry.submissions.services import (
    ContactData,
    InitiativeData,
    ObstacleData,
    OrganisationData,
    submit_initiative,
)
from registry.taxonomy.constants import InitiativeState
from tests.dbs import reset_database
from tests.factories import AREA_CODES, DIMENSION_CODES, PHASE_CODES, SECTOR_CODES

NOT_CARRIED = {"initiatief_id", "referentie", "url", "gepubliceerd_op", "bijgewerkt_op",
               "contactpersoon", "knelpunt_id", "thema_id", "thema_titel", "gemeld_op"}
FORMATS = {"csv": ("csv", ","), "csv;": ("csv", ";"), "xlsx": ("xlsx", None)}

WORDS = ["leren", "Één", "école", "tempo", "leerroute", "examen", "50%", "“keuze”", "a;b",
         'zegt "ja"', "regel,", "crème", "Fryslân", "'s-Hertogenbosch", "Zoë", "x" * 30]
PLACES = [("3511", "Utrecht"), ("9712", "Groningen"), ("6211", "Maastricht"),
          ("1012", "Amsterdam"), ("7511", "Enschede"), ("4331", "Middelburg")]


def words(max_words: int = 6, lead: bool = True):
    text = st.lists(st.sampled_from(WORDS), min_size=1, max_size=max_words).map(" ".join)
    if not lead:
        return text
    # text that a spreadsheet would run as a formula: the exports neutralise it
    return st.tuples(st.sampled_from(["", "", "=", "+", "-", "@"]), text).map("".join)


def optional(strategy):
    return st.one_of(st.just(""), strategy)


@st.composite
def obstacles(draw) -> ObstacleData:
    status = draw(st.sampled_from(["open", "omzeild", "opgelost"]))
    return ObstacleData(
        area=draw(st.sampled_from(AREA_CODES)), title=draw(words(4)),
        description=draw(st.tuples(words(), optional(words())).map(
            lambda parts: "\n".join(p for p in parts if p))),
        rule=draw(optional(words(3))), severity=draw(st.integers(1, 4)), status=status,
        workaround=draw(words() if status == "omzeild" else optional(words())),
        policy_ask=draw(optional(words())))


@st.composite
def initiatives(draw, n: int) -> InitiativeData:
    pc4, city = draw(st.sampled_from(PLACES))
    brin = draw(st.sampled_from(["", "25LH", "02AB", "31XY"]))
    levels = {code: (draw(st.integers(0, 3)), draw(st.integers(0, 3)))
              for code in DIMENSION_CODES}
    if not any(a or b for a, b in levels.values()):
        levels["tempo"] = (1, 3)
    contact = draw(st.sampled_from([None, "named", "unnamed"]))
    return InitiativeData(
        organisation=OrganisationData(
            name=f"School {n} " + draw(words(3, lead=False)), brin=brin,
            location_number=draw(st.sampled_from([None, "01", "02"])) if brin else None,
            sector=draw(st.sampled_from(SECTOR_CODES)),
            postcode=f"{pc4} {draw(st.sampled_from(['AB', 'CD', 'XZ']))}",
            city=city, levels=draw(optional(words(3))),
            website=draw(st.sampled_from(["", f"https://www.school{n}.example.nl",
                                          f"http://school{n}.nl/pagina?a=1"]))),
        title=f"Initiatief {n} " + draw(words(5)), summary=draw(words(8)),
        description=draw(optional(words(12))), phase=draw(st.sampled_from(PHASE_CODES)),
        start_year=draw(st.one_of(st.none(), st.integers(1990, 2026))),
        learners_count=draw(st.one_of(st.none(), st.integers(0, 100_000))),
        staff_count=draw(st.one_of(st.none(), st.integers(0, 500))),
        ict=draw(optional(words(4))), dimensions=levels,
        obstacles=draw(st.lists(obstacles(), min_size=1, max_size=3)),
        contact=None if contact is None else ContactData(
            name=f"Contact {n}", email=f"contact{n}@school.example", consent_contact=True,
            consent_publish_name=contact == "named"))


def exported(client, fmt: str) -> dict[str, bytes]:
    kind, sep = FORMATS[fmt]
    if kind == "xlsx":
        return {"initiatieven.xlsx": client.get("/export/initiatieven.xlsx").data}
    query = "?sep=;" if sep == ";" else ""
    return {f"{name}.csv": client.get(f"/export/{name}.csv{query}").data
            for name in ("initiatieven", "knelpunten")}


def public_rows(files: dict[str, bytes]) -> dict[str, list[tuple]]:
    """The rows of both datasets without the columns that do not travel, sorted."""
    out: dict[str, list[dict]] = {}
    if "initiatieven.xlsx" in files:
        book = load_workbook(io.BytesIO(files["initiatieven.xlsx"]), read_only=True)
        for name in ("initiatieven", "knelpunten"):
            rows = list(book[name].iter_rows(values_only=True))
            out[name] = [dict(zip(rows[0], row, strict=True)) for row in rows[1:]]
    else:
        for name in ("initiatieven", "knelpunten"):
            text = files[f"{name}.csv"].decode("utf-8-sig")
            sep = ";" if text.split("\r\n", 1)[0].count(";") else ","
            out[name] = list(csv.DictReader(io.StringIO(text, newline=""), delimiter=sep))
    return {name: sorted(tuple(sorted((k, "" if v is None else str(v))
                                      for k, v in row.items() if k not in NOT_CARRIED))
                         for row in rows)
            for name, rows in out.items()}


def import_into_empty(app, files: dict[str, bytes], tmp_path) -> services.FileRun:
    reset_database()
    paths = {}
    for name, content in files.items():
        paths[name] = tmp_path / name
        paths[name].write_bytes(content)
    main = paths.get("initiatieven.xlsx") or paths["initiatieven.csv"]
    with app.test_request_context("/"):
        result = services.import_file(main, source="export", include_duplicates=True,
                                      obstacles_path=paths.get("knelpunten.csv"))
    for initiative in db.session.scalars(select(Initiative)):
        moderation.publish(initiative, actor=None)
    db.session.commit()
    return result


@settings(max_examples=6, deadline=None,
          suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow])
@given(data=st.data(), fmt=st.sampled_from(sorted(FORMATS)))
def test_an_export_imports_as_the_same_public_data(app, client, tmp_path_factory, data, fmt):
    reset_database()
    count = data.draw(st.integers(1, 4))
    for n in range(count):
        initiative = submit_initiative(data.draw(initiatives(n)),
                                       state=InitiativeState.PUBLISHED)
        initiative.published_at = utcnow()
    db.session.commit()
    files = exported(client, fmt)
    before = public_rows(files)
    assert len(before["initiatieven"]) == count

    result = import_into_empty(app, files, tmp_path_factory.mktemp("roundtrip"))
    assert result.counts.get("imported") == count, result.checked.report.as_dict()
    assert public_rows(exported(client, fmt)) == before


def test_the_demo_data_round_trips(app, client, tmp_path):
    """The fictional demo data set, as a workbook. A few demo schools have web addresses the
    form refuses (spaces, apostrophes): the import refuses those rows, with the form's
    message at that field, and every other row comes back as it was."""
    seed_demo(count=30)
    db.session.commit()
    files = exported(client, "xlsx")
    before = public_rows(files)
    result = import_into_empty(app, files, tmp_path)
    refused = result.checked.report.as_dict()["problems"]
    assert {(label, message) for row in refused for label, message in row["errors"]} <= {
        ("Website", "Vul een geldig webadres in, bijvoorbeeld https://www.school.nl.")}
    refused_titles = {row["title"] for row in refused}
    after = public_rows(exported(client, "xlsx"))
    expected = {
        "initiatieven": [r for r in before["initiatieven"]
                         if dict(r)["titel"] not in refused_titles],
        "knelpunten": [r for r in before["knelpunten"]
                       if dict(r)["initiatief_titel"] not in refused_titles],
    }
    assert result.counts["imported"] == len(expected["initiatieven"]) > 0
    assert after == expected
