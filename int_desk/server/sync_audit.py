"""The endpoint's chained audit trail: who read or wrote what through it (``srv_audit_log``).

Every push op (applied or refused), every pull page and verify, every FHIR read and every
security event of ``audit.record`` gets an entry: the login, the team member it is, the device,
the entity and record, the person or people whose rows it touched, and what happened (op kind,
field NAMES, counts, outcome). Never a value that was sent or read.

Same transaction, always last. ``add`` only buffers the entry on the session; just before the
session commits (``before_commit``) the buffer is appended to its chain, so a write commits with
its audit entries or not at all, and a rolled-back transaction leaves none.

One chain per team (a caller of no team, a GP practice, the command line: ``global``). Entries
are numbered 1, 2, ... under the chain's head row (``srv_audit_head``), locked by an
``INSERT ... ON CONFLICT DO UPDATE`` until the commit, so endpoint processes on several hosts
sharing one PostgreSQL append to one unforked chain. Taking that lock last (at commit) means a
transaction holding it never waits for another lock, so it cannot deadlock with the team's
advisory lock a push holds; teams never wait for each other. Each entry's hash covers the
previous entry's hash and all its columns (like the desktop's ``store/audit.py``); ``verify``
names the first broken entry of each chain.
"""

from __future__ import annotations

import hashlib
import json
import uuid
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any, cast

from sqlalchemy import Table, bindparam, event, insert, or_, select, text, update
from sqlalchemy.orm import Session

from int_desk.server.json_rows import as_json, recordset
from int_desk.server.models import (
    GLOBAL_SCOPE,
    AuditChainHead,
    AuditLogEntry,
    Record,
    utcnow_text,
)
from int_desk.server.raw_sql import Statement

GENESIS = "0" * 64
LOG = cast(Table, AuditLogEntry.__table__)
HEAD = cast(Table, AuditChainHead.__table__)
_BUFFER = "int_desk_audit_log"

PUSH = "push"
PUSH_REFUSED = "push_refused"  # a whole batch refused (invalid payload, no team)
PULL = "pull"
PULL_FULL = "pull_full"
VERIFY = "verify"
FHIR_READ = "fhir_read"
AUDIT_READ = "audit_read"  # an administrator listed the trail

# Hashed in this order; every column but the hash itself.
FACTS = (
    "chain", "no", "at", "kind", "outcome", "user_id", "member_id", "device_id", "entity",
    "record_id", "patient_id", "patients", "detail",
)  # fmt: skip
_UUIDS = frozenset({"user_id", "member_id", "device_id", "record_id", "patient_id"})


def as_uuid(value: Any) -> uuid.UUID | None:
    """A UUID from a UUID or its text; None for anything else."""
    if value is None or isinstance(value, uuid.UUID):
        return value
    try:
        return uuid.UUID(str(value))
    except ValueError:
        return None


def people(ids: Iterable[Any]) -> str:
    """Patient ids as the ``patients`` column keeps them: 32 hex digits, sorted, joined."""
    return ",".join(sorted({u.hex for u in map(as_uuid, ids) if u is not None}))


def join_people(parts: Sequence[str]) -> str:
    """Several ``patients`` texts (as the database or ``people`` made them) as one."""
    parts = [p for p in parts if p]
    if len(parts) <= 1:
        return parts[0] if parts else ""
    return ",".join(sorted({p for part in parts for p in part.split(",")}))


def add(
    session: Session,
    kind: str,
    *,
    chain: str = GLOBAL_SCOPE,
    outcome: str = "",
    user_id: Any = None,
    member_id: Any = None,
    device_id: Any = None,
    entity: str = "",
    record_id: Any = None,
    patient_id: Any = None,
    patients: str = "",
    detail: str = "",
) -> None:
    """Buffer one entry; it is chained and written when ``session`` commits (not before)."""
    session.info.setdefault(_BUFFER, []).append(
        {
            "chain": chain[:36], "kind": kind[:32], "outcome": str(outcome)[:32],
            "user_id": as_uuid(user_id), "member_id": as_uuid(member_id),
            "device_id": as_uuid(device_id), "entity": entity[:40], "record_id": as_uuid(record_id),
            "patient_id": as_uuid(patient_id), "patients": patients, "detail": detail[:1000],
        }
    )  # fmt: skip


def caller_facts(session: Session, caller: Any) -> dict[str, Any]:
    """Who a sync caller is, as an entry names them: login, member, device, their team's chain."""
    from int_desk.server.principal import principal

    who = principal(session, caller.user_id, caller.teams)
    return {
        "chain": caller.teams[0] if caller.teams else GLOBAL_SCOPE,
        "user_id": caller.user_id,
        "member_id": who.member_id if who is not None else None,
        "device_id": caller.device_id,
    }


def pushed(
    session: Session,
    caller: Any,
    ops: Sequence[Any],
    results: Sequence[dict[str, Any]],
    rows: dict[tuple[str, uuid.UUID], Any],
) -> None:
    """One entry per op of a push, applied or refused: op kind and the field names sent."""
    facts = caller_facts(session, caller)
    for op, result in zip(ops, results, strict=True):
        row = rows.get((op.entity, op.id))
        patient = getattr(row, "patient_id", None) or op.fields.get("patient_id")
        if op.entity == "patient":
            patient = op.id
        chain = row.scope if row is not None and row.scope in caller.readable else facts["chain"]
        status = str(result.get("status", ""))
        detail = f"{op.kind}: {','.join(sorted(op.fields))}"
        if result.get("reason"):
            detail += f"; {result['reason']}"
        if result.get("replayed"):
            status += " (replayed)"
        add(
            session, PUSH, **{**facts, "chain": chain}, outcome=status, entity=op.entity,
            record_id=op.id, patient_id=patient, detail=detail,
        )  # fmt: skip


def push_refused(factory: Any, caller: Any, ops: int, status: int, why: str) -> None:
    """A whole batch refused before any op was looked at: its own transaction (the push's
    rolled back), the ops counted, none of what they held."""
    with factory.begin() as session:
        add(
            session, PUSH_REFUSED, **caller_facts(session, caller), outcome=str(status),
            detail=f"{ops} ops; {why}",
        )  # fmt: skip


def read(session: Session, caller: Any, kind: str, patients: Sequence[str], detail: str) -> None:
    """One entry for a page sent to a sync caller: the people whose rows it carried."""
    add(
        session,
        kind,
        **caller_facts(session, caller),
        patients=join_people(patients),
        detail=detail,
    )


# --- appending at commit ----------------------------------------------------------------------


def _digest(prev_hash: str, entry: Any) -> str:
    get = entry.get if isinstance(entry, dict) else entry._mapping.get
    facts = []
    for name in FACTS:
        value = get(name)
        facts.append(str(value) if name in _UUIDS and value is not None else value)
    body = json.dumps(facts, separators=(",", ":"))
    return hashlib.sha256((prev_hash + body).encode("utf-8")).hexdigest()


_LOCK_HEAD = text(
    "INSERT INTO srv_audit_head (chain, last_no, last_hash) VALUES (:chain, :n, :genesis) "
    "ON CONFLICT (chain) DO UPDATE SET last_no = srv_audit_head.last_no + excluded.last_no "
    "RETURNING last_no, last_hash"
)


_COLUMNS = (*FACTS, "prev_hash", "hash")
_LISTED = {  # (``chain`` and ``at`` are the same for every entry of one append)
    c: {"no": "bigint", **{u: "uuid" for u in _UUIDS}}.get(c, "text")
    for c in _COLUMNS
    if c not in ("chain", "at")
}
# Every entry of one chain and the head's new hash in one statement of fixed text, whatever the
# entries' number: prepared by psycopg once per connection, never compiled again (a multi-row
# VALUES is new text for each count and was a third of a cycle's CPU). The entries travel as
# one JSON text (``json_rows``). A data-modifying WITH runs once, referenced or not.
_APPEND_POSTGRES = text(
    "WITH head AS (UPDATE srv_audit_head SET last_hash = :last WHERE chain = :chain) "
    f"INSERT INTO srv_audit_log ({', '.join(_COLUMNS)}) "
    f"SELECT :chain, e.no, :at, {', '.join(f'e.{c}' for c in _LISTED if c != 'no')} "
    f"FROM {recordset('e', _LISTED)}"
)
_LOCK_HEAD_RAW = Statement(_LOCK_HEAD)  # (PostgreSQL, straight on psycopg: ``raw_sql``)
_APPEND_RAW = Statement(_APPEND_POSTGRES)
_INSERT_LOG = insert(LOG)
_UPDATE_HEAD = update(HEAD).where(HEAD.c.chain == bindparam("k_chain"))


def append(session: Session, entries: list[dict[str, Any]]) -> None:
    """Number, chain and insert buffered entries: per chain (in one order, so two transactions
    never wait for each other's chains), one locking upsert, then the INSERT and the head's new
    hash (one statement on PostgreSQL). Core on the session's connection: this runs for every
    request, so no ORM layer per statement."""
    chains: dict[str, list[dict[str, Any]]] = {}
    for entry in entries:
        chains.setdefault(entry["chain"], []).append(entry)
    at = utcnow_text()
    conn = session.connection()
    postgres = conn.dialect.name == "postgresql"
    for chain in sorted(chains):
        rows = chains[chain]
        lock = {"chain": chain, "n": len(rows), "genesis": GENESIS}
        if postgres:
            ((last, prev),) = _LOCK_HEAD_RAW.rows(conn, lock)
        else:
            last, prev = conn.execute(_LOCK_HEAD, lock).one()
        no = int(last) - len(rows)
        for row in rows:
            no += 1
            row.update(no=no, at=at, prev_hash=prev)
            row["hash"] = prev = _digest(prev, row)
        if postgres:
            payload = as_json([{c: row[c] for c in _LISTED} for row in rows])
            _APPEND_RAW.rows(conn, {"e": payload, "chain": chain, "at": at, "last": prev})
        else:
            conn.execute(_INSERT_LOG, rows)
            conn.execute(_UPDATE_HEAD, {"k_chain": chain, "last_hash": prev})


@event.listens_for(Session, "before_commit")
def _append_buffered(session: Session) -> None:
    entries = session.info.pop(_BUFFER, None)
    if entries:
        append(session, entries)


@event.listens_for(Session, "after_rollback")
def _forget_buffered(session: Session) -> None:
    session.info.pop(_BUFFER, None)


# --- verifying --------------------------------------------------------------------------------


@dataclass(frozen=True)
class ChainCheck:
    chain: str
    entries: int
    broken_at: int | None = None  # the first entry (its number) that does not verify
    reason: str = ""

    @property
    def intact(self) -> bool:
        return self.broken_at is None


def verify(session: Session, chains: Iterable[str] | None = None) -> list[ChainCheck]:
    """Every chain (or these), each from its first entry: the first entry that does not verify."""
    heads = {
        c: (n, h)
        for c, n, h in session.execute(select(HEAD.c.chain, HEAD.c.last_no, HEAD.c.last_hash))
    }
    names = set(heads) | set(session.scalars(select(LOG.c.chain).distinct()))
    if chains is not None:
        names &= set(chains)
    return [_verify_chain(session, chain, heads.get(chain)) for chain in sorted(names)]


def _verify_chain(session: Session, chain: str, head: tuple[int, str] | None) -> ChainCheck:
    prev, expect = GENESIS, 1
    rows = session.execute(
        select(*(LOG.c[name] for name in (*FACTS, "prev_hash", "hash")))
        .where(LOG.c.chain == chain)
        .order_by(LOG.c.no)
        .execution_options(yield_per=2000)
    )
    with rows:  # (a server-side cursor on PostgreSQL: closed on an early return too)
        for row in rows:
            if row.no != expect:
                return ChainCheck(chain, expect - 1, expect, "this entry is missing")
            if row.prev_hash != prev:
                return ChainCheck(chain, expect, row.no, "an earlier entry was removed or altered")
            if _digest(prev, row) != row.hash:
                return ChainCheck(chain, expect, row.no, "this entry's contents were altered")
            prev, expect = row.hash, expect + 1
    count = expect - 1
    if head is None or head[0] != count or head[1] != prev:
        return ChainCheck(chain, count, count + 1, "entries after this point were removed")
    return ChainCheck(chain, count)


# --- querying ---------------------------------------------------------------------------------


def person_ids(session: Session, person: str) -> list[uuid.UUID]:
    """A patient's id, or the ids of the patient rows holding this NHS number (any team)."""
    found = as_uuid(person.strip())
    if found is not None:
        return [found]
    number = "".join(person.split())
    if not (number.isdigit() and len(number) == 10):
        return []
    return list(
        session.scalars(
            select(Record.id).where(Record.entity == "patient", Record.nhs_number == number)
        )
    )


def for_team_admin(
    session: Session, caller: Any, *, person: str | None, **filters: Any
) -> dict[str, Any]:
    """``/v1/admin/audit``: entries of the administrator's own teams' chains only (a person by
    id or NHS number among those teams' records), as JSON; the look-up itself is audited."""
    patient_ids: list[uuid.UUID] = []
    if person:
        patient_ids = [
            p for p in person_ids(session, person)
            if session.scalar(select(Record.scope).where(
                Record.entity == "patient", Record.id == p, Record.scope.in_(caller.teams)))
        ]  # fmt: skip
        if not patient_ids:
            return {"items": [], "detail": "No person with that id or NHS number in your teams."}
    rows = query(session, patient_ids=patient_ids, chains=caller.teams, **filters)
    used = sorted(k for k, v in {**filters, "person": person}.items() if v and k != "limit")
    add(
        session, AUDIT_READ, **caller_facts(session, caller), outcome=str(len(rows)),
        patients=people(patient_ids), detail="filters: " + ",".join(used),
    )  # fmt: skip
    keep = ("chain", "no", "at", "kind", "outcome", "entity", "detail")
    ids = ("user_id", "member_id", "device_id", "record_id", "patient_id")
    return {
        "items": [
            {
                **{k: r._mapping[k] for k in keep},
                **{k: str(r._mapping[k]) if r._mapping[k] else None for k in ids},
                "patients": len(r.patients.split(",")) if r.patients else 0,
            }
            for r in rows
        ]
    }


def query(
    session: Session,
    *,
    patient_ids: Sequence[uuid.UUID] = (),
    user_id: uuid.UUID | None = None,
    member_id: uuid.UUID | None = None,
    device_id: uuid.UUID | None = None,
    chains: Sequence[str] = (),
    kinds: Sequence[str] = (),
    since: str | None = None,
    until: str | None = None,
    limit: int = 200,
) -> list[Any]:
    """Entries matching every filter given, newest first (``since``/``until``: ISO UTC text)."""
    q = select(LOG)
    if patient_ids:
        q = q.where(
            or_(
                LOG.c.patient_id.in_(patient_ids),
                *(LOG.c.patients.contains(p.hex, autoescape=True) for p in patient_ids),
            )
        )
    for column, value in (
        (LOG.c.user_id, user_id), (LOG.c.member_id, member_id), (LOG.c.device_id, device_id),
    ):  # fmt: skip
        if value is not None:
            q = q.where(column == value)
    if chains:
        q = q.where(LOG.c.chain.in_(list(chains)))
    if kinds:
        q = q.where(LOG.c.kind.in_(list(kinds)))
    if since:
        q = q.where(LOG.c.at >= since)
    if until:
        q = q.where(LOG.c.at < until)
    return list(session.execute(q.order_by(LOG.c.at.desc(), LOG.c.no.desc()).limit(limit)))
