"""Where the pin picker opens: on the chosen school, not on the whole country (issue 19).

The expected coordinates are read straight from the shipped data files."""
from __future__ import annotations

import gzip
import html as html_lib
import json
import re
from pathlib import Path

from tests.conftest import csrf_token_from
from tests.factories import form_post

DATA = Path(__file__).resolve().parents[2] / "registry" / "geo" / "data"


def shipped_school(code: str) -> list:
    with gzip.open(DATA / "schools.json.gz", "rt", encoding="utf-8") as fh:
        return next(row for row in json.load(fh) if row[0] == code)


def shipped_pc4(pc4: str) -> list:
    with gzip.open(DATA / "pc4.json.gz", "rt", encoding="utf-8") as fh:
        return next(row for row in json.load(fh) if row[0] == pc4)


def picker_attributes(page: str) -> dict[str, str]:
    tag = re.search(r"<div [^>]*data-pin-picker[^>]*>", page, re.S).group(0)
    return {k: html_lib.unescape(v) for k, v in re.findall(r'(data-[a-z-]+)="([^"]*)"', tag)}


def rerender(client, **fields) -> str:
    """Send the form with a missing title: it comes back with everything typed kept."""
    page = client.get("/aanmelden").get_data(as_text=True)
    response = client.post("/aanmelden", data=dict(
        form_post(title="", **fields), csrf_token=csrf_token_from(page)))
    assert response.status_code == 422
    return response.get_data(as_text=True)


def test_a_new_form_has_no_school_so_the_picker_shows_the_country(client):
    attrs = picker_attributes(client.get("/aanmelden").get_data(as_text=True))
    assert "data-school-lat" not in attrs
    assert attrs["data-context"].startswith("/kaart/context.geojson")


def test_the_form_sent_back_opens_the_picker_on_the_chosen_school(csrf_client):
    code, brin, name, *_, lat, lon, _web = shipped_school("14PS00")  # Roermond
    attrs = picker_attributes(rerender(
        csrf_client, school_name=name, brin=brin, location_number="00", sector="vo",
        postcode="6042 EH", city="Roermond", qualification_codes=""))
    assert float(attrs["data-school-lat"]) == lat
    assert float(attrs["data-school-lon"]) == lon
    assert attrs["data-school-name"] == name
    assert attrs["data-school-zoom"] == "13"


def test_without_a_known_school_the_picker_opens_on_the_postcode_area(csrf_client):
    pc4, place, lat, lon = shipped_pc4("6211")  # Maastricht
    attrs = picker_attributes(rerender(
        csrf_client, school_name="Nieuwe leerwerkplaats", brin="99ZX", location_number="",
        postcode="6211 AB", city=place))
    assert (float(attrs["data-school-lat"]), float(attrs["data-school-lon"])) == (lat, lon)
    assert attrs["data-school-zoom"] == "12"
