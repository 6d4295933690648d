"""Test data: valid form posts and stored initiatives, built through the service layer."""
from __future__ import annotations

import itertools

from registry.database import utcnow
from registry.extensions import db
from registry.imports.models import MAPPING, ImportJob
from registry.submissions.services import (
    ContactData,
    InitiativeData,
    ObstacleData,
    OrganisationData,
    submit_initiative,
)
from registry.taxonomy.constants import InitiativeState

# The vocabularies as DOMAIN.md defines them (the tests' own copy; the application reads
# them from the taxonomy tables the migrations seed).
DIMENSION_CODES = ("doelen", "aanbod", "hoe", "tempo", "plaats", "samen", "instructie",
                   "toetsing")
AREA_CODES = ("kwalificeren", "examineren", "diplomeren", "certificeren", "valideren",
              "overig")
SECTOR_CODES = ("po", "vo", "mbo", "hbo", "wo", "vavo", "overig")
PHASE_CODES = ("idee", "pilot", "lopend", "opgeschaald", "gestopt")

_seq = itertools.count(1)


def form_post(obstacles: int = 1, **overrides) -> dict[str, str]:
    """A complete, valid POST body for /aanmelden (without CSRF token)."""
    data = {
        "school_name": "Het Baken College",
        "brin": "25lh",
        "location_number": "01",
        "sector": "mbo",
        "levels": "niveau 3 en 4",
        "qualification_codes": "25180 25181",
        "street": "Schoolstraat 12",
        "postcode": "3511ab",
        "city": "Utrecht",
        "website": "www.hetbaken.nl",
        "title": "Eigen leerroute met coach",
        "summary": "Studenten kiezen zelf volgorde en tempo.",
        "description": "Een uitgebreide beschrijving.",
        "start_year": "2022",
        "phase": "pilot",
        "learners_count": "40",
        "staff_count": "5",
        "ict": "Portfolio",
        "contact-name": "Anne de Vries",
        "contact-role": "teamleider",
        "contact-email": "Anne@Example.org",
        "contact-phone": "030 123 45 67",
        "contact-consent_contact": "y",
        "action": "submit",
    }
    for i, code in enumerate(DIMENSION_CODES):
        data[f"dimensions-{i}-code"] = code
        data[f"dimensions-{i}-current_level"] = "1" if i == 0 else "0"
        data[f"dimensions-{i}-ambition_level"] = "2" if i == 0 else "0"
    areas = ["examineren", "diplomeren", "kwalificeren", "valideren", "certificeren", "overig"]
    for i in range(obstacles):
        data.update({
            f"obstacles-{i}-area": areas[i % len(areas)],
            f"obstacles-{i}-title": f"Knelpunt {i + 1}",
            f"obstacles-{i}-description": "Examens alleen op vaste momenten.",
            f"obstacles-{i}-rule": "Examen- en kwalificatiebesluit WEB",
            f"obstacles-{i}-severity": "3",
            f"obstacles-{i}-status": "open",
            f"obstacles-{i}-workaround": "",
            f"obstacles-{i}-policy_ask": "Ruimte om te experimenteren",
        })
    data.update(overrides)
    return {k: v for k, v in data.items() if v is not None}


def initiative_data(**overrides) -> InitiativeData:
    n = next(_seq)
    org = OrganisationData(
        name=overrides.pop("school_name", f"School {n}"),
        brin=overrides.pop("brin", f"{n % 100:02d}AB"),
        sector=overrides.pop("sector", "mbo"),
        postcode=overrides.pop("postcode", "3511 AB"),
        city=overrides.pop("city", "Utrecht"),
        street="Schoolstraat 1",
    )
    obstacles = overrides.pop("obstacles", None) or [
        ObstacleData(area="examineren", title="Vaste examenmomenten", severity=3,
                     description="Alleen in juni.", rule="Examenbesluit", policy_ask="Ruimte"),
    ]
    data = InitiativeData(
        organisation=org,
        title=overrides.pop("title", f"Initiatief {n}"),
        summary=overrides.pop("summary", "Een korte samenvatting."),
        phase=overrides.pop("phase", "pilot"),
        learners_count=overrides.pop("learners_count", 30),
        dimensions={code: (1, 2) for code in DIMENSION_CODES},
        obstacles=obstacles,
        contact=overrides.pop("contact", ContactData(
            name=f"Contact {n}", email=f"contact{n}@example.org", phone="0612345678",
            consent_contact=True)),
    )
    for key, value in overrides.items():
        setattr(data, key, value)
    return data


def make_initiative(state: str = InitiativeState.PUBLISHED, commit: bool = True, **overrides):
    """Store an initiative through the service layer, in the given state."""
    initiative = submit_initiative(initiative_data(**overrides), state=state)
    if state == InitiativeState.PUBLISHED:
        initiative.published_at = utcnow()
    if commit:
        db.session.commit()
    return initiative


def sample_import_job() -> int:
    """The list import pages (issue 21) show a job: one waiting for its column mapping."""
    job = ImportJob(source="Netwerk Oost", file_name="scholen.csv", kind="csv",
                    layout="mapped", status=MAPPING, headers=["School", "Plaats", "Initiatief"])
    db.session.add(job)
    db.session.flush()
    return job.id
