"""Fixed vocabularies kept in code (their labels go through Flask-Babel).

Areas, dimensions, sectors and phases are not here: they are rows in the taxonomy tables
(``registry.taxonomy.models``), read through ``registry.taxonomy.services.current``.
"""
from __future__ import annotations

from enum import StrEnum
from typing import Any

from flask_babel import lazy_gettext as _l

SEVERITIES = {
    1: _l("1 - hindert"),
    2: _l("2 - vertraagt"),
    3: _l("3 - blokkeert een deel"),
    4: _l("4 - blokkeert het initiatief"),
}

OBSTACLE_STATUSES = {
    "open": _l("Open"),
    "omzeild": _l("Omzeild (workaround)"),
    "opgelost": _l("Opgelost"),
}

# Who may see an obstacle (issue 16): "public" is shown with the initiative; "confidential"
# counts only in the national figures (registry.summary.disclosure) and is seen by staff.
VISIBILITIES = {
    "public": _l("Openbaar: tonen bij ons initiatief"),
    "confidential": _l("Vertrouwelijk: meetellen, maar nooit tonen bij onze school"),
}
PUBLIC = "public"
CONFIDENTIAL = "confidential"

LEVELS = {
    0: _l("0 - de school bepaalt"),
    1: _l("1 - lerende kiest uit vaste opties"),
    2: _l("2 - lerende kiest met begeleiding"),
    3: _l("3 - lerende bepaalt"),
}

# The twelve provinces are fixed by law; a school's location decides its province.
PROVINCES = (
    "Groningen", "Fryslân", "Drenthe", "Overijssel", "Flevoland", "Gelderland", "Utrecht",
    "Noord-Holland", "Zuid-Holland", "Zeeland", "Noord-Brabant", "Limburg",
)


class InitiativeState(StrEnum):
    UNCONFIRMED = "unconfirmed"
    PENDING = "pending"
    PUBLISHED = "published"
    REJECTED = "rejected"
    WITHDRAWN = "withdrawn"
    MERGED = "merged"  # merged into another entry by a moderator (duplicates)


# keyed by str: a StrEnum member and the plain string stored in the database look up alike
STATE_LABELS: dict[str, Any] = {
    InitiativeState.UNCONFIRMED: _l("Niet bevestigd"),
    InitiativeState.PENDING: _l("Wacht op moderatie"),
    InitiativeState.PUBLISHED: _l("Gepubliceerd"),
    InitiativeState.REJECTED: _l("Afgewezen"),
    InitiativeState.WITHDRAWN: _l("Ingetrokken"),
    InitiativeState.MERGED: _l("Samengevoegd"),
}
