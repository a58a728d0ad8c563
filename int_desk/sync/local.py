"""The client side of sync on the local store: read the outbox, record acknowledgements,
apply pulled pages, prepare and finish a full re-download, compute the verify digest.

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
from typing import Any, TypeGuard, cast

from sqlalchemy import CursorResult, UniqueConstraint, delete, func, select, update
from sqlalchemy.orm import Session

from int_desk.domain.ids import new_id
from int_desk.store import changes
from int_desk.store.base import APPLYING, utcnow
from int_desk.store.sync_tables import SyncConflict, SyncOutbox, SyncState
from int_desk.store.wire_entities import SYNCED_TABLES
from int_desk.store.workspace import Workspace, committed
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

_CONVERTERS: dict[str, list[tuple[str, Any]]] = {}
_UPSERT_SQL: dict[str, tuple[tuple[str, str], list[tuple[str, str]]]] = {}


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


def _has_pending(s: Session, entity: str, entity_id: uuid.UUID) -> bool:
    return (
        s.scalar(
            select(SyncOutbox.seq)
            .where(
                SyncOutbox.entity == entity,
                SyncOutbox.entity_id == entity_id,
                SyncOutbox.status == "pending",
            )
            .limit(1)
        )
        is not None
    )


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


# --- applying server rows ---------------------------------------------------------------------


def _upsert(entity: str) -> tuple[tuple[str, str], list[tuple[str, str]]]:
    """(UPDATE of an older local version, INSERT OR IGNORE of a new row), and the columns.

    Two plain statements rather than one ``INSERT ... ON CONFLICT DO UPDATE``: an upsert's
    conflict handling overrides the ``OR IGNORE`` inside other modules' SQLite triggers.
    Both take the same parameters: id, version, then every data column.
    """
    if entity not in _UPSERT_SQL:
        ent = schema.ENTITIES[entity]
        cols = [(c.name, c.kind) for c in ent.columns.values()]
        names = ["id", "server_version"] + [n for n, _k in cols]
        quoted = [f'"{n}"' for n in names]
        insert = (
            f'INSERT OR IGNORE INTO "{entity}" ({", ".join(quoted)}) '
            f"VALUES ({', '.join('?' for _ in names)})"
        )
        # Positional parameters in the same order as the insert: ?1 is the id, ?2 the version.
        sets = ", ".join(f"{q} = ?{i + 1}" for i, q in enumerate(quoted) if i > 0)
        update = (
            f'UPDATE "{entity}" SET {sets} WHERE id = ?1 '
            "AND (server_version IS NULL OR server_version < ?2)"
        )
        _UPSERT_SQL[entity] = ((update, insert), cols)
    return _UPSERT_SQL[entity]


def pending_keys(s: Session) -> set[tuple[str, str]]:
    return {
        (e, i.hex)
        for e, i in s.execute(
            select(SyncOutbox.entity, SyncOutbox.entity_id).where(SyncOutbox.status == "pending")
        )
    }


# Data columns whose wire form differs from SQLite's (every other value is stored as it came).
_CONVERT: dict[str, Any] = {
    "uuid": lambda v: v.replace("-", ""),
    "bool": lambda v: 1 if v else 0,
    "json": json.dumps,
}
_PLANS: dict[
    str, tuple[tuple[str, ...], tuple[tuple[int, Any], ...], tuple[tuple[int, str], ...]]
] = {}


def _plan(
    entity: str,
) -> tuple[tuple[str, ...], tuple[tuple[int, Any], ...], tuple[tuple[int, str], ...]]:
    """How a row of ``entity`` becomes its statements' parameters: the data columns in order,
    the converters of the few that change form and the dates, each by position. A page of
    thousands of rows then costs one C-level lookup per column and Python only where needed
    (the per-column work was most of a first download's CPU on the laptop)."""
    if entity not in _PLANS:
        cols = _upsert(entity)[1]
        names = tuple(n for n, _k in cols)
        convert = tuple((i, _CONVERT[k]) for i, (_n, k) in enumerate(cols) if k in _CONVERT)
        dates = tuple((i, n) for i, (n, k) in enumerate(cols) if k in ("date", "datetime"))
        _PLANS[entity] = (names, convert, dates)
    return _PLANS[entity]


QUARANTINE = "q:"  # sync_state keys "q:<entity>:<id hex>": rows from the server set aside


def apply_rows(
    s: Session,
    rows: list[dict[str, Any]],
    skip: set[tuple[str, str]] | None = None,
    quarantined: list[str] | None = None,
) -> tuple[int, int]:
    """Upsert server rows (newer versions only); rows with unsent local edits are skipped.

    A row this laptop cannot store (text that is not Unicode, a date it cannot convert: written
    on the server before it checked such values) is set aside in ``sync_state`` by entity, id
    and version, and its key appended to ``quarantined``; the rest of the page is applied, so
    one bad row never stops a team's sync. A newer version of the row (repaired on the server
    with ``int-desk admin repair-rows``) replaces the entry when it arrives.
    """
    by_entity: dict[str, list[tuple[Any, ...]]] = {}
    skipped = 0
    known = schema.ENTITIES
    bad: dict[tuple[str, str], tuple[int, str]] = {}
    tombstone: dict[tuple[str, str], bool] = {}
    for row in rows:
        entity = row["e"]
        rid = row["id"].replace("-", "")
        if skip and (entity, rid) in skip:
            skipped += 1
            continue
        if entity not in known:
            continue  # an entity this version does not know: ignored, never guessed at
        data = row["data"]
        data["deleted"] = row["del"]
        tombstone[(entity, rid)] = bool(row["del"])
        names, convert, dates = _plan(entity)
        values = [rid, row["v"], *map(data.get, names)]
        problem = _date_problem(entity, values, dates)
        if problem:
            bad[(entity, rid)] = (row["v"], problem)
            continue
        try:
            for i, f in convert:
                if values[i + 2] is not None:
                    values[i + 2] = f(values[i + 2])
        except (AttributeError, TypeError, ValueError):
            bad[(entity, rid)] = (row["v"], "a value of the wrong kind")
            continue
        by_entity.setdefault(entity, []).append(tuple(values))
    any_quarantined = _has_quarantine(s)  # (usually not: then no clean-up query per entity)
    applied = 0
    for entity in schema.ORDER:
        batch = by_entity.get(entity)
        if batch:
            try:
                with s.begin_nested():
                    _upsert_batch(s, entity, batch)
            except (UnicodeError, ValueError, OverflowError) as exc:
                # Some row cannot be stored: find it one row at a time, keep the others.
                log.warning(
                    "a page of %s rows could not be stored (%s)", entity, type(exc).__name__
                )
                kept = []
                for one in batch:
                    try:
                        with s.begin_nested():
                            _upsert_batch(s, entity, [one])
                        kept.append(one)
                    except (UnicodeError, ValueError, OverflowError) as err:
                        bad[(entity, one[0])] = (one[1], _kind_of(err))
                batch = kept
            applied += len(batch)
            _note_applied(s, entity, batch)
            if batch and any_quarantined:
                _forget_quarantined(s, entity, [one[0] for one in batch])
    for (entity, rid), (version, problem) in bad.items():
        log.warning("quarantined %s %s v%s from the server: %s", entity, rid, version, problem)
        key = f"{QUARANTINE}{entity}:{rid}"
        value = json.dumps(
            {"v": version, "del": tombstone.get((entity, rid), False), "problem": problem,
             "at": utcnow().isoformat()}
        )  # fmt: skip
        s.merge(SyncState(key=key, value=value))
        if quarantined is not None:
            quarantined.append(key)
    return applied, skipped


def _note_applied(s: Session, entity: str, batch: list[tuple[Any, ...]]) -> None:
    """Tell the change feed which table and people these server rows were (Core writes are
    not seen by its flush hook). A page of more people than it lists needs no ids read."""
    if not batch:
        return
    key = changes.person_key(entity)
    if key is None:
        changes.note(s, entity)
    elif len(batch) > changes.MAX_PEOPLE:
        changes.note(s, entity, all_patients=True)
    else:
        at = 0 if key == "id" else 2 + [n for n, _k in _upsert(entity)[1]].index(key)
        ids = [row[at] for row in batch]
        if key == "care_plan_id":
            changes.note(s, entity, care_plan_ids=[i for i in ids if i])
        else:
            changes.note(s, entity, ids)


def _upsert_batch(s: Session, entity: str, batch: list[tuple[Any, ...]]) -> None:
    conn = s.connection()
    update, insert = _upsert(entity)[0]
    # rowcount sums the rows each INSERT added itself (trigger writes not counted).
    inserted = conn.exec_driver_sql(insert, batch).rowcount
    if inserted != len(batch):
        conn.exec_driver_sql(update, batch)  # some rows were here: newer versions win
        _adopt_clashing(s, entity, batch, insert)


def _kind_of(exc: BaseException) -> str:
    if isinstance(exc, UnicodeError):
        return "text that is not valid Unicode"
    return f"a value that cannot be stored ({type(exc).__name__})"


_YEARS = (f"{schema.MIN_YEAR:04d}", f"{schema.MAX_YEAR:04d}")


def _date_problem(entity: str, values: list[Any], dates: tuple[tuple[int, str], ...]) -> str:
    """Dates and times a laptop could not convert (years outside MIN_YEAR..MAX_YEAR): checked
    on the year's digits only, so a page of thousands of rows costs next to nothing.
    ``values``: a row's parameters (id, version, data columns), ``dates`` from ``_plan``."""
    low, high = _YEARS
    for i, name in dates:
        value = values[i + 2]
        if value is not None and not (
            isinstance(value, str) and value[4:5] == "-" and low <= value[:4] <= high
        ):
            return f"{entity}.{name} is a date this laptop cannot use"
    return ""


def _forget_quarantined(s: Session, entity: str, rids: list[str]) -> None:
    """Rows applied now no longer need their quarantine entries."""
    keys = [f"{QUARANTINE}{entity}:{rid}" for rid in rids]
    for start in range(0, len(keys), 500):
        s.execute(delete(SyncState).where(SyncState.key.in_(keys[start : start + 500])))


def _has_quarantine(s: Session) -> bool:
    return (
        s.scalar(select(SyncState.key).where(SyncState.key.like(f"{QUARANTINE}%")).limit(1))
        is not None
    )


def quarantined(s: Session) -> list[tuple[str, str, dict[str, Any]]]:
    """Rows set aside: (entity, id hex, {"v", "problem", "at"})."""
    out = []
    for key, value in s.execute(
        select(SyncState.key, SyncState.value).where(SyncState.key.like(f"{QUARANTINE}%"))
    ):
        entity, _, rid = key[len(QUARANTINE) :].partition(":")
        out.append((entity, rid, json.loads(value)))
    return out


def _unique_keys(entity: str) -> list[tuple[str, ...]]:
    """Column sets (other than the id) that are unique in the local table."""
    table = SYNCED_TABLES[entity]
    keys = [tuple(c.name for c in u.columns) for u in table.constraints if _is_unique(u)]
    keys += [(c.name,) for c in table.columns if c.unique]
    return [k for k in keys if k != ("id",)]


def _count(s: Session, statement: Any) -> int:
    """Rows a DELETE or UPDATE touched."""
    return cast(CursorResult[Any], s.execute(statement)).rowcount


def _is_unique(constraint: Any) -> TypeGuard[UniqueConstraint]:
    return isinstance(constraint, UniqueConstraint)


def _adopt_clashing(s: Session, entity: str, batch: list[tuple[Any, ...]], insert: str) -> None:
    """Server rows the ``INSERT OR IGNORE`` dropped because a local row holds their unique
    value (a team or place name, an NHS number) under another id.

    A local row never synced (a workspace made on its own, then connected: its own "Bicester
    INT") is the same thing as the server's: its references move to the server's id and the
    server's row takes its place. Two *synced* rows clashing (the same NHS number on two server
    records) is left as it is and logged by id; the verify reports it each cycle.
    """
    keys = _unique_keys(entity)
    if not keys:
        return
    conn = s.connection()
    ids = [row[0] for row in batch]
    present: set[str] = set()
    for start in range(0, len(ids), 500):
        chunk = ids[start : start + 500]
        present.update(
            r[0]
            for r in conn.exec_driver_sql(
                f'SELECT id FROM "{entity}" WHERE id IN ({", ".join("?" * len(chunk))})',
                tuple(chunk),
            )
        )
    columns = ["id", "server_version"] + [n for n, _k in _upsert(entity)[1]]
    for row in batch:
        if row[0] in present:
            continue
        values = dict(zip(columns, row, strict=True))
        for key in keys:
            where = " AND ".join(f'"{c}" = ?' for c in key)
            local = conn.exec_driver_sql(
                f'SELECT id, server_version FROM "{entity}" WHERE {where}',
                tuple(values[c] for c in key),
            ).first()
            if local is None:
                continue
            if local[1] is not None:
                log.warning("%s %s clashes with synced %s %s", entity, row[0], entity, local[0])
                break
            _repoint(s, entity, local[0], row[0], _wire_values(entity, values))
            conn.exec_driver_sql(insert, [row])
            log.info("local %s %s adopted the server's %s", entity, local[0], row[0])
            break


def _wire_values(entity: str, values: dict[str, Any]) -> dict[str, Any]:
    """Storage values of a server row (as ``apply_rows`` binds them) back in wire form."""
    out = {}
    for name, kind in _upsert(entity)[1]:
        v = values.get(name)
        if v is not None and kind == "uuid":
            v = str(uuid.UUID(v))
        elif v is not None and kind == "bool":
            v = bool(v)
        elif v is not None and kind == "json":
            v = json.loads(v)
        out[name] = v
    return out


def _repoint(s: Session, entity: str, old: str, new: str, server: dict[str, Any]) -> None:
    """Move every reference from local row ``old`` to ``new``, then delete ``old``.

    Local edits waiting on ``old`` (or refused because the server did not know it) are queued
    again against ``new``; where this laptop's own values of the row differ from the server's,
    an update with no base version goes too, so the server keeps both as conflicts for a person
    to decide — neither copy's values are silently dropped.
    """
    from int_desk.store.base import Base

    conn = s.connection()
    for table in Base.metadata.sorted_tables:
        for fk in table.foreign_keys:
            if fk.column.table.name == entity and fk.column.name == "id":
                col = fk.parent.name
                conn.exec_driver_sql(
                    f'UPDATE "{table.name}" SET "{col}" = ? WHERE "{col}" = ?', (new, old)
                )
    conn.exec_driver_sql(f'DELETE FROM "{entity}" WHERE id = ?', (old,))
    changes.note_everything(s)  # references moved in any table
    old_id, new_id_ = uuid.UUID(old), uuid.UUID(new)
    mine = s.scalars(
        select(SyncOutbox).where(SyncOutbox.entity == entity, SyncOutbox.entity_id == old_id)
    ).all()
    if entity not in schema.GLOBAL_ENTITIES and entity != "team":
        values: dict[str, Any] = {}
        for op in mine:
            values.update(op.fields)
        differing = {
            k: v
            for k, v in values.items()
            if k not in schema.META_FIELDS and k != "deleted" and server.get(k) != v
        }
        if differing:
            s.add(
                SyncOutbox(
                    op_id=new_id(), entity=entity, entity_id=new_id_, kind="update",
                    base_version=0, fields=differing, actor_id=mine[0].actor_id if mine else None,
                    status="pending", reason="",
                )
            )  # fmt: skip
    for op in mine:
        s.delete(op)
    old_text, new_text = str(old_id), str(new_id_)
    for op in s.scalars(select(SyncOutbox).where(SyncOutbox.status.in_(("pending", "rejected")))):
        if any(v == old_text for v in op.fields.values()):
            op.fields = {k: new_text if v == old_text else v for k, v in op.fields.items()}
            if op.status == "rejected" or op.sent_at is not None:
                op.op_id, op.sent_at = new_id(), None  # new content: a new op id
            op.status, op.reason = "pending", ""
    s.flush()


def purge_patients(s: Session, patient_ids: list[str]) -> int:
    """Remove every local row about patients who left this device's scope."""
    if not patient_ids:
        return 0
    from int_desk.store import models as m

    ids = [uuid.UUID(p) for p in patient_ids]
    removed = 0
    plans = select(m.CarePlan.id).where(m.CarePlan.patient_id.in_(ids))
    for model in (m.Goal, m.PlanAction):
        removed += _count(s, delete(model).where(model.care_plan_id.in_(plans)))
    for name in reversed(schema.ORDER):
        table = SYNCED_TABLES[name]
        if "patient_id" in table.c and name != "patient":
            removed += _count(s, delete(table).where(table.c.patient_id.in_(ids)))
    removed += _count(s, delete(m.Patient).where(m.Patient.id.in_(ids)))
    for name in schema.ORDER:
        if changes.person_key(name):
            changes.note(s, name, ids)
    log.info("purged %d patients (%d rows) that left this device's scope", len(ids), removed)
    return removed


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
        removed += _count(s, stmt)
    if removed:
        changes.note_everything(s)
        log.info("re-download removed %d local rows the server no longer has in scope", removed)
    return removed


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
    """Quarantined live rows with no live synced copy here (an older version is counted)."""
    out = []
    for entity, rid, info in quarantined(s):
        if info.get("del") or entity not in schema.ENTITIES:
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
