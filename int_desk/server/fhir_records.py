"""The endpoint's stored records as ``int_desk.fhir.mapping.PersonData``, within a caller's scope.

Rows are read from ``srv_record`` in the caller's readable scopes only, and every row passes
through the caller's ``ReadScope`` (server/read_scope.py) before it is mapped: a VCSE worker's
token sees only people referred to them, with clinical fields blank, exactly as sync sends them.
Also the read audit (``srv_audit_event``): one row per person read, or per refusal.
"""

from __future__ import annotations

import json
import uuid
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from sqlalchemy import bindparam, insert, select
from sqlalchemy.orm import Session

from int_desk.fhir import mapping
from int_desk.server.models import GLOBAL_SCOPE, Record, ServerAuditEvent
from int_desk.server.read_scope import ReadScope
from int_desk.server.sync_audit import as_uuid


@dataclass(frozen=True)
class StaffReader:
    """A team member's (or integration account's) token: their teams, as their role reads."""

    user_id: uuid.UUID
    teams: tuple[str, ...]
    scope: ReadScope

    @property
    def readable(self) -> tuple[str, ...]:
        return (*self.teams, GLOBAL_SCOPE)


# What the mapping reads of a person (``person_data``); their contacts, health events and huddle
# items are never read, so a person's read never parses them.
PERSON_ENTITIES = (
    "patient",
    "care_plan",
    "goal",
    "plan_action",
    "cohort_membership",
    "flag",
    "task",
    "referral",
    "care_team_participant",
)
_COLUMNS = (Record.entity, Record.id, Record.scope, Record.patient_id, Record.data)


def _rows(
    reader: StaffReader, result: Any, scopes: tuple[str, ...]
) -> list[tuple[str, dict[str, Any]]]:
    """(entity, row as the caller may read it) for each found row in ``scopes``.

    Plain column tuples, not ORM objects: a read never changes a record. The scope is checked
    here rather than in the query, which finds rows by key: a scope condition there lets SQLite
    walk a whole team's rows instead of using the key."""
    out = []
    for entity, rid, scope, patient_id, data in result:
        if scope not in scopes:
            continue
        patient = str(patient_id) if patient_id is not None else None
        row = reader.scope.row(entity, patient, json.loads(data))
        if row is not None:
            out.append((entity, {**row, "id": str(rid)}))
    return out


# Statements built once (SQLAlchemy's statement building costs more than SQLite's lookup).
_BY_NHS = select(*_COLUMNS).where(  # only patient rows hold an NHS number
    Record.nhs_number == bindparam("nhs"), Record.deleted.is_(False)
)
_BY_KEYS = select(*_COLUMNS).where(
    Record.entity.in_(bindparam("entities", expanding=True)),
    Record.id.in_(bindparam("ids", expanding=True)),
    Record.deleted.is_(False),
)
_OF_PERSON = select(*_COLUMNS).where(
    Record.patient_id == bindparam("patient_id"),
    Record.entity.in_(PERSON_ENTITIES),
    Record.deleted.is_(False),
)


# On PostgreSQL the query names the caller's teams as well, so a database distributed by team
# (Citus, by ``scope``) routes it to their shards (docs/deployment.md); its planner still finds
# rows by key. (tests/test_server_team_keyed_sql.py)
_SCOPED = {
    q: q.where(Record.scope.in_(bindparam("scopes", expanding=True)))
    for q in (_BY_NHS, _BY_KEYS, _OF_PERSON)
}


def _run(
    session: Session, reader: StaffReader, query: Any, scopes: tuple[str, ...], **params: Any
) -> list[tuple[str, dict[str, Any]]]:
    if query in _SCOPED and session.get_bind().dialect.name == "postgresql":
        query, params = _SCOPED[query], {**params, "scopes": list(scopes)}
    return _rows(reader, session.execute(query, params), scopes)


def patients_by_nhs(session: Session, reader: StaffReader, nhs: str) -> list[dict[str, Any]]:
    """Live patients in the caller's teams with this NHS number (as the caller may see them)."""
    found = _run(session, reader, _BY_NHS, reader.teams, nhs=nhs)
    return [d for e, d in found if e == "patient" and d.get("nhs_number") == nhs]


def record(
    session: Session, reader: StaffReader, entity: str, rid: uuid.UUID
) -> dict[str, Any] | None:
    """One live row of the caller's teams by its key, as they may read it (else None)."""
    found = _run(session, reader, _BY_KEYS, reader.teams, entities=[entity], ids=[rid])
    return found[0][1] if found else None


def _by_ids(
    session: Session, reader: StaffReader, entities: tuple[str, ...], ids: Iterable[Any]
) -> dict[str, dict[str, dict[str, Any]]]:
    """{entity: {id: row}} of the live rows with these keys in the caller's readable scopes."""
    out: dict[str, dict[str, dict[str, Any]]] = {e: {} for e in entities}
    wanted = sorted({uuid.UUID(str(i)) for i in ids if i}, key=str)
    if wanted:
        for entity, row in _run(
            session, reader, _BY_KEYS, reader.readable, entities=list(entities), ids=wanted
        ):
            out[entity][row["id"]] = row
    return out


@dataclass
class PersonRows:
    """Everything of one person the caller may read, by entity."""

    patient: dict[str, Any]
    rows: dict[str, list[dict[str, Any]]]

    def plans(self) -> list[dict[str, Any]]:
        return sorted(self.rows.get("care_plan", []), key=lambda p: p.get("version") or 0)


def person_rows(session: Session, reader: StaffReader, patient_id: uuid.UUID) -> PersonRows | None:
    """The person's rows the mapping reads (in the caller's teams), found by the patient key."""
    rows: dict[str, list[dict[str, Any]]] = defaultdict(list)
    for entity, data in _run(session, reader, _OF_PERSON, reader.teams, patient_id=patient_id):
        rows[entity].append(data)
    patients = rows.pop("patient", [])
    if not patients:
        return None
    return PersonRows(patients[0], dict(rows))


def person_data(
    session: Session, reader: StaffReader, person: PersonRows, plan: dict[str, Any] | None
) -> mapping.PersonData:
    """The mapping's input for one person and one plan version (or none).

    Two keyed look-ups: cohorts, practice and members together, then the cohorts' teams."""
    r = person.rows
    plan_id = plan["id"] if plan else None
    current = [c for c in r.get("cohort_membership", []) if not c.get("discharged_on")]
    lead = next((c["lead_member_id"] for c in current if c.get("lead_member_id")), None)
    data = mapping.PersonData(
        patient=person.patient,
        plan=plan,
        goals=[g for g in r.get("goal", []) if g.get("care_plan_id") == plan_id],
        actions=[a for a in r.get("plan_action", []) if a.get("care_plan_id") == plan_id],
        flags=[f for f in r.get("flag", []) if f.get("active", True)],
        tasks=r.get("task", []),
        referrals=r.get("referral", []),
        participants=r.get("care_team_participant", []),
        lead_member_id=lead or (plan or {}).get("lead_member_id"),
    )
    practice = person.patient.get("practice_id")
    cohort_ids = [c.get("cohort_id") for c in current]
    found = _by_ids(
        session, reader, ("cohort", "organisation", "member"),
        [*cohort_ids, practice, *mapping.referenced_members(data)],
    )  # fmt: skip
    cohorts = [found["cohort"][c] for c in cohort_ids if c in found["cohort"]]
    teams = _by_ids(session, reader, ("team",), [c.get("team_id") for c in cohorts])["team"]
    data.team_names = sorted(t["name"] for t in teams.values() if t.get("name"))
    data.practice = found["organisation"].get(practice) if practice else None
    data.members = found["member"]
    return data


# --- audit ---------------------------------------------------------------------------------------


def audit(
    session: Session,
    *,
    user_id: uuid.UUID | None = None,
    practice_token_id: uuid.UUID | None = None,
    resource_type: str,
    resource_id: Any = None,
    patient_ids: Iterable[Any] = (),
    outcome: int = 200,
    detail: str = "",
    action: str = "R",
) -> None:
    """One entry per person read (or one with no person: a refusal, an empty search)."""
    rid = _uuid(resource_id)
    people = [_uuid(p) for p in dict.fromkeys(patient_ids)] or [None]
    row = {
        "user_id": user_id,
        "practice_token_id": practice_token_id,
        "action": action,
        "resource_type": resource_type[:40],
        "resource_id": rid,
        "outcome": outcome,
        "detail": detail[:200],
    }
    # One INSERT for all (a Core insert: no ORM objects kept for rows nobody reads back).
    session.execute(insert(ServerAuditEvent), [{**row, "patient_id": p} for p in people])


_uuid = as_uuid  # (the audit trail's: ids as the endpoint stores them)
