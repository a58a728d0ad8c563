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

from sqlalchemy import select
from sqlalchemy.orm import Session

from int_desk.fhir import mapping
from int_desk.server.models import GLOBAL_SCOPE, Record, ServerAuditEvent
from int_desk.server.read_scope import ReadScope


@dataclass(frozen=True)
class StaffReader:
    """A team member's (or integration account's) token: their teams, as their role reads."""

    user_id: uuid.UUID
    teams: tuple[str, ...]
    scope: ReadScope

    @property
    def readable(self) -> tuple[str, ...]:
        return (*self.teams, GLOBAL_SCOPE)


def _rows(session: Session, reader: StaffReader, query: Any) -> list[tuple[Record, dict[str, Any]]]:
    out = []
    for rec in session.scalars(query):
        patient = str(rec.patient_id) if rec.patient_id is not None else None
        data = reader.scope.row(rec.entity, patient, json.loads(rec.data))
        if data is not None:
            out.append((rec, {**data, "id": str(rec.id)}))
    return out


def patients_by_nhs(session: Session, reader: StaffReader, nhs: str) -> list[dict[str, Any]]:
    """Live patients in the caller's teams with this NHS number (as the caller may see them)."""
    query = select(Record).where(
        Record.entity == "patient",
        Record.scope.in_(reader.teams),
        Record.deleted.is_(False),
        Record.data.contains(f'"nhs_number": "{nhs}"'),  # a cheap prefilter; the JSON decides
    )
    return [d for _rec, d in _rows(session, reader, query) if d.get("nhs_number") == nhs]


def record(
    session: Session, reader: StaffReader, entity: str, rid: uuid.UUID
) -> dict[str, Any] | None:
    rec = session.get(Record, (entity, rid))
    if rec is None or rec.deleted or rec.scope not in reader.teams:
        return None
    found = _rows(session, reader, select(Record).where(Record.entity == entity, Record.id == rid))
    return found[0][1] if found else None


def _by_ids(
    session: Session, reader: StaffReader, entity: str, ids: Iterable[Any]
) -> dict[str, Any]:
    wanted = sorted({uuid.UUID(str(i)) for i in ids if i}, key=str)
    if not wanted:
        return {}
    query = select(Record).where(
        Record.entity == entity,
        Record.id.in_(wanted),
        Record.scope.in_(reader.readable),
        Record.deleted.is_(False),
    )
    return {d["id"]: d for _rec, d in _rows(session, reader, query)}


@dataclass
class PersonRows:
    """Everything of one person the caller may read, by entity."""

    patient: dict[str, Any]
    rows: dict[str, list[dict[str, Any]]]

    def plans(self) -> list[dict[str, Any]]:
        return sorted(self.rows.get("care_plan", []), key=lambda p: p.get("version") or 0)


def person_rows(session: Session, reader: StaffReader, patient_id: uuid.UUID) -> PersonRows | None:
    query = select(Record).where(
        Record.patient_id == patient_id,
        Record.scope.in_(reader.teams),
        Record.deleted.is_(False),
    )
    rows: dict[str, list[dict[str, Any]]] = defaultdict(list)
    for rec, data in _rows(session, reader, query):
        rows[rec.entity].append(data)
    patients = rows.pop("patient", [])
    if not patients:
        return None
    return PersonRows(patients[0], dict(rows))


def person_data(
    session: Session, reader: StaffReader, person: PersonRows, plan: dict[str, Any] | None
) -> mapping.PersonData:
    """The mapping's input for one person and one plan version (or none)."""
    r = person.rows
    plan_id = plan["id"] if plan else None
    goals = [g for g in r.get("goal", []) if g.get("care_plan_id") == plan_id]
    actions = [a for a in r.get("plan_action", []) if a.get("care_plan_id") == plan_id]
    current = [c for c in r.get("cohort_membership", []) if not c.get("discharged_on")]
    cohorts = _by_ids(session, reader, "cohort", [c.get("cohort_id") for c in current])
    teams = _by_ids(session, reader, "team", [c.get("team_id") for c in cohorts.values()])
    lead = next((c["lead_member_id"] for c in current if c.get("lead_member_id")), None)
    data = mapping.PersonData(
        patient=person.patient,
        plan=plan,
        goals=goals,
        actions=actions,
        flags=[f for f in r.get("flag", []) if f.get("active", True)],
        tasks=r.get("task", []),
        referrals=r.get("referral", []),
        participants=r.get("care_team_participant", []),
        lead_member_id=lead or (plan or {}).get("lead_member_id"),
        team_names=sorted(t["name"] for t in teams.values() if t.get("name")),
    )
    practice = person.patient.get("practice_id")
    if practice:
        data.practice = _by_ids(session, reader, "organisation", [practice]).get(practice)
    data.members = _by_ids(session, reader, "member", mapping.referenced_members(data))
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
    for patient in people:
        session.add(
            ServerAuditEvent(
                user_id=user_id,
                practice_token_id=practice_token_id,
                action=action,
                resource_type=resource_type[:40],
                resource_id=rid,
                patient_id=patient,
                outcome=outcome,
                detail=detail[:200],
            )
        )


def _uuid(value: Any) -> uuid.UUID | None:
    if value is None or isinstance(value, uuid.UUID):
        return value
    try:
        return uuid.UUID(str(value))
    except ValueError:
        return None
