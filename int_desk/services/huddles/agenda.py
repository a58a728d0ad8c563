"""The agenda from rules: one indexed query per rule over the team's active caseload, then
the reasons each person is on it, ranked (the rules: ``int_desk.domain.huddle_agenda``)."""

from __future__ import annotations

import uuid
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from typing import Any

from sqlalchemy import (
    ColumnElement,
    String,
    and_,
    case,
    func,
    literal,
    select,
    type_coerce,
    union_all,
)
from sqlalchemy.orm import Session

from int_desk.domain import huddle_agenda as rules_config
from int_desk.domain.actor import Actor
from int_desk.domain.huddle_agenda import AgendaConfig
from int_desk.domain.permissions import Permission
from int_desk.domain.uk_time import (
    london_date,
    london_wall,
)
from int_desk.domain.vocab import (
    OPEN_TASK_STATUSES,
    CarePlanStatus,
    EscalationStatus,
    FlagCode,
    HealthEventKind,
    HuddleItemStatus,
    HuddleStatus,
    Priority,
)
from int_desk.services import access
from int_desk.services.huddles.common import _RANK_PRIORITY, _ago, _days, _team, fmt_day
from int_desk.services.huddles.config import agenda_config
from int_desk.store.models import (
    CarePlan,
    Cohort,
    CohortMembership,
    Escalation,
    Flag,
    HealthEvent,
    Huddle,
    HuddleItem,
    Patient,
    Task,
)


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
        event_score: ColumnElement[Any] = func.coalesce(events.c.score, 0)
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
        qualifies: ColumnElement[bool] = (
            (events.c.patient_id.is_not(None)) if hits else literal(False)
        )
        if nd.enabled:
            qualifies = qualifies | (base <= due_by) if hits else (base <= due_by)
        query = query.where(qualifies)
    else:
        return Agenda(team_id, on, [], 0, c.last_on, cfg)
    # Everyone who met a rule, built once: the count reads it and the ranking keeps only the
    # top few of it (a window count would make SQLite sort every row; a second statement would
    # walk the caseload twice).
    pool = query.cte("pool").prefix_with("MATERIALIZED") if count_overflow else query.cte("pool")
    total = select(func.count()).select_from(pool).scalar_subquery()
    ranked = session.execute(
        select(
            pool.c.patient_id,
            pool.c.score,
            pool.c.rank,
            pool.c.enrolled,
            pool.c.last,
            total if count_overflow else literal(None),
        )
        .order_by(
            pool.c.score.desc(), pool.c.rank, func.coalesce(pool.c.last, ""), pool.c.patient_id
        )
        .limit(cfg.max_items)
    ).all()
    overflow = None
    if count_overflow:
        overflow = max(0, ranked[0][-1] - len(ranked)) if ranked else 0
    chosen: dict[uuid.UUID, AgendaCandidate] = {}
    for pid, score, prank, enrolled, last_s, _total in ranked:
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

    def day_per_person(code: str, patient_id: Any, day: Any) -> Iterator[tuple[uuid.UUID, date]]:
        """(person, ``day``, an aggregate of a dated column) for each person the rule's filter
        keeps, grouped by the rows' ``patient_id`` column."""
        query = select(patient_id, day).where(*where(code, patient_id)).group_by(patient_id)
        for pid, value in session.execute(query):
            yield pid, _as_date(value)

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
            dated = f" on {fmt_day(since)}" if since else ""
            text = f"Flagged 'add to next huddle'{dated}"
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
        for pid, when in day_per_person(
            "recent_discharge", HealthEvent.patient_id, func.max(HealthEvent.occurred_on)
        ):
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
        for pid, due in day_per_person(
            "care_plan_review", CarePlan.patient_id, func.min(CarePlan.review_date)
        ):
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
