"""The INT scorecard, computed in SQL: care-plan coverage, admissions, huddle work, with SPC.

    q = ScorecardQuery(start=date(2025, 1, 1), end=date(2026, 11, 20), by=Breakdown.DEPRIVATION)
    card = scorecard(session=s, actor=a, query=q)          # the actor's teams, permission checked
    card.measures[0].overall.series[i].value, card.measures[0].chart.variation

Each measure is defined in docs/scorecard.md (numerator, denominator, exclusions, source). The
population is the team's cohorts: a person counts in a period from their first enrolment to
their last discharge (``cohort_membership``), grouped by team, cohort, practice, age band or
deprivation quintile; people without a practice, decile or known age show as "Not known".

How it stays fast over 50,000 people and two years: the cohort is written once into temporary
in-memory tables (``temp_store = MEMORY``: nothing reaches the disk), read in person order from
covering indexes; counts "on the last day of each period" and person-days "in each period" come
from +1/-1 changes where enrolments and plans start and end, summed per day with a window sum
over the days, not from a join of every person with every period. Nothing per person or per
event is sorted: SQLite sorts every row a GROUP BY groups, so rows are summed into a keyed
table of days instead, and "All" is counted apart from a breakdown's groups.

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


def _group_sql(by: Breakdown) -> str:
    """SQL giving a breakdown's group label (``ch``: the cohort's row in ``sc_cohort``)."""
    if by in (Breakdown.TEAM, Breakdown.COHORT):
        return "ch.label"
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


@dataclass(frozen=True)
class _Pass:
    """One grouping the measures are counted in: everyone ("All", group 0: a row per person in
    ``sc_all``) or the breakdown's groups (a row per person and group in ``sc_by``)."""

    people: str  # the table of people (pid, g, s, e)
    groups: str  # SQL listing its groups (g)
    covered: str  # a CTE body: the people's signed-plan spans (g, s, e, e_in_date)


_ALL_PASS = _Pass("sc_all", "(SELECT 0 AS g)", "(SELECT * FROM sc_span)")
# A group's enrolment lies within the person's whole enrolment, so clipping the spans (already
# clipped to that) to the group's gives the same as clipping the plans to the group's.
_BY_PASS = _Pass(
    "sc_by",
    "(SELECT DISTINCT g FROM sc_by)",
    """MATERIALIZED (
        SELECT en.g, MAX(en.s, sp.s) AS s, MIN(en.e, sp.e) AS e,
               MIN(en.e, sp.e_in_date) AS e_in_date
        FROM sc_span sp JOIN sc_by en ON en.pid = sp.pid
        WHERE MAX(en.s, sp.s) < MIN(en.e, sp.e))""",
)

# sc_day's key: the group's number and the day's (its Julian day number) in one integer.
# julianday() rather than unixepoch(): the Place report runs on the system's SQLite.
_GROUP_DAYS = 10_000_000


def _day_key(day_sql: str) -> str:
    return f"(g * {_GROUP_DAYS} + CAST(julianday({day_sql}) AS INTEGER))"


# Sums a row into its group's day in sc_day: an upsert on an integer key rather than a
# GROUP BY, which would sort every row (a seek into a table of a few hundred days costs less).
_ADD_TO_DAY = """
    ON CONFLICT (gd) DO UPDATE SET
        people = people + excluded.people, plans = plans + excluded.plans,
        in_date = in_date + excluded.in_date, probe = MAX(probe, excluded.probe),
        admitted = admitted + excluded.admitted, discharges = discharges + excluded.discharges,
        readmitted = readmitted + excluded.readmitted
"""


def _day_number(day: date) -> int:
    """The day's Julian day number as _day_key gives it (julianday() is at noon: N.5)."""
    return day.toordinal() + 1_721_424


class _Sql:
    """The statements behind one scorecard, sharing temporary tables on one connection.

    Everything about a day is summed into ``sc_day`` (group and day): the changes in the number
    of people in the cohort, with a signed plan and with it in date, and the day's admissions,
    discharges and readmissions; one window pass over it gives every period's figures.
    """

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
        self.team_ids = list(team_ids)
        self.cohort_ids = list(cohort_ids)
        self.start = periods[0].start.isoformat()
        self.end = periods[-1].end.isoformat()
        self.end1 = (periods[-1].end + timedelta(days=1)).isoformat()
        self.as_of = today.isoformat()
        self.followup_cutoff = (today - timedelta(days=sc.READMISSION_DAYS)).isoformat()
        self.several_teams = len(team_ids) > 1
        self.passes = (_ALL_PASS,) if query.by is None else (_ALL_PASS, _BY_PASS)
        self.labels: dict[int, str] = {}  # group number -> label (sc_group)
        self.raw = _Raw()

    def q(self, sql: str, **params: Any) -> Any:
        return self.s.execute(text(sql), params)

    def _in(self, name: str, values: Sequence[str]) -> tuple[str, dict[str, str]]:
        names = [f"{name}{i}" for i in range(len(values))]
        return ", ".join(f":{n}" for n in names), dict(zip(names, values, strict=True))

    # -- setup --

    def setup(self) -> None:
        """The temporary tables: periods; the chosen cohorts; the groups; the people in the
        cohorts (first enrolment, last discharge), once for "All" and once per group of the
        breakdown; the signed care-plan spans of those people; the days."""
        self.drop()
        self.q("CREATE TEMP TABLE sc_period (k TEXT PRIMARY KEY, ps TEXT, pe TEXT)")
        self.s.execute(
            text("INSERT INTO sc_period (k, ps, pe) VALUES (:k, :ps, :pe)"),
            [
                {"k": p.key.isoformat(), "ps": p.start.isoformat(), "pe": p.end.isoformat()}
                for p in self.periods
            ],
        )
        self._cohorts()
        self.q("CREATE TEMP TABLE sc_group (g INTEGER PRIMARY KEY, grp TEXT UNIQUE)")
        self.q("INSERT INTO sc_group (g, grp) VALUES (0, :all)", all=ALL)
        # Readmission follow-up and plan spans start before the range: look back far enough.
        lookback = (date.fromisoformat(self.start) - timedelta(days=1)).isoformat()
        enrolled = f"""
            SELECT cm.patient_id AS pid, {{g}} AS g, MIN(cm.enrolled_on) AS s,
                   MAX(COALESCE(cm.discharged_on, '{FAR}')) AS e
            -- in person order (the covering index), so grouping by person needs no sort
            FROM cohort_membership cm INDEXED BY ix_cohort_membership_patient
            JOIN sc_cohort ch ON ch.id = cm.cohort_id
            -- the covering index: not the patient's row (names, address...)
            JOIN patient p INDEXED BY ix_patient_scorecard ON p.id = cm.patient_id
            {{joins}}
            WHERE cm.deleted = 0 AND p.deleted = 0
              AND cm.enrolled_on <= :end
              AND COALESCE(cm.discharged_on, '{FAR}') > :lookback
            GROUP BY cm.patient_id {{per_cohort}}
        """
        params = dict(end=self.end, lookback=lookback, as_of=self.as_of)
        for table in ("sc_all", "sc_by"):
            self.q(f"CREATE TEMP TABLE {table} (pid TEXT, g INTEGER, s TEXT, e TEXT, "
                   "PRIMARY KEY (pid, g)) WITHOUT ROWID")  # fmt: skip
        self.q("INSERT INTO sc_all " + enrolled.format(g="0", joins="", per_cohort=""), **params)
        if self.by is not None:
            label = _group_sql(self.by)
            self._labels()
            joins = f"JOIN sc_group sg ON sg.grp = {label}"
            if self.by is Breakdown.PRACTICE:
                joins = f"LEFT JOIN organisation o ON o.id = p.practice_id {joins}"
            # A person has one practice, deprivation quintile and age band, but may be in
            # several teams or cohorts.
            per_cohort = ", g" if self.by in (Breakdown.TEAM, Breakdown.COHORT) else ""
            self.q(
                "INSERT INTO sc_by "
                + enrolled.format(g="sg.g", joins=joins, per_cohort=per_cohort),
                **params,
            )
        self.labels = dict(self.q("SELECT g, grp FROM sc_group").all())
        present = [g for (g,) in self.q("SELECT DISTINCT g FROM sc_by")]
        self.raw.groups = [ALL] + [self.labels[g] for g in present]
        self._spans()
        self.q(
            """
            CREATE TEMP TABLE sc_day (
                gd INTEGER PRIMARY KEY, people INTEGER NOT NULL DEFAULT 0,
                plans INTEGER NOT NULL DEFAULT 0, in_date INTEGER NOT NULL DEFAULT 0,
                probe INTEGER NOT NULL DEFAULT 0, admitted INTEGER NOT NULL DEFAULT 0,
                discharges INTEGER NOT NULL DEFAULT 0, readmitted INTEGER NOT NULL DEFAULT 0
            )
            """
        )

    def _labels(self) -> None:
        """Numbers every label the breakdown can give into sc_group (1, 2, ...)."""
        if self.by in (Breakdown.TEAM, Breakdown.COHORT):
            source = "SELECT label FROM sc_cohort"
        elif self.by is Breakdown.PRACTICE:
            source = f"SELECT name FROM organisation UNION SELECT '{NOT_KNOWN}'"
        elif self.by is Breakdown.DEPRIVATION:
            source = " UNION ".join(
                f"SELECT '{g}'" for g in [*sc.QUINTILE_LABELS.values(), NOT_KNOWN]
            )
        else:
            source = " UNION ".join(
                f"SELECT '{g}'" for g in [*(b[2] for b in sc.AGE_BANDS), NOT_KNOWN]
            )
        self.q(f"INSERT OR IGNORE INTO sc_group (grp) SELECT * FROM ({source}) WHERE true")

    def _cohorts(self) -> None:
        """``sc_cohort``: the cohorts counted, each with its team or cohort label."""
        rows = self.s.execute(
            select(Cohort.id, Cohort.name, Team.name)
            .join(Team, Team.id == Cohort.team_id)
            .where(Cohort.team_id.in_(self.team_ids), Cohort.deleted.is_(False))
        ).all()
        if self.cohort_ids:
            rows = [r for r in rows if r[0] in self.cohort_ids]

        def label(cohort: str, team: str) -> str:
            if self.by is Breakdown.TEAM:
                return team
            if self.by is Breakdown.COHORT and self.several_teams:
                return f"{team}: {cohort}"
            return cohort

        self.q("CREATE TEMP TABLE sc_cohort (id TEXT PRIMARY KEY, label TEXT) WITHOUT ROWID")
        if rows:
            self.s.execute(
                text("INSERT INTO sc_cohort (id, label) VALUES (:id, :label)"),
                [{"id": cid.hex, "label": label(name, team)} for cid, name, team in rows],
            )

    def _spans(self) -> None:
        """``sc_span``: each signed plan version of a person in the cohort, as the days it
        covers while they are in the cohort (s to e, end exclusive) and the days it is also in
        date (s to e_in_date).

        A version counts from its sign-off to the next version's sign-off (in any of the
        person's plans) or its own closure; it is in date up to its review date.
        """
        c = CarePlanStatus
        signed = f"'{c.ACTIVE.value}', '{c.SUPERSEDED.value}', '{c.CLOSED.value}'"
        self.q(
            f"""
            CREATE TEMP TABLE sc_span AS
            -- materialized: each version's end is worked out once, not once per use below
            WITH version AS MATERIALIZED (
                SELECT en.pid, en.g, en.s AS en_s, en.e AS en_e,
                       substr(cp.signed_off_at, 1, 10) AS s, cp.review_date AS review,
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
                FROM sc_all en
                CROSS JOIN care_plan cp INDEXED BY ix_care_plan_scorecard
                WHERE cp.patient_id = en.pid AND cp.deleted = 0
                  AND cp.signed_off_at IS NOT NULL
                  -- "+": one seek per person, not one per person and status
                  AND +cp.status IN ({signed})
            )
            SELECT g, MAX(en_s, s) AS s, MIN(en_e, e) AS e,
                   MIN(en_e, e, COALESCE(date(review, '+1 day'), '0')) AS e_in_date, pid
            FROM version
            WHERE MAX(en_s, s) < MIN(en_e, e)
            """
        )

    def drop(self) -> None:
        tables = ("sc_day", "sc_span", "sc_by", "sc_all", "sc_group", "sc_cohort", "sc_period")
        for table in tables:
            self.q(f"DROP TABLE IF EXISTS temp.{table}")

    def run(self) -> _Raw:
        self.setup()
        for each in self.passes:
            self.changes(each)
            self.hospital(each)
        self.days()
        for each in self.passes:
            self.huddle_work(each)
            self.escalations(each)
        self.raw.open_escalations = self.q(
            """
            SELECT COUNT(*) FROM escalation x JOIN sc_all en ON en.pid = x.patient_id
            WHERE x.deleted = 0 AND x.status = :open
            """,
            open=EscalationStatus.OPEN.value,
        ).scalar_one()
        return self.raw

    def changes(self, each: _Pass) -> None:
        """Into sc_day: where each person's time in the cohort, each covered span and each
        in-date span starts (+1) and ends (-1, ends exclusive), plus zero-weight probes on each
        period's first and last day and the day after the range.

        A change before the range counts on its first day (its running sum from there on is the
        same); a change after it does not count.
        """
        sql = f"""
            WITH covered AS {each.covered}
            INSERT INTO sc_day (gd, people, plans, in_date, probe)
            SELECT * FROM (
                SELECT {_day_key("MAX(s, :start)")}, 1, 0, 0, 0 FROM {each.people}
                    WHERE s < :end1
                UNION ALL SELECT {_day_key("MAX(e, :start)")}, -1, 0, 0, 0 FROM {each.people}
                    WHERE e < :end1
                UNION ALL SELECT {_day_key("MAX(s, :start)")}, 0, 1, e_in_date > s, 0
                    FROM covered WHERE s < :end1
                UNION ALL SELECT {_day_key("MAX(e, :start)")}, 0, -1, 0, 0
                    FROM covered WHERE e < :end1
                UNION ALL SELECT {_day_key("MAX(e_in_date, :start)")}, 0, 0, -1, 0
                    FROM covered WHERE e_in_date > s AND e_in_date < :end1
                UNION ALL SELECT {_day_key("p.ps")}, 0, 0, 0, 0 FROM {each.groups}, sc_period p
                UNION ALL SELECT {_day_key("p.pe")}, 0, 0, 0, 1 FROM {each.groups}, sc_period p
                UNION ALL SELECT {_day_key(":end1")}, 0, 0, 0, 0 FROM {each.groups}
            ) WHERE true
            {_ADD_TO_DAY}
        """
        self.q(sql, start=self.start, end1=self.end1)

    def hospital(self, each: _Pass) -> None:
        """Into sc_day: emergency admissions, and discharges with a readmission within 30 days,
        of people in the cohort on the day. Person by person: a person's events sit together
        in the index, so the look-ahead for a readmission finds its page at hand."""
        sql = f"""
            INSERT INTO sc_day (gd, admitted, discharges, readmitted)
            SELECT {_day_key("he.occurred_on")},
                   he.kind = :emergency,
                   he.kind = :discharge AND he.occurred_on <= :cutoff,
                   CASE WHEN he.kind = :discharge AND he.occurred_on <= :cutoff
                       THEN EXISTS (
                           SELECT 1 FROM health_event a
                           WHERE a.patient_id = he.patient_id AND a.kind = :emergency
                             AND a.occurred_on > he.occurred_on
                             AND a.occurred_on <= date(he.occurred_on,
                                                      '+{sc.READMISSION_DAYS} days')
                             AND a.deleted = 0)
                       ELSE 0 END
            FROM {each.people} en
            CROSS JOIN health_event he INDEXED BY ix_health_event_patient_kind
            WHERE he.patient_id = en.pid AND he.kind IN (:emergency, :discharge)
              AND he.deleted = 0
              AND he.occurred_on >= :start AND he.occurred_on <= :end
              AND he.occurred_on >= en.s AND he.occurred_on < en.e
            {_ADD_TO_DAY}
        """
        self.q(
            sql,
            emergency=HealthEventKind.EMERGENCY_ADMISSION.value,
            discharge=HealthEventKind.DISCHARGE.value,
            start=self.start,
            end=self.end,
            cutoff=self.followup_cutoff,
        )

    def days(self) -> None:
        """Every period's figures from sc_day: the running sums of the changes in date order
        are the counts from that day on (read on each period's last day), each count times
        the days to the next row is person-days (every probe starts a new stretch, so a
        stretch never crosses a period boundary), and the day's hospital counts add up."""
        key = _key_sql("date(d + 0.5)", self.grain)
        sql = f"""
            WITH day AS (
                SELECT gd / {_GROUP_DAYS} AS g, gd % {_GROUP_DAYS} AS d, * FROM sc_day
            ),
            run AS (
                SELECT g, d, probe, admitted, discharges, readmitted,
                       SUM(people) OVER w AS people, SUM(plans) OVER w AS plans,
                       SUM(in_date) OVER w AS in_date, LEAD(d) OVER w AS next_d
                FROM day
                WINDOW w AS (PARTITION BY g ORDER BY d)
            )
            SELECT {key} AS k, g,
                   SUM(CASE WHEN probe = 1 THEN people ELSE 0 END),
                   SUM(CASE WHEN probe = 1 THEN plans ELSE 0 END),
                   SUM(CASE WHEN probe = 1 THEN in_date ELSE 0 END),
                   SUM(people * (next_d - d)),
                   SUM(admitted), SUM(discharges), SUM(readmitted)
            FROM run WHERE d >= :start AND d < :end1
            GROUP BY k, g
        """
        last = self.periods[-1].key.isoformat()
        start = _day_number(self.periods[0].start)
        end1 = _day_number(self.periods[-1].end) + 1
        rows = self.q(sql, start=start, end1=end1)
        for k, g, people, plans, in_date, days, admitted, discharges, readmitted in rows:
            label = self.labels[g]
            self.raw.put("plan_coverage", k, label, plans, people)
            self.raw.put("plan_in_date", k, label, in_date, plans)
            months = (days or 0.0) / sc.DAYS_PER_MONTH
            self.raw.put("emergency_admissions", k, label, admitted, months)
            self.raw.put("readmissions", k, label, readmitted, discharges)
            if (k, g) == (last, 0):
                self.raw.people_now = int(people)

    def huddle_work(self, each: _Pass) -> None:
        """People discussed (each person once a week, however many huddles that week), and
        huddle actions done by their due date."""
        teams, team_params = self._in("team", [t.hex for t in self.team_ids])
        day = "substr(h.scheduled_at, 1, 10)"
        week = _key_sql(day, Grain.WEEK)
        for k, g, n in self.q(
            f"""
            SELECT {_key_sql(day, self.grain)} AS k, en.g,
                   COUNT(DISTINCT hi.patient_id || ' ' || {week})
            FROM huddle_item hi
            JOIN huddle h ON h.id = hi.huddle_id
            JOIN {each.people} en ON en.pid = hi.patient_id
            WHERE hi.deleted = 0 AND h.deleted = 0 AND hi.status = :discussed
              AND h.team_id IN ({teams}) AND {day} >= :start AND {day} <= :end
            GROUP BY k, en.g
            """,
            discussed=HuddleItemStatus.DISCUSSED.value,
            start=self.start,
            end=self.end,
            **team_params,
        ):
            # weeks: added per period later
            self.raw.put("people_discussed", k, self.labels[g], n, 0)
        due = _key_sql("t.due_on", self.grain)
        for k, g, total, on_time in self.q(
            f"""
            SELECT {due} AS k, en.g, COUNT(*),
                   SUM(t.status = :completed AND substr(t.completed_at, 1, 10) <= t.due_on)
            FROM task t
            JOIN huddle_item hi ON hi.id = t.huddle_item_id
            JOIN huddle h ON h.id = hi.huddle_id
            JOIN {each.people} en ON en.pid = t.patient_id
            WHERE t.deleted = 0 AND t.status != :cancelled AND t.due_on IS NOT NULL
              AND h.team_id IN ({teams})
              AND t.due_on >= :start AND t.due_on <= :end
              AND (t.due_on < :as_of OR t.status = :completed)
            GROUP BY k, en.g
            """,
            completed=TaskStatus.COMPLETED.value,
            cancelled=TaskStatus.CANCELLED.value,
            start=self.start,
            end=self.end,
            as_of=self.as_of,
            **team_params,
        ):
            self.raw.put("actions_on_time", k, self.labels[g], on_time, total)

    def escalations(self, each: _Pass) -> None:
        resolved = "substr(x.resolved_at, 1, 10)"
        sql = f"""
            WITH esc AS (
                SELECT {{k}} AS k, en.g,
                       julianday(x.resolved_at) - julianday(x.raised_at) AS days
                FROM escalation x
                JOIN {each.people} en ON en.pid = x.patient_id
                WHERE x.deleted = 0 AND x.status = :resolved AND x.resolved_at IS NOT NULL
                  AND {resolved} >= :start AND {resolved} <= :end
            ),
            ranked AS (
                SELECT k, g, days,
                       ROW_NUMBER() OVER (PARTITION BY k, g ORDER BY days) AS rn,
                       COUNT(*) OVER (PARTITION BY k, g) AS n
                FROM esc
            )
            SELECT k, g, MAX(n), AVG(days) FROM ranked
            WHERE rn IN ((n + 1) / 2, (n + 2) / 2)
            GROUP BY k, g
        """
        params = dict(resolved=EscalationStatus.RESOLVED.value, start=self.start, end=self.end)
        for key in (_key_sql(resolved, self.grain), "'*'"):
            for k, g, n, median in self.q(sql.format(k=key), **params):
                # Stored as (median, count): the value is the median itself.
                self.raw.put("escalation_days", k, self.labels[g], median, n)


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
