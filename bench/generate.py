"""A realistic synthetic registry at national scale, built through the service layer.

    python -m bench.generate --size 10000                 # -> bench/.cache/registry-10000-....db
    python -m bench.generate --size 1000 --database-url postgresql+psycopg://...

Every initiative is built with ``registry.submissions.services.build_initiative`` (the same code
path as a real submission) and added with ``session.add_all`` in batches. The location is set
directly from real four-digit postcode (PC4) centroids (GeoNames, see /work/shared/data), so the
geocoder is not what we measure. Generated SQLite files are cached under ``bench/.cache/``
keyed by size, seed, generator version and a hash of the database schema (a new index or
column in the models gives a new file).
"""
from __future__ import annotations

import argparse
import hashlib
import os
import random
import sqlite3
import sys
import time
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path

from flask_migrate import upgrade
from sqlalchemy import MetaData, event, func, select
from sqlalchemy.schema import CreateIndex, CreateTable

from registry.database import utcnow
from registry.extensions import db
from registry.submissions.demo import random_initiative_data
from registry.submissions.services import (
    InitiativeData,
    build_initiative,
    make_reference,
)
from registry.taxonomy.constants import InitiativeState

GENERATOR_VERSION = 1
BENCH_DIR = Path(__file__).resolve().parent
CACHE_DIR = BENCH_DIR / ".cache"
SIZES = (1_000, 10_000, 100_000)
BURST_MARKER = "BENCH-BURST"  # title prefix of submissions made by the burst (bench.run)

# GeoNames admin1 names (English) -> the CBS province names used in the registry.
GEONAMES_PROVINCES = {
    "Drenthe": "Drenthe", "Flevoland": "Flevoland", "Friesland": "Fryslân",
    "Groningen": "Groningen", "Guelders": "Gelderland", "Limburg": "Limburg",
    "North Brabant": "Noord-Brabant", "North Holland": "Noord-Holland",
    "Overijssel": "Overijssel", "South Holland": "Zuid-Holland", "Utrecht": "Utrecht",
    "Zeeland": "Zeeland",
}

# ~30 curated themes (knelpunten), five per area, each with the rules behind it.
# (area, title, description, [(rule title, level, source url)])
THEMES = [
    ("kwalificeren", "Kwalificatiedossiers te star", "Vaste werkprocessen laten weinig ruimte "
     "voor eigen leerdoelen.", [("WEB art. 7.2.4", "wet", "https://wetten.overheid.nl/")]),
    ("kwalificeren", "Kerndoelen per leerjaar", "Programma's zijn per leerjaar ingedeeld.",
     [("Kerndoelen onderbouw vo", "amvb", "")]),
    ("kwalificeren", "Keuzedelen vast gekoppeld", "Keuzedelen zijn aan opleidingen gebonden.",
     [("Regeling keuzedelen", "ministeriele_regeling", "")]),
    ("kwalificeren", "Referentieniveaus als jaarnorm", "Referentieniveaus worden als norm per "
     "jaar gebruikt.", [("Eigen toetsbeleid", "bestuur", "")]),
    ("kwalificeren", "Dossiers over sectoren heen", "Combineren van dossiers is niet mogelijk.",
     [("Kwalificatiestructuur SBB", "sectorafspraak", "")]),
    ("examineren", "Vaste examenmomenten", "Examens alleen op vaste momenten in het jaar.",
     [("Examen- en kwalificatiebesluit WEB", "amvb", "")]),
    ("examineren", "Centraal examen op vaste data", "Versnellen loopt vast op het tijdvak.",
     [("Eindexamenbesluit VO art. 37", "amvb", "")]),
    ("examineren", "PTA legt volgorde vast", "Het PTA bepaalt toetsen per periode.",
     [("PTA van de school", "bestuur", "")]),
    ("examineren", "Examencommissie terughoudend", "De examencommissie staat weinig "
     "maatwerk toe.", [("Examenreglement", "bestuur", "")]),
    ("examineren", "Eindtoets po op vast moment", "De eindtoets past niet bij eigen tempo.",
     [("Wet op het primair onderwijs", "wet", "")]),
    ("diplomeren", "Geen deeldiploma's", "Afgeronde delen leveren geen erkend bewijs op.",
     [("WEB art. 7.4.6", "wet", "")]),
    ("diplomeren", "Diplomeren per cohort", "Individueel diplomeren vraagt uitzonderingen.",
     [("Inschrijving per cohort", "ministeriele_regeling", "")]),
    ("diplomeren", "Zak-slaagregeling te rigide", "Compensatie past niet bij eigen profiel.",
     [("Eindexamenbesluit VO", "amvb", "")]),
    ("diplomeren", "Diploma alleen bij volledige opleiding", "Stapelen over niveaus lukt niet.",
     [("WEB", "wet", "")]),
    ("diplomeren", "Uitreiking alleen in juni", "Diploma-uitreiking op vaste momenten.",
     [("Schoolreglement", "bestuur", "")]),
    ("certificeren", "Keuzedeelcertificaat pas bij diploma", "Geen zelfstandig certificaat.",
     [("Regeling keuzedelen", "ministeriele_regeling", "")]),
    ("certificeren", "Microcredentials niet erkend", "Tellen niet mee voor het diploma.",
     [("Pilot microcredentials", "sectorafspraak", "")]),
    ("certificeren", "Praktijkverklaring onbekend", "Werkgevers kennen de verklaring niet.",
     [("WEB art. 7.4.7a", "wet", "")]),
    ("certificeren", "Vakcertificaten vo beperkt", "Alleen bij zakken een certificaat.",
     [("Eindexamenbesluit VO", "amvb", "")]),
    ("certificeren", "Certificaten niet in registratie", "Systemen registreren ze niet.",
     [("BRON-registratie", "ministeriele_regeling", "")]),
    ("valideren", "EVC geeft geen vrijstelling", "Ervaringscertificaat telt niet mee.",
     [("Examenbesluit: vrijstellingen", "amvb", "")]),
    ("valideren", "Informeel leren niet te valideren", "Geen kader voor buitenschools leren.",
     [("Geen regel: eigen beleid", "bestuur", "")]),
    ("valideren", "Vrijstellingen per vak", "Vrijstelling alleen voor hele vakken.",
     [("Eindexamenbesluit VO", "amvb", "")]),
    ("valideren", "Leeruitkomsten niet erkend", "Validering van leeruitkomsten ontbreekt.",
     [("Experiment leeruitkomsten", "ministeriele_regeling", "")]),
    ("valideren", "Toelating zonder diploma lastig", "Instroom op basis van ervaring.",
     [("Toelatingseisen", "wet", "")]),
    ("overig", "Urennorm dwingt roosters af", "Begeleide onderwijstijd remt flexibiliteit.",
     [("WEB art. 7.2.7", "wet", "")]),
    ("overig", "Bekostiging op teldatum", "Instroom op elk moment past niet.",
     [("Regeling bekostiging", "ministeriele_regeling", "")]),
    ("overig", "Leerlingvolgsysteem te star", "Systemen kennen alleen klassen en jaren.",
     [("Eigen systeemkeuze", "bestuur", "")]),
    ("overig", "Toezichtkader jaarklasgericht", "Inspectie kijkt naar jaargroepen.",
     [("Onderzoekskader inspectie", "toezicht", "")]),
    ("overig", "Cao en taakbeleid", "Taakbeleid gaat uit van lesuren.",
     [("Cao", "sectorafspraak", "")]),
]

# Rough sector mix of schools that would register (po is the largest group of locations).
SECTOR_WEIGHTS = {"po": 40, "vo": 22, "mbo": 22, "hbo": 5, "wo": 2, "vavo": 4, "overig": 5}
STATE_WEIGHTS = {
    InitiativeState.PUBLISHED: 85, InitiativeState.PENDING: 8,
    InitiativeState.UNCONFIRMED: 3, InitiativeState.REJECTED: 2, InitiativeState.WITHDRAWN: 2,
}
FIRST = ["Anne", "Bram", "Fatima", "Joris", "Lotte", "Mehmet", "Sanne", "Thijs", "Yara", "Ruben",
         "Noor", "Daan", "Emma", "Sem", "Julia", "Lucas", "Mila", "Finn", "Saar", "Levi"]
LAST = ["de Vries", "Jansen", "Bakker", "El Amrani", "Visser", "Smit", "Meijer", "de Boer",
        "Mulder", "de Groot", "Bos", "Vos", "Peters", "Hendriks", "Yilmaz", "Dekker"]


@dataclass(frozen=True)
class PC4:
    code: str
    place: str
    municipality: str
    province: str
    latitude: float
    longitude: float


def pc4_source() -> Path | None:
    """The GeoNames PC4 table (BENCH_PC4_FILE, or the copy in shared/data), if present."""
    root = BENCH_DIR.parent
    for candidate in (os.environ.get("BENCH_PC4_FILE", ""),
                      str(root.parent / "shared" / "data" / "geonames_postal_NL.txt"),
                      "/work/shared/data/geonames_postal_NL.txt"):
        if candidate and Path(candidate).is_file():
            return Path(candidate)
    return None


def load_pc4(path: Path | None = None) -> list[PC4]:
    """Real PC4 centroids with their province: the GeoNames table when present, else the
    project's own ``registry/geo/data/pc4.json.gz`` with the province and municipality from
    the geo module's polygons."""
    path = path or pc4_source()
    if path is None:
        return _load_project_pc4()
    rows = []
    with open(path, encoding="utf-8") as fh:
        for line in fh:
            parts = line.rstrip("\n").split("\t")
            if len(parts) < 11 or parts[3] not in GEONAMES_PROVINCES:
                continue
            municipality = parts[5].removesuffix(" Municipality") or parts[2]
            rows.append(PC4(parts[1], parts[2], municipality, GEONAMES_PROVINCES[parts[3]],
                            float(parts[9]), float(parts[10])))
    if not rows:
        raise ValueError(f"no usable rows in {path}")
    return rows


def _load_project_pc4() -> list[PC4]:
    from registry.geo.directory import directory

    geo = directory()
    rows = []
    for code, (place, lat, lon) in sorted(geo.pc4.items()):
        municipality, province = geo.regions_at(lat, lon)
        if province:
            rows.append(PC4(code, place, municipality or place, province, lat, lon))
    return rows


def schema_hash() -> str:
    """A short hash of the DDL of every table and index (changes when the models change)."""
    from sqlalchemy.dialects import sqlite

    from registry import models  # noqa: F401 - every model registered

    dialect = sqlite.dialect()
    parts = []
    for table in db.metadata.sorted_tables:
        parts.append(str(CreateTable(table).compile(dialect=dialect)))
        for index in sorted(table.indexes, key=lambda i: i.name or ""):
            parts.append(str(CreateIndex(index).compile(dialect=dialect)))
    return hashlib.sha256("\n".join(parts).encode()).hexdigest()[:10]


def cache_path(size: int, seed: int = 2026) -> Path:
    return CACHE_DIR / f"registry-{size}-s{seed}-g{GENERATOR_VERSION}-{schema_hash()}.db"


def create_themes(rnd: random.Random) -> dict[str, list[int]]:
    """Create the curated themes with their rules; returns theme ids per area code."""
    from registry.moderation.models import Theme, ThemeRule

    by_area: dict[str, list[int]] = {}
    themes = []
    for area, title, description, rules in THEMES:
        theme = Theme(area_code=area, title=title, description=description)
        for rule_title, level, url in rules:
            theme.rules.append(ThemeRule(title=rule_title, level=level, source_url=url,
                                         existing_room=rnd.choice(["", "Experiment mogelijk."])))
        themes.append(theme)
    db.session.add_all(themes)
    db.session.flush()
    for theme in themes:
        by_area.setdefault(theme.area_code, []).append(theme.id)
    return by_area


def make_data(i: int, rnd: random.Random, place: PC4) -> InitiativeData:
    """One fictional initiative in the shape the submission form produces."""
    sector = rnd.choices(list(SECTOR_WEIGHTS), weights=list(SECTOR_WEIGHTS.values()))[0]
    return random_initiative_data(rnd, i, sector=sector, pc4=place.code, city=place.place,
                                  obstacles=(2, 4), title_suffix=f" ({place.place})",
                                  website_tag=str(i), first_names=FIRST, last_names=LAST)


def populate(size: int, seed: int = 2026, batch: int = 2000, progress: bool = False) -> int:
    """Add ``size`` initiatives (2-4 obstacles each) to the current app's empty database.

    Commits per batch (this is a loader, like a CLI command). Returns the number created.
    """
    rnd = random.Random(seed)
    if db.session.scalar(select(func.count()).select_from(
            db.metadata.tables["initiative"])):
        raise RuntimeError("database already has initiatives; generate into an empty one")
    places = load_pc4()
    themes = create_themes(rnd)
    db.session.commit()
    now = utcnow()
    states = list(STATE_WEIGHTS)
    weights = list(STATE_WEIGHTS.values())
    started = time.perf_counter()
    created = 0
    pending = []
    next_id: dict[str, int] = {}
    for i in range(size):
        place = rnd.choice(places)
        state = rnd.choices(states, weights=weights)[0]
        initiative = build_initiative(make_data(i, rnd, place), state=state)
        # Explicit keys let SQLAlchemy insert whole batches at once (no RETURNING round trip).
        initiative.id = initiative.organisation.id = i + 1
        for child in (*initiative.dimensions, *initiative.obstacles, initiative.contact):
            key = type(child).__tablename__
            next_id[key] = child.id = next_id.get(key, 0) + 1
        submitted = now - timedelta(days=rnd.randint(1, 900), minutes=rnd.randint(0, 1439))
        initiative.submitted_at = submitted
        initiative.reference = make_reference(initiative)
        if state == InitiativeState.PUBLISHED:
            initiative.published_at = submitted + timedelta(days=rnd.randint(1, 14))
        org = initiative.organisation
        org.latitude = round(place.latitude + rnd.uniform(-0.01, 0.01), 6)
        org.longitude = round(place.longitude + rnd.uniform(-0.015, 0.015), 6)
        org.province, org.municipality = place.province, place.municipality
        org.geo_source, org.geo_precision, org.geo_status = "postcode", "postcode", "resolved"
        for obstacle in initiative.obstacles:
            if rnd.random() < 0.75:  # most reports are linked to a curated theme
                obstacle.theme_id = rnd.choice(themes[obstacle.area_code])
        pending.append(initiative)
        if len(pending) >= batch:
            created += _flush(pending)
            if progress:
                rate = created / (time.perf_counter() - started)
                print(f"  {created:>7} / {size} initiatives ({rate:,.0f}/s)", file=sys.stderr)
    created += _flush(pending)
    return created


def _flush(pending: list) -> int:
    count = len(pending)
    if count:
        db.session.add_all(pending)
        db.session.commit()
        db.session.expunge_all()
        pending.clear()
    return count


def _app_for(url: str):
    from registry import create_app

    return create_app("development", SQLALCHEMY_DATABASE_URI=url, DEBUG=False,
                      SQLALCHEMY_ECHO=False)


def generate_sqlite(size: int, seed: int = 2026, *, force: bool = False,
                    progress: bool = True) -> Path:
    """Return the cached SQLite file for ``size``, generating it when missing. Concurrent
    callers (two benchmark runs at once) wait for one generation instead of writing the same
    file: an exclusive lock per file, a temporary file per process, and a row count check
    before the file takes its final name."""
    import fcntl

    path = cache_path(size, seed)
    if path.exists() and not force:
        return path
    CACHE_DIR.mkdir(parents=True, exist_ok=True)
    with open(path.with_suffix(".lock"), "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        if path.exists() and not force:
            return path  # generated by the caller we waited for
        tmp = path.with_suffix(f".{os.getpid()}.tmp")
        tmp.unlink(missing_ok=True)
        try:
            started = time.perf_counter()
            _generate_into(tmp, size, seed, progress)
            with sqlite3.connect(tmp) as conn:
                stored = conn.execute("select count(*) from initiative").fetchone()[0]
            if stored != size:
                raise RuntimeError(f"generated {stored} initiatives instead of {size}")
            tmp.replace(path)
        finally:
            tmp.unlink(missing_ok=True)
            Path(f"{tmp}-writers").unlink(missing_ok=True)  # registry.database's write gate
    if progress:
        print(f"generated {size} initiatives in {time.perf_counter() - started:.1f} s -> {path}",
              file=sys.stderr)
    return path


def _generate_into(tmp: Path, size: int, seed: int, progress: bool) -> None:
    app = _app_for(f"sqlite:///{tmp}")
    with app.app_context():
        @event.listens_for(db.engine, "connect")
        def _fast(dbapi_conn, _record):  # a loader: durability per batch is not needed
            dbapi_conn.execute("PRAGMA journal_mode=OFF")
            dbapi_conn.execute("PRAGMA synchronous=OFF")

        upgrade()  # the schema and the seeded taxonomies, as a deployment gets them
        populate(size, seed, progress=progress)
        db.session.remove()
        with db.engine.connect() as conn:
            conn.exec_driver_sql("ANALYZE")
            # one self-contained file (no -wal beside it), whatever journal mode the app uses
            conn.exec_driver_sql("PRAGMA journal_mode=DELETE")
        db.engine.dispose()


def generate_url(url: str, size: int, seed: int = 2026, *, reset: bool = False) -> None:
    """Generate into any database URL (e.g. PostgreSQL). ``reset`` drops every table first."""
    app = _app_for(url)
    with app.app_context():
        if reset:
            metadata = MetaData()
            metadata.reflect(bind=db.engine)
            metadata.drop_all(bind=db.engine)
        upgrade()
        populate(size, seed, progress=True)
        db.session.remove()
        db.engine.dispose()


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--size", type=int, action="append",
                        help="number of initiatives (repeatable; default 1000 10000 100000)")
    parser.add_argument("--seed", type=int, default=2026)
    parser.add_argument("--force", action="store_true", help="regenerate cached SQLite files")
    parser.add_argument("--database-url", help="generate into this database instead of SQLite")
    parser.add_argument("--reset", action="store_true",
                        help="with --database-url: drop and recreate every table first")
    args = parser.parse_args(argv)
    for size in args.size or SIZES:
        if args.database_url:
            generate_url(args.database_url, size, args.seed, reset=args.reset)
        else:
            print(generate_sqlite(size, args.seed, force=args.force))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
