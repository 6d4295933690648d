"""The core data: a school (organisation), its initiative, dimensions, obstacles and contact."""
from __future__ import annotations

from datetime import datetime

from sqlalchemy import (
    CheckConstraint,
    ForeignKey,
    Index,
    String,
    Text,
    UniqueConstraint,
    false,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from registry.database import TimestampMixin, utcnow
from registry.extensions import Model
from registry.taxonomy.constants import InitiativeState


class Organisation(TimestampMixin, Model):
    """The school (location) behind an initiative, with its address and resolved location."""

    __tablename__ = "organisation"
    __table_args__ = (
        # Covering index for the summary's read of every entry's school (issue 20)
        Index("ix_organisation_facts", "id", "sector", "province", "brin", "location_number"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(200))
    brin: Mapped[str] = mapped_column(String(4), index=True)
    location_number: Mapped[str | None] = mapped_column(String(2))
    sector: Mapped[str] = mapped_column(ForeignKey("sector.code"), index=True)
    levels: Mapped[str] = mapped_column(String(300), default="")
    qualification_codes: Mapped[str] = mapped_column(String(300), default="")
    street: Mapped[str] = mapped_column(String(200), default="")
    postcode: Mapped[str] = mapped_column(String(7), index=True)
    city: Mapped[str] = mapped_column(String(100), default="")
    website: Mapped[str] = mapped_column(String(300), default="")

    # Location, resolved by registry.geo (never from what the user typed for province).
    latitude: Mapped[float | None]
    longitude: Mapped[float | None]
    municipality: Mapped[str | None] = mapped_column(String(100))
    province: Mapped[str | None] = mapped_column(String(50), index=True)
    geo_source: Mapped[str | None] = mapped_column(String(20))  # school|mbo|postcode|online|manual
    geo_precision: Mapped[str | None] = mapped_column(String(20))  # address|postcode|place|manual
    geo_status: Mapped[str] = mapped_column(String(20), default="todo")  # todo|resolved|failed

    initiatives: Mapped[list[Initiative]] = relationship(back_populates="organisation")


class Initiative(TimestampMixin, Model):
    """An initiative for fully personalised learning, as submitted and curated."""

    __tablename__ = "initiative"
    __table_args__ = (
        Index("ix_initiative_state_published_at", "state", "published_at"),
        # Covering index for the summary's read of every published entry (issue 20)
        Index("ix_initiative_state_facts", "state", "id", "organisation_id", "learners_count",
              "published_at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    reference: Mapped[str | None] = mapped_column(String(20), unique=True)
    organisation_id: Mapped[int] = mapped_column(ForeignKey("organisation.id"), index=True)
    title: Mapped[str] = mapped_column(String(200))
    summary: Mapped[str] = mapped_column(String(300))
    description: Mapped[str] = mapped_column(Text, default="")
    start_year: Mapped[int | None]
    phase: Mapped[str] = mapped_column(ForeignKey("phase.code"))
    learners_count: Mapped[int | None]
    staff_count: Mapped[int | None]
    ict: Mapped[str] = mapped_column(Text, default="")
    # active_history: the previous state is loaded on change, so a flush can tell that an
    # entry leaves the public pages (registry.cache).
    state: Mapped[str] = mapped_column(String(20), default=InitiativeState.PENDING, index=True,
                                       active_history=True)
    language: Mapped[str] = mapped_column(String(5), default="nl")
    submitted_at: Mapped[datetime | None]
    published_at: Mapped[datetime | None]
    version_id: Mapped[int] = mapped_column(default=1)
    # Folded title, summary, school, place and obstacle titles for the ``q`` filter, kept up
    # to date on every flush (registry.submissions.search).
    search_text: Mapped[str] = mapped_column(Text, default="", server_default="")

    organisation: Mapped[Organisation] = relationship(back_populates="initiatives")
    dimensions: Mapped[list[InitiativeDimension]] = relationship(
        back_populates="initiative", cascade="all, delete-orphan",
        order_by="InitiativeDimension.id",
    )
    obstacles: Mapped[list[Obstacle]] = relationship(
        back_populates="initiative", cascade="all, delete-orphan", order_by="Obstacle.position",
    )
    contact: Mapped[Contact | None] = relationship(
        back_populates="initiative", cascade="all, delete-orphan", uselist=False,
    )

    __mapper_args__ = {"version_id_col": version_id}

    @property
    def is_public(self) -> bool:
        return self.state == InitiativeState.PUBLISHED


class InitiativeDimension(Model):
    """Where an initiative stands on one dimension of personalisation, and its ambition."""

    __tablename__ = "initiative_dimension"
    __table_args__ = (
        UniqueConstraint("initiative_id", "dimension_code"),
        CheckConstraint("current_level BETWEEN 0 AND 3", name="current_level_range"),
        CheckConstraint("ambition_level BETWEEN 0 AND 3", name="ambition_level_range"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    initiative_id: Mapped[int] = mapped_column(
        ForeignKey("initiative.id", ondelete="CASCADE"), index=True
    )
    dimension_code: Mapped[str] = mapped_column(ForeignKey("dimension.code"))
    current_level: Mapped[int] = mapped_column(default=0)
    ambition_level: Mapped[int] = mapped_column(default=0)

    initiative: Mapped[Initiative] = relationship(back_populates="dimensions")
    dimension = relationship("Dimension")


class Obstacle(TimestampMixin, Model):
    """An obstacle a school reports in one of the regulatory areas."""

    __tablename__ = "obstacle"
    __table_args__ = (
        CheckConstraint("severity BETWEEN 1 AND 4", name="severity_range"),
        CheckConstraint("visibility IN ('public', 'confidential')", name="visibility_values"),
        # Covering indexes for "similar initiatives" (registry/connect) and the summary
        # (issue 11): who shares a theme, and an initiative's areas and themes, are read from
        # the index alone instead of the wide obstacle rows. They replace the single-column
        # indexes on initiative_id and theme_id (their prefixes). ``visibility`` is the last
        # column of both (issue 16): public reads match on public obstacles only and stay
        # index-only (similar initiatives: 8 ms instead of 23 ms at 20,000 entries).
        Index("ix_obstacle_initiative_area_theme", "initiative_id", "area_code", "theme_id",
              "visibility"),
        Index("ix_obstacle_theme_initiative", "theme_id", "initiative_id", "visibility"),
        # The summary's read of every obstacle's small columns (issue 20)
        Index("ix_obstacle_facts", "initiative_id", "id", "theme_id", "position", "area_code",
              "severity", "status", "visibility", "reported_at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    initiative_id: Mapped[int] = mapped_column(ForeignKey("initiative.id", ondelete="CASCADE"))
    area_code: Mapped[str] = mapped_column(ForeignKey("obstacle_area.code"), index=True)
    title: Mapped[str] = mapped_column(String(200))
    description: Mapped[str] = mapped_column(Text, default="")
    rule: Mapped[str] = mapped_column(String(500), default="")
    severity: Mapped[int]
    status: Mapped[str] = mapped_column(String(20), default="open")
    workaround: Mapped[str] = mapped_column(Text, default="")
    policy_ask: Mapped[str] = mapped_column(Text, default="")
    position: Mapped[int] = mapped_column(default=0)
    # "public" (shown with the initiative) or "confidential" (counted only in the national
    # figures, seen by staff; registry.summary.disclosure). Workaround and policy ask follow.
    visibility: Mapped[str] = mapped_column(String(20), default="public",
                                            server_default="public")
    # When the school reported it: the entry's confirmation, or when it was added to a
    # confirmed entry later (the summary's reports over time)
    reported_at: Mapped[datetime | None] = mapped_column(default=utcnow)
    # The school wants to take part in a pilot or experiment on this obstacle
    pilot_interest: Mapped[bool] = mapped_column(default=False, server_default=false())
    # The curated theme (knelpunt) a moderator linked this report to.
    theme_id: Mapped[int | None] = mapped_column(ForeignKey("theme.id", ondelete="SET NULL"))

    initiative: Mapped[Initiative] = relationship(back_populates="obstacles")
    area = relationship("ObstacleArea")
    theme = relationship("Theme")


class Contact(TimestampMixin, Model):
    """Personal data of the school contact (AVG): never shown on public pages or exports."""

    __tablename__ = "contact"

    id: Mapped[int] = mapped_column(primary_key=True)
    initiative_id: Mapped[int] = mapped_column(
        ForeignKey("initiative.id", ondelete="CASCADE"), unique=True
    )
    name: Mapped[str] = mapped_column(String(200))
    role: Mapped[str] = mapped_column(String(200), default="")
    email: Mapped[str] = mapped_column(String(254), index=True)
    phone: Mapped[str] = mapped_column(String(40), default="")
    consent_contact: Mapped[bool] = mapped_column(default=False)
    consent_publish_name: Mapped[bool] = mapped_column(default=False)
    consent_quotes: Mapped[bool] = mapped_column(default=False)
    # Opt-in (separate from consent_contact, which is for moderators) to receive messages
    # from other schools relayed by registry.connect; the contact can opt out from each mail.
    accepts_messages: Mapped[bool] = mapped_column(default=False, server_default=false())
    # The school may be named to OCW in a pilot dossier (otherwise it is only counted)
    consent_name_to_ocw: Mapped[bool] = mapped_column(default=False, server_default=false())
    erased_at: Mapped[datetime | None]

    initiative: Mapped[Initiative] = relationship(back_populates="contact")
