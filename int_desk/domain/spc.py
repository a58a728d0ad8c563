"""Statistical process control as NHS England's "Making Data Count" (MDC) does it.

An XmR chart: the mean of the points, the moving ranges between consecutive points, and process
limits at mean ± 2.66 × the mean moving range (2.66 = 3 / 1.128, so the limits sit at three
estimated standard deviations). Special-cause variation is flagged by four rules:

1. ``beyond_limit``  a point above the upper or below the lower process limit;
2. ``run``           seven or more consecutive points all above, or all below, the mean
                     (a point exactly on the mean ends a run);
3. ``trend``         six or more consecutive points each higher (or each lower) than the one
                     before (an equal value ends a trend);
4. ``two_of_three``  two out of three consecutive points beyond two sigma (two thirds of the way
                     to a limit) on the same side of the mean; the points beyond are flagged.

Limits can be re-based: ``rebase`` starts a new segment at a point, and each segment gets its own
mean and limits from its own points, with the rules applied within it (a run does not cross a
re-base). The variation icon reads the latest point; the assurance icon compares the latest
segment's limits with a target. Qt-free and dependency-free, so the CLI, the PDF, the window and
the endpoint's Place report all share it.

    chart = xmr([12, 15, 11, ...], improvement=Improvement.DOWN, target=10)
    chart.points[i].flags          # {"beyond_limit", "run", ...}
    chart.variation, chart.assurance
"""

from __future__ import annotations

import operator
from collections.abc import Sequence
from dataclasses import dataclass, field
from enum import StrEnum

LIMIT_FACTOR = 2.66
TWO_SIGMA_FACTOR = LIMIT_FACTOR * 2 / 3
RUN_LENGTH = 7
TREND_LENGTH = 6
MIN_POINTS_FOR_LIMITS = 2
RECOMMENDED_POINTS = 15  # MDC: fewer points than this give provisional limits

BEYOND_LIMIT = "beyond_limit"
RUN = "run"
TREND = "trend"
TWO_OF_THREE = "two_of_three"
RULE_LABELS = {
    BEYOND_LIMIT: "Point beyond a process limit",
    RUN: f"Run of {RUN_LENGTH} or more points above or below the mean",
    TREND: f"{TREND_LENGTH} or more points rising or falling",
    TWO_OF_THREE: "2 of 3 points beyond two sigma on one side",
}
# When the latest point carries several rules, the first listed here names its side.
_RULE_ORDER = (BEYOND_LIMIT, TWO_OF_THREE, RUN, TREND)


class Improvement(StrEnum):
    """Which direction is better for the measure."""

    UP = "up"
    DOWN = "down"
    NEITHER = "neither"


class Variation(StrEnum):
    COMMON_CAUSE = "common_cause"
    IMPROVING_HIGH = "improving_high"
    IMPROVING_LOW = "improving_low"
    CONCERNING_HIGH = "concerning_high"
    CONCERNING_LOW = "concerning_low"
    NEITHER_HIGH = "neither_high"
    NEITHER_LOW = "neither_low"
    NOT_ENOUGH_DATA = "not_enough_data"

    @property
    def label(self) -> str:
        return VARIATION_LABELS[self]

    @property
    def tone(self) -> str:
        """'improving', 'concerning', 'neither', 'common' or 'none': the icon's colour family."""
        if self.value.startswith("improving"):
            return "improving"
        if self.value.startswith("concerning"):
            return "concerning"
        if self.value.startswith("neither"):
            return "neither"
        return "common" if self is Variation.COMMON_CAUSE else "none"

    @property
    def side(self) -> str:
        """'H' or 'L' for a special cause (the letter on the MDC icon), else ''."""
        if self.value.endswith("_high"):
            return "H"
        if self.value.endswith("_low"):
            return "L"
        return ""


VARIATION_LABELS = {
    Variation.COMMON_CAUSE: "Common cause variation",
    Variation.IMPROVING_HIGH: "Special cause: improvement (higher)",
    Variation.IMPROVING_LOW: "Special cause: improvement (lower)",
    Variation.CONCERNING_HIGH: "Special cause: concern (higher)",
    Variation.CONCERNING_LOW: "Special cause: concern (lower)",
    Variation.NEITHER_HIGH: "Special cause: higher (neither better nor worse)",
    Variation.NEITHER_LOW: "Special cause: lower (neither better nor worse)",
    Variation.NOT_ENOUGH_DATA: "Not enough data for process limits",
}


class Assurance(StrEnum):
    PASS = "pass"  # the limits are all on the passing side of the target
    FAIL = "fail"  # the limits are all on the failing side: the target will not be met
    HIT_AND_MISS = "hit_and_miss"  # the target lies between the limits
    NO_TARGET = "no_target"

    @property
    def label(self) -> str:
        return {
            "pass": "Consistently passing the target",
            "fail": "Consistently failing the target",
            "hit_and_miss": "Hit and miss: the target lies within the process limits",
            "no_target": "No target set",
        }[self.value]


@dataclass
class SpcPoint:
    index: int  # position in the series given (missing values keep their place)
    value: float | None
    segment: int = 0
    mean: float | None = None
    upper: float | None = None  # process limits (clipped to the measure's bounds, if given)
    lower: float | None = None
    upper_two_sigma: float | None = None
    lower_two_sigma: float | None = None
    moving_range: float | None = None
    flags: set[str] = field(default_factory=set)
    side: str = ""  # "H" or "L" when flagged: which side of the mean the special cause is on

    @property
    def special(self) -> bool:
        return bool(self.flags)


@dataclass(frozen=True)
class Segment:
    start: int  # index of its first point in the series
    end: int  # index of its last point (inclusive)
    mean: float | None
    mean_moving_range: float | None
    upper: float | None
    lower: float | None
    points_used: int

    @property
    def provisional(self) -> bool:
        return self.points_used < RECOMMENDED_POINTS


@dataclass(frozen=True)
class XmrChart:
    points: list[SpcPoint]
    segments: list[Segment]
    improvement: Improvement
    target: float | None
    variation: Variation
    assurance: Assurance

    @property
    def latest_segment(self) -> Segment | None:
        return self.segments[-1] if self.segments else None

    def notes(self) -> list[str]:
        out = []
        seg = self.latest_segment
        if seg is not None and seg.mean is not None and seg.provisional:
            out.append(
                f"Limits from {seg.points_used} points (fewer than {RECOMMENDED_POINTS}): "
                "treat them as provisional."
            )
        return out


def xmr(
    values: Sequence[float | None],
    *,
    improvement: Improvement = Improvement.NEITHER,
    target: float | None = None,
    rebase: Sequence[int] = (),
    floor: float | None = None,
    ceiling: float | None = None,
) -> XmrChart:
    """An XmR chart of ``values`` (None = no value for that period, left as a gap).

    ``rebase`` lists indices where a new segment begins (its limits come from its own points).
    ``floor``/``ceiling`` clip the drawn limits to what the measure can take (0, 100%); the
    rules compare values with the clipped limits, which only matters where no value can go.
    """
    points = [SpcPoint(i, None if v is None else float(v)) for i, v in enumerate(values)]
    starts = sorted({0, *(i for i in rebase if 0 < i < len(points))})
    segments: list[Segment] = []
    for n, start in enumerate(starts):
        end = (starts[n + 1] if n + 1 < len(starts) else len(points)) - 1
        if end < start:
            continue
        segments.append(_segment(points, start, end, n, floor, ceiling))
    for seg in segments:
        _apply_rules([p for p in points[seg.start : seg.end + 1] if p.value is not None], seg)
    variation = _variation(points, improvement)
    assurance = _assurance(segments[-1] if segments else None, improvement, target)
    return XmrChart(points, segments, improvement, target, variation, assurance)


def _clip(value: float, floor: float | None, ceiling: float | None) -> float:
    if floor is not None:
        value = max(floor, value)
    if ceiling is not None:
        value = min(ceiling, value)
    return value


def _segment(
    points: list[SpcPoint],
    start: int,
    end: int,
    number: int,
    floor: float | None,
    ceiling: float | None,
) -> Segment:
    present = [p for p in points[start : end + 1] if p.value is not None]
    for p in points[start : end + 1]:
        p.segment = number
    previous: float | None = None
    ranges = []
    for p in present:
        if previous is not None:
            assert p.value is not None
            p.moving_range = abs(p.value - previous)
            ranges.append(p.moving_range)
        previous = p.value
    if len(present) < MIN_POINTS_FOR_LIMITS:
        return Segment(start, end, None, None, None, None, len(present))
    mean = sum(p.value for p in present if p.value is not None) / len(present)
    mr_bar = sum(ranges) / len(ranges)
    upper = _clip(mean + LIMIT_FACTOR * mr_bar, floor, ceiling)
    lower = _clip(mean - LIMIT_FACTOR * mr_bar, floor, ceiling)
    for p in points[start : end + 1]:
        p.mean, p.upper, p.lower = mean, upper, lower
        p.upper_two_sigma = mean + TWO_SIGMA_FACTOR * mr_bar
        p.lower_two_sigma = mean - TWO_SIGMA_FACTOR * mr_bar
    return Segment(start, end, mean, mr_bar, upper, lower, len(present))


def _flag(p: SpcPoint, rule: str, side: str) -> None:
    p.flags.add(rule)
    # Keep the side of the highest-ranked rule on the point.
    ranked = [r for r in _RULE_ORDER if r in p.flags]
    if ranked and ranked[0] == rule:
        p.side = side


def _apply_rules(present: list[SpcPoint], seg: Segment) -> None:
    if seg.mean is None or seg.upper is None or seg.lower is None or seg.mean_moving_range is None:
        return
    mean = seg.mean
    high = mean + TWO_SIGMA_FACTOR * seg.mean_moving_range  # each point's upper_two_sigma
    low = mean - TWO_SIGMA_FACTOR * seg.mean_moving_range
    values = [p.value for p in present if p.value is not None]  # (every one is present)
    # 1. Beyond a limit.
    for p in present:
        assert p.value is not None
        if p.value > seg.upper:
            _flag(p, BEYOND_LIMIT, "H")
        elif p.value < seg.lower:
            _flag(p, BEYOND_LIMIT, "L")
    # 2. Two of three beyond two sigma, same side.
    for i in range(len(present) - 2):
        window = list(zip(present[i : i + 3], values[i : i + 3], strict=True))
        for side, beyond in (
            ("H", [p for p, v in window if v > high]),
            ("L", [p for p, v in window if v < low]),
        ):
            if len(beyond) >= 2:
                for p in beyond:
                    _flag(p, TWO_OF_THREE, side)
    # 3. Runs above / below the mean.
    for side, test in (("H", operator.gt), ("L", operator.lt)):
        for run in _runs([test(v, mean) for v in values]):
            if len(run) >= RUN_LENGTH:
                for i in run:
                    _flag(present[i], RUN, side)
    # 4. Trends: each point strictly higher (lower) than the one before.
    for side, test in (("H", operator.lt), ("L", operator.gt)):  # a < b: b is higher
        steps = [False] + [test(values[i - 1], values[i]) for i in range(1, len(values))]
        for run in _runs(steps):
            first = run[0] - 1  # the point the first step starts from
            if len(run) + 1 >= TREND_LENGTH:
                for i in range(first, run[-1] + 1):
                    _flag(present[i], TREND, side)


def _runs(flags: list[bool]) -> list[list[int]]:
    """Maximal stretches of consecutive True, as index lists."""
    out: list[list[int]] = []
    current: list[int] = []
    for i, ok in enumerate(flags):
        if ok:
            current.append(i)
        elif current:
            out.append(current)
            current = []
    if current:
        out.append(current)
    return out


def _variation(points: list[SpcPoint], improvement: Improvement) -> Variation:
    present = [p for p in points if p.value is not None]
    if not present or present[-1].mean is None:
        return Variation.NOT_ENOUGH_DATA
    last = present[-1]
    if not last.special:
        return Variation.COMMON_CAUSE
    high = last.side == "H"
    if improvement is Improvement.NEITHER:
        return Variation.NEITHER_HIGH if high else Variation.NEITHER_LOW
    good = high == (improvement is Improvement.UP)
    if good:
        return Variation.IMPROVING_HIGH if high else Variation.IMPROVING_LOW
    return Variation.CONCERNING_HIGH if high else Variation.CONCERNING_LOW


def _assurance(seg: Segment | None, improvement: Improvement, target: float | None) -> Assurance:
    if target is None or improvement is Improvement.NEITHER:
        return Assurance.NO_TARGET
    if seg is None or seg.upper is None or seg.lower is None:
        return Assurance.NO_TARGET
    if improvement is Improvement.UP:
        if seg.lower >= target:
            return Assurance.PASS
        if seg.upper < target:
            return Assurance.FAIL
    else:
        if seg.upper <= target:
            return Assurance.PASS
        if seg.lower > target:
            return Assurance.FAIL
    return Assurance.HIT_AND_MISS
