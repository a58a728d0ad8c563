"""The caseload query: ordered row keys for a filter, and the rows themselves fetched by batch.

One function serves the window and ``int-desk caseload``. Sorting, filtering and search run in
SQL over the caseload index (``int_desk.store.caseload_index``: one row per person per team,
kept fresh by triggers, with an FTS5 index for name / NHS number / postcode search); every
query first brings the index up to date. Saved views are ``int_desk.services.caseload_views``.

Row keys are the index's integer rowids (stable across refreshes), so a 50,000-row result is a
list of ints; ``fetch_rows`` renders only the rows a view asks for.
"""

from __future__ import annotations

import json
import re
import threading
import uuid
from collections.abc import Sequence
from dataclasses import asdict, dataclass, field, fields, replace
from datetime import date, datetime, timedelta
from typing import Any

from cachetools import LRUCache
from sqlalchemy import select
from sqlalchemy.orm import Session

from int_desk.domain.actor import Actor
from int_desk.domain.errors import NotFound, ValidationError
from int_desk.domain.permissions import REFERRED_ONLY_ROLES
from int_desk.domain.person_names import PersonDisplay, fold, squash
from int_desk.domain.uk_time import london_today
from int_desk.domain.vocab import (
    OPEN_TASK_STATUSES,
    AuditAction,
    FlagCode,
    Priority,
)
from int_desk.services import access
from int_desk.services.extract_reader import parse_uk_date
from int_desk.store import audit, caseload_index
from int_desk.store.caseload_index import postcode_key
from int_desk.store.models import Cohort, Member, Place, Team

RESULT_CACHE_SIZE = 16
_RESULTS: LRUCache[tuple[Any, ...], tuple[int, ...]] = LRUCache(RESULT_CACHE_SIZE)
_RESULTS_LOCK = threading.Lock()  # queries may run on worker threads; the cache is not safe
RECENT_DISCHARGE_DAYS = 30


def _exec(session: Session, sql: str, params: Sequence[Any] | dict[str, Any] = ()) -> Any:
    return session.connection().exec_driver_sql(sql, tuple(params) if params else ())


# --- filters ---------------------------------------------------------------------------------


class Col:
    """Caseload columns (the window's and the CLI's), in display order."""

    NAME, NHS, AGE, COHORTS, PRIORITY, LEAD, LAST_CONTACT, NEXT_REVIEW, PLAN, TASKS, FLAGS = range(
        11
    )


COLUMNS = (
    ("name", "Name"),
    ("nhs", "NHS number"),
    ("age", "Age"),
    ("cohorts", "Cohort"),
    ("priority", "Priority"),
    ("lead", "Lead"),
    ("last_contact", "Last contact"),
    ("next_review", "Review due"),
    ("plan", "Care plan"),
    ("tasks", "Tasks"),
    ("flags", "Flags"),
)
COLUMN_DESCRIPTIONS = (
    "Name", "NHS number", "Age", "Cohorts", "Priority", "Named lead professional",
    "Last contact", "Next care-plan review due", "Care-plan status", "Open tasks", "Flags",
)  # fmt: skip
SORT_KEYS = tuple(k for k, _ in COLUMNS)

_ORDER_SQL = {
    "name": "ci.sort_name",
    "nhs": "ci.nhs",
    "age": "ci.dob",  # ascending age = descending date of birth: see _order
    "cohorts": "ci.cohorts",
    "priority": "ci.priority_rank",
    "lead": "coalesce(ci.lead_name, '')",  # not named first
    "last_contact": "ci.last_contact",  # never contacted first
    "next_review": "coalesce(ci.next_review, '9999-12-31')",  # no plan last
    "plan": "ci.plan_status",
    "tasks": "ci.open_tasks",
    "flags": "length(ci.flags)",
}

PLAN_STATUSES = ("active", "draft", "none", "review_overdue")
PLAN_STATUS_LABELS = {
    "active": "Active",
    "draft": "Draft",
    "closed": "Closed",
    "none": "No plan",
    "review_overdue": "Review overdue",
}
MEMBERSHIP_STATES = ("active", "recently_discharged", "all")


@dataclass
class CaseloadFilter:
    """What to show. Every list means 'any of'; empty means no restriction. JSON-friendly."""

    team_ids: list[str] = field(default_factory=list)
    cohort_ids: list[str] = field(default_factory=list)
    place_ids: list[str] = field(default_factory=list)
    lead_member_ids: list[str] = field(default_factory=list)  # "me" = the signed-in member
    priorities: list[str] = field(default_factory=list)
    flags: list[str] = field(default_factory=list)
    plan_status: list[str] = field(default_factory=list)  # active|draft|none|review_overdue
    review_overdue: bool = False
    membership: str = "active"  # active | recently_discharged | all
    search: str = ""
    sort: str = "name"
    descending: bool = False

    def to_json(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_json(cls, data: dict[str, Any] | None) -> CaseloadFilter:
        data = data or {}
        known = {f.name for f in fields(cls)}
        f = cls(**{k: v for k, v in data.items() if k in known})
        f.validate()
        return f

    def validate(self) -> None:
        if self.sort not in SORT_KEYS:
            raise ValidationError(f"Unknown sort column '{self.sort}'.", field="sort")
        if self.membership not in MEMBERSHIP_STATES:
            raise ValidationError("Unknown membership filter.", field="membership")
        for p in self.priorities:
            if p not in {x.value for x in Priority}:
                raise ValidationError(f"Unknown priority '{p}'.", field="priorities")
        for fl in self.flags:
            if fl not in {x.value for x in FlagCode}:
                raise ValidationError(f"Unknown flag '{fl}'.", field="flags")
        for ps in self.plan_status:
            if ps not in PLAN_STATUSES:
                raise ValidationError(f"Unknown care-plan status '{ps}'.", field="plan_status")
        if len(self.search) > 200:
            raise ValidationError("Search text is too long.", field="search")


# --- search ----------------------------------------------------------------------------------

_NHS_LIKE = re.compile(r"^[\d\s-]+$")
_POSTCODE_LIKE = re.compile(r"^[A-Za-z]{1,2}\d[A-Za-z\d]?(\s*\d[A-Za-z]{0,2})?$")


def _quote(token: str) -> str:
    return '"' + token.replace('"', '""') + '"'


def nhs_prefix(text: str) -> str | None:
    """The digits when the search looks like (part of) an NHS number, spaces allowed."""
    text = text.strip()
    if text and _NHS_LIKE.match(text):
        digits = re.sub(r"\D", "", text)
        return digits[:10] or None
    return None


def postcode_prefix(text: str) -> str | None:
    """The postcode (lower case, no spaces) when the search has a postcode's shape."""
    text = text.strip()
    if text and not _NHS_LIKE.match(text) and _POSTCODE_LIKE.match(text):
        return postcode_key(text)
    return None


def fts_query(text: str) -> str | None:
    """Translate what a user types into an FTS5 query (prefix match on every word).

    Digits (spaces and hyphens allowed) search NHS numbers; a postcode shape searches postcodes
    (spaces ignored); anything else searches names, accent- and case-insensitively.
    """
    text = text.strip()
    if not text:
        return None
    if _NHS_LIKE.match(text):
        digits = re.sub(r"\D", "", text)
        return f"nhs : {_quote(digits)}*" if digits else None
    if _POSTCODE_LIKE.match(text):
        return f"pc : {_quote(text.replace(' ', '').lower())}*"
    # Punctuation inside a word is ignored (obrien, o'brien, O’Brien; smith-jones).
    words = [squash(w) for w in re.split(r"[\s,]+", fold(text))]
    words = [w for w in words if w.strip('"')]
    if not words:
        return None
    return " AND ".join(f"name : {_quote(w)}*" for w in words[:8])


def dob_search(text: str) -> date | None:
    """The date when the search is a date of birth as people write it (10/01/1930,
    10-Jan-1930, 10.01.1930, 1930-01-10); digits alone stay an NHS-number search."""
    text = text.strip()
    if not text or text.replace(" ", "").isdigit():
        return None
    try:
        return parse_uk_date(text)[0]
    except ValueError:
        return None


# --- the query -------------------------------------------------------------------------------


def _scope_teams(session: Session, actor: Actor, f: CaseloadFilter) -> list[str]:
    teams = {t.hex for t in actor.team_ids}
    if f.team_ids:
        wanted = {uuid.UUID(str(t)).hex for t in f.team_ids}
        teams &= wanted
    if f.place_ids:
        places = [uuid.UUID(str(p)) for p in f.place_ids]
        in_places = {
            t.hex for t in session.scalars(select(Team.id).where(Team.place_id.in_(places)))
        }
        teams &= in_places
    return sorted(teams)


def _where(
    session: Session, actor: Actor, f: CaseloadFilter, today: date
) -> tuple[list[str], list[Any]]:
    teams = _scope_teams(session, actor, f)
    if not teams:
        return ["0"], []
    where = [f"ci.team_id IN ({', '.join('?' * len(teams))})"]
    params: list[Any] = list(teams)
    if actor.role in REFERRED_ONLY_ROLES:  # a VCSE worker: only people referred to them
        where.append(
            "ci.patient_id IN (SELECT patient_id FROM referral WHERE to_member_id = ? "
            "AND deleted = 0)"
        )
        params.append(actor.member_id.hex)
    if f.membership == "active":
        where.append("ci.active = 1")
    elif f.membership == "recently_discharged":
        where.append("ci.active = 0 AND ci.discharged_on >= ?")
        params.append((today - timedelta(days=RECENT_DISCHARGE_DAYS)).isoformat())
    if f.cohort_ids:
        ids = [uuid.UUID(str(c)).hex for c in f.cohort_ids]
        where.append("(" + " OR ".join("instr(ci.cohort_ids, ?) > 0" for _ in ids) + ")")
        params.extend(f",{c}," for c in ids)
    if f.lead_member_ids:
        leads = [
            actor.member_id.hex if str(m) == "me" else uuid.UUID(str(m)).hex
            for m in f.lead_member_ids
        ]
        where.append(f"ci.lead_member_id IN ({', '.join('?' * len(leads))})")
        params.extend(leads)
    if f.priorities:
        ranks = [Priority(p).rank for p in f.priorities]
        where.append(f"ci.priority_rank IN ({', '.join('?' * len(ranks))})")
        params.extend(ranks)
    if f.flags:
        where.append("(" + " OR ".join("instr(ci.flags, ?) > 0" for _ in f.flags) + ")")
        params.extend(f",{fl}," for fl in f.flags)
    if f.plan_status:
        parts = []
        for ps in f.plan_status:
            if ps == "review_overdue":
                parts.append("(ci.plan_status = 'active' AND ci.next_review < ?)")
                params.append(today.isoformat())
            elif ps == "none":
                parts.append("ci.plan_status IN ('none', 'closed')")
            else:
                parts.append("ci.plan_status = ?")
                params.append(ps)
        where.append("(" + " OR ".join(parts) + ")")
    if f.review_overdue:
        where.append("ci.plan_status = 'active' AND ci.next_review < ?")
        params.append(today.isoformat())
    dob = dob_search(f.search)
    if dob is not None:
        where.append("ci.dob = ?")
        params.append(dob.isoformat())
        return where, params
    digits = nhs_prefix(f.search)
    if digits:
        # A short prefix matches most people: filter inside the name index ("+" keeps SQLite
        # off the NHS-number index) rather than sorting thousands of rows by name afterwards.
        plus = "+" if len(digits) <= 4 and f.sort == "name" else ""
        where.append(f"{plus}ci.nhs >= ? AND {plus}ci.nhs < ?")
        params.extend((digits, digits + ":"))  # ':' sorts just after '9'
    pc = None if digits else postcode_prefix(f.search)
    if pc:
        # A range on the normalised postcode, which the name index holds: a district such as
        # "OX2" matches most people, and walking the index beats an FTS list of all of them.
        where.append("ci.pc >= ? AND ci.pc < ?")
        params.extend((pc, pc[:-1] + chr(ord(pc[-1]) + 1)))
    match = None if digits or pc else fts_query(f.search)
    if match:
        where.append("ci.rowid IN (SELECT rowid FROM caseload_fts WHERE caseload_fts MATCH ?)")
        params.append(match)
    return where, params


def _order(f: CaseloadFilter) -> str:
    """ORDER BY matching an index: every term in one direction (ties by name reverse too)."""
    descending = f.descending != (f.sort == "age")
    d = "DESC" if descending else "ASC"
    if f.sort == "name":  # pc never reorders (same name and NHS number: same person) but
        # completes the name index's column list, so rowid is next and no sort is needed
        return f"ci.sort_name {d}, ci.nhs {d}, ci.pc {d}, ci.rowid {d}"
    return f"{_ORDER_SQL[f.sort]} {d}, ci.sort_name {d}, ci.rowid {d}"


def query_keys(
    *,
    session: Session,
    actor: Actor,
    filters: CaseloadFilter,
    today: date | None = None,
    refresh: bool = True,
) -> list[int]:
    """The ordered row keys of the caseload for ``filters`` (re-computing stale rows first)."""
    access.require_patient_view(session, actor)  # VCSE: referred people only
    filters.validate()
    if refresh:
        caseload_index.refresh_index(session)
    today = today or london_today()
    # Results are cached per index generation (bumped by every change the triggers record),
    # so clearing the search box or going back a keystroke costs no query.
    generation = caseload_index.generation(session)
    bind = session.get_bind()
    token = getattr(bind, "_caseload_cache_token", None)
    if token is None:  # one token per open engine: never a hit across workspaces or reopens
        token = uuid.uuid4().hex
        bind._caseload_cache_token = token  # type: ignore[union-attr]
    cache_key = (
        token,
        generation,
        actor,
        today,
        json.dumps(filters.to_json(), sort_keys=True),
    )
    with _RESULTS_LOCK:
        cached = _RESULTS.get(cache_key)
    if cached is not None:
        return list(cached)
    where, params = _where(session, actor, filters, today)
    sql = (
        "SELECT ci.rowid FROM caseload_index ci "
        f"WHERE {' AND '.join(where)} ORDER BY {_order(filters)}"
    )
    # The driver's own cursor: a 50,000-key result in a few ms, without per-row wrappers.
    driver: Any = session.connection().connection.driver_connection
    cursor = driver.cursor()
    try:
        keys = [r[0] for r in cursor.execute(sql, tuple(params)).fetchall()]
    finally:
        cursor.close()
    if generation is not None:
        with _RESULTS_LOCK:
            _RESULTS[cache_key] = tuple(keys)
    return keys


@dataclass(frozen=True)
class CaseloadRow(PersonDisplay):
    key: int
    patient_id: uuid.UUID
    team_id: uuid.UUID
    family_name: str
    given_name: str
    nhs_number: str
    date_of_birth: date
    postcode: str
    active: bool
    cohorts: str
    discharged_on: date | None
    priority: Priority
    lead_member_id: uuid.UUID | None
    lead_name: str
    last_contact: datetime | None
    next_review: date | None
    plan_status: str
    open_tasks: int
    next_task_due: date | None
    open_escalations: int
    flags: tuple[FlagCode, ...]
    overdue_tasks: int = 0  # of open_tasks, how many are past due (counted when rows are fetched)

    def review_overdue(self, today: date) -> bool:
        return (
            self.plan_status == "active"
            and self.next_review is not None
            and self.next_review < today
        )

    def tasks_overdue(self, today: date) -> bool:
        return self.next_task_due is not None and self.next_task_due < today

    def alerts(self, today: date) -> list[str]:
        """What calls for attention first: "high priority", "review overdue", "task overdue"."""
        flags = (
            ("high priority", self.priority.value == "high"),
            ("review overdue", self.review_overdue(today)),
            ("task overdue", self.tasks_overdue(today)),
        )
        return [name for name, on in flags if on]

    def plan_label(self, today: date) -> str:
        if self.review_overdue(today):
            return PLAN_STATUS_LABELS["review_overdue"]
        return PLAN_STATUS_LABELS.get(self.plan_status, self.plan_status)

    def flag_labels(self) -> str:
        return ", ".join(f.label for f in self.flags)


_FLAG_ORDER = {code.value: i for i, code in enumerate(FlagCode)}


def _date(v: str | None) -> date | None:
    return date.fromisoformat(v) if v else None


def longest_names(*, session: Session, limit: int = 12) -> list[str]:
    """The longest names in the local caseload index, as the table shows them ("FAMILY,
    Given"), so the window can size its name column to show every name in full. Call after
    ``query_keys`` (which brings the index up to date). Only widths are taken from these."""
    sql = (
        "SELECT family_name, given_name FROM caseload_index "
        "ORDER BY length(family_name) + length(given_name) DESC LIMIT ?"
    )
    return [f"{family.upper()}, {given}" for family, given in _exec(session, sql, [limit])]


def fetch_rows(*, session: Session, keys: Sequence[int]) -> dict[int, CaseloadRow]:
    """Render the rows for ``keys`` (a visible window of the result); unknown keys are absent."""
    out: dict[int, CaseloadRow] = {}
    keys = list(keys)
    for start in range(0, len(keys), 500):
        chunk = keys[start : start + 500]
        sql = (
            "SELECT ci.rowid, ci.patient_id, ci.team_id, ci.family_name, ci.given_name, ci.nhs, "
            "ci.dob, ci.postcode, ci.active, ci.cohorts, ci.discharged_on, ci.priority_rank, "
            "ci.lead_member_id, ci.lead_name, ci.last_contact, ci.next_review, ci.plan_status, "
            "ci.open_tasks, ci.min_open_due, ci.open_escalations, ci.flags "
            "FROM caseload_index ci "
            f"WHERE ci.rowid IN ({', '.join('?' * len(chunk))})"
        )
        for r in _exec(session, sql, chunk):
            flags = tuple(
                FlagCode(c)
                for c in sorted(
                    (c for c in r[20].split(",") if c in _FLAG_ORDER), key=_FLAG_ORDER.__getitem__
                )
            )
            out[r[0]] = CaseloadRow(
                key=r[0],
                patient_id=uuid.UUID(r[1]),
                team_id=uuid.UUID(r[2]),
                family_name=r[3],
                given_name=r[4],
                nhs_number=r[5],
                date_of_birth=date.fromisoformat(r[6]),
                postcode=r[7],
                active=bool(r[8]),
                cohorts=r[9],
                discharged_on=_date(r[10]),
                priority=(Priority.HIGH, Priority.MEDIUM, Priority.LOW)[r[11]],
                lead_member_id=uuid.UUID(r[12]) if r[12] else None,
                lead_name=r[13] or "",
                last_contact=datetime.fromisoformat(r[14]) if r[14] else None,
                next_review=_date(r[15]),
                plan_status=r[16],
                open_tasks=r[17],
                next_task_due=_date(r[18]),
                open_escalations=r[19],
                flags=flags,
            )
    _count_overdue_tasks(session, out)
    return out


def _count_overdue_tasks(session: Session, rows: dict[int, CaseloadRow]) -> None:
    """How many of each row's open tasks are past due: "2, 1 late", not a bare "! 2". Counted
    now (not kept in the index) because it changes with the date, and only for the rows whose
    earliest open task is already late."""
    today = london_today()
    late: dict[str, list[int]] = {}  # a person on two teams' caseloads has two rows
    for k, r in rows.items():
        if r.tasks_overdue(today):
            late.setdefault(r.patient_id.hex, []).append(k)
    if not late:
        return
    ids = list(late)
    statuses = list(OPEN_TASK_STATUSES)
    sql = (
        "SELECT patient_id, count(*) FROM task WHERE deleted = 0 AND due_on < ? "
        f"AND status IN ({', '.join('?' * len(statuses))}) "
        f"AND patient_id IN ({', '.join('?' * len(ids))}) GROUP BY patient_id"
    )
    counts = dict(_exec(session, sql, [today.isoformat(), *statuses, *ids]).fetchall())
    for pid, keys in late.items():
        for key in keys:
            rows[key] = replace(rows[key], overdue_tasks=int(counts.get(pid, 0)))


def caseload(
    *,
    session: Session,
    actor: Actor,
    filters: CaseloadFilter,
    today: date | None = None,
    limit: int | None = None,
) -> list[CaseloadRow]:
    """The whole result rendered (CLI, exports); the window uses query_keys + fetch_rows."""
    keys = query_keys(session=session, actor=actor, filters=filters, today=today)
    if limit is not None:
        keys = keys[:limit]
    rows = fetch_rows(session=session, keys=keys)
    audit.record_by(session, actor, AuditAction.READ, "caseload", None, detail=f"rows={len(keys)}")
    return [rows[k] for k in keys if k in rows]


def find_key(session: Session, patient_id: uuid.UUID, keys: Sequence[int]) -> int | None:
    """The row key (within ``keys``) of a patient, e.g. to re-select them after a refresh."""
    rowids = {
        r[0]
        for r in _exec(
            session, "SELECT rowid FROM caseload_index WHERE patient_id = ?", (patient_id.hex,)
        )
    }
    for k in keys:
        if k in rowids:
            return k
    return None


# --- filter choices --------------------------------------------------------------------------


@dataclass(frozen=True)
class Choice:
    id: str
    label: str


@dataclass(frozen=True)
class FilterChoices:
    teams: list[Choice]
    cohorts: list[Choice]  # label "Cohort (Team)" when the actor is in more than one team
    places: list[Choice]
    leads: list[Choice]


def filter_choices(*, session: Session, actor: Actor) -> FilterChoices:
    access.require_patient_view(session, actor)  # VCSE: referred people only
    teams = list(
        session.execute(
            select(Team.id, Team.name, Team.place_id)
            .where(Team.id.in_(actor.team_ids), Team.deleted.is_(False))
            .order_by(Team.name)
        )
    )
    multi = len(teams) > 1
    team_names = {t.id: t.name for t in teams}
    cohorts = [
        Choice(c.id.hex, f"{c.name} ({team_names[c.team_id]})" if multi else c.name)
        for c in session.scalars(
            select(Cohort)
            .where(Cohort.team_id.in_(actor.team_ids), Cohort.deleted.is_(False))
            .order_by(Cohort.name)
        )
    ]
    places = [
        Choice(p.id.hex, p.name)
        for p in session.scalars(
            select(Place).where(Place.id.in_([t.place_id for t in teams])).order_by(Place.name)
        )
    ]
    from int_desk.store.models import TeamMembership

    leads = [
        Choice(mid.hex, name)
        for mid, name in session.execute(
            select(Member.id, Member.name)
            .join(TeamMembership, TeamMembership.member_id == Member.id)
            .where(
                TeamMembership.team_id.in_(actor.team_ids),
                Member.active.is_(True),
                Member.deleted.is_(False),
            )
            .distinct()
            .order_by(Member.name)
        )
    ]
    return FilterChoices([Choice(t.id.hex, t.name) for t in teams], cohorts, places, leads)


def resolve_cohort(session: Session, actor: Actor, name_or_id: str) -> uuid.UUID:
    """A cohort of the actor's teams by name (case-insensitive) or id."""
    try:
        cid = uuid.UUID(name_or_id)
    except ValueError:
        cid = None
    q = select(Cohort).where(Cohort.team_id.in_(actor.team_ids), Cohort.deleted.is_(False))
    found = [
        c
        for c in session.scalars(q)
        if c.id == cid or c.name.casefold() == name_or_id.strip().casefold()
    ]
    if not found:
        raise NotFound(f"No cohort called '{name_or_id}' in your teams.")
    if len(found) > 1:
        raise ValidationError(
            f"More than one of your teams has a cohort called '{name_or_id}'; add --team.",
            field="cohort",
        )
    return found[0].id


def resolve_team(session: Session, actor: Actor, name_or_id: str) -> uuid.UUID:
    for t in session.scalars(select(Team).where(Team.id.in_(actor.team_ids))):
        if t.id.hex == name_or_id.replace("-", "") or t.name.casefold() == name_or_id.casefold():
            return t.id
    raise NotFound(f"No team called '{name_or_id}' among your teams.")
