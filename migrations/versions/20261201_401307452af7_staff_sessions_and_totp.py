"""staff sessions and TOTP (issue 17, items 4 and 6)

- ``user_account.totp_pending_secret``: the secret shown right after a set-password link was
  used, until the first correct code moves it to ``totp_secret`` (enrolment only there).
- ``user_account.totp_last_counter``: the last accepted TOTP time step; a code of this or an
  earlier step is refused (no reuse within the window).
- ``user_account.totp_failures``: wrong codes since the last correct one; at
  ``LOGIN_MAX_FAILURES`` the account is locked like after wrong passwords.

Logout rotates the existing ``session_token``; the session times live in the signed cookie.

Revision ID: 401307452af7
Revises: f1a2b3c4d5e6
Create Date: 2026-12-01 16:00:00

"""
import sqlalchemy as sa
from alembic import op

revision = "401307452af7"
down_revision = "f1a2b3c4d5e6"
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table("user_account") as batch:
        batch.add_column(sa.Column("totp_pending_secret", sa.String(length=64), nullable=True))
        batch.add_column(sa.Column("totp_last_counter", sa.Integer(), nullable=True))
        batch.add_column(sa.Column("totp_failures", sa.Integer(), nullable=False,
                                   server_default="0"))


def downgrade():
    with op.batch_alter_table("user_account") as batch:
        batch.drop_column("totp_failures")
        batch.drop_column("totp_last_counter")
        batch.drop_column("totp_pending_secret")
