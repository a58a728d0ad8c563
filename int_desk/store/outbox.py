"""Every edit of a synced row lands in the outbox in the same transaction, for every service.

``install(sessionmaker)`` hooks ``after_flush``: by then column defaults are filled in (so an
insert carries every field), while attribute history still says which fields changed. The op
rows are written with Core on the flushing connection, so they commit or roll back with the edit.

Rules for code editing synced rows: use ORM objects (``session.add``, attribute assignment) -
Core ``update()``/``insert()`` statements bypass the outbox. Delete by setting ``deleted = True``
(a tombstone); ``session.delete`` of a synced row is sent as a tombstone too.
Code that writes rows received from the server sets ``session.info[APPLYING] = True``.
"""

from __future__ import annotations

import logging
import uuid
from typing import Any, cast

from sqlalchemy import Table, event, inspect, select, update
from sqlalchemy.orm import Session, sessionmaker

from int_desk.domain.ids import new_id
from int_desk.store.base import Synced, utcnow
from int_desk.store.sync_tables import SyncOutbox
from int_desk.wire.schema import ENTITIES, Entity, json_problem, text_problem, to_wire

log = logging.getLogger(__name__)
APPLYING = "int_desk_sync_applying"


def _entity(obj: Any) -> Entity:
    """The wire entity of a synced ORM object (its table's name)."""
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
    from int_desk.domain.errors import ValidationError

    for obj in (*session.new, *session.dirty):
        if not isinstance(obj, Synced):
            continue
        ent = _entity(obj)
        state = inspect(obj)
        for name, col in ent.columns.items():
            if col.kind not in ("str", "json") or not state.attrs[name].history.added:
                continue
            value = getattr(obj, name)
            if value is None:
                continue
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
        new_rows.append(
            {**op, "op_id": new_id(), "created_at": now, "status": "pending", "reason": ""}
        )
    if new_rows:
        conn.execute(table.insert(), new_rows)
    log.debug("outbox: %d ops recorded, %d coalesced", len(new_rows), len(ops) - len(new_rows))
