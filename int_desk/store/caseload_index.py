"""The caseload index: a derived, local-only table the caseload query reads (one row per person
per team) with an FTS5 index for name / NHS number / postcode search. A cache, never a source of
truth:

* SQLite triggers on the source tables (patient, cohort_membership, contact, task, care_plan,
  flag, escalation, referral, cohort, member names) note changed patients in ``caseload_dirty``,
  so every writer - our services, other engineers' services, sync - keeps it fresh without
  knowing it exists;
* ``refresh_index`` (run before every query) re-computes the dirty patients (usually none or a
  handful) and bumps the index *generation*, which the query's result cache is keyed on;
* when the index is missing, of an older layout, or a trigger has gone (a batch migration
  recreating a table drops its triggers), it is dropped and rebuilt in full.

These tables are created here, not by Alembic, because they hold nothing that cannot be rebuilt
from the synced tables (as a search index would); sync never sees them. The query over them
(filters, search, sort, rows) is ``int_desk.services.caseload``.

Row keys are the index's integer rowids, stable across refreshes (upserts keep them).
"""

from __future__ import annotations

import logging
import re
import time
from collections.abc import Sequence
from typing import Any

from sqlalchemy.orm import Session

from int_desk.domain.person_names import fold, squash
from int_desk.domain.vocab import OPEN_TASK_STATUSES

log = logging.getLogger(__name__)

INDEX_VERSION = "10"

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
             f",{flag_text}," if flag_text else "", postcode_key(postcode))
        )  # fmt: skip
    return out


_INDEX_COLS = (
    "patient_id, team_id, sort_name, family_name, given_name, nhs, dob, postcode, active, "
    "cohorts, cohort_ids, discharged_on, priority_rank, lead_member_id, lead_name, last_contact, "
    "next_review, plan_status, open_tasks, min_open_due, open_escalations, flags, pc"
)
_INDEX_MARKS = ", ".join("?" * len(_INDEX_COLS.split(",")))


def postcode_key(postcode: str) -> str:
    """A postcode as the index holds it: lower case, no spaces."""
    return postcode.replace(" ", "").lower()


def _fts_name(given: str, family: str) -> str:
    """The indexed name: its folded words, plus each word with punctuation run together, so
    O'Brien is found as ``o'brien``, ``o brien`` and ``obrien`` (the tokenizer splits at ')."""
    name = fold(f"{given} {family}")
    joined = {squash(w) for w in name.split() if re.search(r"['\u2019\-.]", w)}
    return " ".join([name, *sorted(j for j in joined if j)])


def _fts_row(rowid: int, family: str, given: str, nhs: str, postcode: str) -> tuple[Any, ...]:
    return (rowid, _fts_name(given, family), nhs, postcode_key(postcode))


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


def drop_triggers(session: Session) -> None:
    """Stop noting changed patients: for a bulk load (sync's first download). The index is then
    rebuilt in full at its next refresh (``_index_state`` finds a trigger missing)."""
    for name, _ in _TRIGGERS:
        _exec(session, f"DROP TRIGGER IF EXISTS {name}")


def rebuild_index(session: Session) -> int:
    """Drop and rebuild the whole caseload index; returns the number of rows."""
    drop_triggers(session)
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


def generation(session: Session) -> str | None:
    """The index generation, bumped by every refresh that re-computed rows (None: no index)."""
    value = _exec(session, "SELECT value FROM caseload_meta WHERE key = 'generation'").scalar()
    return None if value is None else str(value)
