"""Admin view of the mail outbox."""
from __future__ import annotations

from flask import Blueprint

bp = Blueprint("mail", __name__)
