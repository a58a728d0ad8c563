"""The client side of sync on the local store: read the outbox, record acknowledgements,
prepare and finish a full re-download, queue again what a restored endpoint lost, compute the
verify digest. Applying the server's rows is ``sync.incoming``.

Rows from the server are written with Core statements (the outbox hook ignores them) on a
connection with foreign-key enforcement off: pages follow the server's order, not the parents-
first order SQLite would demand, and the server is authoritative for references.
"""

from __future__ import annotations

import json
import logging
import uuid
from collections import Counter
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import datetime
from typing import Any

from sqlalchemy import delete, func, select, update
from sqlalchemy.orm import Session

from int_desk.domain.ids import new_id
from int_desk.store import caseload_index, changes
from int_desk.store.base import APPLYING, utcnow
from int_desk.store.sync_tables import SyncConflict, SyncOutbox, SyncState
from int_desk.store.wire_entities import SYNCED_TABLES
from int_desk.store.workspace import Workspace, committed
from int_desk.sync.incoming import apply_rows, quarantined, rowcount
from int_desk.wire import protocol as P
from int_desk.wire import schema

log = logging.getLogger(__name__)

CURSOR = "cursor"
FULL_AFTER = "full_after"  # position inside an unfinished full download
FULL_CURSOR = "full_cursor"  # the snapshot cursor of that download
REDOWNLOAD = "redownload"  # "1" while a re-download is needed or under way
LAST_SYNC_AT = "last_sync_at"
LAST_RESULT = "last_result"
HASH_CHECKED_AT = "hash_checked_at"
GENERATION = "server_generation"  # the endpoint database's generation (changes on a restore)
CYCLE = "cycle_route"  # "1": the endpoint answers a whole cycle in one request (sync/client.py)
DEFERRED_INDEXES = "deferred_indexes"  # {name: CREATE INDEX statement} a first download dropped


@contextmanager
def apply_session(ws: Workspace) -> Iterator[Session]:
    """One transaction for server rows: outbox hook off, foreign keys unenforced."""
    assert ws.engine is not None
    with ws.engine.connect() as conn:
        conn.exec_driver_sql("PRAGMA foreign_keys = OFF")  # outside a transaction: takes effect
        conn.commit()
        try:
            with (
                ws.new_session(bind=conn, info={APPLYING: True}) as s,
                committed(s),
            ):
                # Take the write lock before reading which rows have unsent edits, so an edit
                # committed meanwhile on another connection cannot be overwritten by a server row.
                s.connection().exec_driver_sql("BEGIN IMMEDIATE")
                yield s
        finally:
            conn.rollback()
            conn.exec_driver_sql("PRAGMA foreign_keys = ON")
            conn.commit()


def state(s: Session, key: str) -> str | None:
    return s.scalar(select(SyncState.value).where(SyncState.key == key))


def set_state(s: Session, key: str, value: str | None) -> None:
    if value is None:
        s.execute(delete(SyncState).where(SyncState.key == key))
    else:
        s.merge(SyncState(key=key, value=value))


# --- outbox -----------------------------------------------------------------------------------


def pending_count(s: Session) -> int:
    return s.scalar(select(func.count()).where(SyncOutbox.status == "pending")) or 0


def pending_keys(s: Session) -> set[tuple[str, str]]:
    return {
        (e, i.hex)
        for e, i in s.execute(
            select(SyncOutbox.entity, SyncOutbox.entity_id).where(SyncOutbox.status == "pending")
        )
    }


def next_batch(ws: Workspace, limit: int) -> list[dict[str, Any]]:
    """The oldest pending ops, marked as sent (their content is fixed from now on)."""
    with ws.session() as s:
        rows = s.scalars(
            select(SyncOutbox)
            .where(SyncOutbox.status == "pending")
            .order_by(SyncOutbox.seq)
            .limit(limit)
        ).all()
        now = utcnow()
        ops = []
        for r in rows:
            if r.sent_at is None:
                r.sent_at = now
            op = {
                "op_id": str(r.op_id),
                "entity": r.entity,
                "id": str(r.entity_id),
                "kind": r.kind,
                "base_version": r.base_version,
                "fields": r.fields,
            }
            if r.resolves_conflict:
                op["resolves_conflict"] = str(r.resolves_conflict)
            ops.append(op)
        return ops


def reject_invalid(ws: Workspace, op_ids: list[str], reason: str) -> None:
    """Ops the server refused as malformed are parked as rejected so the rest can go."""
    with ws.session() as s:
        s.execute(
            update(SyncOutbox)
            .where(SyncOutbox.op_id.in_([uuid.UUID(o) for o in op_ids]))
            .values(status="rejected", reason=reason[:500])
        )


def record_results(ws: Workspace, results: list[dict[str, Any]]) -> list[str]:
    """Record a batch's acknowledgements in one transaction: drop (or park) each op, keep its
    conflicts, then apply the rows the server returned for rows left with no unsent op.

    A failure or crash half way rolls the batch's acknowledgements back together: the ops stay
    queued with their ids, the next cycle sends them again and the server answers op ids it has
    seen from their stored results (``replayed``), so nothing is applied twice and the same
    acknowledgements are recorded then. Returns the statuses."""
    out = []
    returned: dict[tuple[str, str], dict[str, Any]] = {}
    with apply_session(ws) as s:
        ids = [uuid.UUID(r["op_id"]) for r in results]
        ops = {o.op_id: o for o in s.scalars(select(SyncOutbox).where(SyncOutbox.op_id.in_(ids)))}
        pending: Counter[tuple[str, str]] = Counter(
            (e, i.hex)
            for e, i in s.execute(
                select(SyncOutbox.entity, SyncOutbox.entity_id).where(
                    SyncOutbox.status == "pending"
                )
            )
        )
        for result in results:
            status, row = _record_one(s, result, ops, pending)
            out.append(status)
            if row is not None:
                key = (row["e"], row["id"].replace("-", ""))
                if key not in returned or returned[key]["v"] <= row["v"]:
                    returned[key] = row  # several ops of one row: its newest state
        s.flush()
        # A row with another unsent op keeps its local values (that op's answer brings it).
        apply_rows(s, [row for key, row in returned.items() if pending[key] <= 0])
    return out


def _record_one(
    s: Session,
    result: dict[str, Any],
    ops: dict[uuid.UUID, SyncOutbox],
    pending: Counter[tuple[str, str]],
) -> tuple[str, dict[str, Any] | None]:
    status = result["status"]
    op = ops.get(uuid.UUID(result["op_id"]))
    if op is None or op.status != "pending":
        return "stale", None  # acknowledged before (e.g. a replayed batch)
    pending[(op.entity, op.entity_id.hex)] -= 1
    if status == P.REJECTED:
        op.status = "rejected"
        op.reason = str(result.get("reason", ""))[:500]
        log.info("op %s rejected by the server", op.op_id)
    else:
        for c in result.get("conflicts", ()):
            s.add(
                SyncConflict(
                    id=new_id(),
                    entity=op.entity,
                    entity_id=op.entity_id,
                    patient_id=_patient_of(s, op.entity, op.entity_id),
                    field=c["field"],
                    local_value=_local_side(op, c["field"]),
                    local_by=op.actor_id,
                    local_at=op.created_at,
                    remote_value=c.get("server_value"),
                    remote_by=str(c.get("server_by") or "")[:200],
                    remote_at=str(c.get("server_at") or "")[:40],
                    remote_version=c.get("server_version"),
                    status="open",
                )
            )
        s.delete(op)
    return str(status), result.get("row")


EDIT_OF_DELETED = "edit"  # local_value {"deleted": False, "edit": {...}}: see _local_side


def _local_side(op: SyncOutbox, field: str) -> Any:
    """This device's side of a conflict. An edit of a row deleted elsewhere conflicts on
    ``deleted`` while the op never set it: this side is then "not deleted, with these edits"
    (the server's row, deleted, replaces the local one; the edit lives on in the conflict and
    "keep mine" restores the row with it)."""
    if field == "deleted" and "deleted" not in op.fields:
        edits = {
            k: v for k, v in op.fields.items() if k not in schema.META_FIELDS and k != "deleted"
        }
        return {"deleted": False, EDIT_OF_DELETED: edits}
    return op.fields.get(field)


def _patient_of(s: Session, entity: str, entity_id: uuid.UUID) -> uuid.UUID | None:
    table = SYNCED_TABLES[entity]
    if entity == "patient":
        return entity_id
    if "patient_id" in table.c:
        return s.scalar(select(table.c.patient_id).where(table.c.id == entity_id))
    if "care_plan_id" in table.c:
        from int_desk.store.models import CarePlan

        return s.scalar(
            select(CarePlan.patient_id).where(
                CarePlan.id
                == select(table.c.care_plan_id).where(table.c.id == entity_id).scalar_subquery()
            )
        )
    return None


# --- full re-download -------------------------------------------------------------------------


def begin_redownload(s: Session) -> None:
    """Forget every row's server version except rows with outbox ops (those are kept as they are).

    Rows the download brings get their version back; rows still without one at the end are no
    longer on the server (or not in scope) and are removed.
    """
    kept = _rows_with_ops(s)
    for name in schema.ORDER:
        table = SYNCED_TABLES[name]
        ids = [uuid.UUID(h) for e, h in kept if e == name]
        stmt = update(table).values(server_version=None)
        if ids:
            stmt = stmt.where(table.c.id.not_in(ids))
        s.execute(stmt)
    changes.note_everything(s)


def finish_redownload(s: Session) -> int:
    kept = _rows_with_ops(s)
    removed = 0
    for name in reversed(schema.ORDER):
        table = SYNCED_TABLES[name]
        ids = [uuid.UUID(h) for e, h in kept if e == name]
        stmt = delete(table).where(table.c.server_version.is_(None))
        if ids:
            stmt = stmt.where(table.c.id.not_in(ids))
        removed += rowcount(s, stmt)
    if removed:
        changes.note_everything(s)
        log.info("re-download removed %d local rows the server no longer has in scope", removed)
    return removed


def defer_indexes(s: Session) -> None:
    """Before a first download: drop the synced tables' secondary indexes (their statements
    kept in ``sync_state``) and the caseload index's triggers, so every row is a plain insert.

    Maintaining a dozen indexes per row was a quarter of a first download's CPU; built once a
    table's rows are all in (``restore_indexes``, in a page's transaction) each is one sorted
    pass. Unique indexes stay: the inserts rely on them. A crash between pages leaves the rows
    so far, the statements and the download's position: the next sync resumes and builds them.
    The caseload index finds its triggers gone at its next refresh and rebuilds in full, as a
    first download's thousands of new people would have it do anyway.
    """
    conn = s.connection()
    tables = ", ".join(f"'{name}'" for name in SYNCED_TABLES)
    dropped: dict[str, list[str]] = {
        name: [table, sql]
        for name, table, sql in conn.exec_driver_sql(
            "SELECT name, tbl_name, sql FROM sqlite_master WHERE type = 'index' "
            f"AND sql IS NOT NULL AND sql NOT LIKE 'CREATE UNIQUE%' AND tbl_name IN ({tables})"
        )
    }
    for name in dropped:
        conn.exec_driver_sql(f'DROP INDEX "{name}"')
    earlier = state(s, DEFERRED_INDEXES)
    set_state(s, DEFERRED_INDEXES, json.dumps({**json.loads(earlier or "{}"), **dropped}))
    caseload_index.drop_triggers(s)


def restore_indexes(s: Session, before: str | None = None) -> int:
    """Build the indexes ``defer_indexes`` dropped (those still missing): all of them, or only
    those of the entities a full download has finished when it has reached ``before`` (its
    pages come in ``schema.ORDER``; an index built early is only maintained row by row for
    any later rows of its table). Returns how many were built."""
    saved = state(s, DEFERRED_INDEXES)
    if saved is None or (before is not None and before not in schema.ORDER[1:]):
        return 0
    done = None if before is None else schema.ORDER[: schema.ORDER.index(before)]
    conn = s.connection()
    present = {
        name
        for (name,) in conn.exec_driver_sql("SELECT name FROM sqlite_master WHERE type = 'index'")
    }
    waiting = json.loads(saved)
    for name, (table, sql) in list(waiting.items()):
        if done is None or table in done:
            if name not in present:
                conn.exec_driver_sql(sql)
            del waiting[name]
    set_state(s, DEFERRED_INDEXES, json.dumps(waiting) if waiting else None)
    return len(json.loads(saved)) - len(waiting)


def _rows_with_ops(s: Session) -> set[tuple[str, str]]:
    return {(e, i.hex) for e, i in s.execute(select(SyncOutbox.entity, SyncOutbox.entity_id))}


# --- after the endpoint was restored from a backup ----------------------------------------------


def resend_lost(
    s: Session, server: dict[tuple[str, str], tuple[int, dict[str, Any]]], since: int
) -> int:
    """Queue what this laptop holds that a restored endpoint lost; returns how many rows.

    ``server`` is every row the endpoint holds in this laptop's scope now, by (entity, id hex):
    its version and wire values. ``since``: versions above it were written after the restore.
    A row the endpoint no longer has is sent whole (an insert; pending edits of it are part of
    the row already). A row whose values differ is sent (the differing fields) when this
    laptop's version is newer than the endpoint's (the endpoint lost that change) or the
    endpoint's was written after the restore; its base is this laptop's version, so a field
    changed after the restore by someone else becomes a conflict, never silently overwritten.
    A row this laptop is simply behind on is left to the re-download. Reference data and teams
    (changed centrally) are not sent.
    """
    pending = pending_keys(s)
    queued = 0
    for name in schema.ORDER:  # parents before children: inserts need their parents
        if name in schema.GLOBAL_ENTITIES or name == "team":
            continue  # changed centrally only: the endpoint would refuse them
        ent = schema.ENTITIES[name]
        table = SYNCED_TABLES[name]
        rows = s.execute(select(table).where(table.c.server_version.is_not(None))).mappings()
        for row in rows:
            rid = row["id"] if isinstance(row["id"], uuid.UUID) else uuid.UUID(str(row["id"]))
            mine = schema.row_to_wire(ent, row)
            theirs = server.get((name, rid.hex))
            if theirs is None:
                if mine.get("deleted"):
                    continue  # deleted here, gone there: nothing to bring back
                s.execute(
                    delete(SyncOutbox).where(
                        SyncOutbox.entity == name,
                        SyncOutbox.entity_id == rid,
                        SyncOutbox.status == "pending",
                    )
                )
                _queue(s, name, rid, "insert", None, mine)
                queued += 1
                continue
            if (name, rid.hex) in pending:
                continue  # its unsent edit goes anyway (the server decides field by field)
            version, data = theirs
            if not (row["server_version"] > version or version > since):
                continue
            differing = {
                k: v
                for k, v in mine.items()
                if k not in schema.META_FIELDS and not _same(ent.columns[k].kind, v, data.get(k))
            }
            if differing:
                for meta in ("updated_at", "updated_by"):
                    if meta in mine:
                        differing[meta] = mine[meta]
                _queue(s, name, rid, "update", row["server_version"], differing)
                queued += 1
    if queued:
        log.warning("the endpoint was restored: rows it lost queued again: %d", queued)
    return queued


def _same(kind: str, mine: Any, theirs: Any) -> bool:
    """Equal in meaning (a time zone's spelling or a UUID's dashes aside)."""
    if mine == theirs:
        return True
    try:
        return bool(schema.wire_to_python(kind, mine) == schema.wire_to_python(kind, theirs))
    except (TypeError, ValueError, AttributeError):
        return False


def _queue(
    s: Session, entity: str, rid: uuid.UUID, kind: str, base: int | None, fields: dict[str, Any]
) -> None:
    s.add(
        SyncOutbox(
            op_id=new_id(), entity=entity, entity_id=rid, kind=kind, base_version=base,
            fields=fields, actor_id=None, status="pending", reason="",
        )
    )  # fmt: skip
    s.flush()


# --- verify -----------------------------------------------------------------------------------


def counts(s: Session) -> dict[str, int]:
    """Live synced rows per entity: real SQL counts of every table, in one statement (plus the
    rows set aside in quarantine, which the server counts: they are held, only not stored)."""
    sql = " UNION ALL ".join(
        f"SELECT '{name}', count(*) FROM \"{name}\" "
        "WHERE deleted = 0 AND server_version IS NOT NULL"
        for name in schema.ORDER
    )
    out = {name: int(n) for name, n in s.connection().exec_driver_sql(sql) if n}
    for entity, _rid in _held_aside(s):
        out[entity] = out.get(entity, 0) + 1
    return out


def _held_aside(s: Session) -> list[tuple[str, str]]:
    """Quarantined live rows with no live synced copy here (an older version is counted). A row
    set aside for an id this laptop cannot read is not: it cannot be counted as the row the
    server holds, nor its id hashed."""
    out = []
    for entity, rid, info in quarantined(s):
        if info.get("del") or entity not in schema.ENTITIES or not rid:
            continue
        present = (
            s.connection()
            .exec_driver_sql(
                f'SELECT 1 FROM "{entity}" WHERE id = ? AND deleted = 0 '
                "AND server_version IS NOT NULL",
                (rid,),
            )
            .first()
        )
        if present is None:
            out.append((entity, rid))
    return out


def digest(s: Session) -> dict[str, dict[str, Any]]:
    """Live synced rows per entity: count and XOR of the ids' low 64 bits (as the server keeps)."""
    out: dict[str, dict[str, Any]] = {}
    conn = s.connection()
    for name in schema.ORDER:
        count = 0
        xor = 0
        for (rid,) in conn.exec_driver_sql(
            f'SELECT id FROM "{name}" WHERE deleted = 0 AND server_version IS NOT NULL'
        ):
            count += 1
            xor ^= int(rid[16:32], 16)
        if count:
            out[name] = {"count": count, "xor": f"{xor:016x}"}
    for entity, rid in _held_aside(s):
        item = out.setdefault(entity, {"count": 0, "xor": "0" * 16})
        item["count"] += 1
        item["xor"] = f"{int(item['xor'], 16) ^ int(rid[16:32], 16):016x}"
    return out


def last_sync_at(s: Session) -> datetime | None:
    value = state(s, LAST_SYNC_AT)
    return datetime.fromisoformat(value) if value else None
