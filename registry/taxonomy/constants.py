"""Fixed vocabularies kept in code (their labels go through Flask-Babel)."""
from __future__ import annotations

from enum import StrEnum

from flask_babel import lazy_gettext as _l

SECTORS = {
    "po": _l("Primair onderwijs (po, incl. sbo/so)"),
    "vo": _l("Voortgezet onderwijs (vo)"),
    "mbo": _l("Middelbaar beroepsonderwijs (mbo)"),
    "hbo": _l("Hoger beroepsonderwijs (hbo)"),
    "wo": _l("Wetenschappelijk onderwijs (wo)"),
    "vavo": _l("Voortgezet algemeen volwassenenonderwijs (vavo)"),
    "overig": _l("Anders"),
}
SECTOR_SHORT = {
    "po": "po", "vo": "vo", "mbo": "mbo", "hbo": "hbo", "wo": "wo", "vavo": "vavo",
    "overig": _l("anders"),
}

PHASES = {
    "idee": _l("Idee"),
    "pilot": _l("Pilot"),
    "lopend": _l("Lopend"),
    "opgeschaald": _l("Opgeschaald"),
    "gestopt": _l("Gestopt"),
}

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

LEVELS = {
    0: _l("0 - de school bepaalt"),
    1: _l("1 - lerende kiest uit vaste opties"),
    2: _l("2 - lerende kiest met begeleiding"),
    3: _l("3 - lerende bepaalt"),
}

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


STATE_LABELS = {
    InitiativeState.UNCONFIRMED: _l("Niet bevestigd"),
    InitiativeState.PENDING: _l("Wacht op moderatie"),
    InitiativeState.PUBLISHED: _l("Gepubliceerd"),
    InitiativeState.REJECTED: _l("Afgewezen"),
    InitiativeState.WITHDRAWN: _l("Ingetrokken"),
    InitiativeState.MERGED: _l("Samengevoegd"),
}

# Seed data for the taxonomy tables (also written literally in the first migration).
# (code, label_nl, label_en, description_nl, description_en)
OBSTACLE_AREAS = [
    ("kwalificeren", "Kwalificeren", "Qualifying",
     "Wat een lerende moet beheersen: kwalificatiedossiers en keuzedelen (mbo), "
     "examenprogramma's en kerndoelen (vo), referentieniveaus (po).",
     "What a learner must master: qualification files and elective modules (mbo), "
     "exam programmes and core objectives (vo), reference levels (po)."),
    ("examineren", "Examineren", "Examinations",
     "Hoe en wanneer dat getoetst wordt: examenbesluiten, examencommissie, PTA, "
     "centrale examens op vaste data, eindtoets po.",
     "How and when that is tested: examination decrees, examination board, PTA, "
     "central exams on fixed dates, end-of-school test in po."),
    ("diplomeren", "Diplomeren", "Diplomas",
     "Wanneer een diploma mag worden uitgereikt: diploma-eisen, zak/slaagregeling, "
     "geen deeldiploma's, inschrijving per opleiding en cohort.",
     "When a diploma may be awarded: diploma requirements, pass/fail rules, "
     "no partial diplomas, enrolment per programme and cohort."),
    ("certificeren", "Certificeren", "Certification",
     "Erkennen van onderdelen: mbo-certificaten, praktijkverklaring, keuzedeelcertificaten, "
     "microcredentials, vakcertificaten vo.",
     "Recognising parts: mbo certificates, practice statements, elective-module "
     "certificates, micro-credentials, vo subject certificates."),
    ("valideren", "Valideren", "Validation",
     "Erkennen van eerder en informeel leren: EVC, Ervaringscertificaat, validering van "
     "leeruitkomsten, vrijstellingen.",
     "Recognising prior and informal learning: accreditation of prior learning, "
     "experience certificates, validation of learning outcomes, exemptions."),
    ("overig", "Overig", "Other",
     "Alles waar scholen verder tegenaan lopen: onderwijstijd, bekostiging en teldatum, "
     "toezichtkaders, jaarklasroosters, leerlingvolgsystemen.",
     "Everything else: teaching-time norms, funding and count dates, inspection "
     "frameworks, year-class timetables, student information systems."),
]
DIMENSIONS = [
    ("doelen", "Leerdoelen (wat)", "Learning goals (what)"),
    ("aanbod", "Leerinhoud en aanbod", "Content and offering"),
    ("hoe", "Leeractiviteiten (hoe)", "Learning activities (how)"),
    ("tempo", "Volgorde en tempo (wanneer)", "Sequence and pace (when)"),
    ("plaats", "Leerplek (waar)", "Place (where)"),
    ("samen", "Samenwerking (met wie)", "Collaboration (with whom)"),
    ("instructie", "Instructie en begeleiding", "Instruction and coaching"),
    ("toetsing", "Toetsing en feedback", "Assessment and feedback"),
]
