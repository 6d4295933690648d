"""Browsers ask for /favicon.ico on every site (issue 19: it was a 404)."""
from __future__ import annotations

import xml.etree.ElementTree as ET


def test_favicon_is_served_and_linked(client):
    response = client.get("/favicon.ico")
    assert response.status_code == 200
    assert response.mimetype == "image/svg+xml"
    assert ET.fromstring(response.data).tag.endswith("svg")
    assert 'rel="icon"' in client.get("/").get_data(as_text=True)
