"""Shared care plans: drafts, goals and actions, sign-off, history and version diff.

Every function takes keyword-only ``session`` (one unit of work from ``ws.session()``) and
``actor``, checks a permission, and writes one audit entry in the same transaction. Audit
details hold ids and field names only.

Lifecycle: draft -> active (signed off) -> superseded (by the next signed version) or closed.
'Due for review' is derived from the review date. Only drafts change; editing a signed plan
means ``new_draft`` (goals and actions are copied as new rows, so each version keeps its own).
Goals and actions are separate rows, so two people adding one each never overwrite each other.
"""

from __future__ import annotations

import logging
import uuid
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from int_desk.domain import care_plan as rules
from int_desk.domain import information_needs
from int_desk.domain.actor import Actor
from int_desk.domain.care_plan import (
    ActionView,
    GoalView,
    PatientSummary,
    PlanDiff,
    PlanNotEditable,
    PlanView,
    Problem,
)
from int_desk.domain.errors import NotFound, ValidationError
from int_desk.domain.ids import new_id
from int_desk.domain.permissions import Permission
from int_desk.domain.uk_time import in_london, london_today
from int_desk.domain.vocab import (
    AuditAction,
    CarePlanStatus,
    ConsentDecision,
    GoalAchievement,
    GoalLifecycle,
    Role,
    TaskStatus,
)
from int_desk.services import access, gp_notify
from int_desk.services.writes import audit_event, stamp
from int_desk.store.base import utcnow
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

log = logging.getLogger(__name__)

ENTITY = "care_plan"


# --- permissions and scope -------------------------------------------------------------------


def can(session: Session, actor: Actor, permission: Permission) -> bool:
    """Non-raising check (role or team grant) for enabling buttons; see ``services.access``."""
    return access.can(session, actor, permission)


def _in_scope(session: Session, actor: Actor, patient_id: uuid.UUID) -> None:
    """NotFound / audited PermissionDenied unless the person is in the actor's caseload."""
    access.get_patient(session, actor, patient_id)


# --- loading ---------------------------------------------------------------------------------


def get_plan(session: Session, plan_id: uuid.UUID) -> CarePlan:
    plan = session.get(CarePlan, plan_id)
    if plan is None or plan.deleted:
        raise NotFound(f"No care plan {plan_id}.")
    return plan


def _versions(session: Session, series_id: uuid.UUID) -> list[CarePlan]:
    return list(
        session.scalars(
            select(CarePlan)
            .where(CarePlan.series_id == series_id, CarePlan.deleted.is_(False))
            .order_by(CarePlan.version)
        )
    )


def plans_for_patient(session: Session, patient_id: uuid.UUID) -> list[CarePlan]:
    """Every version of every plan series of the person, oldest first."""
    return list(
        session.scalars(
            select(CarePlan)
            .where(CarePlan.patient_id == patient_id, CarePlan.deleted.is_(False))
            .order_by(CarePlan.created_at, CarePlan.version)
        )
    )


def current_plan(*, session: Session, actor: Actor, patient_id: uuid.UUID) -> CarePlan | None:
    """The version a team member works on: the open draft, else the active plan, else the latest."""
    access.require(session, actor, Permission.VIEW_CASELOAD)
    _in_scope(session, actor, patient_id)
    plans = plans_for_patient(session, patient_id)
    for status in (CarePlanStatus.DRAFT, CarePlanStatus.ACTIVE):
        found = [p for p in plans if p.status == status.value]
        if found:
            return max(found, key=lambda p: p.version)
    return plans[-1] if plans else None


def active_plan(session: Session, patient_id: uuid.UUID) -> CarePlan | None:
    return session.scalar(
        select(CarePlan)
        .where(
            CarePlan.patient_id == patient_id,
            CarePlan.status == CarePlanStatus.ACTIVE.value,
            CarePlan.deleted.is_(False),
        )
        .order_by(CarePlan.version.desc())
        .limit(1)
    )


def _goals(session: Session, plan_id: uuid.UUID) -> list[Goal]:
    return list(
        session.scalars(
            select(Goal)
            .where(Goal.care_plan_id == plan_id, Goal.deleted.is_(False))
            .order_by(Goal.position, Goal.created_at)
        )
    )


def _actions(session: Session, plan_id: uuid.UUID) -> list[PlanAction]:
    return list(
        session.scalars(
            select(PlanAction)
            .where(PlanAction.care_plan_id == plan_id, PlanAction.deleted.is_(False))
            .order_by(PlanAction.position, PlanAction.created_at)
        )
    )


def _editable(plan: CarePlan) -> None:
    if plan.status != CarePlanStatus.DRAFT.value:
        raise PlanNotEditable(
            f"Version {plan.version} is {plan.status} and cannot be changed; "
            "start a new draft to make changes."
        )


def _audit(
    session: Session,
    actor: Actor,
    action: AuditAction,
    plan: CarePlan,
    detail: str,
    *,
    entity_type: str = ENTITY,
    entity_id: uuid.UUID | None = None,
) -> None:
    audit_event(
        session,
        actor,
        action,
        entity_type,
        entity_id or plan.id,
        patient_id=plan.patient_id,
        detail=detail,
    )


# --- drafts ----------------------------------------------------------------------------------


def start_plan(*, session: Session, actor: Actor, patient_id: uuid.UUID) -> CarePlan:
    """Open the person's draft: the existing one, a new draft from the active plan, or v1."""
    access.require(session, actor, Permission.EDIT_CARE_PLAN)
    _in_scope(session, actor, patient_id)
    plans = plans_for_patient(session, patient_id)
    drafts = [p for p in plans if p.status == CarePlanStatus.DRAFT.value]
    if drafts:
        return max(drafts, key=lambda p: p.version)
    active = active_plan(session, patient_id)
    if active is not None:
        return new_draft(session=session, actor=actor, plan_id=active.id)
    plan = CarePlan(
        id=new_id(),
        patient_id=patient_id,
        series_id=new_id(),
        version=1,
        status=CarePlanStatus.DRAFT.value,
        created_by=actor.member_id,
        updated_by=actor.member_id,
    )
    session.add(plan)
    session.flush()
    _audit(session, actor, AuditAction.CREATE, plan, "version=1")
    return plan


def new_draft(*, session: Session, actor: Actor, plan_id: uuid.UUID) -> CarePlan:
    """A new draft version copied from a signed version (goals and actions as new rows)."""
    access.require(session, actor, Permission.EDIT_CARE_PLAN)
    source = get_plan(session, plan_id)
    _in_scope(session, actor, source.patient_id)
    versions = _versions(session, source.series_id)
    if any(v.status == CarePlanStatus.DRAFT.value for v in versions):
        raise ValidationError("This plan already has a draft; open that draft instead.", "status")
    if source.status == CarePlanStatus.DRAFT.value:
        raise ValidationError("Only a signed-off version can be copied into a new draft.", "status")
    draft = CarePlan(
        id=new_id(),
        patient_id=source.patient_id,
        series_id=source.series_id,
        version=max(v.version for v in versions) + 1,
        status=CarePlanStatus.DRAFT.value,
        previous_version_id=source.id,
        created_by=actor.member_id,
        updated_by=actor.member_id,
    )
    for name in rules.PLAN_FIELDS:
        setattr(draft, name, getattr(source, name))
    session.add(draft)
    goal_map: dict[uuid.UUID, uuid.UUID] = {}
    for g in _goals(session, source.id):
        new = Goal(
            id=new_id(),
            care_plan_id=draft.id,
            description=g.description,
            target_measure=g.target_measure,
            target_date=g.target_date,
            lifecycle_status=g.lifecycle_status,
            achievement_status=g.achievement_status,
            position=g.position,
            created_by=actor.member_id,
            updated_by=actor.member_id,
        )
        goal_map[g.id] = new.id
        session.add(new)
    session.flush()  # goals exist before actions point at them
    for a in _actions(session, source.id):
        session.add(
            PlanAction(
                id=new_id(),
                care_plan_id=draft.id,
                goal_id=goal_map.get(a.goal_id) if a.goal_id else None,
                description=a.description,
                owner_team_id=a.owner_team_id,
                owner_role=a.owner_role,
                owner_member_id=a.owner_member_id,
                when=a.when,
                status=a.status,
                position=a.position,
                created_by=actor.member_id,
                updated_by=actor.member_id,
            )
        )
    session.flush()
    _audit(session, actor, AuditAction.CREATE, draft, f"version={draft.version} from={source.id}")
    return draft


def _coerce_field(session: Session, name: str, value: Any) -> Any:
    if name in rules.TEXT_FIELDS:
        return (value or "").strip() if isinstance(value, str) or value is None else str(value)
    if name in rules.DATE_FIELDS:
        if value in (None, ""):
            return None
        if isinstance(value, datetime):
            return value.date()
        if isinstance(value, date):
            return value
        try:
            return date.fromisoformat(str(value))
        except ValueError:
            raise ValidationError("Enter the date as YYYY-MM-DD.", name) from None
    if name in rules.MEMBER_FIELDS:
        if value in (None, ""):
            return None
        member_id = value if isinstance(value, uuid.UUID) else uuid.UUID(str(value))
        if session.get(Member, member_id) is None:
            raise ValidationError("That team member is not in this workspace.", name)
        return member_id
    if name == "consent_decision":
        if value in (None, ""):
            return None
        try:
            return ConsentDecision(value).value
        except ValueError:
            raise ValidationError("Consent is either given or declined.", name) from None
    raise ValidationError(f"Unknown care plan field '{name}'.", name)


def update_plan(
    *, session: Session, actor: Actor, plan_id: uuid.UUID, changes: Mapping[str, Any]
) -> list[str]:
    """Change fields of a draft; returns the names that actually changed.

    Recording a consent decision also records who recorded it and when, unless given.
    """
    access.require(session, actor, Permission.EDIT_CARE_PLAN)
    plan = get_plan(session, plan_id)
    _in_scope(session, actor, plan.patient_id)
    _editable(plan)
    if rules.INTERNAL_FIELDS & set(changes):
        access.require(session, actor, Permission.VIEW_CLINICAL)
    values = {name: _coerce_field(session, name, v) for name, v in changes.items()}
    if (
        "consent_decision" in values
        and values["consent_decision"] != plan.consent_decision
        and values["consent_decision"] is not None
    ):
        values.setdefault("consent_recorded_by", actor.member_id)
        values.setdefault("consent_date", london_today())
    changed = [name for name, v in values.items() if getattr(plan, name) != v]
    if not changed:
        return []
    for name in changed:
        setattr(plan, name, values[name])
    stamp(plan, actor)
    session.flush()
    _audit(session, actor, AuditAction.UPDATE, plan, "fields=" + ",".join(sorted(changed)))
    return changed


# --- goals and actions -----------------------------------------------------------------------


def _next_position(
    session: Session, model: type[Goal] | type[PlanAction], plan_id: uuid.UUID
) -> int:
    top = session.scalar(select(func.max(model.position)).where(model.care_plan_id == plan_id))
    return 0 if top is None else top + 1


_GOAL_COLUMNS = {
    "description",
    "target_measure",
    "target_date",
    "lifecycle_status",
    "achievement_status",
}
_ACTION_COLUMNS = {
    "description",
    "owner_team_id",
    "owner_role",
    "owner_member_id",
    "when",
    "status",
    "goal_id",
}


def _clean_goal(values: Mapping[str, Any]) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for name, v in values.items():
        if name not in _GOAL_COLUMNS:
            raise ValidationError(f"Unknown goal field '{name}'.", name)
        if name == "description":
            v = (v or "").strip()
            if not v:
                raise ValidationError("Write the goal in the person's own words.", "description")
        elif name == "target_measure":
            v = (v or "").strip()
        elif name == "target_date":
            v = _coerce_field_date(v, "target_date")
        elif name == "lifecycle_status":
            v = GoalLifecycle(v).value
        elif name == "achievement_status":
            v = GoalAchievement(v).value
        out[name] = v
    return out


def _coerce_field_date(value: Any, name: str) -> date | None:
    if value in (None, ""):
        return None
    if isinstance(value, date):
        return value
    try:
        return date.fromisoformat(str(value))
    except ValueError:
        raise ValidationError("Enter the date as YYYY-MM-DD.", name) from None


def _clean_action(
    session: Session, plan_id: uuid.UUID, values: Mapping[str, Any]
) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for name, v in values.items():
        if name not in _ACTION_COLUMNS:
            raise ValidationError(f"Unknown action field '{name}'.", name)
        if name == "description":
            v = (v or "").strip()
            if not v:
                raise ValidationError("Say what will be done.", "description")
        elif name == "when":
            v = (v or "").strip()
        elif name == "status":
            v = TaskStatus(v).value
        elif name == "owner_role":
            v = Role(v).value if v else None
        elif name == "goal_id" and v is not None:
            goal = session.get(Goal, v)
            if goal is None or goal.deleted or goal.care_plan_id != plan_id:
                raise ValidationError("The linked goal is not part of this plan.", "goal_id")
        elif name == "owner_member_id" and v is not None and session.get(Member, v) is None:
            raise ValidationError("That team member is not in this workspace.", name)
        out[name] = v
    return out


def add_goal(
    *,
    session: Session,
    actor: Actor,
    plan_id: uuid.UUID,
    description: str,
    target_measure: str = "",
    target_date: date | None = None,
) -> Goal:
    access.require(session, actor, Permission.EDIT_CARE_PLAN)
    plan = get_plan(session, plan_id)
    _in_scope(session, actor, plan.patient_id)
    _editable(plan)
    values = _clean_goal(
        {"description": description, "target_measure": target_measure, "target_date": target_date}
    )
    goal = Goal(
        id=new_id(),
        care_plan_id=plan.id,
        position=_next_position(session, Goal, plan.id),
        created_by=actor.member_id,
        updated_by=actor.member_id,
        **values,
    )
    session.add(goal)
    session.flush()
    _audit(
        session,
        actor,
        AuditAction.CREATE,
        plan,
        f"plan={plan.id}",
        entity_type="goal",
        entity_id=goal.id,
    )
    return goal


def update_goal(
    *, session: Session, actor: Actor, goal_id: uuid.UUID, changes: Mapping[str, Any]
) -> list[str]:
    goal, plan = _editable_row(session, actor, Goal, goal_id)
    return _apply_changes(session, actor, plan, goal, _clean_goal(changes))


def remove_goal(*, session: Session, actor: Actor, goal_id: uuid.UUID) -> None:
    """Tombstone the goal (sync needs the row); actions linked to it lose the link."""
    goal, plan = _editable_row(session, actor, Goal, goal_id)
    goal.deleted = True
    stamp(goal, actor)
    for a in _actions(session, plan.id):
        if a.goal_id == goal.id:
            a.goal_id = None
            stamp(a, actor)
    session.flush()
    _audit(
        session,
        actor,
        AuditAction.DELETE,
        plan,
        f"plan={plan.id}",
        entity_type="goal",
        entity_id=goal.id,
    )


def add_action(
    *,
    session: Session,
    actor: Actor,
    plan_id: uuid.UUID,
    description: str,
    owner_role: str | None = None,
    owner_member_id: uuid.UUID | None = None,
    owner_team_id: uuid.UUID | None = None,
    when: str = "",
    goal_id: uuid.UUID | None = None,
    status: str = TaskStatus.REQUESTED.value,
) -> PlanAction:
    access.require(session, actor, Permission.EDIT_CARE_PLAN)
    plan = get_plan(session, plan_id)
    _in_scope(session, actor, plan.patient_id)
    _editable(plan)
    values = _clean_action(
        session,
        plan.id,
        {
            "description": description,
            "owner_role": owner_role,
            "owner_member_id": owner_member_id,
            "owner_team_id": owner_team_id,
            "when": when,
            "goal_id": goal_id,
            "status": status,
        },
    )
    if values["owner_member_id"] and not values["owner_role"]:
        member = session.get(Member, values["owner_member_id"])
        values["owner_role"] = member.role if member else None
    action = PlanAction(
        id=new_id(),
        care_plan_id=plan.id,
        position=_next_position(session, PlanAction, plan.id),
        created_by=actor.member_id,
        updated_by=actor.member_id,
        **values,
    )
    session.add(action)
    session.flush()
    _audit(session, actor, AuditAction.CREATE, plan, f"plan={plan.id}",
           entity_type="plan_action", entity_id=action.id)  # fmt: skip
    return action


def update_action(
    *, session: Session, actor: Actor, action_id: uuid.UUID, changes: Mapping[str, Any]
) -> list[str]:
    action, plan = _editable_row(session, actor, PlanAction, action_id)
    return _apply_changes(session, actor, plan, action, _clean_action(session, plan.id, changes))


def remove_action(*, session: Session, actor: Actor, action_id: uuid.UUID) -> None:
    action, plan = _editable_row(session, actor, PlanAction, action_id)
    action.deleted = True
    stamp(action, actor)
    session.flush()
    _audit(session, actor, AuditAction.DELETE, plan, f"plan={plan.id}",
           entity_type="plan_action", entity_id=action.id)  # fmt: skip


# --- sign-off and close ----------------------------------------------------------------------


def sign_off_problems(
    *, session: Session, actor: Actor, plan_id: uuid.UUID, today: date | None = None
) -> list[Problem]:
    """What still stops sign-off (empty: ready). Does not check the actor's permission."""
    plan = get_plan(session, plan_id)
    _in_scope(session, actor, plan.patient_id)
    live_goals = [
        g for g in _goals(session, plan.id) if g.lifecycle_status != GoalLifecycle.CANCELLED.value
    ]
    return rules.sign_off_problems(
        goals=len(live_goals),
        review_date=plan.review_date,
        consent_decision=plan.consent_decision,
        today=today or london_today(),
    )


def sign_off(
    *, session: Session, actor: Actor, plan_id: uuid.UUID, today: date | None = None
) -> CarePlan:
    """Draft -> active; the previous active version of the series becomes superseded.

    Raises PermissionDenied for roles the team does not allow to sign off, PlanNotEditable for
    a version already signed, and ValidationError naming everything still missing.
    """
    access.require(session, actor, Permission.SIGN_OFF_PLAN)
    plan = get_plan(session, plan_id)
    _in_scope(session, actor, plan.patient_id)
    _editable(plan)
    problems = sign_off_problems(session=session, actor=actor, plan_id=plan_id, today=today)
    if problems:
        missing = "; ".join(p.message for p in problems)
        raise ValidationError(f"Cannot sign off yet: {missing}", problems[0].field)
    superseded = []
    for other in _versions(session, plan.series_id):
        if other.id != plan.id and other.status == CarePlanStatus.ACTIVE.value:
            other.status = CarePlanStatus.SUPERSEDED.value
            stamp(other, actor)
            superseded.append(other)
    plan.status = CarePlanStatus.ACTIVE.value
    plan.signed_off_by = actor.member_id
    plan.signed_off_at = utcnow()
    stamp(plan, actor)
    session.flush()
    for other in superseded:
        _audit(session, actor, AuditAction.UPDATE, other, f"status=superseded by={plan.id}")
    _audit(session, actor, AuditAction.SIGN_OFF, plan, f"version={plan.version}")
    gp_notify.on_plan_signed_off(session, actor, plan)
    log.info("care plan %s signed off (version %s)", plan.id, plan.version)
    return plan


def close_plan(*, session: Session, actor: Actor, plan_id: uuid.UUID) -> CarePlan:
    """Close the active version (e.g. discharged from the INT, or died); drafts are withdrawn."""
    access.require(session, actor, Permission.SIGN_OFF_PLAN)
    plan = get_plan(session, plan_id)
    _in_scope(session, actor, plan.patient_id)
    if plan.status not in (CarePlanStatus.ACTIVE.value, CarePlanStatus.DRAFT.value):
        raise PlanNotEditable(f"Version {plan.version} is already {plan.status}.")
    previous = plan.status
    plan.status = CarePlanStatus.CLOSED.value
    stamp(plan, actor)
    session.flush()
    _audit(session, actor, AuditAction.UPDATE, plan, f"status=closed from={previous}")
    return plan


# --- review ----------------------------------------------------------------------------------


@dataclass(frozen=True)
class DueReview:
    plan_id: uuid.UUID
    patient_id: uuid.UUID
    review_date: date
    days_overdue: int


def due_for_review(
    *, session: Session, actor: Actor, today: date | None = None, within_days: int = 0
) -> list[DueReview]:
    """Active plans whose review date has come (or comes within ``within_days``), oldest first."""
    access.require(session, actor, Permission.VIEW_CASELOAD)
    today = today or london_today()
    limit = date.fromordinal(today.toordinal() + within_days)
    rows = session.execute(
        select(CarePlan.id, CarePlan.patient_id, CarePlan.review_date)
        .where(
            CarePlan.status == CarePlanStatus.ACTIVE.value,
            CarePlan.deleted.is_(False),
            CarePlan.review_date.is_not(None),
            CarePlan.review_date <= limit,
            access.visible_plan_filter(actor),
        )
        .order_by(CarePlan.review_date)
    )
    return [DueReview(pid, pat, rd, (today - rd).days) for pid, pat, rd in rows]


# --- views, history, diff --------------------------------------------------------------------


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
        return f"{name} ({_role_label(role)})" if role else name

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


def _role_label(role: str | None) -> str:
    if not role:
        return ""
    try:
        return Role(role).label
    except ValueError:
        return role


def _who(names: _Names, a: PlanAction) -> str:
    parts = []
    if a.owner_member_id:
        parts.append(names.member(a.owner_member_id))
    elif a.owner_role:
        parts.append(_role_label(a.owner_role))
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
    _in_scope(session, actor, plan.patient_id)
    patient = session.get(Patient, plan.patient_id)
    if patient is None:
        raise NotFound(f"No patient {plan.patient_id}.")
    view = _build_view(
        plan,
        patient,
        _goals(session, plan.id),
        _actions(session, plan.id),
        _Names(session),
        redact_clinical=not can(session, actor, Permission.VIEW_CLINICAL),
        team=_teams_of(session, [plan.patient_id]).get(plan.patient_id, ("", "")),
    )
    if audit_read:
        _audit(session, actor, AuditAction.READ, plan, f"version={plan.version}")
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
    _in_scope(session, actor, patient_id)
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
    return [(mid, f"{name} ({_role_label(role)})") for mid, name, role in rows]


def _editable_row(
    session: Session, actor: Actor, model: type[Goal] | type[PlanAction], row_id: uuid.UUID
) -> tuple[Any, CarePlan]:
    """A goal or action of a draft the actor may edit, with its plan; else a typed error."""
    access.require(session, actor, Permission.EDIT_CARE_PLAN)
    row = session.get(model, row_id)
    if row is None or row.deleted:
        kind = "goal" if model is Goal else "action"
        raise NotFound(f"No {kind} {row_id}.")
    plan = get_plan(session, row.care_plan_id)
    _in_scope(session, actor, plan.patient_id)
    _editable(plan)
    return row, plan


def _apply_changes(
    session: Session, actor: Actor, plan: CarePlan, row: Any, values: Mapping[str, Any]
) -> list[str]:
    """Set the fields that differ, stamp and audit them; the names changed."""
    changed = [n for n, v in values.items() if getattr(row, n) != v]
    if changed:
        for n in changed:
            setattr(row, n, values[n])
        stamp(row, actor)
        session.flush()
        _audit(session, actor, AuditAction.UPDATE, plan, "fields=" + ",".join(sorted(changed)),
               entity_type=row.__tablename__, entity_id=row.id)  # fmt: skip
    return changed
