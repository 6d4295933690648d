"""Dutch labels for the keys of a revision diff (``registry.history.services.diff``), for the
staff screens that show a history: ``obstacles.12.visibility`` reads "Knelpunt 12:
Zichtbaarheid", not the storage key."""
from __future__ import annotations

from typing import Any

from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l

from registry.taxonomy import constants
from registry.taxonomy.services import current as current_taxonomy

ORGANISATION_LABELS = {
    "name": _l("Naam van de school"), "brin": _l("Instellingscode (BRIN)"),
    "location_number": _l("Vestigingsnummer"), "sector": _l("Sector"),
    "levels": _l("Niveaus en opleidingen"), "qualification_codes": _l("Crebo-codes (mbo)"),
    "street": _l("Straat en huisnummer"), "postcode": _l("Postcode"), "city": _l("Plaats"),
    "website": _l("Website"),
}
INITIATIVE_LABELS = {
    "title": _l("Naam van het initiatief"), "summary": _l("Samenvatting"),
    "description": _l("Beschrijving"), "start_year": _l("Startjaar"), "phase": _l("Fase"),
    "learners_count": _l("Aantal lerenden"), "staff_count": _l("Aantal medewerkers"),
    "ict": _l("ICT die het initiatief ondersteunt"),
}
OBSTACLE_LABELS = {
    "area": _l("Gebied"), "title": _l("Titel"), "description": _l("Beschrijving"),
    "rule": _l("Regel"), "severity": _l("Ernst"), "status": _l("Status"),
    "workaround": _l("Workaround"), "policy_ask": _l("Vraag aan beleid"),
    "visibility": _l("Zichtbaarheid"),
    "pilot_interest": _l("Wil meedoen aan een pilot"),
}


def change_label(key: str) -> str:
    """The Dutch (or English) label of a diff key; an unknown key is shown as it is."""
    section, _dot, rest = key.partition(".")
    if key == "state":
        return str(_l("Status"))
    if section == "organisation" and rest in ORGANISATION_LABELS:
        return f"{_('School')}: {ORGANISATION_LABELS[rest]}"
    if section == "initiative" and rest in INITIATIVE_LABELS:
        return str(INITIATIVE_LABELS[rest])
    if section == "dimensions" and rest:
        return f"{_('Dimensie')}: {current_taxonomy().label('dimensions', rest)}"
    if section == "obstacles" and rest:
        ident, _dot, name = rest.partition(".")
        if ident.startswith("new-"):
            which = _("Nieuw knelpunt %(n)s", n=ident.removeprefix("new-"))
        else:
            which = _("Knelpunt %(n)s", n=ident)
        if not name:
            return which
        if name in OBSTACLE_LABELS:
            return f"{which}: {OBSTACLE_LABELS[name]}"
    return key


def change_value(key: str, value: Any) -> Any:
    """A diff value as staff read it: visibility codes as their label, yes/no as words."""
    if key.endswith(".visibility") and isinstance(value, str):
        return {constants.PUBLIC: _("Openbaar"),
                constants.CONFIDENTIAL: _("Vertrouwelijk")}.get(value, value)
    if key.endswith(".pilot_interest") and isinstance(value, bool):
        return _("ja") if value else _("nee")
    return value
