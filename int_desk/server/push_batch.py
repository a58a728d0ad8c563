"""The rows one push reads and writes on the endpoint: ``Batch`` reads its ops' rows (and the
parents that place new ones) in a query or two, keyed by the caller's teams, hands out versions
before the team lock is held, then writes the changed rows and the scopes' digests in a few
set-based statements under that lock. ``engine_ops.push`` decides what each op does to them.
"""

from __future__ import annotations

import json
import uuid
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, NamedTuple, cast

from sqlalchemy import Table, bindparam, insert, or_, select, text, update
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.orm import Session

from int_desk.server.json_rows import as_json, recordset
from int_desk.server.models import (
    AppliedOp,
    Record,
    ScopeDigest,
)
from int_desk.server.raw_sql import Statement
from int_desk.wire import protocol as P
from int_desk.wire import schema

if TYPE_CHECKING:
    from int_desk.server.engine_ops import Caller

# The tables behind the models, for the set-based Core statements of a push.
RECORDS = cast(Table, Record.__table__)
APPLIED = cast(Table, AppliedOp.__table__)
DIGESTS = cast(Table, ScopeDigest.__table__)


class Collision(Exception):
    """A batch met rows or op ids its caller's teams do not hold (another team's, or made
    meanwhile): nothing was written; ``push`` again with ``careful=True`` (a new transaction)."""


@dataclass
class Stored:
    """A row of ``srv_record`` as a push reads and changes it (plain values, no ORM)."""

    entity: str
    id: uuid.UUID
    scope: str
    patient_id: uuid.UUID | None
    version: int
    deleted: bool
    data: dict[str, Any]
    meta: dict[str, list[Any]]
    updated_at: str
    new: bool = False  # made by this batch
    changed: bool = False  # to be written back


_ROW_COLUMNS = (
    Record.entity,
    Record.id,
    Record.scope,
    Record.patient_id,
    Record.version,
    Record.deleted,
    Record.data,
    Record.field_meta,
    Record.updated_at,
)


_ROWS_ANY_SCOPE = select(*_ROW_COLUMNS).where(
    Record.entity.in_(bindparam("entities", expanding=True)),
    Record.id.in_(bindparam("ids", expanding=True)),
)
_ROWS = _ROWS_ANY_SCOPE.where(Record.scope.in_(bindparam("scopes", expanding=True)))
# In one order, so two batches locking the same rows cannot each wait for the other.
_ROWS_LOCKED = _ROWS.order_by(Record.entity, Record.id).with_for_update()
_ROWS_ANY_SCOPE_LOCKED = _ROWS_ANY_SCOPE.order_by(Record.entity, Record.id).with_for_update()


class Applied(NamedTuple):
    """An op's stored result (``srv_applied_op``), as a replay answers from it."""

    op_id: uuid.UUID
    device_id: uuid.UUID
    entity: str
    record_id: uuid.UUID
    result: str


# PostgreSQL: a batch's rows, locked for the merge, and its ops' stored results in one statement
# (straight on psycopg, ``raw_sql``), both keyed by the caller's teams. Read in one snapshot, as
# the two reads were: a batch sent again while the first is applied waits for its rows, then
# clashes on the stored results' key and is answered from them (``engine_ops.push``).
_ROWS_AND_RESULTS = Statement(
    text(
        "WITH locked AS (SELECT entity, id, scope, patient_id, version, deleted, data, "
        "field_meta, updated_at FROM srv_record WHERE entity = ANY(CAST(:entities AS text[])) "
        "AND id = ANY(CAST(:ids AS uuid[])) AND scope = ANY(CAST(:scopes AS text[])) "
        "ORDER BY entity, id FOR UPDATE) "
        "SELECT entity, id, scope, patient_id, version, deleted, data, field_meta, updated_at, "
        "NULL::uuid, NULL::uuid, NULL::text FROM locked UNION ALL "
        "SELECT entity, record_id, NULL, NULL, NULL, NULL, NULL, NULL, NULL, op_id, device_id, "
        "result FROM srv_applied_op WHERE op_id = ANY(CAST(:ops AS uuid[])) "
        "AND scope = ANY(CAST(:teams AS text[]))"
    )
)


class _Numbers:
    """Versions for a batch's changes, handed out before the scope's sequence is read.

    A change gets a place in its scope's run (1, 2, ...); ``settle`` turns places into versions
    once the team lock is held and the sequence read, so the lock covers only numbering and
    writing, and a team's pushes overlap while they read and check their rows. Until then the
    places only meet comparisons with stamps of this caller's own device, which never conflict.
    """

    def __init__(self) -> None:
        self.count: dict[str, int] = {}
        self.stamps: list[tuple[str, list[Any]]] = []  # (scope, stamp: [place, ...])
        self.rows: list[tuple[str, Stored, int]] = []

    def next(self, scope: str, row: Stored, stamp: list[Any]) -> int:
        place = self.count.get(scope, 0) + 1
        self.count[scope] = place
        stamp[0] = place
        self.stamps.append((scope, stamp))
        self.rows.append((scope, row, place))
        return place

    def settle(self, first: dict[str, int]) -> None:
        """``first[scope]``: the version before the batch's first change in that scope."""
        for scope, stamp in self.stamps:
            stamp[0] += first[scope]
        for scope, row, place in self.rows:  # (in order: a row changed twice keeps the last)
            row.version = first[scope] + place


class Batch:
    """The rows one push reads (its ops' rows and the parents that place new ones), keyed by
    the caller's teams: every query names the scopes it reads (``careful`` drops that for the
    rare batch that meets another team's rows)."""

    def __init__(self, session: Session, caller: Caller, careful: bool) -> None:
        self.session, self.caller, self.careful = session, caller, careful
        self.rows: dict[tuple[str, uuid.UUID], Stored] = {}
        self.looked: set[tuple[str, uuid.UUID]] = set()
        self.numbers = _Numbers()
        self.toggles: list[tuple[str, str, uuid.UUID, int]] = []

    def load(self, keys: set[tuple[str, uuid.UUID]], *, lock: bool) -> None:
        """Read these rows of the caller's scopes; ``lock``: for update (PostgreSQL), so two
        pushes merging into one row queue for it while other rows' pushes go on."""
        keys = keys - self.looked
        if not keys:
            return
        self.looked |= keys
        params = {
            "entities": sorted({e for e, _ in keys}),
            "ids": sorted({i for _, i in keys}, key=str),
        }
        if self.careful:
            q = _ROWS_ANY_SCOPE_LOCKED if lock else _ROWS_ANY_SCOPE
        else:
            q = _ROWS_LOCKED if lock else _ROWS
            params["scopes"] = list(self.caller.readable)
        for row in self.session.execute(q, params):
            entity, rid = row[0], row[1]
            if (entity, rid) in keys:
                self.rows[(entity, rid)] = Stored(
                    entity, rid, row[2], row[3], row[4], row[5],
                    json.loads(row[6]), json.loads(row[7]), row[8],
                )  # fmt: skip

    def load_with_results(
        self, keys: set[tuple[str, uuid.UUID]], op_ids: list[uuid.UUID]
    ) -> dict[uuid.UUID, Applied]:
        """PostgreSQL: ``load(keys, lock=True)`` and the stored result of each op id seen
        before within the caller's teams (``engine_ops._stored_results``), in one statement."""
        self.looked |= keys
        params = {
            "entities": sorted({e for e, _ in keys}),
            "ids": sorted({i for _, i in keys}, key=str),
            "scopes": list(self.caller.readable),
            "ops": op_ids,
            "teams": list(self.caller.teams),
        }
        results: dict[uuid.UUID, Applied] = {}
        for row in _ROWS_AND_RESULTS.rows(self.session.connection(), params):
            entity, rid = row[0], row[1]
            if row[9] is not None:  # a stored result
                results[row[9]] = Applied(row[9], row[10], entity, rid, row[11])
            elif (entity, rid) in keys:
                self.rows[(entity, rid)] = Stored(
                    entity, rid, row[2], row[3], row[4], row[5],
                    json.loads(row[6]), json.loads(row[7]), row[8],
                )  # fmt: skip
        return results

    def get(self, entity: str, record_id: uuid.UUID) -> Stored | None:
        """A row by key: read by ``load``, or made earlier in this batch."""
        if (entity, record_id) not in self.looked:
            self.load({(entity, record_id)}, lock=False)
        return self.rows.get((entity, record_id))

    def add(self, row: Stored) -> None:
        self.rows[(row.entity, row.id)] = row
        self.looked.add((row.entity, row.id))

    def toggle(self, scope: str, entity: str, record_id: uuid.UUID, delta: int) -> None:
        self.toggles.append((scope, entity, record_id, delta))

    # --- writing: the team lock from here to the commit ---------------------------------------

    def number(self) -> None:
        """Take the team lock and give the batch's changes their versions (``_Numbers``)."""
        first: dict[str, int] = {}
        for scope in sorted(self.numbers.count):  # (in one order: no two batches deadlock)
            n = self.numbers.count[scope]
            first[scope] = _bump(self.session, scope, n) - n
        self.numbers.settle(first)

    def write(self, results: list[dict[str, Any]]) -> None:
        """Write the changed rows, the ops' stored ``results`` (``srv_applied_op`` rows) and
        the digests, once ``number`` has run."""
        session = self.session
        now_new = [r for r in self.rows.values() if r.new and r.changed]
        changed = [r for r in self.rows.values() if r.changed and not r.new]
        if now_new:
            made = session.execute(
                _insert(session)
                .values([_record_values(r) for r in now_new])
                .on_conflict_do_nothing()
                .returning(RECORDS.c.entity, RECORDS.c.id)
            ).all()
            if len(made) != len(now_new):
                raise Collision("a new row's id is taken")
        rows = [
            {
                "k_scope": r.scope, "k_entity": r.entity, "k_id": r.id, "version": r.version,
                "deleted": r.deleted, "data": json.dumps(r.data), "field_meta": json.dumps(r.meta),
                "updated_at": r.updated_at, "nhs_number": _nhs_number(r),
            }
            for r in changed
        ]  # fmt: skip
        if session.get_bind().dialect.name == "postgresql":
            if rows or results:  # one statement of fixed text (prepared), whatever the counts
                _WRITE_RAW.rows(
                    session.connection(), {"rows": as_json(rows), "results": as_json(results)}
                )
        else:
            if rows:
                session.connection().execute(_UPDATE_ROWS, rows)
            if results:
                session.connection().execute(insert(APPLIED), results)
        if self.toggles:
            _toggle_digests(session, self.toggles)


_ROW_COLUMNS_PG = {
    "k_scope": "text", "k_entity": "text", "k_id": "uuid", "version": "bigint",
    "deleted": "boolean", "data": "text", "field_meta": "text", "updated_at": "text",
    "nhs_number": "text",
}  # fmt: skip
_RESULT_COLUMNS_PG = {
    "op_id": "uuid", "scope": "text", "device_id": "uuid", "user_id": "uuid", "entity": "text",
    "record_id": "uuid", "result": "text", "resolves_conflict": "uuid", "applied_at": "text",
}  # fmt: skip


# A batch's changed rows and its ops' stored results in one statement of fixed text, whatever
# their numbers (not a statement per row, nor a VALUES list per count): psycopg prepares it once
# per connection. A data-modifying WITH runs once, referenced or not.
_WRITE_POSTGRES = text(
    "WITH changed AS (UPDATE srv_record AS r SET version = u.version, deleted = u.deleted, "
    "data = u.data, field_meta = u.field_meta, updated_at = u.updated_at, "
    f"nhs_number = u.nhs_number FROM (SELECT * FROM {recordset('rows', _ROW_COLUMNS_PG)}) AS u "
    "WHERE r.scope = u.k_scope AND r.entity = u.k_entity AND r.id = u.k_id) "
    f"INSERT INTO srv_applied_op ({', '.join(_RESULT_COLUMNS_PG)}) "
    f"SELECT {', '.join(_RESULT_COLUMNS_PG)} FROM {recordset('results', _RESULT_COLUMNS_PG)}"
)
_WRITE_RAW = Statement(_WRITE_POSTGRES)  # (straight on psycopg: ``raw_sql``)
_UPDATE_ROWS = (
    update(RECORDS)
    .where(
        RECORDS.c.scope == bindparam("k_scope"),
        RECORDS.c.entity == bindparam("k_entity"),
        RECORDS.c.id == bindparam("k_id"),
    )
    .values(
        version=bindparam("version"),
        deleted=bindparam("deleted"),
        data=bindparam("data"),
        field_meta=bindparam("field_meta"),
        updated_at=bindparam("updated_at"),
        nhs_number=bindparam("nhs_number"),
    )
)


def _insert(session: Session) -> Any:
    if session.get_bind().dialect.name == "postgresql":
        return pg_insert(RECORDS)
    return sqlite_insert(RECORDS)


_BUMP_POSTGRES = text(
    "INSERT INTO srv_scope_seq (scope, last_seq, min_seq) SELECT :scope, :n, 0 "
    "FROM (SELECT pg_advisory_xact_lock(hashtextextended(:key, 0))) AS team_lock "
    "ON CONFLICT (scope) DO UPDATE SET last_seq = srv_scope_seq.last_seq + EXCLUDED.last_seq "
    "RETURNING last_seq"
)
_BUMP_RAW = Statement(_BUMP_POSTGRES)
_BUMP_SQLITE = text(
    "INSERT INTO srv_scope_seq (scope, last_seq, min_seq) VALUES (:scope, :n, 0) "
    "ON CONFLICT (scope) DO UPDATE SET last_seq = srv_scope_seq.last_seq + excluded.last_seq "
    "RETURNING last_seq"
)


def _bump(session: Session, scope: str, n: int) -> int:
    """Take the scope's lock (``lock_scopes``' advisory lock, in the same statement) and advance
    its sequence by ``n`` (made at n if new); the last number. Held until the commit."""
    if session.get_bind().dialect.name == "postgresql":
        params = {"scope": scope, "n": n, "key": f"int-desk:{scope}"}
        ((last,),) = _BUMP_RAW.rows(session.connection(), params)
        return int(last)
    return int(session.execute(_BUMP_SQLITE, {"scope": scope, "n": n}).scalar_one())


def _record_values(r: Stored) -> dict[str, Any]:
    return {
        "entity": r.entity, "id": r.id, "scope": r.scope, "patient_id": r.patient_id,
        "version": r.version, "deleted": r.deleted, "data": json.dumps(r.data),
        "field_meta": json.dumps(r.meta), "updated_at": r.updated_at,
        "nhs_number": _nhs_number(r),
    }  # fmt: skip


def _nhs_number(r: Stored) -> str | None:
    """``Record.nhs_number`` (these Core writes bypass the model's ``record_keys`` event)."""
    number = r.data.get("nhs_number") if r.entity == "patient" else None
    return str(number)[:10] if number else None


def _toggle_digests(session: Session, toggles: list[tuple[str, str, uuid.UUID, int]]) -> None:
    """Live counts and id XORs of the scopes a batch added rows to or deleted rows from (read
    and written under the team lock)."""
    keys = sorted({(s, e) for s, e, _i, _d in toggles})
    found = {
        (s, e): [c, int(x, 16)]
        for s, e, c, x in session.execute(
            select(ScopeDigest.scope, ScopeDigest.entity, ScopeDigest.count, ScopeDigest.xor).where(
                ScopeDigest.scope.in_(sorted({s for s, _ in keys})),
                ScopeDigest.entity.in_(sorted({e for _, e in keys})),
            )
        )
    }
    new = {k: [0, 0] for k in keys if k not in found}
    for scope, entity, record_id, delta in toggles:
        item = found.get((scope, entity)) or new[(scope, entity)]
        item[0] += delta
        item[1] ^= schema.id_hash_part(record_id)
    if new:
        session.execute(
            insert(DIGESTS),
            [
                {"scope": s, "entity": e, "count": c, "xor": f"{x:016x}"}
                for (s, e), (c, x) in new.items()
            ],
        )
    touched = [(k, v) for k, v in found.items() if k in set(keys)]
    if touched:
        session.execute(
            update(DIGESTS)
            .where(
                DIGESTS.c.scope == bindparam("k_scope"),
                DIGESTS.c.entity == bindparam("k_entity"),
            )
            .values(count=bindparam("count"), xor=bindparam("xor")),
            [
                {"k_scope": s, "k_entity": e, "count": c, "xor": f"{x:016x}"}
                for (s, e), (c, x) in touched
            ],
        )


def parent_keys(all_fields: list[dict[str, Any]]) -> set[tuple[str, uuid.UUID]]:
    """The rows that place a batch's new rows (patient, care plan, huddle, cohort). A new
    person's cohort is among them: it is named by their membership in the same batch."""
    wanted: set[tuple[str, uuid.UUID]] = set()

    def want(entity: str, value: Any) -> None:
        try:
            wanted.add((entity, uuid.UUID(str(value))))
        except ValueError:
            pass

    for fields in all_fields:
        for name, entity in (
            ("patient_id", "patient"), ("care_plan_id", "care_plan"), ("huddle_id", "huddle"),
            ("cohort_id", "cohort"),
        ):  # fmt: skip
            if fields.get(name):
                want(entity, fields[name])
    return wanted


def patients_by_nhs(
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


def cohorts_by_name(
    session: Session, caller: Caller, req: P.PushRequest, all_fields: list[dict[str, Any]]
) -> dict[tuple[str, str], str]:
    """(team id, name) -> id of the live cohort already holding that name, for the batch's new
    cohorts: two laptops making "Housebound" offline must not make two (the laptops' stores
    hold a team's cohort names unique, so the second could never be stored)."""
    if not any(op.entity == "cohort" and op.kind == "insert" for op in req.ops):
        return {}
    found: dict[tuple[str, str], str] = {}
    for rid, scope, data in session.execute(
        select(Record.id, Record.scope, Record.data).where(
            Record.entity == "cohort", Record.scope.in_(caller.teams), Record.deleted.is_(False)
        )
    ):
        found.setdefault((scope, json.loads(data).get("name")), str(rid))
    return found


# Rows a laptop's store holds unique by these values (its (team, member) and (huddle, member)
# unique keys): a second live row of the same values could never be stored on a laptop.
UNIQUE_ROWS = {
    "team_membership": ("team_id", "member_id"),
    "huddle_attendee": ("huddle_id", "member_id"),
}


def unique_row_key(entity: str, data: dict[str, Any]) -> tuple[str, ...] | None:
    """``entity`` and its unique values (ids, whatever their dashes), or None if it has none."""
    names = UNIQUE_ROWS.get(entity)
    if names is None:
        return None
    try:
        return (entity, *(uuid.UUID(str(data.get(n))).hex for n in names))
    except ValueError:
        return None  # (a malformed id is refused by the write rules)


def rows_by_unique_key(
    session: Session, caller: Caller, req: P.PushRequest
) -> dict[tuple[str, ...], str]:
    """``unique_row_key`` -> id of the live row already holding it, for the batch's new team
    memberships and huddle attendees: two administrators adding one person to a team offline
    (or one attendee to a huddle) must not make two rows, which every laptop of the team would
    then fail to store, failing its verify and re-downloading on every sync."""
    entities = {op.entity for op in req.ops if op.kind == "insert" and op.entity in UNIQUE_ROWS}
    found: dict[tuple[str, ...], str] = {}
    if not entities:
        return found
    for rid, entity, data in session.execute(
        select(Record.id, Record.entity, Record.data).where(
            Record.entity.in_(entities), Record.scope.in_(caller.teams), Record.deleted.is_(False)
        )
    ):
        key = unique_row_key(entity, json.loads(data))
        if key is not None:
            found.setdefault(key, str(rid))
    return found


def _chunks(items: list[str], size: int) -> list[list[str]]:
    return [items[i : i + size] for i in range(0, len(items), size)]
