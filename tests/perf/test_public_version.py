"""The public data version changes exactly when something the public can see changes.

Every cache (pages, the cookie-less fast path, GeoJSON, summary, taxonomy) is keyed by the
version, so a change the public sees must give a new version (else stale data is served),
and a change it does not see must keep it (else every unconfirmed submission empties every
cache: issue 20). The oracle is what the public actually gets: the public pages, exports,
GeoJSON and API, fetched with every cache off, before and after each operation.
"""
from __future__ import annotations

import hashlib
import re
from collections.abc import Callable

import pytest
from sqlalchemy import select, text

from registry.cache import public_data_version
from registry.connect import services as connect
from registry.extensions import db
from registry.geo.services import set_manual_location
from registry.history.services import pending_revision
from registry.manage import services as manage
from registry.moderation import duplicates
from registry.moderation import services as moderation
from registry.published.snapshots import create_snapshot
from registry.submissions import services as submissions
from registry.submissions.models import Initiative
from registry.submissions.services import ContactData
from registry.taxonomy.constants import InitiativeState
from tests.factories import initiative_data, make_initiative

PUBLIC_URLS = (
    "/", "/initiatieven", "/kaart/initiatieven.geojson", "/kaart/provincies",
    "/export/initiatieven.csv", "/export/knelpunten.csv", "/export/themas.csv", "/export/",
    "/api/v1/initiatives?per_page=100", "/api/v1/obstacles?per_page=100", "/api/v1/themes",
    "/api/v1/taxonomies", "/api/v1/statistics",
)
# Parts of a response that differ between two identical requests.
VOLATILE = re.compile(rb'nonce="[^"]*"|name="csrf_token"[^>]*>|"generated_at": ?"[^"]*"')


def fingerprint(client, known: list[int]) -> str:
    """A hash of everything the public can fetch (caches off: fresh from the database): the
    lists, exports and API, and the detail pages of the ``known`` entries and of every
    published one."""
    digest = hashlib.sha256()
    published = db.session.scalars(select(Initiative.id).where(
        Initiative.state == InitiativeState.PUBLISHED)).all()
    ids = sorted(set(known) | set(published))
    urls = [*PUBLIC_URLS, *(f"/initiatieven/{i}" for i in ids),
            *(f"/api/v1/initiatives/{i}" for i in ids)]
    for url in urls:
        response = client.get(url)
        digest.update(url.encode() + str(response.status_code).encode())
        digest.update(VOLATILE.sub(b"", response.get_data()))
    return digest.hexdigest()


@pytest.fixture
def world(app, make_user):
    app.config.update(PAGE_CACHE=False, SUMMARY_CACHE=False)
    moderator = make_user("moderator")
    named = ContactData(name="Anne Zichtbaar", email="anne@example.org", consent_contact=True,
                        consent_publish_name=True)
    a = make_initiative(title="Gepubliceerd A", contact=named, brin="25LH",
                        postcode="3511 AB")
    b = make_initiative(title="Gepubliceerd B", postcode="8911 AB")
    pending = make_initiative(state=InitiativeState.PENDING, title="Wacht P", postcode="9712 AB")
    pending2 = make_initiative(state=InitiativeState.PENDING, title="Wacht Q")
    twin = make_initiative(state=InitiativeState.PENDING, title="Dubbel van A", brin="25LH",
                           postcode="3511 AB")
    unconfirmed = make_initiative(state=InitiativeState.UNCONFIRMED, title="Onbevestigd U")
    theme = moderation.save_theme(None, moderation.ThemeData(area="examineren",
                                                             title="Vaste examenmomenten"),
                                  actor=moderator)
    db.session.commit()
    return {"moderator": moderator, "a": a, "b": b, "p": pending, "q": pending2,
            "twin": twin, "u": unconfirmed, "theme": theme}


def _edit(initiative: Initiative, **changes):
    data = manage.history.data_from_snapshot(manage.history.snapshot(initiative),
                                             initiative.language)
    for key, value in changes.items():
        setattr(data, key, value)
    return data


# (name, operation, whether the public sees the result). Run in this order on one data set.
OPERATIONS: list[tuple[str, Callable, bool]] = [
    ("submit a new entry (unconfirmed)",
     lambda w: submissions.submit(initiative_data(title="Nieuw")), False),
    ("confirm an entry", lambda w: manage.confirm_initiative(w["u"]), False),
    ("moderator edits a pending entry",
     lambda w: moderation.edit(w["p"], _edit(w["p"], title="Wacht P (bewerkt)"),
                               expected_version=w["p"].version_id, actor=w["moderator"]), False),
    ("link an obstacle of a pending entry to a theme",
     lambda w: moderation.link_obstacle(w["p"].obstacles[0], w["theme"], actor=w["moderator"]),
     False),
    ("ask a published entry's contact for changes",
     lambda w: moderation.request_changes(w["a"], "Graag een betere titel.",
                                          actor=w["moderator"]), False),
    ("the contact proposes an edit of a published entry",
     lambda w: manage.submit_edit(w["a"], _edit(w["a"], summary="Nieuwe samenvatting.")), False),
    ("a relayed message and a digest subscription",
     lambda w: (connect.set_accepts_messages(w["b"].contact, True),
                db.session.flush(),
                connect.relay_message(w["b"], connect.MessageData(
                    sender_name="Bert", sender_email="bert@example.org", message="Hoi")),
                connect.subscribe("c@example.org", theme_ids=[w["theme"].id], area_codes=[])),
     True),  # switching messages on shows a contact button on B's public page
    ("a relayed message only",
     lambda w: connect.relay_message(w["b"], connect.MessageData(
         sender_name="Cor", sender_email="cor@example.org", message="Nog een")), False),
    ("decide a pair is no duplicate",
     lambda w: duplicates.mark_not_duplicate(w["q"], w["twin"], actor=w["moderator"]), False),
    ("reject a pending entry",
     lambda w: moderation.reject(w["q"], "Geen initiatief.", actor=w["moderator"]), False),
    ("locate a pending entry by hand",
     lambda w: set_manual_location(w["p"].organisation, 52.37, 4.89), False),
    ("approve the proposed edit",
     lambda w: moderation.approve_revision(pending_revision(w["a"]), actor=w["moderator"]),
     True),
    ("publish a pending entry", lambda w: moderation.publish(w["p"], actor=w["moderator"]), True),
    ("moderator edits a published entry",
     lambda w: moderation.edit(w["a"], _edit(w["a"], title="Gepubliceerd A (bewerkt)"),
                               expected_version=w["a"].version_id, actor=w["moderator"]), True),
    ("reclassify an obstacle of a published entry",
     lambda w: moderation.reclassify_obstacle(w["a"].obstacles[0], "diplomeren",
                                              actor=w["moderator"]), True),
    ("link an obstacle of a published entry to a theme",
     lambda w: moderation.link_obstacle(w["a"].obstacles[0], w["theme"], actor=w["moderator"]),
     True),
    ("create a theme",
     lambda w: moderation.save_theme(None, moderation.ThemeData(area="overig", title="Roosters"),
                                     actor=w["moderator"]), True),
    ("locate a published entry by hand",
     lambda w: set_manual_location(w["b"].organisation, 52.09, 5.12), True),
    ("make a snapshot", lambda w: create_snapshot(note="test"), True),
    ("merge a pending twin into a published entry",
     lambda w: moderation.merge(w["a"], w["twin"], set(), actor=w["moderator"]), True),
    ("erase the contact of a published entry (its name was public)",
     lambda w: manage.erase_contact(w["a"]), True),
    ("withdraw a published entry", lambda w: manage.withdraw_initiative(w["b"]), True),
]


# The only public operations that take nothing away: a result of the previous version may
# still be served while the new one is computed (registry.cache, the lineage stamp).
ADDITIVE = {"publish a pending entry"}


def stamps() -> dict[str, str]:
    """The data_version rows, read with plain SQL."""
    return dict(db.session.execute(text("SELECT name, token FROM data_version")).all())


def test_version_changes_exactly_when_the_public_sees_a_change(client, world):
    known = [v.id for v in world.values() if isinstance(v, Initiative)]
    before_print, before_version = fingerprint(client, known), public_data_version()
    before_lineage = stamps().get("lineage")
    for name, operation, public in OPERATIONS:
        operation(world)
        db.session.commit()
        db.session.expire_all()
        after_print, after_version = fingerprint(client, known), public_data_version()
        after_lineage = stamps().get("lineage")
        assert (after_print != before_print) is public, f"{name}: public output"
        assert (after_version != before_version) is public, f"{name}: data version"
        assert (after_lineage != before_lineage) is (public and name not in ADDITIVE), \
            f"{name}: lineage"
        before_print, before_version = after_print, after_version
        before_lineage = after_lineage


def test_a_rolled_back_savepoint_keeps_the_outer_public_change(world):
    """Rolling back a savepoint must not forget that the outer transaction changed a
    published entry (the caches would keep serving the old title)."""
    before = public_data_version()
    world["a"].title = "Nieuwe titel"
    db.session.flush()
    savepoint = db.session.begin_nested()
    world["b"].summary = "Wordt teruggedraaid"
    db.session.flush()
    savepoint.rollback()
    db.session.commit()
    assert public_data_version() != before


def test_uncommitted_taxonomy_rows_are_not_cached(app, world):
    from sqlalchemy import text

    from registry.taxonomy.services import current

    with app.test_request_context():
        db.session.execute(text(
            "INSERT INTO sector (code, label_nl, label_en, short_nl, short_en, position) "
            "VALUES ('x', 'X', 'X', 'x', 'x', 99)"))
        from registry.cache import mark_public_change

        mark_public_change()
        assert "x" in current().codes("sectors")  # this transaction sees its own row
        db.session.rollback()
        assert "x" not in current().codes("sectors")
