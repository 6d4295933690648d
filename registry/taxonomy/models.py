"""Taxonomy tables: the one source of the codes and labels of areas, dimensions, sectors and
phases. Codes are stable identifiers (URLs, exports, the API); labels exist in Dutch and
English. The first rows are seeded by migrations; ``registry.taxonomy.services.current``
reads them for every read path."""
from __future__ import annotations

from sqlalchemy import String, Text
from sqlalchemy.orm import Mapped, mapped_column

from registry.extensions import Model


class ObstacleArea(Model):
    """One of the five regulatory areas (plus 'overig') in which schools meet obstacles."""

    __tablename__ = "obstacle_area"

    code: Mapped[str] = mapped_column(String(20), primary_key=True)
    label_nl: Mapped[str] = mapped_column(String(100))
    label_en: Mapped[str] = mapped_column(String(100))
    description_nl: Mapped[str] = mapped_column(Text, default="")
    description_en: Mapped[str] = mapped_column(Text, default="")
    position: Mapped[int] = mapped_column(default=0)


class Dimension(Model):
    """A dimension of personalised learning (iXperium), scored 0-3 now and as ambition."""

    __tablename__ = "dimension"

    code: Mapped[str] = mapped_column(String(20), primary_key=True)
    label_nl: Mapped[str] = mapped_column(String(100))
    label_en: Mapped[str] = mapped_column(String(100))
    position: Mapped[int] = mapped_column(default=0)


class Sector(Model):
    """An education sector (po, vo, mbo, ...), with a short label for tables and lists."""

    __tablename__ = "sector"

    code: Mapped[str] = mapped_column(String(16), primary_key=True)
    label_nl: Mapped[str] = mapped_column(String(100))
    label_en: Mapped[str] = mapped_column(String(100))
    short_nl: Mapped[str] = mapped_column(String(20))
    short_en: Mapped[str] = mapped_column(String(20))
    position: Mapped[int] = mapped_column(default=0)


class Phase(Model):
    """The phase an initiative is in (idea, pilot, running, scaled up, stopped)."""

    __tablename__ = "phase"

    code: Mapped[str] = mapped_column(String(20), primary_key=True)
    label_nl: Mapped[str] = mapped_column(String(100))
    label_en: Mapped[str] = mapped_column(String(100))
    position: Mapped[int] = mapped_column(default=0)
