"""Issue 18: an obstacle's area and its theme's area agree. Changing the area (reclassify, the
moderator's edit form, approving a contact's change) unlinks a theme of another area; the
moderator is told and offered the themes of the new area; linking a theme of another area
moves the report to the theme's area. Afterwards the summary's figures per area and per
theme under it agree - checked against plain SQL."""
from __future__ import annotations

from sqlalchemy import select, text
from werkzeug.datastructures import MultiDict

from registry.audit.models import AuditEvent
from registry.extensions import db as _db
from registry.history import services as history
from registry.moderation import services as moderation
from registry.published.filters import InitiativeFilter
from registry.published.sources import PUBLISHED
from registry.submissions.models import Obstacle
from registry.submissions.services import ObstacleData
from registry.summary.services import compute_summary
from tests.factories import make_initiative
from tests.fixtures.auth import csrf_post
from tests.summary import oracle
from tests.summary.oracle import Args


def build():
    kwal = moderation.save_theme(None, moderation.ThemeData(
        area="kwalificeren", title="Starre kwalificatiedossiers"), actor=None)
    kwal2 = moderation.save_theme(None, moderation.ThemeData(
        area="kwalificeren", title="Kerndoelen per jaar"), actor=None)
    exam = moderation.save_theme(None, moderation.ThemeData(
        area="examineren", title="Vaste examenmomenten"), actor=None)
    items = []
    for n in range(3):
        item = make_initiative(commit=False, brin=f"{10 + n}AA", obstacles=[
            ObstacleData(area="examineren", title=f"Examen {n}", severity=3),
            ObstacleData(area="kwalificeren", title=f"Dossier {n}", severity=2)])
        items.append(item)
    _db.session.flush()
    for item in items:
        moderation.link_obstacle(item.obstacles[0], exam, actor=None)
        moderation.link_obstacle(item.obstacles[1], kwal, actor=None)
    _db.session.commit()
    return items, exam, kwal, kwal2


def sql_area_theme_counts() -> tuple[dict[str, int], dict[str, int], int]:
    """Plain SQL over published public reports: reports per area; per area the reports in a
    theme of that area; and reports whose theme belongs to another area."""
    run = _db.session.execute
    base = ("FROM obstacle o JOIN initiative i ON i.id = o.initiative_id "
            "LEFT JOIN theme t ON t.id = o.theme_id "
            "WHERE i.state = 'published' AND o.visibility = 'public'")
    per_area = dict(run(text(f"SELECT o.area_code, count(*) {base} GROUP BY o.area_code")).all())
    in_theme = dict(run(text(f"SELECT t.area_code, count(*) {base} AND t.id IS NOT NULL "
                             "GROUP BY t.area_code")).all())
    crossed = run(text(f"SELECT count(*) {base} AND t.area_code <> o.area_code")).scalar()
    return per_area, in_theme, crossed


def assert_areas_and_themes_agree() -> None:
    summary = compute_summary(InitiativeFilter.empty(), PUBLISHED)
    assert oracle.comparable(summary) == oracle.summary(oracle.load(_db.session), Args())
    per_area, in_theme, crossed = sql_area_theme_counts()
    assert crossed == 0
    for area in summary["areas"]:
        under = [t for t in summary["themes"] if t["area"] == area["code"]]
        assert area["obstacles"] == per_area.get(area["code"], 0)
        assert sum(t["obstacles"] for t in under) == in_theme.get(area["code"], 0)
        assert sum(t["obstacles"] for t in under) <= area["obstacles"], area["code"]
        # filtered on the area, the themes under it are all its themes
        filtered = compute_summary(
            InitiativeFilter.from_args(MultiDict({"area": area["code"]})), PUBLISHED)
        assert [t["id"] for t in filtered["themes"]] == [t["id"] for t in under]
        assert filtered["totals"]["obstacles"] == area["obstacles"]


def test_reclassifying_unlinks_a_theme_of_the_old_area(client, login, db):
    items, exam, kwal, kwal2 = build()
    login(client, "moderator")
    moved = items[0].obstacles[1]  # kwalificeren, theme kwal
    response = csrf_post(client, f"/moderatie/knelpunt/{moved.id}/gebied",
                         {"area": "examineren"})
    assert response.status_code == 302
    assert response.headers["Location"].endswith(f"#theme-{moved.id}")
    db.session.expire_all()
    assert (moved.area_code, moved.theme_id) == ("examineren", None)
    [event] = db.session.scalars(select(AuditEvent).where(
        AuditEvent.action == "obstacle.unlink_theme")).all()
    assert event.before == {"theme": kwal.id}
    page = client.get(response.headers["Location"]).get_data(as_text=True)
    # the moderator is told ...
    assert "losgekoppeld van het thema “Starre kwalificatiedossiers”" in page
    # ... and offered the themes of the new area for this obstacle
    select_html = page.split(f'id="theme-{moved.id}"', 1)[1].split("</select>", 1)[0]
    assert f'value="{exam.id}"' in select_html
    assert f'value="{kwal.id}"' not in select_html
    assert f'value="{kwal2.id}"' not in select_html
    assert_areas_and_themes_agree()
    # "moving" to its own area changes nothing: the theme stays
    kept = items[1].obstacles[0]
    assert moderation.reclassify_obstacle(kept, "examineren", actor=None) is None
    assert kept.theme_id == exam.id


def test_linking_a_theme_of_another_area_moves_the_report_to_that_area(client, login, db):
    items, exam, kwal, _ = build()
    login(client, "moderator")
    obstacle = items[0].obstacles[0]  # examineren, theme exam
    response = csrf_post(client, f"/moderatie/knelpunt/{obstacle.id}/thema",
                         {"theme_id": str(kwal.id)})
    assert response.status_code == 302
    db.session.expire_all()
    assert (obstacle.area_code, obstacle.theme_id) == ("kwalificeren", kwal.id)
    actions = [e.action for e in db.session.scalars(
        select(AuditEvent).where(AuditEvent.target_type == "obstacle",
                                 AuditEvent.target_id == obstacle.id)
        .order_by(AuditEvent.id))]
    assert actions[-3:] == ["obstacle.reclassify", "obstacle.unlink_theme",
                            "obstacle.link_theme"]
    page = client.get(response.headers["Location"]).get_data(as_text=True)
    assert "verplaatst naar Kwalificeren, het gebied van het thema" in page
    assert_areas_and_themes_agree()
    # from the theme page, several at once
    loose = make_initiative(brin="77ZZ", obstacles=[
        ObstacleData(area="examineren", title="Examens in juni", severity=3),
        ObstacleData(area="kwalificeren", title="Dossier", severity=3)])
    response = csrf_post(client, f"/moderatie/themas/{kwal.id}/koppelen",
                         {"obstacle_ids": [str(o.id) for o in loose.obstacles]},
                         follow_redirects=True)
    assert "1 knelpunt(en) stonden in een ander gebied" in response.get_data(as_text=True)
    db.session.expire_all()
    assert {(o.area_code, o.theme_id) for o in loose.obstacles} == {("kwalificeren", kwal.id)}
    assert_areas_and_themes_agree()


def test_the_moderators_edit_form_unlinks_too(app, db, make_user):
    items, exam, kwal, _ = build()
    moderator = make_user("moderator")
    item = items[2]
    data = history.data_from_snapshot(history.snapshot(item), item.language)
    data.obstacles[0].area = "diplomeren"  # was examineren, theme exam
    data.obstacles[1].title = "Dossier (bewerkt)"  # same area: keeps its theme
    unlinked = moderation.edit(item, data, expected_version=item.version_id, actor=moderator)
    db.session.commit()
    assert [(o.id, t.id) for o, t in unlinked] == [(item.obstacles[0].id, exam.id)]
    db.session.expire_all()
    assert item.obstacles[0].theme_id is None
    assert item.obstacles[1].theme_id == kwal.id
    assert_areas_and_themes_agree()


def test_approving_a_contacts_change_of_area_unlinks_too(client, login, db):
    items, exam, kwal, _ = build()
    item = items[1]
    data = history.data_from_snapshot(history.snapshot(item), item.language)
    data.obstacles[1].area = "overig"  # was kwalificeren, theme kwal
    revision = history.propose_revision(item, data, "submitter")
    db.session.commit()
    login(client, "moderator")
    response = csrf_post(
        client, f"/moderatie/{item.id}/revisie/{revision.id}/goedkeuren",
        {"version_id": str(item.version_id)}, follow_redirects=True)
    assert response.status_code == 200
    assert "losgekoppeld van het thema “Starre kwalificatiedossiers”" in (
        response.get_data(as_text=True))
    db.session.expire_all()
    moved = db.session.get(Obstacle, item.obstacles[1].id)
    assert (moved.area_code, moved.theme_id) == ("overig", None)
    assert_areas_and_themes_agree()


def test_a_contacts_own_edit_and_a_theme_moving_area_keep_areas_and_themes_together(app):
    """Two more paths (issue 18): the contact edits an entry that is not yet published and
    moves an obstacle to another area; a moderator moves a theme to another area. Checked
    with plain SQL: no report sits in a theme of another area."""
    from dataclasses import replace as dc_replace

    from sqlalchemy import text as sql

    from registry.extensions import db as _db
    from registry.history import services as history
    from registry.manage.services import submit_edit
    from registry.moderation import services as mod
    from registry.submissions.services import ObstacleData
    from registry.taxonomy.constants import InitiativeState
    from tests.factories import make_initiative

    def mismatches() -> int:
        return _db.session.execute(sql(
            "SELECT count(*) FROM obstacle o JOIN theme t ON t.id = o.theme_id "
            "WHERE t.area_code <> o.area_code")).scalar_one()

    exam = mod.save_theme(None, mod.ThemeData(area="examineren", title="Examens"), actor=None)
    entry = make_initiative(state=InitiativeState.PENDING, obstacles=[
        ObstacleData(area="examineren", title="Vaste momenten", severity=2)])
    mod.link_obstacle(entry.obstacles[0], exam, actor=None)
    _db.session.commit()
    data = history.data_from_snapshot(history.snapshot(entry))
    data.obstacles = [dc_replace(o, area="diplomeren") for o in data.obstacles]
    assert submit_edit(entry, data) == "applied"
    _db.session.commit()
    assert mismatches() == 0
    assert entry.obstacles[0].theme_id is None

    other = make_initiative(obstacles=[ObstacleData(area="examineren", title="B", severity=1)])
    mod.link_obstacle(other.obstacles[0], exam, actor=None)
    _db.session.commit()
    mod.save_theme(exam, mod.ThemeData(area="certificeren", title="Examens"), actor=None)
    _db.session.commit()
    assert mismatches() == 0
    assert (other.obstacles[0].area_code, other.obstacles[0].theme_id) == ("certificeren",
                                                                          exam.id)
