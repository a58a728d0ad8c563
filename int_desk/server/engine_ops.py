"""The endpoint's sync rules on a database session: push (merge or conflict), pull, verify.

Called by the FastAPI routes and by the admin commands; no HTTP here. Logs ids and counts only.
The rows a push reads and writes (its batch, the team lock, the digests) are
``int_desk.server.push_batch``; this module decides what each op does to them.
"""

from __future__ import annotations

import json
import logging
import uuid
from dataclasses import dataclass, field, replace
from typing import Any, cast

from sqlalchemy import Table, and_, bindparam, or_, select, text, true
from sqlalchemy.orm import Session

from int_desk.server import audit, pull_sql, sync_audit
from int_desk.server import cursor as cursors
from int_desk.server.access import author_name, patient_of
from int_desk.server.access import verdict as access_verdict
from int_desk.server.models import (
    GLOBAL_SCOPE,
    AppliedOp,
    Record,
    ScopeDigest,
    ScopeExit,
    ScopeSeq,
    utcnow_text,
)
from int_desk.server.practices import push_awaiting_practice
from int_desk.server.principal import principal
from int_desk.server.push_batch import Batch, Collision, Stored, parent_keys, patients_by_nhs
from int_desk.server.read_scope import (
    FULL_SIGNATURE,
    REFERRED_PATIENT_ENTITIES,
    REFERRED_TEAM_ENTITIES,
    ReadScope,
    read_scope,
    restrict_write,
    scope_of,
)
from int_desk.wire import protocol as P
from int_desk.wire import schema, values

log = logging.getLogger(__name__)

# The table behind the model, for the set-based Core statements of a push.
APPLIED = cast(Table, AppliedOp.__table__)

# Fields that place a row in a patient's or team's scope: a client may not change them.
SCOPE_FIELDS = frozenset({"patient_id", "team_id", "care_plan_id", "huddle_id", "cohort_id"})


@dataclass(frozen=True)
class Caller:
    user_id: uuid.UUID
    user_name: str
    device_id: uuid.UUID
    teams: tuple[str, ...]  # team ids as text, sorted
    author: str = ""  # the member's name a change is stamped with (``access.author_name``)
    kind: str = "person"  # the login's kind (principal.LOGIN_KINDS)

    @property
    def readable(self) -> tuple[str, ...]:
        return (*self.teams, GLOBAL_SCOPE)


class PayloadInvalid(ValueError):
    """A pushed batch does not fit the schema; nothing was applied (HTTP 422)."""

    def __init__(self, problems: list[dict[str, Any]]) -> None:
        super().__init__("invalid push payload")
        self.problems = problems


class CursorGone(Exception):
    """The cursor is older than the tombstone window or unreadable (HTTP 410)."""


# --- helpers ----------------------------------------------------------------------------------


def lock_scopes(session: Session, scopes: tuple[str, ...]) -> None:
    """PostgreSQL: per-team advisory locks for this transaction, so seq order = commit order.

    SQLite gets the same effect from BEGIN IMMEDIATE (one writer at a time).
    """
    if session.get_bind().dialect.name != "postgresql":
        return
    for scope in sorted(scopes):
        session.execute(
            text("SELECT pg_advisory_xact_lock(hashtextextended(:k, 0))"),
            {"k": f"int-desk:{scope}"},
        )


class _Seqs:
    def __init__(self, session: Session) -> None:
        self.session = session
        self.rows: dict[str, ScopeSeq] = {}

    def row(self, scope: str) -> ScopeSeq:
        if scope not in self.rows:
            row = self.session.get(ScopeSeq, scope)
            if row is None:
                row = ScopeSeq(scope=scope, last_seq=0, min_seq=0)
                self.session.add(row)
            self.rows[scope] = row
        return self.rows[scope]

    def next(self, scope: str) -> int:
        row = self.row(scope)
        row.last_seq = (row.last_seq or 0) + 1
        return row.last_seq


class _Digests:
    def __init__(self, session: Session) -> None:
        self.session = session
        self.rows: dict[tuple[str, str], ScopeDigest] = {}

    def toggle(self, scope: str, entity: str, record_id: uuid.UUID, delta: int) -> None:
        key = (scope, entity)
        if key not in self.rows:
            row = self.session.get(ScopeDigest, key)
            if row is None:
                row = ScopeDigest(scope=scope, entity=entity, count=0, xor="0" * 16)
                self.session.add(row)
            self.rows[key] = row
        row = self.rows[key]
        row.count = (row.count or 0) + delta
        row.xor = f"{int(row.xor, 16) ^ schema.id_hash_part(record_id):016x}"


# --- push -------------------------------------------------------------------------------------


def validate(req: P.PushRequest) -> list[dict[str, Any]]:
    """Canonical fields per op; raise PayloadInvalid listing every problem (no values)."""
    problems: list[dict[str, Any]] = []
    out: list[dict[str, Any]] = []
    for i, op in enumerate(req.ops):
        ent = schema.ENTITIES.get(op.entity)
        if ent is None:
            problems.append({"op": i, "msg": f"unknown entity {op.entity[:40]!r}"})
            out.append({})
            continue
        fields: dict[str, Any] = {}
        try:
            fields = values.check_fields(ent, op.fields)
        except values.InvalidValue as exc:
            problems += [{"op": i, "field": f[:64], "msg": msg} for f, msg in exc.problems]
        if op.kind == "insert":
            missing = sorted(ent.required - op.fields.keys())
            if missing:
                problems.append({"op": i, "msg": f"insert lacks required fields {missing}"})
        out.append(fields)
    if problems:
        raise PayloadInvalid(problems)
    return out


def push(
    session: Session, caller: Caller, req: P.PushRequest, *, careful: bool = False
) -> list[dict[str, Any]]:
    """Apply a batch in one transaction; replayed op ids get their stored result.

    Set-based: one query reads the batch's stored results, one its rows (locked for the merge
    on PostgreSQL), the write rules and the merge run on those in memory, and the team lock is
    taken only to number the changes and write them (a few statements) until the commit.
    Raises ``Collision`` when ids of another team's rows or results are met (see ``Batch``).
    """
    all_fields = validate(req)
    postgres = session.get_bind().dialect.name == "postgresql"
    who = principal(session, caller.user_id, caller.teams)
    reader = scope_of(session, who)
    # Whose change a conflict names: the team member's name, not the login.
    caller = replace(
        caller, user_name=caller.author or author_name(session, caller.user_id, caller.teams)
    )
    batch = Batch(session, caller, careful)
    # A new patient's team: from a cohort membership created in the same batch.
    enrolments = {
        f.get("patient_id"): f.get("cohort_id")
        for op, f in zip(req.ops, all_fields, strict=True)
        if op.entity == "cohort_membership" and op.kind == "insert"
    }
    # Exactly once without a lock: a batch sent again while the first is still being applied
    # waits for its rows, then clashes on the stored results' key and is answered from them.
    stored_results = _stored_results(session, caller, [o.op_id for o in req.ops], careful)
    batch.load({(o.entity, o.id) for o in req.ops}, lock=postgres)
    batch.load(parent_keys(req, all_fields, enrolments), lock=False)
    existing_nhs = patients_by_nhs(session, caller, req, all_fields)
    results = []
    touched: list[tuple[str, uuid.UUID] | None] = []
    applied: list[dict[str, Any]] = []
    seen: set[uuid.UUID] = set()
    for op, fields in zip(req.ops, all_fields, strict=True):
        stored = stored_results.get(op.op_id)
        if stored is not None or op.op_id in seen:
            if stored is None or stored.device_id != caller.device_id:
                result = _rejected(op, "op id already used by another device")
                touched.append(None)
            else:
                result = json.loads(stored.result)
                result["replayed"] = True
                keep = result.pop("_row", False)
                touched.append((stored.entity, stored.record_id) if keep else None)
            results.append(result)
            continue
        seen.add(op.op_id)
        rec = batch.get(op.entity, op.id)
        if rec is None and op.kind != "insert" and not careful:
            raise Collision("an update names a row the caller's teams do not hold")
        duplicate = op.entity == "patient" and existing_nhs.get(fields.get("nhs_number") or "")
        # A practice awaiting a name, from a first import (practices.py); else the write rules,
        # on the stored row and the row this op would make (write_rules.py).
        practice = push_awaiting_practice(session, who, caller, op, fields)
        verdict = access_verdict(
            who,
            reader,
            entity=op.entity,
            record_id=op.id,
            fields=fields,
            old=rec.data if rec is not None else None,
            patient=patient_of(
                op.entity, op.id, fields, rec.patient_id if rec else None,
                lambda plan: getattr(batch.get("care_plan", plan), "patient_id", None),
            ),
        )  # fmt: skip
        if practice is not None:
            result = practice
        elif verdict.reason:
            result = _rejected(op, verdict.reason)
        elif duplicate and duplicate != str(op.id) and rec is None:
            result = _rejected(op, DUPLICATE_PATIENT)
        else:
            fields = restrict_write(
                session, op.entity, op.kind, fields, verdict.unreadable, batch_plan(batch)
            )
            result = _apply(batch, caller, op, fields, enrolments)
        if result["status"] == P.REJECTED:  # every refusal, whichever rule made it
            audit.record(
                session,
                audit.WRITE_DENIED,
                user_id=caller.user_id,
                device_id=caller.device_id,
                entity=op.entity,
                record_id=op.id,
                detail=f"{result['reason']} (fields: {', '.join(sorted(fields))[:300]})",
                chained=False,  # (the op's own entry below is chained, refusals included)
            )
        key = (op.entity, op.id) if result.get("_row") else None
        applied.append(
            {
                "op_id": op.op_id, "device_id": caller.device_id, "user_id": caller.user_id,
                "entity": op.entity, "record_id": op.id, "resolves_conflict": op.resolves_conflict,
                "scope": _result_scope(batch, caller, key), "applied_at": utcnow_text(),
                "result": result,
            }
        )  # fmt: skip
        results.append(result)
        touched.append(key)
    batch.number()
    for a in applied:  # versions are known now: each result is kept as it was answered
        key = (a["entity"], a["record_id"])
        if a["result"].get("_row") and key in batch.rows:
            a["result"]["version"] = batch.rows[key].version
        a["result"] = json.dumps(a["result"])
    batch.write(applied)
    sync_audit.pushed(session, caller, req.ops, results, batch.rows)  # (chained at commit)
    # The row each result carries is the record's state now (fresh even on replay).
    for result, key in zip(results, touched, strict=True):
        result.pop("_row", None)
        if key is None:
            continue
        row = batch.rows.get(key) or batch.get(*key)
        if row is None:  # a practice awaiting a name (directory.save, through the ORM)
            rec_orm = session.get(Record, key)
            row = _stored_of(rec_orm) if rec_orm is not None else None
        if row is not None and row.scope in caller.readable:
            result["version"] = row.version
            change = _row_json(row, reader)
            if change is not None:
                result["row"] = change
    counts: dict[str, int] = {}
    for r in results:
        counts[r["status"]] = counts.get(r["status"], 0) + 1
    log.info("push device=%s ops=%d %s", caller.device_id, len(req.ops), counts)
    return results


_APPLIED = select(
    AppliedOp.op_id, AppliedOp.device_id, AppliedOp.entity, AppliedOp.record_id, AppliedOp.result
).where(AppliedOp.op_id.in_(bindparam("ops", expanding=True)))
_APPLIED_IN_TEAMS = _APPLIED.where(AppliedOp.scope.in_(bindparam("teams", expanding=True)))


def _stored_results(
    session: Session, caller: Caller, op_ids: list[uuid.UUID], careful: bool
) -> dict[uuid.UUID, Any]:
    """The stored result of each op id seen before (within the caller's teams)."""
    if careful:
        rows = session.execute(_APPLIED, {"ops": op_ids})
    else:
        rows = session.execute(_APPLIED_IN_TEAMS, {"ops": op_ids, "teams": list(caller.teams)})
    return {row.op_id: row for row in rows}


def batch_plan(batch: Batch) -> Any:
    """A care plan of the batch's scopes by id, as ``restrict_write`` asks for one."""

    def plan(plan_id: uuid.UUID) -> tuple[uuid.UUID | None, dict[str, Any]] | None:
        row = batch.get("care_plan", plan_id)
        return (row.patient_id, row.data) if row is not None else None

    return plan


def _result_scope(batch: Batch, caller: Caller, key: tuple[str, uuid.UUID] | None) -> str:
    """Where an op's stored result is kept: its row's team, else the caller's first team."""
    row = batch.rows.get(key) if key is not None else None
    if row is not None and row.scope in caller.teams:
        return row.scope
    return caller.teams[0] if caller.teams else GLOBAL_SCOPE


def _stored_of(rec: Record) -> Stored:
    return Stored(
        rec.entity, rec.id, rec.scope, rec.patient_id, rec.version, rec.deleted,
        json.loads(rec.data), json.loads(rec.field_meta), rec.updated_at,
    )  # fmt: skip


def _row_json(row: Stored, reader: ReadScope) -> dict[str, Any] | None:
    patient = str(row.patient_id) if row.patient_id is not None else None
    data = reader.row(row.entity, patient, row.data)
    if data is None:
        return None
    return {"e": row.entity, "id": str(row.id), "v": row.version, "del": row.deleted, "data": data}


DUPLICATE_PATIENT = (
    "duplicate: a person with this NHS number is already on your team's records; "
    "this laptop merges its copy into theirs on the next sync"
)


def _rejected(op: P.Op, reason: str) -> dict[str, Any]:
    return {"op_id": str(op.op_id), "status": P.REJECTED, "reason": reason}


def _resolve_scope(
    batch: Batch,
    caller: Caller,
    entity: str,
    record_id: uuid.UUID,
    fields: dict[str, Any],
    enrolments: dict[Any, Any],
) -> tuple[str | None, uuid.UUID | None, str]:
    """(scope, patient id, reason if refused) for a new row."""

    def parent(kind: str, key: str) -> Stored | None:
        value = fields.get(key)
        return batch.get(kind, uuid.UUID(value)) if value else None

    if entity in schema.GLOBAL_ENTITIES or entity == "team":
        return None, None, "reference data is managed centrally"
    scope: str | None = None
    patient: uuid.UUID | None = None
    if entity in ("cohort", "huddle", "team_membership"):
        scope = fields.get("team_id")
    elif entity == "patient":
        patient = record_id
        cohort = enrolments.get(str(record_id))
        rec = batch.get("cohort", uuid.UUID(cohort)) if cohort else None
        if rec is not None:
            scope = rec.scope
        elif len(caller.teams) == 1:
            scope = caller.teams[0]
        else:
            return None, None, "a new patient needs a cohort membership in the same batch"
    elif entity in ("goal", "plan_action"):
        rec = parent("care_plan", "care_plan_id")
        scope, patient = (rec.scope, rec.patient_id) if rec else (None, None)
    elif entity == "huddle_attendee":
        rec = parent("huddle", "huddle_id")
        scope = rec.scope if rec else None
    elif entity == "saved_view":
        scope = caller.teams[0] if caller.teams else None
    elif "patient_id" in fields:
        rec = parent("patient", "patient_id")
        scope, patient = (rec.scope, rec.id) if rec else (None, None)
    if scope is None:
        return None, None, "the row's patient or team is not known to the server"
    if scope not in caller.teams:
        return None, None, "forbidden: not one of your teams"
    return scope, patient, ""


def _apply(
    batch: Batch,
    caller: Caller,
    op: P.Op,
    fields: dict[str, Any],
    enrolments: dict[Any, Any],
) -> dict[str, Any]:
    now = utcnow_text()
    stamp = [0, str(caller.device_id), caller.user_name, now]
    rec = batch.get(op.entity, op.id)
    if rec is None:
        if op.kind != "insert":
            return _rejected(op, "the server has no such row (it may have been removed)")
        scope, patient, reason = _resolve_scope(batch, caller, op.entity, op.id, fields, enrolments)
        if scope is None:
            return _rejected(op, reason)
        deleted = bool(fields.get("deleted", False))
        rec = Stored(
            op.entity, op.id, scope, patient, 0, deleted, dict(fields), {}, now,
            new=True, changed=True,
        )  # fmt: skip
        batch.numbers.next(scope, rec, stamp)
        rec.meta = {f: stamp for f in fields}
        batch.add(rec)
        if not deleted:
            batch.toggle(scope, op.entity, op.id, +1)
        return {"op_id": str(op.op_id), "status": P.APPLIED, "version": 0, "_row": True}

    if rec.scope not in caller.teams:
        if rec.scope == GLOBAL_SCOPE:
            return _rejected(op, "reference data is managed centrally")
        return _rejected(op, "forbidden: not one of your teams")
    data = rec.data
    meta = rec.meta
    base = op.base_version or 0
    device = str(caller.device_id)
    loaded_version = rec.version

    def changed_elsewhere(name: str) -> bool:
        m = meta.get(name)
        return bool(m and m[0] > base and m[1] != device)

    apply: dict[str, Any] = {}
    conflicts: list[dict[str, Any]] = []

    def conflict(name: str) -> None:
        m = meta.get(name) or [loaded_version, None, "", rec.updated_at]
        conflicts.append(
            {
                "field": name,
                "server_value": data.get(name),
                "server_version": m[0],
                "server_by": m[2],
                "server_at": m[3],
            }
        )

    content_changed_elsewhere = any(
        changed_elsewhere(n) for n in meta if n not in schema.META_FIELDS and n != "deleted"
    )
    append_only = op.entity in schema.APPEND_ONLY
    for name, value in fields.items():
        if name in SCOPE_FIELDS and value != data.get(name):
            return _rejected(op, f"moving a row to another {name[:-3]} is not supported")
    for name, value in fields.items():
        if value == data.get(name):
            continue
        if name == "deleted":
            # A delete never silently beats an edit, and an edit never silently undoes a delete
            # (append-only rows too: a deleted note's correction would vanish with it).
            if (value and content_changed_elsewhere) or (not value and changed_elsewhere(name)):
                conflict(name)
            else:
                apply[name] = value
        elif name in schema.META_FIELDS or append_only:
            apply[name] = value
        elif changed_elsewhere(name):
            conflict(name)
        else:
            apply[name] = value
    if rec.deleted and changed_elsewhere("deleted") and "deleted" not in fields:
        # An edit of a row deleted elsewhere: nothing applied, the delete is the conflict; the
        # laptop keeps its edit in the conflict, and "keep mine" restores the row with it.
        if any(n not in schema.META_FIELDS for n in apply):
            conflict("deleted")
            apply = {}
    if any(n not in schema.META_FIELDS for n in apply):
        batch.numbers.next(rec.scope, rec, stamp)
        was_deleted = rec.deleted
        data.update(apply)
        for name in apply:
            meta[name] = stamp
        rec.deleted = bool(data.get("deleted", False))
        rec.updated_at = now
        rec.changed = True
        if rec.deleted != was_deleted:
            batch.toggle(rec.scope, rec.entity, rec.id, -1 if rec.deleted else +1)
    result: dict[str, Any] = {
        "op_id": str(op.op_id),
        "status": P.CONFLICT if conflicts else P.APPLIED,
        "version": rec.version,
        "_row": True,
    }
    if conflicts:
        result["conflicts"] = conflicts
    return result


# --- pull -------------------------------------------------------------------------------------

_CHANGE_COLUMNS = (
    Record.entity,
    Record.id,
    Record.version,
    Record.deleted,
    Record.data,
    Record.patient_id,
)


# Reads of a pull and a verify: built once, run on the session's connection (Core, past the
# ORM's statement handling: these read no row a session holds as an object).
_SEQ_NOW = select(ScopeSeq.scope, ScopeSeq.last_seq, ScopeSeq.min_seq).where(
    ScopeSeq.scope.in_(bindparam("scopes", expanding=True))
)
_DIGESTS_OF = select(ScopeDigest.entity, ScopeDigest.count, ScopeDigest.xor).where(
    ScopeDigest.scope.in_(bindparam("scopes", expanding=True))
)


def _seq_now(session: Session, scopes: tuple[str, ...]) -> dict[str, tuple[int, int]]:
    rows = session.connection().execute(_SEQ_NOW, {"scopes": list(scopes)})
    found = {scope: (last, low) for scope, last, low in rows}
    return {s: found.get(s, (0, 0)) for s in scopes}


def _changes(reader: ReadScope, rows: Any, people: set[Any]) -> list[str]:
    """Changes as JSON text; ``people`` gets the patient of each row sent (the audit's)."""
    out = []
    for r in rows:
        change = reader.change_json(*r)
        if change is not None:
            out.append(change)
            people.add(r[5])
    return out


def _cursor(key: bytes, reader: ReadScope, position: dict[str, int]) -> str:
    payload: dict[str, Any] = {"s": position}
    if not reader.passes_everything:
        payload["f"] = reader.signature
    if reader.referred_only:
        payload["p"] = sorted(reader.patients)
    return cursors.encode(key, payload)


def pull(session: Session, caller: Caller, key: bytes, req: P.PullRequest) -> str:
    """One page of changes as JSON text (built from stored JSON, no re-encoding), cut to what
    the caller's role may read (``read_scope``)."""
    reader = read_scope(session, caller.user_id, caller.teams)
    if req.full:
        return _full_page(session, caller, reader, key, req)
    if req.cursor is None:
        raise CursorGone("no cursor: download in full first")
    try:
        token = cursors.decode(key, req.cursor)
    except cursors.BadCursor as exc:
        raise CursorGone(str(exc)) from None
    position = token.get("s")
    if not isinstance(position, dict):
        raise CursorGone("cursor is not readable")
    if token.get("f", FULL_SIGNATURE) != reader.signature:
        raise CursorGone("what this user may see has changed")
    now = _seq_now(session, caller.readable)
    for scope, (_last, low) in now.items():
        if int(position.get(scope, 0)) < low:
            raise CursorGone("cursor is older than the server keeps deletions")
    parts: list[str] = []
    purged: list[str] = []
    seen: set[Any] = set()  # patients of rows sent one by one; ``people``: of pages from SQL
    people: list[str] = []
    if reader.referred_only:  # people newly referred arrive whole; those no longer, leave
        before = {str(p) for p in token.get("p") or ()}
        purged.extend(sorted(before - reader.patients))
        arrived = sorted(reader.patients - before)
        if arrived:
            parts.extend(
                _changes(
                    reader,
                    session.execute(
                        select(*_CHANGE_COLUMNS)
                        .where(
                            Record.scope.in_(caller.readable),
                            Record.patient_id.in_([uuid.UUID(p) for p in arrived]),
                            Record.deleted.is_(False),
                        )
                        .order_by(Record.version)
                    ),
                    seen,
                )
            )
    has_more = False
    new_pos = {s: int(position.get(s, 0)) for s in caller.readable}
    exit_ranges: list[Any] = []
    in_sql = reader.passes_everything and pull_sql.supported(session)
    counted = 0  # changes in ``parts`` joined by the database (several per part)
    for scope in caller.readable:
        since = new_pos[scope]
        last_committed = now[scope][0]
        if since >= last_committed:
            continue  # nothing committed in this scope since the cursor: no query
        room = req.limit - (counted if in_sql else len(parts))
        if room <= 0:
            has_more = True
            continue
        if in_sql:  # the page is written by the database (pull_sql)
            page = pull_sql.changes(session, scope, since, last_committed, room)
            if page.rows:
                parts.append(page.changes)
                counted += page.rows
                people.append(page.people)
            purged.extend(page.exits)
            if page.rows >= room:  # (perhaps more: the next pull says)
                has_more = True
                new_pos[scope] = int(page.top or since)
            else:
                new_pos[scope] = last_committed
            continue
        rows = session.execute(
            select(*_CHANGE_COLUMNS)
            .where(Record.scope == scope, Record.version > since)
            .order_by(Record.version)
            .limit(room + 1)
        ).all()
        if len(rows) > room:
            rows = rows[:room]
            upto = rows[-1][2]
            has_more = True
        else:
            upto = max([last_committed] + [r[2] for r in rows])
        parts.extend(_changes(reader, rows, seen))
        if upto > since:
            exit_ranges.append(
                and_(ScopeExit.scope == scope, ScopeExit.seq > since, ScopeExit.seq <= upto)
            )
        new_pos[scope] = upto
    if exit_ranges:  # patients who left a scope within the positions this page covers
        purged.extend(
            str(p) for p in session.scalars(select(ScopeExit.patient_id).where(or_(*exit_ranges)))
        )
    sent = counted + len(parts) - len(people)
    sync_audit.read(
        session, caller, sync_audit.PULL, [*people, sync_audit.people(seen)],
        f"{sent} changes, {len(purged)} people purged",
    )  # fmt: skip
    return (
        f'{{"changes":[{",".join(parts)}],"purged":{json.dumps(purged)},'
        f'"cursor":"{_cursor(key, reader, new_pos)}","has_more":{"true" if has_more else "false"}}}'
    )


def _full_filter(reader: ReadScope, entity: str) -> Any:
    """SQL narrowing of one entity for a referred-only caller (None: no rows at all)."""
    if reader.nothing:
        return None
    if not reader.referred_only:
        return true()
    wanted = []
    if entity in REFERRED_PATIENT_ENTITIES and reader.patients:
        wanted.append(Record.patient_id.in_([uuid.UUID(p) for p in reader.patients]))
    if entity in REFERRED_TEAM_ENTITIES:
        wanted.append(Record.patient_id.is_(None))
    return or_(*wanted) if wanted else None


def _full_page(
    session: Session, caller: Caller, reader: ReadScope, key: bytes, req: P.PullRequest
) -> str:
    """A full download pages by entity (parents first) then id, over live rows only.

    The first page fixes a snapshot of every scope's sequence; the client continues with the
    incremental cursor of that snapshot, so changes made during the download arrive next.
    """
    if req.after:
        try:
            pos = cursors.decode(key, req.after)
            snapshot = {str(k): int(v) for k, v in pos["snap"].items()}
            ei, last_id = int(pos["ei"]), pos.get("id")
        except (cursors.BadCursor, KeyError, TypeError, ValueError) as exc:
            raise CursorGone(f"download position unreadable: {exc}") from None
        if pos.get("f", FULL_SIGNATURE) != reader.signature:
            raise CursorGone("what this user may see has changed")
    else:
        snapshot = {s: last for s, (last, _low) in _seq_now(session, caller.readable).items()}
        ei, last_id = 0, None
    parts: list[str] = []
    seen: set[Any] = set()  # patients of rows sent one by one; ``people``: of pages from SQL
    people: list[str] = []
    has_more = False
    in_sql = reader.passes_everything and pull_sql.supported(session)
    counted = 0  # changes in ``parts`` joined by the database (several per part)
    while ei < len(schema.ORDER):
        entity = schema.ORDER[ei]
        room = req.limit - (counted if in_sql else len(parts))
        narrowing = _full_filter(reader, entity)
        if narrowing is None:
            ei, last_id = ei + 1, None
            continue
        if in_sql:  # the page is written by the database (pull_sql)
            page = pull_sql.full(session, caller.readable, entity, last_id, room)
            if page.rows:
                parts.append(page.changes)
                counted += page.rows
                people.append(page.people)
            if page.rows >= room:  # (perhaps more of this entity: the next page says)
                last_id, has_more = page.last_id, True
                break
            ei, last_id = ei + 1, None
            continue
        q = select(*_CHANGE_COLUMNS).where(
            Record.scope.in_(caller.readable),
            Record.entity == entity,
            Record.deleted.is_(False),
            narrowing,
        )
        if last_id:
            q = q.where(Record.id > uuid.UUID(last_id))
        rows = session.execute(q.order_by(Record.id).limit(room + 1)).all()
        if len(rows) > room:
            rows = rows[:room]
            parts.extend(_changes(reader, rows, seen))
            last_id = str(rows[-1][1])
            has_more = True
            break
        parts.extend(_changes(reader, rows, seen))
        ei, last_id = ei + 1, None
    after = None
    if has_more:
        after = cursors.encode(
            key, {"snap": snapshot, "ei": ei, "id": last_id, "f": reader.signature}
        )
    token = _cursor(key, reader, snapshot)
    sync_audit.read(
        session, caller, sync_audit.PULL_FULL, [*people, sync_audit.people(seen)],
        f"{counted + len(parts) - len(people)} rows",
    )  # fmt: skip
    return (
        f'{{"changes":[{",".join(parts)}],"purged":[],"cursor":"{token}",'
        f'"after":{json.dumps(after)},"has_more":{"true" if has_more else "false"},"full":true}}'
    )


# --- verify -----------------------------------------------------------------------------------


def verify(session: Session, caller: Caller) -> dict[str, Any]:
    """Per-entity live counts and XOR digests of what the caller receives."""
    reader = read_scope(session, caller.user_id, caller.teams)
    out: dict[str, dict[str, Any]] = {}
    if reader.counts_are_the_teams:  # kept on every write: no scan
        rows: Any = session.connection().execute(_DIGESTS_OF, {"scopes": list(caller.readable)})
        for entity, count, xor in rows:
            item = out.setdefault(entity, {"count": 0, "xor": 0})
            item["count"] += count
            item["xor"] ^= int(xor, 16)
    else:  # a referred-only caller's few people: counted from their rows
        for entity in schema.ORDER:
            narrowing = _full_filter(reader, entity)
            if narrowing is None:
                continue
            for rid, data, patient in session.execute(
                select(Record.id, Record.data, Record.patient_id).where(
                    Record.scope.in_(caller.readable),
                    Record.entity == entity,
                    Record.deleted.is_(False),
                    narrowing,
                )
            ):
                pid = str(patient) if patient is not None else None
                if reader.row(entity, pid, json.loads(data)) is not None:
                    item = out.setdefault(entity, {"count": 0, "xor": 0})
                    item["count"] += 1
                    item["xor"] ^= schema.id_hash_part(rid)
    sync_audit.read(session, caller, sync_audit.VERIFY, [], f"{len(out)} entities counted")
    return {
        "entities": {
            e: {"count": v["count"], "xor": f"{v['xor']:016x}"}
            for e, v in sorted(out.items())
            if v["count"]
        }
    }


@dataclass
class SeedStats:
    records: int = 0
    by_scope: dict[str, int] = field(default_factory=dict)
