"""The online geocoder (geopy; Nominatim by default) with a rate limiter and a DB cache.

Only used when the caller allows it (the ``geocode`` command) and ``GEOCODER_ONLINE`` is on.
"""
from __future__ import annotations

import logging
import threading
from dataclasses import dataclass
from datetime import timedelta

from flask import current_app
from geopy.exc import GeopyError
from geopy.extra.rate_limiter import RateLimiter
from geopy.geocoders import get_geocoder_for_service
from sqlalchemy import select

from registry.database import as_utc, utcnow
from registry.extensions import db
from registry.geo.models import GeocodeCache

logger = logging.getLogger(__name__)

# A miss is asked again after this long (addresses of new buildings appear in OSM later).
MISS_TTL = timedelta(days=30)

PLACE_TYPES = {
    "city", "town", "village", "hamlet", "municipality", "suburb", "neighbourhood", "quarter",
    "county", "state", "province", "city_district", "borough", "isolated_dwelling", "locality",
}


@dataclass
class OnlineResult:
    latitude: float
    longitude: float
    precision: str  # address | postcode | place
    address: str = ""
    cached: bool = False


class GeocoderUnavailable(Exception):
    """The geocoder failed (timeout, HTTP error, rate limit after retries)."""


_lock = threading.Lock()
_geocoders: dict[tuple, RateLimiter] = {}


def _settings() -> tuple:
    cfg = current_app.config
    return (
        cfg["GEOCODER_PROVIDER"],
        cfg["GEOCODER_DOMAIN"],
        cfg["GEOCODER_SCHEME"],
        cfg["GEOCODER_USER_AGENT"],
        float(cfg["GEOCODER_TIMEOUT"]),
        float(cfg["GEOCODER_MIN_DELAY"]),
        int(cfg["GEOCODER_MAX_RETRIES"]),
    )


def rate_limited_geocode() -> RateLimiter:
    """One rate-limited geocode function per configuration, shared by the whole process."""
    key = _settings()
    with _lock:
        limiter = _geocoders.get(key)
        if limiter is None:
            provider, domain, scheme, agent, timeout, min_delay, retries = key
            geocoder_class = get_geocoder_for_service(provider)
            kwargs = {"user_agent": agent, "timeout": timeout, "scheme": scheme}
            if domain:
                kwargs["domain"] = domain
            geocoder = geocoder_class(**kwargs)
            limiter = RateLimiter(
                geocoder.geocode, min_delay_seconds=min_delay, max_retries=retries,
                error_wait_seconds=max(min_delay,
                                       float(current_app.config["GEOCODER_ERROR_WAIT"])),
                swallow_exceptions=False,
            )
            _geocoders[key] = limiter
    return limiter


def _precision(raw: dict) -> str:
    kind = (raw.get("addresstype") or raw.get("type") or "").lower()
    if kind == "postcode":
        return "postcode"
    if kind in PLACE_TYPES or raw.get("class") == "boundary":
        return "place"
    return "address"


def build_query(street: str, postcode: str, city: str) -> str:
    place = f"{postcode or ''} {city or ''}".strip()
    parts = [p.strip() for p in (street, place) if p and p.strip()]
    return ", ".join(parts + ["Nederland"])


def geocode(query: str) -> OnlineResult | None:
    """Look ``query`` up in the cache, then online. None when nothing was found.

    Raises GeocoderUnavailable when the service failed (the miss is then not cached).
    """
    provider = _settings()[0]
    query = query[:400]
    cached = db.session.scalar(select(GeocodeCache).where(GeocodeCache.query == query))
    if cached is not None:
        if cached.found and cached.latitude is not None and cached.longitude is not None:
            return OnlineResult(cached.latitude, cached.longitude, cached.precision or "address",
                                cached.address, cached=True)
        if utcnow() - as_utc(cached.created_at) < MISS_TTL:
            return None
    kwargs: dict[str, bool | str] = {"exactly_one": True}
    if provider == "nominatim":
        kwargs["country_codes"] = "nl"
    try:
        location = rate_limited_geocode()(query, **kwargs)
    except GeopyError as exc:
        logger.warning("Online geocoder failed for %r: %s", query, exc)
        raise GeocoderUnavailable(str(exc)) from exc
    if cached is None:
        cached = GeocodeCache(provider=provider, query=query)
        db.session.add(cached)
    cached.created_at = utcnow()
    if location is None:
        cached.found = False
        cached.latitude = cached.longitude = None
        return None
    raw = location.raw if isinstance(location.raw, dict) else {}
    cached.found = True
    cached.latitude = float(location.latitude)
    cached.longitude = float(location.longitude)
    cached.address = (location.address or "")[:500]
    cached.precision = _precision(raw)
    return OnlineResult(cached.latitude, cached.longitude, cached.precision, cached.address)
