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
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any, TypeVar

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
from int_desk.services.active_plan import active_plan as active_plan
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


_Live = TypeVar("_Live", CarePlan, Goal, PlanAction)


def _live(session: Session, model: type[_Live], where: Any, *order: Any) -> list[_Live]:
    """The rows of ``model`` matching ``where`` that are not deleted, in ``order``."""
    return list(
        session.scalars(select(model).where(where, model.deleted.is_(False)).order_by(*order))
    )


def _versions(session: Session, series_id: uuid.UUID) -> list[CarePlan]:
    return _live(session, CarePlan, CarePlan.series_id == series_id, CarePlan.version)


def plans_for_patient(session: Session, patient_id: uuid.UUID) -> list[CarePlan]:
    """Every version of every plan series of the person, oldest first."""
    return _live(
        session, CarePlan, CarePlan.patient_id == patient_id, CarePlan.created_at, CarePlan.version
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


def plan_goals(session: Session, plan_id: uuid.UUID) -> list[Goal]:
    return _live(session, Goal, Goal.care_plan_id == plan_id, Goal.position, Goal.created_at)


def plan_actions(session: Session, plan_id: uuid.UUID) -> list[PlanAction]:
    return _live(
        session,
        PlanAction,
        PlanAction.care_plan_id == plan_id,
        PlanAction.position,
        PlanAction.created_at,
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
        return _coerce_field_date(value, name)
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
    plan = _draft(session, actor, plan_id)
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


# Each row's columns and how a value given for it is cleaned (a column not named is refused).
Cleaner = Callable[[Any], Any]


def _clean_row(
    kind: str, values: Mapping[str, Any], cleaners: dict[str, Cleaner]
) -> dict[str, Any]:
    """``values`` of a goal or action row, each cleaned by its column's cleaner, in order (the
    first problem is the one reported)."""
    out: dict[str, Any] = {}
    for name, v in values.items():
        if name not in cleaners:
            raise ValidationError(f"Unknown {kind} field '{name}'.", name)
        out[name] = cleaners[name](v)
    return out


def _text(value: Any) -> str:
    return (value or "").strip()


def _required_text(message: str) -> Cleaner:
    def clean(value: Any) -> str:
        text = _text(value)
        if not text:
            raise ValidationError(message, "description")
        return text

    return clean


def _as_given(value: Any) -> Any:
    return value


_GOAL_CLEANERS: dict[str, Cleaner] = {
    "description": _required_text("Write the goal in the person's own words."),
    "target_measure": _text,
    "target_date": lambda v: _coerce_field_date(v, "target_date"),
    "lifecycle_status": lambda v: GoalLifecycle(v).value,
    "achievement_status": lambda v: GoalAchievement(v).value,
}


def _clean_goal(values: Mapping[str, Any]) -> dict[str, Any]:
    return _clean_row("goal", values, _GOAL_CLEANERS)


def _coerce_field_date(value: Any, name: str) -> date | None:
    """A day from a date, a date and time (its day) or YYYY-MM-DD text; None for nothing."""
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


def _clean_action(
    session: Session, plan_id: uuid.UUID, values: Mapping[str, Any]
) -> dict[str, Any]:
    def goal_id(v: Any) -> Any:
        if v is not None:
            goal = session.get(Goal, v)
            if goal is None or goal.deleted or goal.care_plan_id != plan_id:
                raise ValidationError("The linked goal is not part of this plan.", "goal_id")
        return v

    def owner_member_id(v: Any) -> Any:
        if v is not None and session.get(Member, v) is None:
            raise ValidationError("That team member is not in this workspace.", "owner_member_id")
        return v

    cleaners: dict[str, Cleaner] = {
        "description": _required_text("Say what will be done."),
        "owner_team_id": _as_given,
        "owner_role": lambda v: Role(v).value if v else None,
        "owner_member_id": owner_member_id,
        "when": _text,
        "status": lambda v: TaskStatus(v).value,
        "goal_id": goal_id,
    }
    return _clean_row("action", values, cleaners)


_PlanRow = TypeVar("_PlanRow", Goal, PlanAction)


def _add_row(
    session: Session, actor: Actor, plan: CarePlan, row: _PlanRow, entity_type: str
) -> _PlanRow:
    """A new goal or action (its cleaned values set) at the end of the plan's list; audited.
    Each is a row of its own, so two people adding one each never collide."""
    row.id = new_id()
    row.care_plan_id = plan.id
    row.position = _next_position(session, type(row), plan.id)
    row.created_by = row.updated_by = actor.member_id
    session.add(row)
    session.flush()
    audit_plan(session, actor, AuditAction.CREATE, plan, f"plan={plan.id}",
               entity_type=entity_type, entity_id=row.id)  # fmt: skip
    return row


def add_goal(
    *,
    session: Session,
    actor: Actor,
    plan_id: uuid.UUID,
    description: str,
    target_measure: str = "",
    target_date: date | None = None,
) -> Goal:
    plan = _draft(session, actor, plan_id)
    values = _clean_goal(
        {"description": description, "target_measure": target_measure, "target_date": target_date}
    )
    return _add_row(session, actor, plan, Goal(**values), "goal")


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
    plan = _draft(session, actor, plan_id)
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
    return _add_row(session, actor, plan, PlanAction(**values), "plan_action")


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
    plan = _draft(session, actor, plan_id, Permission.SIGN_OFF_PLAN)
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


def _draft(
    session: Session,
    actor: Actor,
    plan_id: uuid.UUID,
    permission: Permission = Permission.EDIT_CARE_PLAN,
) -> CarePlan:
    """A draft plan of someone in the actor's caseload, which ``permission`` lets them change;
    else PermissionDenied, NotFound or PlanNotEditable."""
    access.require(session, actor, permission)
    plan = get_plan(session, plan_id)
    require_in_scope(session, actor, plan.patient_id)
    _editable(plan)
    return plan


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
