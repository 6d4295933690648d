"""School lookup and location endpoints."""
from __future__ import annotations

from flask import Blueprint

bp = Blueprint("geo", __name__)
