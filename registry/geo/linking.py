"""A moderator links an entry to a school location in DUO's directory, later.

A school that was not in the directory (or did not know its code) is registered with
``organisation.brin == ""``: "not linked to a DUO school yet". Linking takes DUO's official
code, name and address (the typed name may be kept), resolves the location again from the
school's exact address, and records the change in the entry's history (a revision of kind
``link_school``, through ``events.entry_edited``) and in the audit log
(``initiative.link_school``). Like every service it never commits.
"""
from __future__ import annotations

from typing import Any

from registry import events
from registry.audit.services import record
from registry.database import utcnow
from registry.events import EntryChange
from registry.geo.directory import School, directory
from registry.geo.services import locate_organisation
from registry.history import services as history
from registry.moderation.services import check_version
from registry.submissions.models import Initiative, Organisation

AUDIT_ACTION = "initiative.link_school"
REVISION_KIND = "link_school"
# What linking may change on the organisation (the audit log keeps before and after).
LINKED_FIELDS = ("name", "brin", "location_number", "street", "postcode", "city", "website")
LOCATION_FIELDS = ("latitude", "longitude", "municipality", "province", "geo_source",
                   "geo_precision", "geo_status")


class UnknownSchool(ValueError):
    """The code is not a school location in the directory."""


def is_linked(org: Organisation) -> bool:
    """Whether the entry names a DUO institution code (``brin == ""``: not linked yet)."""
    return bool((org.brin or "").strip())


def linked_school(org: Organisation) -> School | None:
    """The directory's school location this organisation is linked to, if it is there."""
    if not is_linked(org):
        return None
    d = directory()
    if org.location_number:
        return d.school_by_code(org.brin, org.location_number)
    return d.mbo_by_brin(org.brin)


def _state(org: Organisation, names: tuple[str, ...]) -> dict[str, Any]:
    return {name: getattr(org, name) for name in names}


def link_school(initiative: Initiative, code: str, *, actor, expected_version: int | None,
                keep_name: bool = False, keep_pin: bool = False,
                reason: str = "") -> dict[str, list]:
    """Link the entry to the school location ``code`` (vestigingscode, or an mbo
    institution's BRIN) and return the field changes (``{"organisation.x": [old, new]}``;
    empty when it was linked to exactly this already, and then nothing is recorded).

    ``keep_name``: keep the name the school typed instead of DUO's official one.
    ``keep_pin``: keep a pin placed by hand; otherwise the location comes from DUO again.
    Raises ``UnknownSchool`` for a code not in the directory and
    ``registry.moderation.services.StaleEntryError`` when the entry changed meanwhile.
    """
    check_version(initiative, expected_version)
    school = directory().school_by_vestigingscode(code or "")
    if school is None:
        raise UnknownSchool(code)
    org = initiative.organisation
    before = history.snapshot(initiative)
    old = _state(org, LINKED_FIELDS + LOCATION_FIELDS)

    org.brin = school.brin
    org.location_number = school.location_number or None
    if not keep_name:
        org.name = school.name
    org.street, org.postcode, org.city = school.street, school.postcode, school.city
    if not org.website and school.website:
        org.website = school.website
    if not (keep_pin and org.geo_source == "manual"):
        org.geo_source = None  # a hand-placed pin gives way to the school's own address
        org.latitude = org.longitude = None
    org.geo_status = "todo"
    locate_organisation(org, online=False)

    changes = history.diff(before, history.snapshot(initiative))
    new = _state(org, LINKED_FIELDS + LOCATION_FIELDS)
    if not changes:
        for name, value in old.items():  # the location too: nothing happened
            setattr(org, name, value)
        return {}
    initiative.updated_at = utcnow()  # bumps the entry's version (optimistic locking)
    record(AUDIT_ACTION, target_type="initiative", target_id=initiative.id,
           before={k: v for k, v in old.items() if new[k] != v} | {"code": _code(old)},
           after={k: v for k, v in new.items() if old[k] != v}
           | {"code": school.code, "duo_name": school.name, "kept_name": keep_name},
           reason=reason, actor=actor)
    events.entry_edited.send(EntryChange(initiative, REVISION_KIND, "moderator", actor=actor,
                                         before=before))
    return changes


def _code(state: dict[str, Any]) -> str:
    return f"{state['brin'] or ''}{state['location_number'] or ''}"
