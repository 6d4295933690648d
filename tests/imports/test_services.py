"""Storing: each row whole or not at all, also when the database refuses one row of a batch;
a job can be discarded (its file goes) and a lost one started again. Checked with plain SQL."""
from __future__ import annotations

from datetime import timedelta

from sqlalchemy import text

from registry.database import utcnow
from registry.extensions import db
from registry.imports import jobs, services
from registry.imports.checking import IMPORTED, INVALID, VALID
from registry.imports.models import CHECKING, ImportJob
from registry.submissions.services import ObstacleData
from registry.taxonomy.services import current as current_taxonomy
from tests.factories import initiative_data
from tests.imports.helpers import csv_bytes, finish, job_id_of, network_row, post_form, upload


def count(sql: str) -> int:
    return db.session.execute(text(sql)).scalar_one()


def test_a_row_the_database_refuses_is_left_out_whole(app):
    rows = [initiative_data(title="Eerste"),
            # severity 9 passes no form; here it stands for any row the database refuses
            initiative_data(title="Kapot", obstacles=[
                ObstacleData(area="examineren", title="Ok", severity=2),
                ObstacleData(area="examineren", title="Te ernstig", severity=9)]),
            initiative_data(title="Derde")]
    with app.test_request_context("/"):
        job = ImportJob(source="bron", file_name="x.csv", kind="csv", layout="mapped",
                        status="importing", headers=[], counts={}, report={}, mapping={})
        db.session.add(job)
        db.session.flush()
        run = services.Pass("bron", current_taxonomy(), include_duplicates=False)
        outcomes = [services.Outcome(n, VALID, d.title, d.organisation.name, data=d,
                                     key=f"key-{n}") for n, d in enumerate(rows, start=2)]
        services._begin(job)
        for outcome in outcomes:
            run.store(outcome, job_id=job.id, user=None)
        run.store_pending(job_id=job.id, user=None)
        db.session.commit()
    assert [o.status for o in outcomes] == [IMPORTED, INVALID, IMPORTED]
    assert outcomes[1].errors == [("", "Deze rij kon niet worden opgeslagen. Controleer de "
                                       "gegevens en probeer het opnieuw.")]
    assert [r[0] for r in db.session.execute(text(
        "SELECT title FROM initiative ORDER BY id"))] == ["Eerste", "Derde"]
    # nothing of the refused row: no school, obstacle, dimension, contact, key or history
    assert count("SELECT count(*) FROM organisation") == 2
    assert count("SELECT count(*) FROM obstacle") == 2
    assert count("SELECT count(*) FROM initiative_dimension") == 16
    assert count("SELECT count(*) FROM contact") == 2
    assert count("SELECT count(*) FROM import_row") == 2
    assert count("SELECT count(*) FROM revision WHERE kind = 'import'") == 2
    assert count("SELECT count(*) FROM outbox_message") == 2


def test_a_job_can_be_discarded_and_a_lost_one_started_again(app, client, login):
    login(client, "moderator")
    job_id = job_id_of(upload(client, {"file": (csv_bytes([network_row(0)]), "lijst.csv")}))
    assert services.job_files(job_id)
    post_form(client, f"/moderatie/import/{job_id}/verwijderen",
              f"/moderatie/import/{job_id}/kolommen")
    db.session.expire_all()
    assert db.session.get(ImportJob, job_id).status == "discarded"
    assert services.job_files(job_id) == []
    assert "Deze import is gestopt" in client.get(f"/moderatie/import/{job_id}").get_data(
        as_text=True)

    # a job that says it is being checked, with no thread and no sign of life: start again
    job_id = job_id_of(upload(client, {"file": (csv_bytes([network_row(1)]), "lijst.csv")}))
    job = db.session.get(ImportJob, job_id)
    job.status = CHECKING
    job.updated_at = utcnow() - jobs.STALE_AFTER - timedelta(seconds=5)
    job.mapping = {"school_name": "Naam school"}
    db.session.commit()
    page = client.get(f"/moderatie/import/{job_id}").get_data(as_text=True)
    assert "Deze stap is onderbroken" in page
    post_form(client, f"/moderatie/import/{job_id}/opnieuw", f"/moderatie/import/{job_id}")
    job = finish(app, job_id)
    assert job.status == "checked"
    assert client.get("/moderatie/import/999").status_code == 404


def test_uploads_left_waiting_are_deleted_after_a_week(app, client, login):
    login(client, "moderator")
    old = job_id_of(upload(client, {"file": (csv_bytes([network_row(0)]), "oud.csv")}))
    db.session.execute(text("UPDATE import_job SET updated_at = :t WHERE id = :id"),
                       {"t": utcnow() - timedelta(days=services.KEEP_ABANDONED_DAYS + 1),
                        "id": old})
    db.session.commit()
    assert services.job_files(old)
    new = job_id_of(upload(client, {"file": (csv_bytes([network_row(1)]), "nieuw.csv")}))
    db.session.expire_all()
    assert db.session.get(ImportJob, old).status == "discarded"
    assert services.job_files(old) == []
    assert db.session.get(ImportJob, new).status == "mapping"
    assert services.job_files(new)
