"""Duplicates (flag, merge, not a duplicate) and curated themes (knelpunten)."""
from __future__ import annotations

from sqlalchemy import select

from registry.audit.models import AuditEvent
from registry.history.models import Revision
from registry.manage.services import confirm_initiative
from registry.moderation import duplicates, services
from registry.moderation.models import DuplicateFlag, Theme
from registry.submissions.models import Initiative, Obstacle
from registry.submissions.services import ObstacleData
from registry.taxonomy.constants import InitiativeState
from tests.factories import make_initiative
from tests.fixtures.auth import csrf_post

PENDING = InitiativeState.PENDING


def obstacle(title, description="", area="examineren"):
    return ObstacleData(area=area, title=title, severity=3, description=description)


def audit(db, action):
    return db.session.scalars(select(AuditEvent).where(AuditEvent.action == action)).all()


def test_duplicate_signals(app, db):
    base = make_initiative(school_name="Het Baken College", brin="25LH", postcode="3511 AB",
                           title="Eigen leerroute met coach")
    same_brin = make_initiative(state=PENDING, school_name="Anders", brin="25LH",
                                postcode="9999 ZZ", title="Iets heel anders")
    same_postcode = make_initiative(state=PENDING, school_name="Buurschool", brin="11XX",
                                    postcode="3511AB", title="Ander project")
    similar_names = make_initiative(state=PENDING, school_name="Baken College, Het",
                                    brin="12YY", postcode="1234 CD",
                                    title="Eigen leerroute met een coach")
    unrelated = make_initiative(state=PENDING, school_name="Noorderlicht", brin="13ZZ",
                                postcode="9700 AA", title="Tuinproject")
    found = {c.initiative.id: c.reasons for c in duplicates.find_duplicates(base)}
    assert found[same_brin.id] == ["brin_location"]
    assert found[same_postcode.id] == ["postcode"]
    assert found[similar_names.id] == ["names"]
    assert unrelated.id not in found


def test_duplicate_scores_equal_a_row_by_row_loop(app, db, monkeypatch):
    """The names are scored in bulk (rapidfuzz.process.cdist, issue 20), a batch of entries
    at a time; the oracle scores every other entry one by one with fuzz.token_set_ratio, as
    the signals are defined."""
    from rapidfuzz import fuzz

    schools = ["Het Baken College", "Baken College", "Baken Colege, Het", "Het Baken",
               "Noorderlicht", "College Het Baken", "Bakens", "het baken college"]
    titles = ["Eigen leerroute met coach", "Eigen leerroute met een coach", "Leerroute",
              "Coach en eigen leerroute", "Tuinproject", "eigen LEERROUTE met coach"]
    base = make_initiative(school_name=schools[0], brin="25LH", postcode="3511 AB",
                           title=titles[0])
    others = [make_initiative(state=PENDING, school_name=schools[k % len(schools)],
                              brin="25LH" if k % 7 == 0 else f"{k:02d}QQ",
                              postcode="3511AB" if k % 5 == 0 else f"{1000 + k} ZZ",
                              title=titles[k % len(titles)]) for k in range(1, 31)]
    expected = {}
    for other in others:
        school = fuzz.token_set_ratio(base.organisation.name.lower(),
                                      other.organisation.name.lower())
        title = fuzz.token_set_ratio(base.title.lower(), other.title.lower())
        reasons = [name for name, hit in (
            ("brin_location", other.organisation.brin == "25LH"),
            ("postcode", other.organisation.postcode.replace(" ", "") == "3511AB"),
            ("names", school >= duplicates.NAME_THRESHOLD
             and title >= duplicates.TITLE_THRESHOLD)) if hit]
        if reasons:
            expected[other.id] = (reasons, round(max(school, title) / 100 + len(reasons), 3))
    found = {c.initiative.id: (c.reasons, c.score) for c in duplicates.find_duplicates(base)}
    assert found == expected
    assert any("names" in reasons for reasons, _ in expected.values())
    monkeypatch.setattr(duplicates, "BATCH_SIZE", 4)  # eight batches, the last one short
    found = {c.initiative.id: (c.reasons, c.score) for c in duplicates.find_duplicates(base)}
    assert found == expected


def test_flags_are_shown_and_can_be_dismissed(client, login, db):
    login(client, "moderator")
    first = make_initiative(brin="25LH", postcode="3511 AB")
    second = make_initiative(state=InitiativeState.UNCONFIRMED, brin="25LH", postcode="3511 AB")
    assert db.session.scalar(select(DuplicateFlag)) is None
    confirm_initiative(second)  # the entry arrives in the queue: flagged then, not on a GET
    db.session.commit()
    queue = client.get("/moderatie/").get_data(as_text=True)
    assert "mogelijk dubbel" in queue
    html = client.get(f"/moderatie/{second.id}").get_data(as_text=True)
    assert f'data-duplicate="{first.id}"' in html
    assert "zelfde instellingscode en vestiging" in html
    response = csrf_post(client, f"/moderatie/{second.id}/geen-dubbele/{first.id}")
    assert response.status_code == 302
    html = client.get(f"/moderatie/{second.id}").get_data(as_text=True)
    assert f'data-duplicate="{first.id}"' not in html
    flag = db.session.scalar(select(DuplicateFlag))
    assert flag.status == "not_duplicate"
    assert audit(db, "duplicate.not_duplicate")
    # flagging again does not reopen a decision
    duplicates.flag_duplicates(second)
    assert db.session.scalar(select(DuplicateFlag)).status == "not_duplicate"


def test_merge_keeps_obstacles_histories_and_chosen_fields(client, login, db):
    user = login(client, "moderator")
    keep = make_initiative(brin="25LH", postcode="3511 AB", title="Leerroute",
                           learners_count=30,
                           obstacles=[obstacle("Vaste examenmomenten")])
    other = make_initiative(state=PENDING, brin="25LH", postcode="3511 AB",
                            title="Leerroute op maat", learners_count=45,
                            obstacles=[obstacle("Teldatum", area="overig"),
                                       obstacle("Geen deelcertificaten", area="certificeren")])
    page = client.get(f"/moderatie/{keep.id}/samenvoegen/{other.id}")
    assert page.status_code == 200
    html = page.get_data(as_text=True)
    assert 'name="field-title"' in html
    assert 'name="field-learners_count"' in html
    assert 'name="field-brin"' not in html  # equal fields are not asked
    response = csrf_post(client, f"/moderatie/{keep.id}/samenvoegen/{other.id}", {
        "version_id": keep.version_id, "field-title": "keep", "field-learners_count": "other",
    })
    assert response.status_code == 302
    db.session.expire_all()
    keep, other = db.session.get(Initiative, keep.id), db.session.get(Initiative, other.id)
    assert keep.title == "Leerroute"
    assert keep.learners_count == 45
    assert sorted(o.title for o in keep.obstacles) == [
        "Geen deelcertificaten", "Teldatum", "Vaste examenmomenten"]
    assert other.obstacles == []
    assert other.state == InitiativeState.MERGED
    assert other.contact is not None  # the other entry's personal data is not copied around
    flag = db.session.scalar(select(DuplicateFlag))
    assert flag.status == "merged"
    assert flag.kept_id == keep.id
    # both histories remain and are shown on the kept entry
    kinds = {(r.initiative_id, r.kind) for r in db.session.scalars(select(Revision))}
    assert (keep.id, "merge") in kinds
    assert (other.id, "merged") in kinds
    html = client.get(f"/moderatie/{keep.id}").get_data(as_text=True)
    assert other.reference in html
    [event] = audit(db, "initiative.merge")
    assert event.actor_id == user.id
    assert event.after["fields_from_other"] == {"learners_count": 45}
    # the merged entry is not public and points to the kept one
    assert other.title not in client.get("/initiatieven").get_data(as_text=True)
    assert keep.reference in client.get(f"/moderatie/{other.id}").get_data(as_text=True)


def test_merge_from_a_stale_page_is_refused(client, login, db):
    login(client, "moderator")
    keep = make_initiative(brin="25LH", postcode="3511 AB")
    other = make_initiative(state=PENDING, brin="25LH", postcode="3511 AB")
    response = csrf_post(client, f"/moderatie/{keep.id}/samenvoegen/{other.id}",
                         {"version_id": keep.version_id - 1})
    assert response.status_code == 422
    assert "Iemand anders" in response.get_data(as_text=True)
    assert db.session.get(Initiative, other.id).state == PENDING


def _theme_post(**overrides):
    data = {
        "area": "diplomeren", "title": "Geen deeldiploma's",
        "description": "Een diploma kan alleen in zijn geheel worden uitgereikt.",
        "rules-0-title": "WEB art. 7.4.6", "rules-0-level": "wet",
        "rules-0-source_url": "https://wetten.overheid.nl/BWBR0007625/#Hoofdstuk7",
        "rules-0-existing_room": "Experiment flexibilisering",
        "action": "save",
    }
    data.update(overrides)
    return data


def test_create_theme_with_rules(client, login, db):
    login(client, "moderator")
    bad = csrf_post(client, "/moderatie/themas/nieuw",
                    _theme_post(**{"rules-0-level": "", "rules-0-source_url": "wetten.nl"}))
    assert bad.status_code == 422
    html = bad.get_data(as_text=True)
    assert "Kies waar de regel vandaan komt." in html
    assert "Een link begint met https://" in html
    assert "Geen deeldiploma&#39;s" in html or "Geen deeldiploma's" in html  # kept
    added = csrf_post(client, "/moderatie/themas/nieuw", _theme_post(action="add_rule"))
    assert 'name="rules-1-title"' in added.get_data(as_text=True)
    response = csrf_post(client, "/moderatie/themas/nieuw", _theme_post())
    assert response.status_code == 302
    theme = db.session.scalar(select(Theme))
    assert theme.title == "Geen deeldiploma's"
    assert theme.area_code == "diplomeren"
    assert [(r.title, r.level) for r in theme.rules] == [("WEB art. 7.4.6", "wet")]
    assert audit(db, "theme.create")
    page = client.get(f"/moderatie/themas/{theme.id}").get_data(as_text=True)
    assert "https://wetten.overheid.nl/BWBR0007625/#Hoofdstuk7" in page
    assert "<td>Wet</td>" in page  # where the rule comes from, in words


def test_theme_edit_is_optimistically_locked(client, login, db):
    login(client, "moderator")
    csrf_post(client, "/moderatie/themas/nieuw", _theme_post())
    theme = db.session.scalar(select(Theme))
    old_version = theme.version_id
    ok = csrf_post(client, f"/moderatie/themas/{theme.id}/bewerken",
                   _theme_post(title="Titel 1", version_id=str(old_version)))
    assert ok.status_code == 302
    stale = csrf_post(client, f"/moderatie/themas/{theme.id}/bewerken",
                      _theme_post(title="Titel 2", version_id=str(old_version)))
    assert stale.status_code == 409
    db.session.expire_all()
    assert db.session.get(Theme, theme.id).title == "Titel 1"


def test_link_from_obstacle_and_from_theme_page_with_stats(client, login, db):
    login(client, "moderator")
    csrf_post(client, "/moderatie/themas/nieuw", _theme_post(
        title="Examens alleen op vaste momenten", area="examineren",
        description="Centrale examens en examenmomenten liggen vast."))
    theme = db.session.scalar(select(Theme))
    a = make_initiative(sector="mbo", learners_count=40, postcode="3511 AB", obstacles=[
        obstacle("Examens alleen op vaste momenten", "Examenmomenten liggen vast in juni.")])
    b = make_initiative(sector="vo", learners_count=25, postcode="1011 AB", brin="30AB", obstacles=[
        obstacle("Vaste examenmomenten", "Examens alleen op vaste momenten in het jaar.")])
    c = make_initiative(sector="po", postcode="9700 AA", brin="40CD", obstacles=[
        obstacle("Bekostiging op teldatum", "Teldatum 1 oktober", area="overig")])
    # from the obstacle (entry page)
    response = csrf_post(client, f"/moderatie/knelpunt/{a.obstacles[0].id}/thema",
                         {"theme_id": str(theme.id)})
    assert response.status_code == 302
    # the theme page suggests the similar, unlinked obstacle of b, not the one of c
    page = client.get(f"/moderatie/themas/{theme.id}").get_data(as_text=True)
    assert f'value="{b.obstacles[0].id}"' in page
    assert f'value="{c.obstacles[0].id}"' not in page
    response = csrf_post(client, f"/moderatie/themas/{theme.id}/koppelen",
                         {"obstacle_ids": [str(b.obstacles[0].id)]})
    assert response.status_code == 302
    db.session.expire_all()
    assert {o.theme_id for o in db.session.scalars(select(Obstacle))} == {theme.id, None}
    stats = services.theme_stats(theme)
    assert (stats.initiatives, stats.schools, stats.learners) == (2, 2, 65)
    assert stats.sectors == ["mbo", "vo"]
    page = client.get(f"/moderatie/themas/{theme.id}").get_data(as_text=True)
    assert 'data-stat="initiatives">2<' in page
    assert 'data-stat="learners">65<' in page
    assert len(audit(db, "obstacle.link_theme")) == 2
    # unlink
    csrf_post(client, f"/moderatie/themas/{theme.id}/ontkoppelen/{b.obstacles[0].id}")
    assert services.theme_stats(theme).initiatives == 1


def test_delete_theme_unlinks_obstacles(client, login, db):
    login(client, "moderator")
    csrf_post(client, "/moderatie/themas/nieuw", _theme_post())
    theme = db.session.scalar(select(Theme))
    item = make_initiative()
    item.obstacles[0].theme_id = theme.id
    db.session.commit()
    assert csrf_post(client, f"/moderatie/themas/{theme.id}/verwijderen").status_code == 302
    db.session.expire_all()
    assert db.session.scalar(select(Theme)) is None
    assert item.obstacles[0].theme_id is None
    assert audit(db, "theme.delete")
