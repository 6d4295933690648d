"""Service functions for submissions: take plain data, change the database, never commit."""
from __future__ import annotations

import logging
from dataclasses import dataclass, field

from registry.database import utcnow
from registry.events import EntryChange, entry_submitted
from registry.extensions import db
from registry.geo.services import locate_organisation
from registry.submissions.models import (
    Contact,
    Initiative,
    InitiativeDimension,
    Obstacle,
    Organisation,
)
from registry.taxonomy.constants import InitiativeState

logger = logging.getLogger(__name__)


@dataclass
class OrganisationData:
    name: str
    brin: str
    sector: str
    postcode: str
    location_number: str | None = None
    levels: str = ""
    qualification_codes: str = ""
    street: str = ""
    city: str = ""
    website: str = ""
    # A pin the submitter placed on the map (validated to lie in the Netherlands).
    latitude: float | None = None
    longitude: float | None = None


@dataclass
class ObstacleData:
    area: str
    title: str
    severity: int
    description: str = ""
    rule: str = ""
    status: str = "open"
    workaround: str = ""
    policy_ask: str = ""
    # "public" or "confidential" (registry.taxonomy.constants.VISIBILITIES)
    visibility: str = "public"
    # The school wants to take part in a pilot or experiment on this obstacle (issue 18)
    pilot_interest: bool = False
    id: int | None = None  # set when editing an existing obstacle


@dataclass
class ContactData:
    name: str
    email: str
    role: str = ""
    phone: str = ""
    consent_contact: bool = False
    consent_publish_name: bool = False
    consent_quotes: bool = False
    accepts_messages: bool = False  # relayed messages from other schools (connect)
    # The school may be named to OCW in a pilot dossier (registry.pilots); else only counted
    consent_name_to_ocw: bool = False


@dataclass
class InitiativeData:
    organisation: OrganisationData
    title: str
    summary: str
    phase: str
    description: str = ""
    start_year: int | None = None
    learners_count: int | None = None
    staff_count: int | None = None
    ict: str = ""
    dimensions: dict[str, tuple[int, int]] = field(default_factory=dict)
    obstacles: list[ObstacleData] = field(default_factory=list)
    contact: ContactData | None = None
    language: str = "nl"


ORGANISATION_FIELDS = (
    "name", "brin", "location_number", "sector", "levels", "qualification_codes",
    "street", "postcode", "city", "website",
)
INITIATIVE_FIELDS = (
    "title", "summary", "description", "start_year", "phase", "learners_count",
    "staff_count", "ict",
)
OBSTACLE_FIELDS = (
    "title", "description", "rule", "severity", "status", "workaround", "policy_ask",
    "visibility", "pilot_interest",
)


def make_reference(initiative: Initiative) -> str:
    """A human reference such as GL-2026-00042 (year of submission, database id)."""
    year = (initiative.submitted_at or utcnow()).year
    return f"GL-{year}-{initiative.id:05d}"


def _apply_obstacle(obstacle: Obstacle, data: ObstacleData, position: int) -> None:
    obstacle.area_code = data.area
    for name in OBSTACLE_FIELDS:
        setattr(obstacle, name, getattr(data, name))
    obstacle.position = position


def build_initiative(data: InitiativeData, *, state: str) -> Initiative:
    """Create (not flush) an initiative with its organisation, dimensions and obstacles."""
    org = Organisation(**{name: getattr(data.organisation, name) for name in ORGANISATION_FIELDS})
    if data.organisation.latitude is not None and data.organisation.longitude is not None:
        # registry.geo.services.locate_organisation keeps a manual pin and adds its regions.
        org.latitude, org.longitude = data.organisation.latitude, data.organisation.longitude
        org.geo_source, org.geo_precision = "manual", "manual"
    initiative = Initiative(
        organisation=org,
        state=state,
        language=data.language,
        submitted_at=utcnow(),
        **{name: getattr(data, name) for name in INITIATIVE_FIELDS},
    )
    for code, (current, ambition) in data.dimensions.items():
        initiative.dimensions.append(
            InitiativeDimension(dimension_code=code, current_level=current, ambition_level=ambition)
        )
    for position, item in enumerate(data.obstacles):
        obstacle = Obstacle()
        _apply_obstacle(obstacle, item, position)
        initiative.obstacles.append(obstacle)
    if data.contact is not None:
        initiative.contact = Contact(**vars(data.contact))
    return initiative


def submit(data: InitiativeData) -> Initiative:
    """The public submission use case: store the entry unconfirmed (double opt-in) and
    announce it (the history records it; the contact gets the confirmation mail, queued in
    this same transaction). The caller commits once; the mail goes out after the commit."""
    initiative = submit_initiative(data, state=InitiativeState.UNCONFIRMED)
    entry_submitted.send(EntryChange(initiative, "create", "submitter"))
    return initiative


def submit_initiative(
    data: InitiativeData, *, state: str = InitiativeState.PENDING
) -> Initiative:
    """Store a new entry in one unit of work (the caller commits) and give it a reference.

    Geocoding is attempted from the offline data; it never fails the submission. Used by
    ``submit`` and by loaders of known data (demo data, benchmarks), which announce nothing.
    """
    initiative = build_initiative(data, state=state)
    # Located before the first flush, so the school is inserted with its location (no
    # UPDATE afterwards) and the write transaction stays short.
    _locate(initiative.organisation)
    db.session.add(initiative)
    db.session.flush()
    initiative.reference = make_reference(initiative)
    logger.info("Initiative %s submitted (%s)", initiative.reference, state)
    return initiative


# What locating may change on an organisation (restored when it fails unexpectedly).
_GEO_FIELDS = ("latitude", "longitude", "municipality", "province", "geo_source",
               "geo_precision", "geo_status")


def _locate(organisation: Organisation) -> None:
    """Resolve the organisation's location offline; failures leave it flagged for later.

    Locating only sets attributes in memory (the offline directory is not in the database),
    so an unexpected failure is undone by restoring those attributes rather than with a
    SAVEPOINT, which cost a flush and two statements per submission (issue 11).
    """
    before = {name: getattr(organisation, name) for name in _GEO_FIELDS}
    try:
        locate_organisation(organisation, online=False)
    except Exception:  # geocoding must never fail a submission
        logger.exception("Offline geocoding failed for organisation %s", organisation.id)
        for name, value in before.items():
            setattr(organisation, name, value)
        organisation.geo_status = "failed"


def apply_initiative_data(initiative: Initiative, data: InitiativeData) -> None:
    """Overwrite an initiative's content (organisation, fields, dimensions, obstacles).

    Obstacles with an ``id`` are updated in place, new ones are added, and obstacles missing
    from ``data`` are removed. The contact is left alone.

    A new obstacle on a confirmed entry is reported now (``reported_at``, the summary's
    reports over time); on an unconfirmed entry the confirmation sets it
    (``registry.manage.services.confirm_initiative``).
    """
    org = initiative.organisation
    address_changed = any(
        getattr(org, name) != getattr(data.organisation, name)
        for name in ("street", "postcode", "city", "brin", "location_number")
    )
    for name in ORGANISATION_FIELDS:
        setattr(org, name, getattr(data.organisation, name))
    for name in INITIATIVE_FIELDS:
        setattr(initiative, name, getattr(data, name))
    by_code = {d.dimension_code: d for d in initiative.dimensions}
    for code, (current, ambition) in data.dimensions.items():
        dim = by_code.get(code)
        if dim is None:
            initiative.dimensions.append(
                InitiativeDimension(dimension_code=code, current_level=current,
                                    ambition_level=ambition)
            )
        else:
            dim.current_level, dim.ambition_level = current, ambition
    existing = {o.id: o for o in initiative.obstacles}
    keep: list[Obstacle] = []
    for position, item in enumerate(data.obstacles):
        obstacle = existing.get(item.id) if item.id else None
        if obstacle is None:
            obstacle = Obstacle()
            if initiative.state != InitiativeState.UNCONFIRMED:
                obstacle.reported_at = utcnow()
        _apply_obstacle(obstacle, item, position)
        keep.append(obstacle)
    initiative.obstacles[:] = keep
    if address_changed:
        org.geo_status = "todo"
        _locate(org)

