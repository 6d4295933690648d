"""results shared by all workers (issue 20)

``shared_result``: the summary and the GeoJSON computed once per public data version and
stored for every worker and app server on the database.

Revision ID: b2c3d4e5f6a7
Revises: 9a1b2c3d4e5f
Create Date: 2026-12-01 19:00:00

"""
import sqlalchemy as sa
from alembic import op

revision = "b2c3d4e5f6a7"
down_revision = "9a1b2c3d4e5f"
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        "shared_result",
        sa.Column("key", sa.String(length=64), nullable=False),
        sa.Column("version", sa.String(length=32), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("body", sa.LargeBinary(), nullable=False),
        sa.PrimaryKeyConstraint("key"),
    )
    op.create_index("ix_shared_result_version", "shared_result", ["version"])


def downgrade():
    op.drop_index("ix_shared_result_version", table_name="shared_result")
    op.drop_table("shared_result")
