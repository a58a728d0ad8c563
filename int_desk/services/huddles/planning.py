"""Planning a huddle: its agenda, its items' order, who attends, refreshing the agenda."""

from __future__ import annotations

import logging
import uuid
from collections.abc import Iterable, Sequence
from datetime import UTC, datetime, timedelta

from sqlalchemy import select
from sqlalchemy.orm import Session

from int_desk.domain.actor import Actor
from int_desk.domain.errors import NotFound, ValidationError
from int_desk.domain.permissions import Permission
from int_desk.domain.uk_time import (
    from_london_wall,
    london_date,
    london_wall,
)
from int_desk.domain.vocab import (
    AuditAction,
    HuddleItemStatus,
    HuddleKind,
    HuddleStatus,
)
from int_desk.services import access
from int_desk.services import patient_actions as actions
from int_desk.services.huddles.agenda import compute_agenda
from int_desk.services.huddles.common import _add_pending_item, _team
from int_desk.services.writes import audit_event, record_write, stamp
from int_desk.store.models import (
    Huddle,
    HuddleAttendee,
    HuddleItem,
    TeamMembership,
)

log = logging.getLogger(__name__)


def _require_run(session: Session, actor: Actor) -> None:
    access.require(session, actor, Permission.RUN_HUDDLE)


def _team_member_ids(session: Session, team_id: uuid.UUID) -> set[uuid.UUID]:
    return set(
        session.scalars(
            select(TeamMembership.member_id).where(
                TeamMembership.team_id == team_id, TeamMembership.deleted.is_(False)
            )
        )
    )


def plan_huddle(
    *,
    session: Session,
    actor: Actor,
    team_id: uuid.UUID,
    scheduled_at: datetime,
    kind: HuddleKind | str | None = None,
    chair_id: uuid.UUID | None = None,
    attendee_ids: Iterable[uuid.UUID] = (),
    generate: bool = True,
) -> Huddle:
    """Create a planned huddle and fill its agenda from the team's rules."""
    _require_run(session, actor)
    team = _team(session, actor, team_id)
    if not isinstance(scheduled_at, datetime):
        raise ValidationError("Choose the huddle's date and time.", field="scheduled_at")
    scheduled_at = from_london_wall(scheduled_at)
    kind_value = actions._enum(HuddleKind, kind or team.huddle_kind, "kind").value
    members = _team_member_ids(session, team.id)
    chair_id = chair_id or actor.member_id
    if chair_id not in members:
        raise ValidationError("The chair must be a member of the team.", field="chair_id")
    attendees = list(dict.fromkeys([chair_id, *attendee_ids]))
    for mid in attendees:
        if mid not in members:
            raise ValidationError(
                "Attendees must be team members (visiting members included).", field="attendees"
            )
    day_start = london_wall(london_date(scheduled_at))
    clash = session.scalar(
        select(Huddle.id).where(
            Huddle.team_id == team.id,
            Huddle.deleted.is_(False),
            Huddle.status != HuddleStatus.CLOSED.value,
            Huddle.scheduled_at >= day_start,
            Huddle.scheduled_at < day_start + timedelta(days=1),
        )
    )
    if clash is not None:
        raise ValidationError(
            "This team already has an open huddle planned that day.", field="scheduled_at"
        )
    huddle = Huddle(
        team_id=team.id,
        scheduled_at=scheduled_at.astimezone(UTC),
        kind=kind_value,
        chair_id=chair_id,
        status=HuddleStatus.PLANNED.value,
        minutes="",
    )
    stamp(huddle, actor, new=True)
    session.add(huddle)
    session.flush()
    for mid in attendees:
        a = HuddleAttendee(huddle_id=huddle.id, member_id=mid)
        stamp(a, actor, new=True)
        session.add(a)
    count = 0
    if generate:
        agenda = compute_agenda(
            session=session,
            actor=actor,
            team_id=team.id,
            on=london_date(scheduled_at),
            before=scheduled_at,
            exclude_huddle_id=huddle.id,
            count_overflow=False,
        )
        for pos, cand in enumerate(agenda.items):
            _add_pending_item(session, actor, huddle.id, cand, pos)
        count = len(agenda.items)
    session.flush()
    audit_event(
        session,
        actor,
        AuditAction.CREATE,
        "huddle",
        huddle.id,
        detail=f"team={team.id} items={count} attendees={len(attendees)}",
    )
    log.info("huddle %s planned with %d items", huddle.id, count)
    return huddle


def _updated(session: Session, actor: Actor, huddle_id: uuid.UUID, detail: str) -> None:
    """The audit entry of a change to a planned huddle, after the change is flushed."""
    session.flush()
    audit_event(session, actor, AuditAction.UPDATE, "huddle", huddle_id, detail=detail)


def get_huddle(session: Session, actor: Actor, huddle_id: uuid.UUID) -> Huddle:
    huddle = session.get(Huddle, actions._uuid(huddle_id, "huddle_id"))
    if huddle is None or huddle.deleted:
        raise NotFound("That huddle is not in this workspace.")
    _team(session, actor, huddle.team_id)
    return huddle


def _item(session: Session, actor: Actor, item_id: uuid.UUID) -> tuple[HuddleItem, Huddle]:
    item = session.get(HuddleItem, actions._uuid(item_id, "item_id"))
    if item is None or item.deleted:
        raise NotFound("That agenda item is not in this workspace.")
    return item, get_huddle(session, actor, item.huddle_id)


def _run_item(session: Session, actor: Actor, item_id: uuid.UUID) -> tuple[HuddleItem, Huddle]:
    """An agenda item and its huddle, for someone who may run huddles."""
    _require_run(session, actor)
    return _item(session, actor, item_id)


def _status_changed(
    session: Session, actor: Actor, item: HuddleItem, status: HuddleItemStatus
) -> HuddleItem:
    """Set an item's status, stamped and audited."""
    item.status = status.value
    record_write(
        session, actor, item, AuditAction.UPDATE, "huddle_item",
        detail="fields=status", patient_id=item.patient_id,
    )  # fmt: skip
    return item


def _not_closed(huddle: Huddle) -> None:
    if huddle.status == HuddleStatus.CLOSED.value:
        raise ValidationError("This huddle is closed; its agenda and minutes are final.")


def _running(huddle: Huddle) -> None:
    if huddle.status != HuddleStatus.IN_PROGRESS.value:
        raise ValidationError("Start the huddle before recording outcomes.", field="status")


def _live_items(session: Session, huddle_id: uuid.UUID) -> list[HuddleItem]:
    return list(
        session.scalars(
            select(HuddleItem)
            .where(
                HuddleItem.huddle_id == huddle_id,
                HuddleItem.deleted.is_(False),
                HuddleItem.status != HuddleItemStatus.REMOVED.value,
            )
            .order_by(HuddleItem.position, HuddleItem.created_at)
        )
    )


def reorder_items(
    *, session: Session, actor: Actor, huddle_id: uuid.UUID, item_ids: Sequence[uuid.UUID]
) -> None:
    """Put the agenda in the given order (every live item exactly once)."""
    _require_run(session, actor)
    huddle = get_huddle(session, actor, huddle_id)
    _not_closed(huddle)
    items = {i.id: i for i in _live_items(session, huddle.id)}
    if sorted(map(str, item_ids)) != sorted(map(str, items)):
        raise ValidationError("The new order must list every agenda item once.", field="order")
    for pos, iid in enumerate(item_ids):
        if items[iid].position != pos:
            items[iid].position = pos
            stamp(items[iid], actor)
    _updated(session, actor, huddle.id, f"fields=item.position items={len(items)}")


def move_item(*, session: Session, actor: Actor, item_id: uuid.UUID, offset: int) -> int:
    """Move an item up (negative) or down the agenda; returns its new index."""
    item, huddle = _item(session, actor, item_id)
    ids = [i.id for i in _live_items(session, huddle.id)]
    old = ids.index(item.id)
    new = max(0, min(len(ids) - 1, old + offset))
    if new != old:
        ids.insert(new, ids.pop(old))
        reorder_items(session=session, actor=actor, huddle_id=huddle.id, item_ids=ids)
    return new


def add_item(
    *,
    session: Session,
    actor: Actor,
    huddle_id: uuid.UUID,
    patient_id: uuid.UUID,
    reason: str,
) -> HuddleItem:
    """Add a person to the agenda by hand (at the end), with the reason given."""
    _require_run(session, actor)
    huddle = get_huddle(session, actor, huddle_id)
    _not_closed(huddle)
    reason = actions.clean_text(reason, "reason", label="Reason", max_len=500)
    patient = actions.get_patient(session, actor, patient_id)
    live = _live_items(session, huddle.id)
    if any(i.patient_id == patient.id for i in live):
        raise ValidationError("This person is already on the agenda.", field="patient_id")
    item = HuddleItem(
        huddle_id=huddle.id,
        patient_id=patient.id,
        position=(max((i.position for i in live), default=-1) + 1),
        reasons=[f"Added by {actor.name or 'a team member'}: {reason}"],
        status=HuddleItemStatus.PENDING.value,
        outcome="",
        decisions="",
        seconds_spent=0,
    )
    record_write(
        session,
        actor,
        item,
        AuditAction.CREATE,
        "huddle_item",
        detail="fields=reasons",
        patient_id=patient.id,
    )
    return item


def remove_item(*, session: Session, actor: Actor, item_id: uuid.UUID) -> HuddleItem:
    """Take an item off the agenda (kept as 'removed', so ``restore_item`` can undo it)."""
    item, huddle = _run_item(session, actor, item_id)
    _not_closed(huddle)
    if item.status != HuddleItemStatus.PENDING.value:
        raise ValidationError("Only items not yet discussed can be removed.", field="status")
    return _status_changed(session, actor, item, HuddleItemStatus.REMOVED)


def restore_item(*, session: Session, actor: Actor, item_id: uuid.UUID) -> HuddleItem:
    item, huddle = _run_item(session, actor, item_id)
    _not_closed(huddle)
    if item.status != HuddleItemStatus.REMOVED.value:
        return item
    live = _live_items(session, huddle.id)
    if any(i.patient_id == item.patient_id for i in live):
        raise ValidationError("This person is already on the agenda.", field="patient_id")
    item.status = HuddleItemStatus.PENDING.value
    item.position = min(item.position, len(live))
    ids = [i.id for i in live]
    ids.insert(item.position, item.id)
    stamp(item, actor)
    session.flush()
    reorder_items(session=session, actor=actor, huddle_id=huddle.id, item_ids=ids)
    return item


def refresh_agenda(*, session: Session, actor: Actor, huddle_id: uuid.UUID) -> int:
    """Before the huddle starts: add people the rules now bring (e.g. discharged overnight).

    Items already on the agenda keep their place; people the coordinator removed stay removed.
    Returns how many were added (at the end, best first).
    """
    _require_run(session, actor)
    huddle = get_huddle(session, actor, huddle_id)
    if huddle.status != HuddleStatus.PLANNED.value:
        raise ValidationError("Only a planned huddle's agenda can be refreshed.", field="status")
    rows = list(
        session.scalars(
            select(HuddleItem).where(
                HuddleItem.huddle_id == huddle.id, HuddleItem.deleted.is_(False)
            )
        )
    )
    known = {i.patient_id for i in rows}
    agenda = compute_agenda(
        session=session,
        actor=actor,
        team_id=huddle.team_id,
        on=london_date(huddle.scheduled_at),
        before=huddle.scheduled_at,
        exclude_huddle_id=huddle.id,
        count_overflow=False,
    )
    position = max((i.position for i in rows), default=-1)
    added = 0
    for cand in agenda.items:
        if cand.patient_id in known:
            continue
        position += 1
        _add_pending_item(session, actor, huddle.id, cand, position)
        added += 1
    _updated(session, actor, huddle.id, f"refreshed added={added}")
    return added


def set_attendees(
    *, session: Session, actor: Actor, huddle_id: uuid.UUID, member_ids: Iterable[uuid.UUID]
) -> None:
    _require_run(session, actor)
    huddle = get_huddle(session, actor, huddle_id)
    _not_closed(huddle)
    members = _team_member_ids(session, huddle.team_id)
    wanted = list(dict.fromkeys(member_ids))
    if any(m not in members for m in wanted):
        raise ValidationError("Attendees must be team members.", field="attendees")
    existing = {
        a.member_id: a
        for a in session.scalars(
            select(HuddleAttendee).where(HuddleAttendee.huddle_id == huddle.id)
        )
    }
    for mid, row in existing.items():
        row.deleted = mid not in wanted
        stamp(row, actor)
    for mid in wanted:
        if mid not in existing:
            row = HuddleAttendee(huddle_id=huddle.id, member_id=mid)
            stamp(row, actor, new=True)
            session.add(row)
    _updated(session, actor, huddle.id, f"fields=attendees attendees={len(wanted)}")
