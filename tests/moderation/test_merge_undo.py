"""Merging keeps everything (issue 19): the merge raises both versions (a stale edit form is
refused, nothing merged is lost), is recorded as one operation and can be undone from the
history, exactly; "not a duplicate" can be reverted and the queue's tag follows the decision;
bulk publishing asks first for likely duplicates; the merged entry's manage page says where
the entry lives now.

Oracles: plain SQL dumps of the rows (not the services' own snapshots), the HTML as a
browser gets it (parsed with the standard library's HTMLParser)."""
from __future__ import annotations

from html.parser import HTMLParser

import pytest
from sqlalchemy import text

from registry.manage.services import issue_manage_link
from registry.moderation import duplicates
from registry.moderation.models import Theme
from registry.submissions.services import ObstacleData
from registry.taxonomy.constants import InitiativeState
from tests.factories import DIMENSION_CODES, make_initiative
from tests.fixtures.auth import csrf_post
from tests.manage.helpers import edit_form_data, open_manage_link

PENDING, PUBLISHED = InitiativeState.PENDING, InitiativeState.PUBLISHED
IGNORED = {"version_id", "updated_at"}


# --- oracles -----------------------------------------------------------------------------

def rows(db, sql: str, **params) -> list[dict]:
    """Rows as plain dicts, straight from SQL, without the columns an undo may move on."""
    return [{k: v for k, v in row.items() if k not in IGNORED}
            for row in db.session.execute(text(sql), params).mappings()]


def dump(db, ids: tuple[int, int]) -> dict[str, list[dict]]:
    """Everything a merge of these two entries touches, as stored."""
    p = {"a": ids[0], "b": ids[1]}
    return {
        "initiative": rows(db, "SELECT * FROM initiative WHERE id IN (:a, :b) ORDER BY id", **p),
        "organisation": rows(db, "SELECT * FROM organisation WHERE id IN (SELECT "
                                 "organisation_id FROM initiative WHERE id IN (:a, :b)) "
                                 "ORDER BY id", **p),
        "dimension": rows(db, "SELECT * FROM initiative_dimension WHERE initiative_id IN "
                              "(:a, :b) ORDER BY id", **p),
        "obstacle": rows(db, "SELECT * FROM obstacle WHERE initiative_id IN (:a, :b) "
                             "ORDER BY id", **p),
        "flag": rows(db, "SELECT * FROM duplicate_flag WHERE first_id IN (:a, :b) OR "
                         "second_id IN (:a, :b) ORDER BY id", **p),
        "contact": rows(db, "SELECT * FROM contact WHERE initiative_id IN (:a, :b) "
                            "ORDER BY id", **p),
    }


def scalar(db, sql: str, **params):
    return db.session.execute(text(sql), params).scalar()


class Page(HTMLParser):
    """The forms of a page (action, inputs) and the elements carrying a data attribute."""

    def __init__(self, html: str):
        super().__init__()
        self.forms: list[dict] = []
        self.marked: list[dict] = []
        self.links: list[str] = []
        self.feed(html)

    def handle_starttag(self, tag, attrs):
        attrs = dict(attrs)
        if tag == "form":
            self.forms.append({"action": attrs.get("action"), "inputs": []})
        elif tag in ("input", "button") and self.forms:
            self.forms[-1]["inputs"].append(attrs)
        if tag == "input":
            self.marked.append(attrs)
        if tag == "a" and attrs.get("href"):
            self.links.append(attrs["href"])
        if any(k.startswith("data-") for k in attrs) and tag != "input":
            self.marked.append({"tag": tag, **attrs})

    def form(self, action_part: str) -> dict:
        [found] = [f for f in self.forms if action_part in (f["action"] or "")]
        return found

    def fields(self, action_part: str) -> dict[str, list[str]]:
        out: dict[str, list[str]] = {}
        for attrs in self.form(action_part)["inputs"]:
            if attrs.get("name") and attrs.get("type") == "hidden":
                out.setdefault(attrs["name"], []).append(attrs.get("value") or "")
        return out


def queue_tags(client, state: str = "pending") -> set[str]:
    """The references the queue tags "mogelijk dubbel" (one table row per entry)."""
    html = client.get(f"/moderatie/?state={state}").get_data(as_text=True)
    tagged = set()
    for row in html.split("<tr>")[1:]:
        if "tag-warning" in row and "mogelijk dubbel" in row:
            ref = row.split('<span class="hint">', 1)[1].split("<", 1)[0]
            tagged.add(ref)
    return tagged


def obstacle(title, area="examineren", **kw):
    return ObstacleData(area=area, title=title, severity=3, description=f"Over {title}", **kw)


def duplicate_pair(db, keep_state=PUBLISHED, other_state=PUBLISHED):
    """Two entries of one school, flagged as likely duplicates (an open flag)."""
    keep = make_initiative(state=keep_state, school_name="Het Baken College", brin="25LH",
                           postcode="3511 AB", title="Leerroute op maat", learners_count=30,
                           obstacles=[obstacle("Vaste examenmomenten"),
                                      obstacle("Geen deeldiploma", area="diplomeren")])
    other = make_initiative(state=other_state, school_name="Baken College Utrecht",
                            brin="25LH", postcode="3511 AB", title="Leerroute op maat",
                            learners_count=45,
                            obstacles=[obstacle("Teldatum", area="overig"),
                                       obstacle("Geen deelcertificaten", area="certificeren",
                                                visibility="confidential")],
                            dimensions={code: (3 if code == "tempo" else 0, 3)
                                        for code in DIMENSION_CODES})
    duplicates.flag_duplicates(other)
    db.session.commit()
    return keep, other


def merge_post(client, keep, other, **fields):
    return csrf_post(client, f"/moderatie/{keep.id}/samenvoegen/{other.id}", {
        "version_id": keep.version_id, "other_version_id": other.version_id,
        **{f"field-{name}": "other" for name in fields}})


def undo_form(client, entry_id: int) -> tuple[str, dict]:
    page = Page(client.get(f"/moderatie/{entry_id}").get_data(as_text=True))
    form = page.form("/ongedaan-maken")
    return form["action"], {k: v[0] for k, v in page.fields("/ongedaan-maken").items()}


# --- the merge race ----------------------------------------------------------------------

def test_stale_edit_form_after_a_merge_gets_409_and_the_merge_stays(client, login, db):
    """The merge changes nothing the initiative row holds (a field of the school, a
    confidential obstacle, a dimension level): its version still goes up."""
    login(client, "moderator")
    keep = make_initiative(brin="25LH", postcode="3511 AB", title="Leerroute")
    other = make_initiative(brin="25LH", postcode="3511 AB", title="Leerroute",
                            obstacles=[obstacle("Vertrouwelijk knelpunt",
                                                visibility="confidential")],
                            dimensions={code: (3, 3) for code in DIMENSION_CODES})
    db.session.execute(text("UPDATE organisation SET website = 'https://baken.example' "
                            "WHERE id = :o"), {"o": other.organisation_id})
    db.session.commit()
    version_before = scalar(db, "SELECT version_id FROM initiative WHERE id = :k", k=keep.id)
    form = edit_form_data(client, f"/moderatie/{keep.id}", title="Opgeslagen over de merge")
    assert form["version_id"] == str(version_before)
    moved = scalar(db, "SELECT id FROM obstacle WHERE initiative_id = :o", o=other.id)
    assert merge_post(client, keep, other, website=True).status_code == 302
    assert scalar(db, "SELECT version_id FROM initiative WHERE id = :k",
                  k=keep.id) > version_before

    response = csrf_post(client, f"/moderatie/{keep.id}/bewerken", form)
    assert response.status_code == 409
    assert "Iemand anders heeft deze aanmelding intussen gewijzigd" in response.get_data(
        as_text=True)
    # the merged data is intact: the field taken over, the moved obstacle, the levels
    assert scalar(db, "SELECT o.website FROM organisation o JOIN initiative i ON "
                      "i.organisation_id = o.id WHERE i.id = :k",
                  k=keep.id) == "https://baken.example"
    assert scalar(db, "SELECT initiative_id FROM obstacle WHERE id = :m", m=moved) == keep.id
    assert scalar(db, "SELECT min(current_level) FROM initiative_dimension WHERE "
                      "initiative_id = :k", k=keep.id) == 3
    assert scalar(db, "SELECT title FROM initiative WHERE id = :k", k=keep.id) == "Leerroute"


def test_contact_edit_form_opened_before_a_merge_is_refused(client, login, db):
    """The kept entry's contact had the edit form open (a pending entry applies edits
    directly): saving it would delete the moved obstacles, so it is refused."""
    keep, other = duplicate_pair(db, keep_state=PENDING, other_state=PENDING)
    contact = client.application.test_client()
    link = issue_manage_link(keep)
    db.session.commit()
    url = open_manage_link(contact, link)
    form = edit_form_data(contact, url, title="Van de school")
    assert form["version_id"]
    login(client, "moderator")
    assert merge_post(client, keep, other).status_code == 302
    response = contact.post("/beheren/bewerken", data=form)
    assert response.status_code == 409
    assert "data-stale" in response.get_data(as_text=True)
    assert scalar(db, "SELECT count(*) FROM obstacle WHERE initiative_id = :k",
                  k=keep.id) == 4
    assert scalar(db, "SELECT title FROM initiative WHERE id = :k",
                  k=keep.id) == "Leerroute op maat"


# --- undo --------------------------------------------------------------------------------

@pytest.mark.parametrize("other_state", [PUBLISHED, PENDING])
def test_undo_restores_both_entries_exactly(client, login, db, other_state):
    user = login(client, "moderator")
    keep, other = duplicate_pair(db, other_state=other_state)
    theme = Theme(area_code="overig", title="Teldata")
    db.session.add(theme)
    db.session.flush()
    db.session.execute(text("UPDATE obstacle SET theme_id = :t WHERE initiative_id = :o AND "
                            "area_code = 'overig'"), {"t": theme.id, "o": other.id})
    db.session.commit()
    ids = (keep.id, other.id)
    before = dump(db, ids)
    versions = dict(db.session.execute(text("SELECT id, version_id FROM initiative WHERE id "
                                            "IN (:a, :b)"), {"a": ids[0], "b": ids[1]}).all())
    listed = f'href="/initiatieven/{other.id}"'
    assert (listed in client.get("/initiatieven").get_data(as_text=True)) == (
        other_state == PUBLISHED)

    page = client.get(f"/moderatie/{keep.id}/samenvoegen/{other.id}").get_data(as_text=True)
    assert "ongedaan maken" in page
    assert "contactpersoon" in page
    assert merge_post(client, keep, other, school_name=True, postcode=True, title=True,
                      learners_count=True).status_code == 302
    merged = dump(db, ids)
    assert merged != before
    assert [r["state"] for r in merged["initiative"]] == ["published", "merged"]
    assert before["initiative"][1]["state"] == other_state
    assert {r["initiative_id"] for r in merged["obstacle"]} == {keep.id}
    merged_versions = dict(db.session.execute(text(
        "SELECT id, version_id FROM initiative WHERE id IN (:a, :b)"),
        {"a": ids[0], "b": ids[1]}).all())
    assert all(merged_versions[i] > versions[i] for i in ids)
    assert listed not in client.get("/initiatieven").get_data(as_text=True)

    # the merged entry's history shows the merge too, with the same button
    action, data = undo_form(client, other.id)
    assert data["back"] == "merged"
    action, data = undo_form(client, keep.id)
    response = csrf_post(client, action, data)
    assert response.status_code == 302
    assert dump(db, ids) == before  # every row as it was, byte for byte
    after_versions = dict(db.session.execute(text(
        "SELECT id, version_id FROM initiative WHERE id IN (:a, :b)"),
        {"a": ids[0], "b": ids[1]}).all())
    assert all(after_versions[i] > merged_versions[i] for i in ids)
    # recorded: the operation, the history of both, the audit log of both
    assert rows(db, "SELECT undone_by_id FROM merge_operation") == [{"undone_by_id": user.id}]
    assert sorted(r["initiative_id"] for r in rows(
        db, "SELECT initiative_id FROM revision WHERE kind = 'unmerge'")) == sorted(ids)
    assert sorted(r["target_id"] for r in rows(
        db, "SELECT target_id FROM audit_event WHERE action = 'initiative.merge_undo'")) == \
        sorted(ids)
    # public again if it was (caches follow), and the pair waits for a decision again
    assert (listed in client.get("/initiatieven").get_data(as_text=True)) == (
        other_state == PUBLISHED)
    html = client.get(f"/moderatie/{keep.id}").get_data(as_text=True)
    assert f'data-duplicate="{other.id}"' in html
    assert "Ongedaan gemaakt op" in html
    # an undone merge cannot be undone twice
    again = csrf_post(client, action, data, follow_redirects=True)
    assert "al ongedaan gemaakt" in again.get_data(as_text=True)


def test_merge_waits_for_a_proposed_change(client, login, db):
    """A proposal stored before the merge would, once approved, drop the moved obstacles:
    the moderator decides on it first."""
    login(client, "moderator")
    keep, other = duplicate_pair(db)
    contact = client.application.test_client()
    link = issue_manage_link(keep)
    db.session.commit()
    url = open_manage_link(contact, link)
    assert contact.post(f"{url}/bewerken", data=edit_form_data(
        contact, url, title="Voorstel van de school")).status_code == 302
    response = merge_post(client, keep, other)
    assert response.status_code == 422
    assert "voorgestelde wijziging" in response.get_data(as_text=True)
    assert rows(db, "SELECT state FROM initiative ORDER BY id") == [{"state": "published"}] * 2
    assert scalar(db, "SELECT count(*) FROM merge_operation") == 0


def test_undo_is_refused_when_a_moved_obstacle_changed_since(client, login, db):
    login(client, "admin")
    keep, other = duplicate_pair(db)
    assert merge_post(client, keep, other).status_code == 302
    action, data = undo_form(client, keep.id)
    # a moderator edits one moved obstacle and deletes the other (through the edit form)
    form = edit_form_data(client, f"/moderatie/{keep.id}")
    titles = {k: v for k, v in form.items() if k.endswith("-title") and k.startswith("obst")}
    edited = next(k for k, v in titles.items() if v == "Teldatum")
    form[edited] = "Teldatum (aangepast)"
    deleted = next(k for k, v in titles.items() if v == "Geen deelcertificaten")
    prefix = deleted.removesuffix("-title")
    form = {k: v for k, v in form.items() if not k.startswith(prefix + "-")}
    assert csrf_post(client, f"/moderatie/{keep.id}/bewerken", form).status_code == 302

    html = client.get(f"/moderatie/{keep.id}").get_data(as_text=True)
    assert "data-undo-blocked" in html
    assert "‘Teldatum’ is na het samenvoegen bewerkt" in html
    assert "‘Geen deelcertificaten’ is na het samenvoegen verwijderd" in html
    before = dump(db, (keep.id, other.id))
    response = csrf_post(client, action, data, follow_redirects=True)
    assert "Ongedaan maken kan niet: Het knelpunt ‘Teldatum’" in response.get_data(
        as_text=True)
    assert dump(db, (keep.id, other.id)) == before
    assert scalar(db, "SELECT state FROM initiative WHERE id = :o", o=other.id) == "merged"


def test_undo_and_revert_routes_are_for_moderators_only(client, make_user, login, db):
    keep, other = duplicate_pair(db)
    moderator = client.application.test_client()
    login(moderator, "moderator")
    assert merge_post(moderator, keep, other).status_code == 302
    action, data = undo_form(moderator, keep.id)
    first, second = make_initiative(brin="11AA"), make_initiative(brin="22BB")
    duplicates.mark_not_duplicate(first, second, actor=None)
    db.session.commit()
    revert = f"/moderatie/{first.id}/geen-dubbele/{second.id}/terugdraaien"

    anonymous = client.application.test_client()
    for url in (action, revert):
        response = csrf_post(anonymous, url, data)
        assert response.status_code == 302
        assert "/login" in response.headers["Location"]
    advisor = client.application.test_client()
    login(advisor, "advisor")
    for url in (action, revert):
        assert csrf_post(advisor, url, data).status_code == 403
    assert scalar(db, "SELECT state FROM initiative WHERE id = :o", o=other.id) == "merged"
    assert scalar(db, "SELECT count(*) FROM merge_operation WHERE undone_at IS NULL") == 1
    assert scalar(db, "SELECT status FROM duplicate_flag WHERE first_id = :a",
                  a=min(first.id, second.id)) == "not_duplicate"


# --- "not a duplicate" and the queue's tag -------------------------------------------------

def test_not_duplicate_can_be_reverted_and_the_tag_follows(client, login, db):
    login(client, "moderator")
    keep, other = duplicate_pair(db, keep_state=PENDING, other_state=PENDING)
    lone = make_initiative(state=PENDING, brin="99ZZ", postcode="9999 ZZ",
                           school_name="Noorderlicht", title="Tuinproject")
    assert queue_tags(client) == {keep.reference, other.reference}

    assert csrf_post(client, f"/moderatie/{keep.id}/geen-dubbele/{other.id}").status_code == 302
    assert queue_tags(client) == set()
    html = client.get(f"/moderatie/{other.id}").get_data(as_text=True)
    assert f'data-duplicate="{keep.id}"' not in html
    page = Page(client.get(f"/moderatie/{keep.id}").get_data(as_text=True))
    assert page.form(f"/geen-dubbele/{other.id}/terugdraaien")

    response = csrf_post(client, f"/moderatie/{keep.id}/geen-dubbele/{other.id}/terugdraaien")
    assert response.status_code == 302
    assert queue_tags(client) == {keep.reference, other.reference}
    assert f'data-duplicate="{keep.id}"' in client.get(f"/moderatie/{other.id}").get_data(
        as_text=True)
    assert rows(db, "SELECT status, decided_at, decided_by_id FROM duplicate_flag") == [
        {"status": "open", "decided_at": None, "decided_by_id": None}]
    assert scalar(db, "SELECT count(*) FROM audit_event WHERE action = "
                      "'duplicate.not_duplicate_revert'") == 1
    # a flag whose other entry left the active states is no tag (nothing left to decide)
    db.session.execute(text("UPDATE initiative SET state = 'withdrawn' WHERE id = :o"),
                       {"o": other.id})
    db.session.commit()
    assert queue_tags(client, "all") == set()
    assert lone.reference not in queue_tags(client)


# --- bulk ----------------------------------------------------------------------------------

def test_bulk_select_all_and_the_duplicate_warning(client, login, db):
    login(client, "moderator")
    keep, other = duplicate_pair(db, keep_state=PUBLISHED, other_state=PENDING)
    lone = make_initiative(state=PENDING, brin="99ZZ", postcode="9999 ZZ",
                           school_name="Noorderlicht", title="Tuinproject")

    def boxes(url):
        page = Page(client.get(url).get_data(as_text=True))
        return {m["value"]: "checked" in m for m in page.marked
                if m.get("name") == "ids"}, page

    plain, page = boxes("/moderatie/")
    assert plain == {str(other.id): False, str(lone.id): False}
    assert any("data-select-all" in m for m in page.marked)  # the JS checkbox
    assert "/moderatie/?select=all" in page.links  # without JS
    selected, _page = boxes("/moderatie/?select=all")
    assert selected == {str(other.id): True, str(lone.id): True}

    response = csrf_post(client, "/moderatie/bulk", {"bulk_action": "publish",
                                                    "ids": [other.id, lone.id]})
    assert response.status_code == 200  # a question, nothing published yet
    confirm = Page(response.get_data(as_text=True))
    listed = [m for m in confirm.marked if "data-likely-duplicate" in m]
    assert [m["data-likely-duplicate"] for m in listed] == [str(other.id)]
    assert f"/moderatie/{keep.id}" in confirm.links
    assert "/moderatie/" in confirm.links
    assert rows(db, "SELECT state FROM initiative WHERE id IN (:a, :b)", a=other.id,
                b=lone.id) == [{"state": "pending"}] * 2

    forms = [f for f in confirm.forms if f["action"] == "/moderatie/bulk"]
    assert len(forms) == 2
    only_others = {i["name"]: i.get("value") for i in forms[1]["inputs"] if i.get("name")}
    ids_only = [i["value"] for i in forms[1]["inputs"] if i.get("name") == "ids"]
    assert ids_only == [str(lone.id)]
    csrf_post(client, "/moderatie/bulk", {**only_others, "ids": ids_only})
    assert scalar(db, "SELECT state FROM initiative WHERE id = :i", i=lone.id) == "published"
    assert scalar(db, "SELECT state FROM initiative WHERE id = :i", i=other.id) == "pending"

    anyway = [i["value"] for i in forms[0]["inputs"] if i.get("name") == "ids"]
    assert sorted(anyway) == sorted([str(other.id), str(lone.id)])
    assert any(i.get("value") == "1" and i.get("name") == "confirm_duplicates"
               for i in forms[0]["inputs"])
    response = csrf_post(client, "/moderatie/bulk", {"bulk_action": "publish",
                                                    "confirm_duplicates": "1",
                                                    "ids": [other.id]})
    assert response.status_code == 302
    assert scalar(db, "SELECT state FROM initiative WHERE id = :i", i=other.id) == "published"


# --- the merged entry's manage page --------------------------------------------------------

@pytest.mark.parametrize("kept_state", [PUBLISHED, PENDING])
def test_manage_page_of_a_merged_entry_says_where_it_lives(client, login, db, kept_state):
    keep, other = duplicate_pair(db, keep_state=kept_state, other_state=PENDING)
    moderator = client.application.test_client()
    login(moderator, "moderator")
    assert merge_post(moderator, keep, other).status_code == 302
    link = issue_manage_link(other)
    db.session.commit()
    html = client.get(open_manage_link(client, link)).get_data(as_text=True)
    page = Page(html)
    [notice] = [m for m in page.marked if "data-merged-into" in m]
    assert notice["data-merged-into"] == str(keep.id)
    assert keep.reference in html
    public = f"/initiatieven/{keep.id}"
    assert (public in page.links) == (kept_state == PUBLISHED)
    if kept_state == PUBLISHED:
        assert client.get(public).status_code == 200
    # no more changes to a merged entry: no edit or withdraw, the edit page sends back
    assert "/beheren/bewerken" not in page.links
    assert "/beheren/intrekken" not in page.links
    assert client.get("/beheren/bewerken").status_code == 302
