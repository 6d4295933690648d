"""Import jobs, the column mapping saved per source, and the rows already imported.

``import_row`` holds one stable key per imported row and source (a hash of the source name
and the row's identifying fields, ``registry.imports.checking.row_key``): importing the same
file again finds its rows there and creates no duplicates. It keeps the key when the entry is
deleted later (a withdrawn or erased entry is not brought back by a second import).
"""
from __future__ import annotations

from datetime import datetime

from sqlalchemy import JSON, ForeignKey, String, Text, UniqueConstraint, false
from sqlalchemy.orm import Mapped, mapped_column

from registry.database import TimestampMixin, utcnow
from registry.extensions import Model

# What a job is doing (``ImportJob.status``)
UPLOADED, MAPPING, CHECKING, CHECKED, IMPORTING, DONE, FAILED, DISCARDED = (
    "uploaded", "mapping", "checking", "checked", "importing", "done", "failed", "discarded")
RUNNING = (CHECKING, IMPORTING)


class ImportSource(TimestampMixin, Model):
    """A list's origin (a network, region or sector council) and the column mapping that was
    used for its last file, offered again for its next one."""

    __tablename__ = "import_source"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(100), unique=True)
    # {target field: column header}
    mapping: Mapped[dict] = mapped_column(JSON, default=dict)


class ImportJob(TimestampMixin, Model):
    """One uploaded file on its way: mapped, checked (the preview), imported.

    The file itself waits in IMPORT_DIR (``registry.imports.services.job_file``) until it
    is imported or discarded. ``updated_at`` is the heartbeat of a running job.
    """

    __tablename__ = "import_job"

    id: Mapped[int] = mapped_column(primary_key=True)
    source: Mapped[str] = mapped_column(String(100))
    file_name: Mapped[str] = mapped_column(String(255))
    obstacles_file_name: Mapped[str] = mapped_column(String(255), default="")
    kind: Mapped[str] = mapped_column(String(10))  # csv | xlsx
    layout: Mapped[str] = mapped_column(String(20))  # export (the registry's own) | mapped
    status: Mapped[str] = mapped_column(String(20), default=UPLOADED, index=True)
    language: Mapped[str] = mapped_column(String(5), default="nl")
    # {target field: column header}; the registry's own exports need none
    mapping: Mapped[dict] = mapped_column(JSON, default=dict)
    headers: Mapped[list] = mapped_column(JSON, default=list)
    include_duplicates: Mapped[bool] = mapped_column(default=False, server_default=false())
    total_rows: Mapped[int | None]
    rows_done: Mapped[int] = mapped_column(default=0)
    counts: Mapped[dict] = mapped_column(JSON, default=dict)
    # the rows shown in the preview and the result (problems first, a sample of good rows)
    report: Mapped[dict] = mapped_column(JSON, default=dict)
    error: Mapped[str] = mapped_column(Text, default="")
    created_by_id: Mapped[int | None] = mapped_column(
        ForeignKey("user_account.id", ondelete="SET NULL"))
    finished_at: Mapped[datetime | None]


class ImportRow(Model):
    """A row of a source that was imported, by its stable key."""

    __tablename__ = "import_row"
    __table_args__ = (UniqueConstraint("source", "row_key"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    source: Mapped[str] = mapped_column(String(100))
    row_key: Mapped[str] = mapped_column(String(64))
    initiative_id: Mapped[int | None] = mapped_column(
        ForeignKey("initiative.id", ondelete="SET NULL"), index=True)
    job_id: Mapped[int | None] = mapped_column(
        ForeignKey("import_job.id", ondelete="SET NULL"), index=True)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
