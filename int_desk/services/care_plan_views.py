"""Care plans as people read them: a printable snapshot of one version (or of many, for a batch
export, in a handful of queries), every version of a person's plan with who and when, what
changed between two versions, and the team members a plan can name.

Internal notes are withheld from roles without clinical access. The plans themselves (drafts,
goals, actions, sign-off) are ``int_desk.services.care_plans``.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import date, datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from int_desk.domain import care_plan as rules
from int_desk.domain import information_needs
from int_desk.domain.actor import Actor
from int_desk.domain.care_plan import (
    ActionView,
    GoalView,
    PatientSummary,
    PlanDiff,
    PlanView,
)
from int_desk.domain.errors import NotFound, ValidationError
from int_desk.domain.nhs_number import format_nhs
from int_desk.domain.permissions import Permission
from int_desk.domain.uk_time import day_text, in_london
from int_desk.domain.vocab import (
    AuditAction,
    role_label,
)
from int_desk.services import access
from int_desk.services.care_plans import (
    audit_plan,
    can,
    current_plan,
    get_plan,
    plan_actions,
    plan_goals,
    plans_for_patient,
    require_in_scope,
)
from int_desk.store.models import (
    CarePlan,
    Cohort,
    CohortMembership,
    Goal,
    Member,
    Patient,
    PlanAction,
    Team,
    TeamMembership,
)


class _Names:
    """Member and team names for one unit of work (printing 1,000 plans needs this cache)."""

    def __init__(self, session: Session) -> None:
        self.session = session
        self._members: dict[uuid.UUID, tuple[str, str]] = {}
        self._teams: dict[uuid.UUID, str] | None = None

    def load(self, ids: Iterable[uuid.UUID | None]) -> None:
        wanted = {i for i in ids if i is not None and i not in self._members}
        wanted_list = list(wanted)
        for start in range(0, len(wanted_list), 500):
            chunk = wanted_list[start : start + 500]
            for mid, name, role in self.session.execute(
                select(Member.id, Member.name, Member.role).where(Member.id.in_(chunk))
            ):
                self._members[mid] = (name, role)

    def member(self, member_id: uuid.UUID | None) -> str:
        if member_id is None:
            return ""
        if member_id not in self._members:
            self.load([member_id])
        name, role = self._members.get(member_id, ("(unknown member)", ""))
        return f"{name} ({role_label(role)})" if role else name

    def member_name(self, member_id: uuid.UUID | None) -> str:
        if member_id is None:
            return ""
        if member_id not in self._members:
            self.load([member_id])
        return self._members.get(member_id, ("(unknown member)", ""))[0]

    def team(self, team_id: uuid.UUID | None) -> str:
        if team_id is None:
            return ""
        if self._teams is None:
            self._teams = {
                tid: name for tid, name in self.session.execute(select(Team.id, Team.name))
            }
        return self._teams.get(team_id, "")


def _who(names: _Names, a: PlanAction) -> str:
    parts = []
    if a.owner_member_id:
        parts.append(names.member(a.owner_member_id))
    elif a.owner_role:
        parts.append(role_label(a.owner_role))
    team = names.team(a.owner_team_id)
    if team:
        parts.append(team)
    return ", ".join(parts)


def _build_view(
    plan: CarePlan,
    patient: Patient,
    goals: list[Goal],
    actions: list[PlanAction],
    names: _Names,
    *,
    redact_clinical: bool,
    team: tuple[str, str] = ("", ""),
) -> PlanView:
    names.load(
        [
            plan.lead_member_id,
            plan.signed_off_by,
            plan.consent_recorded_by,
            plan.created_by,
            plan.updated_by,
            patient.usual_gp_id,
        ]
        + [g.created_by for g in goals]
        + [g.updated_by for g in goals]
        + [a.owner_member_id for a in actions]
        + [a.created_by for a in actions]
        + [a.updated_by for a in actions]
    )
    goal_views = tuple(
        GoalView(
            id=g.id,
            number=i,
            description=g.description,
            target_measure=g.target_measure,
            target_date=g.target_date,
            lifecycle_status=g.lifecycle_status,
            achievement_status=g.achievement_status,
        )
        for i, g in enumerate(goals, start=1)
    )
    number_of = {g.id: g.number for g in goal_views}
    action_views = tuple(
        ActionView(
            id=a.id,
            number=i,
            description=a.description,
            who=_who(names, a),
            when=a.when,
            status=a.status,
            goal_id=a.goal_id,
            goal_number=number_of.get(a.goal_id) if a.goal_id else None,
            owner_role=a.owner_role,
            owner_member_id=a.owner_member_id,
            owner_team_id=a.owner_team_id,
        )
        for i, a in enumerate(actions, start=1)
    )
    contributor_ids: list[uuid.UUID] = []
    for mid in (
        [plan.lead_member_id, plan.created_by, plan.updated_by, plan.signed_off_by]
        + [g.created_by for g in goals]
        + [g.updated_by for g in goals]
        + [a.created_by for a in actions]
        + [a.updated_by for a in actions]
        + [a.owner_member_id for a in actions]
    ):
        if mid is not None and mid not in contributor_ids:
            contributor_ids.append(mid)
    patient_view = PatientSummary(
        id=patient.id,
        name=patient.display_name,
        nhs_number=patient.nhs_number,
        date_of_birth=patient.date_of_birth,
        address=", ".join(x for x in (patient.address, patient.postcode) if x),
        communication_needs=patient.communication_needs or "",
        information_needs=information_needs.parse(patient.information_needs),
        carer_name=patient.carer_name or "",
        carer_relationship=patient.carer_relationship or "",
        carer_phone=patient.carer_phone or "",
        usual_gp=names.member_name(patient.usual_gp_id),
        team=team[0],
        team_phone=team[1],
    )
    return PlanView(
        id=plan.id,
        series_id=plan.series_id,
        version=plan.version,
        status=plan.status,
        patient=patient_view,
        about_me=plan.about_me,
        what_matters=plan.what_matters,
        contingency_plan=plan.contingency_plan,
        clinical_summary="" if redact_clinical else plan.clinical_summary,
        medicines_notes="" if redact_clinical else plan.medicines_notes,
        carer_involvement=plan.carer_involvement,
        consent_decision=plan.consent_decision,
        consent_with=plan.consent_with,
        consent_date=plan.consent_date,
        consent_recorded_by=names.member(plan.consent_recorded_by),
        lead=names.member(plan.lead_member_id),
        lead_member_id=plan.lead_member_id,
        review_date=plan.review_date,
        signed_off_by=names.member(plan.signed_off_by),
        signed_off_at=plan.signed_off_at,
        created_at=plan.created_at,
        created_by=names.member(plan.created_by),
        updated_at=plan.updated_at,
        updated_by=names.member(plan.updated_by),
        goals=goal_views,
        actions=action_views,
        contributors=tuple(names.member(mid) for mid in contributor_ids),
        clinical_redacted=redact_clinical,
    )


def plan_view(
    *, session: Session, actor: Actor, plan_id: uuid.UUID, audit_read: bool = True
) -> PlanView:
    """A printable snapshot of one version; internal notes are withheld from non-clinical roles."""
    access.require(session, actor, Permission.VIEW_CASELOAD)
    plan = get_plan(session, plan_id)
    require_in_scope(session, actor, plan.patient_id)
    patient = session.get(Patient, plan.patient_id)
    if patient is None:
        raise NotFound(f"No patient {plan.patient_id}.")
    view = _build_view(
        plan,
        patient,
        plan_goals(session, plan.id),
        plan_actions(session, plan.id),
        _Names(session),
        redact_clinical=not can(session, actor, Permission.VIEW_CLINICAL),
        team=_teams_of(session, [plan.patient_id]).get(plan.patient_id, ("", "")),
    )
    if audit_read:
        audit_plan(session, actor, AuditAction.READ, plan, f"version={plan.version}")
    return view


def plan_views(session: Session, plans: list[CarePlan], *, redact_clinical: bool) -> list[PlanView]:
    """Snapshots of many plans in a handful of queries (batch export). Caller checks permission."""
    names = _Names(session)
    ids = [p.id for p in plans]
    goals: dict[uuid.UUID, list[Goal]] = {i: [] for i in ids}
    actions: dict[uuid.UUID, list[PlanAction]] = {i: [] for i in ids}
    patients: dict[uuid.UUID, Patient] = {}
    for start in range(0, len(ids), 500):
        chunk = ids[start : start + 500]
        for g in session.scalars(
            select(Goal)
            .where(Goal.care_plan_id.in_(chunk), Goal.deleted.is_(False))
            .order_by(Goal.position, Goal.created_at)
        ):
            goals[g.care_plan_id].append(g)
        for a in session.scalars(
            select(PlanAction)
            .where(PlanAction.care_plan_id.in_(chunk), PlanAction.deleted.is_(False))
            .order_by(PlanAction.position, PlanAction.created_at)
        ):
            actions[a.care_plan_id].append(a)
        pids = list({p.patient_id for p in plans[start : start + 500]})
        for patient in session.scalars(select(Patient).where(Patient.id.in_(pids))):
            patients[patient.id] = patient
    teams = _teams_of(session, list(patients))
    return [
        _build_view(
            p,
            patients[p.patient_id],
            goals[p.id],
            actions[p.id],
            names,
            redact_clinical=redact_clinical,
            team=teams.get(p.patient_id, ("", "")),
        )
        for p in plans
    ]


def _teams_of(session: Session, patient_ids: list[uuid.UUID]) -> dict[uuid.UUID, tuple[str, str]]:
    """For each person, ('Team (neighbourhood), phone 01632 960100' of the INTs whose current
    cohorts hold them, how to reach them: 'Bicester INT 01632 960100'). The phone is printed
    where the plan says to call the team: a carer must never be told to call without a number."""
    found: dict[uuid.UUID, list[str]] = {}
    phones: dict[uuid.UUID, list[str]] = {}
    for start in range(0, len(patient_ids), 500):
        rows = session.execute(
            select(
                CohortMembership.patient_id, Team.name, Team.neighbourhood, Team.phone, Team.email
            )
            .join(Cohort, Cohort.id == CohortMembership.cohort_id)
            .join(Team, Team.id == Cohort.team_id)
            .where(
                CohortMembership.patient_id.in_(patient_ids[start : start + 500]),
                CohortMembership.discharged_on.is_(None),
                CohortMembership.deleted.is_(False),
            )
            .distinct()
            .order_by(Team.name)
        )
        for pid, name, hood, phone, email in rows:
            label = f"{name} ({hood})" if hood else name
            reach = ", ".join(x for x in (f"phone {phone}" if phone else "", email or "") if x)
            if reach:
                label += f", {reach}"
            if label not in found.setdefault(pid, []):
                found[pid].append(label)
            if phone and f"{name} {phone}" not in phones.setdefault(pid, []):
                phones[pid].append(f"{name} {phone}")
    return {
        pid: ("; ".join(labels), "; ".join(phones.get(pid, []))) for pid, labels in found.items()
    }


@dataclass(frozen=True)
class VersionInfo:
    plan_id: uuid.UUID
    version: int
    status: str
    created_at: datetime
    created_by: str
    updated_at: datetime
    updated_by: str
    signed_off_at: datetime | None
    signed_off_by: str
    review_date: date | None

    def describe(self) -> str:
        when = self.signed_off_at or self.updated_at
        who = self.signed_off_by or self.updated_by or self.created_by
        verb = "signed off" if self.signed_off_at else "last edited"
        return f"v{self.version} {self.status}: {verb} {in_london(when):%d %b %Y %H:%M %Z} by {who}"


def history(*, session: Session, actor: Actor, patient_id: uuid.UUID) -> list[VersionInfo]:
    """Every version of the person's plan(s), newest first, with who and when."""
    access.require(session, actor, Permission.VIEW_CASELOAD)
    require_in_scope(session, actor, patient_id)
    names = _Names(session)
    plans = plans_for_patient(session, patient_id)
    names.load([x for p in plans for x in (p.created_by, p.updated_by, p.signed_off_by)])
    out = [
        VersionInfo(
            plan_id=p.id,
            version=p.version,
            status=p.status,
            created_at=p.created_at,
            created_by=names.member(p.created_by),
            updated_at=p.updated_at,
            updated_by=names.member(p.updated_by),
            signed_off_at=p.signed_off_at,
            signed_off_by=names.member(p.signed_off_by),
            review_date=p.review_date,
        )
        for p in plans
    ]
    return sorted(out, key=lambda v: (v.created_at, v.version), reverse=True)


def diff(
    *, session: Session, actor: Actor, from_plan_id: uuid.UUID, to_plan_id: uuid.UUID
) -> PlanDiff:
    """What changed between two versions of the same person's plan."""
    a = plan_view(session=session, actor=actor, plan_id=from_plan_id, audit_read=False)
    b = plan_view(session=session, actor=actor, plan_id=to_plan_id, audit_read=False)
    if a.patient.id != b.patient.id:
        raise ValidationError("These versions belong to different people.", "plan")
    return rules.diff_plans(a, b)


def team_members(*, session: Session, actor: Actor) -> list[tuple[uuid.UUID, str]]:
    """Active members of the actor's teams as (id, 'name (role)'), for lead-professional pickers."""
    access.require(session, actor, Permission.VIEW_CASELOAD)
    rows = session.execute(
        select(Member.id, Member.name, Member.role)
        .join(TeamMembership, TeamMembership.member_id == Member.id)
        .where(
            TeamMembership.team_id.in_(actor.team_ids),
            TeamMembership.deleted.is_(False),
            Member.active.is_(True),
            Member.deleted.is_(False),
        )
        .distinct()
        .order_by(Member.name)
    )
    return [(mid, f"{name} ({role_label(role)})") for mid, name, role in rows]


# --- what the care-plan editor shows ----------------------------------------------------------


@dataclass
class EditorData:
    patient_id: uuid.UUID
    patient_label: str
    view: PlanView | None
    members: list[tuple[uuid.UUID, str]]
    history: list[VersionInfo]
    can_edit: bool
    can_sign: bool
    can_export: bool
    can_override: bool
    can_see_clinical: bool
    today: date = field(default_factory=date.today)


def load_editor_data(
    session: Session, actor: Actor, patient_id: uuid.UUID, *, audit_read: bool = True
) -> EditorData:
    """Everything the editor shows, in one unit of work (runs on the store worker).

    Opening audits a read of the plan; refreshes after the editor's own saves do not.
    """
    patient = access.get_patient(session, actor, patient_id)
    plan = current_plan(session=session, actor=actor, patient_id=patient_id)
    view = (
        plan_view(session=session, actor=actor, plan_id=plan.id, audit_read=audit_read)
        if plan
        else None
    )
    label = (
        f"{patient.display_name} · NHS {format_nhs(patient.nhs_number)} · "
        f"born {day_text(patient.date_of_birth)}"
    )
    return EditorData(
        patient_id=patient_id,
        patient_label=label,
        view=view,
        members=team_members(session=session, actor=actor),
        history=history(session=session, actor=actor, patient_id=patient_id),
        can_edit=can(session, actor, Permission.EDIT_CARE_PLAN),
        can_sign=can(session, actor, Permission.SIGN_OFF_PLAN),
        can_export=can(session, actor, Permission.EXPORT_PLAN),
        can_override=can(session, actor, Permission.OVERRIDE_CONSENT),
        can_see_clinical=can(session, actor, Permission.VIEW_CLINICAL),
    )
