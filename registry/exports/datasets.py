"""The export use cases: a dataset of published records in a format, and the moderators'
export with contact details. Views parse the request and send what these return; the formats
themselves are pure functions in ``registry.exports.services``."""
from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from typing import IO, Any

from sqlalchemy import func, select
from sqlalchemy.orm import selectinload

from registry.audit.services import record
from registry.exports import services
from registry.extensions import db
from registry.published import records
from registry.published.filters import InitiativeFilter
from registry.published.sources import PUBLISHED, Source
from registry.submissions.models import Contact, Initiative, Organisation
from registry.taxonomy.services import Taxonomy

MIMETYPES = {
    "csv": "text/csv",
    "json": "application/json",
    "geojson": "application/geo+json",
    "xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
}


@dataclass
class Export:
    """What a view sends: a streamed body (``chunks``) or a rewound file (``file``)."""

    name: str
    mimetype: str
    meta: dict[str, Any]
    chunks: Iterator[bytes] | None = None
    file: IO[bytes] | None = None


def export_dataset(dataset: str, fmt: str, src: Source, flt: InitiativeFilter, tax: Taxonomy,
                   *, link: Callable[[int], str],
                   meta: dict[str, Any], sep: str = ",") -> Export:
    """``dataset`` (initiatieven, knelpunten, themas) of ``src`` under ``flt`` as ``fmt``
    (csv, json, geojson, xlsx: the workbook holds every dataset, this one first). Lazy: the
    records are read while the body is produced."""
    themes = records.themes(src)
    rows = services.Rows(tax, themes, link)
    name = services.file_name(dataset, meta, fmt)
    if fmt == "xlsx":
        order = [dataset] + [d for d in services.DATASET_NAMES if d != dataset]
        out = services.datasets_to_xlsx(
            order, _records(src, flt), flt, tax, themes, link, meta,
            title=f"Register gepersonaliseerd leren: {dataset}")
        return Export(name, MIMETYPES[fmt], meta, file=out)

    def dataset_rows() -> Iterator[dict[str, Any]]:
        if dataset == "initiatieven":
            return rows.initiatives(_records(src, flt))
        if dataset == "knelpunten":  # obstacle rows never read the dimensions
            return rows.obstacles(_records(src, flt, dimensions=False))
        return iter(services.theme_rows(_records(src, flt, dimensions=False), flt,
                                        tax, themes))

    if fmt == "csv":
        body = services.to_csv(dataset_rows(), services.datasets(tax)[dataset], sep=sep)
    elif fmt == "json":
        body = services.to_json(dataset_rows(), meta)
    else:
        if dataset == "initiatieven":
            features = services.point_features(dataset_rows(), "initiatief_id")
        elif dataset == "knelpunten":
            features = _obstacle_features(src, flt, rows)
        else:
            features = services.theme_features(list(dataset_rows()),
                                               _theme_locations(src, flt))
        body = services.to_geojson(features, meta)
    return Export(name, MIMETYPES[fmt], meta, chunks=body)


def _records(src: Source, flt: InitiativeFilter, *, dimensions: bool = True
             ) -> Iterator[dict[str, Any]]:
    """The records of ``src`` under ``flt`` with the fields the dataset rows read."""
    return records.initiatives(src, flt, fields=services.RECORD_FIELDS,
                               obstacle_fields=services.OBSTACLE_FIELDS, dimensions=dimensions)


def _obstacle_features(src: Source, flt: InitiativeFilter,
                       rows: services.Rows) -> Iterator[dict[str, Any]]:
    """Obstacles sit at their school: one pass over the records, coordinates included."""
    for rec in _records(src, flt, dimensions=False):
        lat, lon = rec["school"]["latitude"], rec["school"]["longitude"]
        yield from services.point_features(
            ({**row, "breedtegraad": lat, "lengtegraad": lon} for row in rows.obstacles_of(rec)),
            "knelpunt_id")


def _theme_locations(src: Source, flt: InitiativeFilter) -> dict[int, list[list[float]]]:
    """Per theme, the schools (as points) where it was reported, each point once, in the
    order first seen (a set per theme: a list lookup was quadratic at 100,000)."""
    out: dict[int, dict[tuple[float, float], None]] = {}
    for rec in records.initiatives(src, flt, fields=("id", "latitude", "longitude"),
                                   obstacle_fields=("theme_id",), dimensions=False):
        lat, lon = rec["school"]["latitude"], rec["school"]["longitude"]
        if lat is None or lon is None:
            continue
        point = (round(lon, 6), round(lat, 6))
        for o in rec["obstacles"]:
            if o["theme_id"] is not None:
                out.setdefault(o["theme_id"], {})[point] = None
    return {theme_id: [list(p) for p in points] for theme_id, points in out.items()}


# -- contact details (moderators) ------------------------------------------------------------------

def _with_contacts(flt: InitiativeFilter) -> Iterable[Initiative]:
    """Published initiatives with a contact not erased, lazily in batches."""
    yield from db.session.scalars(
        select(Initiative).join(Organisation).join(Contact)
        .where(PUBLISHED.scope, *flt.where(PUBLISHED), Contact.erased_at.is_(None))
        .options(selectinload(Initiative.contact), selectinload(Initiative.organisation))
        .order_by(Initiative.id).execution_options(yield_per=500)
    )


def contact_count(flt: InitiativeFilter) -> int:
    """How many contacts the export would hold."""
    return db.session.scalar(
        select(func.count(Initiative.id)).join(Organisation).join(Contact)
        .where(PUBLISHED.scope, *flt.where(PUBLISHED), Contact.erased_at.is_(None))
    ) or 0


def export_contacts(flt: InitiativeFilter, *, purpose: str, fmt: str, actor_email: str,
                    meta: dict[str, Any]) -> Export:
    """The contact details of the published initiatives under ``flt``, for a stated purpose.
    Writes the audit event (the caller commits before sending the body)."""
    record("export.contacts", target_type="export", reason=purpose,
           after={"filter": flt.describe(), "count": contact_count(flt), "format": fmt})
    rows = services.contact_rows(_with_contacts(flt))
    meta = {**meta, "dataset": "contactgegevens", "purpose": purpose,
            "exported_by": actor_email}
    name = services.file_name("contactgegevens", meta, fmt)
    if fmt == "xlsx":
        out = services.to_xlsx([("contactgegevens", services.CONTACT_COLUMNS, rows)], meta,
                               title="Contactgegevens (vertrouwelijk)")
        return Export(name, MIMETYPES["xlsx"], meta, file=out)
    return Export(name, MIMETYPES["csv"], meta,
                  chunks=services.to_csv(rows, services.CONTACT_COLUMNS, sep=";"))
