"""Curated obstacle themes (knelpunten) and the rules behind them."""
from __future__ import annotations

from datetime import datetime

from flask_babel import lazy_gettext as _l
from sqlalchemy import JSON, ForeignKey, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from registry.database import TimestampMixin, utcnow
from registry.extensions import Model

# Where a rule comes from (DOMAIN.md): the first question a policy advisor asks.
RULE_LEVELS = ("wet", "amvb", "ministeriele_regeling", "toezicht", "sectorafspraak", "bestuur")
# Their names in tables, documents and the API (one place; the theme form adds examples).
RULE_LEVEL_LABELS = {
    "wet": _l("Wet"),
    "amvb": _l("AMvB"),
    "ministeriele_regeling": _l("Ministeriële regeling"),
    "toezicht": _l("Toezicht (inspectie)"),
    "sectorafspraak": _l("Sectorafspraak"),
    "bestuur": _l("Bestuur of school"),
}


class Theme(TimestampMixin, Model):
    """A curated theme grouping similar reported obstacles, with a canonical description."""

    __tablename__ = "theme"

    id: Mapped[int] = mapped_column(primary_key=True)
    area_code: Mapped[str] = mapped_column(ForeignKey("obstacle_area.code"), index=True)
    title: Mapped[str] = mapped_column(String(200))
    description: Mapped[str] = mapped_column(Text, default="")
    # The one ask to OCW for this theme, curated by a moderator (the ministry brief)
    ask: Mapped[str] = mapped_column(Text, default="", server_default="")
    # Existing experiment provisions that could carry a pilot (pilot dossiers)
    experiment_provisions: Mapped[str] = mapped_column(Text, default="", server_default="")
    # Optional English texts (issue 19): the English interface shows these, or the Dutch text
    # marked lang="nl" when they are empty.
    title_en: Mapped[str] = mapped_column(String(200), default="", server_default="")
    description_en: Mapped[str] = mapped_column(Text, default="", server_default="")
    ask_en: Mapped[str] = mapped_column(Text, default="", server_default="")
    version_id: Mapped[int] = mapped_column(default=1)

    area = relationship("ObstacleArea")
    rules: Mapped[list[ThemeRule]] = relationship(
        back_populates="theme", cascade="all, delete-orphan", order_by="ThemeRule.id"
    )

    __mapper_args__ = {"version_id_col": version_id}


class ThemeRule(Model):
    """A rule involved in a theme, with its level (wet ... bestuur), source link and room."""

    __tablename__ = "theme_rule"

    id: Mapped[int] = mapped_column(primary_key=True)
    theme_id: Mapped[int] = mapped_column(ForeignKey("theme.id", ondelete="CASCADE"), index=True)
    title: Mapped[str] = mapped_column(String(300))
    level: Mapped[str] = mapped_column(String(30))  # one of RULE_LEVELS
    source_url: Mapped[str] = mapped_column(String(500), default="")
    existing_room: Mapped[str] = mapped_column(Text, default="")  # exemptions, experiments...
    title_en: Mapped[str] = mapped_column(String(300), default="", server_default="")
    existing_room_en: Mapped[str] = mapped_column(Text, default="", server_default="")

    theme: Mapped[Theme] = relationship(back_populates="rules")


class DuplicateFlag(Model):
    """A pair of entries that look like the same initiative, and what a moderator decided.

    The pair is stored once, lowest id first. ``status``: open | not_duplicate | merged (then
    ``kept_id`` is the entry that was kept and the other one has state 'merged').
    """

    __tablename__ = "duplicate_flag"
    __table_args__ = (UniqueConstraint("first_id", "second_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    first_id: Mapped[int] = mapped_column(ForeignKey("initiative.id", ondelete="CASCADE"),
                                          index=True)
    second_id: Mapped[int] = mapped_column(ForeignKey("initiative.id", ondelete="CASCADE"),
                                           index=True)
    reasons: Mapped[list] = mapped_column(JSON, default=list)  # brin_location|postcode|names
    score: Mapped[float] = mapped_column(default=0.0)
    status: Mapped[str] = mapped_column(String(20), default="open", index=True)
    kept_id: Mapped[int | None]
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    decided_at: Mapped[datetime | None]
    decided_by_id: Mapped[int | None] = mapped_column(ForeignKey("user_account.id"))

    first = relationship("Initiative", foreign_keys=[first_id])
    second = relationship("Initiative", foreign_keys=[second_id])

    def other(self, initiative_id: int):
        return self.second if initiative_id == self.first_id else self.first


class MergeOperation(Model):
    """One merge of ``merged_id`` into ``kept_id``, recorded so that it can be undone.

    ``state`` holds everything the merge changed, as it was before: both entries' fields,
    states and versions, the kept entry's dimension levels, which obstacles moved (with their
    positions) and the duplicate flag's decision. Undo restores it and stamps ``undone_at``.
    """

    __tablename__ = "merge_operation"

    id: Mapped[int] = mapped_column(primary_key=True)
    kept_id: Mapped[int] = mapped_column(ForeignKey("initiative.id", ondelete="CASCADE"),
                                         index=True)
    merged_id: Mapped[int] = mapped_column(ForeignKey("initiative.id", ondelete="CASCADE"),
                                           index=True)
    state: Mapped[dict] = mapped_column(JSON, default=dict)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("user_account.id"))
    undone_at: Mapped[datetime | None]
    undone_by_id: Mapped[int | None] = mapped_column(ForeignKey("user_account.id"))

    kept = relationship("Initiative", foreign_keys=[kept_id])
    merged = relationship("Initiative", foreign_keys=[merged_id])
