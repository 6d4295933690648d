"""Tried as an attacker would (issue 16): a school that reports a bent rule confidentially
must not be traceable, by any public output, any filter or difference of filters, or any
snapshot; and a snapshot must forget withdrawn entries and erased names.

The method is differential: the world where school X made the confidential report and the
world where school Y (other province, other sector, same cell) made it must give the same
bytes in every public output (timestamps aside). If they do, no filter, no difference of
two filtered counts and no snapshot can tell X from Y.
"""
from __future__ import annotations

import io
import itertools
import re
import zipfile
from urllib.parse import urlencode

import pytest
from sqlalchemy import text, update

from registry.extensions import db
from registry.manage.services import erase_contact, withdraw_initiative
from registry.moderation import services as moderation
from registry.published.filters import InitiativeFilter
from registry.published.snapshots import create_snapshot
from registry.published.sources import SnapshotSource
from registry.submissions.models import Obstacle
from registry.submissions.services import ContactData, ObstacleData
from registry.summary.services import compute_summary, summary_cache
from registry.taxonomy.constants import InitiativeState
from tests.factories import make_initiative

SECRET = {  # the confidential report's texts: never in any public output
    "title": "Geheimtitel examens buiten het reglement",
    "description": "Geheimbeschrijving wij examineren zonder commissie",
    "rule": "Geheimregel artikel 99",
    "workaround": "Geheimomweg afspraak met de inspecteur",
    "policy_ask": "Geheimvraag laat ons dit houden",
}

# --- the world ---------------------------------------------------------------------------


def build_world():
    """Schools in several provinces and sectors with public reports; X (Limburg, po) has
    the only confidential report in its area and theme; Y (Zeeland, vo) reports publicly
    elsewhere. Both are the only published school of their province."""
    theme = moderation.save_theme(None, moderation.ThemeData(
        area="diplomeren", title="Diploma pas na alle vakken"), actor=None)
    other = moderation.save_theme(None, moderation.ThemeData(
        area="examineren", title="Vaste examenmomenten"), actor=None)
    db.session.commit()
    schools = {}
    layout = [("A", "Utrecht", "mbo", "examineren"), ("B", "Utrecht", "mbo", "examineren"),
              ("C", "Gelderland", "vo", "examineren"), ("D", "Gelderland", "po", "diplomeren"),
              ("X", "Limburg", "po", "kwalificeren"), ("Y", "Zeeland", "vo", "kwalificeren")]
    for i, (name, province, sector, area) in enumerate(layout):
        item = make_initiative(
            title=f"Initiatief {name}", school_name=f"School {name}", brin=f"{i + 1}0QQ",
            sector=sector, learners_count=50 + 10 * i,
            obstacles=[ObstacleData(area=area, title=f"Openbaar {name}", severity=2,
                                    description=f"Openbare tekst {name}")],
            contact=ContactData(name=f"Contact {name}", email=f"{name.lower()}@example.org",
                                consent_publish_name=True, consent_quotes=True))
        item.organisation.province = province
        if area == "examineren":
            item.obstacles[0].theme_id = other.id
        if area == "diplomeren":
            item.obstacles[0].theme_id = theme.id
        schools[name] = item
    db.session.commit()
    x = schools["X"]
    x.obstacles.append(Obstacle(area_code="diplomeren", severity=4, status="omzeild",
                                visibility="confidential", position=1, theme_id=theme.id,
                                **SECRET))
    db.session.commit()
    return schools, theme, other


def move_secret(to) -> None:
    """The other world: the confidential report belongs to ``to`` instead."""
    db.session.execute(update(Obstacle).where(Obstacle.title == SECRET["title"])
                       .values(initiative_id=to.id))
    db.session.commit()
    summary_cache.clear()


# --- reading every public output ---------------------------------------------------------

_STAMPS = [
    re.compile(r"\d{4}-\d{2}-\d{2}[T ]\d{2}:\d{2}(:\d{2}(\.\d+)?)?(Z|[+-]\d{2}:?\d{2})?"),
    re.compile(r"\d{1,2} \w+ \d{4}( \d{2}:\d{2})?"),
    re.compile(r"\d{4}-\d{2}-\d{2}"),
    re.compile(r'name="csrf_token" (type="hidden" )?value="[^"]+"'),
    re.compile(r'nonce="[^"]+"'),
    re.compile(r"\d{4}-\d{2}-[a-z]{1,3}"),  # snapshot codes
    re.compile(r"\bv=[0-9a-f]{6,}"),  # the data version in cache-busting URLs (random)
]


_REPEATED_OPTION = re.compile(r"(<option value=\"#\" >[^<]*</option>)+")


def normalise(body: str) -> str:
    for pattern in _STAMPS:
        body = pattern.sub("#", body)
    # world Y has one snapshot more in the snapshot menus
    return _REPEATED_OPTION.sub("<option>#</option>", body)


def zip_text(data: bytes) -> str:
    with zipfile.ZipFile(io.BytesIO(data)) as archive:
        return "\n".join(archive.read(name).decode("utf-8", "replace")
                         for name in sorted(archive.namelist())
                         if name.endswith(".xml") and "docProps" not in name)


def fetch(client, url: str) -> str:
    response = client.get(url)
    assert response.status_code == 200, url
    data = response.data
    if data[:2] == b"PK":
        return zip_text(data)
    return data.decode("utf-8")


def public_urls(ids, filters, snapshot: str | None = None, documents: bool = False):
    extra = {"snapshot": snapshot} if snapshot else {}
    urls = []
    for args in filters:
        query = "?" + urlencode({**args, **extra}, doseq=True)
        urls += [f"/api/v1/statistics{query}", f"/export/themas.csv{query}",
                 f"/export/knelpunten.json{query}", f"/export/initiatieven.geojson{query}"]
        if not snapshot:
            urls += [f"/api/v1/initiatives{query}", f"/api/v1/obstacles{query}",
                     f"/kaart/initiatieven.geojson{query}", f"/initiatieven{query}"]
    base = "?" + urlencode(extra)
    urls += [f"/knelpunten{base}", f"/export/knelpunten.csv{base}",
             f"/export/initiatieven.csv{base}", f"/export/knelpunten.geojson{base}"]
    if documents:
        urls += [f"/knelpunten/knelpuntenoverzicht.docx{base}",
                 f"/knelpunten/knelpuntenoverzicht.xlsx{base}", f"/export/themas.xlsx{base}"]
    if not snapshot:
        urls += ["/", "/kaart", "/api/v1/themes"]
        for i in ids:
            urls += [f"/initiatieven/{i}", f"/api/v1/initiatives/{i}"]
    return urls


def outputs(client, urls) -> dict[str, str]:
    return {url: normalise(fetch(client, url)) for url in urls}


GRID_VALUES = {
    "province": [None, "Limburg", "Zeeland"],
    "sector": [None, "po", "vo"],
    "area": [None, "diplomeren", "kwalificeren"],
    "phase": [None, "pilot"],
}


def grid(theme_ids):
    values = {**GRID_VALUES, "theme": [None, *theme_ids]}
    names = list(values)
    for combo in itertools.product(*(values[n] for n in names)):
        yield {n: v for n, v in zip(names, combo, strict=True) if v is not None}


# --- tests --------------------------------------------------------------------------------

def test_a_confidential_report_cannot_be_traced_to_its_school(client):
    schools, theme, other = build_world()
    ids = sorted(s.id for s in schools.values())
    filters = list(grid([theme.id, other.id]))
    assert len(filters) == 3 * 3 * 3 * 2 * 3
    urls = public_urls(ids, filters)
    doc_urls = public_urls(ids, [{}], documents=True)
    create_snapshot()  # so that both worlds' snapshots have a previous one to compare with
    snapshot_x = create_snapshot().code
    db.session.commit()
    world_x = outputs(client, urls + doc_urls)
    snap_x = outputs(client, public_urls(ids, filters[::7], snapshot=snapshot_x,
                                         documents=True))

    move_secret(schools["Y"])
    snapshot_y = create_snapshot().code
    db.session.commit()
    world_y = outputs(client, urls + doc_urls)
    snap_y = outputs(client, public_urls(ids, filters[::7], snapshot=snapshot_y,
                                         documents=True))

    for url in world_x:
        assert world_x[url] == world_y[url], url
    for (url, body_x), body_y in zip(snap_x.items(), snap_y.values(), strict=True):
        assert body_x == body_y, url
    for body in (*world_x.values(), *world_y.values(), *snap_x.values(), *snap_y.values()):
        for secret in SECRET.values():
            assert secret not in body
    # ... while the report does count where it may: staff see it.
    staff = compute_summary(InitiativeFilter.empty(), SnapshotSource(
        __import__("registry").published.snapshots.get_snapshot(snapshot_y)), exact=True)
    assert staff["totals"]["obstacles"] == 7


def test_the_secret_reaches_staff_and_the_national_figures_only_with_enough_schools(
        client, app, login):
    schools, theme, _other = build_world()
    summary_cache.clear()
    national = client.get("/api/v1/statistics").get_json()["national"]
    row = next(r for r in national["rows"] if r["theme_id"] == theme.id)
    assert row["suppressed"]  # one school: nothing shown
    assert row["reports"] is None
    # Two more schools report confidentially in the same theme: now the row is shown.
    for name in ("A", "C"):
        schools[name].obstacles.append(Obstacle(
            area_code="diplomeren", title=f"Vertrouwelijk {name}", severity=3,
            visibility="confidential", position=1, theme_id=theme.id))
    db.session.commit()
    national = client.get("/api/v1/statistics").get_json()["national"]
    row = next(r for r in national["rows"] if r["theme_id"] == theme.id)
    assert (row["reports"], row["confidential"], row["schools"]) == (4, 3, 4)
    public = client.get(f"/api/v1/statistics?theme={theme.id}").get_json()
    assert public["totals"]["obstacles"] == 1  # filtered views: public reports only
    login(client, "advisor")
    staff = client.get(f"/knelpunten/knelpuntenoverzicht.xlsx?theme={theme.id}")
    assert staff.status_code == 200


def test_withdrawal_and_erasure_reach_every_snapshot_output(client, app):
    schools, _theme, _other = build_world()
    before_code = create_snapshot().code
    db.session.commit()
    snap = __import__("registry").published.snapshots.get_snapshot(before_code)
    frozen = compute_summary(InitiativeFilter.empty(), SnapshotSource(snap))
    gone, erased = schools["C"], schools["B"]
    withdraw_initiative(gone, "Wij stoppen")
    erase_contact(erased)
    db.session.commit()
    summary_cache.clear()
    ids = sorted(s.id for s in schools.values())
    bodies = outputs(client, public_urls(ids, [{}, {"province": "Gelderland"}],
                                         snapshot=before_code, documents=True))
    bodies.update(outputs(client, [f"/api/v1/initiatives?snapshot={before_code}",
                                   f"/export/initiatieven.json?snapshot={before_code}"]))
    for url, body in bodies.items():
        for value in ("Initiatief C", "School C", "Openbaar C", "Openbare tekst C",
                      "Contact B"):
            assert value not in body, (url, value)
    assert "Contact A" in bodies[f"/export/initiatieven.csv?snapshot={before_code}"]
    # The frozen figures stay, with a note.
    after = compute_summary(InitiativeFilter.empty(), SnapshotSource(snap))
    for key in ("totals", "areas", "themes", "origins", "quarters"):
        assert after[key] == frozen[key], key
    assert after["key_message"]["figures"] == frozen["key_message"]["figures"]
    assert after["meta"]["withdrawn_since"] == 1
    stats = client.get(f"/api/v1/statistics?snapshot={before_code}").get_json()
    assert stats["meta"]["withdrawn_since"] == 1
    page = client.get(f"/knelpunten?snapshot={before_code}").get_data(as_text=True)
    assert "ingetrokken" in page
    # Plain SQL: nothing of the entry's texts or the erased name is stored in a snapshot.
    rows = db.session.execute(text(
        "SELECT title, school_name, contact_name, withdrawn FROM snapshot_initiative "
        "WHERE id IN (:gone, :erased)"), {"gone": gone.id, "erased": erased.id}).all()
    assert ("", "", None, True) in [tuple(r) for r in rows]
    assert all(r[2] is None for r in rows)
    texts = db.session.execute(text(
        "SELECT title || description || rule || workaround || policy_ask "
        "FROM snapshot_obstacle WHERE initiative_id = :gone"), {"gone": gone.id}).scalars()
    assert set(texts) == {""}
    assert gone.state == InitiativeState.WITHDRAWN


@pytest.mark.parametrize("path", ["/api/v1/initiatives/{id}", "/initiatieven/{id}"])
def test_a_withdrawn_entry_is_gone_from_live_pages(client, path):
    schools, _theme, _other = build_world()
    withdraw_initiative(schools["D"])
    db.session.commit()
    assert client.get(path.format(id=schools["D"].id)).status_code == 404


def test_a_moderator_edit_that_makes_a_report_confidential_reaches_every_snapshot(client):
    from dataclasses import replace

    from registry.history import services as history
    from registry.moderation.services import edit

    schools, _theme, _other = build_world()
    target = schools["A"]
    code = create_snapshot().code
    db.session.commit()
    assert "Openbaar A" in fetch(client, f"/export/knelpunten.csv?snapshot={code}")
    data = history.data_from_snapshot(history.snapshot(target))
    data.obstacles = [replace(o, visibility="confidential") for o in data.obstacles]
    edit(target, data, expected_version=target.version_id, actor=None)
    db.session.commit()
    stored = db.session.execute(text(
        "SELECT visibility FROM snapshot_obstacle WHERE initiative_id = :id"),
        {"id": target.id}).scalars().all()
    assert stored == ["confidential"]
    for url in (f"/export/knelpunten.csv?snapshot={code}", f"/knelpunten?snapshot={code}",
                f"/export/initiatieven.json?snapshot={code}&q=openbaar"):
        assert "Openbaar A" not in fetch(client, url), url
