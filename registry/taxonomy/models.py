"""Taxonomy tables. Codes are stable identifiers; labels exist in Dutch and English."""
from __future__ import annotations

from flask_babel import get_locale
from sqlalchemy import String, Text
from sqlalchemy.orm import Mapped, mapped_column

from registry.extensions import db


class _Labelled:
    code: Mapped[str]
    label_nl: Mapped[str]
    label_en: Mapped[str]

    @property
    def label(self) -> str:
        """The label in the current interface language (Dutch outside a request)."""
        try:
            locale = str(get_locale() or "nl")
        except RuntimeError:  # pragma: no cover - no app context
            locale = "nl"
        return self.label_en if locale.startswith("en") else self.label_nl


class ObstacleArea(_Labelled, db.Model):
    """One of the five regulatory areas (plus 'overig') in which schools meet obstacles."""

    __tablename__ = "obstacle_area"

    code: Mapped[str] = mapped_column(String(20), primary_key=True)
    label_nl: Mapped[str] = mapped_column(String(100))
    label_en: Mapped[str] = mapped_column(String(100))
    description_nl: Mapped[str] = mapped_column(Text, default="")
    description_en: Mapped[str] = mapped_column(Text, default="")
    position: Mapped[int] = mapped_column(default=0)

    @property
    def description(self) -> str:
        return self.description_en if self.label == self.label_en else self.description_nl


class Dimension(_Labelled, db.Model):
    """A dimension of personalised learning (iXperium), scored 0-3 now and as ambition."""

    __tablename__ = "dimension"

    code: Mapped[str] = mapped_column(String(20), primary_key=True)
    label_nl: Mapped[str] = mapped_column(String(100))
    label_en: Mapped[str] = mapped_column(String(100))
    position: Mapped[int] = mapped_column(default=0)
