"""Relayed contact requests between schools, and digest subscriptions.

Both hold personal data (a visitor's name and e-mail address): never shown publicly, never in
exports or the API. Tokens in mails are stored only as SHA-256 hashes.
"""
from __future__ import annotations

from datetime import datetime

from sqlalchemy import ForeignKey, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from registry.database import utcnow
from registry.extensions import Model


class ContactRequest(Model):
    """A message from a visitor (another school) to an initiative's contact, relayed by mail.

    The contact sees the sender's name, school and message, not the address; when the contact
    replies through the private link, both addresses are exchanged.
    """

    __tablename__ = "contact_request"

    id: Mapped[int] = mapped_column(primary_key=True)
    initiative_id: Mapped[int] = mapped_column(
        ForeignKey("initiative.id", ondelete="CASCADE"), index=True
    )
    sender_name: Mapped[str] = mapped_column(String(200))
    sender_school: Mapped[str] = mapped_column(String(200), default="")
    sender_email: Mapped[str] = mapped_column(String(254))
    message: Mapped[str] = mapped_column(Text)
    language: Mapped[str] = mapped_column(String(5), default="nl")
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    created_at: Mapped[datetime] = mapped_column(default=utcnow, index=True)
    replied_at: Mapped[datetime | None]

    initiative = relationship("Initiative")


class Subscription(Model):
    """A (double opt-in) request to be mailed when a new initiative with these topics appears."""

    __tablename__ = "subscription"

    id: Mapped[int] = mapped_column(primary_key=True)
    email: Mapped[str] = mapped_column(String(254), index=True)
    language: Mapped[str] = mapped_column(String(5), default="nl")
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    confirmed_at: Mapped[datetime | None] = mapped_column(index=True)

    topics: Mapped[list[SubscriptionTopic]] = relationship(
        back_populates="subscription", cascade="all, delete-orphan",
        order_by="SubscriptionTopic.id",
    )


class SubscriptionTopic(Model):
    """One theme or one obstacle area a subscription follows."""

    __tablename__ = "subscription_topic"

    id: Mapped[int] = mapped_column(primary_key=True)
    subscription_id: Mapped[int] = mapped_column(
        ForeignKey("subscription.id", ondelete="CASCADE"), index=True
    )
    theme_id: Mapped[int | None] = mapped_column(
        ForeignKey("theme.id", ondelete="CASCADE"), index=True
    )
    area_code: Mapped[str | None] = mapped_column(ForeignKey("obstacle_area.code"))

    subscription: Mapped[Subscription] = relationship(back_populates="topics")
    theme = relationship("Theme")


class SubscriptionNotice(Model):
    """An initiative a subscription was already mailed about (never twice)."""

    __tablename__ = "subscription_notice"
    __table_args__ = (UniqueConstraint("subscription_id", "initiative_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    subscription_id: Mapped[int] = mapped_column(
        ForeignKey("subscription.id", ondelete="CASCADE"), index=True
    )
    initiative_id: Mapped[int] = mapped_column(ForeignKey("initiative.id", ondelete="CASCADE"))
    sent_at: Mapped[datetime] = mapped_column(default=utcnow)
