"""The public data version stamp and the page cache built on it (issue 11).

Caching must never show stale data: every change through the session gives a new stamp, and
pages, the API and the map follow immediately.
"""
from __future__ import annotations

from sqlalchemy import update

from registry.audit.services import record
from registry.cache import page_cache, public_data_version
from registry.submissions.models import Initiative
from tests.factories import make_initiative


def test_stamp_changes_with_public_data_only(db):
    make_initiative(title="Eerste")
    before = public_data_version()
    assert before not in (None, "0")

    record("test.event", target_type="initiative", target_id=1)
    db.session.commit()
    assert public_data_version() == before  # the audit log is not public data

    item = make_initiative(title="Tweede")
    after_insert = public_data_version()
    assert after_insert != before

    item.title = "Tweede, bijgewerkt"
    db.session.rollback()
    assert public_data_version() == after_insert  # nothing committed, nothing changed

    db.session.execute(update(Initiative).where(Initiative.id == item.id).values(phase="lopend"))
    db.session.commit()
    assert public_data_version() != after_insert  # bulk statements count too


def test_list_page_is_cached_and_follows_every_change(client, db):
    make_initiative(title="Leren in de wijk")
    first = client.get("/initiatieven")
    assert first.status_code == 200
    assert "Leren in de wijk" in first.get_data(as_text=True)
    etag = first.headers["ETag"]

    again = client.get("/initiatieven")
    assert again.headers["ETag"] == etag
    assert again.get_data() == first.get_data()
    assert client.get("/initiatieven", headers={"If-None-Match": etag}).status_code == 304

    make_initiative(title="Studio-onderwijs zonder jaarklassen")
    fresh = client.get("/initiatieven", headers={"If-None-Match": etag})
    assert fresh.status_code == 200
    assert "Studio-onderwijs zonder jaarklassen" in fresh.get_data(as_text=True)
    assert fresh.headers["ETag"] != etag


def test_detail_page_shows_an_edit_at_once(client, db):
    item = make_initiative(title="Eigen leerroute met coach")
    assert "Eigen leerroute met coach" in client.get(f"/initiatieven/{item.id}").get_data(
        as_text=True)
    item.title = "Eigen leerroute, nu met twee coaches"
    db.session.commit()
    page = client.get(f"/initiatieven/{item.id}").get_data(as_text=True)
    assert "Eigen leerroute, nu met twee coaches" in page


def test_withdrawn_initiative_disappears_from_cached_pages(client, db):
    item = make_initiative(title="Vraaggestuurd leren in de regio")
    assert client.get(f"/initiatieven/{item.id}").status_code == 200
    assert "Vraaggestuurd leren" in client.get("/initiatieven").get_data(as_text=True)
    item.state = "withdrawn"
    db.session.commit()
    assert client.get(f"/initiatieven/{item.id}").status_code == 404
    assert "Vraaggestuurd leren" not in client.get("/initiatieven").get_data(as_text=True)


def test_other_query_gets_its_own_entry(client, db):
    make_initiative(title="Leerteams over de niveaus heen", sector="vo")
    everything = client.get("/initiatieven")
    only_po = client.get("/initiatieven?sector=po")
    assert only_po.headers["ETag"] != everything.headers["ETag"]
    assert "Leerteams over de niveaus heen" in everything.get_data(as_text=True)
    assert "Leerteams over de niveaus heen" not in only_po.get_data(as_text=True)


def test_logged_in_or_flashed_sessions_bypass_the_cache(client, db):
    make_initiative()
    client.get("/initiatieven")
    with client.session_transaction() as sess:
        sess["_flashes"] = [("success", "Opgeslagen")]
    response = client.get("/initiatieven")
    assert response.status_code == 200
    assert "ETag" not in response.headers


def test_api_and_map_follow_changes(client, db):
    make_initiative(title="Talentprogramma met eigen tempo")
    api = client.get("/api/v1/initiatives")
    geo = client.get("/kaart/initiatieven.geojson")
    assert api.status_code == 200
    assert geo.status_code == 200
    make_initiative(title="Werkplekleren met microcredentials")
    api2 = client.get("/api/v1/initiatives", headers={"If-None-Match": api.headers["ETag"]})
    assert api2.status_code == 200
    assert "Werkplekleren met microcredentials" in api2.get_data(as_text=True)
    geo2 = client.get("/kaart/initiatieven.geojson")
    assert geo2.headers["ETag"] != geo.headers["ETag"]


def test_cache_can_be_switched_off(app, client, db):
    app.config["PAGE_CACHE"] = False
    page_cache.clear()
    make_initiative()
    response = client.get("/initiatieven")
    assert response.status_code == 200
    assert "ETag" not in response.headers
