"""one read path: sector and phase tables, search text, snapshots as rows

- ``sector`` and ``phase`` become taxonomy tables like ``obstacle_area`` and ``dimension``
  (seeded here, literally), referenced by ``organisation.sector`` and ``initiative.phase``.
- ``initiative.search_text``: the folded text the ``q`` filter searches (backfilled).
- Snapshots are stored as rows (``snapshot_initiative``, ``snapshot_obstacle``,
  ``snapshot_dimension``, ``snapshot_theme``, ``snapshot_theme_rule``) so the one SQL filter
  reads them; the JSON in ``snapshot.data`` is moved into them and the column dropped
  (downgrade rebuilds it from the rows).

The data and the folding rule are written literally here, so this revision never changes.

Revision ID: c3a1e0f2d4b6
Revises: b1c2d3e4f5a6
Create Date: 2026-11-30 12:00:00

"""
import json
import unicodedata
import uuid
from datetime import UTC, datetime

import sqlalchemy as sa
from alembic import op

revision = "c3a1e0f2d4b6"
down_revision = "b1c2d3e4f5a6"
branch_labels = None
depends_on = None

SECTORS = [
    ("po", "Primair onderwijs (po, incl. sbo/so)",
     "Primary education (po, incl. special education)", "po", "po"),
    ("vo", "Voortgezet onderwijs (vo)", "Secondary education (vo)", "vo", "vo"),
    ("mbo", "Middelbaar beroepsonderwijs (mbo)", "Secondary vocational education (mbo)",
     "mbo", "mbo"),
    ("hbo", "Hoger beroepsonderwijs (hbo)", "Higher professional education (hbo)", "hbo",
     "hbo"),
    ("wo", "Wetenschappelijk onderwijs (wo)", "University education (wo)", "wo", "wo"),
    ("vavo", "Voortgezet algemeen volwassenenonderwijs (vavo)",
     "Adult general secondary education (vavo)", "vavo", "vavo"),
    ("overig", "Anders", "Other", "anders", "other"),
]
PHASES = [
    ("idee", "Idee", "Idea"),
    ("pilot", "Pilot", "Pilot"),
    ("lopend", "Lopend", "Running"),
    ("opgeschaald", "Opgeschaald", "Scaled up"),
    ("gestopt", "Gestopt", "Stopped"),
]

sector = sa.table(
    "sector", sa.column("code", sa.String), sa.column("label_nl", sa.String),
    sa.column("label_en", sa.String), sa.column("short_nl", sa.String),
    sa.column("short_en", sa.String), sa.column("position", sa.Integer))
phase = sa.table(
    "phase", sa.column("code", sa.String), sa.column("label_nl", sa.String),
    sa.column("label_en", sa.String), sa.column("position", sa.Integer))
snapshot = sa.table("snapshot", sa.column("id", sa.Integer), sa.column("data", sa.JSON))

INITIATIVE_COLUMNS = [
    ("reference", sa.String(length=20), True), ("title", sa.String(length=200), False),
    ("summary", sa.String(length=300), False), ("description", sa.Text(), False),
    ("phase", sa.String(length=20), False), ("start_year", sa.Integer(), True),
    ("learners_count", sa.Integer(), True), ("staff_count", sa.Integer(), True),
    ("ict", sa.Text(), False), ("language", sa.String(length=5), False),
    ("published_at", sa.DateTime(timezone=True), True),
    ("updated_at", sa.DateTime(timezone=True), True), ("search_text", sa.Text(), False),
    ("school_name", sa.String(length=200), False), ("brin", sa.String(length=4), False),
    ("location_number", sa.String(length=2), True), ("sector", sa.String(length=16), False),
    ("levels", sa.String(length=300), False),
    ("qualification_codes", sa.String(length=300), False),
    ("city", sa.String(length=100), False), ("municipality", sa.String(length=100), True),
    ("province", sa.String(length=50), True), ("postcode", sa.String(length=7), False),
    ("latitude", sa.Float(), True), ("longitude", sa.Float(), True),
    ("website", sa.String(length=300), False), ("geo_precision", sa.String(length=20), True),
    ("contact_name", sa.String(length=200), True), ("consent_quotes", sa.Boolean(), False),
]
OBSTACLE_COLUMNS = [
    ("initiative_id", sa.Integer(), False), ("area_code", sa.String(length=20), False),
    ("title", sa.String(length=200), False), ("description", sa.Text(), False),
    ("rule", sa.String(length=500), False), ("severity", sa.Integer(), False),
    ("status", sa.String(length=20), False), ("workaround", sa.Text(), False),
    ("policy_ask", sa.Text(), False), ("position", sa.Integer(), False),
    ("theme_id", sa.Integer(), True), ("created_at", sa.DateTime(timezone=True), True),
]


def _fold(text):
    decomposed = unicodedata.normalize("NFKD", text or "")
    bare = "".join(ch for ch in decomposed if not unicodedata.combining(ch))
    return " ".join(bare.casefold().split())


def _search_text(*parts):
    return "\n".join(_fold(p) for p in parts if p)


def _snapshot_fk(table):
    return sa.ForeignKeyConstraint(["snapshot_id"], ["snapshot.id"],
                                   name=op.f(f"fk_{table}_snapshot_id_snapshot"),
                                   ondelete="CASCADE")


def _create_snapshot_tables():
    op.create_table(
        "snapshot_initiative",
        sa.Column("snapshot_id", sa.Integer(), nullable=False),
        sa.Column("id", sa.Integer(), autoincrement=False, nullable=False),
        *[sa.Column(name, type_, nullable=nullable)
          for name, type_, nullable in INITIATIVE_COLUMNS],
        _snapshot_fk("snapshot_initiative"),
        sa.PrimaryKeyConstraint("snapshot_id", "id", name=op.f("pk_snapshot_initiative")),
    )
    op.create_table(
        "snapshot_obstacle",
        sa.Column("snapshot_id", sa.Integer(), nullable=False),
        sa.Column("id", sa.Integer(), autoincrement=False, nullable=False),
        *[sa.Column(name, type_, nullable=nullable) for name, type_, nullable in OBSTACLE_COLUMNS],
        _snapshot_fk("snapshot_obstacle"),
        sa.PrimaryKeyConstraint("snapshot_id", "id", name=op.f("pk_snapshot_obstacle")),
    )
    with op.batch_alter_table("snapshot_obstacle") as batch_op:
        batch_op.create_index("ix_snapshot_obstacle_initiative",
                              ["snapshot_id", "initiative_id", "area_code", "theme_id"])
        batch_op.create_index("ix_snapshot_obstacle_theme",
                              ["snapshot_id", "theme_id", "initiative_id"])
    op.create_table(
        "snapshot_dimension",
        sa.Column("snapshot_id", sa.Integer(), nullable=False),
        sa.Column("initiative_id", sa.Integer(), autoincrement=False, nullable=False),
        sa.Column("dimension_code", sa.String(length=20), nullable=False),
        sa.Column("current_level", sa.Integer(), nullable=False),
        sa.Column("ambition_level", sa.Integer(), nullable=False),
        _snapshot_fk("snapshot_dimension"),
        sa.PrimaryKeyConstraint("snapshot_id", "initiative_id", "dimension_code",
                                name=op.f("pk_snapshot_dimension")),
    )
    op.create_table(
        "snapshot_theme",
        sa.Column("snapshot_id", sa.Integer(), nullable=False),
        sa.Column("id", sa.Integer(), autoincrement=False, nullable=False),
        sa.Column("area_code", sa.String(length=20), nullable=False),
        sa.Column("title", sa.String(length=200), nullable=False),
        sa.Column("description", sa.Text(), nullable=False),
        _snapshot_fk("snapshot_theme"),
        sa.PrimaryKeyConstraint("snapshot_id", "id", name=op.f("pk_snapshot_theme")),
    )
    op.create_table(
        "snapshot_theme_rule",
        sa.Column("snapshot_id", sa.Integer(), nullable=False),
        sa.Column("theme_id", sa.Integer(), autoincrement=False, nullable=False),
        sa.Column("position", sa.Integer(), autoincrement=False, nullable=False),
        sa.Column("title", sa.String(length=300), nullable=False),
        sa.Column("level", sa.String(length=30), nullable=False),
        sa.Column("source_url", sa.String(length=500), nullable=False),
        sa.Column("existing_room", sa.Text(), nullable=False),
        _snapshot_fk("snapshot_theme_rule"),
        sa.PrimaryKeyConstraint("snapshot_id", "theme_id", "position",
                                name=op.f("pk_snapshot_theme_rule")),
    )


def _table(name, columns):
    return sa.table(name, *[sa.column(c) for c in columns])


def _typed(name, columns):
    """A table with typed columns, so values are written as the app writes them (dates on
    SQLite in SQLAlchemy's format)."""
    return sa.table(name, sa.column("snapshot_id", sa.Integer), sa.column("id", sa.Integer),
                    *[sa.column(c, t) for c, t, _n in columns])


def _when(iso):
    if not iso:
        return None
    value = datetime.fromisoformat(iso)
    return value if value.tzinfo else value.replace(tzinfo=UTC)


def _iso(value):
    if value is None:
        return None
    if isinstance(value, str):
        value = datetime.fromisoformat(value)
    if value.tzinfo is None:
        value = value.replace(tzinfo=UTC)
    return value.isoformat()


def _move_snapshots_into_rows(conn):
    """The JSON records of each existing snapshot become rows."""
    initiatives = _typed("snapshot_initiative", INITIATIVE_COLUMNS)
    obstacles = _typed("snapshot_obstacle", OBSTACLE_COLUMNS)
    dimensions = _table("snapshot_dimension", ["snapshot_id", "initiative_id", "dimension_code",
                                               "current_level", "ambition_level"])
    themes = _table("snapshot_theme", ["snapshot_id", "id", "area_code", "title", "description"])
    rules = _table("snapshot_theme_rule", ["snapshot_id", "theme_id", "position", "title",
                                           "level", "source_url", "existing_room"])
    for snapshot_id, data in conn.execute(sa.select(snapshot.c.id, snapshot.c.data)).all():
        if isinstance(data, str):
            data = json.loads(data)
        data = data or {}
        rows, obstacle_rows, dimension_rows = [], [], []
        for rec in data.get("initiatives", []):
            school = rec.get("school", {})
            obstacle_list = rec.get("obstacles", [])
            rows.append({
                "snapshot_id": snapshot_id, "id": rec["id"], "reference": rec.get("reference"),
                "title": rec.get("title") or "", "summary": rec.get("summary") or "",
                "description": rec.get("description") or "", "phase": rec.get("phase") or "",
                "start_year": rec.get("start_year"), "learners_count": rec.get("learners_count"),
                "staff_count": rec.get("staff_count"), "ict": rec.get("ict") or "",
                "language": rec.get("language") or "nl",
                "published_at": _when(rec.get("published_at")),
                "updated_at": _when(rec.get("updated_at")),
                "search_text": _search_text(rec.get("title"), rec.get("summary"),
                                            school.get("name"), school.get("city"),
                                            *[o.get("title") for o in obstacle_list]),
                "school_name": school.get("name") or "", "brin": school.get("brin") or "",
                "location_number": school.get("location_number") or None,
                "sector": school.get("sector") or "", "levels": school.get("levels") or "",
                "qualification_codes": school.get("qualification_codes") or "",
                "city": school.get("city") or "",
                "municipality": school.get("municipality") or None,
                "province": school.get("province") or None,
                "postcode": school.get("postcode") or "", "latitude": school.get("latitude"),
                "longitude": school.get("longitude"), "website": school.get("website") or "",
                "geo_precision": school.get("geo_precision"),
                "contact_name": rec.get("contact_name"),
                "consent_quotes": bool(rec.get("consent_quotes")),
            })
            for position, o in enumerate(obstacle_list):
                obstacle_rows.append({
                    "snapshot_id": snapshot_id, "id": o["id"], "initiative_id": rec["id"],
                    "area_code": o.get("area") or "", "title": o.get("title") or "",
                    "description": o.get("description") or "", "rule": o.get("rule") or "",
                    "severity": o.get("severity") or 1, "status": o.get("status") or "open",
                    "workaround": o.get("workaround") or "",
                    "policy_ask": o.get("policy_ask") or "", "position": position,
                    "theme_id": o.get("theme_id"), "created_at": _when(o.get("reported_at")),
                })
            for code, levels in (rec.get("dimensions") or {}).items():
                dimension_rows.append({
                    "snapshot_id": snapshot_id, "initiative_id": rec["id"],
                    "dimension_code": code, "current_level": levels[0],
                    "ambition_level": levels[1]})
        theme_rows, rule_rows = [], []
        for theme in data.get("themes", []):
            theme_rows.append({"snapshot_id": snapshot_id, "id": theme["id"],
                               "area_code": theme.get("area") or "",
                               "title": theme.get("title") or "",
                               "description": theme.get("description") or ""})
            for position, rule in enumerate(theme.get("rules", [])):
                rule_rows.append({"snapshot_id": snapshot_id, "theme_id": theme["id"],
                                  "position": position, "title": rule.get("title") or "",
                                  "level": rule.get("level") or "",
                                  "source_url": rule.get("source_url") or "",
                                  "existing_room": rule.get("existing_room") or ""})
        for table, values in ((initiatives, rows), (obstacles, obstacle_rows),
                              (dimensions, dimension_rows), (themes, theme_rows),
                              (rules, rule_rows)):
            if values:
                conn.execute(table.insert(), values)


def _backfill_search_text(conn):
    initiative = _table("initiative", ["id", "title", "summary", "organisation_id",
                                       "search_text"])
    organisation = _table("organisation", ["id", "name", "city"])
    obstacle = _table("obstacle", ["initiative_id", "title", "position", "id"])
    titles = {}
    for initiative_id, title in conn.execute(
            sa.select(obstacle.c.initiative_id, obstacle.c.title)
            .order_by(obstacle.c.initiative_id, obstacle.c.position, obstacle.c.id)):
        titles.setdefault(initiative_id, []).append(title)
    rows = conn.execute(
        sa.select(initiative.c.id, initiative.c.title, initiative.c.summary,
                  organisation.c.name, organisation.c.city)
        .select_from(initiative.join(organisation,
                                     initiative.c.organisation_id == organisation.c.id))).all()
    for initiative_id, title, summary, name, city in rows:
        conn.execute(initiative.update().where(initiative.c.id == initiative_id).values(
            search_text=_search_text(title, summary, name, city,
                                     *titles.get(initiative_id, []))))


def upgrade():
    op.create_table(
        "sector",
        sa.Column("code", sa.String(length=16), nullable=False),
        sa.Column("label_nl", sa.String(length=100), nullable=False),
        sa.Column("label_en", sa.String(length=100), nullable=False),
        sa.Column("short_nl", sa.String(length=20), nullable=False),
        sa.Column("short_en", sa.String(length=20), nullable=False),
        sa.Column("position", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint("code", name=op.f("pk_sector")),
    )
    op.create_table(
        "phase",
        sa.Column("code", sa.String(length=20), nullable=False),
        sa.Column("label_nl", sa.String(length=100), nullable=False),
        sa.Column("label_en", sa.String(length=100), nullable=False),
        sa.Column("position", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint("code", name=op.f("pk_phase")),
    )
    op.bulk_insert(sector, [
        {"code": code, "label_nl": nl, "label_en": en, "short_nl": snl, "short_en": sen,
         "position": position}
        for position, (code, nl, en, snl, sen) in enumerate(SECTORS)])
    op.bulk_insert(phase, [
        {"code": code, "label_nl": nl, "label_en": en, "position": position}
        for position, (code, nl, en) in enumerate(PHASES)])
    with op.batch_alter_table("organisation") as batch_op:
        batch_op.create_foreign_key(batch_op.f("fk_organisation_sector_sector"), "sector",
                                    ["sector"], ["code"])
    with op.batch_alter_table("initiative") as batch_op:
        batch_op.add_column(sa.Column("search_text", sa.Text(), server_default="",
                                      nullable=False))
        batch_op.create_foreign_key(batch_op.f("fk_initiative_phase_phase"), "phase",
                                    ["phase"], ["code"])
    conn = op.get_bind()
    _backfill_search_text(conn)
    _create_snapshot_tables()
    _move_snapshots_into_rows(conn)
    with op.batch_alter_table("snapshot") as batch_op:
        batch_op.drop_column("data")
    _new_data_version(conn)


def _new_data_version(conn):
    """The taxonomy and the searchable text changed: running workers must not keep serving
    pages cached under the old public data version (registry/cache.py)."""
    conn.execute(sa.text("DELETE FROM data_version WHERE name = 'public'"))
    conn.execute(sa.text("INSERT INTO data_version (name, token, changed_at) "
                         "VALUES ('public', :token, :now)"),
                 {"token": uuid.uuid4().hex, "now": datetime.now(UTC)})


def _rows_to_json(conn):
    """Rebuild each snapshot's JSON records from its rows (for the downgrade)."""
    initiative_names = ["id", *[c for c, _t, _n in INITIATIVE_COLUMNS]]
    initiatives = _table("snapshot_initiative", ["snapshot_id", *initiative_names])
    obstacles = _table("snapshot_obstacle",
                       ["snapshot_id", "id", *[c for c, _t, _n in OBSTACLE_COLUMNS]])
    dimensions = _table("snapshot_dimension", ["snapshot_id", "initiative_id", "dimension_code",
                                               "current_level", "ambition_level"])
    themes = _table("snapshot_theme", ["snapshot_id", "id", "area_code", "title", "description"])
    rules = _table("snapshot_theme_rule", ["snapshot_id", "theme_id", "position", "title",
                                           "level", "source_url", "existing_room"])
    school_keys = {"school_name": "name", "brin": "brin", "location_number": "location_number",
                   "sector": "sector", "levels": "levels", "city": "city",
                   "municipality": "municipality", "province": "province",
                   "postcode": "postcode", "latitude": "latitude", "longitude": "longitude",
                   "website": "website"}
    for (snapshot_id,) in conn.execute(sa.select(snapshot.c.id)).all():
        obstacle_map, dimension_map = {}, {}
        for row in conn.execute(sa.select(obstacles).where(obstacles.c.snapshot_id == snapshot_id)
                                .order_by(obstacles.c.initiative_id, obstacles.c.position)):
            obstacle_map.setdefault(row.initiative_id, []).append({
                "id": row.id, "area": row.area_code, "title": row.title,
                "description": row.description, "rule": row.rule, "severity": row.severity,
                "status": row.status, "workaround": row.workaround,
                "policy_ask": row.policy_ask, "theme_id": row.theme_id,
                "reported_at": _iso(row.created_at)})
        for row in conn.execute(sa.select(dimensions)
                                .where(dimensions.c.snapshot_id == snapshot_id)):
            dimension_map.setdefault(row.initiative_id, {})[row.dimension_code] = [
                row.current_level, row.ambition_level]
        records = []
        for row in conn.execute(sa.select(initiatives)
                                .where(initiatives.c.snapshot_id == snapshot_id)
                                .order_by(initiatives.c.id)):
            values = row._mapping
            records.append({
                "id": values["id"], "reference": values["reference"],
                "title": values["title"], "summary": values["summary"],
                "description": values["description"], "phase": values["phase"],
                "start_year": values["start_year"],
                "learners_count": values["learners_count"],
                "staff_count": values["staff_count"], "ict": values["ict"],
                "published_at": _iso(values["published_at"]),
                "updated_at": _iso(values["updated_at"]),
                "school": {key: values[name] for name, key in school_keys.items()},
                "contact_name": values["contact_name"],
                "consent_quotes": bool(values["consent_quotes"]),
                "dimensions": dimension_map.get(values["id"], {}),
                "obstacles": obstacle_map.get(values["id"], []),
            })
        rule_map = {}
        for row in conn.execute(sa.select(rules).where(rules.c.snapshot_id == snapshot_id)
                                .order_by(rules.c.theme_id, rules.c.position)):
            rule_map.setdefault(row.theme_id, []).append({
                "title": row.title, "level": row.level, "source_url": row.source_url,
                "existing_room": row.existing_room})
        theme_list = [{"id": row.id, "area": row.area_code, "title": row.title,
                       "description": row.description, "rules": rule_map.get(row.id, [])}
                      for row in conn.execute(sa.select(themes)
                                              .where(themes.c.snapshot_id == snapshot_id)
                                              .order_by(themes.c.area_code, themes.c.id))]
        conn.execute(snapshot.update().where(snapshot.c.id == snapshot_id).values(
            data={"version": 1, "initiatives": records, "themes": theme_list}))


def downgrade():
    with op.batch_alter_table("snapshot") as batch_op:
        batch_op.add_column(sa.Column("data", sa.JSON(), nullable=False, server_default="{}"))
    _rows_to_json(op.get_bind())
    op.drop_table("snapshot_theme_rule")
    op.drop_table("snapshot_theme")
    op.drop_table("snapshot_dimension")
    with op.batch_alter_table("snapshot_obstacle") as batch_op:
        batch_op.drop_index("ix_snapshot_obstacle_theme")
        batch_op.drop_index("ix_snapshot_obstacle_initiative")
    op.drop_table("snapshot_obstacle")
    op.drop_table("snapshot_initiative")
    with op.batch_alter_table("initiative") as batch_op:
        batch_op.drop_constraint(batch_op.f("fk_initiative_phase_phase"), type_="foreignkey")
        batch_op.drop_column("search_text")
    with op.batch_alter_table("organisation") as batch_op:
        batch_op.drop_constraint(batch_op.f("fk_organisation_sector_sector"),
                                 type_="foreignkey")
    op.drop_table("phase")
    op.drop_table("sector")
    _new_data_version(op.get_bind())
