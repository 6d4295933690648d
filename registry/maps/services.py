"""Read-side queries for the public map: GeoJSON, counts and the province view.

Published initiatives only, never personal data. The GeoJSON is built from one SQL query
(no ORM objects) and cached per process by data version and filter.
"""
from __future__ import annotations

import gzip
import hashlib
import json
import threading
import time
from collections import OrderedDict, defaultdict
from dataclasses import dataclass

from flask import current_app
from sqlalchemy import func, select

from registry.extensions import db
from registry.filters import InitiativeFilter
from registry.submissions.models import Initiative, Obstacle, Organisation
from registry.taxonomy.constants import PROVINCES

UNKNOWN_PROVINCE = ""


VERSION_TTL_SECONDS = 2.0
_version_lock = threading.Lock()
_version_cache: dict[str, tuple[float, str]] = {}


def _query_data_version() -> str:
    """Cheap aggregates over each table (no joins): they change with every insert, update
    (``updated_at``/``version_id``) and delete of what the map shows."""
    from registry.cache import public_data_version

    stamp = public_data_version()  # one primary-key lookup instead of seven scans (issue 11)
    if stamp is not None:
        return stamp
    row = db.session.connection().execute(select(
        select(func.count(Initiative.id)).scalar_subquery(),
        select(func.max(Initiative.updated_at)).scalar_subquery(),
        select(func.sum(Initiative.version_id)).scalar_subquery(),
        select(func.count(Organisation.id)).scalar_subquery(),
        select(func.max(Organisation.updated_at)).scalar_subquery(),
        select(func.count(Obstacle.id)).scalar_subquery(),
        select(func.max(Obstacle.updated_at)).scalar_subquery(),
    )).one()
    return "|".join(str(v) for v in row)


def data_version() -> str:
    """A string that changes whenever the data behind the map may have changed.

    Memoised per process and database for a moment (``VERSION_TTL_SECONDS``), so a burst of
    map requests costs one small query; the GeoJSON's ``max-age`` is longer anyway.
    """
    ttl = current_app.config.get("MAP_DATA_VERSION_TTL",
                                 0.0 if current_app.testing else VERSION_TTL_SECONDS)
    key = str(db.engine.url)
    now = time.monotonic()
    with _version_lock:
        cached = _version_cache.get(key)
        if cached is not None and now - cached[0] < ttl:
            return cached[1]
    version = _query_data_version()
    with _version_lock:
        _version_cache[key] = (now, version)
    return version


def forget_data_version() -> None:
    with _version_lock:
        _version_cache.clear()


def _feature_rows(flt: InitiativeFilter):
    areas = (
        select(func.aggregate_strings(Obstacle.area_code, ","))
        .where(Obstacle.initiative_id == Initiative.id)
        .correlate(Initiative)
        .scalar_subquery()
    )
    stmt = (
        select(Initiative.id, Initiative.title, Organisation.name, Organisation.city,
               Organisation.municipality, Organisation.province, Organisation.sector,
               Organisation.longitude, Organisation.latitude, areas)
        .join(Organisation, Initiative.organisation_id == Organisation.id)
        .where(Organisation.latitude.is_not(None), Organisation.longitude.is_not(None))
        .order_by(Initiative.id)
    )
    # Core execution: plain rows, no ORM loading machinery.
    return db.session.connection().execute(flt.apply(stmt))


def build_geojson(flt: InitiativeFilter, detail_url_prefix: str) -> bytes:
    """An RFC 7946 FeatureCollection of the published initiatives that match ``flt``.

    Only what the popup and a re-user need; never contact data.
    """
    features = [
        {
            "type": "Feature",
            "id": id_,
            "geometry": {"type": "Point", "coordinates": [round(lon, 5), round(lat, 5)]},
            "properties": {
                "title": title,
                "school": school,
                "place": city or municipality or "",
                "province": province or "",
                "sector": sector,
                "areas": sorted(set(area_codes.split(","))) if area_codes else [],
                "url": f"{detail_url_prefix}{id_}",
            },
        }
        for (id_, title, school, city, municipality, province, sector, lon, lat, area_codes)
        in _feature_rows(flt)
    ]
    return json.dumps({"type": "FeatureCollection", "features": features},
                      ensure_ascii=False, separators=(",", ":")).encode("utf-8")


@dataclass
class CachedGeoJSON:
    etag: str
    body: bytes
    _gzipped: bytes | None = None

    @property
    def gzipped(self) -> bytes:
        if self._gzipped is None:
            self._gzipped = gzip.compress(self.body, compresslevel=6, mtime=0)
        return self._gzipped


class GeoJSONCache:
    """A small per-process LRU cache keyed by (data version, filter)."""

    def __init__(self, size: int = 32):
        self.size = size
        self._items: OrderedDict[str, CachedGeoJSON] = OrderedDict()
        self._lock = threading.Lock()

    def clear(self) -> None:
        with self._lock:
            self._items.clear()

    @staticmethod
    def etag_for(version: str, flt: InitiativeFilter, prefix: str) -> str:
        key = json.dumps([version, flt.to_args(), prefix], sort_keys=True)
        return hashlib.sha256(key.encode()).hexdigest()[:32]

    def get(self, etag: str) -> CachedGeoJSON | None:
        with self._lock:
            item = self._items.get(etag)
            if item is not None:
                self._items.move_to_end(etag)
            return item

    def put(self, item: CachedGeoJSON) -> None:
        with self._lock:
            self._items[item.etag] = item
            self._items.move_to_end(item.etag)
            while len(self._items) > self.size:
                self._items.popitem(last=False)


geojson_cache = GeoJSONCache()


def map_counts(flt: InitiativeFilter) -> dict[str, int]:
    """Matching initiatives, those with a location, and their obstacles."""
    ids = flt.initiative_ids().subquery()
    initiatives = db.session.scalar(select(func.count()).select_from(ids)) or 0
    located = db.session.scalar(
        select(func.count(Initiative.id))
        .join(Organisation, Initiative.organisation_id == Organisation.id)
        .where(Initiative.id.in_(select(ids.c.id)), Organisation.latitude.is_not(None))
    ) or 0
    obstacles = db.session.scalar(
        select(func.count(Obstacle.id)).where(Obstacle.initiative_id.in_(select(ids.c.id)))
    ) or 0
    return {"initiatives": initiatives, "located": located, "unlocated": initiatives - located,
            "obstacles": obstacles}


@dataclass
class ProvinceRow:
    province: str
    initiatives: int
    obstacles: dict[str, int]

    @property
    def obstacles_total(self) -> int:
        return sum(self.obstacles.values())


def province_table(flt: InitiativeFilter) -> list[ProvinceRow]:
    """For every province (and 'unknown' when any): initiatives and obstacles per area."""
    ids = select(flt.initiative_ids().subquery().c.id)
    initiative_counts = dict(db.session.execute(
        select(Organisation.province, func.count(Initiative.id))
        .join(Organisation, Initiative.organisation_id == Organisation.id)
        .where(Initiative.id.in_(ids))
        .group_by(Organisation.province)
    ).all())
    obstacle_counts: dict[str | None, dict[str, int]] = defaultdict(dict)
    for province, area, count in db.session.execute(
        select(Organisation.province, Obstacle.area_code, func.count(Obstacle.id))
        .join(Initiative, Obstacle.initiative_id == Initiative.id)
        .join(Organisation, Initiative.organisation_id == Organisation.id)
        .where(Initiative.id.in_(ids))
        .group_by(Organisation.province, Obstacle.area_code)
    ):
        obstacle_counts[province][area] = count
    rows = [ProvinceRow(p, initiative_counts.get(p, 0), obstacle_counts.get(p, {}))
            for p in PROVINCES]
    unknown = initiative_counts.get(None, 0)
    if unknown:
        rows.append(ProvinceRow(UNKNOWN_PROVINCE, unknown, obstacle_counts.get(None, {})))
    return rows
