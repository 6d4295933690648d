"""stale-safe shared results and covering indexes for the summary (issue 20)

- ``shared_result.lineage``: the lineage stamp a result was computed under (a result of an
  older public version may be served while its lineage holds: ``registry.cache``); claim
  rows ("claim:" + key) need a longer key. The table is a cache: it is made again, empty.
- Covering indexes, so that the summary's two reads (every published initiative with its
  school's sector, province and code; every obstacle's small columns) are read from indexes
  instead of the wide rows.

Revision ID: 5e6f7a8b9c0d
Revises: c3d4e5f6a7b8
Create Date: 2026-12-03 10:00:00

"""
import sqlalchemy as sa
from alembic import op

revision = "5e6f7a8b9c0d"
down_revision = "c3d4e5f6a7b8"
branch_labels = None
depends_on = None

INDEXES = (
    ("ix_initiative_state_facts", "initiative",
     ["state", "id", "organisation_id", "learners_count", "published_at"]),
    ("ix_organisation_facts", "organisation",
     ["id", "sector", "province", "brin", "location_number"]),
    ("ix_obstacle_facts", "obstacle",
     ["initiative_id", "id", "theme_id", "position", "area_code", "severity", "status",
      "visibility", "reported_at"]),
)


def _shared_result(key_length: int, lineage: bool) -> None:
    columns = [
        sa.Column("key", sa.String(length=key_length), nullable=False),
        sa.Column("version", sa.String(length=32), nullable=False),
    ]
    if lineage:
        columns.append(sa.Column("lineage", sa.String(length=32), server_default="0",
                                 nullable=False))
    columns += [
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("body", sa.LargeBinary(), nullable=False),
        sa.PrimaryKeyConstraint("key"),
    ]
    op.create_table("shared_result", *columns)
    op.create_index("ix_shared_result_version", "shared_result", ["version"])


def upgrade():
    op.drop_index("ix_shared_result_version", table_name="shared_result")
    op.drop_table("shared_result")
    _shared_result(72, lineage=True)
    for name, table, columns in INDEXES:
        op.create_index(name, table, columns)


def downgrade():
    for name, table, _columns in reversed(INDEXES):
        op.drop_index(name, table_name=table)
    op.drop_index("ix_shared_result_version", table_name="shared_result")
    op.drop_table("shared_result")
    _shared_result(64, lineage=False)
