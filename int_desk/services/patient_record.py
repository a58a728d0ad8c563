"""A person's record as the caseload window shows it, and a team member's "My tasks".

Reads are audited (FHIR AuditEvent 'R'): opening a record writes one entry. Clinical contact
text is withheld from roles without the clinical permission (they see that a contact happened).
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time

from sqlalchemy import or_, select
from sqlalchemy.orm import Session

from int_desk.domain import information_needs
from int_desk.domain.actor import Actor
from int_desk.domain.information_needs import InformationNeed
from int_desk.domain.permissions import Permission
from int_desk.domain.person_names import PersonDisplay
from int_desk.domain.uk_time import in_london
from int_desk.domain.vocab import (
    OPEN_TASK_STATUSES,
    AuditAction,
    CarePlanStatus,
    ContactKind,
    FlagCode,
    HealthEventKind,
    Priority,
    ReferralService,
    TaskKind,
    role_label,
)
from int_desk.services import access
from int_desk.services.patient_actions import can, get_patient
from int_desk.store import audit
from int_desk.store.models import (
    CarePlan,
    CareTeamParticipant,
    Cohort,
    CohortMembership,
    Contact,
    Escalation,
    Flag,
    Goal,
    GpNotification,
    HealthEvent,
    Member,
    Organisation,
    Patient,
    PlanAction,
    Referral,
    Task,
    Team,
)

TIMELINE_LIMIT = 300
WITHHELD = "Clinical note - not shown for your role."
WITHHELD_ESCALATION = "Escalated to the clinical lead - the reason is not shown for your role."


@dataclass(frozen=True)
class MembershipInfo:
    id: uuid.UUID
    cohort_id: uuid.UUID
    cohort: str
    team: str
    enrolled_on: date
    reason: str
    priority: Priority
    lead_member_id: uuid.UUID | None
    lead: str
    lead_role: str
    discharged_on: date | None
    discharge_reason: str | None
    risk_score: float | None

    @property
    def active(self) -> bool:
        return self.discharged_on is None


@dataclass(frozen=True)
class TeamPerson:
    role: str  # e.g. "Named lead professional (Frailty)", "Usual GP"
    name: str
    detail: str = ""


@dataclass(frozen=True)
class TimelineEntry:
    when: datetime
    kind: str  # contact | task | referral | escalation | health_event
    label: str  # e.g. "Home visit", "Referral: Social prescribing"
    text: str
    who: str = ""
    status: str = ""
    entity_id: uuid.UUID | None = None


@dataclass(frozen=True)
class TaskInfo:
    id: uuid.UUID
    patient_id: uuid.UUID
    patient_name: str
    nhs_number: str
    description: str
    kind: str
    status: str
    due_on: date | None
    owner: str
    requester: str
    owner_member_id: uuid.UUID | None = None
    date_of_birth: date | None = None  # listed with the name: never an ambiguous person

    def overdue(self, today: date) -> bool:
        return self.due_on is not None and self.due_on < today


@dataclass(frozen=True)
class PlanSummary:
    id: uuid.UUID
    version: int
    status: str
    review_date: date | None
    what_matters: str
    contingency_plan: str
    goals: list[str]
    actions: int
    signed_off_at: datetime | None


@dataclass(frozen=True)
class OpenItem:
    id: uuid.UUID
    label: str
    detail: str


@dataclass
class PatientRecord(PersonDisplay):
    patient_id: uuid.UUID
    given_name: str
    family_name: str
    nhs_number: str
    date_of_birth: date
    sex: str
    postcode: str
    address: str
    phone: str
    practice: str
    communication_needs: str
    long_term_conditions: str
    carer_name: str
    carer_relationship: str
    carer_phone: str
    carer_needs: str
    flags: list[tuple[FlagCode, str]]
    memberships: list[MembershipInfo]
    team: list[TeamPerson]
    plan: PlanSummary | None
    open_tasks: list[TaskInfo]
    open_referrals: list[OpenItem]
    open_escalations: list[OpenItem]
    timeline: list[TimelineEntry] = field(default_factory=list)
    clinical_visible: bool = True
    # Accessible Information Standard needs (large print, braille, interpreter...).
    information_needs: tuple[InformationNeed, ...] = ()

    @property
    def active_memberships(self) -> list[MembershipInfo]:
        return [m for m in self.memberships if m.active]


def _names(session: Session, ids: set[uuid.UUID | None]) -> dict[uuid.UUID, tuple[str, str]]:
    ids = {i for i in ids if i}
    if not ids:
        return {}
    return {
        mid: (name, role)
        for mid, name, role in session.execute(
            select(Member.id, Member.name, Member.role).where(Member.id.in_(ids))
        )
    }


def _at(d: date) -> datetime:
    return datetime.combine(d, time(12, 0), tzinfo=UTC)


def patient_record(
    *, session: Session, actor: Actor, patient_id: uuid.UUID, audit_read: bool = True
) -> PatientRecord:
    """Everything the record pane shows for one person (one audited read)."""
    access.require_patient_view(session, actor, patient_id=patient_id)  # VCSE: referred only
    p: Patient = get_patient(session, actor, patient_id)
    clinical = can(session, actor, Permission.VIEW_CLINICAL)

    rows = session.execute(
        select(CohortMembership, Cohort.name, Team.name)
        .join(Cohort, Cohort.id == CohortMembership.cohort_id)
        .join(Team, Team.id == Cohort.team_id)
        .where(CohortMembership.patient_id == p.id, CohortMembership.deleted.is_(False))
        .order_by(CohortMembership.discharged_on.is_not(None), CohortMembership.enrolled_on.desc())
    ).all()
    contacts = list(
        session.scalars(
            select(Contact)
            .where(Contact.patient_id == p.id, Contact.deleted.is_(False))
            .order_by(Contact.occurred_at.desc())
            .limit(TIMELINE_LIMIT)
        )
    )
    tasks = list(
        session.scalars(
            select(Task).where(
                Task.patient_id == p.id,
                Task.deleted.is_(False),
                access.visible_task_filter(actor),  # a VCSE worker: only their own tasks
            )
        )
    )
    referrals = list(
        session.scalars(
            select(Referral).where(Referral.patient_id == p.id, Referral.deleted.is_(False))
        )
    )
    escalations = list(
        session.scalars(
            select(Escalation).where(Escalation.patient_id == p.id, Escalation.deleted.is_(False))
        )
    )
    events = list(
        session.scalars(
            select(HealthEvent).where(
                HealthEvent.patient_id == p.id, HealthEvent.deleted.is_(False)
            )
        )
    )
    participants = list(
        session.scalars(
            select(CareTeamParticipant).where(
                CareTeamParticipant.patient_id == p.id, CareTeamParticipant.deleted.is_(False)
            )
        )
    )
    ids: set[uuid.UUID | None] = {p.usual_gp_id}
    ids |= {m.lead_member_id for m, _, _ in rows}
    ids |= {c.author_id for c in contacts}
    ids |= {t.owner_member_id for t in tasks} | {t.requester_id for t in tasks}
    ids |= {r.referred_by for r in referrals} | {r.to_member_id for r in referrals}
    ids |= {e.raised_by for e in escalations} | {e.resolved_by for e in escalations}
    ids |= {c.member_id for c in participants}
    names = _names(session, ids)
    teams = dict(session.execute(select(Team.id, Team.name)).all())

    def who(mid: uuid.UUID | None) -> str:
        return names[mid][0] if mid in names else ""

    memberships = [
        MembershipInfo(
            m.id,
            m.cohort_id,
            cohort,
            team,
            m.enrolled_on,
            m.enrol_reason,
            Priority(m.priority),
            m.lead_member_id,
            who(m.lead_member_id),
            role_label(names[m.lead_member_id][1]) if m.lead_member_id in names else "",
            m.discharged_on,
            m.discharge_reason,
            m.risk_score,
        )  # fmt: skip
        for m, cohort, team in rows
    ]
    team_people: list[TeamPerson] = []
    seen_leads: set[uuid.UUID] = set()
    for m in memberships:
        if m.active and m.lead_member_id and m.lead_member_id not in seen_leads:
            seen_leads.add(m.lead_member_id)
            team_people.append(
                TeamPerson(f"Named lead professional ({m.cohort})", m.lead, m.lead_role)
            )
    if p.usual_gp_id:
        team_people.append(TeamPerson("Usual GP", who(p.usual_gp_id), "GP"))
    for c in participants:
        team_people.append(
            TeamPerson(role_label(names.get(c.member_id, ("", ""))[1]), who(c.member_id), c.note)
        )
    involved = {t.owner_member_id for t in tasks if t.status in OPEN_TASK_STATUSES}
    involved |= {r.to_member_id for r in referrals}
    for mid in sorted((i for i in involved if i and i in names), key=lambda i: names[i][0]):
        if mid not in seen_leads and mid != p.usual_gp_id:
            team_people.append(TeamPerson(role_label(names[mid][1]), names[mid][0], "involved"))

    timeline: list[TimelineEntry] = []
    for c in contacts:
        text = c.text if (clinical or not c.clinical) else WITHHELD
        timeline.append(
            TimelineEntry(
                c.occurred_at,
                "contact",
                _contact_label(c.kind),
                text,
                who(c.author_id),
                entity_id=c.id,
            )  # fmt: skip
        )
    for t in tasks:
        owner = _owner(t, who, teams)
        label = "Home visit planned" if t.kind == TaskKind.HOME_VISIT.value else "Task"
        due = f" - due {t.due_on:%d %b %Y}" if t.due_on else ""
        timeline.append(
            TimelineEntry(
                t.created_at, "task", label, f"{t.description}{due}", owner, t.status, t.id
            )  # fmt: skip
        )
    for r in referrals:
        text = r.reason + (f" - outcome: {r.outcome}" if r.outcome else "")
        label = f"Referral: {_service_label(r.service)}"
        timeline.append(
            TimelineEntry(
                _at(r.referred_on), "referral", label, text, who(r.referred_by), r.status, r.id
            )  # fmt: skip
        )
    for e in escalations:
        text = e.reason + (f" - resolved: {e.resolution}" if e.resolution else "")
        if not (clinical or e.raised_by == actor.member_id):  # the raiser reads their own
            text = WITHHELD_ESCALATION
        timeline.append(
            TimelineEntry(
                e.raised_at,
                "escalation",
                "Escalated to clinical lead",
                text,
                who(e.raised_by),
                e.status,
                e.id,
            )  # fmt: skip
        )
    for h in events:
        timeline.append(
            TimelineEntry(
                _at(h.occurred_on),
                "health_event",
                HealthEventKind(h.kind).label,
                (h.detail if clinical else "") or h.source,
                "",
                "",
                h.id,
            )  # fmt: skip
        )
    timeline += _gp_notices(session, p.id, clinical)
    timeline.sort(key=lambda e: e.when, reverse=True)

    open_tasks = [
        _task_info(t, p, who, teams)
        for t in sorted(
            (t for t in tasks if t.status in OPEN_TASK_STATUSES),
            key=lambda t: t.due_on or date.max,
        )
    ]
    flags = [
        (FlagCode(f.code), f.note)
        for f in session.scalars(
            select(Flag).where(
                Flag.patient_id == p.id, Flag.active.is_(True), Flag.deleted.is_(False)
            )
        )
        if f.code in FlagCode._value2member_map_
    ]
    practice = session.scalar(select(Organisation.name).where(Organisation.id == p.practice_id))
    record = PatientRecord(
        patient_id=p.id, given_name=p.given_name, family_name=p.family_name,
        nhs_number=p.nhs_number, date_of_birth=p.date_of_birth, sex=p.sex, postcode=p.postcode,
        address=p.address or "", phone=p.phone or "", practice=practice or "",
        communication_needs=p.communication_needs or "",
        information_needs=information_needs.parse(p.information_needs),
        long_term_conditions=p.long_term_conditions or "" if clinical else "",
        carer_name=p.carer_name or "", carer_relationship=p.carer_relationship or "",
        carer_phone=p.carer_phone or "", carer_needs=p.carer_needs or "",
        flags=sorted(flags, key=lambda f: list(FlagCode).index(f[0])),
        memberships=memberships, team=team_people, plan=_plan_summary(session, p.id),
        open_tasks=open_tasks,
        open_referrals=[
            OpenItem(r.id, _service_label(r.service), f"{r.status} since {r.referred_on:%d %b %Y}")
            for r in referrals if r.status in ("sent", "accepted")
        ],
        open_escalations=[
            OpenItem(e.id, "Escalation", f"raised {in_london(e.raised_at):%d %b %Y} by {who(e.raised_by)}")
            for e in escalations if e.status == "open"
        ],
        timeline=timeline[:TIMELINE_LIMIT], clinical_visible=clinical,
    )  # fmt: skip
    if audit_read:
        audit.record_by(
            session, actor, AuditAction.READ, "patient", p.id, patient_id=p.id, detail="view=record"
        )
    return record


def _gp_notices(session: Session, patient_id: uuid.UUID, clinical: bool) -> list[TimelineEntry]:
    """What the registered practice was told (services/gp_notify.py), and whether it read it."""
    rows = session.scalars(
        select(GpNotification).where(
            GpNotification.patient_id == patient_id, GpNotification.deleted.is_(False)
        )
    )
    out = []
    for n in rows:
        if not n.recipient_ods:
            status = "not sent: no registered practice"
        elif n.read_at is not None:
            status = f"read by the practice {in_london(n.read_at):%d %b %Y %H:%M}"
        else:
            status = "sent, not yet read"
        text = n.text if clinical else WITHHELD
        out.append(
            TimelineEntry(
                n.queued_at, "gp_notification", f"GP told: {n.subject}", text, "", status, n.id
            )  # fmt: skip
        )
    return out


def _contact_label(kind: str) -> str:
    try:
        return ContactKind(kind).label
    except ValueError:
        return kind


def _service_label(service: str) -> str:
    try:
        return ReferralService(service).label
    except ValueError:
        return service


def _owner(t: Task, who, teams: dict) -> str:  # noqa: ANN001
    parts = []
    if t.owner_member_id:
        parts.append(who(t.owner_member_id))
    if t.owner_role:
        parts.append(role_label(t.owner_role))
    if t.owner_team_id and not t.owner_member_id:
        parts.append(teams.get(t.owner_team_id, ""))
    return " · ".join(x for x in parts if x)


def _task_info(t: Task, p: Patient, who, teams: dict) -> TaskInfo:  # noqa: ANN001
    return TaskInfo(
        t.id, p.id, f"{p.family_name.upper()}, {p.given_name}", p.nhs_number, t.description,
        t.kind, t.status, t.due_on, _owner(t, who, teams), who(t.requester_id),
        t.owner_member_id, p.date_of_birth,
    )  # fmt: skip


def _plan_summary(session: Session, patient_id: uuid.UUID) -> PlanSummary | None:
    plans = list(
        session.scalars(
            select(CarePlan)
            .where(CarePlan.patient_id == patient_id, CarePlan.deleted.is_(False))
            .order_by(CarePlan.version.desc(), CarePlan.created_at.desc())
        )
    )
    plan = next((x for x in plans if x.status == CarePlanStatus.ACTIVE.value), None) or next(
        (x for x in plans if x.status == CarePlanStatus.DRAFT.value), None
    )
    if plan is None:
        return None
    goals = list(
        session.scalars(
            select(Goal.description)
            .where(Goal.care_plan_id == plan.id, Goal.deleted.is_(False))
            .order_by(Goal.position)
        )
    )
    actions = len(
        session.scalars(
            select(PlanAction.id).where(
                PlanAction.care_plan_id == plan.id, PlanAction.deleted.is_(False)
            )
        ).all()
    )
    return PlanSummary(
        plan.id, plan.version, plan.status, plan.review_date, plan.what_matters,
        plan.contingency_plan, goals, actions, plan.signed_off_at,
    )  # fmt: skip


# --- My tasks --------------------------------------------------------------------------------


def my_tasks(
    *, session: Session, actor: Actor, include_role_and_team: bool = True
) -> list[TaskInfo]:
    """Open tasks for the signed-in member, overdue first, then by due date.

    Includes tasks allocated to the member by name and, unless turned off, tasks allocated to
    their role or to one of their teams with nobody named yet.
    """
    access.require(session, actor, Permission.MANAGE_TASKS)
    mine = Task.owner_member_id == actor.member_id
    cond = mine
    if include_role_and_team and actor.team_ids:
        unassigned = Task.owner_member_id.is_(None)
        by_role = (
            unassigned
            & (Task.owner_role == actor.role.value)
            & (Task.owner_team_id.in_(actor.team_ids) | Task.owner_team_id.is_(None))
        )
        by_team = unassigned & Task.owner_role.is_(None) & Task.owner_team_id.in_(actor.team_ids)
        cond = or_(mine, by_role, by_team)
    rows = session.execute(
        select(Task, Patient)
        .join(Patient, Patient.id == Task.patient_id)
        .where(cond, Task.status.in_(OPEN_TASK_STATUSES), Task.deleted.is_(False))
        .order_by(Task.due_on.is_(None), Task.due_on, Task.created_at)
    ).all()
    names = _names(
        session, {t.owner_member_id for t, _ in rows} | {t.requester_id for t, _ in rows}
    )
    teams = dict(session.execute(select(Team.id, Team.name)).all())

    def who(mid: uuid.UUID | None) -> str:
        return names[mid][0] if mid in names else ""

    # Overdue first is the SQL order already (earliest due first); undated last.
    return [_task_info(t, p, who, teams) for t, p in rows]
