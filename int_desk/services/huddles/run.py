"""Run mode: start, record each item's outcome and the tasks, visits, escalations and
referrals it raises, mark discussed or defer, close (rolling the rest over)."""

from __future__ import annotations

import uuid
from datetime import date

from sqlalchemy.orm import Session

from int_desk.domain.actor import Actor
from int_desk.domain.errors import ValidationError
from int_desk.domain.permissions import Permission
from int_desk.domain.vocab import (
    AuditAction,
    ContactKind,
    FlagCode,
    HuddleItemStatus,
    HuddleStatus,
    ReferralService,
    TaskKind,
)
from int_desk.services import access, gp_notify
from int_desk.services import patient_actions as actions
from int_desk.services.huddles.common import MAX_OUTCOME
from int_desk.services.huddles.planning import (
    _not_closed,
    _require_run,
    _run_item,
    _running,
    _status_changed,
    get_huddle,
)
from int_desk.services.huddles.views import contact_lines, item_record, minutes_text, minutes_view
from int_desk.services.writes import audit_event, record_write, stamp
from int_desk.store.base import utcnow
from int_desk.store.models import (
    Contact,
    Escalation,
    Huddle,
    HuddleItem,
    Referral,
    Task,
)


def start_huddle(*, session: Session, actor: Actor, huddle_id: uuid.UUID) -> Huddle:
    _require_run(session, actor)
    huddle = get_huddle(session, actor, huddle_id)
    if huddle.status == HuddleStatus.IN_PROGRESS.value:
        return huddle
    _not_closed(huddle)
    huddle.status = HuddleStatus.IN_PROGRESS.value
    huddle.started_at = utcnow()
    record_write(
        session, actor, huddle, AuditAction.UPDATE, "huddle", detail="fields=status,started_at"
    )
    return huddle


def record_outcome(
    *,
    session: Session,
    actor: Actor,
    item_id: uuid.UUID,
    outcome: str | None = None,
    decisions: str | None = None,
    seconds_spent: int | None = None,
) -> HuddleItem:
    """Save what was said about the item so far (any field left None is unchanged)."""
    item, huddle = _run_item(session, actor, item_id)
    _running(huddle)
    if not actions.can(session, actor, Permission.VIEW_CLINICAL):
        # Outcomes and decisions are clinical content: a role that may not read them may not
        # write them (the endpoint refuses them too), nor blank what a clinician recorded (their
        # view shows them empty). They can still run the huddle.
        if outcome or decisions:
            access.require(session, actor, Permission.VIEW_CLINICAL)
        outcome = decisions = None
    fields = []
    if outcome is not None:
        item.outcome = actions.clean_text(
            outcome, "outcome", label="Outcome", required=False, max_len=MAX_OUTCOME
        )
        fields.append("outcome")
    if decisions is not None:
        item.decisions = actions.clean_text(
            decisions, "decisions", label="Decisions", required=False, max_len=MAX_OUTCOME
        )
        fields.append("decisions")
    if seconds_spent is not None:
        if isinstance(seconds_spent, bool) or not isinstance(seconds_spent, int):
            raise ValidationError("Time spent must be whole seconds.", field="seconds_spent")
        item.seconds_spent = max(0, min(seconds_spent, 24 * 3600))
        fields.append("seconds_spent")
    if fields:
        record_write(
            session,
            actor,
            item,
            AuditAction.UPDATE,
            "huddle_item",
            detail=f"fields={','.join(fields)}",
            patient_id=item.patient_id,
        )
    return item


def add_item_task(
    *,
    session: Session,
    actor: Actor,
    item_id: uuid.UUID,
    description: str,
    owner_member_id: uuid.UUID,
    due_on: date,
) -> Task:
    """A task agreed at the huddle, owned by a named person (lands on their task list)."""
    item, huddle = _run_item(session, actor, item_id)
    _running(huddle)
    if owner_member_id is None:
        raise ValidationError("Choose who owns the task.", field="owner_member_id")
    return actions.allocate_task(
        session=session,
        actor=actor,
        patient_id=item.patient_id,
        description=description,
        due_on=due_on,
        owner_team_id=huddle.team_id,
        owner_member_id=owner_member_id,
        kind=TaskKind.TASK,
        huddle_item_id=item.id,
    )


def add_item_home_visit(
    *,
    session: Session,
    actor: Actor,
    item_id: uuid.UUID,
    member_id: uuid.UUID,
    on: date,
    purpose: str = "",
) -> Task:
    """A planned home visit: a Task of kind home_visit owned by who will visit, due that day."""
    item, huddle = _run_item(session, actor, item_id)
    _running(huddle)
    if member_id is None:
        raise ValidationError("Choose who will visit.", field="member_id")
    purpose = actions.clean_text(purpose, "purpose", label="Purpose", required=False, max_len=400)
    return actions.allocate_task(
        session=session,
        actor=actor,
        patient_id=item.patient_id,
        description=purpose or "Home visit",
        due_on=on,
        owner_team_id=huddle.team_id,
        owner_member_id=member_id,
        kind=TaskKind.HOME_VISIT,
        huddle_item_id=item.id,
    )


def add_item_escalation(
    *, session: Session, actor: Actor, item_id: uuid.UUID, reason: str
) -> Escalation:
    item, huddle = _run_item(session, actor, item_id)
    _running(huddle)
    return actions.escalate(session=session, actor=actor, patient_id=item.patient_id, reason=reason)


def add_item_referral(
    *,
    session: Session,
    actor: Actor,
    item_id: uuid.UUID,
    service: ReferralService | str,
    reason: str,
    to_member_id: uuid.UUID | None = None,
) -> Referral:
    item, huddle = _run_item(session, actor, item_id)
    _running(huddle)
    return actions.refer(
        session=session,
        actor=actor,
        patient_id=item.patient_id,
        service=service,
        reason=reason,
        to_member_id=to_member_id,
    )


def _settle(
    session: Session,
    actor: Actor,
    item: HuddleItem,
    huddle: Huddle,
    status: HuddleItemStatus,
    seconds_spent: int | None,
) -> Contact:
    if seconds_spent is not None:
        record_outcome(session=session, actor=actor, item_id=item.id, seconds_spent=seconds_spent)
    item.status = status.value
    stamp(item, actor)
    session.flush()
    view = item_record(session, huddle, item)
    contact = actions.add_contact(
        session=session,
        actor=actor,
        patient_id=item.patient_id,
        kind=ContactKind.HUDDLE_DISCUSSION,
        text="\n".join(contact_lines(session, huddle, view)),
    )
    audit_event(
        session,
        actor,
        AuditAction.UPDATE,
        "huddle_item",
        item.id,
        detail=f"fields=status status={status.value} contact={contact.id}",
        patient_id=item.patient_id,
    )
    return contact


def mark_discussed(
    *,
    session: Session,
    actor: Actor,
    item_id: uuid.UUID,
    seconds_spent: int | None = None,
) -> Contact:
    """Close the item as discussed: writes the discussion into the person's record and clears
    their 'add to next huddle' flag."""
    item, huddle = _run_item(session, actor, item_id)
    _running(huddle)
    if item.status != HuddleItemStatus.PENDING.value:
        raise ValidationError(f"This item is already {item.status}.", field="status")
    clinical = actions.can(session, actor, Permission.VIEW_CLINICAL)
    if clinical and not item.outcome.strip():  # (a non-clinical chair cannot record one)
        raise ValidationError("Record the outcome before marking discussed.", field="outcome")
    contact = _settle(session, actor, item, huddle, HuddleItemStatus.DISCUSSED, seconds_spent)
    gp_notify.on_huddle_outcome(session, actor, item=item, huddle=huddle)
    if actions.can(session, actor, Permission.EDIT_PATIENT):
        actions.set_flag(
            session=session,
            actor=actor,
            patient_id=item.patient_id,
            code=FlagCode.ADD_TO_HUDDLE,
            active=False,
        )
    return contact


def defer_item(
    *,
    session: Session,
    actor: Actor,
    item_id: uuid.UUID,
    reason: str = "",
    seconds_spent: int | None = None,
) -> Contact:
    """Defer the item to the next huddle (it rolls over), recording why."""
    item, huddle = _run_item(session, actor, item_id)
    _running(huddle)
    if item.status != HuddleItemStatus.PENDING.value:
        raise ValidationError(f"This item is already {item.status}.", field="status")
    reason = actions.clean_text(reason, "reason", label="Reason", required=False, max_len=500)
    if reason and actions.can(session, actor, Permission.VIEW_CLINICAL):
        item.outcome = reason if not item.outcome else f"{item.outcome}\n{reason}"
    return _settle(session, actor, item, huddle, HuddleItemStatus.DEFERRED, seconds_spent)


def reopen_item(*, session: Session, actor: Actor, item_id: uuid.UUID) -> HuddleItem:
    """Undo 'discussed'/'deferred' while the huddle runs (the record keeps both contacts)."""
    item, huddle = _run_item(session, actor, item_id)
    _running(huddle)
    if item.status in (HuddleItemStatus.DISCUSSED.value, HuddleItemStatus.DEFERRED.value):
        return _status_changed(session, actor, item, HuddleItemStatus.PENDING)
    return item


def close_huddle(*, session: Session, actor: Actor, huddle_id: uuid.UUID) -> str:
    """Close the huddle and generate its minutes from what was recorded.

    Items still pending were not reached; they and deferred items roll over to the next huddle.
    """
    _require_run(session, actor)
    huddle = get_huddle(session, actor, huddle_id)
    _running(huddle)
    huddle.status = HuddleStatus.CLOSED.value
    huddle.closed_at = utcnow()
    session.flush()
    if actions.can(session, actor, Permission.VIEW_CLINICAL):
        huddle.minutes = minutes_text(
            minutes_view(session=session, actor=actor, huddle_id=huddle.id)
        )
    # (A non-clinical chair closes without writing minutes, which hold outcomes they may not
    # read; a clinician's view generates them from what was recorded.)
    record_write(
        session,
        actor,
        huddle,
        AuditAction.UPDATE,
        "huddle",
        detail="fields=status,closed_at,minutes",
    )
    return huddle.minutes
