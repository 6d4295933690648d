"""Erasure (AVG art. 17) reaches the snapshots: a consented name published in a snapshot and
the consent to quotes are gone from its rows and from every output of the snapshot."""
from __future__ import annotations

from sqlalchemy import text

from registry.manage.services import erase_contact
from registry.published.snapshots import create_snapshot
from registry.submissions.services import ContactData
from tests.factories import make_initiative


def test_erasure_removes_the_name_from_every_snapshot(client, db):
    initiative = make_initiative(contact=ContactData(
        name="Anne Zichtbaar", email="anne@example.org", consent_contact=True,
        consent_publish_name=True, consent_quotes=True))
    code = create_snapshot(note="voor het overleg").code
    db.session.commit()
    export = client.get(f"/export/initiatieven.csv?snapshot={code}").get_data(as_text=True)
    assert "Anne Zichtbaar" in export

    erase_contact(initiative)
    db.session.commit()

    rows = db.session.execute(text(
        "SELECT contact_name, consent_quotes FROM snapshot_initiative")).all()
    assert [tuple(r) for r in rows] == [(None, False)]
    for path in (f"/export/initiatieven.csv?snapshot={code}",
                 f"/export/initiatieven.json?snapshot={code}",
                 f"/knelpunten?snapshot={code}", "/export/initiatieven.csv"):
        assert "Anne Zichtbaar" not in client.get(path).get_data(as_text=True), path
