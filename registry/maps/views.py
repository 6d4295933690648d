"""The public map."""
from __future__ import annotations

from flask import Blueprint

bp = Blueprint("maps", __name__)
