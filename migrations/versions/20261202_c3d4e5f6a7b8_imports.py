"""bulk import of known initiatives (issue 21)

- ``import_source``: the column mapping saved per source (network, region, sector council);
- ``import_job``: an uploaded file on its way (mapped, checked, imported) with its progress;
- ``import_row``: the stable key of every imported row per source, so that importing the
  same file again creates no duplicates.

Revision ID: c3d4e5f6a7b8
Revises: b2c3d4e5f6a7
Create Date: 2026-12-02 10:00:00

"""
import sqlalchemy as sa
from alembic import op

revision = "c3d4e5f6a7b8"
down_revision = "b2c3d4e5f6a7"
branch_labels = None
depends_on = None


def _timestamps():
    return [
        sa.Column("created_at", sa.DateTime(timezone=True),
                  server_default=sa.text("(CURRENT_TIMESTAMP)"), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True),
                  server_default=sa.text("(CURRENT_TIMESTAMP)"), nullable=False),
    ]


def upgrade():
    op.create_table(
        "import_source",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("name", sa.String(length=100), nullable=False),
        sa.Column("mapping", sa.JSON(), nullable=False),
        *_timestamps(),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_import_source")),
        sa.UniqueConstraint("name", name=op.f("uq_import_source_name")),
    )
    op.create_table(
        "import_job",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("source", sa.String(length=100), nullable=False),
        sa.Column("file_name", sa.String(length=255), nullable=False),
        sa.Column("obstacles_file_name", sa.String(length=255), nullable=False),
        sa.Column("kind", sa.String(length=10), nullable=False),
        sa.Column("layout", sa.String(length=20), nullable=False),
        sa.Column("status", sa.String(length=20), nullable=False),
        sa.Column("language", sa.String(length=5), nullable=False),
        sa.Column("mapping", sa.JSON(), nullable=False),
        sa.Column("headers", sa.JSON(), nullable=False),
        sa.Column("include_duplicates", sa.Boolean(), server_default=sa.false(),
                  nullable=False),
        sa.Column("total_rows", sa.Integer(), nullable=True),
        sa.Column("rows_done", sa.Integer(), nullable=False),
        sa.Column("counts", sa.JSON(), nullable=False),
        sa.Column("report", sa.JSON(), nullable=False),
        sa.Column("error", sa.Text(), nullable=False),
        sa.Column("created_by_id", sa.Integer(), nullable=True),
        sa.Column("finished_at", sa.DateTime(timezone=True), nullable=True),
        *_timestamps(),
        sa.ForeignKeyConstraint(["created_by_id"], ["user_account.id"],
                                name=op.f("fk_import_job_created_by_id_user_account"),
                                ondelete="SET NULL"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_import_job")),
    )
    op.create_index(op.f("ix_import_job_status"), "import_job", ["status"])
    op.create_table(
        "import_row",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("source", sa.String(length=100), nullable=False),
        sa.Column("row_key", sa.String(length=64), nullable=False),
        sa.Column("initiative_id", sa.Integer(), nullable=True),
        sa.Column("job_id", sa.Integer(), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(["initiative_id"], ["initiative.id"],
                                name=op.f("fk_import_row_initiative_id_initiative"),
                                ondelete="SET NULL"),
        sa.ForeignKeyConstraint(["job_id"], ["import_job.id"],
                                name=op.f("fk_import_row_job_id_import_job"),
                                ondelete="SET NULL"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_import_row")),
        sa.UniqueConstraint("source", "row_key", name=op.f("uq_import_row_source")),
    )
    op.create_index(op.f("ix_import_row_initiative_id"), "import_row", ["initiative_id"])
    op.create_index(op.f("ix_import_row_job_id"), "import_row", ["job_id"])


def downgrade():
    op.drop_index(op.f("ix_import_row_job_id"), table_name="import_row")
    op.drop_index(op.f("ix_import_row_initiative_id"), table_name="import_row")
    op.drop_table("import_row")
    op.drop_index(op.f("ix_import_job_status"), table_name="import_job")
    op.drop_table("import_job")
    op.drop_table("import_source")
