"""Staff accounts. Roles: admin > moderator > advisor (read-only, no personal data)."""
from __future__ import annotations

import secrets
from datetime import datetime

from flask_login import UserMixin
from sqlalchemy import String
from sqlalchemy.orm import Mapped, mapped_column

from registry.database import TimestampMixin
from registry.extensions import Model, db, login_manager

ROLES = ("advisor", "moderator", "admin")
ROLE_RANK = {role: rank for rank, role in enumerate(ROLES)}


def new_session_token() -> str:
    return secrets.token_urlsafe(32)


class User(UserMixin, TimestampMixin, Model):
    __tablename__ = "user_account"

    id: Mapped[int] = mapped_column(primary_key=True)
    email: Mapped[str] = mapped_column(String(254), unique=True)
    name: Mapped[str] = mapped_column(String(200), default="")
    password_hash: Mapped[str | None] = mapped_column(String(255))
    role: Mapped[str] = mapped_column(String(20), default="advisor")
    active: Mapped[bool] = mapped_column(default=True)
    # Rotated on logout, password change, role change and deactivation: every session (and
    # remember cookie) that carries an old token is logged out.
    session_token: Mapped[str] = mapped_column(String(64), default=new_session_token)
    failed_logins: Mapped[int] = mapped_column(default=0)
    locked_until: Mapped[datetime | None]
    last_login_at: Mapped[datetime | None]
    totp_secret: Mapped[str | None] = mapped_column(String(64))
    # Set when a set-password link was used and the second factor must still be confirmed
    # (enrolment happens only there); moved to totp_secret by the first correct code.
    totp_pending_secret: Mapped[str | None] = mapped_column(String(64))
    # The last accepted TOTP time step (unix time // 30): a code of this or an earlier step is
    # refused, so a code works once even within its window.
    totp_last_counter: Mapped[int | None]
    # Wrong (and in-progress) codes since the last correct one; at LOGIN_MAX_FAILURES the
    # account is locked (locked_until) as after wrong passwords.
    totp_failures: Mapped[int] = mapped_column(default=0)

    @property
    def is_active(self) -> bool:  # Flask-Login
        return self.active

    def get_id(self) -> str:
        """Flask-Login stores this in the session; a rotated token invalidates it."""
        return f"{self.id}:{self.session_token}"

    def has_role(self, role: str) -> bool:
        """True when the user's role is ``role`` or stronger."""
        return ROLE_RANK.get(self.role, -1) >= ROLE_RANK[role]


@login_manager.user_loader
def load_user(user_id: str) -> User | None:
    try:
        raw_id, token = user_id.split(":", 1)
        user = db.session.get(User, int(raw_id))
    except (ValueError, TypeError):
        return None
    if user is None or not user.active or not secrets.compare_digest(user.session_token, token):
        return None
    return user
