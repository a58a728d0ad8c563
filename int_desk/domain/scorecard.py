"""The INT scorecard's measures as data: what each counts, which way is better, its target.

The definitions (numerator, denominator, exclusions, source) are written out for people in
docs/scorecard.md; the SQL that computes them is in int_desk/services/scorecard.py. This module
holds what both the desktop and the endpoint's Place report share: the measure list, periods,
breakdown groups and the small-number suppression rule.
"""

from __future__ import annotations

import calendar
import uuid
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import date, timedelta
from enum import StrEnum
from typing import Any

from int_desk.domain import spc
from int_desk.domain.errors import ValidationError
from int_desk.domain.spc import Improvement

DAYS_PER_MONTH = 365.25 / 12  # person-days to person-months
READMISSION_DAYS = 30
NOT_KNOWN = "Not known"
ALL = "All"
SUPPRESS_BELOW = 5  # Place-level: counts under 5 are not shown
TARGETS_KEY = "scorecard_targets"  # Team.config: {"plan_coverage": 80, ...}
MAX_PERIODS = 260  # five years of weeks


class Grain(StrEnum):
    WEEK = "week"
    MONTH = "month"


class Breakdown(StrEnum):
    TEAM = "team"
    PRACTICE = "practice"
    COHORT = "cohort"
    DEPRIVATION = "deprivation"
    AGE = "age"

    @property
    def label(self) -> str:
        return {
            "team": "Team",
            "practice": "Practice",
            "cohort": "Cohort",
            "deprivation": "Deprivation quintile (IMD)",
            "age": "Age band",
        }[self.value]


@dataclass(frozen=True)
class Measure:
    key: str
    title: str
    unit: str  # shown after values: "%", "per 1,000 per month", "people per week", "days"
    improvement: Improvement
    numerator: str  # what is counted (for tables and tooltips)
    denominator: str
    default_target: float | None = None
    decimals: int = 1
    floor: float | None = 0.0
    ceiling: float | None = None
    scale: float = 1.0  # value = numerator / denominator * scale
    snapshot: bool = False  # counted on the last day of each period (not across it)
    short: str = ""  # a column heading

    def fmt(self, value: float | None) -> str:
        if value is None:
            return "-"
        text = f"{value:,.{self.decimals}f}"
        return f"{text}%" if self.unit == "%" else text

    def fmt_with_unit(self, value: float | None) -> str:
        text = self.fmt(value)
        return text if self.unit == "%" or value is None else f"{text} {self.unit}"


MEASURES: tuple[Measure, ...] = (
    Measure(
        "plan_coverage",
        "People with an active, signed-off shared care plan",
        "%",
        Improvement.UP,
        "with an active signed-off plan",
        "people in the cohort",
        default_target=80.0,
        ceiling=100.0,
        scale=100.0,
        snapshot=True,
        short="Care plan %",
    ),
    Measure(
        "plan_in_date",
        "Of those, plans reviewed in date",
        "%",
        Improvement.UP,
        "plan's review date not passed",
        "people with an active signed-off plan",
        default_target=90.0,
        ceiling=100.0,
        scale=100.0,
        snapshot=True,
        short="In date %",
    ),
    Measure(
        "emergency_admissions",
        "Emergency admissions",
        "per 1,000 per month",
        Improvement.DOWN,
        "emergency admissions",
        "person-months in the cohort",
        scale=1000.0,
        short="Adm./1,000/mo",
    ),
    Measure(
        "readmissions",
        "Emergency readmissions within 30 days of discharge",
        "%",
        Improvement.DOWN,
        "discharges followed by an emergency admission within 30 days",
        "discharges (30 days of follow-up complete)",
        ceiling=100.0,
        scale=100.0,
        short="Readmit. %",
    ),
    Measure(
        "people_discussed",
        "People discussed at huddles",
        "people per week",
        Improvement.NEITHER,
        "people discussed",
        "weeks",
        short="Discussed/wk",
    ),
    Measure(
        "actions_on_time",
        "Huddle actions done by their due date",
        "%",
        Improvement.UP,
        "done by the due date",
        "huddle actions due",
        default_target=90.0,
        ceiling=100.0,
        scale=100.0,
        short="On time %",
    ),
    Measure(
        "escalation_days",
        "Days from escalation to resolution (median)",
        "days",
        Improvement.DOWN,
        "median days",
        "escalations resolved",
        default_target=7.0,
        short="Esc. days",
    ),
)
MEASURE_BY_KEY: dict[str, Measure] = {m.key: m for m in MEASURES}


# --- periods ----------------------------------------------------------------------------------


@dataclass(frozen=True)
class Period:
    key: date  # the calendar month's or ISO week's first day (also when clipped)
    start: date  # first day counted (the range start for a clipped first period)
    end: date  # last day counted (inclusive)
    grain: Grain = Grain.MONTH

    @property
    def days(self) -> int:
        return (self.end - self.start).days + 1

    @property
    def complete(self) -> bool:
        """False for a period the range cuts short (e.g. the current month so far)."""
        return self.start == self.key and self.end == _calendar_end(self.key, self.grain)

    @property
    def label(self) -> str:
        if self.grain is Grain.MONTH:
            return f"{self.key:%b %Y}"
        return f"w/c {self.key.day} {self.key:%b %Y}"


def _calendar_end(key: date, grain: Grain) -> date:
    if grain is Grain.WEEK:
        return key + timedelta(days=6)
    return key.replace(day=calendar.monthrange(key.year, key.month)[1])


def period_key(day: date, grain: Grain) -> date:
    if grain is Grain.WEEK:
        return day - timedelta(days=day.weekday())
    return day.replace(day=1)


def periods(start: date, end: date, grain: Grain) -> list[Period]:
    """The calendar months (or Monday-start weeks) covering start..end, clipped to it."""
    if end < start:
        raise ValidationError("The scorecard's end date is before its start date.", field="to")
    out: list[Period] = []
    key = period_key(start, grain)
    while key <= end:
        last = _calendar_end(key, grain)
        out.append(Period(key, max(key, start), min(last, end), grain))
        key = last + timedelta(days=1)
        if len(out) > MAX_PERIODS:
            raise ValidationError(
                f"That range has more than {MAX_PERIODS} {grain.value}s; choose a shorter one.",
                field="from",
            )
    return out


def default_range(today: date, months: int = 24) -> tuple[date, date]:
    """The last ``months`` calendar months up to today (the current month so far included)."""
    year, month = today.year, today.month - (months - 1)
    while month < 1:
        month += 12
        year -= 1
    return date(year, month, 1), today


# --- results ----------------------------------------------------------------------------------


@dataclass(frozen=True)
class ScorecardQuery:
    start: date
    end: date
    grain: Grain = Grain.MONTH
    team_ids: tuple[uuid.UUID, ...] = ()  # empty: all of the actor's teams
    cohort_ids: tuple[uuid.UUID, ...] = ()  # empty: every cohort of those teams
    by: Breakdown | None = None
    rebase_from: date | None = None  # SPC limits re-based from this date's period
    targets: Mapping[str, float | None] | None = None  # overrides the teams' targets


@dataclass
class Cell:
    numerator: float | None = None
    denominator: float | None = None
    value: float | None = None
    suppressed: bool = False


@dataclass
class GroupResult:
    label: str
    series: list[Cell]  # one per period
    total: Cell  # across the whole range (snapshot measures: on its last day)


@dataclass
class MeasureResult:
    measure: Measure
    target: float | None
    overall: GroupResult
    groups: list[GroupResult]  # the breakdown (empty without one)
    chart: spc.XmrChart

    @property
    def key(self) -> str:
        return self.measure.key


@dataclass
class Scorecard:
    query: ScorecardQuery
    as_of: date
    periods: list[Period]
    team_names: list[str]
    cohort_names: list[str]
    measures: list[MeasureResult]
    people_now: int  # in the cohort on the last day
    open_escalations: int
    suppressed: bool = False  # Place level: counts under 5 hidden
    notes: list[str] = field(default_factory=list)

    def measure(self, key: str) -> MeasureResult:
        return next(m for m in self.measures if m.key == key)

    @property
    def nobody(self) -> bool:
        """True when no one was in the cohort on any day of the range (nothing to count)."""
        admissions = self.measure("emergency_admissions").overall.total
        return self.people_now == 0 and not admissions.denominator

    @property
    def scope_label(self) -> str:
        teams = ", ".join(self.team_names) or "no team"
        return f"{teams} - {', '.join(self.cohort_names)}" if self.cohort_names else teams


# --- groups -----------------------------------------------------------------------------------

AGE_BANDS: tuple[tuple[int, int | None, str], ...] = (
    (0, 17, "0-17"),
    (18, 64, "18-64"),
    (65, 74, "65-74"),
    (75, 84, "75-84"),
    (85, None, "85 and over"),
)
QUINTILE_LABELS = {
    1: "1 (most deprived)",
    2: "2",
    3: "3",
    4: "4",
    5: "5 (least deprived)",
}


def group_order(breakdown: Breakdown | None, label: str) -> tuple[int, str]:
    """Sort key: natural order for age and deprivation, else by name; 'Not known' last."""
    if label == ALL:
        return (-1, "")
    if label == NOT_KNOWN:
        return (99, "")
    if breakdown is Breakdown.AGE:
        names = [b[2] for b in AGE_BANDS]
        return (names.index(label) if label in names else 50, label)
    return (0, label.casefold())


# --- targets ----------------------------------------------------------------------------------


def targets_from_config(config: Mapping[str, Any] | None) -> dict[str, float | None]:
    """Each measure's target: the team's configured one, else the default (None = no target).

    A team sets ``{"scorecard_targets": {"plan_coverage": 85, "escalation_days": null}}``;
    unknown keys and non-numbers are ignored.
    """
    out: dict[str, float | None] = {m.key: m.default_target for m in MEASURES}
    table = (config or {}).get(TARGETS_KEY) or {}
    if isinstance(table, Mapping):
        for key, value in table.items():
            if key not in out:
                continue
            if value is None:
                out[key] = None
            elif isinstance(value, int | float) and not isinstance(value, bool):
                out[key] = float(value)
    return out


# --- small numbers ----------------------------------------------------------------------------


def suppressed(count: float | None) -> bool:
    """True when a count must not be shown at Place level (under 5, including none)."""
    return count is not None and count < SUPPRESS_BELOW
