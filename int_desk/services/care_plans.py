"""Shared care plans: drafts, goals and actions, sign-off and close, reviews due.

Every function takes keyword-only ``session`` (one unit of work from ``ws.session()``) and
``actor``, checks a permission, and writes one audit entry in the same transaction. Audit
details hold ids and field names only.

Lifecycle: draft -> active (signed off) -> superseded (by the next signed version) or closed.
'Due for review' is derived from the review date. Only drafts change; editing a signed plan
means ``new_draft`` (goals and actions are copied as new rows, so each version keeps its own).
Goals and actions are separate rows, so two people adding one each never overwrite each other.
Reading plans (snapshots, history, version diff) is ``int_desk.services.care_plan_views``.
"""

from __future__ import annotations

import logging
import uuid
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from int_desk.domain import care_plan as rules
from int_desk.domain.actor import Actor
from int_desk.domain.care_plan import (
    PlanNotEditable,
    Problem,
)
from int_desk.domain.errors import NotFound, ValidationError
from int_desk.domain.ids import new_id
from int_desk.domain.permissions import Permission
from int_desk.domain.uk_time import london_today
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
    Goal,
    Member,
    PlanAction,
)

log = logging.getLogger(__name__)

ENTITY = "care_plan"


# --- permissions and scope -------------------------------------------------------------------


def can(session: Session, actor: Actor, permission: Permission) -> bool:
    """Non-raising check (role or team grant) for enabling buttons; see ``services.access``."""
    return access.can(session, actor, permission)


def require_in_scope(session: Session, actor: Actor, patient_id: uuid.UUID) -> None:
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
    require_in_scope(session, actor, patient_id)
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


def plan_goals(session: Session, plan_id: uuid.UUID) -> list[Goal]:
    return list(
        session.scalars(
            select(Goal)
            .where(Goal.care_plan_id == plan_id, Goal.deleted.is_(False))
            .order_by(Goal.position, Goal.created_at)
        )
    )


def plan_actions(session: Session, plan_id: uuid.UUID) -> list[PlanAction]:
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


def audit_plan(
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
    require_in_scope(session, actor, patient_id)
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
    audit_plan(session, actor, AuditAction.CREATE, plan, "version=1")
    return plan


def new_draft(*, session: Session, actor: Actor, plan_id: uuid.UUID) -> CarePlan:
    """A new draft version copied from a signed version (goals and actions as new rows)."""
    access.require(session, actor, Permission.EDIT_CARE_PLAN)
    source = get_plan(session, plan_id)
    require_in_scope(session, actor, source.patient_id)
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
    for g in plan_goals(session, source.id):
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
    for a in plan_actions(session, source.id):
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
    audit_plan(
        session, actor, AuditAction.CREATE, draft, f"version={draft.version} from={source.id}"
    )
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
    require_in_scope(session, actor, plan.patient_id)
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
    audit_plan(session, actor, AuditAction.UPDATE, plan, "fields=" + ",".join(sorted(changed)))
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
    require_in_scope(session, actor, plan.patient_id)
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
    audit_plan(
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
    for a in plan_actions(session, plan.id):
        if a.goal_id == goal.id:
            a.goal_id = None
            stamp(a, actor)
    session.flush()
    audit_plan(
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
    require_in_scope(session, actor, plan.patient_id)
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
    audit_plan(session, actor, AuditAction.CREATE, plan, f"plan={plan.id}",
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
    audit_plan(session, actor, AuditAction.DELETE, plan, f"plan={plan.id}",
           entity_type="plan_action", entity_id=action.id)  # fmt: skip


# --- sign-off and close ----------------------------------------------------------------------


def sign_off_problems(
    *, session: Session, actor: Actor, plan_id: uuid.UUID, today: date | None = None
) -> list[Problem]:
    """What still stops sign-off (empty: ready). Does not check the actor's permission."""
    plan = get_plan(session, plan_id)
    require_in_scope(session, actor, plan.patient_id)
    live_goals = [
        g
        for g in plan_goals(session, plan.id)
        if g.lifecycle_status != GoalLifecycle.CANCELLED.value
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
    require_in_scope(session, actor, plan.patient_id)
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
        audit_plan(session, actor, AuditAction.UPDATE, other, f"status=superseded by={plan.id}")
    audit_plan(session, actor, AuditAction.SIGN_OFF, plan, f"version={plan.version}")
    gp_notify.on_plan_signed_off(session, actor, plan)
    log.info("care plan %s signed off (version %s)", plan.id, plan.version)
    return plan


def close_plan(*, session: Session, actor: Actor, plan_id: uuid.UUID) -> CarePlan:
    """Close the active version (e.g. discharged from the INT, or died); drafts are withdrawn."""
    access.require(session, actor, Permission.SIGN_OFF_PLAN)
    plan = get_plan(session, plan_id)
    require_in_scope(session, actor, plan.patient_id)
    if plan.status not in (CarePlanStatus.ACTIVE.value, CarePlanStatus.DRAFT.value):
        raise PlanNotEditable(f"Version {plan.version} is already {plan.status}.")
    previous = plan.status
    plan.status = CarePlanStatus.CLOSED.value
    stamp(plan, actor)
    session.flush()
    audit_plan(session, actor, AuditAction.UPDATE, plan, f"status=closed from={previous}")
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
    require_in_scope(session, actor, plan.patient_id)
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
        audit_plan(session, actor, AuditAction.UPDATE, plan, "fields=" + ",".join(sorted(changed)),
               entity_type=row.__tablename__, entity_id=row.id)  # fmt: skip
    return changed
