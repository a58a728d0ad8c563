"""A patient record cut to the actor's access: the reference for scope and redaction rules.

    record = open_record(session=s, actor=actor, patient_id=pid)

Scope and redaction come from ``int_desk.services.access``: a VCSE worker gets a person
referred to them, the contingency plan and their own tasks, never clinical notes, the clinical
summary or medicines; anyone outside scope gets an audited PermissionDenied.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field
from datetime import date, datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from int_desk.domain.actor import Actor
from int_desk.domain.nhs_number import format_nhs
from int_desk.domain.permissions import Permission
from int_desk.domain.vocab import CarePlanStatus
from int_desk.services import access
from int_desk.store.models import CarePlan, Contact, Task


@dataclass(frozen=True)
class ContactLine:
    id: uuid.UUID
    occurred_at: datetime
    kind: str
    text: str
    clinical: bool


@dataclass(frozen=True)
class TaskLine:
    id: uuid.UUID
    description: str
    status: str
    due_on: date | None
    owner_member_id: uuid.UUID | None


@dataclass(frozen=True)
class PatientRecord:
    patient_id: uuid.UUID
    name: str
    nhs_number: str  # formatted "XXX XXX XXXX"
    date_of_birth: date
    contingency_plan: str
    clinical_summary: str | None  # None: hidden from this role
    medicines_notes: str | None
    long_term_conditions: str | None
    contacts: list[ContactLine] = field(default_factory=list)
    tasks: list[TaskLine] = field(default_factory=list)
    clinical_hidden: bool = False


def _current_plan(session: Session, patient_id: uuid.UUID) -> CarePlan | None:
    plans = list(
        session.scalars(
            select(CarePlan).where(CarePlan.patient_id == patient_id, CarePlan.deleted.is_(False))
        )
    )
    for status in (CarePlanStatus.ACTIVE.value, CarePlanStatus.DRAFT.value):
        found = [p for p in plans if p.status == status]
        if found:
            return max(found, key=lambda p: p.version)
    return max(plans, key=lambda p: p.version) if plans else None


def open_record(*, session: Session, actor: Actor, patient_id: uuid.UUID) -> PatientRecord:
    """The record as this actor may see it; writes a "view" audit entry."""
    access.require_patient_view(session, actor, patient_id=patient_id)
    patient = access.get_patient(session, actor, patient_id, view=True)
    clinical = access.can(session, actor, Permission.VIEW_CLINICAL)
    plan = _current_plan(session, patient.id)
    contacts = [
        ContactLine(c.id, c.occurred_at, c.kind, c.text, c.clinical)
        for c in session.scalars(
            select(Contact)
            .where(
                Contact.patient_id == patient.id,
                Contact.deleted.is_(False),
                access.visible_contact_filter(session, actor),
            )
            .order_by(Contact.occurred_at.desc())
        )
    ]
    tasks = [
        TaskLine(t.id, t.description, t.status, t.due_on, t.owner_member_id)
        for t in session.scalars(
            select(Task)
            .where(
                Task.patient_id == patient.id,
                Task.deleted.is_(False),
                access.visible_task_filter(actor),
            )
            .order_by(Task.due_on)
        )
    ]
    return PatientRecord(
        patient_id=patient.id,
        name=patient.display_name,
        nhs_number=format_nhs(patient.nhs_number),
        date_of_birth=patient.date_of_birth,
        contingency_plan=plan.contingency_plan if plan else "",
        clinical_summary=(plan.clinical_summary if plan else "") if clinical else None,
        medicines_notes=(plan.medicines_notes if plan else "") if clinical else None,
        long_term_conditions=patient.long_term_conditions if clinical else None,
        contacts=contacts,
        tasks=tasks,
        clinical_hidden=not clinical,
    )


def visible_patient_ids(*, session: Session, actor: Actor) -> list[uuid.UUID]:
    """Ids of every patient the actor may open (caseload lists filter with the same rule)."""
    from int_desk.store.models import Patient

    access.require_patient_view(session, actor)
    return list(
        session.scalars(
            select(Patient.id).where(
                Patient.deleted.is_(False), access.visible_patient_filter(actor)
            )
        )
    )
