"""Issue 18, the school's side: per obstacle "we want to take part in a pilot or experiment"
(``Obstacle.pilot_interest``) and the contact's consent to be named to OCW in a pilot dossier
(``Contact.consent_name_to_ocw``). Both are opt-in checkboxes; a value a checkbox cannot send
is refused and nothing is stored; the manage page's edit form keeps the choice."""
from __future__ import annotations

import re

from sqlalchemy import func, select, text

from registry.extensions import db as _db
from registry.history.labels import change_label, change_value
from registry.history.services import diff
from registry.manage.services import issue_manage_link
from registry.submissions.models import Initiative
from registry.submissions.services import ObstacleData
from registry.taxonomy.constants import InitiativeState
from tests.factories import form_post, make_initiative
from tests.manage.helpers import edit_form_data, open_manage_link
from tests.submissions.test_views import post_form, summary_links

LABEL = "We willen meedoen aan een pilot of experiment rond dit knelpunt"
CONSENT = ("Onze school mag bij naam genoemd worden aan het ministerie van OCW in een "
           "pilotdossier")
BAD_VALUE = "Deze keuze is niet geldig. Vink het vakje aan of laat het leeg."


def stored(db) -> list[tuple[str, bool]]:
    """(title, pilot_interest) of every stored obstacle, read with plain SQL."""
    return [(title, bool(flag)) for title, flag in db.session.execute(text(
        "SELECT title, pilot_interest FROM obstacle ORDER BY initiative_id, position")).all()]


def stored_consents(db) -> list[bool]:
    return [bool(v) for v in db.session.execute(text(
        "SELECT consent_name_to_ocw FROM contact ORDER BY id")).scalars()]


def checkbox(html: str, name: str) -> str | None:
    """The <input> tag of the checkbox called ``name``."""
    for tag in re.findall(r"<input[^>]*>", html):
        if f'name="{name}"' in tag and 'type="checkbox"' in tag:
            return tag
    return None


# --------------------------------------------------------------------------- the form
def test_each_row_and_the_contact_offer_the_checkbox_unticked(client):
    html = client.get("/aanmelden").get_data(as_text=True)
    tag = checkbox(html, "obstacles-0-pilot_interest")
    assert tag is not None
    assert " checked" not in tag
    assert 'aria-describedby="obstacles-0-pilot_interest-hint"' in tag
    assert f'<label for="obstacles-0-pilot_interest">{LABEL}</label>' in html
    assert "U zegt hiermee nog niets toe." in html
    assert "nooit bij een vertrouwelijk knelpunt" in html
    # the JavaScript template row has it too
    assert checkbox(html, "obstacles-__INDEX__-pilot_interest") is not None
    consent = checkbox(html, "contact-consent_name_to_ocw")
    assert consent is not None
    assert " checked" not in consent
    assert f'<label for="contact-consent_name_to_ocw">{CONSENT}</label>' in html


def test_english_form_has_the_checkboxes_in_english(client):
    html = client.get("/aanmelden?lang=en").get_data(as_text=True)
    assert checkbox(html, "obstacles-0-pilot_interest") is not None
    assert checkbox(html, "contact-consent_name_to_ocw") is not None


def test_ticked_boxes_are_stored(client, db):
    response = post_form(client, form_post(obstacles=2, **{
        "obstacles-1-pilot_interest": "y", "contact-consent_name_to_ocw": "y"}))
    assert response.status_code == 302
    assert stored(db) == [("Knelpunt 1", False), ("Knelpunt 2", True)]
    assert stored_consents(db) == [True]


def test_without_the_boxes_nothing_is_volunteered(client, db):
    response = post_form(client, form_post(obstacles=2))
    assert response.status_code == 302
    assert stored(db) == [("Knelpunt 1", False), ("Knelpunt 2", False)]
    assert stored_consents(db) == [False]


def test_a_value_a_checkbox_cannot_send_is_refused_and_nothing_is_stored(client, db):
    for field in ("obstacles-0-pilot_interest", "contact-consent_name_to_ocw"):
        for bad in ("ja graag", "<script>", "2"):
            response = post_form(client, form_post(**{field: bad}))
            assert response.status_code == 422, (field, bad)
            html = response.get_data(as_text=True)
            assert (field, BAD_VALUE) in summary_links(html)
            assert f'id="{field}-error"' in html
    assert db.session.scalar(select(func.count()).select_from(Initiative)) == 0
    assert stored(db) == []


def test_false_and_empty_values_mean_no(client, db):
    response = post_form(client, form_post(**{"obstacles-0-pilot_interest": "false",
                                              "contact-consent_name_to_ocw": ""}))
    assert response.status_code == 302
    assert stored(db) == [("Knelpunt 1", False)]
    assert stored_consents(db) == [False]


def test_a_row_with_only_the_box_ticked_is_not_dropped_silently(client, db):
    data = form_post(obstacles=1, **{"obstacles-1-pilot_interest": "y"})
    response = post_form(client, data)
    assert response.status_code == 422
    assert ("obstacles-1-title", "Geef het knelpunt een korte titel.") in summary_links(
        response.get_data(as_text=True))
    assert stored(db) == []


# --------------------------------------------------------------------------- history
def test_the_change_is_named_in_the_history(app):
    before = {"obstacles": [{"id": 1, "area": "examineren", "title": "T"}]}  # stored earlier
    unchanged = {"obstacles": [{"id": 1, "area": "examineren", "title": "T",
                                "pilot_interest": False}]}
    assert diff(before, unchanged) == {}
    ticked = {"obstacles": [{"id": 1, "area": "examineren", "title": "T",
                             "pilot_interest": True}]}
    assert diff(unchanged, ticked) == {"obstacles.1.pilot_interest": [False, True]}
    with app.test_request_context():
        # the words the school ticked on the form, after the obstacle's number and title
        assert change_label("obstacles.1.pilot_interest", ticked) == (
            "Knelpunt 1 (\u201cT\u201d): We willen meedoen aan een pilot of experiment rond "
            "dit knelpunt")
        assert change_value("obstacles.1.pilot_interest", True) == "ja"


# --------------------------------------------------------------------------- manage page
def manage(client, entry) -> str:
    """Open a new manage link of ``entry`` in ``client``; the manage page's path."""
    link = issue_manage_link(entry)
    _db.session.commit()
    return open_manage_link(client, link)


def _entry(state):
    return make_initiative(state=state, obstacles=[
        ObstacleData(area="examineren", title="Examens in juni", severity=3,
                     description="Alleen in juni.", pilot_interest=True),
        ObstacleData(area="overig", title="Urennorm", severity=2, description="Uren."),
    ])


def test_the_manage_edit_form_shows_and_keeps_the_choice(csrf_client, db):
    entry = _entry(InitiativeState.PENDING)
    url = manage(csrf_client, entry)
    html = csrf_client.get(f"{url}/bewerken").get_data(as_text=True)
    assert " checked" in checkbox(html, "obstacles-0-pilot_interest")
    assert " checked" not in checkbox(html, "obstacles-1-pilot_interest")
    # an edit of something else keeps it
    data = edit_form_data(csrf_client, url, title="Een nieuwe naam")
    assert data["obstacles-0-pilot_interest"] == "y"
    response = csrf_client.post(f"{url}/bewerken", data=data)
    assert response.status_code == 302, response.get_data(as_text=True)[:3000]
    assert stored(db) == [("Examens in juni", True), ("Urennorm", False)]
    # unticking one and ticking the other is stored too
    data = edit_form_data(csrf_client, url, **{"obstacles-0-pilot_interest": None,
                                          "obstacles-1-pilot_interest": "y"})
    assert csrf_client.post(f"{url}/bewerken", data=data).status_code == 302
    assert stored(db) == [("Examens in juni", False), ("Urennorm", True)]


def test_the_manage_edit_of_a_published_entry_carries_it_in_the_proposal(csrf_client, db):
    from registry.history.services import approve_revision, pending_revision

    entry = _entry(InitiativeState.PUBLISHED)
    url = manage(csrf_client, entry)
    data = edit_form_data(csrf_client, url, **{"obstacles-1-pilot_interest": "y"})
    assert csrf_client.post(f"{url}/bewerken", data=data).status_code == 302
    assert stored(db) == [("Examens in juni", True), ("Urennorm", False)]  # waits
    revision = pending_revision(_db.session.get(Initiative, entry.id))
    assert revision is not None
    assert revision.changes == {f"obstacles.{entry.obstacles[1].id}.pilot_interest":
                                [False, True]}
    approve_revision(revision, None)
    _db.session.commit()
    assert stored(db) == [("Examens in juni", True), ("Urennorm", True)]


def test_a_bad_value_on_the_manage_page_stores_nothing(csrf_client, db):
    entry = _entry(InitiativeState.PENDING)
    url = manage(csrf_client, entry)
    data = edit_form_data(csrf_client, url, title="Anders",
                     **{"obstacles-1-pilot_interest": "misschien"})
    response = csrf_client.post(f"{url}/bewerken", data=data)
    assert response.status_code == 422
    assert BAD_VALUE in response.get_data(as_text=True)
    assert stored(db) == [("Examens in juni", True), ("Urennorm", False)]
    assert _db.session.get(Initiative, entry.id).title != "Anders"
