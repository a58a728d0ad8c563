"""What syncs and how each column travels: one codec per column kind.

The wire form is dialect-free JSON: UUIDs as canonical strings, dates ``YYYY-MM-DD``, UTC times
as the store's own ISO text, booleans, numbers, text and JSON values. The server validates
pushed values with the same table; the client turns wire values straight into SQLite storage
values so a page of thousands of rows is one ``executemany``.
"""

from __future__ import annotations

import json
import math
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, date, datetime
from typing import Any

from int_desk.domain.text import text_problem as text_problem
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


# --- validation (the server uses this for every pushed value) ---------------------------------


class InvalidValue(ValueError):
    """A pushed value does not fit its column; the message names the field, never the value."""


# Dates and times outside these years are refused: they are typing slips, and at the very edges
# (year 1, year 9999 with an offset) converting them to UTC overflows.
MIN_YEAR, MAX_YEAR = 1800, 2200
INT_LIMIT = 2**31  # every integer column (versions, positions, seconds, deciles) fits in 32 bits
INT_RANGES: dict[tuple[str, str], tuple[int, int]] = {
    ("patient", "deprivation_decile"): (1, 10),
}
MAX_JSON_DEPTH = 20


def json_problem(value: Any, depth: int = 0) -> str | None:
    if depth > MAX_JSON_DEPTH:
        return "is nested too deeply"
    if isinstance(value, str):
        return text_problem(value)
    if isinstance(value, float) and (value != value or value in (float("inf"), float("-inf"))):
        return "holds a number that is not finite"
    if isinstance(value, int) and not isinstance(value, bool) and abs(value) >= 2**63:
        return "holds a number too large"
    if isinstance(value, dict):
        for k, v in value.items():
            problem = text_problem(k) if isinstance(k, str) else None
            problem = problem or json_problem(v, depth + 1)
            if problem:
                return problem
    if isinstance(value, list):
        for v in value:
            problem = json_problem(v, depth + 1)
            if problem:
                return problem
    return None


def _year_ok(year: int) -> bool:
    return MIN_YEAR <= year <= MAX_YEAR


def check_value(entity: Entity, field: str, value: Any) -> Any:
    """Return the canonical wire value or raise InvalidValue."""
    col = entity.columns.get(field)
    if col is None:
        raise InvalidValue(f"{entity.name}.{field} is not a synced field")
    if value is None:
        if not col.nullable:
            raise InvalidValue(f"{entity.name}.{field} may not be empty")
        return None
    k = col.kind
    where = f"{entity.name}.{field}"
    try:
        if k == "uuid":
            if not isinstance(value, str):
                raise TypeError
            return str(uuid.UUID(value))
        if k == "date":
            if not isinstance(value, str):
                raise TypeError
            day = date.fromisoformat(value)
            if not _year_ok(day.year):
                raise InvalidValue(f"{where} should be between {MIN_YEAR} and {MAX_YEAR}")
            return day.isoformat()
        if k == "datetime":
            if not isinstance(value, str):
                raise TypeError
            parsed = datetime.fromisoformat(value)
            if parsed.tzinfo is None:
                raise TypeError
            # The local year first (converting year 1 or 9999 overflows), then the stored UTC
            # one: 2200-12-31T23:00-02:00 is 2201 in UTC.
            if not _year_ok(parsed.year) or not _year_ok(parsed.astimezone(UTC).year):
                raise InvalidValue(f"{where} should be between {MIN_YEAR} and {MAX_YEAR}")
            return parsed.astimezone(UTC).isoformat(timespec="microseconds")
        if k == "bool":
            if not isinstance(value, bool):
                raise TypeError
            return value
        if k == "int":
            if isinstance(value, bool) or not isinstance(value, int):
                raise TypeError
            low, high = INT_RANGES.get((entity.name, field), (-INT_LIMIT, INT_LIMIT - 1))
            if not low <= value <= high:
                raise InvalidValue(f"{where} should be between {low} and {high}")
            return value
        if k == "float":
            if isinstance(value, bool) or not isinstance(value, int | float):
                raise TypeError
            number = float(value)  # (a huge integer overflows here: refused as the wrong kind)
            if not math.isfinite(number) or abs(number) > 1e15:
                raise InvalidValue(f"{where} should be a finite number")
            return number
        if k == "str":
            if not isinstance(value, str):
                raise TypeError
            if col.max_length is not None and len(value) > col.max_length:
                raise InvalidValue(f"{where} is longer than {col.max_length}")
            problem = text_problem(value)
            if problem:
                raise InvalidValue(f"{where} {problem}")
            return value
        if k == "json":
            problem = json_problem(value)
            if problem:
                raise InvalidValue(f"{where} {problem}")
            if len(json.dumps(value)) > MAX_TEXT:
                raise InvalidValue(f"{where} is too large")
            return value
    except (TypeError, ValueError, OverflowError) as exc:
        if isinstance(exc, InvalidValue):
            raise
        raise InvalidValue(f"{entity.name}.{field} should be of kind {k}") from None
    raise InvalidValue(f"{entity.name}.{field} has an unknown kind")


def id_hash_part(value: uuid.UUID | str) -> int:
    """The 64 low bits of an id: XOR-ed over a set they give an order-independent digest."""
    text = value.hex if isinstance(value, uuid.UUID) else value.replace("-", "")
    return int(text[16:32], 16)
