"""Citable snapshots of the published data (e.g. ``2026-11-a``)."""
from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, ForeignKey, String, Text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from registry.database import utcnow
from registry.extensions import db


class Snapshot(db.Model):
    """Frozen published data (records as in ``registry.exports.records``), never changed.

    A figure quoted in a meeting can be reproduced months later by taking the export or the
    summary from the snapshot instead of from live data.
    """

    __tablename__ = "snapshot"

    id: Mapped[int] = mapped_column(primary_key=True)
    code: Mapped[str] = mapped_column(String(20), unique=True)
    created_at: Mapped[datetime] = mapped_column(default=utcnow, nullable=False)
    created_by_id: Mapped[int | None] = mapped_column(
        ForeignKey("user_account.id", ondelete="SET NULL"))
    created_by_label: Mapped[str] = mapped_column(String(254), default="")
    note: Mapped[str] = mapped_column(Text, default="")
    initiative_count: Mapped[int] = mapped_column(default=0)
    obstacle_count: Mapped[int] = mapped_column(default=0)
    data: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)

    created_by = relationship("User")
