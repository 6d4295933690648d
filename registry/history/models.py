"""A revision is one change to an initiative: applied, or proposed and awaiting moderation."""
from __future__ import annotations

from datetime import datetime

from sqlalchemy import JSON, ForeignKey, Index, String, Text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from registry.database import utcnow
from registry.extensions import Model

ACTOR_TYPES = ("submitter", "moderator", "system")
REVISION_STATUSES = ("applied", "pending", "approved", "discarded")


class Revision(Model):
    """One change to an initiative.

    ``data`` is a full snapshot of the entry's public content after the change (for a pending
    revision: the proposed content, see ``history.services.snapshot``); ``changes`` is the
    field-level diff ``{key: [old, new]}`` (see ``history.services.diff``).
    """

    __tablename__ = "revision"
    __table_args__ = (Index("ix_revision_initiative_status", "initiative_id", "status"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    initiative_id: Mapped[int] = mapped_column(
        ForeignKey("initiative.id", ondelete="CASCADE"), index=True
    )
    created_at: Mapped[datetime] = mapped_column(default=utcnow, index=True)
    actor_type: Mapped[str] = mapped_column(String(20))  # submitter|moderator|system
    actor_id: Mapped[int | None] = mapped_column(
        ForeignKey("user_account.id", ondelete="SET NULL")
    )
    kind: Mapped[str] = mapped_column(String(20))  # create|edit|publish|withdraw|erase|merge|...
    status: Mapped[str] = mapped_column(String(20), default="applied", index=True)
    data: Mapped[dict] = mapped_column(JSON, default=dict)
    changes: Mapped[dict] = mapped_column(JSON, default=dict)
    # Decision on a pending revision (approve/discard) and why.
    decided_at: Mapped[datetime | None]
    decided_by_id: Mapped[int | None] = mapped_column(
        ForeignKey("user_account.id", ondelete="SET NULL")
    )
    reason: Mapped[str] = mapped_column(Text, default="")

    initiative = relationship("Initiative")
    actor = relationship("User", foreign_keys=[actor_id])
    decided_by = relationship("User", foreign_keys=[decided_by_id])
