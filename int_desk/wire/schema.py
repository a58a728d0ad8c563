"""What syncs and how each column travels: one codec per column kind.

The wire form is dialect-free JSON: UUIDs as canonical strings, dates ``YYYY-MM-DD``, UTC times
as the store's own ISO text, booleans, numbers, text and JSON values. The server validates
pushed values with the same table (``wire.values``); the client turns wire values straight into SQLite storage
values so a page of thousands of rows is one ``executemany``.
"""

from __future__ import annotations

import json
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, date, datetime
from typing import Any

from int_desk.wire.entities import ENTITY_COLUMNS
from int_desk.wire.entities import ORDER as ORDER

# Bookkeeping columns that never conflict (the server's order decides them).
META_FIELDS = frozenset({"created_at", "created_by", "updated_at", "updated_by"})
# Columns that are not data on the wire: the id travels beside the data, the version is the server's.
NOT_DATA = frozenset({"id", "server_version"})
# Append-only records: contacts and notes, health events, huddle attendance. They never conflict.
APPEND_ONLY = frozenset({"contact", "health_event", "huddle_attendee"})
# Reference data managed centrally (admin seeding), visible to every signed-in user.
GLOBAL_ENTITIES = frozenset({"place", "organisation", "member"})
MAX_TEXT = 100_000
# How a column's default is made when it is not a constant (the store's model decides which).
DEFAULT_FACTORIES: dict[str, Callable[[], Any]] = {
    "now": lambda: datetime.now(UTC),
    "dict": dict,
    "list": list,
}


@dataclass(frozen=True)
class Column:
    name: str
    kind: str  # uuid | date | datetime | json | bool | int | float | str
    nullable: bool
    max_length: int | None
    default: Any = None  # a constant, or the name of a DEFAULT_FACTORIES entry when factory
    factory: bool = False

    def default_value(self) -> Any:
        """What a new row holds in this column when nothing is given (None when no default)."""
        return DEFAULT_FACTORIES[self.default]() if self.factory else self.default


@dataclass(frozen=True)
class Entity:
    name: str
    columns: dict[str, Column]  # data columns (everything except id and server_version)

    @property
    def required(self) -> frozenset[str]:
        return frozenset(c.name for c in self.columns.values() if not c.nullable)


ENTITIES: dict[str, Entity] = {
    name: Entity(name, {c[0]: Column(*c) for c in columns})
    for name, columns in ENTITY_COLUMNS.items()
}


# --- local values <-> wire --------------------------------------------------------------------


def to_wire(kind: str, value: Any) -> Any:
    """A Python value from the ORM (or a Core select) as its wire form."""
    if value is None:
        return None
    if kind == "uuid":
        return str(value)
    if kind == "datetime":
        return value.astimezone(UTC).isoformat(timespec="microseconds")
    if kind == "date":
        return value.isoformat()
    return value


def row_to_wire(entity: Entity, row: Any) -> dict[str, Any]:
    """Every data column of an ORM object or Core row mapping as wire values."""
    get = row.get if isinstance(row, dict) else (lambda k: getattr(row, k))
    return {name: to_wire(col.kind, get(name)) for name, col in entity.columns.items()}


def wire_to_storage(kind: str, value: Any) -> Any:
    """A (validated) wire value as SQLite stores it for SQLAlchemy's types."""
    if value is None:
        return None
    if kind == "uuid":
        return value.replace("-", "")
    if kind == "bool":
        return 1 if value else 0
    if kind == "json":
        return json.dumps(value)
    return value


def wire_to_python(kind: str, value: Any) -> Any:
    if value is None:
        return None
    if kind == "uuid":
        return uuid.UUID(value)
    if kind == "date":
        return date.fromisoformat(value)
    if kind == "datetime":
        return datetime.fromisoformat(value)
    return value


def storage_uuid(value: uuid.UUID | str) -> str:
    return value.hex if isinstance(value, uuid.UUID) else value.replace("-", "")


# Dates and times outside these years are refused (``wire.values``): they are typing slips, and
# at the very edges (year 1, year 9999 with an offset) converting them to UTC overflows.
MIN_YEAR, MAX_YEAR = 1800, 2200


def id_hash_part(value: uuid.UUID | str) -> int:
    """The 64 low bits of an id: XOR-ed over a set they give an order-independent digest."""
    text = value.hex if isinstance(value, uuid.UUID) else value.replace("-", "")
    return int(text[16:32], 16)
