"""the ministry brief: theme ask and experiment provisions, report dates, pilot interest

- ``theme.ask``: the one ask to OCW a moderator curates per theme; ``theme.experiment_provisions``:
  existing experiment provisions (for pilot dossiers). ``snapshot_theme.ask`` freezes the ask.
- ``obstacle.reported_at``: when the school reported the obstacle (the entry's confirmation,
  or when it was added to a confirmed entry); backfilled from ``created_at``. Snapshots copy it.
- ``obstacle.pilot_interest``: the school wants to take part in a pilot on this obstacle.
- ``contact.consent_name_to_ocw``: the school may be named to OCW in a pilot dossier.

Revision ID: f1a2b3c4d5e6
Revises: e7f8a9b0c1d2
Create Date: 2026-12-01 14:00:00

"""
import uuid
from datetime import UTC, datetime

import sqlalchemy as sa
from alembic import op

revision = "f1a2b3c4d5e6"
down_revision = "e7f8a9b0c1d2"
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table("theme") as batch:
        batch.add_column(sa.Column("ask", sa.Text(), nullable=False, server_default=""))
        batch.add_column(sa.Column("experiment_provisions", sa.Text(), nullable=False,
                                   server_default=""))
    with op.batch_alter_table("snapshot_theme") as batch:
        batch.add_column(sa.Column("ask", sa.Text(), nullable=False, server_default=""))
    with op.batch_alter_table("obstacle") as batch:
        batch.add_column(sa.Column("reported_at", sa.DateTime(timezone=True), nullable=True))
        batch.add_column(sa.Column("pilot_interest", sa.Boolean(), nullable=False,
                                   server_default=sa.false()))
    with op.batch_alter_table("snapshot_obstacle") as batch:
        batch.add_column(sa.Column("reported_at", sa.DateTime(timezone=True), nullable=True))
    with op.batch_alter_table("contact") as batch:
        batch.add_column(sa.Column("consent_name_to_ocw", sa.Boolean(), nullable=False,
                                   server_default=sa.false()))
    conn = op.get_bind()
    conn.execute(sa.text("UPDATE obstacle SET reported_at = created_at"))
    conn.execute(sa.text("UPDATE snapshot_obstacle SET reported_at = created_at"))
    conn.execute(sa.text("DELETE FROM data_version WHERE name = 'public'"))
    conn.execute(sa.text("INSERT INTO data_version (name, token, changed_at) "
                         "VALUES ('public', :token, :now)"),
                 {"token": uuid.uuid4().hex, "now": datetime.now(UTC)})


def downgrade():
    with op.batch_alter_table("contact") as batch:
        batch.drop_column("consent_name_to_ocw")
    with op.batch_alter_table("snapshot_obstacle") as batch:
        batch.drop_column("reported_at")
    with op.batch_alter_table("obstacle") as batch:
        batch.drop_column("pilot_interest")
        batch.drop_column("reported_at")
    with op.batch_alter_table("snapshot_theme") as batch:
        batch.drop_column("ask")
    with op.batch_alter_table("theme") as batch:
        batch.drop_column("experiment_provisions")
        batch.drop_column("ask")
