"""Resolving where a school (organisation) is: offline data first, then online, then by hand.

Order (first hit wins): the exact school location in DUO's directory (BRIN + vestiging, or
postcode + name) -> the mbo institution -> the PC4 centroid of the postcode -> the online
geocoder (only when allowed) -> flagged as failed. Province and municipality always come from
the polygons (point-in-polygon), never from what the submitter typed.
"""
from __future__ import annotations

import logging
from collections.abc import Iterable
from dataclasses import dataclass

from flask import current_app
from rapidfuzz import fuzz
from sqlalchemy import select

from registry.extensions import db
from registry.geo.directory import School, directory, normalise_pc, normalise_text
from registry.geo.lookup import LookupResult
from registry.geo.online import GeocoderUnavailable, build_query, geocode
from registry.submissions.models import Organisation

logger = logging.getLogger(__name__)

SOURCES = ("school", "mbo", "postcode", "online", "manual")
PRECISIONS = ("address", "postcode", "place", "manual")


@dataclass
class Location:
    latitude: float
    longitude: float
    source: str
    precision: str


def _name_matches(typed: str, school: School) -> bool:
    a, b = normalise_text(typed), normalise_text(school.name)
    if not a or not b:
        return False
    if a in b or b in a:
        return True
    return fuzz.token_set_ratio(a, b) >= 85


def find_school(org: Organisation) -> School | None:
    """The DUO location of this organisation, if we can tell it exactly."""
    d = directory()
    brin = (org.brin or "").strip().upper()
    pc = normalise_pc(org.postcode)
    school = d.school_by_code(brin, org.location_number)
    if school is not None and school.sector != "mbo":
        return school
    candidates = [s for s in d.schools_for_brin(brin) if s.sector != "mbo"]
    if candidates:
        same_pc = [s for s in candidates if normalise_pc(s.postcode) == pc]
        if len(same_pc) == 1:
            return same_pc[0]
        if len(candidates) == 1 and not org.location_number and (
            not pc or normalise_pc(candidates[0].postcode)[:4] == pc[:4]
        ):
            return candidates[0]
    if len(pc) == 6:
        at_pc = [s for s in d.schools_at_postcode(pc) if s.sector != "mbo"]
        named = [s for s in at_pc if _name_matches(org.name or "", s)]
        if len(named) >= 1:
            return named[0]
    return None


def _offline(org: Organisation) -> Location | None:
    d = directory()
    school = find_school(org)
    if school is not None and school.latitude is not None and school.longitude is not None:
        return Location(school.latitude, school.longitude, "school", "address")
    institution = d.mbo_by_brin(org.brin)
    pc = normalise_pc(org.postcode)
    if (
        institution is not None
        and institution.latitude is not None
        and institution.longitude is not None
        and (len(pc) < 4 or normalise_pc(institution.postcode)[:4] == pc[:4])
    ):
        return Location(institution.latitude, institution.longitude, "mbo", "postcode")
    centroid = d.pc4_centroid(pc)
    if centroid is not None:
        return Location(centroid[1], centroid[2], "postcode", "postcode")
    return None


def _online(org: Organisation) -> Location | None:
    if not org.street and not org.city and not org.postcode:
        return None
    try:
        result = geocode(build_query(org.street or "", org.postcode or "", org.city or ""))
        if result is None and org.street:
            # Fall back to postcode + place when the street is unknown to the geocoder.
            result = geocode(build_query("", org.postcode or "", org.city or ""))
    except GeocoderUnavailable:
        return None
    if result is None:
        return None
    return Location(result.latitude, result.longitude, "online", result.precision)


def _apply(org: Organisation, location: Location) -> bool:
    municipality, province = directory().regions_at(location.latitude, location.longitude)
    if province is None:
        return False
    org.latitude = round(location.latitude, 6)
    org.longitude = round(location.longitude, 6)
    org.municipality = municipality
    org.province = province
    org.geo_source = location.source
    org.geo_precision = location.precision
    org.geo_status = "resolved"
    return True


def _flag(org: Organisation) -> None:
    org.latitude = org.longitude = None
    org.municipality = org.province = None
    org.geo_source = org.geo_precision = None
    org.geo_status = "failed"


def locate_organisation(org: Organisation, online: bool = False) -> bool:
    """Fill in the organisation's location; True when resolved. Never raises for bad data.

    A pin placed by hand (``geo_source == 'manual'``) is kept; only its regions are filled in
    when missing. ``online`` allows the online geocoder when ``GEOCODER_ONLINE`` is on.
    """
    try:
        if org.geo_source == "manual" and org.latitude is not None and org.longitude is not None:
            if org.province:
                org.geo_status = "resolved"
                return True
            if _apply(org, Location(org.latitude, org.longitude, "manual", "manual")):
                return True
        location = _offline(org)
        if location is not None and _apply(org, location):
            return True
        if online and current_app.config["GEOCODER_ONLINE"]:
            location = _online(org)
            if location is not None and _apply(org, location):
                return True
    except Exception:  # geocoding must never break the caller
        logger.exception("Geocoding failed for organisation %s", getattr(org, "id", None))
    _flag(org)
    return False


def set_manual_location(org: Organisation, latitude: float, longitude: float,
                        province: str | None = None) -> None:
    """Place the pin by hand (submitter or moderator). Raises ValueError outside NL.

    ``province`` lets a moderator correct the province the polygons give (border cases).
    """
    d = directory()
    if not d.in_netherlands(latitude, longitude):
        raise ValueError("location outside the Netherlands")
    _apply(org, Location(latitude, longitude, "manual", "manual"))
    if province:
        org.province = province


def clear_manual_location(org: Organisation, online: bool = False) -> bool:
    """Forget a hand-placed pin and resolve from the address again."""
    org.geo_source = None
    org.latitude = org.longitude = None
    org.province = None
    return locate_organisation(org, online=online)


def backlog(include_failed: bool = True, limit: int | None = None) -> list[Organisation]:
    statuses = ["todo", "failed"] if include_failed else ["todo"]
    stmt = select(Organisation).where(Organisation.geo_status.in_(statuses)).order_by(
        Organisation.id)
    if limit:
        stmt = stmt.limit(limit)
    return list(db.session.scalars(stmt))


def resolve_backlog(organisations: Iterable[Organisation], online: bool = True
                    ) -> tuple[int, int]:
    """Locate each organisation; returns (resolved, still failed). The caller commits."""
    resolved = failed = 0
    for org in organisations:
        if locate_organisation(org, online=online):
            resolved += 1
        else:
            failed += 1
    return resolved, failed


def search_schools(query: str, limit: int = 10) -> LookupResult:
    """Schools for what somebody typed (name and place words in any order, a BRIN or
    vestigingscode, or a postcode); the one lookup behind the suggestions, the JSON endpoint
    and every form that lists schools without JavaScript. ``partial`` is set when no school
    matched every word and the closest ones are given instead."""
    return directory().lookup(query, limit=limit)
