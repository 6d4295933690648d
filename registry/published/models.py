"""Citable snapshots of the published data (e.g. ``2026-11-a``), stored as rows.

A snapshot freezes the published records and themes of one moment in tables shaped like the
live ones (same column names for everything the filter and the record builder read), so the
one SQL filter (``registry.published.filters``) and the one record builder
(``registry.published.records``) read a snapshot exactly as they read live data. A figure
quoted in a meeting can be reproduced months later from the snapshot.

No e-mail address or phone number is ever stored here; a contact's name only when the
contact consented to its publication.
"""
from __future__ import annotations

from datetime import datetime

from sqlalchemy import Float, ForeignKey, Index, Integer, String, Text, false
from sqlalchemy.orm import Mapped, mapped_column, relationship

from registry.database import utcnow
from registry.extensions import Model


class Snapshot(Model):
    """The header of a snapshot: its code, when and by whom it was made, and its size."""

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

    created_by = relationship("User")


def _snapshot_id() -> Mapped[int]:
    return mapped_column(ForeignKey("snapshot.id", ondelete="CASCADE"), primary_key=True)


class SnapshotInitiative(Model):
    """A published initiative with its school, as it was when the snapshot was made."""

    __tablename__ = "snapshot_initiative"

    snapshot_id: Mapped[int] = _snapshot_id()
    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=False)
    reference: Mapped[str | None] = mapped_column(String(20))
    title: Mapped[str] = mapped_column(String(200))
    summary: Mapped[str] = mapped_column(String(300))
    description: Mapped[str] = mapped_column(Text, default="")
    phase: Mapped[str] = mapped_column(String(20))
    start_year: Mapped[int | None]
    learners_count: Mapped[int | None]
    staff_count: Mapped[int | None]
    ict: Mapped[str] = mapped_column(Text, default="")
    language: Mapped[str] = mapped_column(String(5), default="nl")
    published_at: Mapped[datetime | None]
    updated_at: Mapped[datetime | None]
    search_text: Mapped[str] = mapped_column(Text, default="")
    school_name: Mapped[str] = mapped_column(String(200))
    brin: Mapped[str] = mapped_column(String(4))
    location_number: Mapped[str | None] = mapped_column(String(2))
    sector: Mapped[str] = mapped_column(String(16))
    levels: Mapped[str] = mapped_column(String(300), default="")
    qualification_codes: Mapped[str] = mapped_column(String(300), default="")
    city: Mapped[str] = mapped_column(String(100), default="")
    municipality: Mapped[str | None] = mapped_column(String(100))
    province: Mapped[str | None] = mapped_column(String(50))
    postcode: Mapped[str] = mapped_column(String(7), default="")
    latitude: Mapped[float | None] = mapped_column(Float)
    longitude: Mapped[float | None] = mapped_column(Float)
    website: Mapped[str] = mapped_column(String(300), default="")
    geo_precision: Mapped[str | None] = mapped_column(String(20))
    # Only when the contact consented to publication of the name (never e-mail or phone).
    contact_name: Mapped[str | None] = mapped_column(String(200))
    consent_quotes: Mapped[bool] = mapped_column(default=False)
    # Withdrawn since the snapshot was made: the texts, the school's name and address are
    # blanked and the row leaves every row-level output; it still counts in the frozen
    # aggregates (issue 16).
    withdrawn: Mapped[bool] = mapped_column(default=False, server_default=false())


class SnapshotObstacle(Model):
    """An obstacle of a snapshot's initiative (columns named as in ``obstacle``)."""

    __tablename__ = "snapshot_obstacle"
    __table_args__ = (
        Index("ix_snapshot_obstacle_initiative", "snapshot_id", "initiative_id", "area_code",
              "theme_id"),
        Index("ix_snapshot_obstacle_theme", "snapshot_id", "theme_id", "initiative_id"),
    )

    snapshot_id: Mapped[int] = _snapshot_id()
    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=False)
    initiative_id: Mapped[int]
    area_code: Mapped[str] = mapped_column(String(20))
    title: Mapped[str] = mapped_column(String(200))
    description: Mapped[str] = mapped_column(Text, default="")
    rule: Mapped[str] = mapped_column(String(500), default="")
    severity: Mapped[int]
    status: Mapped[str] = mapped_column(String(20), default="open")
    workaround: Mapped[str] = mapped_column(Text, default="")
    policy_ask: Mapped[str] = mapped_column(Text, default="")
    position: Mapped[int] = mapped_column(default=0)
    theme_id: Mapped[int | None]
    # As in ``obstacle``; made confidential later by the school, it is confidential here too.
    visibility: Mapped[str] = mapped_column(String(20), default="public",
                                            server_default="public")
    created_at: Mapped[datetime | None]
    reported_at: Mapped[datetime | None]


class SnapshotDimension(Model):
    """A snapshot initiative's level on one dimension (columns as in initiative_dimension)."""

    __tablename__ = "snapshot_dimension"

    snapshot_id: Mapped[int] = _snapshot_id()
    initiative_id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=False)
    dimension_code: Mapped[str] = mapped_column(String(20), primary_key=True)
    current_level: Mapped[int] = mapped_column(default=0)
    ambition_level: Mapped[int] = mapped_column(default=0)


class SnapshotTheme(Model):
    """A curated theme as it was when the snapshot was made."""

    __tablename__ = "snapshot_theme"

    snapshot_id: Mapped[int] = _snapshot_id()
    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=False)
    area_code: Mapped[str] = mapped_column(String(20))
    title: Mapped[str] = mapped_column(String(200))
    description: Mapped[str] = mapped_column(Text, default="")
    ask: Mapped[str] = mapped_column(Text, default="", server_default="")


class SnapshotThemeRule(Model):
    """A rule of a snapshot theme, with where it comes from."""

    __tablename__ = "snapshot_theme_rule"

    snapshot_id: Mapped[int] = _snapshot_id()
    theme_id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=False)
    position: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=False)
    title: Mapped[str] = mapped_column(String(300))
    level: Mapped[str] = mapped_column(String(30))
    source_url: Mapped[str] = mapped_column(String(500), default="")
    existing_room: Mapped[str] = mapped_column(Text, default="")
