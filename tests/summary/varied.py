"""A varied, seeded data set for the oracle tests: every sector, phase, area and province
(and unknown provinces), themes with rules at every level (several, none, an unknown one),
rules and policy asks in several spellings, accents and case variants in every searchable
text ("École", "Één", "Fryslân", "Straße", a ligature, LIKE wildcards), dimensions at every
level (and missing ones), consents, erased contacts and unpublished entries."""
from __future__ import annotations

import random
from datetime import timedelta

from registry.database import utcnow
from registry.extensions import db
from registry.moderation.models import Theme, ThemeRule
from registry.submissions.services import ContactData, ObstacleData
from registry.taxonomy.constants import InitiativeState
from tests.factories import AREA_CODES, DIMENSION_CODES, PHASE_CODES, SECTOR_CODES, make_initiative
from tests.summary.oracle import PROVINCES

SCHOOLS = ["École de Vrije Ruimte", "Één Lyceum", "Fryslân College", "Straße & Partners",
           "Zoë Montessori", "Crème de la Crème", "Het Baken", "ﬁetsschool De Spaak",
           "Leren 100% op maat_2", "Ĳsselcollege", "Naïef Leren", "ÉCOLE INTERNATIONALE"]
CITIES = ["Leeuwarden", "Súdwest-Fryslân", "Den Haag", "'s-Hertogenbosch", "Zwolle", "Utrecht",
          "Ljouwert", "Ede"]
TITLES = ["Eigen leerroute", "Één route voor iedereen", "Fryslân leert anders",
          "Leren op de werkvloer", "Havo op eigen tempo", "École sans classes",
          "Crème van het onderwijs", "Open leercentrum"]
SUMMARIES = ["Leerlingen kiezen zelf volgorde en tempo.", "Élèves kiezen hun eigen doelen.",
             "Studenten werken in een eigen tempo.", "Geen jaarklassen meer."]
OBSTACLE_TITLES = ["Examen pas in juni", "Één toets per jaar", "ÉCOLE-regel", "Teldatum",
                   "Kwalificatiedossier", "Geen deeldiploma", "EVC-procedure", "Roosters",
                   "Straßenplan", "Urennorm_plus", "50% aanwezig"]
RULES = ["Examenbesluit", "  examenbesluit. ", "WEB art. 7.4.6", "Wet op het primair onderwijs",
         "", "   ", "Één regel met accenten", "één  REGEL met accenten."]
ASKS = ["Ruimte om te experimenteren", "ruimte  om te experimenteren", "Flexibele examens",
        "", "Één loket"]
DESCRIPTIONS = ["", "Een citaat.", "  Nog een citaat  ", "Wij mogen pas examineren in juni."]
# (area, rules as (title, level)): every level, themes with rules in one group and in
# several (mixed), one without rules and one with a level that is not a known level.
THEMES = [
    ("examineren", [("Examenbesluit", "amvb"), ("Eigen examenreglement", "bestuur")]),
    ("kwalificeren", [("Kwalificatiedossier", "sectorafspraak")]),
    ("overig", [("Eigen roosterbeleid", "bestuur"),
                ("Regeling bekostiging", "ministeriele_regeling")]),
    ("diplomeren", []),
    ("valideren", [("Onderzoekskader", "toezicht"), ("WEB", "wet")]),
    ("certificeren", [("Iets onbekends", "onbekend")]),
]
STATES = [InitiativeState.PENDING, InitiativeState.WITHDRAWN, InitiativeState.REJECTED,
          InitiativeState.UNCONFIRMED]


def build_themes() -> list[Theme]:
    themes = []
    for i, (area, rules) in enumerate(THEMES):
        theme = Theme(area_code=area, title=f"Thema {i} {area}",
                      description=f"Beschrijving {i}",
                      rules=[ThemeRule(title=t, level=level, source_url=f"https://wetten.example/{i}")
                             for t, level in rules])
        db.session.add(theme)
        themes.append(theme)
    db.session.flush()
    return themes


def build_varied(rnd: random.Random, count: int = 70, themes: list[Theme] | None = None
                 ) -> list[Theme]:
    """``count`` initiatives (about 85% published) in one commit; returns the themes."""
    themes = themes if themes is not None else build_themes()
    now = utcnow()
    for n in range(count):
        obstacles = [
            ObstacleData(area=rnd.choice(AREA_CODES), title=rnd.choice(OBSTACLE_TITLES),
                         severity=rnd.randint(1, 4),
                         status=rnd.choice(["open", "omzeild", "opgelost"]),
                         description=rnd.choice(DESCRIPTIONS), rule=rnd.choice(RULES),
                         policy_ask=rnd.choice(ASKS))
            for _ in range(rnd.randint(1, 4))]
        state = (InitiativeState.PUBLISHED if rnd.random() < 0.85 else rnd.choice(STATES))
        dimensions = {code: (rnd.randint(0, 3), rnd.randint(0, 3))
                      for code in DIMENSION_CODES if rnd.random() < 0.8}
        initiative = make_initiative(
            state=state, commit=False, obstacles=obstacles, sector=rnd.choice(SECTOR_CODES),
            school_name=rnd.choice(SCHOOLS), city=rnd.choice(CITIES),
            title=f"{rnd.choice(TITLES)} {n}", summary=rnd.choice(SUMMARIES),
            learners_count=rnd.choice([None, 0, 1, 25, 300]), phase=rnd.choice(PHASE_CODES),
            brin=rnd.choice(["11AA", "22bb", "22BB", "33CC", "44DD"]), dimensions=dimensions,
            contact=ContactData(name=f"C{n}", email=f"c{n}@example.org",
                                consent_quotes=rnd.random() < 0.5))
        org = initiative.organisation
        org.location_number = rnd.choice(["01", "02", None])
        org.province = rnd.choice([*PROVINCES, "Fryslân", "Utrecht", None, ""])
        if rnd.random() < 0.1:  # erased: no quotes even with consent
            initiative.contact.erased_at = now
            initiative.contact.consent_quotes = True
        for obstacle in initiative.obstacles:
            if rnd.random() < 0.65:
                obstacle.theme_id = rnd.choice(themes).id
            obstacle.created_at = obstacle.reported_at = now - timedelta(days=rnd.randint(0, 400))
        initiative.published_at = (now - timedelta(days=rnd.randint(0, 400))
                                   if state == InitiativeState.PUBLISHED else None)
    db.session.commit()
    return themes
