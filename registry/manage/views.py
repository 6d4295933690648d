"""The submitter's private manage pages (confirm, edit, withdraw, own data)."""
from __future__ import annotations

from flask import Blueprint

bp = Blueprint("manage", __name__)
