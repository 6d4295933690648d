"""confidential obstacles and snapshots that honour withdrawal

- ``obstacle.visibility`` and ``snapshot_obstacle.visibility``: "public" (default, what every
  existing report was) or "confidential".
- ``snapshot_initiative.withdrawn``: the entry was withdrawn after the snapshot was made;
  entries withdrawn before this revision are scrubbed from every snapshot here.

Revision ID: d4e5f6a7b8c9
Revises: c3a1e0f2d4b6
Create Date: 2026-11-30 13:30:00

"""
import uuid
from datetime import UTC, datetime

import sqlalchemy as sa
from alembic import op

revision = "d4e5f6a7b8c9"
down_revision = "c3a1e0f2d4b6"
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table("obstacle") as batch:
        batch.add_column(sa.Column("visibility", sa.String(20), nullable=False,
                                   server_default="public"))
        batch.create_check_constraint(op.f("ck_obstacle_visibility_values"),
                                      "visibility IN ('public', 'confidential')")
    with op.batch_alter_table("snapshot_obstacle") as batch:
        batch.add_column(sa.Column("visibility", sa.String(20), nullable=False,
                                   server_default="public"))
    with op.batch_alter_table("snapshot_initiative") as batch:
        batch.add_column(sa.Column("withdrawn", sa.Boolean(), nullable=False,
                                   server_default=sa.false()))
    conn = op.get_bind()
    conn.execute(sa.text(
        "UPDATE snapshot_initiative SET withdrawn = :yes, reference = NULL, title = '', "
        "summary = '', description = '', ict = '', search_text = '', school_name = '', "
        "website = '', postcode = '', city = '', latitude = NULL, longitude = NULL, "
        "contact_name = NULL, consent_quotes = :no "
        "WHERE id IN (SELECT id FROM initiative WHERE state = 'withdrawn')"),
        {"yes": True, "no": False})
    conn.execute(sa.text(
        "UPDATE snapshot_obstacle SET title = '', description = '', rule = '', "
        "workaround = '', policy_ask = '' "
        "WHERE initiative_id IN (SELECT id FROM initiative WHERE state = 'withdrawn')"))
    conn.execute(sa.text("DELETE FROM data_version WHERE name = 'public'"))
    conn.execute(sa.text("INSERT INTO data_version (name, token, changed_at) "
                         "VALUES ('public', :token, :now)"),
                 {"token": uuid.uuid4().hex, "now": datetime.now(UTC)})


def downgrade():
    with op.batch_alter_table("snapshot_initiative") as batch:
        batch.drop_column("withdrawn")
    with op.batch_alter_table("snapshot_obstacle") as batch:
        batch.drop_column("visibility")
    with op.batch_alter_table("obstacle") as batch:
        batch.drop_constraint(op.f("ck_obstacle_visibility_values"), type_="check")
        batch.drop_column("visibility")
