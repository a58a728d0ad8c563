"""The INT scorecard, computed in SQL: care-plan coverage, admissions, huddle work, with SPC.

    q = ScorecardQuery(start=date(2025, 1, 1), end=date(2026, 11, 20), by=Breakdown.DEPRIVATION)
    card = scorecard(session=s, actor=a, query=q)          # the actor's teams, permission checked
    card.measures[0].overall.series[i].value, card.measures[0].chart.variation

Each measure is defined in docs/scorecard.md (numerator, denominator, exclusions, source). The
population is the team's cohorts: a person counts in a period from their first enrolment to
their last discharge (``cohort_membership``), grouped by team, cohort, practice, age band or
deprivation quintile; people without a practice, decile or known age show as "Not known".

How it stays fast over 50,000 people and two years: the cohort is written once into a temporary
in-memory table (``temp_store = MEMORY``: nothing reaches the disk), and counts "on the last day
of each period" and person-days "in each period" come from one sorted pass over +1/-1 events at
enrolment starts and ends with a window sum, not from a join of every person with every period.

``compute`` (no permission check) is what the endpoint's Place report runs on its own copy of
the rows; ``scorecard`` is the desktop's entry point.
"""

from __future__ import annotations

import logging
import uuid
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date, timedelta
from typing import Any

from sqlalchemy import select, text
from sqlalchemy.orm import Session

from int_desk.domain import scorecard as sc
from int_desk.domain import spc
from int_desk.domain.actor import Actor
from int_desk.domain.errors import NotFound, PermissionDenied
from int_desk.domain.permissions import Permission
from int_desk.domain.scorecard import (
    ALL,
    NOT_KNOWN,
    Breakdown,
    Cell,
    Grain,
    GroupResult,
    Measure,
    MeasureResult,
    Period,
    Scorecard,
    ScorecardQuery,
)
from int_desk.domain.uk_time import london_today
from int_desk.domain.vocab import (
    CarePlanStatus,
    EscalationStatus,
    HealthEventKind,
    HuddleItemStatus,
    TaskStatus,
)
from int_desk.services import access
from int_desk.store.models import Cohort, Team

log = logging.getLogger(__name__)

FAR = "9999-12-31"


# --- entry points ----------------------------------------------------------------------------


CohortsByTeam = dict[str, list[tuple[uuid.UUID, str]]]  # team id (text) -> its cohorts' ids, names


def filter_choices(
    session: Session, team_ids: Sequence[uuid.UUID]
) -> tuple[list[tuple[uuid.UUID, str]], CohortsByTeam]:
    """The scorecard page's choices: these teams by name, and each one's live cohorts by name."""
    teams = session.execute(
        select(Team.id, Team.name).where(Team.id.in_(team_ids)).order_by(Team.name)
    ).all()
    cohorts: CohortsByTeam = {}
    for cid, name, tid in session.execute(
        select(Cohort.id, Cohort.name, Cohort.team_id)
        .where(Cohort.team_id.in_(team_ids), Cohort.deleted.is_(False))
        .order_by(Cohort.name)
    ):
        cohorts.setdefault(str(tid), []).append((cid, name))
    return [(t, n) for t, n in teams], cohorts


def scorecard(
    *, session: Session, actor: Actor, query: ScorecardQuery, today: date | None = None
) -> Scorecard:
    """The scorecard of the actor's teams (or those of them named in the query)."""
    access.require(session, actor, Permission.VIEW_CASELOAD)
    team_ids = tuple(query.team_ids) or tuple(sorted(actor.team_ids))
    outside = [t for t in team_ids if t not in actor.team_ids]
    if outside:
        raise PermissionDenied("see another team's scorecard", actor.role.label)
    if not team_ids:
        raise NotFound("You are not a member of any team in this workspace.")
    return compute(session, team_ids=team_ids, query=query, today=today)


def compute(
    session: Session,
    *,
    team_ids: Sequence[uuid.UUID],
    query: ScorecardQuery,
    today: date | None = None,
    suppress: bool = False,
) -> Scorecard:
    """The scorecard of ``team_ids``, with no permission check (callers decide who may see it)."""
    today = today or london_today()
    end = min(query.end, today)
    periods = sc.periods(query.start, end, query.grain)
    teams = dict(session.execute(select(Team.id, Team.name).where(Team.id.in_(team_ids))).all())
    missing = [t for t in team_ids if t not in teams]
    if missing:
        raise NotFound("That team is not in this workspace.")
    cohort_names = _cohort_names(session, team_ids, query.cohort_ids)
    targets = _targets(session, team_ids, query.targets)
    sql = _Sql(session, periods, query, team_ids, cohort_ids=query.cohort_ids, today=end)
    try:
        raw = sql.run()
    finally:
        sql.drop()
    measures = [
        _result(m, raw, periods, query, targets.get(m.key), suppress=suppress) for m in sc.MEASURES
    ]
    card = Scorecard(
        query=query,
        as_of=end,
        periods=periods,
        team_names=[teams[t] for t in team_ids],
        cohort_names=cohort_names,
        measures=measures,
        people_now=int(raw.people_now),
        open_escalations=int(raw.open_escalations),
        suppressed=suppress,
    )
    if suppress:
        card.notes.append(f"Counts under {sc.SUPPRESS_BELOW} are suppressed (shown as '*').")
    log.info("scorecard: %d teams, %d periods", len(team_ids), len(periods))
    return card


def _cohort_names(
    session: Session, team_ids: Sequence[uuid.UUID], cohort_ids: Sequence[uuid.UUID]
) -> list[str]:
    if not cohort_ids:
        return []
    rows = session.execute(
        select(Cohort.id, Cohort.name, Cohort.team_id).where(Cohort.id.in_(cohort_ids))
    ).all()
    if len(rows) != len(set(cohort_ids)) or any(t not in team_ids for _i, _n, t in rows):
        raise NotFound("That cohort is not one of the chosen teams' cohorts.")
    return sorted(name for _i, name, _t in rows)


def _targets(
    session: Session,
    team_ids: Sequence[uuid.UUID],
    override: Mapping[str, float | None] | None,
) -> dict[str, float | None]:
    """One team: its configured targets; several: the defaults (their targets may differ)."""
    config = None
    if len(team_ids) == 1:
        config = session.scalar(select(Team.config).where(Team.id == team_ids[0]))
    out = sc.targets_from_config(config)
    if override:
        out.update({k: v for k, v in override.items() if k in out})
    return out


# --- the SQL ---------------------------------------------------------------------------------


@dataclass
class _Raw:
    """Per measure: {(period key or '*', group): (numerator, denominator)}."""

    parts: dict[str, dict[tuple[str, str], tuple[float, float]]] = field(default_factory=dict)
    groups: list[str] = field(default_factory=list)
    people_now: int = 0
    open_escalations: int = 0

    def put(self, measure: str, key: str, group: str, num: float, den: float) -> None:
        self.parts.setdefault(measure, {})[(key, group)] = (float(num or 0), float(den or 0))


def _key_sql(column: str, grain: Grain) -> str:
    """SQL giving the period key (first day, ISO text) of an ISO date column."""
    if grain is Grain.WEEK:
        return f"date({column}, '-6 days', 'weekday 1')"
    return f"(substr({column}, 1, 7) || '-01')"


_AGE = (
    "(CAST(substr(:as_of, 1, 4) AS INTEGER) - CAST(substr(p.date_of_birth, 1, 4) AS INTEGER)"
    " - (substr(:as_of, 6, 5) < substr(p.date_of_birth, 6, 5)))"
)


def _group_sql(by: Breakdown | None, several_teams: bool) -> str:
    if by is None:
        return f"'{ALL}'"
    if by is Breakdown.TEAM:
        return "t.name"
    if by is Breakdown.COHORT:
        return "(t.name || ': ' || c.name)" if several_teams else "c.name"
    if by is Breakdown.PRACTICE:
        return f"COALESCE(o.name, '{NOT_KNOWN}')"
    if by is Breakdown.DEPRIVATION:
        # The decile when the record has one, else a quintile the extract gave on its own.
        whens = " ".join(
            f"WHEN p.deprivation_decile IN ({2 * q - 1}, {2 * q}) THEN '{label}' "
            f"WHEN p.deprivation_decile IS NULL AND p.deprivation_quintile = {q} THEN '{label}'"
            for q, label in sc.QUINTILE_LABELS.items()
        )
        return f"(CASE {whens} ELSE '{NOT_KNOWN}' END)"
    whens = " ".join(
        f"WHEN {_AGE} BETWEEN {lo} AND {hi if hi is not None else 200} THEN '{label}'"
        for lo, hi, label in sc.AGE_BANDS
    )
    return f"(CASE {whens} ELSE '{NOT_KNOWN}' END)"


class _Sql:
    """The statements behind one scorecard, sharing two temporary tables on one connection."""

    def __init__(
        self,
        session: Session,
        periods: list[Period],
        query: ScorecardQuery,
        team_ids: Sequence[uuid.UUID],
        *,
        cohort_ids: Sequence[uuid.UUID],
        today: date,
    ) -> None:
        self.s = session
        self.periods = periods
        self.grain = query.grain
        self.by = query.by
        self.team_hex = [t.hex for t in team_ids]
        self.cohort_hex = [c.hex for c in cohort_ids]
        self.start = periods[0].start.isoformat()
        self.end = periods[-1].end.isoformat()
        self.end1 = (periods[-1].end + timedelta(days=1)).isoformat()
        self.as_of = today.isoformat()
        self.followup_cutoff = (today - timedelta(days=sc.READMISSION_DAYS)).isoformat()
        self.several_teams = len(team_ids) > 1
        self.raw = _Raw()

    def q(self, sql: str, **params: Any) -> Any:
        return self.s.execute(text(sql), params)

    def _in(self, name: str, values: Sequence[str]) -> tuple[str, dict[str, str]]:
        names = [f"{name}{i}" for i in range(len(values))]
        return ", ".join(f":{n}" for n in names), dict(zip(names, values, strict=True))

    # -- setup --

    def setup(self) -> None:
        self.drop()
        self.q("CREATE TEMP TABLE sc_period (k TEXT PRIMARY KEY, ps TEXT, pe TEXT)")
        self.s.execute(
            text("INSERT INTO sc_period (k, ps, pe) VALUES (:k, :ps, :pe)"),
            [
                {"k": p.key.isoformat(), "ps": p.start.isoformat(), "pe": p.end.isoformat()}
                for p in self.periods
            ],
        )
        teams, team_params = self._in("team", self.team_hex)
        cohort_filter, cohort_params = "", {}
        if self.cohort_hex:
            cohorts, cohort_params = self._in("cohort", self.cohort_hex)
            cohort_filter = f"AND c.id IN ({cohorts})"
        select_one = """
            SELECT cm.patient_id AS pid, {grp} AS grp, MIN(cm.enrolled_on) AS s,
                   MAX(COALESCE(cm.discharged_on, '{far}')) AS e
            FROM cohort_membership cm
            JOIN cohort c ON c.id = cm.cohort_id
            {joins}
            -- the covering index: not the patient's row (names, address...)
            JOIN patient p INDEXED BY ix_patient_scorecard ON p.id = cm.patient_id
            WHERE cm.deleted = 0 AND c.deleted = 0 AND p.deleted = 0
              AND c.team_id IN ({teams}) {cohort_filter}
              AND cm.enrolled_on <= :end
              AND COALESCE(cm.discharged_on, '{far}') > :lookback
            GROUP BY cm.patient_id, grp
        """

        def one(by: Breakdown | None) -> str:
            joins = (
                {
                    Breakdown.TEAM: "JOIN team t ON t.id = c.team_id",
                    Breakdown.COHORT: "JOIN team t ON t.id = c.team_id",
                }.get(by, "")
                if by is not None
                else ""
            )
            if by is Breakdown.PRACTICE:
                joins = ""  # after the patient: see below
            sql = select_one.format(
                grp=_group_sql(by, self.several_teams), far=FAR, teams=teams,
                cohort_filter=cohort_filter, joins=joins,
            )  # fmt: skip
            if by is Breakdown.PRACTICE:
                sql = sql.replace(
                    "            WHERE cm.deleted = 0",
                    "            LEFT JOIN organisation o ON o.id = p.practice_id\n"
                    "            WHERE cm.deleted = 0",
                )
            return sql

        parts = [one(None)]
        if self.by is not None:
            parts.append(one(self.by))
        # Readmission follow-up and plan spans start before the range: look back far enough.
        lookback = (date.fromisoformat(self.start) - timedelta(days=1)).isoformat()
        self.q(
            "CREATE TEMP TABLE sc_enrolled AS " + " UNION ALL ".join(parts),
            end=self.end,
            lookback=lookback,
            as_of=self.as_of,
            **team_params,
            **cohort_params,
        )
        self.q("CREATE INDEX temp.sc_enrolled_pid ON sc_enrolled (pid, s, e, grp)")
        self.raw.groups = [g for (g,) in self.q("SELECT DISTINCT grp FROM sc_enrolled")]

    def drop(self) -> None:
        self.q("DROP TABLE IF EXISTS temp.sc_enrolled")
        self.q("DROP TABLE IF EXISTS temp.sc_period")

    def run(self) -> _Raw:
        self.setup()
        self.snapshots()
        self.hospital()
        self.huddle_work()
        self.escalations()
        return self.raw

    def snapshots(self) -> None:
        """People in the cohort, with a signed plan, and with it in date, on each period's last
        day; and person-days in each period. One sorted pass over +1/-1 events.

        A signed plan version counts from its sign-off to the next version's sign-off (in any
        of the person's plans) or its own closure; it is in date up to its review date.
        Events mark where a person's enrolment, covered span and in-date span start (+1) and end
        (-1, ends exclusive), plus zero-weight probes at each period's first and last day; the
        running sums in date order are the counts from that day on, and each count times the
        days to the next event is person-days (every probe starts a new stretch, so a stretch
        never crosses a period boundary).
        """
        c = CarePlanStatus
        signed = f"'{c.ACTIVE.value}', '{c.SUPERSEDED.value}', '{c.CLOSED.value}'"
        key = _key_sql("d", self.grain)
        sql = f"""
            WITH spans AS MATERIALIZED (
                SELECT cp.patient_id AS pid, substr(cp.signed_off_at, 1, 10) AS s,
                       cp.review_date AS review,
                       MIN(
                           -- the next version signed off, in any of the person's plans ...
                           COALESCE((
                               SELECT MIN(substr(nx.signed_off_at, 1, 10)) FROM care_plan nx
                               WHERE nx.patient_id = cp.patient_id AND nx.deleted = 0
                                 AND nx.signed_off_at > cp.signed_off_at
                                 AND +nx.status IN ({signed})), '{FAR}'),
                           -- ... or this version's closure, whichever comes first
                           CASE WHEN cp.status = '{c.CLOSED.value}'
                                THEN substr(cp.updated_at, 1, 10) ELSE '{FAR}' END) AS e
                FROM care_plan cp
                WHERE cp.patient_id IN (SELECT pid FROM sc_enrolled)
                  AND cp.deleted = 0 AND cp.signed_off_at IS NOT NULL
                  -- "+": one seek per person, not one per person and status
                  AND +cp.status IN ({signed})
            ),
            covered AS MATERIALIZED (
                SELECT en.grp, MAX(en.s, sp.s) AS s, MIN(en.e, sp.e) AS e,
                       MIN(en.e, sp.e, COALESCE(date(sp.review, '+1 day'), '0')) AS e_in_date
                FROM sc_enrolled en JOIN spans sp ON sp.pid = en.pid
                WHERE MAX(en.s, sp.s) < MIN(en.e, sp.e)
            ),
            grps AS (SELECT DISTINCT grp FROM sc_enrolled),
            ev (grp, d, people, plans, in_date, probe) AS (
                SELECT grp, s, 1, 0, 0, 0 FROM sc_enrolled WHERE s < :end1
                UNION ALL SELECT grp, e, -1, 0, 0, 0 FROM sc_enrolled WHERE e < :end1
                UNION ALL SELECT grp, s, 0, 1, e_in_date > s, 0 FROM covered WHERE s < :end1
                UNION ALL SELECT grp, e, 0, -1, 0, 0 FROM covered WHERE e < :end1
                UNION ALL SELECT grp, e_in_date, 0, 0, -1, 0 FROM covered
                    WHERE e_in_date > s AND e_in_date < :end1
                UNION ALL SELECT g.grp, p.ps, 0, 0, 0, 0 FROM grps g, sc_period p
                UNION ALL SELECT g.grp, p.pe, 0, 0, 0, 1 FROM grps g, sc_period p
                UNION ALL SELECT grp, :end1, 0, 0, 0, 0 FROM grps
            ),
            run AS (
                SELECT grp, d, MAX(probe) AS last_day,
                       SUM(SUM(people)) OVER w AS people, SUM(SUM(plans)) OVER w AS plans,
                       SUM(SUM(in_date)) OVER w AS in_date, LEAD(d) OVER w AS next_d
                FROM ev GROUP BY grp, d
                WINDOW w AS (PARTITION BY grp ORDER BY d)
            )
            SELECT {key} AS k, grp,
                   SUM(CASE WHEN last_day = 1 THEN people ELSE 0 END),
                   SUM(CASE WHEN last_day = 1 THEN plans ELSE 0 END),
                   SUM(CASE WHEN last_day = 1 THEN in_date ELSE 0 END),
                   SUM(people * (julianday(next_d) - julianday(d)))
            FROM run WHERE d >= :start AND d < :end1
            GROUP BY k, grp
        """
        last = self.periods[-1].key.isoformat()
        for k, g, people, plans, in_date, days in self.q(sql, start=self.start, end1=self.end1):
            self.raw.put("plan_coverage", k, g, plans, people)
            self.raw.put("plan_in_date", k, g, in_date, plans)
            self.raw.put("emergency_admissions", k, g, 0, (days or 0.0) / sc.DAYS_PER_MONTH)
            if (k, g) == (last, ALL):
                self.raw.people_now = int(people)

    def hospital(self) -> None:
        """Emergency admissions, and discharges with a readmission within 30 days, of people in
        the cohort on the day; one pass over both kinds of event."""
        key = _key_sql("he.occurred_on", self.grain)
        sql = f"""
            SELECT {key} AS k, en.grp,
                   SUM(he.kind = :emergency),
                   SUM(he.kind = :discharge AND he.occurred_on <= :cutoff),
                   SUM(CASE WHEN he.kind = :discharge AND he.occurred_on <= :cutoff
                       THEN EXISTS (
                           SELECT 1 FROM health_event a
                           WHERE a.patient_id = he.patient_id AND a.kind = :emergency
                             AND a.occurred_on > he.occurred_on
                             AND a.occurred_on <= date(he.occurred_on,
                                                      '+{sc.READMISSION_DAYS} days')
                             AND a.deleted = 0)
                       ELSE 0 END)
            FROM health_event he
            JOIN sc_enrolled en ON en.pid = he.patient_id
                 AND he.occurred_on >= en.s AND he.occurred_on < en.e
            WHERE he.kind IN (:emergency, :discharge) AND he.deleted = 0
              AND he.occurred_on >= :start AND he.occurred_on <= :end
            GROUP BY k, en.grp
        """
        admissions = self.raw.parts.setdefault("emergency_admissions", {})
        for k, g, admitted, discharges, readmitted in self.q(
            sql,
            emergency=HealthEventKind.EMERGENCY_ADMISSION.value,
            discharge=HealthEventKind.DISCHARGE.value,
            start=self.start,
            end=self.end,
            cutoff=self.followup_cutoff,
        ):
            _none, months = admissions.get((k, g), (0.0, 0.0))
            admissions[(k, g)] = (float(admitted or 0), months)
            self.raw.put("readmissions", k, g, readmitted, discharges)

    def huddle_work(self) -> None:
        """People discussed (each person once a week, however many huddles that week), and
        huddle actions done by their due date."""
        teams, team_params = self._in("team", self.team_hex)
        day = "substr(h.scheduled_at, 1, 10)"
        week = _key_sql(day, Grain.WEEK)
        for k, g, n in self.q(
            f"""
            SELECT {_key_sql(day, self.grain)} AS k, en.grp,
                   COUNT(DISTINCT hi.patient_id || ' ' || {week})
            FROM huddle_item hi
            JOIN huddle h ON h.id = hi.huddle_id
            JOIN sc_enrolled en ON en.pid = hi.patient_id
            WHERE hi.deleted = 0 AND h.deleted = 0 AND hi.status = :discussed
              AND h.team_id IN ({teams}) AND {day} >= :start AND {day} <= :end
            GROUP BY k, en.grp
            """,
            discussed=HuddleItemStatus.DISCUSSED.value,
            start=self.start,
            end=self.end,
            **team_params,
        ):
            self.raw.put("people_discussed", k, g, n, 0)  # weeks: added per period later
        due = _key_sql("t.due_on", self.grain)
        for k, g, total, on_time in self.q(
            f"""
            SELECT {due} AS k, en.grp, COUNT(*),
                   SUM(t.status = :completed AND substr(t.completed_at, 1, 10) <= t.due_on)
            FROM task t
            JOIN huddle_item hi ON hi.id = t.huddle_item_id
            JOIN huddle h ON h.id = hi.huddle_id
            JOIN sc_enrolled en ON en.pid = t.patient_id
            WHERE t.deleted = 0 AND t.status != :cancelled AND t.due_on IS NOT NULL
              AND h.team_id IN ({teams})
              AND t.due_on >= :start AND t.due_on <= :end
              AND (t.due_on < :as_of OR t.status = :completed)
            GROUP BY k, en.grp
            """,
            completed=TaskStatus.COMPLETED.value,
            cancelled=TaskStatus.CANCELLED.value,
            start=self.start,
            end=self.end,
            as_of=self.as_of,
            **team_params,
        ):
            self.raw.put("actions_on_time", k, g, on_time, total)

    def escalations(self) -> None:
        resolved = "substr(x.resolved_at, 1, 10)"
        sql = f"""
            WITH esc AS (
                SELECT {{k}} AS k, en.grp AS grp,
                       julianday(x.resolved_at) - julianday(x.raised_at) AS days
                FROM escalation x
                JOIN sc_enrolled en ON en.pid = x.patient_id
                WHERE x.deleted = 0 AND x.status = :resolved AND x.resolved_at IS NOT NULL
                  AND {resolved} >= :start AND {resolved} <= :end
            ),
            ranked AS (
                SELECT k, grp, days,
                       ROW_NUMBER() OVER (PARTITION BY k, grp ORDER BY days) AS rn,
                       COUNT(*) OVER (PARTITION BY k, grp) AS n
                FROM esc
            )
            SELECT k, grp, MAX(n), AVG(days) FROM ranked
            WHERE rn IN ((n + 1) / 2, (n + 2) / 2)
            GROUP BY k, grp
        """
        params = dict(resolved=EscalationStatus.RESOLVED.value, start=self.start, end=self.end)
        for key in (_key_sql(resolved, self.grain), "'*'"):
            for k, g, n, median in self.q(sql.format(k=key), **params):
                # Stored as (median, count): the value is the median itself.
                self.raw.put("escalation_days", k, g, median, n)
        self.raw.open_escalations = self.q(
            """
            SELECT COUNT(DISTINCT x.id) FROM escalation x
            JOIN sc_enrolled en ON en.pid = x.patient_id AND en.grp = :all
            WHERE x.deleted = 0 AND x.status = :open
            """,
            all=ALL,
            open=EscalationStatus.OPEN.value,
        ).scalar_one()


# --- from raw counts to results --------------------------------------------------------------


def _cell(measure: Measure, num: float, den: float, suppress: bool) -> Cell:
    if measure.key == "escalation_days":
        value = num if den else None
    else:
        value = num / den * measure.scale if den else None
    cell = Cell(num, den, value)
    if suppress:
        counts = {
            "people_discussed": (num,),
            "escalation_days": (den,),
            "emergency_admissions": (num, den),
        }.get(measure.key, (num, den))
        if any(sc.suppressed(c) for c in counts):
            return Cell(None, None, None, suppressed=True)
    return cell


def _group(
    measure: Measure,
    raw: _Raw,
    periods: list[Period],
    label: str,
    suppress: bool,
) -> GroupResult:
    parts = raw.parts.get(measure.key, {})
    keys = [p.key.isoformat() for p in periods]
    series_raw = [parts.get((k, label), (0.0, 0.0)) for k in keys]
    if measure.key == "people_discussed":  # a week without a huddle is still a week
        series_raw = [(n, p.days / 7) for (n, _d), p in zip(series_raw, periods, strict=True)]
    series = [_cell(measure, n, d, suppress) for n, d in series_raw]
    if measure.snapshot:
        num, den = series_raw[-1]
    elif measure.key == "escalation_days":  # a median: worked out over the whole range
        num, den = parts.get(("*", label), (0.0, 0.0))
    else:
        num = sum(n for n, _d in series_raw)
        den = sum(d for _n, d in series_raw)
    return GroupResult(label, series, _cell(measure, num, den, suppress))


def _result(
    measure: Measure,
    raw: _Raw,
    periods: list[Period],
    query: ScorecardQuery,
    target: float | None,
    *,
    suppress: bool,
) -> MeasureResult:
    overall = _group(measure, raw, periods, ALL, suppress)
    groups = []
    if query.by is not None:
        labels = sorted(
            (g for g in raw.groups if g != ALL), key=lambda g: sc.group_order(query.by, g)
        )
        groups = [_group(measure, raw, periods, g, suppress) for g in labels]
    rebase = []
    if query.rebase_from is not None:
        rebase = [i for i, p in enumerate(periods) if p.end >= query.rebase_from][:1]
    chart = spc.xmr(
        [c.value for c in overall.series],
        improvement=measure.improvement,
        target=target,
        rebase=rebase,
        floor=measure.floor,
        ceiling=measure.ceiling,
    )
    return MeasureResult(measure, target, overall, groups, chart)
