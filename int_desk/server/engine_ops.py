"""The endpoint's sync rules on a database session: push (merge or conflict), pull, verify.

Called by the FastAPI routes and by the admin commands; no HTTP here. Logs ids and counts only.
The rows a push reads and writes (its batch, the team lock, the digests) are
``int_desk.server.push_batch``; this module decides what each op does to them.
"""

from __future__ import annotations

import json
import logging
import uuid
from dataclasses import dataclass, replace
from typing import Any, cast

from sqlalchemy import Table, bindparam, select, text
from sqlalchemy.orm import Session

from int_desk.server import audit, sync_audit
from int_desk.server.access import author_name, patient_of
from int_desk.server.access import verdict as access_verdict
from int_desk.server.models import (
    GLOBAL_SCOPE,
    AppliedOp,
    Record,
    ScopeDigest,
    ScopeSeq,
    utcnow_text,
)
from int_desk.server.practices import push_awaiting_practice
from int_desk.server.principal import principal
from int_desk.server.push_batch import (
    Batch,
    Collision,
    Stored,
    cohorts_by_name,
    parent_keys,
    patients_by_nhs,
    rows_by_unique_key,
    unique_row_key,
)
from int_desk.server.read_scope import (
    ReadScope,
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
                row = ScopeSeq(scope=scope)  # (its numbers start at 0: the model's defaults)
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
    op_ids, keys = [o.op_id for o in req.ops], {(o.entity, o.id) for o in req.ops}
    if postgres and not careful:  # (one statement)
        stored_results: dict[uuid.UUID, Any] = batch.load_with_results(keys, op_ids)
    else:
        stored_results = _stored_results(session, caller, op_ids, careful)
        batch.load(keys, lock=postgres)
    batch.load(parent_keys(all_fields), lock=False)
    existing_nhs = patients_by_nhs(session, caller, req, all_fields)
    existing_cohorts = cohorts_by_name(session, caller, req, all_fields)
    existing_rows = rows_by_unique_key(session, caller, req)
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
        nhs_key = str(fields.get("nhs_number"))
        name_key = (str(fields.get("team_id")), str(fields.get("name")))
        row_key = unique_row_key(op.entity, fields) or ()
        duplicate = op.entity == "patient" and existing_nhs.get(nhs_key)
        same_name = op.entity == "cohort" and existing_cohorts.get(name_key)
        same_row = existing_rows.get(row_key)
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
        elif same_name and same_name != str(op.id) and rec is None:
            result = _rejected(op, DUPLICATE_COHORT)
        elif same_row and same_row != str(op.id) and rec is None:
            result = _rejected(op, DUPLICATE_ROW)
        else:
            fields = restrict_write(
                session, op.entity, op.kind, fields, verdict.unreadable, batch_plan(batch)
            )
            result = _apply(batch, caller, op, fields, enrolments)
            if rec is None and result["status"] == P.APPLIED and not fields["deleted"]:
                # A second copy later in this batch is a duplicate too, as if sent apart.
                if op.entity == "patient":
                    existing_nhs.setdefault(nhs_key, str(op.id))
                elif op.entity == "cohort":
                    existing_cohorts.setdefault(name_key, str(op.id))
                elif row_key:
                    existing_rows.setdefault(row_key, str(op.id))
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
        row = batch.rows.get(key)  # (every op's row was read with the batch, if held)
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

DUPLICATE_COHORT = (
    "duplicate: your team already has a cohort of this name; "
    "this laptop moves its members into that cohort on the next sync"
)


DUPLICATE_ROW = (
    "duplicate: your team already has this person in the team or at the huddle; "
    "this laptop takes that record instead on the next sync"
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
) -> tuple[str, uuid.UUID | None] | str:
    """(scope, patient id) for a new row, or the reason it is refused."""

    def parent(kind: str, key: str) -> Stored | None:
        value = fields.get(key)
        return batch.get(kind, uuid.UUID(value)) if value else None

    if entity in schema.GLOBAL_ENTITIES or entity == "team":
        return "reference data is managed centrally"
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
            return "a new patient needs a cohort membership in the same batch"
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
        return "the row's patient or team is not known to the server"
    if scope not in caller.teams:
        return "forbidden: not one of your teams"
    if entity == "cohort_membership":  # (its cohort refused, say as a duplicate: not dangling)
        cohort = parent("cohort", "cohort_id")
        if cohort is None or cohort.scope != scope:
            return "the row's cohort is not known to the server"
    return scope, patient


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
        placed = _resolve_scope(batch, caller, op.entity, op.id, fields, enrolments)
        if isinstance(placed, str):
            return _rejected(op, placed)
        scope, patient = placed
        deleted = bool(fields["deleted"])  # (required of every insert: ``validate``)
        rec = Stored(
            op.entity, op.id, scope, patient, 0, deleted, dict(fields), {}, now,
            new=True, changed=True,
        )  # fmt: skip
        batch.numbers.next(scope, rec, stamp)
        rec.meta = {f: stamp for f in fields}
        batch.add(rec)
        if not deleted:
            batch.toggle(scope, op.entity, op.id, +1)
        return {"op_id": str(op.op_id), "status": P.APPLIED, "_row": True}  # (version: ``push``)

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
        "_row": True,  # (its version once the batch is numbered: ``push``)
    }
    if conflicts:
        result["conflicts"] = conflicts
    return result
