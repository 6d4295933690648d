"""Without JavaScript: numbered obstacle rows, landing on the row a button added or removed,
and the steps of the form (issue 19). Read with the standard library's HTML parser."""
from __future__ import annotations

from werkzeug.datastructures import MultiDict

from tests.factories import form_post
from tests.submissions.formparse import parse


def _post(client, obstacles: int, action: str):
    form = parse(client.get("/aanmelden").get_data(as_text=True)).form("submission-form")
    data = form_post(obstacles=obstacles, csrf_token=form.data()["csrf_token"])
    data["action"] = action
    return client.post("/aanmelden", data=MultiDict(list(data.items())))


def _row_legends(page) -> list[tuple[str, str]]:
    return [(i, page.text(i)) for i in page.ids if i.startswith("knelpunt-")]


def test_rows_are_numbered_and_adding_lands_on_the_new_row(client):
    page = parse(client.get("/aanmelden").get_data(as_text=True))
    assert _row_legends(page) == [("knelpunt-1", "Knelpunt 1")]
    add = page.form("submission-form").button("add_obstacle")
    assert add.formaction == "#knelpunt-2"  # where the page lands after the post

    response = _post(client, 2, "add_obstacle")
    assert response.status_code == 200
    page = parse(response.get_data(as_text=True))
    assert _row_legends(page) == [("knelpunt-1", "Knelpunt 1"), ("knelpunt-2", "Knelpunt 2"),
                                  ("knelpunt-3", "Knelpunt 3")]
    # the anchor is in the new (empty) row, and the next add lands on the row after it
    ids = page.ids
    assert ids.index("obstacles-2") < ids.index("knelpunt-3") < ids.index("obstacles-2-area")
    form = page.form("submission-form")
    assert form.data()["obstacles-2-title"] == ""
    assert form.button("add_obstacle").formaction == "#knelpunt-4"
    # each remove button lands on the row before the removed one (or on the first)
    removes = [b.formaction for b in form.buttons if b.value.startswith("remove_obstacle:")]
    assert removes == ["#knelpunt-1", "#knelpunt-1", "#knelpunt-2"]


def test_removing_a_row_renumbers_the_rest(client):
    response = _post(client, 3, "remove_obstacle:1")
    page = parse(response.get_data(as_text=True))
    assert _row_legends(page) == [("knelpunt-1", "Knelpunt 1"), ("knelpunt-2", "Knelpunt 2")]
    data = page.form("submission-form").data()
    assert [data["obstacles-0-title"], data["obstacles-2-title"]] == ["Knelpunt 1", "Knelpunt 3"]
    assert "obstacles-1-title" not in data


def test_the_form_shows_its_five_steps(client):
    page = parse(client.get("/aanmelden").get_data(as_text=True))
    steps = [(i, page.text(i)) for i in page.ids if i.startswith("stap-")]
    assert steps == [("stap-1", "Stap 1 van 5 De school"),
                     ("stap-2", "Stap 2 van 5 Het initiatief"),
                     ("stap-3", "Stap 3 van 5 Dimensies van personalisering"),
                     ("stap-4", "Stap 4 van 5 Knelpunten"),
                     ("stap-5", "Stap 5 van 5 Contactpersoon")]
    html = client.get("/aanmelden").get_data(as_text=True)
    nav = html[html.index("data-form-steps"):html.index("</nav>", html.index("data-form-steps"))]
    for number in range(1, 6):
        assert f'href="#stap-{number}"' in nav


def test_enter_in_a_field_checks_the_answers(client):
    """The form's first submit button (the one Enter presses) checks; it does not remove a
    row."""
    form = parse(client.get("/aanmelden").get_data(as_text=True)).form("submission-form")
    first = form.buttons[0]
    assert (first.value, first.hidden) == ("check", True)
