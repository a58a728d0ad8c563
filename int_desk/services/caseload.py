"""The caseload query: ordered row keys for a filter, and the rows themselves fetched by batch.

One function serves the window and ``int-desk caseload``. Sorting, filtering and search run in
SQL over ``caseload_index``, a derived, local-only table (one row per person per team) with an
FTS5 index for name / NHS number / postcode search. The index is a cache, never a source of
truth:

* SQLite triggers on the source tables (patient, cohort_membership, contact, task, care_plan,
  flag, escalation, cohort) note changed patients in ``caseload_dirty``, so every writer - our
  services, other engineers' services, sync - keeps it fresh without knowing it exists;
* every query first re-computes the dirty patients (usually none or a handful);
* when the index is missing, of an older layout, or a trigger has gone (a batch migration
  recreating a table drops its triggers), it is dropped and rebuilt in full.

These tables are created by this module, not Alembic, because they hold nothing that cannot be
rebuilt from the synced tables (as a search index would); sync never sees them.

Row keys are the index's integer rowids (stable across refreshes), so a 50,000-row result is a
list of ints; ``fetch_rows`` renders only the rows a view asks for.
"""

from __future__ import annotations

import json
import logging
import re
import threading
import time
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
from int_desk.domain.nhs_number import format_nhs
from int_desk.domain.permissions import REFERRED_ONLY_ROLES, Permission
from int_desk.domain.person_names import fold, squash
from int_desk.domain.uk_time import london_today
from int_desk.domain.vocab import (
    OPEN_TASK_STATUSES,
    AuditAction,
    FlagCode,
    Priority,
)
from int_desk.services import access
from int_desk.services.extract_reader import parse_uk_date
from int_desk.services.patient_actions import clean_text
from int_desk.store import audit
from int_desk.store.models import Cohort, Member, Place, SavedView, Team

log = logging.getLogger(__name__)

INDEX_VERSION = "10"
RESULT_CACHE_SIZE = 16
_RESULTS: LRUCache[tuple[Any, ...], tuple[int, ...]] = LRUCache(RESULT_CACHE_SIZE)
_RESULTS_LOCK = threading.Lock()  # queries may run on worker threads; the cache is not safe
RECENT_DISCHARGE_DAYS = 30

# --- schema of the derived index -------------------------------------------------------------

_INDEX_DDL = (
    """CREATE TABLE caseload_index (
        rowid INTEGER PRIMARY KEY,
        patient_id CHAR(32) NOT NULL,
        team_id CHAR(32) NOT NULL,
        sort_name TEXT NOT NULL,
        family_name TEXT NOT NULL,
        given_name TEXT NOT NULL,
        nhs CHAR(10) NOT NULL,
        dob CHAR(10) NOT NULL,
        postcode TEXT NOT NULL,
        active INTEGER NOT NULL,
        cohorts TEXT NOT NULL,
        cohort_ids TEXT NOT NULL,
        discharged_on CHAR(10),
        priority_rank INTEGER NOT NULL,
        lead_member_id CHAR(32),
        lead_name TEXT,
        last_contact TEXT,
        next_review CHAR(10),
        plan_status TEXT NOT NULL,
        open_tasks INTEGER NOT NULL,
        min_open_due CHAR(10),
        open_escalations INTEGER NOT NULL,
        flags TEXT NOT NULL,
        pc TEXT NOT NULL,
        UNIQUE (team_id, patient_id)
    )""",
    "CREATE INDEX caseload_index_patient ON caseload_index (patient_id)",
    # pc (postcode, lower case, no spaces) is here so a postcode search is a walk of this index.
    "CREATE INDEX caseload_index_team_name ON caseload_index (team_id, active, sort_name, nhs, pc)",
    "CREATE INDEX caseload_index_nhs ON caseload_index (nhs)",
    # One index per sort column, in the exact ORDER BY form, so a header click is an index walk.
    *(
        f"CREATE INDEX caseload_index_sort_{key} ON caseload_index "
        f"(team_id, active, {expr}, sort_name)"
        for key, expr in (
            ("nhs", "nhs"),
            ("age", "dob"),
            ("cohorts", "cohorts"),
            ("priority", "priority_rank"),
            ("lead", "coalesce(lead_name, '')"),
            ("contact", "last_contact"),
            ("review", "coalesce(next_review, '9999-12-31')"),
            ("plan", "plan_status"),
            ("tasks", "open_tasks"),
            ("flags", "length(flags)"),
        )
    ),  # fmt: skip
    "CREATE VIRTUAL TABLE caseload_fts USING fts5(name, nhs, pc, "
    "tokenize = 'unicode61 remove_diacritics 2', prefix = '1 2 3')",
    "CREATE TABLE caseload_dirty (patient_id CHAR(32) PRIMARY KEY) WITHOUT ROWID",
    "CREATE TABLE caseload_meta (key TEXT PRIMARY KEY, value TEXT NOT NULL)",
)
_INDEX_TABLES = ("caseload_fts", "caseload_index", "caseload_dirty", "caseload_meta")

# (trigger table, expression giving the patient id of NEW/OLD row)
_WATCHED = {
    "patient": "{row}.id",
    "cohort_membership": "{row}.patient_id",
    "contact": "{row}.patient_id",
    "task": "{row}.patient_id",
    "care_plan": "{row}.patient_id",
    "flag": "{row}.patient_id",
    "escalation": "{row}.patient_id",
    # Not shown in a row, but who a referral is to decides what a VCSE worker's caseload lists:
    # a new referral must bump the generation so their cached result is not reused.
    "referral": "{row}.patient_id",
}


def _trigger_ddl() -> list[tuple[str, str]]:
    out: list[tuple[str, str]] = []
    for table, expr in _WATCHED.items():
        for event, row in (("INSERT", "NEW"), ("UPDATE", "NEW"), ("DELETE", "OLD")):
            name = f"caseload_dirty_{table}_{event.lower()}"
            body = f"INSERT OR IGNORE INTO caseload_dirty (patient_id) VALUES ({expr.format(row=row)});"
            if event == "UPDATE" and table != "patient":
                # A row moved to another patient: both go stale.
                body += f" INSERT OR IGNORE INTO caseload_dirty (patient_id) VALUES ({expr.format(row='OLD')});"
            out.append((name, f"CREATE TRIGGER {name} AFTER {event} ON {table} BEGIN {body} END"))
    # A team member renamed: the rows naming them as lead.
    name = "caseload_dirty_member_update"
    out.append(
        (
            name,
            f"CREATE TRIGGER {name} AFTER UPDATE OF name ON member BEGIN "
            "INSERT OR IGNORE INTO caseload_dirty (patient_id) "
            "SELECT patient_id FROM cohort_membership WHERE lead_member_id = NEW.id; END",
        )
    )
    # A cohort renamed or moved between teams changes its members' rows.
    name = "caseload_dirty_cohort_update"
    out.append(
        (
            name,
            f"CREATE TRIGGER {name} AFTER UPDATE ON cohort BEGIN "
            "INSERT OR IGNORE INTO caseload_dirty (patient_id) "
            "SELECT patient_id FROM cohort_membership WHERE cohort_id = NEW.id; END",
        )
    )
    return out


_TRIGGERS = _trigger_ddl()

_OPEN = ", ".join(f"'{s}'" for s in OPEN_TASK_STATUSES)
_MEMBERSHIPS = """
SELECT cm.patient_id, c.team_id,
       max(cm.discharged_on IS NULL),
       coalesce(group_concat(CASE WHEN cm.discharged_on IS NULL THEN c.name END, ', '),
                group_concat(c.name, ', ')),
       ',' || coalesce(group_concat(CASE WHEN cm.discharged_on IS NULL THEN c.id END, ','),
                group_concat(c.id, ',')) || ',',
       CASE WHEN max(cm.discharged_on IS NULL) = 1 THEN NULL ELSE max(cm.discharged_on) END,
       min((CASE cm.priority WHEN 'high' THEN 0 WHEN 'medium' THEN 1 ELSE 2 END)
           + (CASE WHEN cm.discharged_on IS NULL THEN 0 ELSE 10 END)),
       cm.lead_member_id, m.name
FROM cohort_membership cm JOIN cohort c ON c.id = cm.cohort_id
LEFT JOIN member m ON m.id = cm.lead_member_id
WHERE cm.deleted = 0 AND c.deleted = 0 {where}
GROUP BY cm.patient_id, c.team_id
"""
# Per (patient, team) above, the best-priority active membership gives the lead (SQLite's
# bare-column rule with a single min()); memberships discharged rank after active ones.
_OPEN = ", ".join(f"'{s}'" for s in OPEN_TASK_STATUSES)
_PER_PATIENT = {
    "patient": "SELECT id, family_name, given_name, nhs_number, date_of_birth, postcode "
    "FROM patient WHERE deleted = 0 {where}",
    "contact": "SELECT patient_id, max(occurred_at) FROM contact WHERE deleted = 0 {where} "
    "GROUP BY patient_id",
    "plan": "SELECT patient_id, status, review_date, version FROM care_plan "
    "WHERE deleted = 0 AND status IN ('active', 'draft', 'closed') {where}",
    "task": f"SELECT patient_id, count(*), min(due_on) FROM task WHERE status IN ({_OPEN}) "
    "AND deleted = 0 {where} GROUP BY patient_id",
    "escalation": "SELECT patient_id, count(*) FROM escalation WHERE status = 'open' "
    "AND deleted = 0 {where} GROUP BY patient_id",
    "flag": "SELECT patient_id, group_concat(code, ',') FROM flag WHERE active = 1 "
    "AND deleted = 0 {where} GROUP BY patient_id",
}


def _compute(session: Session, patient_ids: Sequence[str] | None) -> list[tuple[Any, ...]]:
    """Index rows for these patients (all when None): one aggregate query per source table,
    merged here (several times faster on SQLCipher than correlated subqueries)."""
    params: tuple[Any, ...] = ()
    where = ""
    if patient_ids is not None:
        params = tuple(patient_ids)
        where = f"AND {{col}} IN ({', '.join('?' * len(params))})"

    def run(sql: str, col: str) -> list[Any]:
        return list(_exec(session, sql.format(where=where.format(col=col)), params))

    members = run(_MEMBERSHIPS, "cm.patient_id")
    pq = _PER_PATIENT
    patients = {r[0]: r for r in run(pq["patient"], "id")}
    last_contact = dict(run(pq["contact"], "patient_id"))
    plans: dict[str, list[Any]] = {}
    for pid, status, review, version in run(pq["plan"], "patient_id"):
        plans.setdefault(pid, []).append((status, review, version))
    tasks = {r[0]: (r[1], r[2]) for r in run(pq["task"], "patient_id")}
    escalations = dict(run(pq["escalation"], "patient_id"))
    flags = dict(run(pq["flag"], "patient_id"))
    out = []
    for pid, team, active, cohorts, cohort_ids, discharged, best, lead, lead_name in members:
        p = patients.get(pid)
        if p is None:
            continue
        _, family, given, nhs, dob, postcode = p
        mine = plans.get(pid, ())
        actives = [x for x in mine if x[0] == "active"]
        if actives:
            plan, review = "active", max(actives, key=lambda x: x[2])[1]
        else:
            review = None
            plan = "draft" if any(x[0] == "draft" for x in mine) else ("closed" if mine else "none")
        n_tasks, min_due = tasks.get(pid, (0, None))
        flag_text = flags.get(pid)
        out.append(
            (pid, team, f"{fold(family)}\x1f{fold(given)}", family, given, nhs, dob, postcode,
             active, cohorts or "", cohort_ids or ",", discharged, best % 10, lead, lead_name,
             last_contact.get(pid), review, plan, n_tasks, min_due, escalations.get(pid, 0),
             f",{flag_text}," if flag_text else "", _pc(postcode))
        )  # fmt: skip
    return out


_INDEX_COLS = (
    "patient_id, team_id, sort_name, family_name, given_name, nhs, dob, postcode, active, "
    "cohorts, cohort_ids, discharged_on, priority_rank, lead_member_id, lead_name, last_contact, "
    "next_review, plan_status, open_tasks, min_open_due, open_escalations, flags, pc"
)
_INDEX_MARKS = ", ".join("?" * len(_INDEX_COLS.split(",")))


def _pc(postcode: str) -> str:
    return postcode.replace(" ", "").lower()


def _fts_name(given: str, family: str) -> str:
    """The indexed name: its folded words, plus each word with punctuation run together, so
    O'Brien is found as ``o'brien``, ``o brien`` and ``obrien`` (the tokenizer splits at ')."""
    name = fold(f"{given} {family}")
    joined = {squash(w) for w in name.split() if re.search(r"['\u2019\-.]", w)}
    return " ".join([name, *sorted(j for j in joined if j)])


def _fts_row(rowid: int, family: str, given: str, nhs: str, postcode: str) -> tuple[Any, ...]:
    return (rowid, _fts_name(given, family), nhs, _pc(postcode))


def _exec(session: Session, sql: str, params: Sequence[Any] | dict[str, Any] = ()) -> Any:
    return session.connection().exec_driver_sql(sql, tuple(params) if params else ())


def _index_state(session: Session) -> bool:
    """True when the index exists, has the current layout and all its triggers."""
    names = {
        r[0]
        for r in _exec(
            session,
            "SELECT name FROM sqlite_master WHERE name LIKE 'caseload%' AND type IN "
            "('table', 'trigger')",
        )
    }
    if not {"caseload_index", "caseload_fts", "caseload_dirty", "caseload_meta"} <= names:
        return False
    if not {n for n, _ in _TRIGGERS} <= names:
        return False
    version = _exec(session, "SELECT value FROM caseload_meta WHERE key = 'version'").scalar()
    return bool(version == INDEX_VERSION)


def rebuild_index(session: Session) -> int:
    """Drop and rebuild the whole caseload index; returns the number of rows."""
    for name, _ in _TRIGGERS:
        _exec(session, f"DROP TRIGGER IF EXISTS {name}")
    for table in _INDEX_TABLES:
        _exec(session, f"DROP TABLE IF EXISTS {table}")
    for ddl in _INDEX_DDL:
        _exec(session, ddl)
    rows = _compute(session, None)
    conn = session.connection()
    if rows:  # an empty list is not "no rows" to the driver: it is one row with no values
        conn.exec_driver_sql(
            f"INSERT INTO caseload_index ({_INDEX_COLS}) VALUES ({_INDEX_MARKS})", rows
        )
    fts = [
        _fts_row(*r)
        for r in _exec(
            session, "SELECT rowid, family_name, given_name, nhs, postcode FROM caseload_index"
        )
    ]
    if fts:
        conn.exec_driver_sql(
            "INSERT INTO caseload_fts (rowid, name, nhs, pc) VALUES (?, ?, ?, ?)", fts
        )
    for _, ddl in _TRIGGERS:
        _exec(session, ddl)
    _exec(session, "INSERT INTO caseload_meta (key, value) VALUES ('version', ?)", (INDEX_VERSION,))
    _exec(
        session,
        "INSERT INTO caseload_meta (key, value) VALUES ('generation', ?)",
        (str(time.time_ns()),),
    )
    log.info("caseload index rebuilt: %d rows", len(rows))
    return len(rows)


def refresh_index(session: Session) -> int:
    """Bring the index up to date; returns how many patients were re-computed (-1: rebuilt)."""
    if not _index_state(session):
        rebuild_index(session)
        return -1
    dirty = [r[0] for r in _exec(session, "SELECT patient_id FROM caseload_dirty")]
    if not dirty:
        return 0
    if len(dirty) > 5000:
        rebuild_index(session)
        return -1
    conn = session.connection()
    for start in range(0, len(dirty), 500):
        chunk = dirty[start : start + 500]
        marks = ", ".join("?" * len(chunk))
        rows = _compute(session, chunk)
        keep = {(r[1], r[0]) for r in rows}
        old = list(
            _exec(
                session,
                f"SELECT rowid, team_id, patient_id FROM caseload_index WHERE patient_id IN ({marks})",
                chunk,
            )
        )
        gone = [(rowid,) for rowid, team, pid in old if (team, pid) not in keep]
        if gone:
            conn.exec_driver_sql("DELETE FROM caseload_index WHERE rowid = ?", gone)
        if rows:
            sets = ", ".join(
                f"{c.strip()} = excluded.{c.strip()}" for c in _INDEX_COLS.split(",")[2:]
            )
            conn.exec_driver_sql(
                f"INSERT INTO caseload_index ({_INDEX_COLS}) VALUES ({_INDEX_MARKS}) "
                f"ON CONFLICT (team_id, patient_id) DO UPDATE SET {sets}",
                rows,
            )
        if old:
            conn.exec_driver_sql(
                "DELETE FROM caseload_fts WHERE rowid = ?", [(rowid,) for rowid, _, _ in old]
            )
        fts = [
            _fts_row(*r)
            for r in _exec(
                session,
                "SELECT rowid, family_name, given_name, nhs, postcode FROM caseload_index "
                f"WHERE patient_id IN ({marks})",
                chunk,
            )
        ]
        if fts:
            conn.exec_driver_sql(
                "INSERT INTO caseload_fts (rowid, name, nhs, pc) VALUES (?, ?, ?, ?)", fts
            )
        conn.exec_driver_sql(
            "DELETE FROM caseload_dirty WHERE patient_id = ?", [(p,) for p in chunk]
        )
    _exec(
        session,
        "UPDATE caseload_meta SET value = CAST(value AS INTEGER) + 1 WHERE key = 'generation'",
    )
    return len(dirty)


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


BUILT_IN_VIEWS: dict[str, CaseloadFilter] = {
    "My caseload": CaseloadFilter(lead_member_ids=["me"]),
    "Reviews overdue": CaseloadFilter(review_overdue=True, sort="next_review"),
    "Recently discharged": CaseloadFilter(membership="recently_discharged"),
    "No care plan": CaseloadFilter(plan_status=["none"]),
    "Whole caseload": CaseloadFilter(),
}


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
        return _pc(text)
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
        refresh_index(session)
    today = today or london_today()
    # Results are cached per index generation (bumped by every change the triggers record),
    # so clearing the search box or going back a keystroke costs no query.
    generation = _exec(session, "SELECT value FROM caseload_meta WHERE key = 'generation'").scalar()
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
class CaseloadRow:
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

    @property
    def display_name(self) -> str:
        """NHS style: FAMILY name in capitals, then given name."""
        return f"{self.family_name.upper()}, {self.given_name}"

    @property
    def nhs_display(self) -> str:
        return format_nhs(self.nhs_number)

    def age(self, today: date) -> int:
        dob = self.date_of_birth
        return today.year - dob.year - ((today.month, today.day) < (dob.month, dob.day))

    def review_overdue(self, today: date) -> bool:
        return (
            self.plan_status == "active"
            and self.next_review is not None
            and self.next_review < today
        )

    def tasks_overdue(self, today: date) -> bool:
        return self.next_task_due is not None and self.next_task_due < today

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
    audit.record(
        session, actor_id=actor.member_id, action=AuditAction.READ, entity_type="caseload",
        detail=f"rows={len(keys)}",
    )  # fmt: skip
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


# --- saved views -----------------------------------------------------------------------------


VIEW_SAVING = Permission.VIEW_CASELOAD
"""What saving or deleting one's own views needs (a VCSE worker, with only VIEW_REFERRED, may
use the built-in views but not save any)."""


def can_save_views(*, session: Session, actor: Actor) -> bool:
    """Whether ``save_view`` / ``delete_view`` would be allowed (role and team grants); for
    enabling the window's buttons. Does not audit."""
    return access.can(session, actor, VIEW_SAVING)


@dataclass(frozen=True)
class ViewInfo:
    name: str
    built_in: bool
    id: uuid.UUID | None = None


def list_views(*, session: Session, actor: Actor) -> list[ViewInfo]:
    access.require_patient_view(session, actor)  # VCSE: referred people only
    views = [ViewInfo(name, True) for name in BUILT_IN_VIEWS]
    for v in session.scalars(
        select(SavedView)
        .where(
            (SavedView.member_id == actor.member_id) | SavedView.member_id.is_(None),
            SavedView.deleted.is_(False),
        )
        .order_by(SavedView.name)
    ):
        if v.name not in BUILT_IN_VIEWS:
            views.append(ViewInfo(v.name, v.member_id is None, v.id))
    return views


def load_view(*, session: Session, actor: Actor, name: str) -> CaseloadFilter:
    access.require_patient_view(session, actor)
    for built_in, f in BUILT_IN_VIEWS.items():
        if built_in.casefold() == name.strip().casefold():
            return replace(f, team_ids=list(f.team_ids))
    for v in session.scalars(
        select(SavedView).where(
            (SavedView.member_id == actor.member_id) | SavedView.member_id.is_(None),
            SavedView.deleted.is_(False),
        )
    ):
        if v.name.casefold() == name.strip().casefold():
            return CaseloadFilter.from_json(v.filters)
    raise NotFound(f"No saved view called '{name}'.")


def save_view(*, session: Session, actor: Actor, name: str, filters: CaseloadFilter) -> SavedView:
    """Save (or overwrite) one of the actor's own views. Search text is not saved."""
    access.require(session, actor, VIEW_SAVING)
    name = clean_text(name, "name", label="View name", max_len=120)
    if name.casefold() in {n.casefold() for n in BUILT_IN_VIEWS}:
        raise ValidationError("That name belongs to a built-in view.", field="name")
    filters.validate()
    data = replace(filters, search="").to_json()
    view = next(
        (
            v
            for v in session.scalars(
                select(SavedView).where(
                    SavedView.member_id == actor.member_id, SavedView.deleted.is_(False)
                )
            )
            if v.name.casefold() == name.casefold()
        ),
        None,
    )
    if view is None:
        view = SavedView(member_id=actor.member_id, name=name, filters=data)
        view.created_by = actor.member_id
        session.add(view)
        action = AuditAction.CREATE
    else:
        view.filters = data
        action = AuditAction.UPDATE
    view.updated_by = actor.member_id
    session.flush()
    audit.record(
        session, actor_id=actor.member_id, action=action, entity_type="saved_view",
        entity_id=view.id, detail="fields=name,filters",
    )  # fmt: skip
    return view


def delete_view(*, session: Session, actor: Actor, name: str) -> None:
    access.require(session, actor, VIEW_SAVING)
    for v in session.scalars(
        select(SavedView).where(
            SavedView.member_id == actor.member_id, SavedView.deleted.is_(False)
        )
    ):
        if v.name.casefold() == name.strip().casefold():
            v.deleted = True
            v.updated_by = actor.member_id
            session.flush()
            audit.record(
                session, actor_id=actor.member_id, action=AuditAction.DELETE,
                entity_type="saved_view", entity_id=v.id, detail="",
            )  # fmt: skip
            return
    raise NotFound(f"No saved view of yours called '{name}'.")
