"""The endpoint's sync rules on a database session: push (merge or conflict), pull, verify.

Called by the FastAPI routes and by the admin commands; no HTTP here. Logs ids and counts only.
"""

from __future__ import annotations

import json
import logging
import uuid
from dataclasses import dataclass, field, replace
from typing import Any

from sqlalchemy import and_, or_, select, text, true
from sqlalchemy.orm import Session

from int_desk.server import audit
from int_desk.server import cursor as cursors
from int_desk.server.access import author_name, check_op
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
from int_desk.wire import schema

log = logging.getLogger(__name__)

# Fields that place a row in a patient's or team's scope: a client may not change them.
SCOPE_FIELDS = frozenset({"patient_id", "team_id", "care_plan_id", "huddle_id", "cohort_id"})


@dataclass(frozen=True)
class Caller:
    user_id: uuid.UUID
    user_name: str
    device_id: uuid.UUID
    teams: tuple[str, ...]  # team ids as text, sorted
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


def row_json(rec: Record, reader: ReadScope) -> dict[str, Any] | None:
    """The record as the caller may see it (None: not at all)."""
    patient = str(rec.patient_id) if rec.patient_id is not None else None
    data = reader.row(rec.entity, patient, json.loads(rec.data))
    if data is None:
        return None
    return {"e": rec.entity, "id": str(rec.id), "v": rec.version, "del": rec.deleted, "data": data}


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
        for name, value in op.fields.items():
            try:
                fields[name] = schema.check_value(ent, name, value)
            except schema.InvalidValue as exc:
                problems.append({"op": i, "field": name[:64], "msg": str(exc)})
        if op.kind == "insert":
            missing = sorted(ent.required - op.fields.keys())
            if missing:
                problems.append({"op": i, "msg": f"insert lacks required fields {missing}"})
        out.append(fields)
    if problems:
        raise PayloadInvalid(problems)
    return out


def push(session: Session, caller: Caller, req: P.PushRequest) -> list[dict[str, Any]]:
    """Apply a batch in one transaction; replayed op ids get their stored result."""
    all_fields = validate(req)
    lock_scopes(session, caller.teams)
    who = principal(session, caller.user_id, caller.teams)
    reader = scope_of(session, who)
    # Whose change a conflict names: the team member's name, not the login.
    caller = replace(caller, user_name=author_name(session, caller.user_id, caller.teams))
    seqs, digests = _Seqs(session), _Digests(session)
    # A new patient's team: from a cohort membership created in the same batch.
    enrolments = {
        f.get("patient_id"): f.get("cohort_id")
        for op, f in zip(req.ops, all_fields, strict=True)
        if op.entity == "cohort_membership" and op.kind == "insert"
    }
    results = []
    touched: list[tuple[str, uuid.UUID] | None] = []
    # Two queries load every stored result and every row the batch touches into the session.
    # (Kept referenced: the identity map holds objects weakly.)
    applied: dict[uuid.UUID, AppliedOp] = {
        a.op_id: a
        for a in session.scalars(
            select(AppliedOp).where(AppliedOp.op_id.in_([o.op_id for o in req.ops]))
        )
    }
    preloaded: list[Any] = list(applied.values())
    by_entity: dict[str, list[uuid.UUID]] = {}
    for o in req.ops:
        by_entity.setdefault(o.entity, []).append(o.id)
    for entity, ids in by_entity.items():
        preloaded += session.scalars(
            select(Record).where(Record.entity == entity, Record.id.in_(ids))
        ).all()
    existing_nhs = _patients_by_nhs(session, caller, req, all_fields)
    for op, fields in zip(req.ops, all_fields, strict=True):
        stored = applied.get(op.op_id)
        if stored is not None:
            if stored.device_id != caller.device_id:
                result = _rejected(op, "op id already used by another device")
                touched.append(None)
            else:
                result = json.loads(stored.result)
                result["replayed"] = True
                keep = result.pop("_row", False)
                touched.append((stored.entity, stored.record_id) if keep else None)
            results.append(result)
            continue
        duplicate = op.entity == "patient" and existing_nhs.get(fields.get("nhs_number") or "")
        # A practice awaiting a name, from a first import (practices.py); else the write rules,
        # on the stored row and the row this op would make (write_rules.py).
        practice = push_awaiting_practice(session, who, caller, op, fields)
        verdict = check_op(session, who, entity=op.entity, record_id=op.id, fields=fields)
        if practice is not None:
            result = practice
        elif verdict.reason:
            result = _rejected(op, verdict.reason)
        elif duplicate and duplicate != str(op.id) and _record(session, op.entity, op.id) is None:
            result = _rejected(op, DUPLICATE_PATIENT)
        else:
            fields = restrict_write(session, op.entity, op.kind, fields, verdict.unreadable)
            result = _apply(session, caller, op, fields, seqs, digests, enrolments)
        if result["status"] == P.REJECTED:  # every refusal, whichever rule made it
            audit.record(
                session,
                audit.WRITE_DENIED,
                user_id=caller.user_id,
                device_id=caller.device_id,
                entity=op.entity,
                record_id=op.id,
                detail=f"{result['reason']} (fields: {', '.join(sorted(fields))[:300]})",
            )
        applied[op.op_id] = AppliedOp(
            op_id=op.op_id,
            device_id=caller.device_id,
            user_id=caller.user_id,
            entity=op.entity,
            record_id=op.id,
            result=json.dumps(result),
            resolves_conflict=op.resolves_conflict,
        )
        session.add(applied[op.op_id])
        results.append(result)
        touched.append((op.entity, op.id) if result.pop("_row", False) else None)
    # The row each result carries is the record's state now (fresh even on replay).
    for result, key in zip(results, touched, strict=True):
        result.pop("_row", None)
        if key is not None:
            rec = session.get(Record, key)
            if rec is not None and rec.scope in caller.readable:
                result["version"] = rec.version
                row = row_json(rec, reader)
                if row is not None:
                    result["row"] = row
    counts: dict[str, int] = {}
    for r in results:
        counts[r["status"]] = counts.get(r["status"], 0) + 1
    log.info("push device=%s ops=%d %s", caller.device_id, len(req.ops), counts)
    return results


DUPLICATE_PATIENT = (
    "duplicate: a person with this NHS number is already on your team's records; "
    "this laptop merges its copy into theirs on the next sync"
)


def _patients_by_nhs(
    session: Session, caller: Caller, req: P.PushRequest, all_fields: list[dict[str, Any]]
) -> dict[str, str]:
    """NHS number -> id of the live patient already holding it in the caller's teams, for the
    batch's new patients: two laptops enrolling the same person offline must not make two."""
    wanted = {
        f["nhs_number"]
        for op, f in zip(req.ops, all_fields, strict=True)
        if op.entity == "patient" and op.kind == "insert" and str(f.get("nhs_number")).isdigit()
    }
    if not wanted or not caller.teams:
        return {}
    found: dict[str, str] = {}
    for chunk in _chunks(sorted(wanted), 200):
        rows = session.execute(
            select(Record.id, Record.data).where(
                Record.entity == "patient",
                Record.scope.in_(caller.teams),
                Record.deleted.is_(False),
                or_(*(Record.data.contains(f'"nhs_number": "{n}"') for n in chunk)),
            )
        )
        for rid, data in rows:
            number = json.loads(data).get("nhs_number")
            if number in wanted:
                found.setdefault(number, str(rid))
    return found


def _chunks(items: list[str], size: int) -> list[list[str]]:
    return [items[i : i + size] for i in range(0, len(items), size)]


def _record(session: Session, entity: str, record_id: uuid.UUID) -> Record | None:
    """A row by key, including one added earlier in this batch and not yet flushed."""
    for obj in session.new:
        if isinstance(obj, Record) and obj.entity == entity and obj.id == record_id:
            return obj
    return session.get(Record, (entity, record_id))


def _rejected(op: P.Op, reason: str) -> dict[str, Any]:
    return {"op_id": str(op.op_id), "status": P.REJECTED, "reason": reason}


def _resolve_scope(
    session: Session,
    caller: Caller,
    entity: str,
    record_id: uuid.UUID,
    fields: dict[str, Any],
    enrolments: dict[Any, Any],
) -> tuple[str | None, uuid.UUID | None, str]:
    """(scope, patient id, reason if refused) for a new row."""

    def parent(kind: str, key: str) -> Record | None:
        value = fields.get(key)
        return _record(session, kind, uuid.UUID(value)) if value else None

    if entity in schema.GLOBAL_ENTITIES or entity == "team":
        return None, None, "reference data is managed centrally"
    scope: str | None = None
    patient: uuid.UUID | None = None
    if entity in ("cohort", "huddle", "team_membership"):
        scope = fields.get("team_id")
    elif entity == "patient":
        patient = record_id
        cohort = enrolments.get(str(record_id))
        rec = _record(session, "cohort", uuid.UUID(cohort)) if cohort else None
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
    session: Session,
    caller: Caller,
    op: P.Op,
    fields: dict[str, Any],
    seqs: _Seqs,
    digests: _Digests,
    enrolments: dict[Any, Any],
) -> dict[str, Any]:
    now = utcnow_text()
    stamp = [0, str(caller.device_id), caller.user_name, now]
    rec = _record(session, op.entity, op.id)
    if rec is None:
        if op.kind != "insert":
            return _rejected(op, "the server has no such row (it may have been removed)")
        scope, patient, reason = _resolve_scope(
            session, caller, op.entity, op.id, fields, enrolments
        )
        if scope is None:
            return _rejected(op, reason)
        version = seqs.next(scope)
        stamp[0] = version
        deleted = bool(fields.get("deleted", False))
        session.add(
            Record(
                entity=op.entity,
                id=op.id,
                scope=scope,
                patient_id=patient,
                version=version,
                deleted=deleted,
                data=json.dumps(fields),
                field_meta=json.dumps({f: stamp for f in fields}),
                updated_at=now,
            )
        )
        if not deleted:
            digests.toggle(scope, op.entity, op.id, +1)
        return {"op_id": str(op.op_id), "status": P.APPLIED, "version": version, "_row": True}

    if rec.scope not in caller.teams:
        if rec.scope == GLOBAL_SCOPE:
            return _rejected(op, "reference data is managed centrally")
        return _rejected(op, "forbidden: not one of your teams")
    data = json.loads(rec.data)
    meta: dict[str, list[Any]] = json.loads(rec.field_meta)
    base = op.base_version or 0
    device = str(caller.device_id)

    def changed_elsewhere(name: str) -> bool:
        m = meta.get(name)
        return bool(m and m[0] > base and m[1] != device)

    apply: dict[str, Any] = {}
    conflicts: list[dict[str, Any]] = []

    def conflict(name: str) -> None:
        m = meta.get(name) or [rec.version, None, "", rec.updated_at]
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
        version = seqs.next(rec.scope)
        stamp[0] = version
        was_deleted = rec.deleted
        data.update(apply)
        for name in apply:
            meta[name] = stamp
        rec.data = json.dumps(data)
        rec.field_meta = json.dumps(meta)
        rec.version = version
        rec.deleted = bool(data.get("deleted", False))
        rec.updated_at = now
        if rec.deleted != was_deleted:
            digests.toggle(rec.scope, rec.entity, rec.id, -1 if rec.deleted else +1)
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


def _seq_now(session: Session, scopes: tuple[str, ...]) -> dict[str, tuple[int, int]]:
    rows = session.execute(
        select(ScopeSeq.scope, ScopeSeq.last_seq, ScopeSeq.min_seq).where(
            ScopeSeq.scope.in_(scopes)
        )
    )
    found = {scope: (last, low) for scope, last, low in rows}
    return {s: found.get(s, (0, 0)) for s in scopes}


def _changes(reader: ReadScope, rows: Any) -> list[str]:
    out = []
    for r in rows:
        change = reader.change_json(*r)
        if change is not None:
            out.append(change)
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
                )
            )
    has_more = False
    new_pos = {s: int(position.get(s, 0)) for s in caller.readable}
    exit_ranges: list[Any] = []
    for scope in caller.readable:
        since = new_pos[scope]
        last_committed = now[scope][0]
        if since >= last_committed:
            continue  # nothing committed in this scope since the cursor: no query
        room = req.limit - len(parts)
        if room <= 0:
            has_more = True
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
        parts.extend(_changes(reader, rows))
        if upto > since:
            exit_ranges.append(
                and_(ScopeExit.scope == scope, ScopeExit.seq > since, ScopeExit.seq <= upto)
            )
        new_pos[scope] = upto
    if exit_ranges:  # patients who left a scope within the positions this page covers
        purged.extend(
            str(p) for p in session.scalars(select(ScopeExit.patient_id).where(or_(*exit_ranges)))
        )
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
    has_more = False
    while ei < len(schema.ORDER):
        entity = schema.ORDER[ei]
        room = req.limit - len(parts)
        narrowing = _full_filter(reader, entity)
        if narrowing is None:
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
            parts.extend(_changes(reader, rows))
            last_id = str(rows[-1][1])
            has_more = True
            break
        parts.extend(_changes(reader, rows))
        ei, last_id = ei + 1, None
    after = None
    if has_more:
        after = cursors.encode(
            key, {"snap": snapshot, "ei": ei, "id": last_id, "f": reader.signature}
        )
    token = _cursor(key, reader, snapshot)
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
        rows: Any = session.execute(
            select(ScopeDigest.entity, ScopeDigest.count, ScopeDigest.xor).where(
                ScopeDigest.scope.in_(caller.readable)
            )
        )
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
