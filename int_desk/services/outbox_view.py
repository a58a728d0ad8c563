"""What is waiting to send: the outbox in words, for the status bar's "waiting to send" list.

Each change says what it is ("New contact", "Task changed"), whose record it belongs to (name
and date of birth, only for people in the signed-in member's scope; others are "a person
outside your caseload") and when it was made. Nothing is read from the changed fields except
the patient they belong to: a list, not a second way to read records.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from int_desk.domain.actor import Actor
from int_desk.services import access
from int_desk.store.models import CarePlan, Patient
from int_desk.store.sync_tables import SyncOutbox

LIMIT = 500  # the newest; a longer queue is summarised by its count
OUTSIDE = "A person outside your caseload"
_NOUNS = {
    "patient": "Patient details",
    "cohort_membership": "Cohort membership",
    "care_plan": "Care plan",
    "goal": "Care-plan goal",
    "plan_action": "Care-plan action",
    "contact": "Contact",
    "task": "Task",
    "referral": "Referral",
    "escalation": "Escalation",
    "flag": "Flag",
    "health_event": "Health event",
    "huddle": "Huddle",
    "huddle_item": "Huddle agenda item",
    "huddle_attendee": "Huddle attendee",
    "care_team_participant": "Care team member",
    "consent": "Consent",
}


@dataclass(frozen=True)
class WaitingChange:
    when: datetime  # UTC
    what: str  # "New contact", "Task changed"
    whose: str  # "KOWALCZYK, Aoife (born 15 Apr 1944)", "" when about no one


def _what(entity: str, kind: str, fields: dict[str, Any]) -> str:
    noun = _NOUNS.get(entity, entity.replace("_", " ").capitalize())
    if kind == "insert":
        return f"New {noun[0].lower()}{noun[1:]}" if noun != "Patient details" else "New patient"
    if fields.get("deleted") is True:
        return f"{noun} removed"
    return f"{noun} changed"


def _label(family: str, given: str, born: date) -> str:
    return f"{family.upper()}, {given} (born {born:%d %b %Y})"


def waiting_changes(*, session: Session, actor: Actor, limit: int = LIMIT) -> list[WaitingChange]:
    """The changes made on this computer not yet sent, newest first."""
    access.require_patient_view(session, actor)
    rows = list(
        session.scalars(
            select(SyncOutbox)
            .where(SyncOutbox.status == "pending")
            .order_by(SyncOutbox.seq.desc())
            .limit(limit)
        )
    )
    owners = {r.seq: _patient_of(session, r) for r in rows}
    ids = {p for p in owners.values() if p is not None}
    visible = {
        pid: _label(family, given, born)
        for pid, family, given, born in session.execute(
            select(Patient.id, Patient.family_name, Patient.given_name, Patient.date_of_birth)
            .where(Patient.id.in_(ids))
            .where(access.visible_patient_filter(actor))
        )
    }
    return [
        WaitingChange(
            when=r.created_at,
            what=_what(r.entity, r.kind, r.fields or {}),
            whose=(visible.get(owner, OUTSIDE) if (owner := owners[r.seq]) else ""),
        )
        for r in rows
    ]


def _uuid(value: Any) -> uuid.UUID | None:
    try:
        return uuid.UUID(str(value)) if value else None
    except ValueError:
        return None


def _field(session: Session, r: SyncOutbox, name: str) -> uuid.UUID | None:
    """A field of the changed row: from the op (an insert carries every field), else from the
    store (an update carries only the fields it changed)."""
    from int_desk.store.wire_entities import SYNCED_BY_NAME

    found = _uuid((r.fields or {}).get(name))
    model = SYNCED_BY_NAME.get(r.entity)
    column = getattr(model, name, None) if model else None
    if found is None and model is not None and column is not None:
        found = session.scalar(select(column).where(model.id == r.entity_id))
    return found


def _patient_of(session: Session, r: SyncOutbox) -> uuid.UUID | None:
    """Whose record a change belongs to: the patient row itself, its patient_id, or for a
    care-plan goal or action its plan's patient."""
    if r.entity == "patient":
        return r.entity_id
    if r.entity in ("goal", "plan_action"):
        plan = _field(session, r, "care_plan_id")
        return (
            session.scalar(select(CarePlan.patient_id).where(CarePlan.id == plan)) if plan else None
        )
    return _field(session, r, "patient_id")
