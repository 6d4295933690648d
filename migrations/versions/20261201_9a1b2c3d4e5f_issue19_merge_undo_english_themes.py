"""merge undo and English theme texts (issue 19)

- ``merge_operation``: one row per merge with the state it changed, so that a moderator can
  undo it from the entry's history.
- ``theme.title_en``, ``theme.description_en``, ``theme.ask_en``, ``theme_rule.title_en``,
  ``theme_rule.existing_room_en``: optional English texts for the curated themes.

Revision ID: 9a1b2c3d4e5f
Revises: 401307452af7
Create Date: 2026-12-01 18:00:00

"""
import sqlalchemy as sa
from alembic import op

revision = "9a1b2c3d4e5f"
down_revision = "401307452af7"
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        "merge_operation",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("kept_id", sa.Integer(), nullable=False),
        sa.Column("merged_id", sa.Integer(), nullable=False),
        sa.Column("state", sa.JSON(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("created_by_id", sa.Integer(), nullable=True),
        sa.Column("undone_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("undone_by_id", sa.Integer(), nullable=True),
        sa.ForeignKeyConstraint(["kept_id"], ["initiative.id"], ondelete="CASCADE"),
        sa.ForeignKeyConstraint(["merged_id"], ["initiative.id"], ondelete="CASCADE"),
        sa.ForeignKeyConstraint(["created_by_id"], ["user_account.id"]),
        sa.ForeignKeyConstraint(["undone_by_id"], ["user_account.id"]),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index("ix_merge_operation_kept_id", "merge_operation", ["kept_id"])
    op.create_index("ix_merge_operation_merged_id", "merge_operation", ["merged_id"])
    with op.batch_alter_table("theme") as batch:
        batch.add_column(sa.Column("title_en", sa.String(length=200), nullable=False,
                                   server_default=""))
        batch.add_column(sa.Column("description_en", sa.Text(), nullable=False,
                                   server_default=""))
        batch.add_column(sa.Column("ask_en", sa.Text(), nullable=False, server_default=""))
    with op.batch_alter_table("theme_rule") as batch:
        batch.add_column(sa.Column("title_en", sa.String(length=300), nullable=False,
                                   server_default=""))
        batch.add_column(sa.Column("existing_room_en", sa.Text(), nullable=False,
                                   server_default=""))


def downgrade():
    with op.batch_alter_table("theme_rule") as batch:
        batch.drop_column("existing_room_en")
        batch.drop_column("title_en")
    with op.batch_alter_table("theme") as batch:
        batch.drop_column("ask_en")
        batch.drop_column("description_en")
        batch.drop_column("title_en")
    op.drop_index("ix_merge_operation_merged_id", table_name="merge_operation")
    op.drop_index("ix_merge_operation_kept_id", table_name="merge_operation")
    op.drop_table("merge_operation")
