"""Issue 21: how long a large list takes to check and import, and how much memory it needs.

Generates a list of N rows (default 10,000) as a network would keep it - its own column
names, Dutch Excel's ``;`` and Windows-1252 (or ``--xlsx``: a workbook), half the rows with a
contact e-mail address (an invitation each) - and runs the import as
``flask --app registry import-initiatives`` does (``registry.imports.services.import_file``:
the check pass, then the import pass) on a fresh SQLite database (or ``--database URL``),
optionally with ``--existing M`` entries already in the registry to compare against.
Prints the time of each pass and the peak resident memory of the process.

    .venv/bin/python -m bench.import_probe [--rows 10000] [--xlsx] [--existing 2000]

Target (issue 21): 10,000 rows checked and imported in under 60 s, memory under 300 MB.
"""
from __future__ import annotations

import argparse
import csv
import random
import resource
import sys
import tempfile
import time
from pathlib import Path

from flask_migrate import upgrade
from openpyxl import Workbook

from registry import create_app
from registry.extensions import db
from registry.imports import services
from registry.submissions.services import submit_initiative
from registry.taxonomy.constants import InitiativeState
from tests.factories import initiative_data

HEADER = ["Naam school", "BRIN", "Plaats", "Postcode", "Sector", "Initiatief",
          "Korte beschrijving", "Fase", "Startjaar", "Aantal lerenden", "Doelen nu",
          "Doelen ambitie", "Tempo nu", "Tempo ambitie", "Gebied", "Knelpunt",
          "Beschrijving knelpunt", "Regel", "Ernst", "Status", "Contactpersoon", "E-mail"]
PLACES = [("9712", "Groningen"), ("8011", "Zwolle"), ("6811", "Arnhem"), ("3511", "Utrecht"),
          ("1012", "Amsterdam"), ("3011", "Rotterdam"), ("5611", "Eindhoven"),
          ("6211", "Maastricht"), ("4331", "Middelburg"), ("8911", "Leeuwarden"),
          ("2511", "Den Haag"), ("5038", "Tilburg"), ("4811", "Breda"), ("7511", "Enschede"),
          ("1315", "Almere"), ("6511", "Nijmegen"), ("3811", "Amersfoort"), ("2011", "Haarlem"),
          ("9401", "Assen"), ("8232", "Lelystad")]
WORDS = ["Horizon", "Kompas", "Baken", "Anker", "Wilg", "Nova", "Veld", "Brug", "Regenboog",
         "Ontdekking", "Vlinder", "Kempen", "Noord", "Zuid", "Oost", "West", "Groen", "Techniek",
         "Eik", "Linde", "Beuk", "Es", "Iep", "Den", "Spar", "Hazelaar", "Vlier", "Meidoorn",
         "Duin", "Polder", "Dijk", "Haven", "Molen", "Sluis", "Kreek", "Heide", "Venen", "Berg",
         "Zon", "Maan", "Ster", "Komeet", "Planeet", "Aurora", "Delta", "Gamma", "Sigma", "Omega",
         "Atlas", "Mercurius", "Vesta", "Juno", "Pallas", "Ceres", "Triton", "Titan", "Rhea",
         "Dione", "Tethys", "Mimas"]
THEMES = ["Leerroute", "Leerlab", "Werkplekleren", "Keuzeprogramma", "Flexroute", "Maatwerk",
          "Talentlab", "Open leren", "Eigen tempo", "Portfolio", "Kernteam", "Leerplein"]
KINDS = ["Lyceum", "College", "Basisschool", "Vakschool", "Kindcentrum", "ROC", "Mavo"]
SECTORS = ["Primair onderwijs", "Voortgezet onderwijs", "mbo", "vo"]
AREAS = ["Examineren", "Diplomeren", "Kwalificeren", "Certificeren", "Valideren", "Overig"]


def rows(count: int, seed: int = 21):
    rnd = random.Random(seed)  # noqa: S311 - seeded test data
    for n in range(count):
        pc, city = PLACES[n % len(PLACES)]  # each school its own postcode
        letters = n // len(PLACES)
        school = f"{rnd.choice(KINDS)} {' '.join(rnd.sample(WORDS, 2))}"
        contact = n % 2 == 0
        yield [school, "", city, f"{pc} {chr(65 + letters % 26)}{chr(65 + letters // 26)}",
               rnd.choice(SECTORS), f"{rnd.choice(THEMES)} {' '.join(rnd.sample(WORDS, 2))}",
               "Lerenden kiezen zelf volgorde en tempo.", rnd.choice(["Pilot", "lopend", "idee"]),
               str(rnd.randint(2015, 2025)), f"{rnd.randint(10, 2000):,}".replace(",", "."),
               str(rnd.randint(0, 3)), "3", str(rnd.randint(0, 2)), "3", rnd.choice(AREAS),
               "Vaste examenmomenten", "Examens alleen op vaste momenten in het jaar.",
               "Examen- en kwalificatiebesluit", str(rnd.randint(1, 4)), "open",
               f"Contact {n}" if contact else "",
               f"contact{n}@school.example" if contact else ""]


def write_csv(path: Path, count: int) -> None:
    with path.open("w", encoding="cp1252", newline="") as fh:
        writer = csv.writer(fh, delimiter=";", lineterminator="\r\n")
        writer.writerow(HEADER)
        writer.writerows(rows(count))


def write_xlsx(path: Path, count: int) -> None:
    book = Workbook(write_only=True)
    sheet = book.create_sheet("lijst")
    sheet.append(HEADER)
    for row in rows(count):
        sheet.append(row)
    book.save(path)


def peak_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=10_000)
    parser.add_argument("--xlsx", action="store_true", help="a workbook instead of CSV")
    parser.add_argument("--existing", type=int, default=0,
                        help="entries already in the registry (compared as duplicates)")
    parser.add_argument("--database", default="", help="SQLAlchemy URL (default: new SQLite)")
    args = parser.parse_args(argv)

    work = Path(tempfile.mkdtemp(prefix="import-probe-"))
    url = args.database or f"sqlite:///{work / 'registry.db'}"
    app = create_app("testing", SQLALCHEMY_DATABASE_URI=url, IMPORT_DIR=str(work / "imports"),
                     MAIL_SEND_IMMEDIATELY=False, IMPORT_MAX_BYTES=100 * 1024 * 1024)
    path = work / ("lijst.xlsx" if args.xlsx else "lijst.csv")
    started = time.perf_counter()
    (write_xlsx if args.xlsx else write_csv)(path, args.rows)
    print(f"generated {args.rows} rows ({path.stat().st_size / 1e6:.1f} MB) in "
          f"{time.perf_counter() - started:.1f} s", flush=True)
    with app.app_context():
        upgrade()
        for n in range(args.existing):
            submit_initiative(initiative_data(), state=InitiativeState.PUBLISHED)
            if n % 500 == 499:
                db.session.commit()
        db.session.commit()
        base_mb = peak_mb()
        times: dict[str, float] = {}
        marks = {"start": time.perf_counter()}
        cpu_start = time.process_time()

        class Bar:
            def __init__(self, label: str, total: int | None) -> None:
                self.label = label
                marks[label] = time.perf_counter()
                marks[label + " cpu"] = time.process_time()

            def __enter__(self):
                return self

            def __exit__(self, *exc) -> None:
                times[self.label] = time.perf_counter() - marks[self.label]
                times[self.label + " cpu"] = time.process_time() - marks[self.label + " cpu"]

            def update(self, n: int) -> None:
                pass

        with app.test_request_context("/"):
            result = services.import_file(path, source="probe", bar=Bar)
        total = time.perf_counter() - marks["start"]
        cpu = time.process_time() - cpu_start
    print(f"check pass:  {times.get('check', 0):6.1f} s (CPU {times.get('check cpu', 0):.1f} s)")
    print(f"import pass: {times.get('import', 0):6.1f} s (CPU {times.get('import cpu', 0):.1f} s)")
    print(f"total:       {total:6.1f} s for {args.rows} rows "
          f"({1000 * total / max(1, args.rows):.1f} ms per row)")
    print(f"CPU time:    {cpu:6.1f} s (the machine's other load shows as the difference)")
    print(f"counts: {result.counts}")
    print(f"peak RSS: {peak_mb():.0f} MB (after start-up and setup: {base_mb:.0f} MB)")
    ok = total < 60 and peak_mb() < 300
    print("within the targets (60 s, 300 MB)" if ok else "OUTSIDE the targets (60 s, 300 MB)")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
