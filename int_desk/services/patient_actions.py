"""What a team member does to a person on the caseload: enrol, discharge, lead, contact, task,
refer, escalate, flag, add to the next huddle.

Every function is Qt-free and headless (the caseload window, huddle run mode, the CLI and the
tests all call these), takes keyword-only ``session`` (one unit of work from ``ws.session()``)
and ``actor``, checks a permission and the actor's team scope, validates its inputs
(``ValidationError`` with the offending field, ``NotFound`` for unknown ids) and writes one audit
entry in the same transaction. Audit details hold ids and field names only; error messages hold
no patient-identifiable data.

Scope: a team member acts on people enrolled (now or before) in a cohort of one of their teams;
a VCSE worker also on people referred to them. Anyone else gets ``PermissionDenied``.
"""

from __future__ import annotations

import logging
import uuid
from datetime import UTC, date, datetime, timedelta
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from int_desk.domain.actor import Actor
from int_desk.domain.errors import NotFound, PermissionDenied, ValidationError
from int_desk.domain.permissions import Permission
from int_desk.domain.text import text_problem
from int_desk.domain.uk_time import from_london_wall, london_today
from int_desk.domain.vocab import (
    AuditAction,
    ContactKind,
    EscalationStatus,
    FlagCode,
    Priority,
    ReferralService,
    ReferralStatus,
    Role,
    TaskKind,
    TaskStatus,
)
from int_desk.services import access, gp_notify
from int_desk.services.writes import audit_event, record_write, stamp
from int_desk.store.base import utcnow
from int_desk.store.models import (
    Cohort,
    CohortMembership,
    Contact,
    Escalation,
    Flag,
    Member,
    Patient,
    Referral,
    Task,
    Team,
)

log = logging.getLogger(__name__)

MAX_TEXT = 10_000
"""Longest free text accepted (contact notes, reasons, outcomes)."""
MAX_SHORT_TEXT = 500
"""Longest one-line text accepted (task descriptions, flag notes)."""
CLOCK_SKEW = timedelta(minutes=5)
"""A contact may be dated this far in the future (device clocks differ)."""
ROLE_GRANTS_KEY = "role_permissions"
"""Team configuration key granting extra permissions to roles (same key as care plans)."""

_TERMINAL_REFERRAL = frozenset(
    {ReferralStatus.DECLINED.value, ReferralStatus.COMPLETED.value, ReferralStatus.CANCELLED.value}
)


def today() -> date:
    """The local date used for 'enrolled on', 'due on' checks (one seam for tests)."""
    return london_today()


# --- permissions and scope -------------------------------------------------------------------


def granted_permissions(session: Session, actor: Actor) -> frozenset[str]:
    """Permissions the actor's teams grant to the actor's role (never clinical content for
    VCSE/admin roles, whatever a team configures): see ``services.access``."""
    return access.granted_permissions(session, actor)


def can(session: Session, actor: Actor, permission: Permission) -> bool:
    return access.can(session, actor, permission)


def in_scope(session: Session, actor: Actor, patient_id: uuid.UUID) -> bool:
    """True when the patient is (or was) in a cohort of one of the actor's teams; a VCSE worker's
    scope is only the people referred to them (``access.visible_patient_filter``)."""
    return access.in_scope(session, actor, patient_id)


def get_patient(session: Session, actor: Actor, patient_id: uuid.UUID) -> Patient:
    """The patient, if it exists and is within the actor's scope (denials are audited)."""
    patient = session.get(Patient, _uuid(patient_id, "patient_id")) if patient_id else None
    if patient is None or patient.deleted:
        raise NotFound("That patient is not in this workspace.")
    if not in_scope(session, actor, patient.id):
        raise access.deny(
            session,
            actor,
            "act for a patient outside your teams' caseload",
            permission=Permission.VIEW_CASELOAD,
            patient_id=patient.id,
        )
    return patient


# --- validation helpers ----------------------------------------------------------------------


def _uuid(value: Any, field: str) -> uuid.UUID:
    if isinstance(value, uuid.UUID):
        return value
    try:
        return uuid.UUID(str(value))
    except (TypeError, ValueError):
        raise NotFound(f"Unknown {field.replace('_', ' ')}.") from None


def clean_text(
    value: str | None,
    field: str,
    *,
    label: str | None = None,
    required: bool = True,
    max_len: int = MAX_TEXT,
) -> str:
    """Strip, reject empty (when required), over-long or control-character text."""
    label = label or field.replace("_", " ").capitalize()
    if value is not None and not isinstance(value, str):
        raise ValidationError(f"{label} must be text.", field=field)
    text = (value or "").strip()
    if required and not text:
        raise ValidationError(f"{label} is required.", field=field)
    if len(text) > max_len:
        raise ValidationError(
            f"{label} is too long ({len(text):,} characters; the limit is {max_len:,}).",
            field=field,
        )
    if any(ord(ch) < 32 and ch not in "\n\r\t" for ch in text):
        raise ValidationError(f"{label} contains control characters.", field=field)
    if text_problem(text):  # a lone surrogate (pasted from a broken source): not Unicode
        raise ValidationError(f"{label} contains characters that are not valid text.", field=field)
    return text


def _enum(enum: Any, value: Any, field: str) -> Any:
    try:
        return enum(value)
    except ValueError:
        raise ValidationError(
            f"Unknown {field.replace('_', ' ')} '{value}'.", field=field
        ) from None


def _member(session: Session, member_id: Any, field: str) -> Member:
    member = session.get(Member, _uuid(member_id, field))
    if member is None or member.deleted:
        raise NotFound(f"Unknown team member for {field.replace('_', ' ')}.")
    if not member.active:
        raise ValidationError("That team member is no longer active.", field=field)
    return member


def _membership(session: Session, actor: Actor, membership_id: Any) -> CohortMembership:
    membership = session.get(CohortMembership, _uuid(membership_id, "membership_id"))
    if membership is None or membership.deleted:
        raise NotFound("That cohort membership is not in this workspace.")
    cohort = session.get(Cohort, membership.cohort_id)
    if cohort is None or cohort.team_id not in actor.team_ids:
        raise PermissionDenied("change another team's cohort", actor.role.label)
    return membership


# --- cohort membership -----------------------------------------------------------------------


def enrol(
    *,
    session: Session,
    actor: Actor,
    patient_id: uuid.UUID,
    cohort_id: uuid.UUID,
    reason: str,
    lead_member_id: uuid.UUID | None = None,
    priority: Priority | str = Priority.MEDIUM,
    risk_score: float | None = None,
    source: str = "manual",
) -> CohortMembership:
    """Enrol a person into one of the actor's teams' cohorts (ValidationError if already in)."""
    access.require(session, actor, Permission.EDIT_PATIENT)
    reason = clean_text(reason, "reason", label="Reason for enrolment")
    priority = _enum(Priority, priority, "priority")
    doing = "enrol into another team's cohort"
    cohort = access.get_team_row(
        session, actor, Cohort, _uuid(cohort_id, "cohort_id"), "cohort", doing
    )
    patient = session.get(Patient, _uuid(patient_id, "patient_id"))
    if patient is None or patient.deleted:
        raise NotFound("That patient is not in this workspace.")
    if lead_member_id is not None:
        _member(session, lead_member_id, "lead_member_id")
    if risk_score is not None and not 0.0 <= float(risk_score) <= 1.0:
        raise ValidationError("Risk score must be between 0 and 1.", field="risk_score")
    already = session.scalar(
        select(CohortMembership.id).where(
            CohortMembership.cohort_id == cohort.id,
            CohortMembership.patient_id == patient.id,
            CohortMembership.discharged_on.is_(None),
            CohortMembership.deleted.is_(False),
        )
    )
    if already is not None:
        raise ValidationError("This person is already enrolled in that cohort.", field="cohort_id")
    membership = CohortMembership(
        cohort_id=cohort.id,
        patient_id=patient.id,
        enrolled_on=today(),
        enrol_reason=reason,
        source=source,
        risk_score=risk_score,
        lead_member_id=lead_member_id,
        priority=priority.value,
    )
    record_write(
        session,
        actor,
        membership,
        AuditAction.CREATE,
        "cohort_membership",
        patient_id=patient.id,
        detail=f"cohort={cohort.id} fields=enrol_reason,priority,lead_member_id",
    )
    return membership


def discharge_from_cohort(
    *, session: Session, actor: Actor, membership_id: uuid.UUID, reason: str
) -> CohortMembership:
    """Discharge from a cohort with a reason; the membership row stays (history)."""
    access.require(session, actor, Permission.EDIT_PATIENT)
    reason = clean_text(reason, "reason", label="Reason for discharge")
    membership = _membership(session, actor, membership_id)
    if membership.discharged_on is not None:
        raise ValidationError("This person has already been discharged from that cohort.")
    membership.discharged_on = today()
    membership.discharge_reason = reason
    record_write(
        session,
        actor,
        membership,
        AuditAction.UPDATE,
        "cohort_membership",
        patient_id=membership.patient_id,
        detail="fields=discharged_on,discharge_reason",
    )
    gp_notify.on_cohort_discharge(session, actor, membership)
    return membership


def set_lead_professional(
    *, session: Session, actor: Actor, membership_id: uuid.UUID, member_id: uuid.UUID | None
) -> CohortMembership:
    """Name (or, with None, clear) the lead professional for a person in a cohort."""
    access.require(session, actor, Permission.EDIT_PATIENT)
    membership = _membership(session, actor, membership_id)
    if membership.discharged_on is not None:
        raise ValidationError("This person has been discharged from that cohort.")
    if member_id is not None:
        member_id = _member(session, member_id, "member_id").id
    membership.lead_member_id = member_id
    record_write(
        session,
        actor,
        membership,
        AuditAction.UPDATE,
        "cohort_membership",
        patient_id=membership.patient_id,
        detail=f"fields=lead_member_id member={member_id}",
    )
    return membership


def set_priority(
    *, session: Session, actor: Actor, membership_id: uuid.UUID, priority: Priority | str
) -> CohortMembership:
    access.require(session, actor, Permission.EDIT_PATIENT)
    priority = _enum(Priority, priority, "priority")
    membership = _membership(session, actor, membership_id)
    membership.priority = priority.value
    record_write(
        session,
        actor,
        membership,
        AuditAction.UPDATE,
        "cohort_membership",
        patient_id=membership.patient_id,
        detail="fields=priority",
    )
    return membership


# --- contacts --------------------------------------------------------------------------------


def add_contact(
    *,
    session: Session,
    actor: Actor,
    patient_id: uuid.UUID,
    kind: ContactKind | str,
    text: str,
    occurred_at: datetime | None = None,
) -> Contact:
    """Record a visit, call, carer call, note or huddle discussion (append-only)."""
    access.require(session, actor, Permission.ADD_CONTACT)
    kind = _enum(ContactKind, kind, "kind")
    text = clean_text(text, "text", label="Contact note")
    now = utcnow()
    if occurred_at is None:
        occurred_at = now
    elif not isinstance(occurred_at, datetime):
        raise ValidationError("Contact time must be a date and time.", field="occurred_at")
    else:
        occurred_at = from_london_wall(occurred_at)  # a form's wall clock is the team's, London
    if occurred_at > now + CLOCK_SKEW:
        raise ValidationError("A contact cannot be recorded in the future.", field="occurred_at")
    if occurred_at < now - timedelta(days=366 * 5):
        raise ValidationError(
            "That contact is more than five years ago; check the date.", field="occurred_at"
        )
    patient = get_patient(session, actor, patient_id)
    contact = Contact(
        patient_id=patient.id,
        kind=kind.value,
        occurred_at=occurred_at.astimezone(UTC),
        author_id=actor.member_id,
        text=text,
        # A non-clinical partner's own note must stay visible to them.
        clinical=can(session, actor, Permission.VIEW_CLINICAL),
    )
    record_write(
        session,
        actor,
        contact,
        AuditAction.CREATE,
        "contact",
        patient_id=patient.id,
        detail=f"kind={kind.value} fields=text,occurred_at",
    )
    return contact


# --- tasks -----------------------------------------------------------------------------------


def allocate_task(
    *,
    session: Session,
    actor: Actor,
    patient_id: uuid.UUID,
    description: str,
    due_on: date | None,
    owner_team_id: uuid.UUID | None = None,
    owner_role: Role | str | None = None,
    owner_member_id: uuid.UUID | None = None,
    kind: TaskKind | str = TaskKind.TASK,
    huddle_item_id: uuid.UUID | None = None,
) -> Task:
    """Allocate a task (or planned home visit) to a team, a role and/or a named person."""
    access.require(session, actor, Permission.MANAGE_TASKS)
    description = clean_text(
        description, "description", label="Task description", max_len=MAX_SHORT_TEXT * 4
    )
    kind = _enum(TaskKind, kind, "kind")
    if due_on is None:
        raise ValidationError("A due date is required.", field="due_on")
    if isinstance(due_on, datetime) or not isinstance(due_on, date):
        raise ValidationError("Due date must be a date.", field="due_on")
    if due_on < today():
        raise ValidationError("The due date is in the past.", field="due_on")
    if due_on > today() + timedelta(days=366 * 2):
        raise ValidationError("The due date is more than two years away.", field="due_on")
    if owner_team_id is None and owner_role is None and owner_member_id is None:
        raise ValidationError("Allocate the task to a team, a role or a person.", field="owner")
    if owner_team_id is not None:
        team = session.get(Team, _uuid(owner_team_id, "owner_team_id"))
        if team is None or team.deleted:
            raise NotFound("Unknown team for this task.")
        owner_team_id = team.id
    role = _enum(Role, owner_role, "owner_role") if owner_role is not None else None
    if owner_member_id is not None:
        owner_member_id = _member(session, owner_member_id, "owner_member_id").id
    patient = get_patient(session, actor, patient_id)
    task = Task(
        patient_id=patient.id,
        kind=kind.value,
        description=description,
        status=TaskStatus.REQUESTED.value,
        owner_team_id=owner_team_id,
        owner_role=role.value if role else None,
        owner_member_id=owner_member_id,
        requester_id=actor.member_id,
        due_on=due_on,
        huddle_item_id=_uuid(huddle_item_id, "huddle_item_id") if huddle_item_id else None,
    )
    record_write(
        session,
        actor,
        task,
        AuditAction.CREATE,
        "task",
        patient_id=patient.id,
        detail=f"kind={kind.value} owner_team={owner_team_id} owner_role={task.owner_role} "
        f"owner_member={owner_member_id} fields=description,due_on",
    )
    return task


def complete_task(*, session: Session, actor: Actor, task_id: uuid.UUID) -> Task:
    access.require(session, actor, Permission.MANAGE_TASKS)
    task = session.get(Task, _uuid(task_id, "task_id"))
    if task is None or task.deleted:
        raise NotFound("That task is not in this workspace.")
    get_patient(session, actor, task.patient_id)
    if not TaskStatus(task.status).is_open:
        raise ValidationError(f"This task is already {task.status}.", field="status")
    task.status = TaskStatus.COMPLETED.value
    task.completed_at = utcnow()
    record_write(
        session,
        actor,
        task,
        AuditAction.UPDATE,
        "task",
        patient_id=task.patient_id,
        detail="fields=status,completed_at",
    )
    return task


# --- referrals -------------------------------------------------------------------------------


def refer(
    *,
    session: Session,
    actor: Actor,
    patient_id: uuid.UUID,
    service: ReferralService | str,
    reason: str,
    to_member_id: uuid.UUID | None = None,
) -> Referral:
    access.require(session, actor, Permission.REFER)
    service = _enum(ReferralService, service, "service")
    reason = clean_text(reason, "reason", label="Reason for referral")
    if to_member_id is not None:
        to_member_id = _member(session, to_member_id, "to_member_id").id
    patient = get_patient(session, actor, patient_id)
    referral = Referral(
        patient_id=patient.id,
        service=service.value,
        reason=reason,
        referred_on=today(),
        referred_by=actor.member_id,
        to_member_id=to_member_id,
        status=ReferralStatus.SENT.value,
        outcome="",
    )
    record_write(
        session,
        actor,
        referral,
        AuditAction.CREATE,
        "referral",
        patient_id=patient.id,
        detail=f"service={service.value} to_member={to_member_id} fields=reason",
    )
    return referral


def record_referral_outcome(
    *,
    session: Session,
    actor: Actor,
    referral_id: uuid.UUID,
    status: ReferralStatus | str,
    outcome: str,
) -> Referral:
    """Accepted, declined, completed or cancelled; a declined/completed one needs an outcome."""
    access.require(session, actor, Permission.REFER)
    status = _enum(ReferralStatus, status, "status")
    if status is ReferralStatus.SENT:
        raise ValidationError("Choose what happened to the referral.", field="status")
    required = status in (ReferralStatus.DECLINED, ReferralStatus.COMPLETED)
    outcome = clean_text(outcome, "outcome", label="Outcome", required=required)
    referral = session.get(Referral, _uuid(referral_id, "referral_id"))
    if referral is None or referral.deleted:
        raise NotFound("That referral is not in this workspace.")
    get_patient(session, actor, referral.patient_id)
    if referral.status in _TERMINAL_REFERRAL:
        raise ValidationError(f"This referral is already {referral.status}.", field="status")
    referral.status = status.value
    referral.outcome = outcome
    referral.outcome_on = today()
    record_write(
        session,
        actor,
        referral,
        AuditAction.UPDATE,
        "referral",
        patient_id=referral.patient_id,
        detail=f"status={status.value} fields=status,outcome,outcome_on",
    )
    return referral


# --- escalations -----------------------------------------------------------------------------


def escalate(*, session: Session, actor: Actor, patient_id: uuid.UUID, reason: str) -> Escalation:
    """Escalate a concern to the INT clinical lead."""
    access.require(session, actor, Permission.ESCALATE)
    reason = clean_text(reason, "reason", label="Reason for escalation")
    patient = get_patient(session, actor, patient_id)
    escalation = Escalation(
        patient_id=patient.id,
        raised_by=actor.member_id,
        raised_at=utcnow(),
        reason=reason,
        status=EscalationStatus.OPEN.value,
    )
    record_write(
        session,
        actor,
        escalation,
        AuditAction.CREATE,
        "escalation",
        patient_id=patient.id,
        detail="fields=reason",
    )
    return escalation


def resolve_escalation(
    *, session: Session, actor: Actor, escalation_id: uuid.UUID, resolution: str
) -> Escalation:
    access.require(session, actor, Permission.RESOLVE_ESCALATION)
    resolution = clean_text(resolution, "resolution", label="Resolution")
    escalation = session.get(Escalation, _uuid(escalation_id, "escalation_id"))
    if escalation is None or escalation.deleted:
        raise NotFound("That escalation is not in this workspace.")
    get_patient(session, actor, escalation.patient_id)
    if escalation.status == EscalationStatus.RESOLVED.value:
        raise ValidationError("This escalation has already been resolved.", field="status")
    escalation.status = EscalationStatus.RESOLVED.value
    escalation.resolved_by = actor.member_id
    escalation.resolved_at = utcnow()
    escalation.resolution = resolution
    record_write(
        session,
        actor,
        escalation,
        AuditAction.UPDATE,
        "escalation",
        patient_id=escalation.patient_id,
        detail="fields=status,resolution,resolved_by,resolved_at",
    )
    gp_notify.on_escalation_resolved(session, actor, escalation)
    return escalation


# --- flags -----------------------------------------------------------------------------------


def _set_flag(
    session: Session, actor: Actor, patient: Patient, code: FlagCode, active: bool, note: str
) -> Flag | None:
    flag = session.scalar(
        select(Flag)
        .where(Flag.patient_id == patient.id, Flag.code == code.value, Flag.deleted.is_(False))
        .order_by(Flag.active.desc(), Flag.updated_at.desc())
        .limit(1)
    )
    if flag is None and not active:
        return None  # nothing to clear
    if flag is None:
        flag = Flag(patient_id=patient.id, code=code.value, active=True, since=today(), note=note)
        stamp(flag, actor, new=True)
        session.add(flag)
        action = AuditAction.CREATE
    else:
        if active and not flag.active:
            flag.since = today()
        flag.active = active
        if note or active:
            flag.note = note
        stamp(flag, actor)
        action = AuditAction.UPDATE
    session.flush()
    audit_event(
        session,
        actor,
        action,
        "flag",
        flag.id,
        patient_id=patient.id,
        detail=f"code={code.value} active={int(active)} fields=active,note",
    )
    return flag


def set_flag(
    *,
    session: Session,
    actor: Actor,
    patient_id: uuid.UUID,
    code: FlagCode | str,
    active: bool,
    note: str = "",
) -> Flag | None:
    """Raise or clear a flag; returns the flag row (None when clearing a flag never raised)."""
    access.require(session, actor, Permission.EDIT_PATIENT)
    code = _enum(FlagCode, code, "code")
    note = clean_text(note, "note", label="Flag note", required=False, max_len=MAX_SHORT_TEXT)
    patient = get_patient(session, actor, patient_id)
    return _set_flag(session, actor, patient, code, bool(active), note)


def add_to_next_huddle(
    *, session: Session, actor: Actor, patient_id: uuid.UUID, note: str = ""
) -> Flag:
    """Ask for the person to be discussed at the team's next huddle (the agenda reads the flag).

    Anyone who may raise a concern may ask; the huddle clears the flag once discussed.
    """
    access.require(session, actor, Permission.ESCALATE)
    note = clean_text(note, "note", label="Huddle note", required=False, max_len=MAX_SHORT_TEXT)
    patient = get_patient(session, actor, patient_id)
    flag = _set_flag(session, actor, patient, FlagCode.ADD_TO_HUDDLE, True, note)
    assert flag is not None
    return flag
