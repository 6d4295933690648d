"""The public submission form, through the real view with CSRF protection on."""
from __future__ import annotations

import re

import pytest
from sqlalchemy import func, select

from registry.submissions.models import (
    Contact,
    Initiative,
    InitiativeDimension,
    Obstacle,
    Organisation,
)
from registry.taxonomy.constants import InitiativeState
from tests.conftest import csrf_token_from
from tests.factories import form_post


def post_form(client, data: dict, follow: bool = False):
    page = client.get("/aanmelden")
    assert page.status_code == 200
    data = dict(data, csrf_token=csrf_token_from(page.get_data(as_text=True)))
    return client.post("/aanmelden", data=data, follow_redirects=follow)


def count(db, model) -> int:
    return db.session.scalar(select(func.count()).select_from(model))


def summary_links(html: str) -> list[tuple[str, str]]:
    block = re.search(r'data-error-summary>(.*?)</div>', html, re.S)
    assert block, "no error summary"
    return re.findall(r'<a href="#([^"]+)">(.*?)</a>', block.group(1))


def test_form_page_is_dutch_and_has_all_sections(client):
    html = client.get("/aanmelden").get_data(as_text=True)
    assert '<html lang="nl">' in html
    for text in ("De school", "Het initiatief", "Dimensies van personalisering", "Knelpunten",
                 "Contactpersoon", "Instellingscode (BRIN)", "privacyverklaring"):
        assert text in html
    # all eight dimensions, each with a current level and an ambition
    assert html.count('name="dimensions-') == 8 * 3


def test_happy_path_stores_everything_unconfirmed(csrf_client, db):
    response = post_form(csrf_client, form_post(obstacles=3))
    assert response.status_code == 302
    assert response.headers["Location"].endswith("/aanmelden/bedankt")

    initiative = db.session.scalars(select(Initiative)).one()
    # Double opt-in (issue 4): pending only after the contact confirms by e-mail.
    assert initiative.state == InitiativeState.UNCONFIRMED
    assert re.fullmatch(r"GL-\d{4}-\d{5}", initiative.reference)
    org = initiative.organisation
    assert (org.brin, org.postcode, org.website) == ("25LH", "3511 AB", "https://www.hetbaken.nl")
    assert org.qualification_codes == "25180, 25181"
    assert [o.title for o in initiative.obstacles] == ["Knelpunt 1", "Knelpunt 2", "Knelpunt 3"]
    assert [o.area_code for o in initiative.obstacles] == ["examineren", "diplomeren",
                                                           "kwalificeren"]
    assert {d.dimension_code: (d.current_level, d.ambition_level)
            for d in initiative.dimensions}["doelen"] == (1, 2)
    assert len(initiative.dimensions) == 8
    contact = initiative.contact
    assert contact.email == "anne@example.org"
    assert contact.consent_contact
    assert not contact.consent_publish_name

    thanks = csrf_client.get("/aanmelden/bedankt").get_data(as_text=True)
    assert initiative.reference in thanks


def test_request_without_csrf_token_is_refused_and_nothing_stored(csrf_client, db):
    response = csrf_client.post("/aanmelden", data=form_post())
    assert response.status_code == 400
    assert "sessie is verlopen" in response.get_data(as_text=True)
    assert count(db, Initiative) == 0


INVALID_CASES = [
    ("school_name", "", "school_name", "Vul de naam van de school in."),
    # no BRIN is a school typed by hand (tests/submissions/test_unlisted_school.py), but the
    # location number posted with it belongs to a code
    ("brin", "", "location_number", "hoort bij een instellingscode"),
    ("brin", "2LH", "brin", "2 cijfers en 2 letters"),
    ("location_number", "1a", "location_number", "2 cijfers"),
    ("sector", "", "sector", "Kies de sector."),
    ("sector", "kleuter", "sector", "Ongeldige keuze"),
    ("qualification_codes", "2518, abc", "qualification_codes", "Niet herkend: 2518, abc"),
    ("postcode", "", "postcode", "Vul de postcode in"),
    ("postcode", "0123 AB", "postcode", "geldige postcode"),
    ("postcode", "1234 A1", "postcode", "geldige postcode"),
    ("website", "javascript:alert(1)", "website", "geldig webadres"),
    ("website", "ftp://school.nl", "website", "geldig webadres"),
    ("title", "", "title", "Vul de naam van het initiatief in."),
    ("summary", "", "summary", "Vat het initiatief samen"),
    ("summary", "x" * 301, "summary", "maximaal 300 tekens"),
    ("start_year", "1850", "start_year", "jaartal"),
    ("start_year", "vorig jaar", "start_year", "Ongeldig getal"),
    ("phase", "", "phase", "Kies in welke fase"),
    ("learners_count", "-3", "learners_count", "tussen 0 en 1.000.000"),
    ("obstacles-0-area", "", "obstacles-0-area", "Kies het gebied."),
    ("obstacles-0-area", "onbekend", "obstacles-0-area", "Ongeldige keuze"),
    ("obstacles-0-title", "", "obstacles-0-title", "korte titel"),
    ("obstacles-0-description", "", "obstacles-0-description", "Beschrijf het knelpunt."),
    ("obstacles-0-severity", "", "obstacles-0-severity", "hoe ernstig"),
    ("obstacles-0-severity", "7", "obstacles-0-severity", "Ongeldige keuze"),
    ("obstacles-0-status", "weg", "obstacles-0-status", "Ongeldige keuze"),
    ("contact-name", "", "contact-name", "Vul uw naam in."),
    ("contact-email", "", "contact-email", "Vul uw e-mailadres in."),
    ("contact-email", "anne@", "contact-email", "geldig e-mailadres"),
    ("contact-phone", "bel me", "contact-phone", "geldig telefoonnummer"),
    ("contact-consent_contact", None, "contact-consent_contact", "Geef toestemming"),
]


@pytest.mark.parametrize(("field", "value", "field_id", "message"), INVALID_CASES,
                         ids=[f"{c[0]}={c[1]!r:.12}" for c in INVALID_CASES])
def test_each_rule_is_reported_at_the_field_and_in_the_summary(
    csrf_client, db, field, value, field_id, message
):
    data = form_post(title="Mijn initiatief met een heel eigen naam")
    data[field] = value
    data = {k: v for k, v in data.items() if v is not None}
    response = post_form(csrf_client, data)
    html = response.get_data(as_text=True)

    assert response.status_code == 422
    links = summary_links(html)
    assert any(fid == field_id and message in text for fid, text in links), links
    # the message also stands next to the field, linked for screen readers
    assert f'id="{field_id}-error"' in html
    # what the user typed is kept
    if field != "title":
        assert "Mijn initiatief met een heel eigen naam" in html
    assert count(db, Initiative) == 0
    assert count(db, Organisation) == 0
    assert count(db, Obstacle) == 0
    assert count(db, Contact) == 0


def test_all_dimensions_at_zero_is_refused(csrf_client, db):
    data = form_post()
    for key in list(data):
        if key.startswith("dimensions-") and key.endswith("_level"):
            data[key] = "0"
    response = post_form(csrf_client, data)
    assert response.status_code == 422
    assert ("dimensions", "Geef bij minstens één dimensie een niveau of ambitie hoger dan 0.") \
        in summary_links(response.get_data(as_text=True))
    assert count(db, InitiativeDimension) == 0


def test_workaround_required_when_obstacle_is_worked_around(csrf_client, db):
    response = post_form(csrf_client, form_post(**{"obstacles-0-status": "omzeild"}))
    assert response.status_code == 422
    assert any(fid == "obstacles-0-workaround" for fid, _ in
               summary_links(response.get_data(as_text=True)))


def test_typed_values_survive_an_error_including_obstacles(csrf_client, db):
    data = form_post(obstacles=2, postcode="fout")
    data["obstacles-1-title"] = "Urennorm <knelt>"
    html = post_form(csrf_client, data).get_data(as_text=True)
    assert 'value="fout"' in html
    assert 'value="Urennorm &lt;knelt&gt;"' in html  # kept and escaped
    assert 'value="Anne@Example.org"' in html
    assert re.search(r'<option selected value="diplomeren">', html)


def test_add_obstacle_without_javascript_keeps_everything(csrf_client, db):
    data = form_post(obstacles=1, action="add_obstacle")
    response = post_form(csrf_client, data)
    html = response.get_data(as_text=True)
    assert response.status_code == 200
    assert 'id="obstacles-1"' in html  # a new, empty row
    assert 'value="Knelpunt 1"' in html  # the first row is kept
    assert 'value="Het Baken College"' in html
    assert "data-error-summary" not in html  # not validated yet
    assert count(db, Initiative) == 0

    # the new row can be filled in and the whole form submitted
    data = form_post(obstacles=2)
    assert post_form(csrf_client, data).status_code == 302
    assert count(db, Obstacle) == 2


def test_remove_obstacle_without_javascript(csrf_client, db):
    data = form_post(obstacles=3, action="remove_obstacle:1")
    html = post_form(csrf_client, data).get_data(as_text=True)
    assert 'value="Knelpunt 1"' in html
    assert 'value="Knelpunt 3"' in html
    assert 'value="Knelpunt 2"' not in html
    # submitting after removal stores the two remaining obstacles, in order
    data.pop("obstacles-1-title")
    for key in [k for k in data if k.startswith("obstacles-1-")]:
        data.pop(key)
    data["action"] = "submit"
    assert post_form(csrf_client, data).status_code == 302
    titles = db.session.scalars(select(Obstacle.title).order_by(Obstacle.position)).all()
    assert titles == ["Knelpunt 1", "Knelpunt 3"]


def test_the_last_obstacle_row_cannot_be_removed(csrf_client):
    html = post_form(csrf_client, form_post(obstacles=1, action="remove_obstacle:0")) \
        .get_data(as_text=True)
    assert 'value="Knelpunt 1"' in html


def test_empty_extra_obstacle_rows_are_ignored(csrf_client, db):
    data = form_post(obstacles=1)
    data.update({"obstacles-1-title": "", "obstacles-1-area": "", "obstacles-1-severity": "",
                 "obstacles-1-status": "open"})
    assert post_form(csrf_client, data).status_code == 302
    assert count(db, Obstacle) == 1


def test_no_obstacle_at_all_is_refused(csrf_client, db):
    data = form_post(obstacles=1)
    for key in [k for k in data if k.startswith("obstacles-0-")]:
        data[key] = ""
    response = post_form(csrf_client, data)
    assert response.status_code == 422
    assert "Meld minstens één knelpunt." in response.get_data(as_text=True)


def test_thank_you_page_needs_a_submission(client):
    assert client.get("/aanmelden/bedankt").status_code == 404
