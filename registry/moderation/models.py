"""Curated obstacle themes (knelpunten) and the rules behind them."""
from __future__ import annotations

from sqlalchemy import ForeignKey, String, Text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from registry.database import TimestampMixin
from registry.extensions import db

# Where a rule comes from (DOMAIN.md): the first question a policy advisor asks.
RULE_LEVELS = ("wet", "amvb", "ministeriele_regeling", "toezicht", "sectorafspraak", "bestuur")


class Theme(TimestampMixin, db.Model):
    """A curated theme grouping similar reported obstacles, with a canonical description."""

    __tablename__ = "theme"

    id: Mapped[int] = mapped_column(primary_key=True)
    area_code: Mapped[str] = mapped_column(ForeignKey("obstacle_area.code"), index=True)
    title: Mapped[str] = mapped_column(String(200))
    description: Mapped[str] = mapped_column(Text, default="")
    version_id: Mapped[int] = mapped_column(default=1)

    area = relationship("ObstacleArea")
    rules: Mapped[list[ThemeRule]] = relationship(
        back_populates="theme", cascade="all, delete-orphan", order_by="ThemeRule.id"
    )

    __mapper_args__ = {"version_id_col": version_id}


class ThemeRule(db.Model):
    """A rule involved in a theme, with its level (wet ... bestuur), source link and room."""

    __tablename__ = "theme_rule"

    id: Mapped[int] = mapped_column(primary_key=True)
    theme_id: Mapped[int] = mapped_column(ForeignKey("theme.id", ondelete="CASCADE"), index=True)
    title: Mapped[str] = mapped_column(String(300))
    level: Mapped[str] = mapped_column(String(30))  # one of RULE_LEVELS
    source_url: Mapped[str] = mapped_column(String(500), default="")
    existing_room: Mapped[str] = mapped_column(Text, default="")  # exemptions, experiments...

    theme: Mapped[Theme] = relationship(back_populates="rules")
