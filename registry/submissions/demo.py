"""A realistic, entirely fictional demo data set (``flask --app registry seed-demo``).

School names, people and addresses are invented; postcodes are real four-digit areas so the
offline geocoder places each initiative in the right province.
"""
from __future__ import annotations

import random
from datetime import datetime, timedelta

from sqlalchemy import select

from registry.database import utcnow
from registry.extensions import db
from registry.moderation.models import Theme, ThemeRule
from registry.submissions.models import Initiative, Obstacle
from registry.submissions.services import (
    ContactData,
    InitiativeData,
    ObstacleData,
    OrganisationData,
    submit_initiative,
)
from registry.taxonomy.constants import InitiativeState
from registry.taxonomy.services import current as current_taxonomy

# (PC4, place, province) - three or four per province
PLACES = [
    ("9712", "Groningen", "Groningen"), ("9671", "Winschoten", "Groningen"),
    ("9401", "Assen", "Drenthe"), ("7811", "Emmen", "Drenthe"), ("7901", "Hoogeveen", "Drenthe"),
    ("8911", "Leeuwarden", "Fryslân"), ("9201", "Drachten", "Fryslân"),
    ("8601", "Sneek", "Fryslân"),
    ("8011", "Zwolle", "Overijssel"), ("7511", "Enschede", "Overijssel"),
    ("7411", "Deventer", "Overijssel"),
    ("1315", "Almere", "Flevoland"), ("8232", "Lelystad", "Flevoland"),
    ("8301", "Emmeloord", "Flevoland"),
    ("6811", "Arnhem", "Gelderland"), ("6511", "Nijmegen", "Gelderland"),
    ("7311", "Apeldoorn", "Gelderland"), ("6711", "Ede", "Gelderland"),
    ("3511", "Utrecht", "Utrecht"), ("3811", "Amersfoort", "Utrecht"), ("3701", "Zeist", "Utrecht"),
    ("1012", "Amsterdam", "Noord-Holland"), ("2011", "Haarlem", "Noord-Holland"),
    ("1811", "Alkmaar", "Noord-Holland"), ("1621", "Hoorn", "Noord-Holland"),
    ("3011", "Rotterdam", "Zuid-Holland"), ("2511", "Den Haag", "Zuid-Holland"),
    ("2311", "Leiden", "Zuid-Holland"), ("2611", "Delft", "Zuid-Holland"),
    ("4331", "Middelburg", "Zeeland"), ("4381", "Vlissingen", "Zeeland"),
    ("4461", "Goes", "Zeeland"), ("4531", "Terneuzen", "Zeeland"),
    ("5611", "Eindhoven", "Noord-Brabant"), ("5038", "Tilburg", "Noord-Brabant"),
    ("5211", "'s-Hertogenbosch", "Noord-Brabant"), ("4811", "Breda", "Noord-Brabant"),
    ("6211", "Maastricht", "Limburg"), ("5911", "Venlo", "Limburg"),
    ("6411", "Heerlen", "Limburg"), ("6041", "Roermond", "Limburg"),
]
STREETS = ["Schoolstraat", "Kerkweg", "Stationsplein", "Onderwijsboulevard", "Lindelaan",
           "Molenweg", "Beukenlaan", "Industrieweg", "Parkweg", "Julianastraat"]

SCHOOLS = {
    "po": ["Basisschool De Regenboog", "Kindcentrum Het Kompas", "OBS De Vlinder",
           "IKC De Ontdekking", "Montessorischool De Wereld", "Daltonschool De Wilg"],
    "vo": ["Het Baken College", "Lyceum De Horizon", "Scholengemeenschap Het Veld",
           "College De Brug", "Agora-school Nova", "Mavo Het Anker"],
    "mbo": ["ROC Vakcollege Midden", "Vakschool Groen & Techniek", "ROC De Kempen Zuid",
            "Zorgcollege Oost", "Techniek College Noord", "ROC Horizon Vakopleidingen"],
    "hbo": ["Hogeschool De Delta", "Hogeschool Noorderlicht"],
    "wo": ["Universitair Leercentrum Oost"],
    "vavo": ["VAVO Lyceum Stad", "Volwassenenonderwijs De Tweede Kans"],
    "overig": ["Leerwerkplaats De Schakel", "Stichting Leren op Maat"],
}
LEVELS = {
    "po": "groep 1-8", "vo": "vmbo-t, havo", "mbo": "niveau 2 t/m 4, BOL en BBL",
    "hbo": "bachelor, Associate degree", "wo": "bachelor", "vavo": "havo, vwo",
    "overig": "mbo niveau 1-2",
}
TITLES = [
    "Eigen leerroute met coach", "Flexibel examineren op maat", "Leren in de wijk",
    "Studio-onderwijs zonder jaarklassen", "Persoonlijke leerdoelen in het portfolio",
    "Hybride leeromgeving met praktijkleren", "Leerlingen plannen hun eigen week",
    "Versneld diplomeren voor zij-instromers", "Onderwijs op maat in de keten",
    "Talentprogramma met eigen tempo", "Werkplekleren met microcredentials",
    "Leerteams over de niveaus heen", "De leerling aan het stuur",
    "Vraaggestuurd leren in de regio",
]
SUMMARIES = [
    "Lerenden stellen met hun coach eigen leerdoelen op en kiezen zelf volgorde en tempo. "
    "Toetsing gebeurt wanneer de lerende er klaar voor is.",
    "Teams werken zonder vaste jaarklassen; lerenden kiezen uit een aanbod van modules en "
    "leren op de werkplek, thuis of op school.",
    "Een pilot waarin lerenden hun eigen route samenstellen over kwalificatiedossiers heen, "
    "met begeleiding van een vaste coach.",
    "Lerenden bouwen een portfolio van bewijzen op tijdens het leren; de examencommissie "
    "beoordeelt op basis van dat geheel van bewijs.",
]
ICT = ["Portfolio in het leerplatform en een voortgangsmonitor",
       "Eigen leerroute-planner gekoppeld aan het leerlingvolgsysteem",
       "Adaptieve oefensoftware en een digitaal portfolio", ""]

OBSTACLES = {
    "kwalificeren": [
        ("Kwalificatiedossier te star voor eigen leerdoelen",
         "Het kwalificatiedossier schrijft vaste werkprocessen voor; eigen leerdoelen van "
         "studenten passen er moeilijk in.", "Kwalificatiedossiers SBB / WEB art. 7.2.4",
         "Ruimte om leerdoelen over dossiers heen te combineren."),
        ("Kerndoelen per leerjaar ingedeeld",
         "Het programma is per leerjaar georganiseerd, terwijl leerlingen op eigen tempo werken.",
         "Kerndoelen onderbouw vo", "Kerndoelen als eindtermen, niet per jaar."),
    ],
    "examineren": [
        ("Examens alleen op vaste momenten",
         "Studenten die eerder klaar zijn, moeten wachten op het vaste examenmoment.",
         "Examen- en kwalificatiebesluit beroepsopleidingen WEB",
         "Examineren wanneer de student er klaar voor is."),
        ("Centraal examen op vaste data",
         "Leerlingen die versneld werken, kunnen pas in mei centraal examen doen.",
         "Eindexamenbesluit VO art. 37", "Meer afnamemomenten voor het centraal examen."),
        ("PTA past niet bij eigen route",
         "Het PTA legt toetsen per periode vast, wat eigen volgorde onmogelijk maakt.",
         "Eigen PTA van de school", "Informatie over de ruimte die het PTA al biedt."),
    ],
    "diplomeren": [
        ("Geen deeldiploma's",
         "Lerenden die een deel afronden, krijgen daarvoor geen erkend bewijs.",
         "WEB art. 7.4.6 diploma-eisen", "Mogelijkheid tot deelkwalificaties."),
        ("Diplomeren alleen per cohort",
         "Inschrijving en diplomering zijn gekoppeld aan cohorten; individueel diplomeren "
         "vraagt veel uitzonderingen.", "Inschrijving per opleiding en cohort",
         "Diplomeren op elk moment van het jaar."),
    ],
    "certificeren": [
        ("Keuzedeelcertificaat pas bij diploma",
         "Keuzedelen worden pas zichtbaar bij diplomering, niet als zelfstandig certificaat.",
         "Regeling keuzedelen", "Zelfstandige certificaten voor keuzedelen."),
        ("Microcredentials niet erkend",
         "Werkplekleren levert microcredentials op die niet meetellen voor het diploma.",
         "", "Erkenning van microcredentials binnen de opleiding."),
    ],
    "valideren": [
        ("EVC telt niet mee voor vrijstelling",
         "Een Ervaringscertificaat levert geen vrijstelling op binnen de opleiding.",
         "Examen- en kwalificatiebesluit: vrijstellingen",
         "Heldere regels voor vrijstelling op basis van EVC."),
        ("Informeel leren is niet te valideren",
         "Wat leerlingen buiten school leren, kunnen we niet formeel erkennen.",
         "", "Een kader voor validering van leeruitkomsten."),
    ],
    "overig": [
        ("Urennorm dwingt vaste roosters af",
         "De norm voor begeleide onderwijstijd maakt flexibel leren op eigen tempo lastig.",
         "WEB art. 7.2.7 urennorm (BOT)", "Loslaten van de urennorm in pilots."),
        ("Bekostiging op teldatum",
         "Instroom op elk moment past niet bij bekostiging op basis van de teldatum.",
         "Regeling bekostiging, teldatum 1 oktober",
         "Bekostiging die instroom op elk moment volgt."),
        ("Leerlingvolgsysteem kan geen flexibele routes",
         "Het administratiesysteem kent alleen klassen en jaren.",
         "", "Eisen aan leveranciers van administratiesystemen."),
    ],
}
WEB = "https://wetten.overheid.nl/BWBR0007625"
EINDEXAMENBESLUIT = "https://wetten.overheid.nl/BWBR0004593"

# Curated themes (knelpunten) a moderator would create: (area, title, description, rules,
# titles of the reported obstacles it groups). A rule is (title, level, source, existing room).
THEMES = [
    ("kwalificeren", "Vaste kwalificaties en kerndoelen per jaar",
     "Kwalificatiedossiers en een indeling van kerndoelen per leerjaar laten weinig ruimte "
     "voor eigen leerdoelen van lerenden.",
     [("Kwalificatiestructuur (WEB art. 7.2.4)", "wet", WEB,
       "Experimenten met lerend kwalificeren in het mbo."),
      ("Indeling van de kerndoelen per leerjaar in het schoolplan", "bestuur", "",
       "De kerndoelen zelf schrijven geen indeling per leerjaar voor.")],
     ["Kwalificatiedossier te star voor eigen leerdoelen", "Kerndoelen per leerjaar ingedeeld"]),
    ("examineren", "Examens alleen op vaste momenten",
     "Lerenden die eerder klaar zijn of een eigen volgorde volgen, moeten wachten op vaste "
     "examenmomenten.",
     [("Eindexamenbesluit VO: tijdvakken centraal examen", "amvb", EINDEXAMENBESLUIT, ""),
      ("Examen- en kwalificatiebesluit beroepsopleidingen WEB", "amvb", "",
       "De examencommissie kan examineren op afroep toestaan."),
      ("Examenreglement en PTA van de school", "bestuur", "",
       "Scholen bepalen zelf spreiding en momenten van schoolexamens.")],
     ["Examens alleen op vaste momenten", "Centraal examen op vaste data",
      "PTA past niet bij eigen route"]),
    ("diplomeren", "Geen diplomering op maat",
     "Diploma's en inschrijving zijn gekoppeld aan opleidingen en cohorten; deelresultaten "
     "leveren geen erkend bewijs op.",
     [("Diploma-eisen (WEB art. 7.4.6)", "wet", WEB, ""),
      ("Inschrijving per opleiding en cohort in het studentinformatiesysteem", "bestuur", "",
       "")],
     ["Geen deeldiploma's", "Diplomeren alleen per cohort"]),
    ("certificeren", "Erkenning van onderdelen en microcredentials",
     "Keuzedelen en op de werkplek behaalde onderdelen worden pas bij het diploma zichtbaar.",
     [("Regeling keuzedelen", "ministeriele_regeling", "", ""),
      ("Afspraken over microcredentials in de sector", "sectorafspraak", "",
       "Deelnemende instellingen mogen microcredentials uitgeven.")],
     ["Keuzedeelcertificaat pas bij diploma", "Microcredentials niet erkend"]),
    ("valideren", "Eerder en informeel leren telt niet mee",
     "Wat lerenden buiten school of eerder leerden, levert geen vrijstelling op.",
     [("Vrijstellingen door de examencommissie", "bestuur", "",
       "De examencommissie kan vrijstelling verlenen op basis van een Ervaringscertificaat.")],
     ["EVC telt niet mee voor vrijstelling", "Informeel leren is niet te valideren"]),
    ("overig", "Onderwijstijd en bekostiging volgen vaste jaren",
     "De urennorm en bekostiging op teldatum gaan uit van vaste roosters en instroommomenten.",
     [("Urennorm begeleide onderwijstijd (WEB art. 7.2.7)", "wet", WEB, ""),
      ("Bekostiging op basis van de teldatum", "ministeriele_regeling", "", ""),
      ("Onderzoekskader van de inspectie", "toezicht", "", "")],
     ["Urennorm dwingt vaste roosters af", "Bekostiging op teldatum"]),
    ("overig", "Systemen kennen alleen klassen en jaren",
     "Administratiesystemen kunnen flexibele routes niet registreren.",
     [("Inrichting van het eigen studentinformatiesysteem", "bestuur", "", "")],
     ["Leerlingvolgsysteem kan geen flexibele routes"]),
]

# The one ask to OCW a moderator curated per theme (by title); the others have none yet.
THEME_ASKS = {
    "Vaste kwalificaties en kerndoelen per jaar":
        "Verbreed de experimenten met lerend kwalificeren naar alle mbo-instellingen die "
        "met eigen leerroutes werken, en maak duidelijk dat kerndoelen niet per leerjaar "
        "hoeven te worden ingedeeld.",
    "Examens alleen op vaste momenten":
        "Sta in een pilot examens op afroep toe, ook voor het centraal examen in het vo, "
        "zodat lerenden examen doen wanneer zij er klaar voor zijn.",
    "Geen diplomering op maat":
        "Onderzoek met scholen hoe deelcertificaten erkend bewijs kunnen worden en "
        "diplomeren op elk moment van het jaar mogelijk wordt.",
    "Erkenning van onderdelen en microcredentials":
        "Maak zelfstandige certificaten voor keuzedelen mogelijk en leg afspraken over "
        "microcredentials vast in de regeling.",
    "Onderwijstijd en bekostiging volgen vaste jaren":
        "Laat in een experiment de urennorm los en bekostig instroom op elk moment, met "
        "een toezichtkader dat naar de kwaliteit van de leerroute kijkt.",
}

# The optional English texts a moderator wrote (issue 19); the last theme has none, so the
# English interface shows its Dutch text marked as Dutch.
THEME_EN = {
    "Vaste kwalificaties en kerndoelen per jaar": (
        "Fixed qualifications and attainment targets per year",
        "Qualification files and attainment targets divided per school year leave little room "
        "for learners' own learning goals.",
        "Extend the experiments with learning-based qualifying to every MBO institution that "
        "works with individual learning routes, and make clear that attainment targets need "
        "not be divided per school year."),
    "Examens alleen op vaste momenten": (
        "Examinations only at fixed moments",
        "Learners who finish earlier or follow their own order have to wait for fixed "
        "examination moments.",
        "Allow examinations on demand in a pilot, including the central examination in "
        "secondary education, so that learners sit an examination when they are ready."),
    "Geen diplomering op maat": (
        "No diplomas tailored to the learner",
        "Diplomas and enrolment are tied to programmes and cohorts; partial results do not "
        "give recognised proof.",
        "Explore with schools how partial certificates can become recognised proof and how "
        "diplomas can be awarded at any moment of the year."),
    "Erkenning van onderdelen en microcredentials": (
        "Recognition of units and microcredentials",
        "Elective units and units achieved at the workplace only become visible with the "
        "diploma.",
        "Make separate certificates for elective units possible and lay down agreements on "
        "microcredentials in the regulation."),
    "Eerder en informeel leren telt niet mee": (
        "Prior and informal learning does not count",
        "What learners learned outside school or earlier gives no exemption.", ""),
    "Onderwijstijd en bekostiging volgen vaste jaren": (
        "Teaching time and funding follow fixed years",
        "The hours standard and funding on a census date assume fixed timetables and intake "
        "moments.",
        "Let go of the hours standard in an experiment and fund intake at any moment, with a "
        "supervision framework that looks at the quality of the learning route."),
}
RULE_EN = {
    "Kwalificatiestructuur (WEB art. 7.2.4)": "Qualification structure (WEB art. 7.2.4)",
    "Indeling van de kerndoelen per leerjaar in het schoolplan":
        "Division of attainment targets per school year in the school plan",
    "Eindexamenbesluit VO: tijdvakken centraal examen":
        "Secondary education examination decree: central examination periods",
    "Examenreglement en PTA van de school": "The school's examination rules and PTA",
    "Diploma-eisen (WEB art. 7.4.6)": "Diploma requirements (WEB art. 7.4.6)",
    "Regeling keuzedelen": "Elective units regulation",
    "Vrijstellingen door de examencommissie": "Exemptions by the examination board",
    "Urennorm begeleide onderwijstijd (WEB art. 7.2.7)":
        "Hours standard for supervised teaching time (WEB art. 7.2.7)",
    "Bekostiging op basis van de teldatum": "Funding based on the census date",
    "Onderzoekskader van de inspectie": "The inspectorate's inspection framework",
}

FIRST = ["Anne", "Bram", "Fatima", "Joris", "Lotte", "Mehmet", "Sanne", "Thijs", "Yara", "Ruben"]
LAST = ["de Vries", "Jansen", "Bakker", "El Amrani", "Visser", "Smit", "Meijer", "de Boer"]
ROLES = ["teamleider", "projectleider innovatie", "docent", "opleidingsmanager", "coach"]


def random_dimensions(rnd: random.Random) -> dict[str, tuple[int, int]]:
    """A plausible (current, ambition) level for every dimension; ambition >= current."""
    dims = {}
    for code in current_taxonomy().codes("dimensions"):
        current = rnd.choice([0, 0, 1, 1, 2, 3])
        dims[code] = (current, min(3, current + rnd.choice([0, 1, 1, 2])))
    return dims


def random_obstacles(rnd: random.Random, least: int, most: int) -> list[ObstacleData]:
    """Between ``least`` and ``most`` obstacles drawn from the demo vocabulary."""
    obstacles = []
    for _ in range(rnd.randint(least, most)):
        area = rnd.choice(list(OBSTACLES))
        title, description, rule, ask = rnd.choice(OBSTACLES[area])
        status = rnd.choices(["open", "omzeild", "opgelost"], weights=[6, 3, 1])[0]
        severity = rnd.choice([1, 2, 2, 3, 3, 4])
        obstacles.append(ObstacleData(
            area=area, title=title, description=description, rule=rule,
            severity=severity, status=status,
            workaround="Tijdelijke afspraak met de examencommissie." if status == "omzeild"
            else "", policy_ask=ask,
            # A serious obstacle the school works around (it bends a rule) is reported
            # confidentially (issue 16); derived, so the random draws stay the same.
            visibility="confidential" if status == "omzeild" and severity >= 3 else "public",
            # A school blocked by an open obstacle volunteers for a pilot on it (issue 18)
            pilot_interest=status == "open" and severity == 4,
        ))
    return obstacles


def random_initiative_data(rnd: random.Random, i: int, *, sector: str, pc4: str, city: str,
                           obstacles: tuple[int, int], title_suffix: str, website_tag: str,
                           first_names: list[str] = FIRST, last_names: list[str] = LAST,
                           ) -> InitiativeData:
    """One fictional initiative in the shape the submission form produces (the demo data and
    the benchmark generator). The order of the random draws is part of the result: the
    benchmark's cached data sets depend on it."""
    school = rnd.choice(SCHOOLS[sector])
    letters = "".join(rnd.choice("ABCDEGHJKLMNPRSTVWXZ") for _ in range(2))
    dims = random_dimensions(rnd)
    obstacle_data = random_obstacles(rnd, *obstacles)
    first, last = rnd.choice(first_names), rnd.choice(last_names)
    data = InitiativeData(
        organisation=OrganisationData(
            name=f"{school} {city}", brin=f"{rnd.randint(0, 99):02d}{letters}",
            location_number=f"{rnd.randint(0, 9):02d}" if rnd.random() < .6 else None,
            sector=sector, levels=LEVELS[sector],
            qualification_codes="25180, 25181" if sector == "mbo" and rnd.random() < .5 else "",
            street=f"{rnd.choice(STREETS)} {rnd.randint(1, 120)}",
            postcode=f"{pc4} {letters}", city=city,
            website=f"https://www.{school.lower().split()[-1]}-{website_tag}.example.nl",
        ),
        title=f"{rnd.choice(TITLES)}{title_suffix}",
        summary=rnd.choice(SUMMARIES),
        description="\n\n".join(rnd.sample(SUMMARIES, 2)),
        start_year=rnd.randint(2017, 2026),
        phase=rnd.choice(["idee", "pilot", "pilot", "lopend", "lopend", "opgeschaald", "gestopt"]),
        learners_count=rnd.choice([12, 25, 40, 60, 120, 250, 600]),
        staff_count=rnd.choice([2, 4, 6, 10, 20]),
        ict=rnd.choice(ICT),
        dimensions=dims,
        obstacles=obstacle_data,
        contact=ContactData(
            name=f"{first} {last}", role=rnd.choice(ROLES),
            email=f"{first.lower()}.{last.lower().replace(' ', '')}{i}@example.org",
            consent_contact=True, consent_publish_name=rnd.random() < .3,
            consent_quotes=rnd.random() < .6,
        ),
    )
    # Who publishes its name also lets OCW know it by name (derived: no extra draw)
    if data.contact is not None:
        data.contact.consent_name_to_ocw = data.contact.consent_publish_name
    return data


def spread_reported_at(initiative: Initiative, confirmed: datetime, rnd: random.Random,
                       now: datetime) -> None:
    """When the school reported each obstacle (the summary's reports over time): at the
    confirmation of the entry, and for about one entry in five with several obstacles, the
    last one added months later (never in the future)."""
    obstacles = sorted(initiative.obstacles, key=lambda o: o.position)
    later = len(obstacles) > 1 and rnd.random() < 0.2
    for n, obstacle in enumerate(obstacles):
        when = confirmed
        if later and n == len(obstacles) - 1:
            when = min(confirmed + timedelta(days=rnd.randint(45, 330)),
                       now - timedelta(days=1))
            when = max(when, confirmed)
        obstacle.reported_at = obstacle.created_at = when


def seed_demo(count: int = 80, seed: int = 2026) -> int:
    """Create ``count`` fictional initiatives: most published, some pending. Not committed.

    Entries were confirmed over the last two years, and their obstacles reported then (some
    added months later); those dates come from a second random generator, so the draws of
    the data itself stay as they were."""
    rnd = random.Random(seed)
    dates = random.Random(f"{seed}-reported")
    sectors = ["po", "vo", "mbo", "mbo", "vo", "po", "hbo", "wo", "vavo", "overig", "mbo"]
    now = utcnow()
    created = 0
    for i in range(count):
        pc4, city, _province = PLACES[i % len(PLACES)]
        sector = sectors[i % len(sectors)] if i >= len(PLACES) else rnd.choice(sectors)
        data = random_initiative_data(rnd, i, sector=sector, pc4=pc4, city=city,
                                      obstacles=(1, 5), title_suffix="",
                                      website_tag=city.lower()[:6])
        published = rnd.random() < 0.85
        initiative = submit_initiative(
            data, state=InitiativeState.PUBLISHED if published else InitiativeState.PENDING
        )
        submitted = now - timedelta(days=rnd.randint(1, 700))
        initiative.submitted_at = submitted
        initiative.reference = f"GL-{submitted.year}-{initiative.id:05d}"
        if published:
            initiative.published_at = submitted + timedelta(days=rnd.randint(1, 14))
        # the contact confirmed the entry within a day of submitting it
        confirmed = min(submitted + timedelta(minutes=dates.randint(5, 24 * 60)), now)
        spread_reported_at(initiative, confirmed, dates, now)
        created += 1
    db.session.flush()
    seed_demo_themes()
    return created


def seed_demo_themes() -> int:
    """Create the demo themes with their rules and link the matching reported obstacles."""
    existing = set(db.session.scalars(select(Theme.title)))
    created = 0
    for area, title, description, rules, obstacle_titles in THEMES:
        if title in existing:
            continue
        title_en, description_en, ask_en = THEME_EN.get(title, ("", "", ""))
        theme = Theme(area_code=area, title=title, description=description,
                      ask=THEME_ASKS.get(title, ""), title_en=title_en,
                      description_en=description_en, ask_en=ask_en, rules=[
            ThemeRule(title=r_title, level=level, source_url=url, existing_room=room,
                      title_en=RULE_EN.get(r_title, ""))
            for r_title, level, url, room in rules
        ])
        db.session.add(theme)
        db.session.flush()
        # Moderators link obstacles of entries they reviewed; pending ones stay unlinked.
        for obstacle in db.session.scalars(
            select(Obstacle).join(Initiative).where(
                Obstacle.title.in_(obstacle_titles), Obstacle.theme_id.is_(None),
                Initiative.state == InitiativeState.PUBLISHED)
        ):
            obstacle.theme_id = theme.id
        created += 1
    db.session.flush()
    return created
