"""The moderation queue, duplicates and themes."""
from __future__ import annotations

from flask import Blueprint

bp = Blueprint("moderation", __name__)
