"""What a commit changed, published to whoever shows it (the idea of Anki's ``OpChanges``).

Every write to the store goes through a session of the workspace's factory; ``install`` hooks
it beside the outbox (``outbox.install``). ``after_flush`` notes which tables and which people
the flushed ORM rows belong to (sets of ids, nothing else); writers that bypass the ORM (sync's
Core upserts, ``outbox.insert_rows``) call ``note``. After the outermost commit the session's
notes go to the workspace's ``ChangeFeed`` as one ``Changes`` value; a rollback drops them.
So a screen learns of an edit made by any service, the sync client, an import or the CLI
without the caller doing anything, and a missed hand-written "refresh now" cannot leave a
clinician looking at a stale plan or caseload.

Subscribers are called on the committing thread (often a worker): the desktop app marshals
them to its GUI thread (int_desk/app/events.py). Nothing here imports Qt.
"""

from __future__ import annotations

import logging
import threading
import uuid
import weakref
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from functools import partial
from typing import Any

from sqlalchemy import event, select
from sqlalchemy.orm import Session, SessionTransaction, sessionmaker

from int_desk.store.base import APPLYING, Base, Synced
from int_desk.store.models import CarePlan
from int_desk.store.wire_entities import SYNCED_TABLES

log = logging.getLogger(__name__)

# Beyond this many people in one commit (an import, a sync page) the set is not kept: the
# change is "anyone's" and views reload what they show. Keeps a 50,000-row import cheap.
MAX_PEOPLE = 200
_PENDING = "int_desk_changes"


@dataclass(frozen=True)
class Changes:
    """Tables written and people whose records changed in one commit (or several, merged).

    ``all_patients``: too many people to list, or not known (a full re-download): any person's
    record may have changed. ``local_edit``: this laptop edited synced rows (sync has something
    to send); rows written from the server are not local edits.
    """

    entities: frozenset[str] = frozenset()
    patient_ids: frozenset[uuid.UUID] = frozenset()
    all_patients: bool = False
    local_edit: bool = False

    def touches(self, *entities: str) -> bool:
        """True when a row of any of these tables was written."""
        return not self.entities.isdisjoint(entities)

    def touches_records(self) -> bool:
        """True when a synced record was written (not only audit or sync bookkeeping)."""
        return not self.entities.isdisjoint(SYNCED_TABLES)

    def touches_patient(self, patient_id: uuid.UUID | None) -> bool:
        return patient_id is not None and (self.all_patients or patient_id in self.patient_ids)

    def __or__(self, other: Changes) -> Changes:
        everyone = self.all_patients or other.all_patients
        people = frozenset() if everyone else self.patient_ids | other.patient_ids
        return Changes(
            self.entities | other.entities,
            people,
            everyone,
            self.local_edit or other.local_edit,
        )

    def __bool__(self) -> bool:
        return bool(self.entities)


Subscriber = Callable[[Changes], None]


class ChangeFeed:
    """Subscribers to one workspace's commits. Thread-safe; a failing subscriber is logged and
    never undoes or blocks the commit (the data is stored whatever a screen does)."""

    def __init__(self) -> None:
        self._subscribers: tuple[Subscriber, ...] = ()
        self._lock = threading.Lock()

    def subscribe(self, fn: Subscriber) -> Callable[[], None]:
        """Call ``fn(changes)`` after each commit that wrote something; returns the unsubscribe."""
        with self._lock:
            self._subscribers = (*self._subscribers, fn)

        def unsubscribe() -> None:
            with self._lock:
                self._subscribers = tuple(s for s in self._subscribers if s is not fn)

        return unsubscribe

    def publish(self, changes: Changes) -> None:
        for fn in self._subscribers:
            try:
                fn(changes)
            except Exception:
                log.exception("a change subscriber failed")


@dataclass
class _Notes:
    """What one session's open transaction has written so far."""

    entities: set[str] = field(default_factory=set)
    people: set[Any] = field(default_factory=set)  # UUIDs, or hex text from Core writers
    all_patients: bool = False
    local_edit: bool = False

    def add_people(self, ids: Iterable[Any]) -> None:
        if self.all_patients:
            return
        self.people.update(i for i in ids if i is not None)
        if len(self.people) > MAX_PEOPLE:
            self.all_patients, self.people = True, set()

    def to_changes(self) -> Changes:
        people = frozenset(p if isinstance(p, uuid.UUID) else uuid.UUID(p) for p in self.people)
        return Changes(frozenset(self.entities), people, self.all_patients, self.local_edit)


def _notes(session: Session) -> _Notes:
    notes = session.info.get(_PENDING)
    if notes is None:
        notes = session.info[_PENDING] = _Notes()
    return notes


# How a table's row names its person: the patient row itself, a patient_id column that refers
# to the patient, or a care_plan_id (goals, plan actions). audit_event's patient_id is not a
# reference (reading a record writes one): it is not a change to anyone's record.
_PERSON_KEY: dict[str, str | None] = {}


def person_key(table: str) -> str | None:
    if not _PERSON_KEY:
        for t in Base.metadata.tables.values():
            refs = {fk.parent.name: fk.column.table.name for fk in t.foreign_keys}
            if t.name == "patient":
                _PERSON_KEY[t.name] = "id"
            elif refs.get("patient_id") == "patient":
                _PERSON_KEY[t.name] = "patient_id"
            elif refs.get("care_plan_id") == "care_plan":
                _PERSON_KEY[t.name] = "care_plan_id"
            else:
                _PERSON_KEY[t.name] = None
    return _PERSON_KEY.get(table)


def note(
    session: Session,
    entity: str,
    patient_ids: Iterable[Any] = (),
    *,
    care_plan_ids: Iterable[Any] = (),
    all_patients: bool = False,
) -> None:
    """Record rows written without the ORM (Core statements) in ``session``'s transaction.

    ``patient_ids`` / ``care_plan_ids``: UUIDs or hex text of the people (or their plans) the
    rows belong to. Published with the ORM's changes at commit, dropped on rollback.
    """
    notes = _notes(session)
    notes.entities.add(entity)
    if entity in SYNCED_TABLES and not session.info.get(APPLYING):
        notes.local_edit = True
    if all_patients:
        notes.all_patients, notes.people = True, set()
    notes.add_people(patient_ids)
    plans = list(care_plan_ids)
    if plans:
        notes.add_people(_people_of_plans(session, notes, plans))


def note_rows(session: Session, table: str, ids: list[Any], rows: list[dict[str, Any]]) -> None:
    """``note`` for new rows of one table given as column values (``outbox.insert_rows``)."""
    key = person_key(table)
    if key is None:
        note(session, table)
    elif len(rows) > MAX_PEOPLE:
        note(session, table, all_patients=True)
    elif key == "id":
        note(session, table, ids)
    elif key == "care_plan_id":
        note(session, table, care_plan_ids=[r[key] for r in rows if r.get(key)])
    else:
        note(session, table, [r.get(key) for r in rows])


def note_everything(session: Session) -> None:
    """Every synced table, anyone's record (a full re-download, an id taken over)."""
    notes = _notes(session)
    notes.entities.update(SYNCED_TABLES)
    notes.all_patients, notes.people = True, set()


def _people_of_plans(session: Session, notes: _Notes, plan_ids: list[Any]) -> list[Any]:
    """The people whose care plans these are (one query; none once everyone is affected)."""
    if notes.all_patients:
        return []
    wanted = {p if isinstance(p, uuid.UUID) else uuid.UUID(p) for p in plan_ids}
    if len(wanted) > MAX_PEOPLE:
        notes.all_patients, notes.people = True, set()
        return []
    people = []
    for plan_id in list(wanted):  # plans in this session: no query
        plan = session.identity_map.get((CarePlan, (plan_id,), None))
        if plan is not None:
            people.append(plan.patient_id)
            wanted.discard(plan_id)
    if wanted:
        conn = session.connection()
        people += conn.scalars(select(CarePlan.patient_id).where(CarePlan.id.in_(wanted))).all()
    return people


# Factories hooked already (weakly: a closed workspace's factory is not kept alive by this).
_INSTALLED: weakref.WeakSet[sessionmaker[Session]] = weakref.WeakSet()


def install(factory: sessionmaker[Session], feed: ChangeFeed) -> None:
    """Hook ``factory``'s sessions: their commits are published to ``feed``."""
    if factory in _INSTALLED:
        return
    event.listen(factory, "after_flush", _after_flush)
    event.listen(factory, "after_commit", partial(_after_commit, feed))
    event.listen(factory, "after_transaction_end", _after_transaction_end)
    _INSTALLED.add(factory)


def _after_flush(session: Session, _ctx: Any) -> None:
    notes = _notes(session)
    local = not session.info.get(APPLYING)
    plans: list[Any] = []
    for group in (session.new, session.dirty, session.deleted):
        for obj in group:
            table = obj.__tablename__
            notes.entities.add(table)
            if local and isinstance(obj, Synced):
                notes.local_edit = True
            key = person_key(table)
            if key is None or notes.all_patients:
                continue
            value = getattr(obj, key)
            if key == "care_plan_id":
                plans.append(value)
            elif value is not None:
                notes.people.add(value)
    if len(notes.people) > MAX_PEOPLE:
        notes.all_patients, notes.people = True, set()
    if plans:
        notes.add_people(_people_of_plans(session, notes, [p for p in plans if p is not None]))


def _after_commit(feed: ChangeFeed, session: Session) -> None:
    if session.get_nested_transaction() is not None:
        return  # a savepoint released: the outer transaction may still roll back
    notes = session.info.pop(_PENDING, None)
    if notes is not None and notes.entities:
        feed.publish(notes.to_changes())


def _after_transaction_end(session: Session, transaction: SessionTransaction) -> None:
    if transaction.parent is None:
        session.info.pop(_PENDING, None)  # rolled back (a commit has taken them already)
