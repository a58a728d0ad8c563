"""The endpoint's reads on a database session: pull pages and verify digests.

Called by the FastAPI routes; no HTTP here. What a caller receives is cut to what their role
may read (``read_scope``); a caller who may read every row of their teams gets pages written by
the database (``pull_sql``). Each page and each verify is audited (``sync_audit``). The writes
are ``engine_ops.push``.
"""

from __future__ import annotations

import json
import uuid
from typing import Any

from sqlalchemy import and_, bindparam, or_, select, text, true
from sqlalchemy.orm import Session

from int_desk.server import cursor as cursors
from int_desk.server import pull_sql, sync_audit
from int_desk.server.engine_ops import Caller, CursorGone
from int_desk.server.models import Record, ScopeDigest, ScopeExit, ScopeSeq
from int_desk.server.raw_sql import Statement
from int_desk.server.read_scope import (
    FULL_SIGNATURE,
    REFERRED_PATIENT_ENTITIES,
    REFERRED_TEAM_ENTITIES,
    ReadScope,
    read_scope,
)
from int_desk.wire import protocol as P
from int_desk.wire import schema

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
# The same on PostgreSQL, straight on psycopg (``raw_sql``): one array, fixed text.
_SEQ_NOW_RAW = Statement(
    text(
        "SELECT scope, last_seq, min_seq FROM srv_scope_seq "
        "WHERE scope = ANY(CAST(:scopes AS text[]))"
    )
)
_DIGESTS_RAW = Statement(
    text(
        "SELECT entity, count, xor FROM srv_scope_digest WHERE scope = ANY(CAST(:scopes AS text[]))"
    )
)


def _on_scopes(session: Session, statement: Any, raw: Statement, scopes: tuple[str, ...]) -> Any:
    """Rows of a read keyed by these scopes (``raw`` on PostgreSQL)."""
    connection = session.connection()
    if connection.dialect.name == "postgresql":
        return raw.rows(connection, {"scopes": list(scopes)})
    return connection.execute(statement, {"scopes": list(scopes)})


def _seq_now(session: Session, scopes: tuple[str, ...]) -> dict[str, tuple[int, int]]:
    rows = _on_scopes(session, _SEQ_NOW, _SEQ_NOW_RAW, scopes)
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
    # The column form where the database writes the page; rows cut per caller stay objects.
    columns = in_sql and req.form == "columns"
    counted = 0  # changes in ``parts`` joined by the database (several per part)
    while ei < len(schema.ORDER):
        entity = schema.ORDER[ei]
        room = req.limit - (counted if in_sql else len(parts))
        narrowing = _full_filter(reader, entity)
        if narrowing is None:
            ei, last_id = ei + 1, None
            continue
        if in_sql:  # the page is written by the database (pull_sql)
            if columns:
                names = LIVE_COLUMNS[entity]
                page = pull_sql.full_columns(session, caller.readable, entity, names, last_id, room)
            else:
                page = pull_sql.full(session, caller.readable, entity, last_id, room)
            if page.rows:
                parts.append(_table(entity, page.changes) if columns else page.changes)
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
        if len(rows) > room:  # (room 0: the page is full and this entity has rows)
            rows = rows[:room]
            parts.extend(_changes(reader, rows, seen))
            if rows:  # (else the next page starts at this entity's first row)
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
        f'{{"{"tables" if columns else "changes"}":[{",".join(parts)}],"purged":[],'
        f'"cursor":"{token}","after":{json.dumps(after)},'
        f'"has_more":{"true" if has_more else "false"},"full":true}}'
    )


# The columns of a full page in the column form: every data column but ``deleted`` (a full
# download carries live rows only).
LIVE_COLUMNS = {
    name: tuple(c for c in entity.columns if c != "deleted")
    for name, entity in schema.ENTITIES.items()
}
_TABLE_HEAD = {
    name: f'{{"e":"{name}","cols":{json.dumps(list(names), separators=(",", ":"))},"rows":['
    for name, names in LIVE_COLUMNS.items()
}


def _table(entity: str, rows: str) -> str:
    """One entity's rows of a column-form page: ``{"e", "cols", "rows": [[id, v, ...]]}``."""
    return f"{_TABLE_HEAD[entity]}{rows}]}}"


# --- verify -----------------------------------------------------------------------------------


def verify(session: Session, caller: Caller) -> dict[str, Any]:
    """Per-entity live counts and XOR digests of what the caller receives."""
    reader = read_scope(session, caller.user_id, caller.teams)
    out: dict[str, dict[str, Any]] = {}
    if reader.counts_are_the_teams:  # kept on every write: no scan
        rows = _on_scopes(session, _DIGESTS_OF, _DIGESTS_RAW, caller.readable)
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
