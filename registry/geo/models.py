"""Cached answers of the online geocoder (so every address is asked at most once)."""
from __future__ import annotations

from datetime import datetime

from sqlalchemy import String
from sqlalchemy.orm import Mapped, mapped_column

from registry.database import utcnow
from registry.extensions import Model


class GeocodeCache(Model):
    """One geocoder query and its answer; ``found`` False caches a miss too."""

    __tablename__ = "geocode_cache"

    id: Mapped[int] = mapped_column(primary_key=True)
    provider: Mapped[str] = mapped_column(String(30))
    query: Mapped[str] = mapped_column(String(400), unique=True)
    found: Mapped[bool] = mapped_column(default=False)
    latitude: Mapped[float | None]
    longitude: Mapped[float | None]
    address: Mapped[str] = mapped_column(String(500), default="")
    precision: Mapped[str | None] = mapped_column(String(20))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
