"""Issue 17, item 3: documents and exports cannot be used to burn the server's CPU.

The attack: ``/knelpunten/knelpuntenoverzicht.pdf`` cost seconds of CPU per request, with
nothing cached or limited, and every spelling of ``?q=`` or order of the parameters forced a
new rendering; four parallel requests stalled a two-worker server. Now each document is
rendered once per canonical request and data version into a folder shared by all workers
(``registry.documents``). Repeats are sent from that folder, unknown parameters are refused,
and only renderings count against a per-IP limit.
"""
from __future__ import annotations

import io
import threading
import time
from pathlib import Path

import openpyxl
import pytest

from registry import create_app
from registry import documents as document_cache
from registry.exports import datasets
from registry.extensions import db
from registry.published.filters import InitiativeFilter
from registry.published.sources import PUBLISHED
from registry.summary import documents as summary_documents
from registry.taxonomy.constants import InitiativeState
from tests.exports import data as testdata
from tests.factories import make_initiative
from tests.fixtures.limits import rate_limited_app

SUMMARY = "/knelpunten/knelpuntenoverzicht"


@pytest.fixture
def folder(app, tmp_path) -> Path:
    """A fresh document folder for this test (the app fixture restores the setting)."""
    path = tmp_path / "documents"
    app.config["DOCUMENT_CACHE_DIR"] = str(path)
    return path


@pytest.fixture
def d(app, folder):
    return testdata.build()


@pytest.fixture
def renders(monkeypatch) -> list[str]:
    """The renderings: every call of a summary document writer or of an export."""
    calls: list[str] = []

    def counting(name, function):
        def wrapper(*args, **kwargs):
            calls.append(name)
            return function(*args, **kwargs)
        return wrapper

    for fmt in ("pdf", "docx", "xlsx"):
        name = f"to_{fmt}"
        monkeypatch.setattr(summary_documents, name,
                            counting(fmt, getattr(summary_documents, name)))
    monkeypatch.setattr(datasets, "export_dataset",
                        counting("export", datasets.export_dataset))
    return calls


def kept_files(folder: Path) -> list[Path]:
    return sorted(p for p in folder.glob("*/*/*")
                  if p.suffix not in (".headers", ".lock"))


# Two spellings of one selection: another order, repeated and unknown codes, and ``q`` in
# other case, accents and spacing; and another selection.
SPELLINGS = [
    "sector=mbo&area=examineren&q=%C3%89COLE++Examen",
    "q=ecole%20examen&area=examineren&sector=mbo&sector=mbo&sector=nonsense&area=examineren",
]
OTHER = "sector=mbo&sector=vo&area=examineren&q=ecole+examen"


@pytest.mark.parametrize("fmt", ["pdf", "docx", "xlsx"])
def test_a_summary_document_is_rendered_once_per_canonical_request(client, d, renders, fmt,
                                                                   folder):
    first = client.get(f"{SUMMARY}.{fmt}?{SPELLINGS[0]}")
    assert first.status_code == 200
    assert renders == [fmt]
    assert client.get(f"{SUMMARY}.{fmt}?{OTHER}").status_code == 200  # its own document
    assert renders == [fmt, fmt]
    for _ in range(3):
        repeat = client.get(f"{SUMMARY}.{fmt}?{SPELLINGS[1]}")
        assert repeat.status_code == 200
        assert repeat.data == first.data
    assert renders == [fmt, fmt]
    assert repeat.mimetype == first.mimetype
    assert repeat.headers["Content-Disposition"] == first.headers["Content-Disposition"]
    assert "q-ecole-examen" in first.headers["Content-Disposition"]  # the canonical q
    assert repeat.headers["Cache-Control"] == "no-store"
    etag = repeat.headers["ETag"]
    assert etag == first.headers["ETag"]
    assert client.get(f"{SUMMARY}.{fmt}?{SPELLINGS[0]}",
                      headers={"If-None-Match": etag}).status_code == 304
    assert len(kept_files(folder)) == 2


@pytest.mark.parametrize("fmt", ["csv", "xlsx", "json", "geojson"])
def test_an_export_is_rendered_once_per_canonical_request(client, d, renders, fmt):
    first = client.get(f"/export/knelpunten.{fmt}?{SPELLINGS[0]}")
    assert first.status_code == 200
    repeat = client.get(f"/export/knelpunten.{fmt}?{SPELLINGS[1]}")
    assert repeat.status_code == 200
    assert repeat.data == first.data
    assert renders == ["export"]
    for name in ("Content-Disposition", "X-Data-Source", "X-Data-Filter", "Content-Type"):
        assert repeat.headers[name] == first.headers[name], name
    assert repeat.headers["X-Data-Filter"] == "sector=mbo;area=examineren;q=ecole%20examen"
    assert repeat.headers["Cache-Control"] == "no-store"
    assert "ETag" in repeat.headers


def test_the_csv_separator_is_part_of_the_key(client, d, renders):
    comma = client.get("/export/initiatieven.csv")
    semicolon = client.get("/export/initiatieven.csv?sep=%3B")
    assert client.get("/export/initiatieven.csv?sep=puntkomma").data == semicolon.data
    assert client.get("/export/initiatieven.csv?sep=x").data == comma.data  # as before
    assert comma.data != semicolon.data
    assert renders == ["export", "export"]


def test_a_public_change_gives_a_new_document_and_old_versions_go(client, d, renders, folder,
                                                                  monkeypatch):
    monkeypatch.setattr(document_cache, "STALE_SECONDS", 0)

    before = client.get(f"{SUMMARY}.xlsx")
    export = client.get("/export/initiatieven.csv")
    assert client.get(f"{SUMMARY}.xlsx").data == before.data
    assert renders == ["xlsx", "export"]
    pending = make_initiative(state=InitiativeState.PENDING, title="Nieuw gepubliceerd")
    assert client.get(f"{SUMMARY}.xlsx").data == before.data  # nothing public changed
    assert renders == ["xlsx", "export"]
    pending.state = InitiativeState.PUBLISHED  # a moderator publishes the entry
    db.session.commit()
    after = client.get(f"{SUMMARY}.xlsx")
    assert after.data != before.data
    new_export = client.get("/export/initiatieven.csv")
    assert b"Nieuw gepubliceerd" in new_export.data
    assert b"Nieuw gepubliceerd" not in export.data
    assert renders == ["xlsx", "export", "xlsx", "export"]
    versions = {p.parent.name for p in kept_files(folder)}
    assert len(versions) == 1  # the files of the old data version were removed
    book = openpyxl.load_workbook(io.BytesIO(after.data))
    assert book.sheetnames


def test_unknown_parameters_are_refused_without_rendering(client, d, renders):
    for url in (f"{SUMMARY}.pdf?utm_source=x", f"{SUMMARY}.docx?sector=mbo&nocache=1",
                "/export/initiatieven.csv?page=2", "/export/knelpunten.json?sep=%3B",
                "/export/themas.geojson?per_page=5", "/export/initiatieven.xlsx?sort=titel"):
        response = client.get(url)
        assert response.status_code == 400, url
        html = response.get_data(as_text=True)
        assert "Deze download kent de parameter" in html, url
        assert "Toegestaan zijn: sector, area" in html
    assert renders == []
    for url in (f"{SUMMARY}.xlsx?lang=en&snapshot=", "/export/initiatieven.csv?sep=%3B&lang=nl",
                "/export/knelpunten.json?min_level=2&dimension=tempo&theme=1&phase=idee"
                "&province=Utrecht"):
        assert client.get(url).status_code == 200, url


def test_the_language_is_part_of_the_key(client, d, renders):
    dutch = client.get(f"{SUMMARY}.docx")
    english = client.get(f"{SUMMARY}.docx?lang=en")
    assert renders == ["docx", "docx"]
    assert client.get(f"{SUMMARY}.docx").data == dutch.data
    assert client.get(f"{SUMMARY}.docx?lang=en").data == english.data
    assert renders == ["docx", "docx"]


def test_staff_and_public_documents_are_kept_apart(app, d, renders, login, folder):
    public = app.test_client()
    staff = app.test_client()
    login(staff, "advisor")
    public_first = public.get(f"{SUMMARY}.xlsx")
    staff_first = staff.get(f"{SUMMARY}.xlsx")
    assert renders == ["xlsx", "xlsx"]
    assert public.get(f"{SUMMARY}.xlsx").data == public_first.data
    assert staff.get(f"{SUMMARY}.xlsx").data == staff_first.data
    assert renders == ["xlsx", "xlsx"]
    assert len(kept_files(folder)) == 2


def test_uncommitted_public_changes_are_not_kept(app, d, folder):
    with app.test_request_context(f"{SUMMARY}.xlsx"):
        flt = InitiativeFilter.empty()
        assert document_cache._place("summary", "xlsx", flt, PUBLISHED, {}) is not None
        d.a.title = "Nog niet vastgelegd"
        db.session.flush()
        assert document_cache._place("summary", "xlsx", flt, PUBLISHED, {}) is None
        db.session.rollback()
    app.config["DOCUMENT_CACHE_DIR"] = ""  # switched off
    with app.test_request_context(f"{SUMMARY}.xlsx"):
        assert document_cache._place("summary", "xlsx", InitiativeFilter.empty(), PUBLISHED,
                                     {}) is None


def test_without_a_folder_documents_are_still_sent(client, app, d, renders, folder):
    app.config["DOCUMENT_CACHE_DIR"] = ""
    assert client.get(f"{SUMMARY}.xlsx").status_code == 200
    assert client.get("/export/knelpunten.csv").status_code == 200
    assert client.get(f"{SUMMARY}.xlsx").status_code == 200
    assert renders == ["xlsx", "export", "xlsx"]
    assert not folder.exists()


# -- the per-IP limit -------------------------------------------------------------------------

def test_the_limit_counts_only_new_documents(app, folder, renders):
    testdata.build()
    with rate_limited_app(app, DOCUMENT_RATE_LIMIT="3 per minute;10 per hour",
                          DOCUMENT_CACHE_DIR=str(folder)) as limited:
        client = limited.test_client()
        attacker = {"REMOTE_ADDR": "203.0.113.9"}
        made = [f"{SUMMARY}.xlsx", "/export/initiatieven.csv?sector=mbo",
                "/export/knelpunten.json?q=een"]
        for url in made:
            assert client.get(url, environ_base=attacker).status_code == 200, url
        refused = client.get(f"{SUMMARY}.xlsx?q=iets+anders", environ_base=attacker)
        assert refused.status_code == 429
        assert 0 < int(refused.headers["Retry-After"]) <= 61
        assert "nieuwe documenten en exports" in refused.get_data(as_text=True)
        assert client.get("/export/themas.csv?sector=po", environ_base=attacker
                          ).status_code == 429
        assert len(renders) == 3
        for _ in range(5):  # what was made is still sent, in any spelling, and costs nothing
            for url in made + ["/export/knelpunten.json?q=EEN", "/export/initiatieven.csv"
                               "?sector=mbo&sector=mbo"]:
                assert client.get(url, environ_base=attacker).status_code == 200, url
        assert len(renders) == 3
        # another address is not affected, and what it makes is served to the first
        school = {"REMOTE_ADDR": "198.51.100.4"}
        assert client.get(f"{SUMMARY}.xlsx?q=iets+anders", environ_base=school
                          ).status_code == 200
        assert client.get(f"{SUMMARY}.xlsx?q=Iets++Anders", environ_base=attacker
                          ).status_code == 200
        assert len(renders) == 4


# -- two workers --------------------------------------------------------------------------------

def test_two_apps_sharing_the_folder_render_a_document_once(app, d, folder, monkeypatch):
    """Two app instances (as two gunicorn workers) ask for the same missing document at the
    same time: one renders, the other waits for it and sends the same file."""
    other = create_app("testing", SQLALCHEMY_DATABASE_URI=app.config["SQLALCHEMY_DATABASE_URI"],
                       DOCUMENT_CACHE_DIR=str(folder))
    other.test_client_class = app.test_client_class
    release = threading.Event()
    calls: list[int] = []
    locks: list[str] = []
    to_xlsx = summary_documents.to_xlsx
    acquire = document_cache._acquire

    def slow_xlsx(*args, **kwargs):
        calls.append(1)
        assert release.wait(30)
        return to_xlsx(*args, **kwargs)

    def recording_acquire(fd, timeout=document_cache.LOCK_TIMEOUT):
        locks.append("asked")
        result = acquire(fd, timeout)
        locks.append(result)
        return result

    monkeypatch.setattr(summary_documents, "to_xlsx", slow_xlsx)
    monkeypatch.setattr(document_cache, "_acquire", recording_acquire)
    results: dict[str, bytes] = {}

    def fetch(name, flask_app):
        response = flask_app.test_client().get(f"{SUMMARY}.xlsx?sector=mbo")
        assert response.status_code == 200
        results[name] = response.data

    first = threading.Thread(target=fetch, args=("first", app))
    second = threading.Thread(target=fetch, args=("second", other))
    first.start()
    deadline = time.monotonic() + 30
    while not calls and time.monotonic() < deadline:  # the first one renders...
        time.sleep(0.01)
    second.start()
    while locks.count("asked") < 2 and time.monotonic() < deadline:  # ...the second waits
        time.sleep(0.01)
    time.sleep(0.2)
    assert "waited" not in locks
    release.set()
    first.join(30)
    second.join(30)
    with other.app_context():
        db.session.remove()
        db.engine.dispose()
    assert calls == [1]
    assert sorted(locks) == ["asked", "asked", "free", "waited"]
    assert results["first"] == results["second"]
    assert len(kept_files(folder)) == 1


def test_the_folder_is_kept_in_bounds(client, d, renders, folder, monkeypatch):
    monkeypatch.setattr(document_cache, "MAX_BYTES", 1)
    for sector in ("po", "vo", "mbo"):
        assert client.get(f"/export/initiatieven.csv?sector={sector}").status_code == 200
    assert len(kept_files(folder)) == 1  # only the newest stays beyond the cap
    assert not list((folder / ".tmp").iterdir())
