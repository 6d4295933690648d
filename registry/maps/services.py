"""Read-side queries for the public map: GeoJSON, counts and the province view.

Published initiatives only, never personal data. The GeoJSON is built from the one record
path and cached per process by data version and filter.
"""
from __future__ import annotations

import gzip
import hashlib
import json
import threading
from collections import OrderedDict, defaultdict
from dataclasses import dataclass

from sqlalchemy import func, select

from registry.cache import public_data_version
from registry.extensions import db
from registry.published import records
from registry.published.filters import InitiativeFilter
from registry.published.sources import PUBLISHED
from registry.submissions.models import Initiative, Obstacle, Organisation
from registry.taxonomy.constants import PROVINCES

UNKNOWN_PROVINCE = ""
# What a map feature shows (the popup) and what a re-user needs; never contact data.
FEATURE_FIELDS = ("id", "title", "school_name", "city", "municipality", "province", "sector",
                  "latitude", "longitude")


def data_version() -> str:
    """A string that changes whenever the data behind the map may have changed."""
    return public_data_version() or "0"


def build_geojson(flt: InitiativeFilter, detail_url_prefix: str) -> bytes:
    """An RFC 7946 FeatureCollection of the published initiatives that match ``flt``."""
    features = []
    for rec in records.initiatives(PUBLISHED, flt, fields=FEATURE_FIELDS,
                                   obstacle_fields=("area_code",), obstacles="all",
                                   dimensions=False):
        school = rec["school"]
        lat, lon = school["latitude"], school["longitude"]
        if lat is None or lon is None:
            continue
        features.append({
            "type": "Feature",
            "id": rec["id"],
            "geometry": {"type": "Point", "coordinates": [round(lon, 5), round(lat, 5)]},
            "properties": {
                "title": rec["title"],
                "school": school["name"],
                "place": school["city"] or school["municipality"] or "",
                "province": school["province"] or "",
                "sector": school["sector"],
                "areas": sorted({o["area"] for o in rec["obstacles"]}),
                "url": f"{detail_url_prefix}{rec['id']}",
            },
        })
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
    """Matching initiatives, those with a location, and the obstacles that count under the
    filter (as in the exports and the summary)."""
    ids = flt.select_ids(PUBLISHED).subquery()
    initiatives = db.session.scalar(select(func.count()).select_from(ids)) or 0
    located = db.session.scalar(
        select(func.count(Initiative.id))
        .join(Organisation, Initiative.organisation_id == Organisation.id)
        .where(Initiative.id.in_(select(ids.c.id)), Organisation.latitude.is_not(None))
    ) or 0
    obstacles = db.session.scalar(
        select(func.count(Obstacle.id)).where(Obstacle.initiative_id.in_(select(ids.c.id)),
                                              *flt.obstacle_where(PUBLISHED))
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


def area_totals(rows: list[ProvinceRow]) -> dict[str, int]:
    """Obstacles per area over all rows of the province table."""
    totals: dict[str, int] = {}
    for row in rows:
        for code, count in row.obstacles.items():
            totals[code] = totals.get(code, 0) + count
    return totals


def province_table(flt: InitiativeFilter) -> list[ProvinceRow]:
    """For every province (and 'unknown' when any): initiatives and obstacles per area."""
    ids = select(flt.select_ids(PUBLISHED).subquery().c.id)
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
        .where(Initiative.id.in_(ids), *flt.obstacle_where(PUBLISHED))
        .group_by(Organisation.province, Obstacle.area_code)
    ):
        obstacle_counts[province][area] = count
    rows = [ProvinceRow(p, initiative_counts.get(p, 0), obstacle_counts.get(p, {}))
            for p in PROVINCES]
    unknown = initiative_counts.get(None, 0)
    if unknown:
        rows.append(ProvinceRow(UNKNOWN_PROVINCE, unknown, obstacle_counts.get(None, {})))
    return rows
