"""Declarative base, UTC timestamps and the columns every synced row carries."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import MetaData, String, types
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

from int_desk.domain.ids import new_id

# Named constraints so SQLite batch migrations can find them again.
NAMING = {
    "ix": "ix_%(table_name)s_%(column_0_N_name)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


# session.info key set by code writing rows received from the server (not local edits).
APPLYING = "int_desk_sync_applying"


def utcnow() -> datetime:
    return datetime.now(UTC)


class UTCDateTime(types.TypeDecorator[datetime]):
    """Aware UTC datetimes stored as sortable ISO-8601 text (same on SQLite and PostgreSQL)."""

    impl = String(32)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Any) -> str | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime given to a UTC column")
        return value.astimezone(UTC).isoformat(timespec="microseconds")

    def process_result_value(self, value: str | None, dialect: Any) -> datetime | None:
        return None if value is None else datetime.fromisoformat(value)


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING)


class Synced:
    """Columns every synced row carries, so sync needs no table reshaping.

    ``server_version`` stays NULL until the central endpoint has accepted the row;
    ``deleted`` is a tombstone (rows are never hard-deleted while they may need syncing).
    """

    id: Mapped[uuid.UUID] = mapped_column(types.Uuid, primary_key=True, default=new_id)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    created_by: Mapped[uuid.UUID | None] = mapped_column(types.Uuid)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, onupdate=utcnow)
    updated_by: Mapped[uuid.UUID | None] = mapped_column(types.Uuid)
    server_version: Mapped[int | None] = mapped_column(default=None)
    deleted: Mapped[bool] = mapped_column(default=False)
