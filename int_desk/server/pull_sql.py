"""Pull pages built by the database: each change's JSON text joined into one string in SQL.

A caller who may read every row of their teams (``ReadScope.passes_everything``) receives rows
exactly as stored, so the page needs no Python work per row: the database writes
``{"e":..,"id":..,"v":..,"del":..,"data":<stored JSON>}`` for each and joins them, and the
endpoint sends the text on. Callers whose rows are cut (clinical fields blanked, referred
people only) keep the per-row path in ``read_ops``. Every statement names its scopes.

PostgreSQL and SQLite spell a few things differently (``string_agg``/``group_concat``; SQLite
keeps UUIDs as 32 hex digits), so each statement comes in both dialects.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from typing import Any

from sqlalchemy import Uuid, bindparam, text
from sqlalchemy.orm import Session

_HEX_TO_UUID = (
    "substr(id,1,8)||'-'||substr(id,9,4)||'-'||substr(id,13,4)||'-'||substr(id,17,4)||'-'"
    "||substr(id,21,12)"
)
_CHANGE = {
    "postgresql": (
        '\'{"e":"\'||entity||\'","id":"\'||id::text||\'","v":\'||version::text||'
        "',\"del\":'||(CASE WHEN deleted THEN 'true' ELSE 'false' END)||',\"data\":'||data||'}'"
    ),
    "sqlite": (
        f'\'{{"e":"\'||entity||\'","id":"\'||{_HEX_TO_UUID}||\'","v":\'||version||'
        "',\"del\":'||(CASE WHEN deleted THEN 'true' ELSE 'false' END)||',\"data\":'||data||'}'"
    ),
}
_JOIN = {
    "postgresql": "string_agg(change, ',' ORDER BY {key})",
    "sqlite": "group_concat(change, ',')",  # rows arrive in the page's order
}
_TEXT_ID = {"postgresql": "id::text", "sqlite": "id"}
_TEXT_PATIENT = {"postgresql": "patient_id::text", "sqlite": "patient_id"}
# The people whose rows a page carries, for the audit trail (sync_audit): 32 hex digits each.
_PEOPLE = {
    "postgresql": "string_agg(DISTINCT replace(patient_id::text, '-', ''), ',')",
    "sqlite": "group_concat(DISTINCT patient_id)",
}


def _changes_statement(dialect: str) -> str:
    return f"""
WITH page AS (
    SELECT version, patient_id, {_CHANGE[dialect]} AS change FROM srv_record
    WHERE scope = :scope AND version > :since ORDER BY version LIMIT :room
), agg AS (
    SELECT count(*) AS n, max(version) AS top, {_JOIN[dialect].format(key="version")} AS changes,
        {_PEOPLE[dialect]} AS people
    FROM page
)
SELECT n, top, changes, (
    SELECT {_JOIN[dialect].replace("change", _TEXT_PATIENT[dialect]).format(key="seq")}
    FROM srv_scope_exit
    WHERE scope = :scope AND seq > :since
      AND seq <= CASE WHEN n >= :room THEN top ELSE :last END
) AS exits, people FROM agg
"""


def _full_statement(dialect: str, continuing: bool) -> str:
    after = "AND id > :after" if continuing else ""
    return f"""
WITH page AS (
    SELECT id, patient_id, {_CHANGE[dialect]} AS change FROM srv_record
    WHERE scope IN :scopes AND entity = :entity AND deleted = :no {after}
    ORDER BY id LIMIT :room
)
SELECT count(*) AS n, max({_TEXT_ID[dialect]}) AS last, {_JOIN[dialect].format(key="id")},
    {_PEOPLE[dialect]}
FROM page
"""


def _columns_row(dialect: str, names: tuple[str, ...]) -> tuple[str, str]:
    """A full page's row in the column form, ``["<id>",<version>,<value>,...]`` with the values
    of ``names`` in order (null where the stored JSON has none), as raw JSON text from the stored
    JSON (values as they were stored, never re-typed), and what the row is read from."""
    if dialect == "postgresql":
        # json (not jsonb) keeps every value's text as stored; json_to_record parses once a row.
        fields = ", ".join(f'"{n}" json' for n in names)
        values = ", ".join(f'x."{n}"' for n in names)
        return (
            f"json_build_array(r.id::text, r.version, {values})::text",
            f"srv_record r CROSS JOIN LATERAL json_to_record(r.data::json) AS x({fields})",
        )
    # SQLite's json_extract with several paths answers one JSON array of their values.
    paths = ", ".join(f"'$.\"{n}\"'" for n in names)
    return (
        f"'[\"'||{_HEX_TO_UUID}||'\",'||version||','||substr(json_extract(data, {paths}), 2)",
        "srv_record r",
    )


def _full_columns_statement(dialect: str, names: tuple[str, ...], continuing: bool) -> Any:
    row, source = _columns_row(dialect, names)
    after = "AND r.id > :after" if continuing else ""
    statement = text(f"""
WITH page AS (
    SELECT r.id, r.patient_id, {row} AS change FROM {source}
    WHERE r.scope IN :scopes AND r.entity = :entity AND r.deleted = :no {after}
    ORDER BY r.id LIMIT :room
)
SELECT count(*) AS n, max({_TEXT_ID[dialect]}) AS last, {_JOIN[dialect].format(key="id")},
    {_PEOPLE[dialect]}
FROM page
""").bindparams(bindparam("scopes", expanding=True))  # fmt: skip
    if continuing:
        statement = statement.bindparams(bindparam("after", type_=Uuid()))
    return statement


_STATEMENTS = {
    (dialect, kind): statement
    for dialect in ("postgresql", "sqlite")
    for kind, statement in (
        ("changes", text(_changes_statement(dialect))),
        ("full", text(_full_statement(dialect, False)).bindparams(
            bindparam("scopes", expanding=True))),
        ("full after", text(_full_statement(dialect, True)).bindparams(
            bindparam("scopes", expanding=True), bindparam("after", type_=Uuid()))),
    )
}  # fmt: skip


def supported(session: Session) -> bool:
    return session.get_bind().dialect.name in ("postgresql", "sqlite")


@dataclass(frozen=True)
class Page:
    rows: int  # how many changes
    top: int | None  # the highest version among them (incremental pages)
    last_id: str | None  # the highest id among them (full pages)
    changes: str  # their JSON objects joined by commas
    exits: tuple[str, ...] = ()  # patients who left the scope within the page's versions
    people: str = ""  # the patients whose rows it carries (sync_audit's ``patients`` text)


def changes(session: Session, scope: str, since: int, last: int, room: int) -> Page:
    """Up to ``room`` changes of one scope after ``since`` (``last``: its committed top)."""
    dialect = session.get_bind().dialect.name
    row = (
        session.connection()
        .execute(
            _STATEMENTS[(dialect, "changes")],
            {"scope": scope, "since": since, "room": room, "last": last},
        )
        .one()
    )
    exits = tuple(str(uuid.UUID(p)) for p in row[3].split(",")) if row[3] else ()
    return Page(int(row[0]), row[1], None, row[2] or "", exits, row[4] or "")


def full(
    session: Session, scopes: tuple[str, ...], entity: str, after: str | None, room: int
) -> Page:
    """Up to ``room`` live rows of one entity in these scopes, by id after ``after``."""
    dialect = session.get_bind().dialect.name
    params: dict[str, Any] = {"scopes": list(scopes), "entity": entity, "no": False, "room": room}
    if after:
        params["after"] = uuid.UUID(after)
    statement = _STATEMENTS[(dialect, "full after" if after else "full")]
    row = session.connection().execute(statement, params).one()
    last = str(uuid.UUID(row[1])) if row[1] else None
    return Page(int(row[0]), None, last, row[2] or "", (), row[3] or "")


_COLUMN_STATEMENTS: dict[tuple[str, str, bool], Any] = {}


def full_columns(
    session: Session,
    scopes: tuple[str, ...],
    entity: str,
    names: tuple[str, ...],
    after: str | None,
    room: int,
) -> Page:
    """As ``full``, each row written in the column form: an array of the id, the version and
    the values of ``names`` (at least two: json_extract answers an array only for several)."""
    assert len(names) >= 2, entity
    dialect = session.get_bind().dialect.name
    key = (dialect, entity, bool(after))
    if key not in _COLUMN_STATEMENTS:  # one statement text an entity, made once
        _COLUMN_STATEMENTS[key] = _full_columns_statement(dialect, names, bool(after))
    params: dict[str, Any] = {"scopes": list(scopes), "entity": entity, "no": False, "room": room}
    if after:
        params["after"] = uuid.UUID(after)
    row = session.connection().execute(_COLUMN_STATEMENTS[key], params).one()
    last = str(uuid.UUID(row[1])) if row[1] else None
    return Page(int(row[0]), None, last, row[2] or "", (), row[3] or "")
