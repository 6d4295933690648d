"""Helpers of the import tests: files as a moderator would upload them, and the job pages."""
from __future__ import annotations

import csv
import io
import re

from openpyxl import Workbook

from registry.extensions import db
from registry.imports import jobs
from registry.imports.models import ImportJob
from tests.conftest import csrf_token_from

# A list as a network might keep it (Dutch Excel: ';' and Windows-1252); the column names
# are the network's own.
HEADER = ["Naam school", "BRIN", "Plaats", "Postcode", "Sector", "Initiatief",
          "Korte beschrijving", "Fase", "Doelen nu", "Doelen ambitie", "Gebied", "Knelpunt",
          "Beschrijving knelpunt", "Ernst", "Contactpersoon", "E-mail"]
# What the registry suggests for these columns (by hand, from the form's fields)
EXPECTED_MAPPING = {
    "school_name": "Naam school", "brin": "BRIN", "city": "Plaats", "postcode": "Postcode",
    "sector": "Sector", "title": "Initiatief", "summary": "Korte beschrijving", "phase": "Fase",
    "dim_doelen_now": "Doelen nu", "dim_doelen_ambition": "Doelen ambitie",
    "obstacle_area": "Gebied", "obstacle_title": "Knelpunt",
    "obstacle_description": "Beschrijving knelpunt", "obstacle_severity": "Ernst",
    "contact_name": "Contactpersoon", "contact_email": "E-mail",
}


SCHOOLS = ["Sint-Joriscollege", "Lyceum De Horizon", "Vakschool Kempen", "Montessori Anker",
           "Daltonschool Wilg", "Agora Nova", "Scholengemeenschap Veld", "Mavo Baken"]
TITLES = ["Eigen leerroute", "Flexibel examineren", "Leren op de werkplek", "Open leercentrum",
          "Keuzeprogramma", "Tempo-onafhankelijk leren", "Portfolio-route", "Leerlab"]


def network_row(n: int, **changes: str) -> dict[str, str]:
    """Row ``n`` (0-7) of a network's list: distinct schools, titles and postcodes."""
    row = {
        "Naam school": SCHOOLS[n], "BRIN": "", "Plaats": "Eindhoven",
        "Postcode": f"56{n + 11:02d} AB", "Sector": "Voortgezet onderwijs",
        "Initiatief": TITLES[n], "Korte beschrijving": "Leerlingen kiezen zelf.",
        "Fase": "Pilot", "Doelen nu": "1", "Doelen ambitie": "3 - lerende bepaalt",
        "Gebied": "Examineren", "Knelpunt": "Vaste examenmomenten",
        "Beschrijving knelpunt": "Examens alleen in mei.", "Ernst": "3", "Contactpersoon": "",
        "E-mail": "",
    }
    row.update(changes)
    return row


def csv_bytes(rows: list[dict[str, str]], *, header: list[str] = HEADER, sep: str = ";",
              encoding: str = "cp1252") -> bytes:
    out = io.StringIO()
    writer = csv.writer(out, delimiter=sep, lineterminator="\r\n")
    writer.writerow(header)
    for row in rows:
        writer.writerow([row.get(h, "") for h in header])
    return out.getvalue().encode(encoding)


def xlsx_bytes(rows: list[list], header: list[str] = HEADER) -> bytes:
    book = Workbook()
    sheet = book.active
    sheet.append(header)
    for row in rows:
        sheet.append(row)
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()


def upload(client, files: dict[str, tuple[bytes, str]], source: str = "Netwerk Zuid"):
    """POST the upload form (CSRF token from the page) with ``files``: field -> (bytes,
    name)."""
    token = csrf_token_from(client.get("/moderatie/import/").get_data(as_text=True))
    data = {"csrf_token": token, "source": source}
    for name, (content, filename) in files.items():
        data[name] = (io.BytesIO(content), filename)
    return client.post("/moderatie/import/", data=data, content_type="multipart/form-data")


def job_id_of(response) -> int:
    match = re.search(r"/moderatie/import/(\d+)", response.headers.get("Location", ""))
    assert match, response.get_data(as_text=True)[:2000]
    return int(match.group(1))


def finish(app, job_id: int) -> ImportJob:
    """Wait for the job's thread; the job as it is then."""
    jobs.wait(app, job_id)
    db.session.expire_all()
    job = db.session.get(ImportJob, job_id)
    assert job is not None
    return job


def post_form(client, url: str, page_url: str, **data):
    token = csrf_token_from(client.get(page_url).get_data(as_text=True))
    return client.post(url, data={"csrf_token": token, **data})
