"""Read-side queries for the public map: GeoJSON, counts and the province view.

Published initiatives only, never personal data.

The GeoJSON (issue 20) is read with one narrow query (the columns a feature shows, and the
area codes of each initiative's public obstacles aggregated in SQL), written feature by
feature through json's own C string encoder (byte for byte what ``json.dumps`` gave) and
gzipped as it is written. The gzipped document is made once per public data version and
canonical filter and stored in the database (``registry.cache.shared_put``), so every worker
and every app server serves it without building it again; a per-process LRU of the gzipped
bytes sits in front. Clients that do not accept gzip get it decompressed as it is sent.
"""
from __future__ import annotations

import hashlib
import json
import zlib
from collections import defaultdict
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from json.encoder import encode_basestring

from sqlalchemy import func, select

from registry.cache import (
    Found,
    SharedResults,
    Versions,
    has_pending_public_changes,
    public_data_version,
    public_versions,
    shared_key,
)
from registry.extensions import db
from registry.published.filters import InitiativeFilter
from registry.published.sources import PUBLISHED
from registry.submissions.models import Initiative, Obstacle, Organisation
from registry.taxonomy.constants import PROVINCES

UNKNOWN_PROVINCE = ""
# What a map feature shows (the popup) and what a re-user needs; never contact data.
FEATURE_FIELDS = ("id", "title", "school_name", "city", "municipality", "province", "sector",
                  "latitude", "longitude")
# Part of the key of the stored GeoJSON: change it with the output, so that results stored
# by older code for the same data version are not served.
GEOJSON_FORMAT = "2"
GZIP_LEVEL = 6
BATCH = 2000  # features per encoded piece (and rows per fetch)
_GZIP_WBITS = 31  # zlib: a gzip header and trailer
# json.dumps(ensure_ascii=False) writes strings with this (C) function and floats as repr()
# does, except these
_encode_string: Callable[[str], str] = encode_basestring
_NOT_FINITE = {"nan": "NaN", "inf": "Infinity", "-inf": "-Infinity"}


def data_version() -> str:
    """A string that changes whenever the data behind the map may have changed."""
    return public_data_version() or "0"


def _located(flt: InitiativeFilter):
    """The published initiatives under ``flt`` that have a location, in id order: the
    columns of a feature (``FEATURE_FIELDS``) and the area codes of the initiative's public
    obstacles (all of them, not only those in the filter's areas), comma-separated."""
    src = PUBLISHED
    lat, lon = src.col("latitude"), src.col("longitude")
    ob = src.obstacle.c
    areas = (select(func.aggregate_strings(ob.area_code, ","))
             .where(ob.initiative_id == src.col("id"), src.obstacle_scope())
             .scalar_subquery())
    return (select(*[src.col(name) for name in FEATURE_FIELDS], areas.label("areas"))
            .select_from(src.select_from())
            .where(src.scope, *flt.where(src), lat.is_not(None), lon.is_not(None))
            .order_by(src.col("id")))


def _string(value: str | None) -> str:
    return "null" if value is None else _encode_string(value)


def _number(value: float) -> str:
    text = repr(value)
    return text if text not in _NOT_FINITE else _NOT_FINITE[text]


def _feature_texts(flt: InitiativeFilter, detail_url_prefix: str) -> Iterator[str]:
    """Each feature as the JSON text ``json.dumps(feature, ensure_ascii=False,
    separators=(",", ":"))`` gives for::

        {"type": "Feature", "id": id,
         "geometry": {"type": "Point", "coordinates": [lon, lat]},  # 5 decimals
         "properties": {"title", "school", "place", "province", "sector",
                        "areas": [sorted distinct area codes], "url"}}

    written piece by piece (strings through json's own C encoder): a dict per feature and
    the generic encoder were most of the time at 100,000 features."""
    listed: dict[str | None, str] = {}  # aggregated area codes -> the JSON list
    text = _encode_string
    rows = db.session.execute(_located(flt).execution_options(yield_per=BATCH))
    for (initiative_id, title, school, city, municipality, province, sector, lat, lon,
         areas) in rows:
        area_list = listed.get(areas)
        if area_list is None:
            codes = sorted(set(areas.split(","))) if areas else []
            area_list = listed[areas] = "[" + ",".join(map(text, codes)) + "]"
        url = text(f"{detail_url_prefix}{initiative_id}")
        yield (f'{{"type":"Feature","id":{initiative_id:d},"geometry":{{"type":"Point",'
               f'"coordinates":[{_number(round(lon, 5))},{_number(round(lat, 5))}]}},'
               f'"properties":{{"title":{_string(title)},"school":{_string(school)},'
               f'"place":{text(city or municipality or "")},'
               f'"province":{text(province or "")},"sector":{_string(sector)},'
               f'"areas":{area_list},"url":{url}}}}}')


def geojson_chunks(flt: InitiativeFilter, detail_url_prefix: str) -> Iterator[bytes]:
    """An RFC 7946 FeatureCollection of the published initiatives that match ``flt`` and
    have a location, as UTF-8 pieces: ``{"type":"FeatureCollection","features":[...]}``,
    compact (as ``json.dumps(..., ensure_ascii=False, separators=(",", ":"))``), features
    in id order."""
    yield b'{"type":"FeatureCollection","features":['
    batch: list[str] = []
    first = True
    for feature in _feature_texts(flt, detail_url_prefix):
        batch.append(feature)
        if len(batch) == BATCH:
            yield ("" if first else ",").encode() + ",".join(batch).encode("utf-8")
            first = False
            batch.clear()
    if batch:
        yield ("" if first else ",").encode() + ",".join(batch).encode("utf-8")
    yield b"]}"


def build_geojson(flt: InitiativeFilter, detail_url_prefix: str) -> bytes:
    """The FeatureCollection of ``geojson_chunks``, gzipped (level ``GZIP_LEVEL``).

    zlib lets go of the GIL while it compresses, so the pieces are compressed in a thread
    of their own, in order, while the next ones are read and written: on two cores the
    compression costs next to no time (a third of the build at 100,000 features)."""
    packer = zlib.compressobj(GZIP_LEVEL, zlib.DEFLATED, _GZIP_WBITS)
    with ThreadPoolExecutor(max_workers=1, thread_name_prefix="geojson-gzip") as pool:
        pieces = [pool.submit(packer.compress, chunk)
                  for chunk in geojson_chunks(flt, detail_url_prefix)]
        out = [piece.result() for piece in pieces]
    out.append(packer.flush())
    return b"".join(out)


def gunzip_chunks(body: bytes, size: int = 256 * 1024) -> Iterator[bytes]:
    """A gzipped body decompressed piece by piece (for clients that do not accept gzip)."""
    unpacker = zlib.decompressobj(_GZIP_WBITS)
    for start in range(0, len(body), size):
        piece = unpacker.decompress(body[start:start + size])
        if piece:
            yield piece
    rest = unpacker.flush()
    if rest:
        yield rest


def gunzipped_size(body: bytes) -> int:
    """The size of a gzipped body once decompressed (the gzip trailer's ISIZE: exact below
    4 GiB)."""
    return int.from_bytes(body[-4:], "little")


def etag_for(version: str, flt: InitiativeFilter, prefix: str) -> str:
    """The ETag of the GeoJSON of ``flt`` at data ``version`` (links under ``prefix``)."""
    key = json.dumps([version, flt.to_args(), prefix], sort_keys=True)
    return hashlib.sha256(key.encode()).hexdigest()[:32]


class GeoJSONCache:
    """Kept for callers of ``GeoJSONCache.etag_for`` (the map page names the version)."""

    etag_for = staticmethod(etag_for)


# The gzipped GeoJSON per app, database, filter and link prefix in this process (bounded by
# bytes: one national document is ~3.3 MB gzipped at 100,000), in front of
# ``shared_result``.
geojson_cache = SharedResults(max_weight=32 * 1024 * 1024)


def geojson(flt: InitiativeFilter, detail_url_prefix: str, versions: Versions | None = None
            ) -> Found[bytes]:
    """The gzipped GeoJSON of ``flt`` and the data version it shows: built once per data
    version for every worker (``registry.cache.SharedResults``). While one worker builds it
    after a publication, the others serve the previous one (it only lacks the newest
    entries); after a change that may take something away, they wait for the new one."""
    flt = flt.canonical()
    versions = versions or public_versions()
    if versions is None or has_pending_public_changes(db.session):
        # no stamp, or results of uncommitted changes: built, not stored
        return Found(build_geojson(flt, detail_url_prefix), data_version(), True)
    stored_key = shared_key("map-geojson", GEOJSON_FORMAT, flt.cache_key(), detail_url_prefix)
    return geojson_cache.get(stored_key, versions,
                             lambda: build_geojson(flt, detail_url_prefix),
                             encode=lambda body: body, decode=lambda body: body, weight=len)


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
