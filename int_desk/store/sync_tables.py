"""Local tables of the sync engine: the outbox, sync state and stored conflicts (never synced)."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any

from sqlalchemy import JSON, Index, String, Text, types
from sqlalchemy.orm import Mapped, mapped_column

from int_desk.store.base import Base, UTCDateTime, utcnow


class SyncOutbox(Base):
    """One local edit of one synced row, written in the same transaction as the edit.

    ``fields`` holds wire values of the changed fields (all of them for an insert). An op is
    coalesced with later edits of the same row only until it is first sent; after that its op id
    and content are fixed, so a replay is answered with the stored result.
    """

    __tablename__ = "sync_outbox"
    __table_args__ = (Index("ix_sync_outbox_entity_row", "entity", "entity_id"),)
    seq: Mapped[int] = mapped_column(primary_key=True, autoincrement=True)
    op_id: Mapped[uuid.UUID] = mapped_column(types.Uuid, unique=True)
    entity: Mapped[str] = mapped_column(String(40))
    entity_id: Mapped[uuid.UUID] = mapped_column(types.Uuid)
    kind: Mapped[str] = mapped_column(String(8))  # insert | update
    base_version: Mapped[int | None]
    fields: Mapped[dict[str, Any]] = mapped_column(JSON)
    actor_id: Mapped[uuid.UUID | None] = mapped_column(types.Uuid)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    sent_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    status: Mapped[str] = mapped_column(String(10), default="pending", index=True)
    reason: Mapped[str] = mapped_column(Text, default="")
    resolves_conflict: Mapped[uuid.UUID | None] = mapped_column(types.Uuid)


class SyncState(Base):
    """Endpoint URL, cursor, last sync time and result; the token only when no keyring works."""

    __tablename__ = "sync_state"
    key: Mapped[str] = mapped_column(String(64), primary_key=True)
    value: Mapped[str] = mapped_column(Text)


class SyncConflict(Base):
    """The same field changed here and on the server: both values kept until a person decides."""

    __tablename__ = "sync_conflict"
    __table_args__ = (Index("ix_sync_conflict_status", "status"),)
    id: Mapped[uuid.UUID] = mapped_column(types.Uuid, primary_key=True)
    entity: Mapped[str] = mapped_column(String(40))
    entity_id: Mapped[uuid.UUID] = mapped_column(types.Uuid)
    patient_id: Mapped[uuid.UUID | None] = mapped_column(types.Uuid, index=True)
    field: Mapped[str] = mapped_column(String(64))
    local_value: Mapped[Any] = mapped_column(JSON, nullable=True)
    local_by: Mapped[uuid.UUID | None] = mapped_column(types.Uuid)
    local_at: Mapped[datetime] = mapped_column(UTCDateTime)
    remote_value: Mapped[Any] = mapped_column(JSON, nullable=True)
    remote_by: Mapped[str] = mapped_column(String(200), default="")
    remote_at: Mapped[str] = mapped_column(String(40), default="")
    remote_version: Mapped[int | None]
    detected_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    status: Mapped[str] = mapped_column(String(10), default="open")  # open | resolved
    resolution: Mapped[str | None] = mapped_column(String(10))  # local | remote | custom
    resolved_by: Mapped[uuid.UUID | None] = mapped_column(types.Uuid)
    resolved_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
