"""Pushed values checked against their columns: a pydantic validator per synced column.

The endpoint checks every value a laptop pushes (and an admin writes, and a laptop resolves a
conflict with) before it goes near the store. Each column has a pydantic type made from its
kind, length and nullability (the generated ``wire.entities``), run by pydantic-core; an
insert's missing required fields are the caller's check:

- strict everywhere (JSON has native numbers, booleans and text: "5" is not a version, 1 is
  not true); unknown columns are refused;
- text: its column's length, no lone surrogates (unencodable, every downloading laptop would
  fail), no NUL (PostgreSQL text cannot hold it);
- integers within 32 bits (or the column's own range), floats finite and within +-1e15;
- ids, dates and UTC times leave in their canonical wire form (``schema.to_wire``'s), whatever
  ISO spelling arrived; dates and times outside MIN_YEAR..MAX_YEAR are refused (typing slips,
  and at the very edges converting them to UTC overflows);
- JSON values: valid text throughout, finite numbers within 64 bits, nesting and size bounded.

A refusal names the table and the field, never the value (a hostile or broken client may echo
patient data into the message otherwise); the messages are the contract the endpoint answers
with, pinned by tests/test_wire_values.py.
"""

from __future__ import annotations

import json
import uuid
from datetime import UTC, date, datetime, timedelta
from functools import cache
from typing import Annotated, Any

from pydantic import AfterValidator, Field, Strict, TypeAdapter, ValidationError
from pydantic_core import PydanticCustomError, SchemaValidator

from int_desk.domain.text import json_problem, text_problem
from int_desk.wire.schema import ENTITIES, MAX_TEXT, MAX_YEAR, MIN_YEAR, Column, Entity


class InvalidValue(ValueError):
    """Pushed values that do not fit their columns: (field, message) for each, in the order
    they came; the messages name the field, never the value. ``str()`` is the first message."""

    def __init__(self, problems: list[tuple[str, str]]) -> None:
        super().__init__(problems[0][1])
        self.problems = problems


INT_LIMIT = 2**31  # every integer column (versions, positions, seconds, deciles) fits in 32 bits
INT_RANGES: dict[tuple[str, str], tuple[int, int]] = {
    ("patient", "deprivation_decile"): (1, 10),
}
MAX_FLOAT = 1e15
# How laptops write ids: taken as they are, without a round trip through uuid.UUID.
CANONICAL_UUID = r"^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$"
_ZERO = timedelta(0)
_OUT_OF_YEARS = f"should be between {MIN_YEAR} and {MAX_YEAR}"


def _refuse(why: str) -> PydanticCustomError:
    return PydanticCustomError("wire_value", why)


# --- the parts pydantic has no type for: canonical forms and this app's limits ----------------


def _uuid_text(value: str) -> str:
    return str(uuid.UUID(value))  # (any other spelling Python reads: braces, urn:, no hyphens)


def _day(value: str) -> str:
    day = date.fromisoformat(value)
    if not MIN_YEAR <= day.year <= MAX_YEAR:
        raise _refuse(_OUT_OF_YEARS)
    return day.isoformat()


def _utc_time(value: str) -> str:
    parsed = datetime.fromisoformat(value)
    offset = parsed.utcoffset()
    if offset is None:
        raise ValueError("a time without its offset")
    # The local year first (converting year 1 or 9999 overflows), then the stored UTC one:
    # 2200-12-31T23:00-02:00 is 2201 in UTC.
    if not MIN_YEAR <= parsed.year <= MAX_YEAR:
        raise _refuse(_OUT_OF_YEARS)
    if offset != _ZERO:  # (laptops send UTC: no conversion then)
        parsed = parsed.astimezone(UTC)
        if not MIN_YEAR <= parsed.year <= MAX_YEAR:
            raise _refuse(_OUT_OF_YEARS)
    return parsed.isoformat(timespec="microseconds")


def _storable_json(value: Any) -> Any:
    problem = json_problem(value)
    if problem:
        raise _refuse(problem)
    if len(json.dumps(value)) > MAX_TEXT:
        raise _refuse("is too large")
    return value


def _json_given(value: Any) -> Any:
    if value is None:
        raise ValueError("empty")
    return _storable_json(value)


_UUID = Annotated[
    Annotated[str, Strict(), Field(pattern=CANONICAL_UUID)]
    | Annotated[str, Strict(), AfterValidator(_uuid_text)],
    Field(union_mode="left_to_right"),
]
_KIND_TYPES: dict[str, Any] = {
    "uuid": _UUID,
    "date": Annotated[str, Strict(), AfterValidator(_day)],
    "datetime": Annotated[str, Strict(), AfterValidator(_utc_time)],
    "bool": Annotated[bool, Strict()],
    "float": Annotated[float, Strict(), Field(allow_inf_nan=False, ge=-MAX_FLOAT, le=MAX_FLOAT)],
}


def _column_type(entity: str, col: Column) -> Any:
    if col.kind == "str":
        # No NUL: a pattern pydantic-core runs in Rust; lone surrogates it refuses itself.
        tp: Any = Annotated[str, Strict(), Field(max_length=col.max_length, pattern=r"^[^\x00]*$")]
    elif col.kind == "int":
        low, high = INT_RANGES.get((entity, col.name), (-INT_LIMIT, INT_LIMIT - 1))
        tp = Annotated[int, Strict(), Field(ge=low, le=high)]
    elif col.kind == "json":  # (Any takes None itself: refused here when the column needs one)
        return Annotated[Any, AfterValidator(_storable_json if col.nullable else _json_given)]
    else:
        tp = _KIND_TYPES[col.kind]
    return tp | None if col.nullable else tp


@cache
def _column_validators(entity: str) -> dict[str, SchemaValidator]:
    """The table's columns' validators (built on first use: a laptop that never resolves a
    conflict never pays for them). One pydantic-core call a field: cheaper than one for a
    whole row shape, which looks up every column of the table for an update of one."""
    return {
        name: SchemaValidator(TypeAdapter(_column_type(entity, col)).core_schema)
        for name, col in ENTITIES[entity].columns.items()
    }


# --- the messages ------------------------------------------------------------------------------


def _message(entity: Entity, field: str, error: Any) -> str:
    """What the endpoint answers for pydantic's refusal of a field's value."""
    where = f"{entity.name}.{field}"
    col = entity.columns[field]
    kind, value = error["type"], error.get("input")
    if value is None:
        return f"{where} may not be empty"
    if kind == "wire_value":
        return f"{where} {error['msg']}"
    if kind == "string_too_long":
        return f"{where} is longer than {col.max_length}"
    if kind in ("string_unicode", "string_pattern_mismatch") and col.kind == "str":
        # pydantic meets a lone surrogate before the length: say what Python's order says.
        if col.max_length is not None and len(value) > col.max_length:
            return f"{where} is longer than {col.max_length}"
        return f"{where} {text_problem(value)}"
    if col.kind == "int" and kind in ("greater_than_equal", "less_than_equal"):
        low, high = INT_RANGES.get((entity.name, field), (-INT_LIMIT, INT_LIMIT - 1))
        return f"{where} should be between {low} and {high}"
    if col.kind == "float" and kind in ("finite_number", "greater_than_equal", "less_than_equal"):
        return f"{where} should be a finite number"
    return f"{where} should be of kind {col.kind}"


def check_fields(entity: Entity, fields: dict[str, Any]) -> dict[str, Any]:
    """The fields as canonical wire values; InvalidValue names every field refused."""
    validators = _column_validators(entity.name)
    checked: dict[str, Any] = {}
    refused: list[tuple[str, str]] = []
    for name, value in fields.items():
        validator = validators.get(name)
        if validator is None:
            refused.append((name, f"{entity.name}.{name} is not a synced field"))
            continue
        try:
            checked[name] = validator.validate_python(value)
        except ValidationError as exc:  # (the first error: a union reports one per member)
            refused.append((name, _message(entity, name, exc.errors(include_url=False)[0])))
    if refused:
        raise InvalidValue(refused)
    return checked


def check_value(entity: Entity, field: str, value: Any) -> Any:
    """One field's canonical wire value; InvalidValue (naming the field) when it is refused."""
    return check_fields(entity, {field: value})[field]
