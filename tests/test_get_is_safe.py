"""A GET request changes no data (issue 15: the moderation queue used to write duplicate
flags and commit on a GET). Every GET route is requested, anonymously and as an
administrator (who may open every staff page), on a data set where each page has something
to show; every table is compared before and after with plain SQL.

Two kinds of write are access records, not data, and are allowed on a GET: the audit log
(every staff view of personal data is logged) and the moment a private manage link was last
used (links expire after a period without use). A third is a cache, not data: results
computed from the public data are stored once per data version for every worker
(``shared_result``, issue 20).
"""
from __future__ import annotations

from sqlalchemy import MetaData, select, text

from registry.extensions import db
from registry.manage.services import issue_manage_link
from registry.moderation import services as moderation
from registry.published.snapshots import create_snapshot
from registry.taxonomy.constants import InitiativeState
from tests.factories import make_initiative
from tests.security.test_headers import all_get_urls

ACCESS_RECORDS = {"audit_event": None, "manage_token": {"last_used_at"}, "shared_result": None}


def _tables() -> list[tuple[str, list]]:
    """Every table of the database as it is (reflected, not the models), with the columns
    that are compared (all but the access-record columns)."""
    metadata = MetaData()
    metadata.reflect(bind=db.engine)
    out = []
    for table in metadata.sorted_tables:
        skip = ACCESS_RECORDS.get(table.name, set())
        if skip is not None:
            out.append((table.name, [c for c in table.columns if c.name not in skip]))
    return out


def _everything(tables) -> dict[str, list[tuple]]:
    """Every row of every table, in a stable order."""
    out = {}
    with db.engine.connect() as conn:
        for name, columns in tables:
            rows = conn.execute(select(*columns)).all()
            out[name] = sorted(tuple(map(repr, row)) for row in rows)
    return out


def test_no_get_request_writes_data(app, client, login):
    published = make_initiative(title="Gepubliceerd")
    make_initiative(state=InitiativeState.PENDING, title="Wacht", brin=published.organisation.brin,
                    postcode=published.organisation.postcode)
    make_initiative(state=InitiativeState.UNCONFIRMED, title="Onbevestigd")
    theme = moderation.save_theme(None, moderation.ThemeData(area="examineren", title="Thema"),
                                  actor=None)
    moderation.link_obstacle(published.obstacles[0], theme, actor=None)
    create_snapshot()
    token = issue_manage_link(published).rsplit("#", 1)[1]
    db.session.commit()
    # An old-style link (/beheren/<token>) opens the manage session; the pages after it
    # are then requested with that session.
    urls = [f"/beheren/{token}"] + all_get_urls(app) + [
        "/beheren", "/beheren/bewerken", "/beheren/intrekken", "/beheren/gegevens-wissen",
        f"/moderatie/{published.id + 1}"]
    staff = app.test_client()
    login(staff, "admin")
    tables = _tables()
    assert len(tables) > 20
    before = _everything(tables)
    for who in (client, staff):
        for url in urls:
            who.get(url)
            db.session.rollback()
            assert _everything(tables) == before, f"GET {url} changed the data"
    # The check is not vacuous: these pages exist and show data.
    assert client.get(f"/initiatieven/{published.id}").status_code == 200
    assert staff.get(f"/moderatie/{published.id + 1}").status_code == 200
    assert "Gepubliceerd" in client.get("/beheren/bewerken").get_data(as_text=True)
    assert db.session.execute(text("SELECT count(*) FROM duplicate_flag")).scalar() == 0
