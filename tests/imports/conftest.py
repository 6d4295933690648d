"""Uploads of the import tests go to a folder of their own per test."""
from __future__ import annotations

import pytest


@pytest.fixture(autouse=True)
def _import_dir(request, tmp_path):
    # only where the test uses the app fixture (browser tests use the live server's app)
    if "app" in request.fixturenames:
        request.getfixturevalue("app").config["IMPORT_DIR"] = str(tmp_path / "imports")
