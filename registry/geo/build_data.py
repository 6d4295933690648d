"""Build the compact offline data files in ``registry/geo/data`` from the source files.

The shipped files are produced from the reference data (see ``data/SOURCES.md``):

- ``schools.json.gz``: DUO school locations (po, so, vo) deduplicated on vestigingscode,
- ``pc4.json.gz``: PC4 centroids (GeoNames), averaged when a PC4 has several places,
- ``mbo_instellingen.csv``, ``provincie_2023.geojson``, ``gemeente_2025.geojson``: as is,
- ``map_context.geojson``: the map's context layer (municipality and province outlines with
  label points), derived from the two polygon files and the school list by
  :func:`build_map_context`.

``flask --app registry refresh-schools FILE`` calls :func:`build_schools` with a newer DUO
file of the same shape (a ``.geo.zip`` or a GeoJSON file).
"""
from __future__ import annotations

import gzip
import io
import json
import zipfile
from collections import defaultdict
from pathlib import Path

DATA_DIR = Path(__file__).resolve().parent / "data"

# DUO school types -> the registry's sector codes.
VO_TYPES_PREFIXES = ("VBO", "MAVO", "HAVO", "VWO", "PRO", "BRUGJAAR")


def sector_for_type(school_type: str) -> str:
    t = (school_type or "").strip().upper()
    if t in {"BASISSCHOOL", "SBAO", "SO", "(V)SO"}:
        return "po"
    if t == "VSO" or t.startswith(VO_TYPES_PREFIXES):
        return "vo"
    return "po"


def _read_feature_collection(path: Path) -> dict:
    if path.suffix == ".zip":
        with zipfile.ZipFile(path) as zf:
            names = [n for n in zf.namelist() if n.endswith((".json", ".geojson"))]
            if not names:
                raise ValueError(f"{path}: no GeoJSON file inside")
            with zf.open(names[0]) as fh:
                return json.load(io.TextIOWrapper(fh, encoding="utf-8"))
    with open(path, encoding="utf-8") as fh:
        return json.load(fh)


def _address(props: dict) -> str:
    number = "".join(
        str(props.get(k) or "").strip()
        for k in ("huisnummer", "huisletter")
    )
    extra = str(props.get("huisnummertoevoeging") or "").strip()
    if extra:
        number = f"{number}-{extra}"
    return " ".join(p for p in (str(props.get("straat") or "").strip(), number) if p)


def build_schools(source: Path, target: Path | None = None) -> int:
    """Write the compact school list; returns the number of locations written.

    Each row: [vestigingscode, brin, name, type, sector, street, postcode, city, lat, lon,
    website]. Rows without a valid point or code are skipped; duplicates keep the first.
    """
    collection = _read_feature_collection(Path(source))
    features = collection.get("features") or []
    if not features:
        raise ValueError(f"{source}: no features")
    rows: dict[str, list] = {}
    for feature in features:
        props = feature.get("properties") or {}
        geometry = feature.get("geometry") or {}
        code = str(props.get("vestigingscode") or "").strip().upper()
        brin = str(props.get("brin_nummer") or "").strip().upper()
        if len(code) != 6 or not code.startswith(brin) or code in rows:
            continue
        if geometry.get("type") != "Point":
            continue
        try:
            lon, lat = (float(v) for v in geometry["coordinates"][:2])
        except (KeyError, TypeError, ValueError):
            continue
        postcode = str(props.get("postcode") or "").replace(" ", "").upper()
        if len(postcode) == 6:
            postcode = f"{postcode[:4]} {postcode[4:]}"
        website = str(props.get("internetadres") or "").strip()
        rows[code] = [
            code, brin, str(props.get("naam") or "").strip(), str(props.get("type") or ""),
            sector_for_type(str(props.get("type") or "")), _address(props), postcode,
            str(props.get("plaats") or "").strip(), round(lat, 6), round(lon, 6), website,
        ]
    if not rows:
        raise ValueError(f"{source}: no usable school locations")
    target = Path(target or DATA_DIR / "schools.json.gz")
    payload = json.dumps(list(rows.values()), ensure_ascii=False, separators=(",", ":"))
    tmp = target.with_suffix(".tmp")
    with gzip.open(tmp, "wt", encoding="utf-8", compresslevel=9) as fh:
        fh.write(payload)
    tmp.replace(target)
    return len(rows)


def build_pc4(source: Path, target: Path | None = None) -> int:
    """Average the GeoNames centroids per PC4; row: [pc4, place, lat, lon]."""
    acc: dict[str, list] = defaultdict(lambda: [None, 0.0, 0.0, 0])
    with open(source, encoding="utf-8") as fh:
        for line in fh:
            parts = line.rstrip("\n").split("\t")
            if len(parts) < 11 or not parts[1].strip()[:4].isdigit():
                continue
            pc4 = parts[1].strip()[:4]
            try:
                lat, lon = float(parts[9]), float(parts[10])
            except ValueError:
                continue
            item = acc[pc4]
            item[0] = item[0] or parts[2].strip()
            item[1] += lat
            item[2] += lon
            item[3] += 1
    rows = [[pc4, place, round(lat / n, 5), round(lon / n, 5)]
            for pc4, (place, lat, lon, n) in sorted(acc.items())]
    target = Path(target or DATA_DIR / "pc4.json.gz")
    with gzip.open(target, "wt", encoding="utf-8", compresslevel=9) as fh:
        fh.write(json.dumps(rows, ensure_ascii=False, separators=(",", ":")))
    return len(rows)


# --- the map's context layer -------------------------------------------------------------
MAP_CONTEXT_FILE = "map_context.geojson"
# The CBS polygons are generalised on a 0.001 degree grid (about 70 x 110 m); coordinates are
# snapped to it and the shared borders simplified together (no gaps or overlaps between
# neighbours) with this tolerance in degrees, so a more detailed source stays small too.
CONTEXT_GRID = 1e-3
CONTEXT_SIMPLIFY = 1e-3
CONTEXT_ATTRIBUTION = "CBS / Kadaster (PDOK), CC BY 4.0"


def _rounded(value, digits: int):
    """Coordinates (nested lists/tuples of floats) rounded for a compact file."""
    if isinstance(value, (list, tuple)):
        return [_rounded(v, digits) for v in value]
    return round(float(value), digits)


def _rounded_geometry(geometry: dict) -> dict:
    return {"type": geometry["type"], "coordinates": _rounded(geometry["coordinates"], 3)}


def _label_point(geom) -> list[float]:
    """A point well inside the largest part (pole of inaccessibility), as [lon, lat]."""
    from shapely.ops import polylabel

    parts = list(getattr(geom, "geoms", [geom]))
    largest = max(parts, key=lambda g: g.area)
    point = polylabel(largest, tolerance=CONTEXT_GRID / 10)
    return [round(point.x, 4), round(point.y, 4)]


def _noded_coverage(geoms: list) -> list:
    """Valid polygons on the grid whose shared borders have the same vertices on both sides
    (a vertex of one polygon lying on a neighbour's edge is inserted into that edge)."""
    import shapely

    fixed = [shapely.set_precision(shapely.make_valid(g, method="structure"), CONTEXT_GRID)
             for g in geoms]
    tree = shapely.STRtree(fixed)
    out = []
    for index, geom in enumerate(fixed):
        neighbours = [j for j in tree.query(geom, predicate="intersects") if j != index]
        if neighbours:
            points = shapely.multipoints(shapely.get_coordinates([fixed[j] for j in neighbours]))
            geom = shapely.snap(geom, points, CONTEXT_GRID / 1000)
        out.append(geom)
    return out


def build_map_context(data_dir: Path = DATA_DIR, target: Path | None = None) -> dict[str, int]:
    """Write the context layer drawn under the map's markers; returns feature counts.

    A GeoJSON FeatureCollection: first the 12 provinces (``kind: "province"``), each the union
    of its municipalities so that both sets of borders coincide, then the municipalities
    (``kind: "municipality"``, with ``code`` and ``province``). Every feature has a ``label``
    point [lon, lat] inside its polygon and a ``rank`` that decides which label wins when two
    would overlap (1 first): for municipalities the one with the most school locations (a
    stand-in for its size), for provinces the smallest.
    """
    import shapely
    from shapely.geometry import mapping, shape

    data_dir = Path(data_dir)
    with open(data_dir / "gemeente_2025.geojson", encoding="utf-8") as fh:
        municipalities = json.load(fh)["features"]
    with open(data_dir / "provincie_2023.geojson", encoding="utf-8") as fh:
        provinces = json.load(fh)["features"]
    with gzip.open(data_dir / "schools.json.gz", "rt", encoding="utf-8") as fh:
        schools = json.load(fh)

    geoms = _noded_coverage([shape(f["geometry"]) for f in municipalities])
    if not shapely.coverage_is_valid(geoms):
        raise ValueError("the municipality polygons do not form a clean coverage")
    geoms = list(shapely.coverage_simplify(geoms, CONTEXT_SIMPLIFY))

    # Each municipality lies in the province it overlaps most (the source years differ).
    province_geoms = [shapely.make_valid(shape(f["geometry"]), method="structure")
                      for f in provinces]
    province_of = []
    for geom in geoms:
        overlaps = [geom.intersection(p).area for p in province_geoms]
        province_of.append(overlaps.index(max(overlaps)))

    # School locations per municipality rank the labels (a proxy for population).
    tree = shapely.STRtree(geoms)
    points = shapely.points([(row[9], row[8]) for row in schools if row[8] is not None])
    _, hits = tree.query(points, predicate="within")
    school_counts = [0] * len(geoms)
    for index in hits:
        school_counts[int(index)] += 1
    order = sorted(range(len(geoms)), key=lambda i: (-school_counts[i], -geoms[i].area,
                                                     municipalities[i]["properties"]["statnaam"]))
    rank = {index: position + 1 for position, index in enumerate(order)}

    # Provinces: the smallest first, as it has the least room for its name (a large one can
    # move its name elsewhere within its area).
    unions = [shapely.coverage_union_all([g for g, p in zip(geoms, province_of, strict=True)
                                          if p == p_index])
              for p_index in range(len(provinces))]
    by_area = sorted(range(len(provinces)), key=lambda i: unions[i].area)
    province_rank = {index: position + 1 for position, index in enumerate(by_area)}

    features = []
    for p_index, feature in enumerate(provinces):
        features.append({
            "type": "Feature",
            "properties": {"kind": "province", "code": feature["properties"]["statcode"],
                           "name": feature["properties"]["name"],
                           "rank": province_rank[p_index], "label": _label_point(unions[p_index])},
            "geometry": _rounded_geometry(mapping(unions[p_index])),
        })
    for index, feature in enumerate(municipalities):
        props = feature["properties"]
        features.append({
            "type": "Feature",
            "properties": {"kind": "municipality", "code": props["statcode"],
                           "name": props["statnaam"],
                           "province": provinces[province_of[index]]["properties"]["name"],
                           "rank": rank[index], "label": _label_point(geoms[index])},
            "geometry": _rounded_geometry(mapping(geoms[index])),
        })
    collection = {"type": "FeatureCollection", "attribution": CONTEXT_ATTRIBUTION,
                  "features": features}
    target = Path(target or DATA_DIR / MAP_CONTEXT_FILE)
    tmp = target.with_suffix(".tmp")
    tmp.write_text(json.dumps(collection, ensure_ascii=False, separators=(",", ":")),
                   encoding="utf-8")
    tmp.replace(target)
    return {"provinces": len(provinces), "municipalities": len(municipalities)}


if __name__ == "__main__":  # pragma: no cover - used once to build the shipped files
    import shutil
    import sys

    src = Path(sys.argv[1] if len(sys.argv) > 1 else "/work/shared/data")
    print("schools", build_schools(src / "scholen20241122.geo.zip"))
    print("pc4", build_pc4(src / "geonames_postal_NL.txt"))
    for name in ("mbo_instellingen.csv", "provincie_2023.geojson", "gemeente_2025.geojson"):
        shutil.copyfile(src / name, DATA_DIR / name)
    print("map context", build_map_context())
