"""Streamed responses must be read inside the request's own context (see IsolatedClient)."""
from __future__ import annotations

import pytest

from tests.conftest import IsolatedClient


class BufferedClient(IsolatedClient):
    """``stream_with_context`` bodies are consumed while the request context is active."""

    def open(self, *args, **kwargs):
        kwargs.setdefault("buffered", True)
        return super().open(*args, **kwargs)


@pytest.fixture
def client(app):
    return BufferedClient(app, app.response_class, use_cookies=True)
