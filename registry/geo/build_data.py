"""Build the compact offline data files in ``registry/geo/data`` from the source files.

The shipped files are produced from the reference data (see ``data/SOURCES.md``):

- ``schools.json.gz``: DUO school locations (po, so, vo) deduplicated on vestigingscode,
- ``pc4.json.gz``: PC4 centroids (GeoNames), averaged when a PC4 has several places,
- ``mbo_instellingen.csv``, ``provincie_2023.geojson``, ``gemeente_2025.geojson``: as is.

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


if __name__ == "__main__":  # pragma: no cover - used once to build the shipped files
    import shutil
    import sys

    src = Path(sys.argv[1] if len(sys.argv) > 1 else "/work/shared/data")
    print("schools", build_schools(src / "scholen20241122.geo.zip"))
    print("pc4", build_pc4(src / "geonames_postal_NL.txt"))
    for name in ("mbo_instellingen.csv", "provincie_2023.geojson", "gemeente_2025.geojson"):
        shutil.copyfile(src / name, DATA_DIR / name)
