"""Rows from the server into the local store: the upsert of a pulled page (newer versions
only, rows with unsent edits left alone), rows this laptop cannot store set aside in quarantine,
a never-synced local row adopting the server's copy of the same thing, and the purge of people
who left this device's scope.

Rows are written with Core statements (the outbox hook ignores them) inside
``local.apply_session``: foreign keys unenforced, pages in the server's order.
"""

from __future__ import annotations

import json
import logging
import re
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any, TypeGuard, cast

from sqlalchemy import CursorResult, UniqueConstraint, delete, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from int_desk.domain.ids import new_id
from int_desk.store import changes
from int_desk.store.base import utcnow
from int_desk.store.sync_tables import SyncOutbox, SyncState
from int_desk.store.wire_entities import SYNCED_TABLES
from int_desk.wire import schema

log = logging.getLogger(__name__)

_UPSERT_SQL: dict[str, tuple[tuple[str, str], list[tuple[str, str]]]] = {}


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


# Data columns whose wire form differs from SQLite's (every other value is stored as it came).
CONVERTED = ("uuid", "bool", "json")
WRONG_KIND = "a value of the wrong kind"
_PLANS: dict[
    str, tuple[tuple[str, ...], tuple[tuple[int, str], ...], tuple[tuple[int, str], ...]]
] = {}


def _plan(
    entity: str,
) -> tuple[tuple[str, ...], tuple[tuple[int, str], ...], tuple[tuple[int, str], ...]]:
    """How a row of ``entity`` becomes its statements' parameters: the data columns in order,
    the few that change form (by position and kind) and the dates (by position and name)."""
    if entity not in _PLANS:
        cols = _upsert(entity)[1]
        names = tuple(n for n, _k in cols)
        convert = tuple((i, k) for i, (_n, k) in enumerate(cols) if k in CONVERTED)
        dates = tuple((i, n) for i, (n, k) in enumerate(cols) if k in ("date", "datetime"))
        _PLANS[entity] = (names, convert, dates)
    return _PLANS[entity]


def _parameters(
    entity: str, rows: list[dict[str, Any]], problems: dict[tuple[str, str], tuple[int, str, bool]]
) -> list[tuple[Any, ...]]:
    """The statements' parameters of ``entity``'s rows as the server sent them (objects): the
    id, the version, then every data column; rows this laptop cannot store go to ``problems``."""
    names = _plan(entity)[0]
    deleted = 2 + names.index("deleted")
    out = []
    for row in rows:
        values = [row["id"], row["v"], *map(row["data"].get, names)]
        values[deleted] = row["del"]
        out.append(values)
    return _checked(entity, out, problems)


WRONG_SHAPE = "a row of the wrong shape"


def _table_parameters(
    entity: str,
    cols: list[str],
    rows: list[list[Any]],
    problems: dict[tuple[str, str], tuple[int, str, bool]],
) -> list[tuple[Any, ...]]:
    """The same from one entity's rows of a column-form full page (``[id, version, values of
    cols...]``, live rows only). When the server's columns are this laptop's (the same version)
    a row is its parameters as it came, ``deleted`` aside; otherwise each
    column is picked by name (one the server does not send is null)."""
    names = _plan(entity)[0]
    deleted = 2 + names.index("deleted")
    width = 2 + len(cols)
    out = []
    if list(names) == [*cols, "deleted"]:
        for row in rows:
            if isinstance(row, list) and len(row) == width:
                row.append(False)
                out.append(row)
            else:
                _misshapen(entity, row, problems)
    else:
        at = {name: 2 + i for i, name in enumerate(cols)}
        picks = [at.get(name) for name in names]
        for row in rows:
            if isinstance(row, list) and len(row) == width:
                values = [row[0], row[1]]
                values += [None if i is None else row[i] for i in picks]
                values[deleted] = False
                out.append(values)
            else:
                _misshapen(entity, row, problems)
    return _checked(entity, out, problems)


def _misshapen(
    entity: str, row: Any, problems: dict[tuple[str, str], tuple[int, str, bool]]
) -> None:
    rid, version = (row[0], row[1]) if isinstance(row, list) and len(row) >= 2 else ("", 0)
    problems[(entity, id_hex(rid) or "")] = (version, WRONG_SHAPE, False)


_HEX_ID = re.compile("[0-9a-f]{32}").fullmatch
UNREADABLE_ID = "an id this laptop cannot read"


def id_hex(value: Any) -> str | None:
    """An id from the wire (a UUID's text, as the server writes it) in the laptop's stored form,
    32 hex digits; None for anything else (text such as "None", a number), which names no row
    this laptop can hold: only a broken or hostile endpoint sends one."""
    if isinstance(value, str):
        text = value.replace("-", "")
        if _HEX_ID(text):
            return text
    return None


def _checked(
    entity: str,
    out: list[list[Any]],
    problems: dict[tuple[str, str], tuple[int, str, bool]],
) -> list[tuple[Any, ...]]:
    """Rows' parameters worked out column by column (a first download's 150,000 rows then
    cost a short loop per converted column, not a function call per value): ids and dates
    checked, UUIDs, booleans and JSON put in SQLite's form. A row this laptop cannot store goes
    to ``problems`` instead (its first problem: its id, then dates); one whose own id it cannot
    read is set aside under the empty id (its text is not written anywhere)."""
    _names, convert, dates = _plan(entity)
    deleted = 2 + _names.index("deleted")
    wrong: dict[int, str] = {}  # position in ``out`` -> the row's first problem
    for n, values in enumerate(out):
        rid = values[0]
        values[0] = rid.replace("-", "") if isinstance(rid, str) else ""
        if not _HEX_ID(values[0]):
            values[0] = ""
            wrong[n] = UNREADABLE_ID
    low, high = _YEARS
    for i, name in dates:
        for n, values in enumerate(out):
            v = values[i + 2]
            if v is not None and not (
                isinstance(v, str) and v[4:5] == "-" and low <= v[:4] <= high
            ):
                wrong.setdefault(n, f"{entity}.{name} is a date this laptop cannot use")
    for i, kind in convert:
        for n, values in enumerate(out):
            v = values[i + 2]
            if v is None:
                continue
            try:
                if kind == "uuid":
                    v = v.replace("-", "")
                    if not _HEX_ID(v):
                        raise ValueError
                    values[i + 2] = v
                elif kind == "bool":
                    values[i + 2] = 1 if v else 0
                else:
                    values[i + 2] = json.dumps(v)
            except (AttributeError, TypeError, ValueError):
                wrong.setdefault(n, WRONG_KIND)
    for n, problem in wrong.items():
        problems[(entity, out[n][0])] = (out[n][1], problem, bool(out[n][deleted]))
    return [tuple(values) for n, values in enumerate(out) if n not in wrong]


QUARANTINE = "q:"  # sync_state keys "q:<entity>:<id hex>": rows from the server set aside


@dataclass
class Prepared:
    """A page's rows as the statements' parameters by entity, and the rows this laptop cannot
    store by (entity, id hex): (version, problem, deleted). Worked out without the database,
    so a download prepares the next page while this one is written."""

    by_entity: dict[str, list[tuple[Any, ...]]]
    problems: dict[tuple[str, str], tuple[int, str, bool]]


def prepare(rows: list[dict[str, Any]]) -> Prepared:
    """A page's changes (objects, as an incremental page or a full page in the row form)."""
    grouped: dict[str, list[dict[str, Any]]] = {}
    for row in rows:
        if row["e"] in schema.ENTITIES:  # an entity this version does not know: ignored
            grouped.setdefault(row["e"], []).append(row)
    problems: dict[tuple[str, str], tuple[int, str, bool]] = {}
    by_entity = {entity: _parameters(entity, group, problems) for entity, group in grouped.items()}
    return Prepared(by_entity, problems)


def prepare_page(page: dict[str, Any]) -> Prepared:
    """A full download's page in whichever form the endpoint wrote it: ``tables`` (the column
    form this laptop asks for) or ``changes`` (an endpoint that writes only the row form)."""
    if "tables" not in page:
        return prepare(page["changes"])
    problems: dict[tuple[str, str], tuple[int, str, bool]] = {}
    by_entity: dict[str, list[tuple[Any, ...]]] = {}
    for table in page["tables"]:
        entity = table["e"]
        if entity in schema.ENTITIES:  # an entity this version does not know: ignored
            rows = _table_parameters(entity, table["cols"], table["rows"], problems)
            by_entity.setdefault(entity, []).extend(rows)
    return Prepared(by_entity, problems)


def last_entity(page: dict[str, Any]) -> str | None:
    """The entity of a column-form page's last table (pages come in ``schema.ORDER``; a page
    of rows, from an endpoint without the column form, builds its indexes at the end)."""
    items = page.get("tables") or ()
    return items[-1]["e"] if items else None


class _Duplicate(ValueError):
    """A server row holding a unique value another synced row here holds (``_adopt_clashing``)."""


# What storing a row can raise for a value this laptop cannot hold: the row is set aside. (An
# IntegrityError's text holds the row's values: it is never logged or kept.)
_UNSTORABLE = (UnicodeError, ValueError, OverflowError, IntegrityError)
DUPLICATE = "a value another record on this laptop already holds"


def apply_rows(
    s: Session,
    rows: list[dict[str, Any]] | Prepared,
    skip: set[tuple[str, str]] | None = None,
    quarantined: list[str] | None = None,
) -> tuple[int, int]:
    """Upsert server rows (newer versions only); rows with unsent local edits are skipped.
    ``rows``: as the server sent them, or ``prepare``'d.

    A row this laptop cannot store (text that is not Unicode, a date it cannot convert: written
    on the server before it checked such values) is set aside in ``sync_state`` by entity, id
    and version, and its key appended to ``quarantined``; the rest of the page is applied, so
    one bad row never stops a team's sync. A newer version of the row (repaired on the server
    with ``int-desk admin repair-rows``) replaces the entry when it arrives.
    """
    page = rows if isinstance(rows, Prepared) else prepare(rows)
    by_entity, problems, skipped = dict(page.by_entity), dict(page.problems), 0
    if skip:  # (read in this transaction: an edit committed meanwhile is seen)
        for entity, group in page.by_entity.items():
            kept = [one for one in group if (entity, one[0]) not in skip]
            skipped, by_entity[entity] = skipped + len(group) - len(kept), kept
        skipped += sum(1 for key in problems if key in skip)
        problems = {key: value for key, value in problems.items() if key not in skip}
    any_quarantined = _has_quarantine(s)  # (usually not: then no clean-up query per entity)
    applied = 0
    for entity in schema.ORDER:
        batch = by_entity.get(entity)
        if batch:
            try:
                with s.begin_nested():
                    _upsert_batch(s, entity, batch)
            except _UNSTORABLE as exc:
                # Some row cannot be stored: find it one row at a time, keep the others.
                log.warning(
                    "a page of %s rows could not be stored (%s)", entity, type(exc).__name__
                )
                kept, gone = [], 2 + _plan(entity)[0].index("deleted")
                for one in batch:
                    try:
                        with s.begin_nested():
                            _upsert_batch(s, entity, [one])
                        kept.append(one)
                    except _UNSTORABLE as err:
                        problems[(entity, one[0])] = (one[1], _kind_of(err), bool(one[gone]))
                batch = kept
            applied += len(batch)
            _note_applied(s, entity, batch)
            if any_quarantined:
                _forget_quarantined(s, entity, [one[0] for one in batch])
    for (entity, rid), (version, problem, tombstone) in problems.items():
        log.warning("quarantined %s %s v%s from the server: %s", entity, rid, version, problem)
        key = f"{QUARANTINE}{entity}:{rid}"
        value = json.dumps(
            {"v": version, "del": tombstone, "problem": problem, "at": utcnow().isoformat()}
        )
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
    if isinstance(exc, _Duplicate | IntegrityError):
        return DUPLICATE
    return f"a value that cannot be stored ({type(exc).__name__})"


_YEARS = (f"{schema.MIN_YEAR:04d}", f"{schema.MAX_YEAR:04d}")


_CHUNK = 500  # ids in one IN (...): far below SQLite's limit on parameters, whatever a page holds


def _chunks(items: list[Any]) -> Iterator[list[Any]]:
    for start in range(0, len(items), _CHUNK):
        yield items[start : start + _CHUNK]


def _forget_quarantined(s: Session, entity: str, rids: list[str]) -> None:
    """Rows applied now no longer need their quarantine entries."""
    for keys in _chunks([f"{QUARANTINE}{entity}:{rid}" for rid in rids]):
        s.execute(delete(SyncState).where(SyncState.key.in_(keys)))


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
    """Column sets that are unique in the local table. The id is never one: it is the primary
    key (a PrimaryKeyConstraint, not a UniqueConstraint) and no synced table marks it unique."""
    table = SYNCED_TABLES[entity]
    keys = [tuple(c.name for c in u.columns) for u in table.constraints if _is_unique(u)]
    return keys + [(c.name,) for c in table.columns if c.unique]


def rowcount(s: Session, statement: Any) -> int:
    """Rows a DELETE or UPDATE touched."""
    return cast(CursorResult[Any], s.execute(statement)).rowcount


def _is_unique(constraint: Any) -> TypeGuard[UniqueConstraint]:
    return isinstance(constraint, UniqueConstraint)


def _adopt_clashing(s: Session, entity: str, batch: list[tuple[Any, ...]], insert: str) -> None:
    """Server rows the ``INSERT OR IGNORE`` dropped because a local row holds their unique
    value (a team or place name, an NHS number) under another id.

    A local row never synced (a workspace made on its own, then connected: its own "Bicester
    INT") is the same thing as the server's: its references move to the server's id and the
    server's row takes its place. A synced row deleted since (a place the administrator deleted,
    then added again under its name) gives way to the server's: a re-download would remove it
    too. A server row clashing with a live *synced* row (the same NHS number on two server
    records, which the endpoint refuses) is set aside, logged by both ids: the laptop keeps the
    row it has, and the verify counts the other as held.
    """
    keys = _unique_keys(entity)
    if not keys:
        return
    conn = s.connection()
    ids = [row[0] for row in batch]
    present: set[str] = set()
    for chunk in _chunks(ids):
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
                f'SELECT id, server_version, deleted FROM "{entity}" WHERE {where}',
                tuple(values[c] for c in key),
            ).first()
            if local is None:
                continue
            if local[1] is None:
                _repoint(s, entity, local[0], row[0], values)
                log.info("local %s %s adopted the server's %s", entity, local[0], row[0])
            elif local[2]:
                conn.exec_driver_sql(f'DELETE FROM "{entity}" WHERE id = ?', (local[0],))
                log.info("deleted %s %s gave way to the server's %s", entity, local[0], row[0])
            else:  # set aside (apply_rows): the laptop cannot hold both
                log.warning("%s %s clashes with synced %s %s", entity, row[0], entity, local[0])
                raise _Duplicate(entity)
            conn.exec_driver_sql(insert, [row])
            break


def _repoint(s: Session, entity: str, old: str, new: str, server: dict[str, Any]) -> None:
    """Move every reference from local row ``old`` to ``new``, then delete ``old``.

    Local edits waiting on ``old`` (or refused because the server did not know it) are queued
    again against ``new``; where this laptop's own values of the row differ from the server's
    (``server``: as stored here), an update with no base version goes too, so the server keeps
    both as conflicts for a person to decide — neither copy's values are silently dropped. A
    copy deleted here before it ever reached the server claims nothing about the server's row
    (someone added a person or colleague, then took them out again): neither its deletion nor
    its values are queued against the colleague's record.
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
        kinds = dict(_upsert(entity)[1])
        differing = {
            k: v
            for k, v in values.items()
            if k not in schema.META_FIELDS and server.get(k) != schema.wire_to_storage(kinds[k], v)
        }
        if differing and not values.get("deleted"):
            s.add(
                SyncOutbox(
                    op_id=new_id(), entity=entity, entity_id=new_id_, kind="update",
                    base_version=0, fields=differing, actor_id=mine[0].actor_id if mine else None,
                )
            )  # fmt: skip
    for op in mine:
        s.delete(op)
    old_text, new_text = str(old_id), str(new_id_)
    for op in s.scalars(select(SyncOutbox).where(SyncOutbox.status.in_(("pending", "rejected")))):
        if any(v == old_text for v in op.fields.values()):
            op.fields = {k: new_text if v == old_text else v for k, v in op.fields.items()}
            if op.sent_at is not None:  # (every rejected op was sent): its id names what it sent
                op.op_id, op.sent_at = new_id(), None  # new content: a new op id
            op.status, op.reason = "pending", ""
    s.flush()


def purge_patients(s: Session, patient_ids: list[Any]) -> int:
    """Remove every local row about patients who left this device's scope; how many people.

    An id this laptop cannot read (``id_hex``) names no one it holds: it is set aside with a
    log line that counts such ids (never their text), and the rest are purged."""
    readable = [id_hex(p) for p in patient_ids]
    ids = [uuid.UUID(p) for p in readable if p]
    if len(ids) < len(readable):
        log.warning(
            "%d ids of people who left this device's scope could not be read: set aside",
            len(readable) - len(ids),
        )
    if not ids:
        return 0
    from int_desk.store import models as m

    removed = 0
    plans = select(m.CarePlan.id).where(m.CarePlan.patient_id.in_(ids))
    for model in (m.Goal, m.PlanAction):
        removed += rowcount(s, delete(model).where(model.care_plan_id.in_(plans)))
    for name in reversed(schema.ORDER):
        table = SYNCED_TABLES[name]
        if "patient_id" in table.c:  # (the patient table's own id is ``id``)
            removed += rowcount(s, delete(table).where(table.c.patient_id.in_(ids)))
    removed += rowcount(s, delete(m.Patient).where(m.Patient.id.in_(ids)))
    for name in schema.ORDER:
        if changes.person_key(name):
            changes.note(s, name, ids)
    log.info("purged %d patients (%d rows) that left this device's scope", len(ids), removed)
    return len(ids)
