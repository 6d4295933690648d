"""A hostile-input battery through the public submission form and every public query string.

Every case has one right outcome, asserted as such: refused (4xx) with a Dutch message at
the field concerned (read back from the page's error summary) and nothing stored, or stored
as typed (or as the given normalised value) and rendered escaped. Never a 500, never a
half-stored entry.

The battery is grouped by equivalence class - a payload family, a forbidden character, a
field's validator, a kind of endpoint - with one test per class that runs every value of the
class inside it, on both databases (no sampling).
"""
from __future__ import annotations

import io
import itertools
import re
from collections.abc import Callable
from dataclasses import dataclass
from html import unescape

import pytest
from markupsafe import escape
from sqlalchemy import select
from werkzeug.datastructures import MultiDict

from registry.database import utcnow
from registry.submissions.models import Initiative
from registry.taxonomy.constants import InitiativeState
from tests.dbs import reset_database
from tests.factories import AREA_CODES, DIMENSION_CODES, PHASE_CODES, SECTOR_CODES, form_post
from tests.security.helpers import assert_nothing_partial, counts, fresh_token
from tests.summary.oracle import PROVINCES

SQL = [
    "' OR '1'='1", "'; DROP TABLE initiative; --", "1; SELECT pg_sleep(5)--",
    '" OR ""="', "admin'--", "1 UNION SELECT email, phone FROM contact",
]
TEMPLATE = [
    "{{ 7*7 }}", "{% for x in range(3) %}x{% endfor %}", "${7*7}", "#{7*7}", "{{ config }}",
    "{{ ''.__class__.__mro__[1].__subclasses__() }}",
]
XSS = [
    "<script>alert(1)</script>", "<img src=x onerror=alert(1)>", '"><svg onload=alert(1)>',
    "javascript:alert(1)", '<a href="javascript:alert(1)">klik</a>',
    "</textarea><script>alert(1)</script>", "'-alert(1)-'", "<iframe src=//evil.example>",
]
UNICODE_OK = [
    "Leren met plezier 🎓📚👩🏽‍🏫", "Школа Schule 学校 school", "مدرسة المستقبل",
    "בית ספר \u200fחדש", "Cafe\u0301 Crème – “citaat”", "Ångström Œuvre ß ǅ",
]

# form field -> (public on the detail page?, how to read it back)
TEXT_FIELDS = {
    "school_name": (True, lambda i: i.organisation.name),
    "street": (False, lambda i: i.organisation.street),
    "city": (True, lambda i: i.organisation.city),
    "levels": (True, lambda i: i.organisation.levels),
    "title": (True, lambda i: i.title),
    "summary": (True, lambda i: i.summary),
    "description": (True, lambda i: i.description),
    "ict": (True, lambda i: i.ict),
    "obstacles-0-title": (True, lambda i: i.obstacles[0].title),
    "obstacles-0-description": (True, lambda i: i.obstacles[0].description),
    "obstacles-0-rule": (True, lambda i: i.obstacles[0].rule),
    "obstacles-0-policy_ask": (True, lambda i: i.obstacles[0].policy_ask),
    "contact-name": (True, lambda i: i.contact.name),
    "contact-role": (False, lambda i: i.contact.role),  # never public, also with consent
}
MAX_LENGTHS = {
    "school_name": 200, "street": 200, "city": 100, "levels": 300, "website": 300,
    "title": 200, "summary": 300, "description": 10000, "ict": 2000, "qualification_codes": 500,
    "obstacles-0-title": 200, "obstacles-0-description": 5000, "obstacles-0-rule": 500,
    "obstacles-0-policy_ask": 5000, "obstacles-0-workaround": 5000, "contact-name": 200,
    "contact-role": 200, "contact-email": 254, "contact-phone": 40,
}
BAD_CHARACTERS = [
    "\x00", "nul\x00byte", "\u202egnp.exe", "kleur\x1b[31m", "del\x7f", "c1\x85",
    "isolaat\u2066x\u2069", "kapot\ufffd", "formfeed\x0c", "bel\x07",
]

FAMILIES = {"sql": SQL, "template": TEMPLATE, "xss": XSS, "unicode": UNICODE_OK}

# (field, value) -> the one right outcome: refused with a message at that field (the start
# of the message), or stored (how to read it back, the stored value).
BRIN = "Een instellingscode bestaat uit 2 cijfers en 2 letters"
POSTCODE = "Vul een geldige postcode in"
WEBSITE = "Vul een geldig webadres in"
LOCATION = "Een vestigingsnummer bestaat uit 2 cijfers"
CREBO = "Crebo-codes bestaan uit 5 cijfers"
NUMBER = "Ongeldig getal."
YEAR = "Vul een jaartal in tussen 1900 en"
LEARNERS = "Vul een aantal tussen 0 en 1.000.000 in."
STAFF = "Vul een aantal tussen 0 en 100.000 in."
CHOICE = "Ongeldige keuze"
EMAIL = "Vul een geldig e-mailadres in"
PHONE = "Vul een geldig telefoonnummer in"


@dataclass(frozen=True)
class Stored:
    read: Callable[[Initiative], object]
    value: object


def _org(name):
    return lambda i: getattr(i.organisation, name)


VALIDATED: dict[str, list[tuple[str | None, str | Stored]]] = {
    "brin": [("' OR 1=1", BRIN), ("<script>", BRIN), ("25L", BRIN), ("25LHX", BRIN),
             ("２５ＬＨ", BRIN), ("25 L H", Stored(_org("brin"), "25LH")), ("XX99", BRIN),
             ("25lh; DROP", BRIN)],
    "postcode": [(v, POSTCODE) for v in ["0123 AB", "1234 A", "12345AB", "1234 ÄB",
                                          "1234AB; DROP", "<b>1234AB</b>", "１２３４AB",
                                          "1234 AB 1234 AB", "AB 1234"]],
    "website": [*[(v, WEBSITE) for v in [
        "javascript:alert(1)", "JaVaScRiPt:alert(1)", " javascript:alert(1)",
        "data:text/html,<script>alert(1)</script>", "vbscript:msgbox(1)", "http://",
        "https://exa mple.nl", "//evil.example", "http://localhost", "ftp://files.school.nl",
        "https://school.nl/?q=<img src=x onerror=alert(1)>",
        "javascript://school.nl/%0Aalert(1)"]],
        # a valid http(s) URL with markup in its path: stored, and only ever rendered escaped
        ('https://school.nl/"><script>alert(1)</script>',
         Stored(_org("website"), 'https://school.nl/"><script>alert(1)</script>'))],
    "location_number": [(v, LOCATION) for v in ["1", "001", "ab", "<b>"]],
    "qualification_codes": [("2518", CREBO), ("25180 abc", CREBO),
                            ("25180,,,25181", Stored(_org("qualification_codes"),
                                                     "25180, 25181")),
                            ("'; DROP TABLE x; --", CREBO)],
    "start_year": [("abc", NUMBER), ("1e9", NUMBER), ("-1", YEAR), ("2022.5", NUMBER),
                   ("9" * 5000, NUMBER), ("0x7E6", NUMBER),
                   # Arabic-Indic digits are digits: the year 1999
                   ("١٩٩٩", Stored(lambda i: i.start_year, 1999))],
    "learners_count": [("-5", LEARNERS), ("1e6", NUMBER), ("NaN", NUMBER), ("∞", NUMBER),
                       ("99999999999999999999", LEARNERS)],
    "staff_count": [("-1", STAFF), ("1.5", NUMBER), ("100001", STAFF)],
    "sector": [("onbekend", CHOICE), ("' OR 1=1", CHOICE), ("", "Kies de sector.")],
    "phase": [("<script>", CHOICE), ("pilot pilot", CHOICE),
              ("", "Kies in welke fase het initiatief is.")],
    "obstacles-0-severity": [("99", CHOICE), ("abc", CHOICE), ("-1", CHOICE),
                             ("", "Kies hoe ernstig het knelpunt is.")],
    "obstacles-0-area": [("../../etc/passwd", CHOICE), ("onbekend", CHOICE),
                         ("", "Kies het gebied.")],
    "obstacles-0-status": [("verwijderd", CHOICE), ("{{7*7}}", CHOICE),
                           ("", "Kies de status van het knelpunt.")],
    "dimensions-0-current_level": [("7", CHOICE), ("-1", CHOICE), ("x", CHOICE),
                                   ("3.0", CHOICE)],
    "contact-email": [(v, EMAIL) for v in ["a@b", "<script>@x.nl", "a@b.nl\r\nBcc: x@y.nl",
                                            "anne@@school.nl", "anne@school.nl, b@c.nl",
                                            '"><svg/onload=alert(1)>@school.nl']],
    "contact-phone": [(v, PHONE) for v in ["12", "+31 (0)30 123 45 67 ext 5", "<script>",
                                            "0" * 30, "030-123-45-67-89-01-23"]],
    "contact-consent_contact": [(None, "Geef toestemming voor contact")],
}


@pytest.fixture
def battery_client(app):
    """CSRF is tested separately below; here every post goes straight to validation."""
    app.config["WTF_CSRF_ENABLED"] = False
    return app.test_client()


def _collect_spooled_files() -> None:
    """Werkzeug leaves the temporary file of a multipart body it refused (413) to the garbage
    collector; collect it here, where the ResourceWarning is expected."""
    import gc

    gc.collect()


def _post(client, data):
    return client.post("/aanmelden", data=data)


def _only_initiative(db) -> Initiative:
    db.session.expire_all()
    return db.session.scalars(select(Initiative)).one()


def _newest_initiative(db) -> Initiative:
    db.session.expire_all()
    return db.session.scalars(select(Initiative).order_by(Initiative.id.desc())).first()


def _publish_and_render(db, client, initiative) -> str:
    initiative.state = InitiativeState.PUBLISHED
    initiative.published_at = utcnow()
    db.session.commit()
    response = client.get(f"/initiatieven/{initiative.id}")
    assert response.status_code == 200
    return response.get_data(as_text=True)


def error_summary(html: str) -> dict[str, list[str]]:
    """The page's error summary, read back: field id -> its messages (unescaped)."""
    match = re.search(r'<div class="error-summary".*?<ul>(.*?)</ul>', html, re.S)
    out: dict[str, list[str]] = {}
    for field_id, message in re.findall(r'<li><a href="#([^"]*)">(.*?)</a></li>',
                                        match.group(1) if match else "", re.S):
        out.setdefault(field_id, []).append(unescape(" ".join(message.split())))
    return out


def assert_refused_with_message(response, db, *, status=422) -> str:
    assert response.status_code == status, response.status_code
    html = response.get_data(as_text=True)
    if status == 422:
        assert "Er is een probleem" in html
        assert 'class="error-message"' in html
    assert counts(db)["Initiative"] == 0
    assert_nothing_partial(db)
    return html


def assert_refused_at(response, db, field: str, message: str) -> None:
    """Refused (422, nothing stored) with ``message`` as the first message of ``field`` and
    no message at any other field."""
    html = assert_refused_with_message(response, db)
    errors = error_summary(html)
    assert list(errors) == [field], errors
    assert errors[field][0].startswith(message), errors


@pytest.mark.parametrize("family", FAMILIES)
def test_hostile_text_is_stored_as_typed_and_rendered_escaped(family, battery_client, db):
    """Each payload of the family in every text field at once (each field's copy tagged
    with the field's name): stored exactly as typed, every public field rendered escaped."""
    for value in FAMILIES[family]:
        typed = {field: f"{value} [{field}]" for field in TEXT_FIELDS}
        response = _post(battery_client, form_post(**typed,
                                                   **{"contact-consent_publish_name": "y"}))
        assert response.status_code == 302, error_summary(response.get_data(as_text=True))
        assert_nothing_partial(db)
        initiative = _newest_initiative(db)
        for field, (_public, read) in TEXT_FIELDS.items():
            assert read(initiative) == typed[field], (field, value)
        html = _publish_and_render(db, battery_client, initiative)
        for field, (public, _read) in TEXT_FIELDS.items():
            if public:
                assert str(escape(typed[field])) in html, (field, value)
            else:
                assert f"[{field}]" not in html, (field, value)
        if "<" in value:
            assert value not in html
        if value == "{{ 7*7 }}":
            assert "{{ 7*7 }} [title]" in html
            assert "49 [title]" not in html  # not evaluated


def test_surrounding_and_repeated_whitespace_is_tidied(battery_client, db):
    """Spaces and tabs around a value and runs of them inside it are collapsed; line breaks
    in a text area stay (one per line, trimmed)."""
    response = _post(battery_client, form_post(**{
        "title": "  Twee   spaties\ten  een tab  ",
        "description": "  Regel één  \r\n\tRegel   twee \n\nRegel drie",
        "contact-name": "\tAnne  de   Vries ",
    }))
    assert response.status_code == 302
    initiative = _only_initiative(db)
    assert initiative.title == "Twee spaties en een tab"
    assert initiative.description == "Regel één\nRegel twee\n\nRegel drie"
    assert initiative.contact.name == "Anne de Vries"


def test_each_forbidden_character_is_refused(battery_client, db):
    """The class of each forbidden character (NUL, bidi override and isolate, escape, DEL,
    C1, U+FFFD, form feed, bell), in one field."""
    for value in BAD_CHARACTERS:
        response = _post(battery_client, form_post(title=value))
        assert_refused_at(response, db, "title", "Dit veld bevat tekens die niet zijn toegestaan")
        html = response.get_data(as_text=True)
        assert "\x00" not in html
        assert "\u202e" not in html
        assert "\u2066" not in html


def test_every_text_field_refuses_forbidden_characters(battery_client, db):
    """Every text field (also the nested and listed ones) checks its input."""
    fields = [*TEXT_FIELDS, "contact-email", "brin", "postcode", "website", "levels",
              "qualification_codes", "obstacles-0-workaround", "contact-phone"]
    for field, value in zip(fields, itertools.cycle(BAD_CHARACTERS), strict=False):
        value = f"ok {value} ok" if field != "brin" else value
        response = _post(battery_client, form_post(**{field: value}))
        assert_refused_at(response, db, field, "Dit veld bevat tekens die niet zijn toegestaan")


def test_one_character_too_many_is_refused(battery_client, db):
    for field, limit in MAX_LENGTHS.items():
        value = "x" * (limit + 1)
        if field == "contact-email":
            value = "a" * (limit - 5) + "@ab.nl"  # one character too long
        if field == "website":
            value = "https://school.nl/" + "a" * limit
        if field == "qualification_codes":
            value = " ".join(["25180"] * 100)
        if field == "contact-phone":
            value = "030 " + "1" * 9 + " " * 2 + "-" * (limit - 10)
        response = _post(battery_client, form_post(**{field: value}))
        assert_refused_at(response, db, field, f"Gebruik maximaal {limit} tekens")


def test_exactly_the_maximum_length_is_accepted(battery_client, db):
    typed = {field: "é" * MAX_LENGTHS[field]
             for field in ("title", "summary", "obstacles-0-title", "contact-name")}
    assert _post(battery_client, form_post(**typed)).status_code == 302
    initiative = _only_initiative(db)
    for field, value in typed.items():
        assert TEXT_FIELDS[field][1](initiative) == value


@pytest.mark.parametrize("field", VALIDATED)
def test_invalid_values_get_a_message_or_are_stored_cleanly(field, battery_client, db):
    """Per field, each value has one right outcome: refused with the field's message (and
    no other), or stored as the given normalised value and rendered without markup."""
    for value, outcome in VALIDATED[field]:
        response = _post(battery_client, form_post(**{field: value}))
        if not isinstance(outcome, Stored):
            assert_refused_at(response, db, field, outcome)
            continue
        assert response.status_code == 302, (value, error_summary(response.get_data(
            as_text=True)))
        assert_nothing_partial(db)
        initiative = _only_initiative(db)
        assert outcome.read(initiative) == outcome.value, value
        html = _publish_and_render(db, battery_client, initiative)
        assert "<script>alert" not in html
        assert "<img src=x" not in html
        assert "<svg" not in html
        assert 'href="javascript' not in html.lower()
        reset_database()


def test_unknown_dimension_code_is_one_message_at_the_dimensions(battery_client, db):
    """A row with a code that is no dimension: refused, with a message at the dimensions
    (not one at each level the user did choose)."""
    for value in ("<script>", "onbekend"):
        response = _post(battery_client, form_post(**{"dimensions-0-code": value}))
        html = assert_refused_with_message(response, db)
        assert list(error_summary(html)) == ["dimensions"], error_summary(html)


def test_javascript_urls_are_never_accepted_as_website(battery_client, db):
    for value in ("javascript:alert(1)", "JAVASCRIPT:alert(1)", "java\tscript:alert(1)",
                  "data:text/html;base64,PHNjcmlwdD4=", " vbscript:x"):
        response = _post(battery_client, form_post(website=value))
        assert_refused_with_message(response, db)


def test_invalid_utf8_in_the_body_never_reaches_the_database_as_broken_text(battery_client, db):
    # Werkzeug keeps invalid percent-encoded bytes as the literal text "%ED%A0%80"
    from urllib.parse import urlencode

    body = urlencode(form_post()).replace("title=Eigen", "title=%ED%A0%80Eigen%FF%FE")
    response = battery_client.post("/aanmelden", data=body,
                                   content_type="application/x-www-form-urlencoded")
    assert response.status_code == 302
    assert_nothing_partial(db)
    initiative = _only_initiative(db)
    initiative.title.encode("utf-8")  # no lone surrogates
    assert initiative.title == "%ED%A0%80Eigen%FF%FE leerroute met coach"


def test_invalid_utf8_in_a_multipart_body_is_refused(battery_client, db):
    boundary = "grens"
    parts = []
    for key, value in form_post().items():
        raw = value.encode() if key != "title" else b"\xed\xa0\x80Eigen\xff"
        parts.append(f'--{boundary}\r\nContent-Disposition: form-data; name="{key}"\r\n\r\n'
                     .encode() + raw + b"\r\n")
    body = b"".join(parts) + f"--{boundary}--\r\n".encode()
    response = battery_client.post("/aanmelden", data=body,
                                   content_type=f"multipart/form-data; boundary={boundary}")
    html = assert_refused_with_message(response, db)
    assert "tekens die niet zijn toegestaan" in html


def test_duplicate_field_names_use_the_first_value(battery_client, db):
    data = MultiDict(form_post())
    data.setlist("title", ["Eerste titel", "<script>alert(2)</script>"])
    data.setlist("contact-email", ["anne@school.nl", "mallory@evil.example"])
    data.setlist("sector", ["mbo", "onbekend"])
    response = battery_client.post("/aanmelden", data=data)
    assert response.status_code == 302
    initiative = _only_initiative(db)
    assert initiative.title == "Eerste titel"
    assert initiative.contact.email == "anne@school.nl"
    assert_nothing_partial(db)


def test_odd_obstacle_indices(battery_client, db):
    """A complete extra obstacle row under a numeric index (however large) is a second
    obstacle, after the first; under a name that is not a number it is ignored."""
    for index, second in [("999", True), ("99999999999999999999", True), ("abc", False),
                          ("-1", False), ("0x1", False)]:
        data = form_post()
        data.update({f"obstacles-{index}-title": "Vreemd", f"obstacles-{index}-area": "overig",
                     f"obstacles-{index}-description": "x", f"obstacles-{index}-severity": "1",
                     f"obstacles-{index}-status": "open"})
        response = battery_client.post("/aanmelden", data=data)
        assert response.status_code == 302, index
        assert_nothing_partial(db)
        titles = [(o.title, o.area_code) for o in _only_initiative(db).obstacles]
        assert titles == [("Knelpunt 1", "examineren")] + (
            [("Vreemd", "overig")] if second else []), index
        reset_database()


def test_too_many_obstacles_is_refused(battery_client, db):
    response = _post(battery_client, form_post(obstacles=25))
    html = assert_refused_with_message(response, db)
    assert "maximaal 20" in html


def test_a_thousand_obstacles_is_too_large_not_a_crash(battery_client, db):
    response = _post(battery_client, form_post(obstacles=1000))
    assert response.status_code == 413
    assert "Te veel gegevens" in response.get_data(as_text=True)
    assert counts(db)["Initiative"] == 0


def test_huge_field_is_refused_with_a_message(battery_client, db):
    response = _post(battery_client, form_post(description="x" * 600_000))
    html = assert_refused_with_message(response, db)
    assert "maximaal 10000 tekens" in html


def test_body_over_the_limit_is_too_large(battery_client, db):
    response = _post(battery_client, form_post(description="x" * 1_500_000))
    assert response.status_code == 413
    assert "Te veel gegevens" in response.get_data(as_text=True)
    assert counts(db)["Initiative"] == 0


@pytest.mark.filterwarnings("ignore::ResourceWarning")
@pytest.mark.filterwarnings("ignore::pytest.PytestUnraisableExceptionWarning")
def test_huge_multipart_field_is_too_large(battery_client, db):
    response = battery_client.post("/aanmelden", data=form_post(description="x" * 600_000),
                                   content_type="multipart/form-data")
    assert response.status_code == 413
    assert counts(db)["Initiative"] == 0
    del response  # it holds the request's spooled body: collect that here, not in a later test
    _collect_spooled_files()


@pytest.mark.filterwarnings("ignore::ResourceWarning")
@pytest.mark.filterwarnings("ignore::pytest.PytestUnraisableExceptionWarning")
def test_huge_multipart_body_is_too_large(battery_client, db):
    data = dict(form_post(), upload=(io.BytesIO(b"\0" * 2_000_000), "groot.bin"))
    response = battery_client.post("/aanmelden", data=data, content_type="multipart/form-data")
    assert response.status_code == 413
    assert "Te veel gegevens" in response.get_data(as_text=True)
    assert counts(db)["Initiative"] == 0
    del response  # it holds the request's spooled body: collect that here, not in a later test
    _collect_spooled_files()


@pytest.mark.filterwarnings("ignore::ResourceWarning")
@pytest.mark.filterwarnings("ignore::pytest.PytestUnraisableExceptionWarning")
def test_many_small_multipart_parts_are_refused(battery_client, db):
    data = dict(form_post(), **{f"extra{i}": "x" for i in range(1500)})
    response = battery_client.post("/aanmelden", data=data, content_type="multipart/form-data")
    assert response.status_code == 413
    assert counts(db)["Initiative"] == 0
    _collect_spooled_files()


def test_json_body_without_csrf_token_is_refused(csrf_client, db):
    response = csrf_client.post("/aanmelden", json=form_post())
    assert response.status_code == 400
    assert counts(db)["Initiative"] == 0


def test_json_body_with_wrong_types_never_crashes(battery_client, db):
    # Flask-WTF also reads JSON bodies as form data; wrong JSON types must not crash it
    for value in ([1, 2], {"a": 1}, 12, None, True, "ok"):
        response = battery_client.post("/aanmelden", json=dict(form_post(), title=value))
        assert_refused_with_message(response, db)


def test_multipart_form_is_accepted_like_urlencoded(battery_client, db):
    response = battery_client.post("/aanmelden", data=form_post(),
                                   content_type="multipart/form-data")
    assert response.status_code == 302
    assert_nothing_partial(db)


def test_missing_or_wrong_csrf_token(csrf_client, db):
    for token in (None, "", "forged.token.value", "x" * 5000):
        data = form_post()
        if token is not None:
            data["csrf_token"] = token
        response = csrf_client.post("/aanmelden", data=data)
        assert response.status_code == 400
        assert "formulier is niet geldig verstuurd" in response.get_data(as_text=True)
        assert counts(db)["Initiative"] == 0


def test_valid_csrf_token_still_works(csrf_client, db):
    data = dict(form_post(), csrf_token=fresh_token(csrf_client))
    assert csrf_client.post("/aanmelden", data=data).status_code == 302


# --- query strings: list, map, exports, summary and the API -----------------------------------
QUERY_PAYLOADS = (SQL[:2] + TEMPLATE[:1] + XSS[:2] + ["x" * 5000, "-1", "99999999999999999999",
                  "1.5", "", "🎓 Школа", "mbo,vo", "%_*\\"])
BAD_QUERY = ["a\x00b", "\u202etxt", "\x1b[2J", "\ufffd"]
FILTER_PARAMS = ("sector", "area", "province", "phase", "theme", "dimension", "min_level", "q",
                 "page", "per_page", "sort")
OTHER_PARAMS = ("q", "page", "lang")
# endpoints that read the shared filter parameters get the full matrix
FILTER_ENDPOINTS = ("/initiatieven", "/api/v1/initiatives", "/api/v1/obstacles",
                    "/api/v1/statistics", "/kaart/initiatieven.geojson", "/knelpunten",
                    "/export/initiatieven.csv", "/export/knelpunten.json", "/geo/scholen")
EXPENSIVE = (".pdf", ".docx", ".xlsx")


def public_get_endpoints(app) -> list[str]:
    urls = []
    for rule in app.url_map.iter_rules():
        if "GET" not in (rule.methods or ()) or rule.arguments - {"dataset", "fmt"}:
            continue
        path = str(rule.rule)
        if path.startswith(("/moderatie", "/beheer", "/admin", "/account", "/static", "/mail",
                            "/login", "/logout")):
            continue
        if rule.arguments:
            converters = rule._converters
            for combo in itertools.product(*(sorted(converters[a].items)
                                              for a in sorted(rule.arguments))):
                urls.append(rule.build(dict(zip(sorted(rule.arguments), combo, strict=True)),
                                       append_unknown=False)[1])
        else:
            urls.append(path)
    return sorted(set(urls))


API_FILTER_ENDPOINTS = ("/api/v1/initiatives", "/api/v1/obstacles", "/api/v1/statistics")
STAFF_ONLY = ("/export/contact", "/knelpunten/momentopnamen",  # a redirect to the login page
              "/knelpunten/vertrouwelijk")
NEEDS_A_SUBMISSION = ("/aanmelden/bedankt",)  # only right after submitting: 404 otherwise
# enrolling a second factor needs a set-password link used just before: 403 without it
NEEDS_A_PASSWORD_LINK = ("/wachtwoord/tweede-stap",)
# the manage pages need the session a manage link opens: 303 to /beheren without it
NEEDS_A_MANAGE_SESSION = ("/beheren/bewerken", "/beheren/gegevens-wissen", "/beheren/intrekken",
                          "/beheren/mijn-gegevens.json")


def plain_status(path: str) -> int:
    """What a public GET of ``path`` gives without any query string."""
    if path in STAFF_ONLY:
        return 302
    if path in NEEDS_A_SUBMISSION:
        return 404
    if path in NEEDS_A_PASSWORD_LINK:
        return 403
    if path in NEEDS_A_MANAGE_SESSION:
        return 303
    return 200


# Documents and exports refuse a parameter they do not read (issue 17: one kept file per
# canonical request); the values of the ones they read are lenient, as on the pages.
DOCUMENT_ROUTE = re.compile(r"/export/\w+\.(csv|xlsx|json|geojson)|/knelpunten/"
                            r"knelpuntenoverzicht\.(pdf|docx|xlsx)")
DOCUMENT_PARAMS = {"sector", "area", "province", "phase", "theme", "dimension", "min_level",
                   "q", "snapshot", "lang"}


def lenient_status(path: str, param: str) -> int:
    if DOCUMENT_ROUTE.fullmatch(path) and param not in DOCUMENT_PARAMS:
        return 400
    return plain_status(path)


def api_accepts(path: str, param: str, value: str) -> bool:
    """The API's documented contract, written out: codes must be known codes, numbers
    plain digits in range, ``q`` at most 200 characters; a parameter the endpoint does not
    read is ignored."""
    reads = {"sector", "area", "province", "phase", "theme", "dimension", "min_level", "q"}
    if path != "/api/v1/statistics":
        reads |= {"page", "per_page"}
    if param not in reads:
        return True
    vocabularies = {"sector": SECTOR_CODES, "area": AREA_CODES, "province": PROVINCES,
                    "phase": PHASE_CODES, "dimension": DIMENSION_CODES}
    if param in vocabularies:
        return value in vocabularies[param]
    if param == "q":
        return len(value) <= 200
    ranges = {"theme": (1, 999_999_999), "min_level": (0, 3), "page": (1, 100_000),
              "per_page": (1, 100)}
    low, high = ranges[param]
    return re.fullmatch(r"[0-9]{1,9}", value) is not None and low <= int(value) <= high


def _endpoint_classes(app) -> dict[str, list[str]]:
    """Every public GET endpoint in exactly one class: the API (strict filters), pages and
    downloads that read the filters (lenient), generated documents (expensive), the rest."""
    urls = public_get_endpoints(app)
    classes = {
        "api": [u for u in urls if u in API_FILTER_ENDPOINTS],
        "filters": [u for u in urls if u in FILTER_ENDPOINTS and u not in API_FILTER_ENDPOINTS],
        "documents": [u for u in urls if u.endswith(EXPENSIVE)],
    }
    classes["other"] = [u for u in urls if not any(u in c for c in classes.values())]
    return classes


def test_public_endpoints_are_found(app):
    urls = public_get_endpoints(app)
    assert "/initiatieven" in urls
    assert "/aanmelden" in urls
    assert set(FILTER_ENDPOINTS) <= set(urls)
    classes = _endpoint_classes(app)
    assert sorted(u for c in classes.values() for u in c) == urls
    assert len(classes["api"]) == 3
    assert len(classes["filters"]) == 6
    assert len(classes["documents"]) == 6
    assert len(classes["other"]) > 25


def _run_matrix(client, paths, params, payloads, expected) -> list:
    """GET every path with every (param, value); ``expected(path, param, value)`` is the one
    right status. No HTML page may contain the stored script unescaped."""
    failures = []
    for path in paths:
        for param in params:
            for value in payloads:
                response = client.get(path, query_string={param: value}, buffered=True)
                want = expected(path, param, value)
                if response.status_code != want:
                    failures.append((path, param, value[:30], response.status_code, want))
                elif response.mimetype == "text/html":
                    if "<script>alert(1)</script>" in response.get_data(as_text=True):
                        failures.append((path, param, value[:30], "unescaped"))
                response.close()
        for value in BAD_QUERY:  # refused before any view runs
            response = client.get(path, query_string={params[0]: value}, buffered=True)
            if response.status_code != 400:
                failures.append((path, params[0], repr(value), response.status_code, 400))
            response.close()
    return failures


@pytest.fixture
def hostile_data(app):
    from tests.factories import make_initiative

    make_initiative(title="<script>alert(1)</script>")


def test_api_refuses_exactly_the_invalid_values(client, hostile_data):
    paths = _endpoint_classes(client.application)["api"]

    def expected(path, param, value):
        return 200 if api_accepts(path, param, value) else 400

    failures = _run_matrix(client, paths, FILTER_PARAMS, QUERY_PAYLOADS, expected)
    for path in paths:  # a parameter given twice where one value is expected
        response = client.get(path + "?sector=mbo&sector=vo&q=a&q=<b>&page=1&page=x")
        if response.status_code != 400:
            failures.append((path, "duplicates", response.status_code, 400))
    assert not failures, failures[:20]


def test_filter_pages_and_downloads_ignore_hostile_values(client, hostile_data):
    paths = _endpoint_classes(client.application)["filters"]
    failures = _run_matrix(client, paths, FILTER_PARAMS, QUERY_PAYLOADS,
                           lambda path, param, _value: lenient_status(path, param))
    for path in paths:
        response = client.get(path + "?sector=mbo&sector=vo&q=a&q=<b>&page=1&page=x",
                              buffered=True)
        if response.status_code != lenient_status(path, "page"):
            failures.append((path, "duplicates", response.status_code))
    assert not failures, failures[:20]


def test_documents_survive_a_huge_query(client, hostile_data):
    paths = _endpoint_classes(client.application)["documents"]
    failures = _run_matrix(client, paths, ("q",), ["x" * 5000],
                           lambda path, _param, _value: plain_status(path))
    assert not failures, failures[:20]


def test_other_endpoints_ignore_hostile_values(client, hostile_data):
    paths = _endpoint_classes(client.application)["other"]
    failures = _run_matrix(client, paths, OTHER_PARAMS, QUERY_PAYLOADS[:5],
                           lambda path, param, _value: lenient_status(path, param))
    assert not failures, failures[:20]


def test_bad_characters_in_query_get_a_message(client):
    response = client.get("/initiatieven", query_string={"q": "a\x00b"})
    assert response.status_code == 400
    assert "tekens die niet zijn toegestaan" in response.get_data(as_text=True)
    api = client.get("/api/v1/initiatives", query_string={"q": "a\x00b"})
    assert api.status_code == 400
    assert api.mimetype == "application/problem+json"
    assert "tekens" in api.get_json()["detail"]
