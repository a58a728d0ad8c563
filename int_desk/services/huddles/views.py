"""What the page, the PDFs and the CLI show: the huddle, its items and its minutes."""

from __future__ import annotations

import uuid
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import TypeVar

from sqlalchemy import and_, select
from sqlalchemy.orm import Session

from int_desk.domain import huddle_agenda as rules_config
from int_desk.domain.actor import Actor
from int_desk.domain.errors import ValidationError
from int_desk.domain.huddle_agenda import CONFIG_KEY
from int_desk.domain.nhs_number import format_nhs
from int_desk.domain.permissions import Permission
from int_desk.domain.uk_time import (
    in_london,
    london_date,
    london_hhmm,
)
from int_desk.domain.vocab import (
    HuddleItemStatus,
    ReferralService,
    role_label,
)
from int_desk.services import access
from int_desk.services import patient_actions as actions
from int_desk.services.huddles.common import WITHHELD, _team, fmt_day
from int_desk.services.huddles.planning import get_huddle
from int_desk.store.base import utcnow
from int_desk.store.models import (
    Cohort,
    CohortMembership,
    Escalation,
    Huddle,
    HuddleAttendee,
    HuddleItem,
    Member,
    Patient,
    Referral,
    Task,
    Team,
    TeamMembership,
)


@dataclass
class ActionLine:
    kind: str  # task | home_visit | escalation | referral
    text: str
    owner: str = ""
    due_on: date | None = None


@dataclass
class ItemRecord:
    id: uuid.UUID
    patient_id: uuid.UUID
    position: int
    name: str
    nhs_number: str
    reasons: list[str]
    status: str
    outcome: str
    decisions: str
    seconds_spent: int
    rolled_over: bool
    actions: list[ActionLine] = field(default_factory=list)
    date_of_birth: date | None = None  # shown with the name: never an ambiguous person
    priority: str = ""  # the person's highest cohort priority in the huddle's team


@dataclass
class HuddleView:
    id: uuid.UUID
    team_id: uuid.UUID
    team: str
    scheduled_at: datetime
    kind: str
    status: str
    chair: str
    chair_id: uuid.UUID | None
    attendees: list[tuple[uuid.UUID, str, str, bool]]  # id, name, role label, visiting
    started_at: datetime | None
    closed_at: datetime | None
    minutes: str
    items: list[ItemRecord]
    removed: list[ItemRecord]
    minutes_per_item: int = 2
    # Outcomes, decisions and minutes are clinical content: blank for a reader without
    # clinical access (CLINICAL_FIELDS), who sees this flag instead.
    clinical_withheld: bool = False


# Who a row is about, as agendas and the patient search show them.
_PERSON_COLUMNS = (
    Patient.id,
    Patient.given_name,
    Patient.family_name,
    Patient.nhs_number,
    Patient.date_of_birth,
)


def _member_names(session: Session, ids: Iterable[uuid.UUID | None]) -> dict[uuid.UUID, str]:
    wanted = {i for i in ids if i}
    if not wanted:
        return {}
    return dict(session.execute(select(Member.id, Member.name).where(Member.id.in_(wanted))).all())


_Raised = TypeVar("_Raised", Escalation, Referral)


def _made_between(
    session: Session, model: type[_Raised], pids: list[uuid.UUID], start: datetime, end: datetime
) -> list[_Raised]:
    """The people's escalations or referrals raised between ``start`` and ``end``."""
    return list(
        session.scalars(
            select(model)
            .where(
                model.patient_id.in_(pids),
                model.deleted.is_(False),
                model.created_at.between(start, end),
            )
            .order_by(model.created_at)
        )
    )


def item_record(session: Session, huddle: Huddle, item: HuddleItem) -> ItemRecord:
    return _item_records(session, huddle, [item])[0]


_PRIORITY_ORDER = ("high", "medium", "low")


def _item_records(
    session: Session, huddle: Huddle, items: list[HuddleItem], reader: Actor | None = None
) -> list[ItemRecord]:
    """The items as shown; ``reader``: a reader without clinical access (outcomes, decisions
    and escalation reasons they did not raise are withheld)."""
    if not items:
        return []
    pids = [i.patient_id for i in items]
    people = {
        pid: (f"{g} {f}", nhs, dob)
        for pid, g, f, nhs, dob in session.execute(
            select(*_PERSON_COLUMNS).where(Patient.id.in_(pids))
        )
    }
    tasks = list(
        session.scalars(
            select(Task)
            .where(Task.huddle_item_id.in_([i.id for i in items]), Task.deleted.is_(False))
            .order_by(Task.created_at)
        )
    )
    start = huddle.started_at or huddle.scheduled_at
    end = huddle.closed_at or utcnow()
    escalations = _made_between(session, Escalation, pids, start, end)
    referrals = _made_between(session, Referral, pids, start, end)
    names = _member_names(
        session, [t.owner_member_id for t in tasks] + [r.to_member_id for r in referrals]
    )
    ranks: dict[uuid.UUID, int] = {}  # the agenda PDF's Priority column, as the CLI prints it
    for pid, priority in session.execute(
        select(CohortMembership.patient_id, CohortMembership.priority)
        .join(Cohort, Cohort.id == CohortMembership.cohort_id)
        .where(
            CohortMembership.patient_id.in_(pids),
            Cohort.team_id == huddle.team_id,
            CohortMembership.discharged_on.is_(None),
            CohortMembership.deleted.is_(False),
        )
    ):
        if priority in _PRIORITY_ORDER:
            rank = _PRIORITY_ORDER.index(priority)
            ranks[pid] = min(rank, ranks.get(pid, rank))
    out = []
    for i in items:
        name, nhs, dob = people.get(i.patient_id, ("", "", None))
        best = ranks.get(i.patient_id)
        lines: list[ActionLine] = []
        for t in tasks:
            if t.huddle_item_id == i.id:
                owner = names.get(t.owner_member_id, "") if t.owner_member_id else ""
                owner = owner or (role_label(t.owner_role) if t.owner_role else "the team")
                lines.append(ActionLine(t.kind, t.description, owner, t.due_on))
        if huddle.started_at is not None:
            for e in escalations:
                if e.patient_id == i.patient_id:
                    own = reader is None or e.raised_by == reader.member_id
                    text = e.reason if own else WITHHELD
                    lines.append(ActionLine("escalation", text, "INT clinical lead"))
            for r in referrals:
                if r.patient_id == i.patient_id:
                    to = names.get(r.to_member_id, "") if r.to_member_id else ""
                    lines.append(
                        ActionLine("referral", r.reason, to or ReferralService(r.service).label)
                    )
        out.append(
            ItemRecord(
                id=i.id,
                patient_id=i.patient_id,
                position=i.position,
                name=name,
                nhs_number=nhs,
                reasons=list(i.reasons or []),
                status=i.status,
                outcome=i.outcome if reader is None else "",
                decisions=i.decisions if reader is None else "",
                seconds_spent=i.seconds_spent,
                rolled_over=i.rolled_over_from_id is not None,
                actions=lines,
                date_of_birth=dob,
                priority=_PRIORITY_ORDER[best] if best is not None else "",
            )
        )
    return out


def huddle_view(*, session: Session, actor: Actor, huddle_id: uuid.UUID) -> HuddleView:
    access.require(session, actor, Permission.VIEW_CASELOAD)
    huddle = get_huddle(session, actor, huddle_id)
    team = session.get(Team, huddle.team_id)
    assert team is not None
    rows = list(
        session.scalars(
            select(HuddleItem)
            .where(HuddleItem.huddle_id == huddle.id, HuddleItem.deleted.is_(False))
            .order_by(HuddleItem.position, HuddleItem.created_at)
        )
    )
    clinical = actions.can(session, actor, Permission.VIEW_CLINICAL)
    records = _item_records(session, huddle, rows, None if clinical else actor)
    live = [r for r in records if r.status != HuddleItemStatus.REMOVED.value]
    removed = [r for r in records if r.status == HuddleItemStatus.REMOVED.value]
    attendee_rows = session.execute(
        select(Member.id, Member.name, Member.role, TeamMembership.visiting)
        .join(HuddleAttendee, HuddleAttendee.member_id == Member.id)
        .outerjoin(
            TeamMembership,
            and_(
                TeamMembership.member_id == Member.id,
                TeamMembership.team_id == huddle.team_id,
            ),
        )
        .where(HuddleAttendee.huddle_id == huddle.id, HuddleAttendee.deleted.is_(False))
        .order_by(Member.name)
    ).all()
    chair_id = huddle.chair_id
    chair = _member_names(session, [chair_id]).get(chair_id, "") if chair_id else ""
    try:
        per_item = rules_config.resolve((team.config or {}).get(CONFIG_KEY)).minutes_per_item
    except ValidationError:
        per_item = rules_config.DEFAULT_CONFIG["minutes_per_item"]
    return HuddleView(
        id=huddle.id,
        team_id=team.id,
        team=team.name,
        scheduled_at=huddle.scheduled_at,
        kind=huddle.kind,
        status=huddle.status,
        chair=chair,
        chair_id=huddle.chair_id,
        attendees=[(mid, n, role_label(role), bool(v)) for mid, n, role, v in attendee_rows],
        started_at=huddle.started_at,
        closed_at=huddle.closed_at,
        minutes=huddle.minutes if clinical else "",
        items=live,
        removed=removed,
        minutes_per_item=per_item,
        clinical_withheld=not clinical,
    )


def minutes_view(*, session: Session, actor: Actor, huddle_id: uuid.UUID) -> HuddleView:
    return huddle_view(session=session, actor=actor, huddle_id=huddle_id)


def list_huddles(
    *, session: Session, actor: Actor, team_id: uuid.UUID, limit: int = 30
) -> list[Huddle]:
    access.require(session, actor, Permission.VIEW_CASELOAD)
    _team(session, actor, team_id)
    return list(
        session.scalars(
            select(Huddle)
            .where(Huddle.team_id == team_id, Huddle.deleted.is_(False))
            .order_by(Huddle.scheduled_at.desc())
            .limit(limit)
        )
    )


def team_choices(session: Session, team_ids: Iterable[uuid.UUID]) -> list[tuple[uuid.UUID, str]]:
    """(id, name) of each of these teams the workspace has, by name: the page's team picker."""
    found = (session.get(Team, i) for i in team_ids)
    return sorted(((t.id, t.name) for t in found if t is not None), key=lambda x: x[1])


def team_members(session: Session, team_id: uuid.UUID) -> list[tuple[uuid.UUID, str, str, bool]]:
    """(id, name, role label, visiting) for the team's active members, by name."""
    rows = session.execute(
        select(Member.id, Member.name, Member.role, TeamMembership.visiting)
        .join(TeamMembership, TeamMembership.member_id == Member.id)
        .where(
            TeamMembership.team_id == team_id,
            TeamMembership.deleted.is_(False),
            Member.active.is_(True),
            Member.deleted.is_(False),
        )
        .order_by(Member.name)
    )
    return [(mid, n, role_label(role), bool(v)) for mid, n, role, v in rows]


def fmt_duration(seconds: int) -> str:
    m, s = divmod(max(0, int(seconds)), 60)
    return f"{m} min {s:02d} s" if m else f"{s} s"


_STATUS_WORDS = {
    HuddleItemStatus.DISCUSSED.value: "discussed",
    HuddleItemStatus.DEFERRED.value: "deferred",
    HuddleItemStatus.PENDING.value: "not reached",
    HuddleItemStatus.REMOVED.value: "removed",
}
_ACTION_WORDS = {
    "task": "Task",
    "home_visit": "Home visit",
    "escalation": "Escalated",
    "referral": "Referred",
}


def action_text(a: ActionLine) -> str:
    if a.kind == "escalation":
        return f"Escalated to the {a.owner}: {a.text}"
    if a.kind == "referral":
        return f"Referred to {a.owner}: {a.text}"
    due = f", {'on' if a.kind == 'home_visit' else 'due'} {fmt_day(a.due_on)}" if a.due_on else ""
    return f"{_ACTION_WORDS.get(a.kind, a.kind)}: {a.text} ({a.owner}{due})"


def contact_lines(session: Session, huddle: Huddle, item: ItemRecord) -> list[str]:
    """The text of the huddle_discussion Contact written to the person's record."""
    team = session.get(Team, huddle.team_id)
    when = fmt_day(london_date(huddle.scheduled_at))
    head = "Discussed" if item.status == HuddleItemStatus.DISCUSSED.value else "Deferred"
    lines = [f"{head} at the {team.name if team else 'team'} huddle on {when}."]
    if item.reasons:
        lines.append("Reasons: " + "; ".join(item.reasons))
    if item.outcome:
        label = "Outcome" if head == "Discussed" else "Why deferred"
        lines.append(f"{label}: {item.outcome}")
    if item.decisions:
        lines.append(f"Decisions: {item.decisions}")
    lines.extend(action_text(a) for a in item.actions)
    return lines


def minutes_text(view: HuddleView) -> str:
    """Plain-text minutes generated from what was recorded."""
    when = in_london(view.scheduled_at)
    discussed = [i for i in view.items if i.status == HuddleItemStatus.DISCUSSED.value]
    deferred = [i for i in view.items if i.status == HuddleItemStatus.DEFERRED.value]
    pending = [i for i in view.items if i.status == HuddleItemStatus.PENDING.value]
    total = sum(i.seconds_spent for i in view.items)
    attendees = ", ".join(
        f"{n} ({role}{', visiting' if visiting else ''})"
        for _id, n, role, visiting in view.attendees
    )
    out = [
        f"{view.team}: {view.kind} huddle, {when:%A} {fmt_day(when.date())} {when:%H:%M}",
        f"Chair: {view.chair or 'not recorded'}",
        f"Attendees: {attendees or 'not recorded'}",
    ]
    if view.started_at:
        out.append(
            f"Started {london_hhmm(view.started_at)}"
            + (f", closed {london_hhmm(view.closed_at)}" if view.closed_at else "")
            + f"; time on items {fmt_duration(total)}"
        )
    out.append(
        f"{len(discussed)} discussed, {len(deferred)} deferred, {len(pending)} not reached "
        "(deferred and not reached roll over to the next huddle)."
    )
    for n, i in enumerate(view.items, 1):
        out.append("")
        out.append(
            f"{n}. {i.name} (NHS {format_nhs(i.nhs_number)}) - {_STATUS_WORDS[i.status]}"
            + (f", {fmt_duration(i.seconds_spent)}" if i.seconds_spent else "")
        )
        if i.reasons:
            out.append("   Reasons: " + "; ".join(i.reasons))
        if i.outcome:
            label = "Why deferred" if i.status == HuddleItemStatus.DEFERRED.value else "Outcome"
            out.append(f"   {label}: {i.outcome}")
        if i.decisions:
            out.append(f"   Decisions: {i.decisions}")
        for a in i.actions:
            out.append(f"   {action_text(a)}")
    return "\n".join(out)


# --- finding someone to add by hand ------------------------------------------------------------


def search_caseload(
    *, session: Session, actor: Actor, team_id: uuid.UUID, text: str, limit: int = 20
) -> list[tuple[uuid.UUID, str, str]]:
    """(patient id, name, NHS number) on the team's active caseload matching a name or number."""
    access.require(session, actor, Permission.VIEW_CASELOAD)
    _team(session, actor, team_id)
    text = (text or "").strip()
    if len(text) < 2:
        return []
    cohort_ids = select(Cohort.id).where(Cohort.team_id == team_id, Cohort.deleted.is_(False))
    scope = select(CohortMembership.patient_id).where(
        CohortMembership.cohort_id.in_(cohort_ids),
        CohortMembership.discharged_on.is_(None),
        CohortMembership.deleted.is_(False),
    )
    digits = text.replace(" ", "")
    if digits.isdigit():
        cond = Patient.nhs_number.startswith(digits)
    else:
        words = text.split()
        cond = and_(
            *[
                (Patient.family_name.ilike(f"{w}%")) | (Patient.given_name.ilike(f"{w}%"))
                for w in words
            ]
        )
    rows = session.execute(
        select(*_PERSON_COLUMNS)
        .where(cond, Patient.id.in_(scope), Patient.deleted.is_(False))
        .order_by(Patient.family_name, Patient.given_name)
        .limit(limit)
    )
    # The name with the date of birth: two people of one name are told apart when chosen.
    return [(pid, f"{g} {f}, born {dob:%d %b %Y}", nhs) for pid, g, f, nhs, dob in rows]
