"""The map's context layer: municipality and province outlines with their names.

Built once from the CBS polygons by ``registry.geo.build_data.build_map_context`` and shipped
as ``registry/geo/data/map_context.geojson``; served as a static file would be (strong ETag,
long cache, gzip), so a map without a tile server still shows where a marker is.
"""
from __future__ import annotations

import gzip
import hashlib
import threading
from dataclasses import dataclass
from pathlib import Path

from registry.geo.build_data import DATA_DIR, MAP_CONTEXT_FILE
from registry.geo.directory import data_dir, directory

# Zoom levels at which the browser switches from province names to municipality outlines and
# names (static/js/map.js and pin-picker.js read it from the page).
MUNICIPALITY_MIN_ZOOM = 9
# Where the pin picker opens: close enough to see the streets around a school; a postcode
# area's centre is only approximate, so a little wider.
SCHOOL_ZOOM = 13
POSTCODE_ZOOM = 12


@dataclass(frozen=True)
class ContextLayer:
    body: bytes
    gzipped: bytes
    etag: str  # a strong validator: the hash of the (identity) body

    @property
    def version(self) -> str:
        """A short token for the URL, so a new file is fetched under a new address."""
        return self.etag[:12]


_lock = threading.Lock()
_layers: dict[Path, ContextLayer] = {}


def context_path() -> Path:
    """The file in ``GEO_DATA_DIR`` when it has one, else the shipped copy."""
    path = data_dir() / MAP_CONTEXT_FILE
    return path if path.is_file() else DATA_DIR / MAP_CONTEXT_FILE


def context_layer() -> ContextLayer:
    """The layer, read and compressed once per process and data folder."""
    path = context_path()
    layer = _layers.get(path)
    if layer is None:
        with _lock:
            layer = _layers.get(path)
            if layer is None:
                body = path.read_bytes()
                layer = ContextLayer(body=body,
                                     gzipped=gzip.compress(body, compresslevel=9, mtime=0),
                                     etag=hashlib.sha256(body).hexdigest()[:32])
                _layers[path] = layer
    return layer


def school_point(name: str, brin: str, location_number: str, postcode: str) -> dict | None:
    """The chosen school's location from the offline directory (the same lookup that places
    a new entry), else the centre of its postcode area; ``None`` when neither is known."""
    from registry.geo.services import find_school
    from registry.submissions.models import Organisation

    if not (brin or postcode):
        return None
    # A transient object, never added to the session: find_school only reads these fields.
    org = Organisation(name=name, brin=brin, location_number=location_number or None,
                       postcode=postcode)
    school = find_school(org)
    if school is not None and school.latitude is not None and school.longitude is not None:
        return {"lat": school.latitude, "lon": school.longitude, "name": school.name,
                "zoom": SCHOOL_ZOOM}
    centroid = directory().pc4_centroid(postcode)
    if centroid is not None:
        place, lat, lon = centroid
        return {"lat": lat, "lon": lon, "name": name or place, "zoom": POSTCODE_ZOOM}
    return None
