"""Browsers ask for /favicon.ico on every site (issue 19: it was a 404)."""
from __future__ import annotations


def test_favicon_is_served_and_linked(client):
    response = client.get("/favicon.ico")
    assert response.status_code == 200
    assert response.mimetype == "image/svg+xml"
    assert response.data.lstrip().startswith(b"<svg")
    assert 'rel="icon"' in client.get("/").get_data(as_text=True)
