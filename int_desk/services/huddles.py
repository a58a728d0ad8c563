"""Huddles: plan, agenda from rules, run mode and minutes.

Qt-free. Every public function that changes anything takes keyword-only ``session`` and
``actor``, checks a permission (``run_huddle``; the record-keeping it triggers goes through
``patient_actions`` with that module's own checks), and writes an audit entry in the same
transaction. Audit details hold ids, counts and field names only.

Lifecycle: planned -> in_progress (``start_huddle``) -> closed (``close_huddle``). Items are
pending until marked discussed or deferred; at close, deferred and pending ("not reached") items
roll over to the team's next huddle.

The agenda is computed in SQL, one indexed query per rule over the team's active caseload; the
rules and their parameters are team configuration (``int_desk.domain.huddle_agenda``).
Everything recorded lands in the person's record: a ``huddle_discussion`` Contact when an item is
marked discussed or deferred, Task rows (kind ``task`` or ``home_visit``) for their owners, and
escalations and referrals through ``patient_actions``.
"""

from __future__ import annotations

import logging
import uuid
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from typing import Any

from sqlalchemy import String, and_, case, func, literal, select, type_coerce, union_all
from sqlalchemy.orm import Session

from int_desk.domain import huddle_agenda as rules_config
from int_desk.domain.actor import Actor
from int_desk.domain.errors import NotFound, PermissionDenied, ValidationError
from int_desk.domain.huddle_agenda import CONFIG_KEY, AgendaConfig
from int_desk.domain.nhs_number import format_nhs
from int_desk.domain.permissions import Permission
from int_desk.domain.uk_time import (
    from_london_wall,
    in_london,
    london_date,
    london_hhmm,
    london_wall,
)
from int_desk.domain.vocab import (
    OPEN_TASK_STATUSES,
    AuditAction,
    CarePlanStatus,
    ContactKind,
    EscalationStatus,
    FlagCode,
    HealthEventKind,
    HuddleItemStatus,
    HuddleKind,
    HuddleStatus,
    Priority,
    ReferralService,
    Role,
    TaskKind,
)
from int_desk.services import access, gp_notify
from int_desk.services import patient_actions as actions
from int_desk.services.writes import audit_event, stamp
from int_desk.store.base import utcnow
from int_desk.store.models import (
    CarePlan,
    Cohort,
    CohortMembership,
    Contact,
    Escalation,
    Flag,
    HealthEvent,
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

log = logging.getLogger(__name__)

MAX_OUTCOME = 10_000
_PRIORITY_RANK = {p.value: p.rank for p in Priority}
_RANK_PRIORITY = {p.rank: p.value for p in Priority}


# --- small helpers ---------------------------------------------------------------------------


WITHHELD = "(clinical content - not shown for your role)"


def fmt_day(d: date) -> str:
    return f"{d.day} {d:%b %Y}"


def _days(n: int) -> str:
    return "1 day" if n == 1 else f"{n} days"


def _ago(on: date, d: date) -> str:
    n = (on - d).days
    if n == 0:
        return "today"
    if n < 0:
        return f"in {_days(-n)}"
    return f"{_days(n)} ago"


def local_datetime(on: date, at: time = time(9, 0)) -> datetime:
    """A wall-clock date and time in London (the team's clock, whatever this computer's zone)."""
    return london_wall(on, at)


def _add_pending_item(
    session: Session, actor: Actor, huddle_id: uuid.UUID, cand: Any, position: int
) -> None:
    """An agenda candidate as a not-yet-discussed item of the huddle."""
    item = HuddleItem(
        huddle_id=huddle_id,
        patient_id=cand.patient_id,
        position=position,
        reasons=cand.reason_texts,
        status=HuddleItemStatus.PENDING.value,
        outcome="",
        decisions="",
        seconds_spent=0,
        rolled_over_from_id=cand.rolled_over_from_id,
    )
    stamp(item, actor, new=True)
    session.add(item)


def _team(session: Session, actor: Actor, team_id: uuid.UUID) -> Team:
    team = session.get(Team, team_id)
    if team is None or team.deleted:
        raise NotFound("That team is not in this workspace.")
    if team.id not in actor.team_ids:
        raise PermissionDenied("see another team's huddles", actor.role.label)
    return team


def team_by_name(session: Session, name: str) -> Team:
    team = session.scalar(select(Team).where(Team.name == name, Team.deleted.is_(False)))
    if team is None:
        known = ", ".join(session.scalars(select(Team.name).order_by(Team.name)))
        raise NotFound(f"No team called '{name}'. Teams here: {known}.")
    return team


# --- configuration ---------------------------------------------------------------------------


def agenda_config(session: Session, team_id: uuid.UUID) -> AgendaConfig:
    """The team's agenda rules: its stored configuration merged over the defaults."""
    team = session.get(Team, team_id)
    if team is None:
        raise NotFound("That team is not in this workspace.")
    return rules_config.resolve((team.config or {}).get(CONFIG_KEY))


def set_agenda_config(
    *, session: Session, actor: Actor, team_id: uuid.UUID, config: Mapping[str, Any]
) -> AgendaConfig:
    """Validate and store a team's agenda configuration (partial: the rest stays default)."""
    access.require(session, actor, Permission.RUN_HUDDLE)
    team = _team(session, actor, team_id)
    resolved = rules_config.resolve(config)  # raises ValidationError naming the field
    team.config = {**(team.config or {}), CONFIG_KEY: dict(config)}
    stamp(team, actor)
    session.flush()
    audit_event(
        session, actor, AuditAction.UPDATE, "team", team.id, detail=f"fields=config.{CONFIG_KEY}"
    )
    return resolved


# --- agenda ----------------------------------------------------------------------------------


@dataclass(frozen=True)
class Reason:
    code: str
    text: str


@dataclass
class AgendaCandidate:
    patient_id: uuid.UUID
    reasons: list[Reason] = field(default_factory=list)
    priority: str = Priority.MEDIUM.value
    last_discussed: date | None = None
    rolled_over_from_id: uuid.UUID | None = None
    score: int = 0
    name: str = ""
    nhs_number: str = ""
    # When they joined the cohort (ranks "longest since discussed" for the never discussed).
    enrolled_on: date | None = field(default=None, repr=False, compare=False)

    @property
    def codes(self) -> list[str]:
        return [r.code for r in self.reasons]

    @property
    def reason_texts(self) -> list[str]:
        return [r.text for r in self.reasons]


@dataclass
class Agenda:
    team_id: uuid.UUID
    on: date
    items: list[AgendaCandidate]
    overflow: int | None  # people who met a rule but did not fit (None: not counted)
    last_huddle_on: date | None
    config: AgendaConfig


def _previous_huddle(
    session: Session, team_id: uuid.UUID, before: datetime, exclude: uuid.UUID | None
) -> Huddle | None:
    q = (
        select(Huddle)
        .where(
            Huddle.team_id == team_id,
            Huddle.deleted.is_(False),
            Huddle.status == HuddleStatus.CLOSED.value,
            Huddle.scheduled_at < before,
        )
        .order_by(Huddle.scheduled_at.desc())
        .limit(1)
    )
    if exclude is not None:
        q = q.where(Huddle.id != exclude)
    return session.scalar(q)


def _iso(d: date) -> str:
    return d.isoformat()


@dataclass
class _Ctx:
    team_id: uuid.UUID
    on: date
    before: datetime
    previous: Huddle | None
    last_on: date | None
    cfg: AgendaConfig
    active: Any  # predicate: active membership of one of the team's cohorts
    discussed: Any  # subquery: patient_id, last (ISO date) discussed at this team's huddles


def _as_date(value: Any) -> date:
    return date.fromisoformat(value) if isinstance(value, str) else value


def _context(
    session: Session,
    team_id: uuid.UUID,
    on: date,
    before: datetime | None,
    cfg: AgendaConfig,
    exclude_huddle_id: uuid.UUID | None,
) -> _Ctx:
    before = before or london_wall(on + timedelta(days=1))
    previous = _previous_huddle(session, team_id, before, exclude_huddle_id)
    last_on = london_date(previous.scheduled_at) if previous else None
    cohort_ids = list(
        session.scalars(
            select(Cohort.id).where(Cohort.team_id == team_id, Cohort.deleted.is_(False))
        )
    )
    active = and_(
        CohortMembership.cohort_id.in_(cohort_ids),
        CohortMembership.discharged_on.is_(None),
        CohortMembership.deleted.is_(False),
    )
    discussed = (
        select(
            HuddleItem.patient_id.label("patient_id"),
            func.max(func.substr(type_coerce(Huddle.scheduled_at, String), 1, 10)).label("last"),
        )
        .join(Huddle, Huddle.id == HuddleItem.huddle_id)
        .where(
            Huddle.team_id == team_id,
            Huddle.deleted.is_(False),
            HuddleItem.deleted.is_(False),
            HuddleItem.status == HuddleItemStatus.DISCUSSED.value,
            Huddle.scheduled_at < before,
        )
        .group_by(HuddleItem.patient_id)
        .cte("discussed")
    )
    return _Ctx(team_id, on, before, previous, last_on, cfg, active, discussed)


_RANK = case(
    (CohortMembership.priority == Priority.HIGH.value, 0),
    (CohortMembership.priority == Priority.LOW.value, 2),
    else_=1,
)


def _not_discussed_since(c: _Ctx, patient_col: Any, day_col: Any) -> Any:
    """True unless the team has discussed the person on or after the event's day: an event
    rule brings someone to the huddle once, not every day of its look-back."""
    return ~(
        select(c.discussed.c.patient_id)
        .where(
            c.discussed.c.patient_id == patient_col,
            c.discussed.c.last >= type_coerce(day_col, String),
        )
        .exists()
    )


def _rule_filters(c: _Ctx) -> dict[str, tuple[Any, list[Any]]]:
    """Per enabled rule: (patient_id column, WHERE conditions) selecting the people it names.

    The same conditions drive the ranking (over the whole caseload, in one SQL statement) and
    the reasons (for the chosen few), so the two can never disagree.
    """
    r = c.cfg.rules
    on = c.on
    out: dict[str, tuple[Any, list[Any]]] = {}
    if r["roll_over"].enabled and c.previous is not None:
        out["roll_over"] = (
            HuddleItem.patient_id,
            [
                HuddleItem.huddle_id == c.previous.id,
                HuddleItem.deleted.is_(False),
                HuddleItem.status.in_(
                    (HuddleItemStatus.DEFERRED.value, HuddleItemStatus.PENDING.value)
                ),
            ],
        )
    if r["add_to_huddle_flag"].enabled:
        out["add_to_huddle_flag"] = (
            Flag.patient_id,
            [
                Flag.code == FlagCode.ADD_TO_HUDDLE.value,
                Flag.active.is_(True),
                Flag.deleted.is_(False),
            ],
        )
    if r["open_escalation"].enabled:
        out["open_escalation"] = (
            Escalation.patient_id,
            [Escalation.status == EscalationStatus.OPEN.value, Escalation.deleted.is_(False)],
        )
    if r["recent_discharge"].enabled:
        out["recent_discharge"] = (
            HealthEvent.patient_id,
            [
                HealthEvent.kind == HealthEventKind.DISCHARGE.value,
                HealthEvent.occurred_on >= on - timedelta(days=r["recent_discharge"]["days"]),
                HealthEvent.occurred_on <= on,
                HealthEvent.deleted.is_(False),
                _not_discussed_since(c, HealthEvent.patient_id, HealthEvent.occurred_on),
            ],
        )
    if r["acute_event"].enabled:
        since = c.last_on or on - timedelta(days=r["acute_event"]["first_huddle_days"])
        out["acute_event"] = (
            HealthEvent.patient_id,
            [
                HealthEvent.kind.in_(r["acute_event"]["kinds"]),
                HealthEvent.occurred_on >= since,
                HealthEvent.occurred_on <= on,
                HealthEvent.deleted.is_(False),
            ],
        )
    if r["newly_enrolled"].enabled:
        out["newly_enrolled"] = (
            CohortMembership.patient_id,
            [
                c.active,
                CohortMembership.enrolled_on >= on - timedelta(days=r["newly_enrolled"]["days"]),
                CohortMembership.enrolled_on <= on,
                _not_discussed_since(c, CohortMembership.patient_id, CohortMembership.enrolled_on),
            ],
        )
    if r["end_of_life"].enabled:
        cutoff = _iso(on - timedelta(days=r["end_of_life"]["every_days"]))
        recent = (
            select(c.discussed.c.patient_id).where(c.discussed.c.last > cutoff).scalar_subquery()
        )
        out["end_of_life"] = (
            Flag.patient_id,
            [
                Flag.code == FlagCode.END_OF_LIFE.value,
                Flag.active.is_(True),
                Flag.deleted.is_(False),
                Flag.patient_id.not_in(recent),
            ],
        )
    if r["care_plan_review"].enabled:
        within = r["care_plan_review"]["due_within_days"]
        out["care_plan_review"] = (
            CarePlan.patient_id,
            [
                CarePlan.status == CarePlanStatus.ACTIVE.value,
                CarePlan.deleted.is_(False),
                CarePlan.review_date <= on + timedelta(days=within),
            ],
        )
    if r["overdue_tasks"].enabled:
        by = r["overdue_tasks"]["overdue_by_days"]
        out["overdue_tasks"] = (
            Task.patient_id,
            [
                Task.status.in_(OPEN_TASK_STATUSES),
                Task.deleted.is_(False),
                Task.due_on <= on - timedelta(days=by),
            ],
        )
    return out


def _caseload(c: _Ctx) -> Any:
    """One row per person on the team's active caseload: best priority rank, first enrolment."""
    return (
        select(
            CohortMembership.patient_id.label("patient_id"),
            func.min(_RANK).label("rank"),
            func.min(type_coerce(CohortMembership.enrolled_on, String)).label("enrolled"),
        )
        .where(c.active)
        .group_by(CohortMembership.patient_id)
        .cte("caseload")
    )


def compute_agenda(
    *,
    session: Session,
    actor: Actor,
    team_id: uuid.UUID,
    on: date,
    before: datetime | None = None,
    config: AgendaConfig | None = None,
    exclude_huddle_id: uuid.UUID | None = None,
    count_overflow: bool = True,
) -> Agenda:
    """Who the team should discuss on ``on``, each with the reasons why, best first.

    ``count_overflow`` also counts everyone who met a rule but did not fit (a second pass).

    ``before`` is the huddle's start (default: end of ``on``); "since the last huddle" and
    roll-over look at the team's latest closed huddle before it. Ranking happens in one SQL
    statement over the team's caseload (score = sum of the weights of the rules a person meets,
    then priority, then longest since last discussed); reasons are then read for the chosen few.
    """
    access.require(session, actor, Permission.VIEW_CASELOAD)
    _team(session, actor, team_id)
    cfg = config or agenda_config(session, team_id)
    c = _context(session, team_id, on, before, cfg, exclude_huddle_id)
    caseload = _caseload(c)

    # Each rule reads its own table through its own index; people outside the team's active
    # caseload drop out in the one join with ``caseload`` below.
    hits = []
    for code, (pid_col, where) in _rule_filters(c).items():
        hits.append(
            select(pid_col.label("patient_id"), literal(cfg.rules[code].weight).label("w"))
            .where(*where)
            .distinct()
        )
    nd = cfg.rules["not_discussed"]
    # Event rules are summed per person first (small), then the caseload is walked once:
    # score = event weights + the frequency rule's weight when the person is due.
    if hits:
        union = union_all(*hits).subquery("hits")
        events = (
            select(union.c.patient_id, func.sum(union.c.w).label("score"))
            .group_by(union.c.patient_id)
            .subquery("events")
        )
        event_score = func.coalesce(events.c.score, 0)
    else:
        event_score = literal(0)
    if nd.enabled:
        per = nd["days_by_priority"]
        due_by = case(
            (caseload.c.rank == 0, literal(_iso(on - timedelta(days=per["high"])))),
            (caseload.c.rank == 2, literal(_iso(on - timedelta(days=per["low"])))),
            else_=literal(_iso(on - timedelta(days=per["medium"]))),
        )
        base = func.coalesce(c.discussed.c.last, caseload.c.enrolled)
        score = event_score + case((base <= due_by, nd.weight), else_=0)
    else:
        score = event_score
    query = select(
        caseload.c.patient_id,
        score.label("score"),
        caseload.c.rank,
        caseload.c.enrolled,
        c.discussed.c.last,
    ).select_from(caseload)
    if hits:
        query = query.outerjoin(events, events.c.patient_id == caseload.c.patient_id)
    query = query.outerjoin(c.discussed, c.discussed.c.patient_id == caseload.c.patient_id)
    if hits or nd.enabled:
        # Someone met a rule: either an event rule or, when enabled, the frequency rule.
        qualifies = (events.c.patient_id.is_not(None)) if hits else literal(False)
        if nd.enabled:
            qualifies = qualifies | (base <= due_by) if hits else (base <= due_by)
        query = query.where(qualifies)
    else:
        return Agenda(team_id, on, [], 0, c.last_on, cfg)
    last = func.coalesce(c.discussed.c.last, "")
    ranked = session.execute(
        query.order_by(score.desc(), caseload.c.rank, last, caseload.c.patient_id).limit(
            cfg.max_items
        )
    ).all()
    overflow = None
    if count_overflow:
        # A second pass over the caseload; a window count in the first would make SQLite sort
        # every row instead of keeping only the top few.
        total = session.scalar(select(func.count()).select_from(query.subquery()))
        overflow = max(0, (total or 0) - len(ranked))
    chosen: dict[uuid.UUID, AgendaCandidate] = {}
    for pid, score, prank, enrolled, last_s in ranked:
        chosen[pid] = AgendaCandidate(
            pid,
            priority=_RANK_PRIORITY.get(prank, Priority.MEDIUM.value),
            last_discussed=date.fromisoformat(last_s) if last_s else None,
            score=int(score),
            enrolled_on=date.fromisoformat(enrolled),
        )
    _reasons(session, c, chosen)
    _fill_names(session, list(chosen.values()))
    return Agenda(team_id, on, list(chosen.values()), overflow, c.last_on, cfg)


def _reasons(session: Session, c: _Ctx, chosen: dict[uuid.UUID, AgendaCandidate]) -> None:
    """Read each chosen person's reasons, with the dates and counts that make them useful."""
    if not chosen:
        return
    ids = list(chosen)
    on, last_on, r = c.on, c.last_on, c.cfg.rules
    filters = _rule_filters(c)

    def where(code: str, col: Any) -> list[Any]:
        return [*filters[code][1], col.in_(ids)]

    def add(pid: uuid.UUID, code: str, text: str) -> AgendaCandidate:
        cand = chosen[pid]
        cand.reasons.append(Reason(code, text))
        return cand

    if "roll_over" in filters:
        assert last_on is not None  # roll-over is a rule only when there was a previous huddle
        rows = session.execute(
            select(HuddleItem.id, HuddleItem.patient_id, HuddleItem.status, HuddleItem.outcome)
            .where(*where("roll_over", HuddleItem.patient_id))
            .order_by(HuddleItem.position)
        )
        for item_id, pid, status, outcome in rows:
            if status == HuddleItemStatus.DEFERRED.value:
                why = f": {outcome}" if outcome else ""
                text = f"Deferred at the huddle on {fmt_day(last_on)}{why}"
            else:
                text = f"Not reached at the huddle on {fmt_day(last_on)}"
            add(pid, "roll_over", text).rolled_over_from_id = item_id
    if "add_to_huddle_flag" in filters:
        for pid, since, note in session.execute(
            select(Flag.patient_id, Flag.since, Flag.note).where(
                *where("add_to_huddle_flag", Flag.patient_id)
            )
        ):
            when = f" on {fmt_day(since)}" if since else ""
            text = f"Flagged 'add to next huddle'{when}"
            add(pid, "add_to_huddle_flag", f"{text}: {note}" if note else text)
    if "open_escalation" in filters:
        for pid, n, first in session.execute(
            select(Escalation.patient_id, func.count(), func.min(Escalation.raised_at))
            .where(*where("open_escalation", Escalation.patient_id))
            .group_by(Escalation.patient_id)
        ):
            first = datetime.fromisoformat(first) if isinstance(first, str) else first
            raised = london_date(first)
            what = "Open escalation" if n == 1 else f"{n} open escalations"
            add(pid, "open_escalation", f"{what}, raised {fmt_day(raised)} ({_ago(on, raised)})")
    if "recent_discharge" in filters:
        for pid, when in session.execute(
            select(HealthEvent.patient_id, func.max(HealthEvent.occurred_on))
            .where(*where("recent_discharge", HealthEvent.patient_id))
            .group_by(HealthEvent.patient_id)
        ):
            when = _as_date(when)
            add(
                pid,
                "recent_discharge",
                f"Discharged from hospital {fmt_day(when)} ({_ago(on, when)})",
            )
    if "acute_event" in filters:
        anchor = f"since the last huddle ({fmt_day(last_on)})" if last_on else "in the look-back"
        for pid, kind, n, when in session.execute(
            select(
                HealthEvent.patient_id,
                HealthEvent.kind,
                func.count(),
                func.max(HealthEvent.occurred_on),
            )
            .where(*where("acute_event", HealthEvent.patient_id))
            .group_by(HealthEvent.patient_id, HealthEvent.kind)
            .order_by(HealthEvent.patient_id, HealthEvent.kind)
        ):
            when = _as_date(when)
            times = "" if n == 1 else f" x{n}"
            label = HealthEventKind(kind).label
            add(pid, "acute_event", f"{label}{times} {fmt_day(when)}, {anchor}")
    if "newly_enrolled" in filters:
        for pid, cohort, when in session.execute(
            select(CohortMembership.patient_id, Cohort.name, CohortMembership.enrolled_on)
            .join(Cohort, Cohort.id == CohortMembership.cohort_id)
            .where(*where("newly_enrolled", CohortMembership.patient_id))
            .order_by(CohortMembership.enrolled_on)
        ):
            add(
                pid,
                "newly_enrolled",
                f"Newly enrolled in the {cohort} cohort {fmt_day(when)} ({_ago(on, when)})",
            )
    if "end_of_life" in filters:
        every = r["end_of_life"]["every_days"]
        for (pid,) in session.execute(
            select(Flag.patient_id).where(*where("end_of_life", Flag.patient_id)).distinct()
        ):
            last = chosen[pid].last_discussed
            seen = f"last discussed {fmt_day(last)}" if last else "not yet discussed"
            add(pid, "end_of_life", f"End-of-life care: review every {_days(every)}, {seen}")
    if "care_plan_review" in filters:
        for pid, due in session.execute(
            select(CarePlan.patient_id, func.min(CarePlan.review_date))
            .where(*where("care_plan_review", CarePlan.patient_id))
            .group_by(CarePlan.patient_id)
        ):
            due = _as_date(due)
            if due < on:
                text = f"Care-plan review overdue (was due {fmt_day(due)}, {_ago(on, due)})"
            else:
                text = f"Care-plan review due {fmt_day(due)} ({_ago(on, due)})"
            add(pid, "care_plan_review", text)
    if "overdue_tasks" in filters:
        for pid, n, oldest in session.execute(
            select(Task.patient_id, func.count(), func.min(Task.due_on))
            .where(*where("overdue_tasks", Task.patient_id))
            .group_by(Task.patient_id)
        ):
            oldest = _as_date(oldest)
            what = "1 overdue task" if n == 1 else f"{n} overdue tasks"
            add(pid, "overdue_tasks", f"{what} (oldest due {fmt_day(oldest)})")
    nd = r["not_discussed"]
    order = {code: i for i, code in enumerate(rules_config.RULES)}
    for cand in chosen.values():
        if nd.enabled:
            every = nd["days_by_priority"][cand.priority]
            since = cand.last_discussed or cand.enrolled_on
            assert since is not None  # every ranked candidate has an enrolment date
            gap = (on - since).days
            if gap >= every:
                p = cand.priority.capitalize()
                if cand.last_discussed:
                    text = f"{p} priority: not discussed for {_days(gap)} (every {_days(every)})"
                else:
                    text = (
                        f"{p} priority: not yet discussed, enrolled {_days(gap)} ago "
                        f"(every {_days(every)})"
                    )
                cand.reasons.append(Reason("not_discussed", text))
        cand.reasons.sort(key=lambda reason: order[reason.code])


def _fill_names(session: Session, cands: Sequence[AgendaCandidate]) -> None:
    if not cands:
        return
    rows = session.execute(
        select(Patient.id, Patient.given_name, Patient.family_name, Patient.nhs_number).where(
            Patient.id.in_([c.patient_id for c in cands])
        )
    )
    names = {pid: (f"{g} {f}", nhs) for pid, g, f, nhs in rows}
    for c in cands:
        c.name, c.nhs_number = names.get(c.patient_id, ("", ""))


# --- planning --------------------------------------------------------------------------------


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
    session.flush()
    audit_event(
        session,
        actor,
        AuditAction.UPDATE,
        "huddle",
        huddle.id,
        detail=f"fields=item.position items={len(items)}",
    )


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
    stamp(item, actor, new=True)
    session.add(item)
    session.flush()
    audit_event(
        session,
        actor,
        AuditAction.CREATE,
        "huddle_item",
        item.id,
        detail="fields=reasons",
        patient_id=patient.id,
    )
    return item


def remove_item(*, session: Session, actor: Actor, item_id: uuid.UUID) -> HuddleItem:
    """Take an item off the agenda (kept as 'removed', so ``restore_item`` can undo it)."""
    _require_run(session, actor)
    item, huddle = _item(session, actor, item_id)
    _not_closed(huddle)
    if item.status != HuddleItemStatus.PENDING.value:
        raise ValidationError("Only items not yet discussed can be removed.", field="status")
    item.status = HuddleItemStatus.REMOVED.value
    stamp(item, actor)
    session.flush()
    audit_event(
        session,
        actor,
        AuditAction.UPDATE,
        "huddle_item",
        item.id,
        detail="fields=status",
        patient_id=item.patient_id,
    )
    return item


def restore_item(*, session: Session, actor: Actor, item_id: uuid.UUID) -> HuddleItem:
    _require_run(session, actor)
    item, huddle = _item(session, actor, item_id)
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
    session.flush()
    audit_event(
        session, actor, AuditAction.UPDATE, "huddle", huddle.id, detail=f"refreshed added={added}"
    )
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
    session.flush()
    audit_event(
        session,
        actor,
        AuditAction.UPDATE,
        "huddle",
        huddle.id,
        detail=f"fields=attendees attendees={len(wanted)}",
    )


# --- run mode --------------------------------------------------------------------------------


def start_huddle(*, session: Session, actor: Actor, huddle_id: uuid.UUID) -> Huddle:
    _require_run(session, actor)
    huddle = get_huddle(session, actor, huddle_id)
    if huddle.status == HuddleStatus.IN_PROGRESS.value:
        return huddle
    _not_closed(huddle)
    huddle.status = HuddleStatus.IN_PROGRESS.value
    huddle.started_at = utcnow()
    stamp(huddle, actor)
    session.flush()
    audit_event(
        session, actor, AuditAction.UPDATE, "huddle", huddle.id, detail="fields=status,started_at"
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
    _require_run(session, actor)
    item, huddle = _item(session, actor, item_id)
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
        stamp(item, actor)
        session.flush()
        audit_event(
            session,
            actor,
            AuditAction.UPDATE,
            "huddle_item",
            item.id,
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
    _require_run(session, actor)
    item, huddle = _item(session, actor, item_id)
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
    _require_run(session, actor)
    item, huddle = _item(session, actor, item_id)
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
    _require_run(session, actor)
    item, huddle = _item(session, actor, item_id)
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
    _require_run(session, actor)
    item, huddle = _item(session, actor, item_id)
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
    _require_run(session, actor)
    item, huddle = _item(session, actor, item_id)
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
    _require_run(session, actor)
    item, huddle = _item(session, actor, item_id)
    _running(huddle)
    if item.status != HuddleItemStatus.PENDING.value:
        raise ValidationError(f"This item is already {item.status}.", field="status")
    reason = actions.clean_text(reason, "reason", label="Reason", required=False, max_len=500)
    if reason and actions.can(session, actor, Permission.VIEW_CLINICAL):
        item.outcome = reason if not item.outcome else f"{item.outcome}\n{reason}"
    return _settle(session, actor, item, huddle, HuddleItemStatus.DEFERRED, seconds_spent)


def reopen_item(*, session: Session, actor: Actor, item_id: uuid.UUID) -> HuddleItem:
    """Undo 'discussed'/'deferred' while the huddle runs (the record keeps both contacts)."""
    _require_run(session, actor)
    item, huddle = _item(session, actor, item_id)
    _running(huddle)
    if item.status in (HuddleItemStatus.DISCUSSED.value, HuddleItemStatus.DEFERRED.value):
        item.status = HuddleItemStatus.PENDING.value
        stamp(item, actor)
        session.flush()
        audit_event(
            session,
            actor,
            AuditAction.UPDATE,
            "huddle_item",
            item.id,
            detail="fields=status",
            patient_id=item.patient_id,
        )
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
    stamp(huddle, actor)
    session.flush()
    audit_event(
        session,
        actor,
        AuditAction.UPDATE,
        "huddle",
        huddle.id,
        detail="fields=status,closed_at,minutes",
    )
    return huddle.minutes


# --- views: what the page, the PDFs and the CLI show -----------------------------------------


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


def _member_names(session: Session, ids: Iterable[uuid.UUID | None]) -> dict[uuid.UUID, str]:
    wanted = {i for i in ids if i}
    if not wanted:
        return {}
    return dict(session.execute(select(Member.id, Member.name).where(Member.id.in_(wanted))).all())


def _role_label(role: str) -> str:
    try:
        return Role(role).label
    except ValueError:
        return role


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
            select(
                Patient.id,
                Patient.given_name,
                Patient.family_name,
                Patient.nhs_number,
                Patient.date_of_birth,
            ).where(Patient.id.in_(pids))
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
    escalations = list(
        session.scalars(
            select(Escalation)
            .where(
                Escalation.patient_id.in_(pids),
                Escalation.deleted.is_(False),
                Escalation.created_at >= start,
                Escalation.created_at <= end,
            )
            .order_by(Escalation.created_at)
        )
    )
    referrals = list(
        session.scalars(
            select(Referral)
            .where(
                Referral.patient_id.in_(pids),
                Referral.deleted.is_(False),
                Referral.created_at >= start,
                Referral.created_at <= end,
            )
            .order_by(Referral.created_at)
        )
    )
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
        rank = ranks.get(i.patient_id)
        lines: list[ActionLine] = []
        for t in tasks:
            if t.huddle_item_id == i.id:
                owner = names.get(t.owner_member_id, "") if t.owner_member_id else ""
                owner = owner or (_role_label(t.owner_role) if t.owner_role else "the team")
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
                priority=_PRIORITY_ORDER[rank] if rank is not None else "",
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
        attendees=[(mid, n, _role_label(role), bool(v)) for mid, n, role, v in attendee_rows],
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
    return [(mid, n, _role_label(role), bool(v)) for mid, n, role, v in rows]


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
        select(
            Patient.id,
            Patient.given_name,
            Patient.family_name,
            Patient.nhs_number,
            Patient.date_of_birth,
        )
        .where(cond, Patient.id.in_(scope), Patient.deleted.is_(False))
        .order_by(Patient.family_name, Patient.given_name)
        .limit(limit)
    )
    # The name with the date of birth: two people of one name are told apart when chosen.
    return [(pid, f"{g} {f}, born {dob:%d %b %Y}", nhs) for pid, g, f, nhs, dob in rows]
