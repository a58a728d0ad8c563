"""Recording a person's information and communication needs (Accessible Information Standard).

The needs are codes on the person (``Patient.information_needs``; see
``int_desk.domain.information_needs``). Recording them needs EDIT_PATIENT and writes one audit
entry naming the field (never the needs: audit details hold ids and field names only). A
recorded large-print need makes the carer copy of a care plan large print by default.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterable

from sqlalchemy.orm import Session

from int_desk.domain import information_needs as needs
from int_desk.domain.actor import Actor
from int_desk.domain.information_needs import InformationNeed
from int_desk.domain.permissions import Permission
from int_desk.domain.vocab import AuditAction
from int_desk.services import access, patient_actions
from int_desk.services.writes import record_write


def information_needs(
    *, session: Session, actor: Actor, patient_id: uuid.UUID
) -> tuple[InformationNeed, ...]:
    patient = patient_actions.get_patient(session, actor, patient_id)
    return needs.parse(patient.information_needs)


def set_information_needs(
    *,
    session: Session,
    actor: Actor,
    patient_id: uuid.UUID,
    chosen: Iterable[InformationNeed | str],
) -> tuple[InformationNeed, ...]:
    """Replace the person's recorded needs with ``chosen`` (empty clears them)."""
    access.require(session, actor, Permission.EDIT_PATIENT)
    patient = patient_actions.get_patient(session, actor, patient_id)
    stored = needs.serialise(chosen)
    if stored != (patient.information_needs or ""):
        patient.information_needs = stored
        record_write(
            session,
            actor,
            patient,
            AuditAction.UPDATE,
            "patient",
            patient_id=patient.id,
            detail="fields=information_needs",
        )
    return needs.parse(stored)
