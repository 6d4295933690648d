"""A contact's role is never public (issue 16: "The contact's role is shown publicly next to
the consented name"). With consent the name is published; the role never is: not on the
pages, the map, the exports in every format, the API, the obstacle summary documents, nor in
any output of a snapshot - and a snapshot does not even store it."""
from __future__ import annotations

import io
import zipfile

from registry.extensions import db
from registry.published.snapshots import create_snapshot
from registry.submissions.services import ContactData
from tests.factories import make_initiative
from tests.manage.tables import everything

NAME = "Femke Openbaar"
ROLE = "Coördinator Flexroute Qz"
EMAIL = "femke@flexroute.nl"
PHONE = "0201122334"


def _text(body: bytes) -> str:
    """A response as text; an Office file (a zip) as the text of its XML parts."""
    if body[:2] == b"PK":
        with zipfile.ZipFile(io.BytesIO(body)) as archive:
            return " ".join(archive.read(name).decode("utf-8", "replace")
                            for name in archive.namelist() if name.endswith(".xml"))
    return body.decode("utf-8", "replace")


def test_the_role_is_in_no_public_output_and_no_snapshot(client, app):
    initiative = make_initiative(title="Flexroute", contact=ContactData(
        name=NAME, role=ROLE, email=EMAIL, phone=PHONE, consent_contact=True,
        consent_publish_name=True, consent_quotes=True))
    code = create_snapshot(note="overleg").code
    db.session.commit()
    urls = ["/", "/initiatieven", f"/initiatieven/{initiative.id}", "/kaart",
            "/kaart/initiatieven.geojson", "/kaart/provincies", "/knelpunten",
            f"/api/v1/initiatives/{initiative.id}", "/api/v1/initiatives", "/api/v1/obstacles",
            "/api/v1/statistics"]
    urls += [f"/export/{dataset}.{fmt}" for dataset in ("initiatieven", "knelpunten", "themas")
             for fmt in ("csv", "xlsx", "json", "geojson")]
    urls += [f"/knelpunten/knelpuntenoverzicht.{fmt}" for fmt in ("docx", "xlsx")]
    urls += [f"{url}{'&' if '?' in url else '?'}snapshot={code}" for url in urls
             if url.startswith(("/export/", "/knelpunten", "/api/v1/statistics",
                                "/api/v1/initiatives", "/initiatieven"))]
    shown = {}
    for url in urls:
        response = client.get(url)
        assert response.status_code == 200, (url, response.status_code)
        shown[url] = _text(response.get_data())
    for url, body in shown.items():
        for secret in (ROLE, EMAIL, PHONE):
            assert secret not in body, (url, secret)
    # the check can see: the consented name is published, live and in the snapshot
    assert NAME in shown[f"/initiatieven/{initiative.id}"]
    assert NAME in shown["/export/initiatieven.csv"]
    assert NAME in shown[f"/export/initiatieven.csv?snapshot={code}"]
    # a snapshot stores the consented name, never the role, address or phone number
    snapshot_tables = {name: rows for name, rows in everything().items()
                       if name.startswith("snapshot")}
    stored = repr(snapshot_tables)
    assert NAME in stored
    for secret in (ROLE, EMAIL, PHONE):
        assert secret not in stored, secret
