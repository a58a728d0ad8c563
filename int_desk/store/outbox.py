"""Every edit of a synced row lands in the outbox in the same transaction, for every service.

``install(sessionmaker)`` hooks ``after_flush``: by then column defaults are filled in (so an
insert carries every field), while attribute history still says which fields changed. The op
rows are written with Core on the flushing connection, so they commit or roll back with the edit.

Rules for code editing synced rows: use ORM objects (``session.add``, attribute assignment) -
Core ``update()``/``insert()`` statements bypass the outbox. The one exception is
``insert_rows``: many new rows of one table (a cohort import's people) written with one
``executemany``, their outbox entries with another, exactly as the ORM path would write them.
Delete by setting ``deleted = True`` (a tombstone); ``session.delete`` of a synced row is sent
as a tombstone too.
Code that writes rows received from the server sets ``session.info[APPLYING] = True``.
"""

from __future__ import annotations

import json
import logging
import uuid
from datetime import datetime
from functools import partial
from typing import Any, cast

from sqlalchemy import Table, event, inspect, select, update
from sqlalchemy.orm import Session, sessionmaker

from int_desk.domain.ids import new_id
from int_desk.domain.text import json_problem, text_problem
from int_desk.domain.wording import noun_for
from int_desk.store import changes
from int_desk.store.base import APPLYING, Synced, utcnow
from int_desk.store.sync_tables import SyncOutbox
from int_desk.wire.schema import ENTITIES, Column, Entity, to_wire, wire_to_storage

log = logging.getLogger(__name__)


def _entity(obj: Any) -> Entity:
    """The wire entity of a synced ORM object or model (its table's name)."""
    return ENTITIES[obj.__tablename__]


def install(factory: sessionmaker[Session]) -> None:
    # A flag on the factory itself, not ``event.contains``: SQLAlchemy's event registry is keyed
    # by id(), so a new sessionmaker at a dead one's address could look "already installed".
    if not getattr(factory, "_int_desk_outbox", False):
        event.listen(factory, "before_flush", _refuse_unstorable_text)
        event.listen(factory, "after_flush", _after_flush)
        factory._int_desk_outbox = True  # type: ignore[attr-defined]


def _refuse_unstorable_text(session: Session, _ctx: Any, _instances: Any) -> None:
    """Text the endpoint would refuse (lone surrogates, NULs) never reaches the store or the
    outbox, whichever service wrote it: a ValidationError naming the field, nothing written."""
    if session.info.get(APPLYING):
        return
    for obj in (*session.new, *session.dirty):
        if not isinstance(obj, Synced):
            continue
        ent = _entity(obj)
        state = inspect(obj)
        for name, col in ent.columns.items():
            if col.kind not in ("str", "json") or not state.attrs[name].history.added:
                continue
            _refuse_if_unstorable(name, col, getattr(obj, name))


def _refuse_if_unstorable(name: str, col: Column, value: Any) -> None:
    from int_desk.domain.errors import ValidationError

    if value is None or col.kind not in ("str", "json"):
        return
    problem = text_problem(value) if col.kind == "str" else json_problem(value)
    if problem:
        label = name.replace("_", " ").capitalize()
        raise ValidationError(f"{label} {problem}; it cannot be saved.", field=name)


def _wire(entity: Any, name: str, value: Any) -> Any:
    return to_wire(entity.columns[name].kind, value)


def _ops(session: Session) -> list[dict[str, Any]]:
    ops: list[dict[str, Any]] = []
    for obj in session.new:
        if isinstance(obj, Synced):
            ent = _entity(obj)
            fields = {n: _wire(ent, n, getattr(obj, n)) for n in ent.columns}
            ops.append(_op(ent.name, obj, "insert", None, fields))
    for obj in session.dirty:
        if not isinstance(obj, Synced):
            continue
        ent = _entity(obj)
        state = inspect(obj)
        fields = {}
        for name in ent.columns:
            hist = state.attrs[name].history
            if not hist.added:
                continue
            if hist.deleted and hist.deleted[0] == hist.added[0]:
                continue
            fields[name] = _wire(ent, name, hist.added[0])
        if not set(fields) - {"updated_at", "updated_by"}:
            continue
        fields.setdefault("updated_at", _wire(ent, "updated_at", state.dict.get("updated_at")))
        base = state.attrs["server_version"].history
        base_version = base.deleted[0] if base.deleted else obj.server_version
        ops.append(_op(ent.name, obj, "update", base_version, fields))
    for obj in session.deleted:
        if isinstance(obj, Synced):
            ent = _entity(obj)
            fields = {"deleted": True, "updated_at": _wire(ent, "updated_at", utcnow())}
            ops.append(_op(ent.name, obj, "update", obj.server_version, fields))
    return ops


def _op(
    entity: str, obj: Any, kind: str, base: int | None, fields: dict[str, Any]
) -> dict[str, Any]:
    return {
        "entity": entity,
        "entity_id": obj.id,
        "kind": kind,
        "base_version": base,
        "fields": fields,
        "actor_id": getattr(obj, "updated_by", None),
    }


def _new_op(op: dict[str, Any], now: datetime) -> dict[str, Any]:
    return {**op, "op_id": new_id(), "created_at": now, "status": "pending", "reason": ""}


def _after_flush(session: Session, _ctx: Any) -> None:
    if session.info.get(APPLYING):
        return
    ops = _ops(session)
    if not ops:
        return
    conn = session.connection()
    table = cast(Table, SyncOutbox.__table__)
    ids = list({op["entity_id"] for op in ops})
    open_ops: dict[tuple[str, uuid.UUID], Any] = {}
    for start in range(0, len(ids), 500):
        for row in conn.execute(
            select(table.c.seq, table.c.entity, table.c.entity_id, table.c.kind, table.c.fields)
            .where(
                table.c.entity_id.in_(ids[start : start + 500]),
                table.c.status == "pending",
                table.c.sent_at.is_(None),
            )
            .order_by(table.c.seq)
        ):
            open_ops[(row.entity, row.entity_id)] = row
    now = utcnow()
    new_rows = []
    for op in ops:
        key = (op["entity"], op["entity_id"])
        pending = open_ops.get(key)
        if pending is not None:
            # Not yet sent: fold this edit into it (an insert stays an insert).
            merged = dict(pending.fields)
            merged.update(op["fields"])
            conn.execute(update(table).where(table.c.seq == pending.seq).values(fields=merged))
            continue
        new_rows.append(_new_op(op, now))
    if new_rows:
        conn.execute(table.insert(), new_rows)
    log.debug("outbox: %d ops recorded, %d coalesced", len(new_rows), len(ops) - len(new_rows))


# Wire values whose SQLite form differs (as sync's client stores server rows).
_TO_STORAGE = {k: partial(wire_to_storage, k) for k in ("uuid", "bool", "json")}


def insert_rows(session: Session, model: type[Synced], rows: list[dict[str, Any]]) -> list[Any]:
    """Insert new rows of one synced table, and an outbox insert op for each, with one
    ``executemany`` each: what ``session.add`` of as many objects and a flush would write
    (every column, missing ones at their defaults; unstorable text refused naming the field),
    without an ORM object per row - a 50,000-row cohort import spent most of its time on those.

    ``rows`` give column values by name (``id`` optional). Values are bound in their wire form
    turned into SQLite's (as sync stores server rows), not through SQLAlchemy's types, which
    cost as much again. Returns the ids, in order. The rows are not in the session's identity
    map: query them if needed afterwards.
    """
    if not rows:
        return []
    session.flush()  # edits made before these keep their place in the outbox
    ent = _entity(model)
    applying = session.info.get(APPLYING)
    texts = {n: c for n, c in ent.columns.items() if c.kind in ("str", "json")}
    kinds = {n: c.kind for n, c in ent.columns.items()}
    # Defaults once per call (one instant for "now", as one flush), wire-form; conversions to
    # storage only where SQLite's form differs from the wire's (UUIDs, booleans, JSON).
    defaults = {n: to_wire(c.kind, c.default_value()) for n, c in ent.columns.items()}
    convert = [(n, _TO_STORAGE.get(k)) for n, k in kinds.items()]
    stored, ops, ids = [], [], []
    now = to_wire("datetime", utcnow())
    for row in rows:
        unknown = row.keys() - kinds.keys() - {"id"}
        if unknown:
            raise TypeError(f"{model.__name__} has no {noun_for(sorted(unknown), 'column')}")
        if not applying:  # as before a flush: the values given (defaults are storable)
            for name, col in texts.items():
                if name in row:
                    _refuse_if_unstorable(name, col, row[name])
        row_id = row.get("id") or new_id()
        ids.append(row_id)
        fields = dict(defaults)
        fields.update((n, to_wire(kinds[n], v)) for n, v in row.items() if n != "id")
        stored.append((row_id.hex, None, *(f(fields[n]) if f else fields[n] for n, f in convert)))
        if not applying:  # the op _ops() and _after_flush make for an added object
            actor = row.get("updated_by")
            ops.append(
                (new_id().hex, ent.name, row_id.hex, "insert", None, json.dumps(fields),
                 actor.hex if actor else None, now, "pending", "")
            )  # fmt: skip
    conn = session.connection()
    names = ", ".join(f'"{n}"' for n in ["id", "server_version", *kinds])
    marks = ", ".join("?" * (2 + len(kinds)))
    conn.exec_driver_sql(f'INSERT INTO "{ent.name}" ({names}) VALUES ({marks})', stored)
    changes.note_rows(session, ent.name, ids, rows)
    if ops:
        conn.exec_driver_sql(
            "INSERT INTO sync_outbox (op_id, entity, entity_id, kind, base_version, fields, "
            "actor_id, created_at, status, reason) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
            ops,
        )
    return ids
