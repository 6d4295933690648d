"""The import pages as a moderator uses them: a network's own list (Windows-1252, ``;``) is
uploaded, its columns mapped, its rows checked and imported; bad files are refused with a
Dutch message and store nothing. What is stored is read back with plain SQL."""
from __future__ import annotations

from html.parser import HTMLParser

import pytest
from sqlalchemy import text

from registry.extensions import db
from registry.imports import services
from registry.taxonomy.constants import InitiativeState
from tests.factories import make_initiative
from tests.imports.helpers import (
    EXPECTED_MAPPING,
    HEADER,
    csv_bytes,
    finish,
    job_id_of,
    network_row,
    post_form,
    upload,
)


class _Page(HTMLParser):
    """The selected option of every select, and the rows of the job page."""

    def __init__(self):
        super().__init__()
        self.select: str | None = None
        self.options: dict[str, list[tuple[str, str]]] = {}
        self.selected: dict[str, str] = {}
        self.rows: dict[int, str] = {}
        self.counts: dict[str, str] = {}
        self._count: str | None = None
        self._option: tuple[str, bool] | None = None

    def handle_starttag(self, tag, attrs):
        a = dict(attrs)
        if tag == "select":
            self.select = a["name"]
        elif tag == "option" and self.select:
            self._option = (a.get("value", ""), "selected" in a)
        elif tag == "tr" and "data-row" in a:
            self.rows[int(a["data-row"])] = a["data-status"]
        elif tag == "td" and "data-count" in a:
            self._count = a["data-count"]

    def handle_endtag(self, tag):
        if tag == "select":
            self.select = None

    def handle_data(self, data):
        if self._option is not None and self.select:
            value, selected = self._option
            self.options.setdefault(self.select, []).append((value, data.strip()))
            if selected:
                self.selected[self.select] = data.strip()
            self._option = None
        if self._count is not None:
            self.counts[self._count] = data.strip()
            self._count = None


def parse(html: str) -> _Page:
    page = _Page()
    page.feed(html)
    return page


def count(sql: str, **params) -> int:
    return db.session.execute(text(sql), params).scalar_one()


@pytest.mark.parametrize(("role", "allowed"), [("advisor", False), ("moderator", True),
                                               ("admin", True)])
def test_only_moderators_and_admins_may_import(app, client, login, role, allowed):
    anonymous = app.test_client()
    for method in ("GET", "POST"):
        response = anonymous.open("/moderatie/import/", method=method)
        assert response.status_code == 302
        assert "/login" in response.headers["Location"]
    assert anonymous.get("/moderatie/import/1").status_code == 302
    login(client, role)
    assert client.get("/moderatie/import/").status_code == (200 if allowed else 403)
    if allowed:
        response = upload(client, {"file": (csv_bytes([network_row(0)]), "lijst.csv")})
        assert response.status_code == 302
        return
    # with a valid CSRF token (from a public form): refused for the role, nothing stored
    for path in ("/moderatie/import/", "/moderatie/import/1/kolommen",
                 "/moderatie/import/1/importeren", "/moderatie/import/1/verwijderen",
                 "/moderatie/import/1/opnieuw"):
        assert post_form(client, path, "/aanmelden", source="x").status_code == 403, path
    assert count("SELECT count(*) FROM import_job") == 0


def test_a_networks_list_is_mapped_checked_and_imported(app, client, login, db):
    existing = make_initiative(state=InitiativeState.PUBLISHED, title="Samen leren",
                               school_name="Het Kompas", postcode="5650 AB")
    moderator = login(client, "moderator")
    rows = [
        network_row(0, **{"Contactpersoon": "Anne de Vries", "E-mail": "Anne@School.example"}),
        network_row(1, **{"Contactpersoon": "Bram"}),  # a name without an address
        network_row(2, Postcode="12345"),
        network_row(3, Initiatief='=HYPERLINK("http://example.org")'),
        network_row(0, **{"Contactpersoon": "Anne de Vries", "E-mail": "Anne@School.example"}),
        network_row(5, Postcode="5650 AB", **{"Naam school": "Het Kompas"},
                    Initiatief="Samen leren"),  # the entry above
        network_row(6, Gebied="", Knelpunt="", Ernst="", **{"Beschrijving knelpunt": ""}),
        network_row(7, Sector="vo", Fase="lopend"),
    ]
    response = upload(client, {"file": (csv_bytes(rows), "Netwerk Zuid.csv")})
    job_id = job_id_of(response)
    assert response.headers["Location"].endswith(f"/moderatie/import/{job_id}/kolommen")

    # the mapping page suggests the columns by their names
    page = parse(client.get(f"/moderatie/import/{job_id}/kolommen").get_data(as_text=True))
    letters = {name: f"{chr(65 + i)}: {name}" for i, name in enumerate(HEADER)}
    suggested = {key: label for key, label in page.selected.items() if key != "csrf_token"}
    assert {k: v for k, v in suggested.items() if v != "Niet inlezen"} == {
        key: letters[column] for key, column in EXPECTED_MAPPING.items()}
    choices = {key: dict((label, value) for value, label in options)
               for key, options in page.options.items()}
    chosen = {key: choices[key][label] for key, label in page.selected.items()}
    response = post_form(client, f"/moderatie/import/{job_id}/kolommen",
                         f"/moderatie/import/{job_id}/kolommen", **chosen)
    assert response.headers["Location"].endswith(f"/moderatie/import/{job_id}")
    job = finish(app, job_id)
    assert job.status == "checked", job.error

    # the preview: what becomes of each row; nothing is stored yet
    html = client.get(f"/moderatie/import/{job_id}").get_data(as_text=True)
    page = parse(html)
    assert page.rows == {2: "valid", 3: "valid", 4: "invalid", 5: "invalid", 6: "repeated",
                         7: "duplicate", 8: "invalid", 9: "valid"}
    assert page.counts == {"rows": "8", "valid": "3", "invalid": "3", "repeated": "1",
                           "duplicate": "1"}
    for message in ("<strong>Postcode</strong>: Vul een geldige postcode in, bijvoorbeeld "
                    "1234 AB.",
                    "Naam van het initiatief</strong>: Deze cel bevat een formule of begint "
                    "als een formule (=).",
                    "Meld minstens één knelpunt.",
                    "Naam van de contactpersoon zonder e-mailadres: niet opgeslagen.",
                    "zelfde postcode", existing.reference):
        assert message in html, message
    assert count("SELECT count(*) FROM initiative") == 1
    assert count("SELECT count(*) FROM import_row") == 0

    response = post_form(client, f"/moderatie/import/{job_id}/importeren",
                         f"/moderatie/import/{job_id}")
    assert response.status_code == 302
    job = finish(app, job_id)
    assert job.status == "done", job.error
    assert count("SELECT count(*) FROM initiative WHERE state = 'pending'") == 3
    assert count("SELECT count(*) FROM import_row WHERE source = 'Netwerk Zuid'") == 3
    stored = db.session.execute(text(
        "SELECT i.title, o.name, o.postcode, o.sector, i.phase, c.email, c.name "
        "FROM initiative i JOIN organisation o ON o.id = i.organisation_id "
        "LEFT JOIN contact c ON c.initiative_id = i.id WHERE i.state = 'pending' "
        "ORDER BY i.id")).all()
    assert [tuple(r) for r in stored] == [
        ("Eigen leerroute", "Sint-Joriscollege", "5611 AB", "vo", "pilot",
         "anne@school.example", "Anne de Vries"),
        ("Flexibel examineren", "Lyceum De Horizon", "5612 AB", "vo", "pilot", None, None),
        ("Leerlab", "Mavo Baken", "5618 AB", "vo", "lopend", None, None),
    ]
    # dimensions and the obstacle, as the form would have stored them
    levels = db.session.execute(text(
        "SELECT d.dimension_code, d.current_level, d.ambition_level FROM initiative_dimension d "
        "JOIN initiative i ON i.id = d.initiative_id WHERE i.title = 'Leerlab' "
        "AND (d.current_level > 0 OR d.ambition_level > 0)")).all()
    assert [tuple(r) for r in levels] == [("doelen", 1, 3)]
    assert db.session.execute(text(
        "SELECT o.area_code, o.title, o.severity, o.status, o.visibility FROM obstacle o "
        "JOIN initiative i ON i.id = o.initiative_id WHERE i.title = 'Leerlab'")).one() == (
        "examineren", "Vaste examenmomenten", 3, "open", "public")
    # the contact is invited with a manage link; nobody else gets mail
    mails = db.session.execute(text(
        "SELECT kind, to_address, body_text FROM outbox_message")).all()
    assert [(m.kind, m.to_address) for m in mails] == [("import.invitation",
                                                        "anne@school.example")]
    assert "/beheren#" in mails[0].body_text
    assert "Netwerk Zuid" in mails[0].body_text
    # the history of each entry and one audit event say who imported what
    assert count("SELECT count(*) FROM revision WHERE kind = 'import' AND actor_id = :id",
                 id=moderator.id) == 3
    audit = db.session.execute(text(
        "SELECT actor_id, after FROM audit_event WHERE action = 'initiative.import'")).one()
    assert audit.actor_id == moderator.id
    after = audit.after if isinstance(audit.after, dict) else __import__("json").loads(
        audit.after)
    assert after == {"file": "Netwerk Zuid.csv", "source": "Netwerk Zuid", "rows": 8,
                     "imported": 3, "invalid": 3, "duplicates": 1, "imported_before": 1,
                     "invitations": 1}
    assert services.job_files(job_id) == []  # the upload is gone

    # the same file again creates nothing: the rows are recognised by their key
    response = upload(client, {"file": (csv_bytes(rows), "Netwerk Zuid.csv")})
    second = job_id_of(response)
    page = parse(client.get(f"/moderatie/import/{second}/kolommen").get_data(as_text=True))
    assert page.selected["obstacle_title"] == "L: Knelpunt"  # the saved mapping
    chosen = {key: dict((label, value) for value, label in page.options[key])[label]
              for key, label in page.selected.items()}
    post_form(client, f"/moderatie/import/{second}/kolommen",
              f"/moderatie/import/{second}/kolommen", **chosen)
    finish(app, second)
    page = parse(client.get(f"/moderatie/import/{second}").get_data(as_text=True))
    assert page.rows == {2: "imported_before", 3: "imported_before", 4: "invalid",
                         5: "invalid", 6: "imported_before", 7: "duplicate", 8: "invalid",
                         9: "imported_before"}
    assert "0 nieuwe rijen worden geïmporteerd" in client.get(
        f"/moderatie/import/{second}").get_data(as_text=True)


def _refused(client, files, message, status=422):
    response = upload(client, files)
    html = response.get_data(as_text=True)
    assert response.status_code == status, html[:500]
    assert message in html
    assert 'class="error-message"' in html
    assert 'class="error-summary"' in html
    assert count("SELECT count(*) FROM import_job") == 0
    assert count("SELECT count(*) FROM initiative") == 0
    assert list(services.imports_dir().glob("*")) == []


@pytest.mark.parametrize(("content", "name", "message"), [
    (b"\x00\x01\x02\x03" * 100, "lijst.csv", "Dit bestand is geen tekst- of Excel-bestand."),
    (b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + b"\x00" * 100, "lijst.xls",
     "Excel-bestand in het oude formaat (.xls)"),
    (b"", "leeg.csv", "Het bestand is leeg."),
    (b"\r\n\r\n", "leeg.csv", "Het bestand is leeg."),
    (";".join(f"kolom{i}" for i in range(1000)).encode() + b"\r\n1;2\r\n", "breed.csv",
     "Het bestand heeft 1000 kolommen; het register leest er hoogstens 200."),
    (b"naam;plaats\r\nde \x81\x8d school;Ede\r\n", "raar.csv",
     "De tekens in dit bestand zijn niet te lezen."),
    (b"PK\x03\x04" + b"\x00" * 200, "kapot.xlsx", "Dit Excel-bestand is beschadigd"),
])
def test_a_bad_file_is_refused_with_a_dutch_message(client, login, content, name, message):
    login(client, "moderator")
    _refused(client, {"file": (content, name)}, message)


def test_a_file_over_the_limit_is_refused(app, client, login):
    login(client, "moderator")
    app.config["IMPORT_MAX_BYTES"] = 4096
    body = csv_bytes([network_row(i % 8) for i in range(40)])
    assert len(body) > 4096
    _refused(client, {"file": (body, "groot.csv")}, "Het bestand is groter dan 0,0 MB")
    # far over it: refused before the body is read (werkzeug's limit), the same message
    _refused(client, {"file": (body * 40, "groter.csv")}, "Het bestand is groter dan", 413)


def test_the_upload_needs_its_csrf_token(client, login):
    login(client, "moderator")
    response = client.post("/moderatie/import/", content_type="multipart/form-data", data={
        "source": "x", "file": (__import__("io").BytesIO(csv_bytes([network_row(0)])),
                                "lijst.csv")})
    assert response.status_code == 422
    assert count("SELECT count(*) FROM import_job") == 0


def test_an_export_needs_its_obstacles(client, login):
    login(client, "moderator")
    make_initiative()
    initiatives = client.get("/export/initiatieven.csv").data
    obstacles = client.get("/export/knelpunten.csv").data
    db.session.execute(text("DELETE FROM audit_event"))
    db.session.commit()
    for files, message in (
        ({"file": (initiatives, "initiatieven.csv")}, "kies dat als knelpuntenbestand"),
        ({"file": (obstacles, "knelpunten.csv")}, "Dit is het knelpuntenbestand"),
        ({"file": (csv_bytes([network_row(0)]), "lijst.csv"),
          "obstacles_file": (obstacles, "knelpunten.csv")},
         "Een knelpuntenbestand hoort alleen bij een CSV-export"),
    ):
        response = upload(client, files)
        assert response.status_code == 422
        assert message in response.get_data(as_text=True)
    assert count("SELECT count(*) FROM import_job") == 0
