"""The offline reference data: schools, mbo institutions, PC4 centroids and the polygons.

Everything is loaded lazily, once per process, and is read-only afterwards (thread safe).
"""
from __future__ import annotations

import csv
import gzip
import json
import re
import threading
from dataclasses import dataclass
from functools import cached_property
from pathlib import Path

from shapely import STRtree
from shapely.geometry import Point, shape
from shapely.prepared import prep

from registry.geo.build_data import DATA_DIR
from registry.geo.lookup import LookupResult, SchoolIndex, fold

# Generalised coastlines: points just outside every polygon (a beach, a harbour) are assigned
# to the nearest one if it lies within this distance (degrees, ~3 km).
NEAREST_TOLERANCE = 0.03
# A rough box around the Netherlands (incl. the Wadden islands), for quick checks.
NL_BOUNDS = (3.2, 50.7, 7.3, 53.6)  # min lon, min lat, max lon, max lat


@dataclass(frozen=True)
class School:
    code: str  # vestigingscode (BRIN + 2 digits); mbo institutions: BRIN only
    brin: str
    name: str
    kind: str
    sector: str
    street: str
    postcode: str
    city: str
    latitude: float | None
    longitude: float | None
    website: str = ""

    @property
    def location_number(self) -> str:
        return self.code[4:6]

    def as_dict(self) -> dict:
        return {
            "code": self.code, "brin": self.brin, "location_number": self.location_number,
            "name": self.name, "type": self.kind, "sector": self.sector,
            "street": self.street, "postcode": self.postcode, "city": self.city,
            "website": self.website, "latitude": self.latitude, "longitude": self.longitude,
        }


def normalise_text(value: str) -> str:
    """Lower case, no accents, apostrophes or punctuation, single spaces: for matching names
    typed by people (``registry.geo.lookup.fold``)."""
    return fold(value)


def normalise_pc(value: str | None) -> str:
    return re.sub(r"\s+", "", value or "").upper()


class _Regions:
    """Polygons with an STRtree and prepared geometries for point-in-polygon lookups."""

    def __init__(self, path: Path, name_key: str):
        with open(path, encoding="utf-8") as fh:
            collection = json.load(fh)
        self.names: list[str] = []
        self.geoms = []
        for feature in collection["features"]:
            self.names.append(feature["properties"][name_key])
            self.geoms.append(shape(feature["geometry"]))
        self.prepared = [prep(g) for g in self.geoms]
        self.tree = STRtree(self.geoms)
        self.raw = collection

    def name_at(self, lon: float, lat: float) -> str | None:
        point = Point(lon, lat)
        for index in self.tree.query(point):
            if self.prepared[index].contains(point):
                return self.names[index]
        index = self.tree.nearest(point)
        if index is not None and self.geoms[index].distance(point) <= NEAREST_TOLERANCE:
            return self.names[index]
        return None


class Directory:
    """All offline data; use :func:`directory` to get the process-wide instance."""

    def __init__(self, data_dir: Path = DATA_DIR):
        self.data_dir = data_dir

    # --- schools -------------------------------------------------------------------------
    @cached_property
    def schools(self) -> list[School]:
        with gzip.open(self.data_dir / "schools.json.gz", "rt", encoding="utf-8") as fh:
            rows = json.load(fh)
        out = [School(code, brin, name, kind, sector, street, postcode, city, lat, lon, web)
               for code, brin, name, kind, sector, street, postcode, city, lat, lon, web in rows]
        return out + self.mbo

    @cached_property
    def mbo(self) -> list[School]:
        out = []
        with open(self.data_dir / "mbo_instellingen.csv", encoding="utf-8-sig", newline="") as fh:
            for row in csv.DictReader(fh, delimiter=";"):
                brin = (row.get("INSTELLINGSCODE") or "").strip().upper()
                if not brin:
                    continue
                pc = normalise_pc(row.get("POSTCODE"))
                centroid = self.pc4.get(pc[:4])
                street = " ".join(p for p in (
                    (row.get("STRAATNAAM") or "").strip(),
                    (row.get("HUISNUMMER-TOEVOEGING") or "").strip(),
                ) if p)
                out.append(School(
                    code=brin, brin=brin, name=(row.get("INSTELLINGSNAAM") or "").strip(),
                    kind=(row.get("MBO INSTELLINGSSOORT - NAAM") or "mbo").strip(), sector="mbo",
                    street=street, postcode=f"{pc[:4]} {pc[4:]}".strip(),
                    city=(row.get("PLAATSNAAM") or "").strip().title(),
                    latitude=centroid[1] if centroid else None,
                    longitude=centroid[2] if centroid else None,
                    website=(row.get("INTERNETADRES") or "").strip(),
                ))
        return out

    @cached_property
    def _by_code(self) -> dict[str, School]:
        return {s.code: s for s in self.schools}

    @cached_property
    def _by_brin(self) -> dict[str, list[School]]:
        out: dict[str, list[School]] = {}
        for s in self.schools:
            out.setdefault(s.brin, []).append(s)
        return out

    @cached_property
    def _by_postcode(self) -> dict[str, list[School]]:
        out: dict[str, list[School]] = {}
        for s in self.schools:
            out.setdefault(normalise_pc(s.postcode), []).append(s)
        return out

    @cached_property
    def _postcodes(self) -> list[tuple[str, School]]:
        return [(normalise_pc(s.postcode), s) for s in self.schools]

    @cached_property
    def index(self) -> SchoolIndex:
        """The name/place index of every school (built once, on the first lookup)."""
        return SchoolIndex(self.schools)

    def school_by_code(self, brin: str, location_number: str | None) -> School | None:
        brin = (brin or "").strip().upper()
        if location_number:
            return self._by_code.get(brin + location_number.strip().zfill(2))
        return None

    def schools_for_brin(self, brin: str) -> list[School]:
        return list(self._by_brin.get((brin or "").strip().upper(), []))

    def schools_at_postcode(self, postcode: str) -> list[School]:
        return list(self._by_postcode.get(normalise_pc(postcode), []))

    def mbo_by_brin(self, brin: str) -> School | None:
        brin = (brin or "").strip().upper()
        return next((s for s in self.mbo if s.brin == brin), None)

    def school_by_vestigingscode(self, code: str) -> School | None:
        """A school location by its full code (BRIN + 2 digits), or an mbo institution by its
        BRIN (the code the lookup returns for it)."""
        return self._by_code.get(normalise_pc(code))

    def lookup(self, query: str, limit: int = 10) -> LookupResult:
        """Schools for what somebody typed: a BRIN or vestigingscode, a postcode, or name and
        place words in any order (``registry.geo.lookup``). ``partial`` is set when no school
        matched every word and the closest ones are returned instead."""
        raw = (query or "").strip()
        if len(raw) < 2:
            return LookupResult([])
        compact = normalise_pc(raw)
        results: list[School] = []
        seen: set[str] = set()

        def add(items):
            for s in items:
                if len(results) >= limit:
                    return
                if s.code not in seen:
                    seen.add(s.code)
                    results.append(s)

        if re.fullmatch(r"[0-9]{2}[A-Z0-9]{2}([0-9]{2})?", compact):
            add(s for s in self.schools if s.code.startswith(compact))
        if re.fullmatch(r"[0-9]{4}([A-Z]{1,2})?", compact):
            add(s for pc, s in self._postcodes if pc.startswith(compact))
        if results:
            return LookupResult(results)
        found = self.index.search(raw, limit=limit)
        return LookupResult(found.schools, found.partial)

    def search(self, query: str, limit: int = 10) -> list[School]:
        """The schools of :meth:`lookup`, without saying whether the match was partial."""
        return self.lookup(query, limit).schools

    # --- postcodes -----------------------------------------------------------------------
    @cached_property
    def pc4(self) -> dict[str, tuple[str, float, float]]:
        with gzip.open(self.data_dir / "pc4.json.gz", "rt", encoding="utf-8") as fh:
            return {pc: (place, lat, lon) for pc, place, lat, lon in json.load(fh)}

    def pc4_centroid(self, postcode: str) -> tuple[str, float, float] | None:
        pc = normalise_pc(postcode)
        if len(pc) < 4 or not pc[:4].isdigit():
            return None
        return self.pc4.get(pc[:4])

    # --- polygons ------------------------------------------------------------------------
    @cached_property
    def provinces(self) -> _Regions:
        return _Regions(self.data_dir / "provincie_2023.geojson", "name")

    @cached_property
    def municipalities(self) -> _Regions:
        return _Regions(self.data_dir / "gemeente_2025.geojson", "statnaam")

    def regions_at(self, lat: float, lon: float) -> tuple[str | None, str | None]:
        """(municipality, province) for a point, from the polygons."""
        return self.municipalities.name_at(lon, lat), self.provinces.name_at(lon, lat)

    def in_netherlands(self, lat: float, lon: float) -> bool:
        min_lon, min_lat, max_lon, max_lat = NL_BOUNDS
        if not (min_lat <= lat <= max_lat and min_lon <= lon <= max_lon):
            return False
        return self.provinces.name_at(lon, lat) is not None

    @cached_property
    def province_outlines(self) -> bytes:
        """The province polygons as compact GeoJSON (for the map without tiles)."""
        features = [
            {"type": "Feature", "properties": {"name": f["properties"]["name"]},
             "geometry": f["geometry"]}
            for f in self.provinces.raw["features"]
        ]
        return json.dumps({"type": "FeatureCollection", "features": features},
                          ensure_ascii=False, separators=(",", ":")).encode()


_lock = threading.Lock()
_instance: Directory | None = None


def data_dir() -> Path:
    """The folder with the offline data (config GEO_DATA_DIR, default: the shipped copy)."""
    from flask import current_app, has_app_context

    if has_app_context() and current_app.config["GEO_DATA_DIR"]:
        return Path(current_app.config["GEO_DATA_DIR"])
    return DATA_DIR


def directory() -> Directory:
    global _instance
    if _instance is None:
        with _lock:
            if _instance is None:
                _instance = Directory(data_dir())
    return _instance


def reset_directory() -> None:
    """Forget the loaded data (after ``refresh-schools``)."""
    global _instance
    with _lock:
        _instance = None
