"""Connecting schools: relayed contact requests and digests."""
from __future__ import annotations

from flask import Blueprint

bp = Blueprint("connect", __name__)
