"""One computation per change, and no reader waiting behind it after a publication (issue 20).

``registry.cache.SharedResults``: after a public change one worker claims the summary or the
GeoJSON and computes it; meanwhile the others serve the previous result, but only while the
lineage holds (nothing but new publications since). After a change that may take something
away (a withdrawal), nothing older is served and the stored results are gone. Detail pages
outlive publications of other entries for at most ``DETAIL_PAGE_LAG_SECONDS``.

"Another worker" is played with plain SQL: a claim row in ``shared_result`` for the current
version, as a worker in the middle of computing holds it. Expected figures come from plain
SQL counts, not from the code under test.
"""
from __future__ import annotations

import json
import threading
import time
from datetime import timedelta

import pytest
from sqlalchemy import text

from registry import cache
from registry.cache import SharedResults, public_versions, shared_put
from registry.database import utcnow
from registry.extensions import db
from registry.manage import services as manage
from registry.moderation import services as moderation
from registry.submissions.services import ObstacleData
from registry.taxonomy.constants import InitiativeState
from tests.factories import make_initiative


def published_count() -> int:
    return db.session.execute(text(
        "SELECT count(*) FROM initiative WHERE state = 'published'")).scalar_one()


def stamp(name: str) -> str:
    return db.session.execute(text("SELECT token FROM data_version WHERE name = :n"),
                              {"n": name}).scalar_one_or_none() or "0"


def claim(key: str, version: str, age: timedelta = timedelta(0)) -> None:
    """Another worker claims ``key`` at ``version`` (as ``registry.cache._claim`` does)."""
    db.session.execute(text("DELETE FROM shared_result WHERE key = :k"), {"k": "claim:" + key})
    db.session.execute(text(
        "INSERT INTO shared_result (key, version, lineage, created_at, body) "
        "VALUES (:k, :v, '', :t, :b)"),
        {"k": "claim:" + key, "v": version, "t": utcnow() - age, "b": b""})
    db.session.commit()


def hold_claims(version: str) -> int:
    """Another worker starts computing every stored result at ``version``: a claim row per
    key (as ``registry.cache._claim`` writes it). Returns how many."""
    keys = db.session.execute(text(
        "SELECT key FROM shared_result WHERE key NOT LIKE 'claim:%'")).scalars().all()
    for key in keys:
        claim(key, version)
    return len(keys)


def release_claims() -> None:
    db.session.execute(text("DELETE FROM shared_result WHERE key LIKE 'claim:%'"))
    db.session.commit()


def summary_count(client) -> tuple[str, object]:
    """The number of initiatives the summary page says it covers, and the response."""
    response = client.get("/knelpunten")
    assert response.status_code == 200
    page = response.get_data(as_text=True)
    marker = " in dit overzicht</summary>"
    end = page.index(marker)
    number = page[:end].rsplit(">", 1)[1].split()[0]
    return number, response


def map_ids(client) -> tuple[set[int], object]:
    response = client.get("/kaart/initiatieven.geojson")
    assert response.status_code == 200
    features = json.loads(response.get_data())["features"]
    return {f["id"] for f in features}, response


@pytest.fixture
def scene(app, make_user):
    moderator = make_user("moderator")
    first = make_initiative(title="Eerste initiatief", postcode="3511 AB")
    second = make_initiative(title="Tweede initiatief", postcode="8911 AB")
    waiting = make_initiative(state=InitiativeState.PENDING, title="Wachtend initiatief",
                              postcode="9712 AB")
    db.session.commit()
    return {"moderator": moderator, "first": first, "second": second, "waiting": waiting}


@pytest.mark.parametrize("cookie", [False, True], ids=["no-cookie", "session-cookie"])
def test_after_a_publication_readers_get_the_previous_result_while_one_worker_computes(
        app, client, scene, cookie, monkeypatch):
    if cookie:
        client.get("/aanmelden")  # a visitor with a session (the form sets one)
    before, _ = summary_count(client)
    before_ids, _ = map_ids(client)
    assert before == str(published_count()) == "2"
    assert scene["waiting"].id not in before_ids

    moderation.publish(scene["waiting"], actor=scene["moderator"])
    db.session.commit()
    assert hold_claims(stamp("public")) >= 2  # the summary, its national table, the map

    # Readers do not wait for the worker that computes: the previous result, never
    # validated (no ETag) and kept for a moment only.
    for _ in range(2):
        shown, response = summary_count(client)
        assert shown == "2"
        assert "ETag" not in response.headers
        assert response.headers["Cache-Control"] == "no-store"
        ids, response = map_ids(client)
        assert ids == before_ids
    # The map's ETag names the version it shows, never the new one.
    stale_etag = response.headers["ETag"]

    release_claims()  # that worker is gone without a result: the next reader computes
    later = time.monotonic() + cache.STALE_PAGE_SECONDS
    monkeypatch.setattr(cache.time, "monotonic", lambda: later)
    shown, response = summary_count(client)
    assert shown == str(published_count()) == "3"
    assert "ETag" in response.headers
    ids, response = map_ids(client)
    assert scene["waiting"].id in ids
    assert response.headers["ETag"] != stale_etag


def test_after_a_withdrawal_nothing_older_is_served_or_kept(app, client, scene, monkeypatch):
    summary_count(client)
    map_ids(client)
    keys = db.session.execute(text("SELECT key FROM shared_result")).scalars().all()
    assert len(keys) >= 3  # the summary, its national table, the map
    lineage = stamp("lineage")

    manage.withdraw_initiative(scene["second"])
    db.session.commit()
    assert stamp("lineage") != lineage
    # the stored results went in the withdrawing transaction itself
    assert db.session.execute(text("SELECT count(*) FROM shared_result")).scalar_one() == 0

    # Another worker claims them at the new version. This one may not serve what it holds
    # in memory (it shows the withdrawn entry): it waits, then computes itself.
    monkeypatch.setattr(cache, "WAIT_SECONDS", 0.3)
    for key in keys:
        claim(key, stamp("public"))
    started = time.monotonic()
    shown, response = summary_count(client)
    assert shown == str(published_count()) == "1"
    assert "Tweede initiatief" not in response.get_data(as_text=True)
    ids, _ = map_ids(client)
    assert scene["second"].id not in ids
    assert scene["first"].id in ids
    assert time.monotonic() - started >= 0.3  # it waited for the other worker first


def test_a_waiting_worker_takes_the_result_of_the_one_computing(app):
    with app.test_request_context():
        versions = public_versions()
        assert versions is not None
        results = SharedResults(max_weight=1000)
        key = "test-single-flight"
        claim(key, versions.public)

        def other_worker():
            time.sleep(0.2)
            with app.app_context():
                shared_put(key, versions.public, b"computed elsewhere", versions.lineage)

        thread = threading.Thread(target=other_worker)
        thread.start()
        calls: list[int] = []
        found = results.get(key, versions, lambda: calls.append(1) or b"computed here",
                            encode=bytes, decode=bytes, weight=len)
        thread.join()
        assert found.value == b"computed elsewhere"
        assert found.fresh
        assert calls == []


def test_a_claim_of_a_dead_worker_is_taken_over(app):
    with app.test_request_context():
        versions = public_versions()
        assert versions is not None
        key = "test-dead-claim"
        claim(key, versions.public, age=timedelta(seconds=cache.CLAIM_SECONDS + 5))
        started = time.monotonic()
        found = SharedResults(max_weight=1000).get(
            key, versions, lambda: b"computed here", encode=bytes, decode=bytes, weight=len)
        assert found.value == b"computed here"
        assert time.monotonic() - started < 5  # no waiting for a worker that is gone
        stored = db.session.execute(text("SELECT body FROM shared_result WHERE key = :k"),
                                    {"k": key}).scalar_one()
        assert bytes(stored) == b"computed here"
        # the claim is released once the result is stored
        assert db.session.execute(text("SELECT count(*) FROM shared_result WHERE key = :k"),
                                  {"k": "claim:" + key}).scalar_one() == 0


@pytest.mark.parametrize("cookie", [False, True], ids=["no-cookie", "session-cookie"])
def test_detail_pages_lag_behind_publications_only_for_a_while(app, client, make_user,
                                                                monkeypatch, cookie):
    app.config["DETAIL_PAGE_LAG_SECONDS"] = 60
    moderator = make_user("moderator")
    shared = [ObstacleData(area="examineren", title="Vaste examenmomenten", severity=3,
                           description="Alleen in juni.")]
    page = make_initiative(title="Pagina die we lezen", obstacles=shared)
    newcomer = make_initiative(state=InitiativeState.PENDING, title="Nieuwe buur",
                               obstacles=list(shared))
    db.session.commit()
    if cookie:
        client.get("/aanmelden")
    url = f"/initiatieven/{page.id}"
    first = client.get(url).get_data(as_text=True)
    assert "Nieuwe buur" not in first

    moderation.publish(newcomer, actor=moderator)
    db.session.commit()
    assert client.get(f"/initiatieven/{newcomer.id}").status_code == 200  # new: at once
    assert client.get(url).get_data(as_text=True) == first  # its similar list lags

    clock = time.monotonic() + 61
    monkeypatch.setattr(cache.time, "monotonic", lambda: clock)
    later = client.get(url).get_data(as_text=True)
    assert "Nieuwe buur" in later  # within the lag, it is rendered again

    # An edit of the page's own entry is a retraction: shown on the next request.
    data = manage.history.data_from_snapshot(manage.history.snapshot(page), page.language)
    data.title = "Pagina met nieuwe titel"
    moderation.edit(page, data, expected_version=page.version_id, actor=moderator)
    db.session.commit()
    assert "Pagina met nieuwe titel" in client.get(url).get_data(as_text=True)


@pytest.mark.parametrize("exact", [False, True], ids=["public", "staff"])
def test_a_result_computed_now_holds_nothing_older(app, scene, monkeypatch, exact):
    """The national table inside a summary (and the public texts inside the staff summary)
    are never the previous version's, even while another worker holds their claim: the
    summary computed here is stored as the current one."""
    from registry.published.filters import InitiativeFilter
    from registry.published.sources import PUBLISHED
    from registry.summary import services

    threshold = int(app.config["SMALL_NUMBER_THRESHOLD"])
    with app.test_request_context():
        before = services.compute_summary(InitiativeFilter.empty(), PUBLISHED, exact=exact)
        moderation.publish(scene["waiting"], actor=scene["moderator"])
        db.session.commit()
        # Another worker computes the national table and the public summary meanwhile.
        nested = [services._cache_key(None, PUBLISHED, exact, threshold).shared]
        if exact:
            nested.append(services._cache_key(InitiativeFilter.empty(), PUBLISHED, False,
                                              threshold).shared)
        for key in nested:
            claim(key, stamp("public"))
        monkeypatch.setattr(cache, "WAIT_SECONDS", 0.2)
        after = services.compute_summary(InitiativeFilter.empty(), PUBLISHED, exact=exact)
        assert after["totals"]["initiatives"] == published_count() == 3
        assert after["national"] != before["national"]
        assert after["entry_count"] == 3
        assert scene["waiting"].id in {entry["id"] for entry in after["entries"]}
        app.config["SUMMARY_CACHE"] = False  # the same, computed with every cache off
        fresh = services.compute_summary(InitiativeFilter.empty(), PUBLISHED, exact=exact)
        assert after["national"] == fresh["national"]


def test_stored_rows_of_the_current_version_and_lineage_stay_and_older_ones_go(app):
    """Storing a result forgets rows of other versions once ``SHARED_STALE_SECONDS`` old,
    keeps every row of the current public version, and keeps rows stored per lineage (the
    summary's facts, snapshot bases) for ``PER_LINEAGE_SECONDS``."""
    from sqlalchemy import update

    from registry.cache import SharedResult

    with app.app_context():
        make_initiative()  # a public change: both stamps exist
        versions = public_versions()
        assert versions is not None
        for key, version in (("now", versions.public), ("lineage-recent", versions.lineage),
                             ("lineage-old", versions.lineage), ("before", "an-old-token")):
            shared_put(key, version, b"x", versions.lineage)
        table = SharedResult.__table__
        stale = utcnow() - timedelta(seconds=cache.SHARED_STALE_SECONDS + 5)
        expired = utcnow() - timedelta(seconds=cache.PER_LINEAGE_SECONDS + 5)
        db.session.execute(update(table).where(table.c.key.in_(
            ["now", "lineage-recent", "before"])).values(created_at=stale))
        db.session.execute(update(table).where(table.c.key == "lineage-old")
                           .values(created_at=expired))
        db.session.commit()
        shared_put("another", versions.public, b"y", versions.lineage)
        kept = set(db.session.execute(text("SELECT key FROM shared_result")).scalars())
        assert kept == {"now", "lineage-recent", "another"}
        # storing a row per lineage forgets no row of the current version either
        db.session.execute(update(table).where(table.c.key == "another")
                           .values(created_at=stale))
        db.session.commit()
        shared_put("lineage-new", versions.lineage, b"z", versions.lineage)
        kept = set(db.session.execute(text("SELECT key FROM shared_result")).scalars())
        assert kept == {"now", "lineage-recent", "another", "lineage-new"}
