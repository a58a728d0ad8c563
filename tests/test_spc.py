"""SPC (Making Data Count): XmR limits and each special-cause rule on series worked by hand.

Every expected figure below was worked on paper from the definitions in int_desk/domain/spc.py
(mean; mean moving range MR; limits mean ± 2.66 MR; two sigma at mean ± 1.7733 MR).
"""

from __future__ import annotations

import pytest

from int_desk.domain.spc import (
    BEYOND_LIMIT,
    RUN,
    TREND,
    TWO_OF_THREE,
    Assurance,
    Improvement,
    Variation,
    xmr,
)


def flagged(values: list[float | None], **kwargs: object) -> dict[int, tuple[set[str], str]]:
    chart = xmr(values, **kwargs)  # type: ignore[arg-type]
    return {p.index: (p.flags, p.side) for p in chart.points if p.flags}


def test_limits_are_mean_plus_minus_2_66_mean_moving_range() -> None:
    # 10 12 11 13 9 11: mean 66/6 = 11; moving ranges 2 1 2 4 2, mean 11/5 = 2.2;
    # limits 11 ± 2.66 × 2.2 = 11 ± 5.852; two sigma 11 ± 3.9013.
    chart = xmr([10, 12, 11, 13, 9, 11])
    seg = chart.segments[0]
    assert seg.mean == pytest.approx(11)
    assert seg.mean_moving_range == pytest.approx(2.2)
    assert seg.upper == pytest.approx(16.852)
    assert seg.lower == pytest.approx(5.148)
    assert chart.points[0].upper_two_sigma == pytest.approx(14.9013, abs=1e-4)
    assert chart.points[0].lower_two_sigma == pytest.approx(7.0987, abs=1e-4)
    assert [p.moving_range for p in chart.points] == [None, 2, 1, 2, 4, 2]
    assert not any(p.flags for p in chart.points)
    assert chart.variation is Variation.COMMON_CAUSE
    assert chart.notes() == ["Limits from 6 points (fewer than 15): treat them as provisional."]


def test_point_beyond_upper_limit() -> None:
    # 10 11 ×4, then 10, 20: mean 114/10 = 11.4; ranges eight 1s and 10, mean 18/9 = 2;
    # upper limit 11.4 + 5.32 = 16.72, so 20 is beyond it. The outlier also puts the first nine
    # points below the mean: a run of nine (rule 2) - the rules are independent.
    flags = flagged([10, 11, 10, 11, 10, 11, 10, 11, 10, 20])
    assert flags[9] == ({BEYOND_LIMIT}, "H")
    assert all(flags[i] == ({RUN}, "L") for i in range(9))


def test_point_beyond_lower_limit() -> None:
    # Mirror image: 10 9 ×4, 10, 0: mean 86/10 = 8.6, MR 2, lower limit 8.6 - 5.32 = 3.28.
    flags = flagged([10, 9, 10, 9, 10, 9, 10, 9, 10, 0])
    assert flags[9] == ({BEYOND_LIMIT}, "L")


def test_run_of_seven_above_the_mean() -> None:
    # 10 14 6 14 6, seven 11s, 6 14 6 10: mean 163/16 = 10.1875, so every 11 is above it;
    # ranges sum 58 over 15, MR 3.867: limits -0.10..20.47, nothing near them.
    flags = flagged([10, 14, 6, 14, 6, 11, 11, 11, 11, 11, 11, 11, 6, 14, 6, 10])
    assert flags == {i: ({RUN}, "H") for i in range(5, 12)}


def test_run_of_six_is_not_a_signal() -> None:
    # The same with six 11s: mean 152/15 = 10.13; six above is not enough.
    assert flagged([10, 14, 6, 14, 6, 11, 11, 11, 11, 11, 11, 6, 14, 6, 10]) == {}


def test_a_point_on_the_mean_ends_a_run() -> None:
    # 15 5 15 5, 11 11 11, 10, 11 11 11 11, 5 15 5 8: sum 160 over 16 = mean 10 exactly, so the
    # 10 is on the mean and splits eight points above into runs of 3 and 4.
    assert flagged([15, 5, 15, 5, 11, 11, 11, 10, 11, 11, 11, 11, 5, 15, 5, 8]) == {}
    # With 11 in its place (mean 161/16 = 10.06) the eight form one run.
    flags = flagged([15, 5, 15, 5, 11, 11, 11, 11, 11, 11, 11, 11, 5, 15, 5, 8])
    assert flags == {i: ({RUN}, "H") for i in range(4, 12)}


def test_six_rising_points_are_a_trend() -> None:
    # 5 6 7 8 9 10 at positions 3-8 rise five times: six points. Mean 103/12 = 8.58, MR 5.27,
    # limits -5.44..22.61; no run of seven on either side.
    flags = flagged([10, 4, 16, 5, 6, 7, 8, 9, 10, 3, 15, 10])
    assert flags == {i: ({TREND}, "H") for i in range(3, 9)}


def test_six_falling_points_are_a_trend() -> None:
    flags = flagged([10, 16, 4, 15, 14, 13, 12, 11, 10, 17, 5, 10])
    assert flags == {i: ({TREND}, "L") for i in range(3, 9)}


def test_five_rising_points_or_an_equal_step_are_not_a_trend() -> None:
    assert flagged([10, 4, 16, 5, 6, 7, 8, 9, 2, 3, 15, 10]) == {}
    assert flagged([10, 4, 16, 5, 6, 7, 7, 8, 9, 3, 15, 10]) == {}  # 7, 7 breaks it


def test_two_of_three_beyond_two_sigma_on_one_side() -> None:
    # Nine pairs 9 11, then 15 10 15: mean 220/21 = 10.476; ranges seventeen 2s, 4, 5, 5:
    # MR 48/20 = 2.4. Two sigma 10.476 + 1.7733 × 2.4 = 14.732; limit 16.860. Both 15s lie
    # between two sigma and the limit, two of the last three points.
    flags = flagged([9, 11] * 9 + [15, 10, 15])
    assert flags == {18: ({TWO_OF_THREE}, "H"), 20: ({TWO_OF_THREE}, "H")}
    # Below: 5 10 5, mean 200/21 = 9.524, MR 2.5, lower two sigma 5.09, lower limit 2.87.
    flags = flagged([9, 11] * 9 + [5, 10, 5])
    assert flags == {18: ({TWO_OF_THREE}, "L"), 20: ({TWO_OF_THREE}, "L")}


def test_two_of_three_on_opposite_sides_or_spread_out_is_not_a_signal() -> None:
    # 15 10 5: one high and one low: mean 10, MR 2.4, two sigma 5.744..14.256.
    assert flagged([9, 11] * 9 + [15, 10, 5]) == {}
    # 15 10 10 15: the two highs are four points apart (MR 2.286, two sigma 14.51).
    assert flagged([9, 11] * 9 + [15, 10, 10, 15]) == {}


def test_rebased_limits_come_from_each_segments_own_points() -> None:
    # Ten points around 20 then ten around 10. One set of limits: mean 15 and a run of ten on
    # each side. Re-based at position 10: means 20 and 10, and no signal in either.
    values = [20, 24, 16, 22, 18, 21, 19, 23, 17, 20, 10, 14, 6, 12, 8, 11, 9, 13, 7, 10]
    once = xmr(values)
    assert once.segments[0].mean == pytest.approx(15)
    assert {i for i, (f, _s) in flagged(values).items() if RUN in f} == set(range(20))
    rebased = xmr(values, rebase=[10])
    assert [s.mean for s in rebased.segments] == [pytest.approx(20), pytest.approx(10)]
    # Second segment: ranges 4 8 6 4 3 2 4 6 3 = 40 over 9: MR 4.444, limits 10 ± 11.82.
    assert rebased.segments[1].mean_moving_range == pytest.approx(40 / 9)
    assert rebased.segments[1].upper == pytest.approx(10 + 2.66 * 40 / 9)
    assert rebased.points[15].segment == 1 and rebased.points[15].mean == pytest.approx(10)
    assert not any(p.flags for p in rebased.points)
    assert rebased.variation is Variation.COMMON_CAUSE


def test_missing_values_are_gaps_not_zeros() -> None:
    # 10 _ 12 11: the range is taken between 10 and 12 (2), then 1: MR 1.5, mean 11.
    chart = xmr([10, None, 12, 11])
    assert chart.segments[0].mean == pytest.approx(11)
    assert chart.segments[0].mean_moving_range == pytest.approx(1.5)
    assert chart.points[1].value is None and chart.points[1].mean == pytest.approx(11)


def test_limits_clip_to_what_the_measure_can_take() -> None:
    chart = xmr([1, 9, 2, 8, 1], floor=0, ceiling=100)
    assert chart.segments[0].lower == 0


@pytest.mark.parametrize(
    ("improvement", "expected"),
    [
        (Improvement.UP, Variation.IMPROVING_HIGH),
        (Improvement.DOWN, Variation.CONCERNING_HIGH),
        (Improvement.NEITHER, Variation.NEITHER_HIGH),
    ],
)
def test_variation_icon_reads_the_latest_point(
    improvement: Improvement, expected: Variation
) -> None:
    chart = xmr([10, 11, 10, 11, 10, 11, 10, 11, 10, 20], improvement=improvement)
    assert chart.variation is expected


def test_variation_of_a_low_signal_and_of_too_little_data() -> None:
    values = [10, 9, 10, 9, 10, 9, 10, 9, 10, 0]
    assert xmr(values, improvement=Improvement.DOWN).variation is Variation.IMPROVING_LOW
    assert xmr(values, improvement=Improvement.UP).variation is Variation.CONCERNING_LOW
    assert xmr([5]).variation is Variation.NOT_ENOUGH_DATA
    assert xmr([]).variation is Variation.NOT_ENOUGH_DATA


@pytest.mark.parametrize(
    ("improvement", "target", "expected"),
    [
        # Limits 5.148 .. 16.852 (the first test's series).
        (Improvement.UP, 5.0, Assurance.PASS),  # lower limit above the target
        (Improvement.UP, 17.0, Assurance.FAIL),  # upper limit below the target
        (Improvement.UP, 11.0, Assurance.HIT_AND_MISS),
        (Improvement.DOWN, 17.0, Assurance.PASS),
        (Improvement.DOWN, 5.0, Assurance.FAIL),
        (Improvement.DOWN, 11.0, Assurance.HIT_AND_MISS),
        (Improvement.UP, None, Assurance.NO_TARGET),
        (Improvement.NEITHER, 11.0, Assurance.NO_TARGET),
    ],
)
def test_assurance_icon_against_a_target(
    improvement: Improvement, target: float | None, expected: Assurance
) -> None:
    chart = xmr([10, 12, 11, 13, 9, 11], improvement=improvement, target=target)
    assert chart.assurance is expected
    assert (chart.improvement, chart.target) == (improvement, target)  # the chart's legend


def test_assurance_uses_the_latest_segment() -> None:
    # Re-based at 10: the second segment's limits (10 ± 11.82) straddle 5 and sit under 25.
    values = [20, 24, 16, 22, 18, 21, 19, 23, 17, 20, 10, 14, 6, 12, 8, 11, 9, 13, 7, 10]
    assert xmr(values, improvement=Improvement.DOWN, target=30).assurance is Assurance.PASS
    rebased = xmr(values, improvement=Improvement.DOWN, target=25, rebase=[10])
    assert rebased.assurance is Assurance.PASS  # 10 + 11.82 = 21.8 <= 25
    assert xmr(values, improvement=Improvement.DOWN, target=5, rebase=[10]).assurance is (
        Assurance.HIT_AND_MISS
    )


def test_limits_clip_at_the_ceiling_too_and_two_points_are_enough_for_limits() -> None:
    # 96 99 97 100 98: mean 98, MR (3+2+3+2)/4 = 2.5; upper 98 + 6.65 = 104.65 drawn at 100.
    chart = xmr([96, 99, 97, 100, 98], floor=0, ceiling=100)
    assert chart.segments[0].upper == 100
    assert chart.segments[0].lower == pytest.approx(98 - 6.65)
    assert chart.points[3].flags == set()  # 100 is on the drawn limit, not beyond it
    two = xmr([10, 12]).segments[0]
    assert (two.mean, two.mean_moving_range, two.upper) == (11, 2, pytest.approx(16.32))


def test_fifteen_points_give_firm_limits_and_fewer_are_provisional() -> None:
    fifteen = [10, 12, 11, 13, 9, 11, 10, 12, 11, 13, 9, 11, 10, 12, 11]
    assert xmr(fifteen).notes() == [] and not xmr(fifteen).segments[0].provisional
    assert xmr(fifteen[:14]).notes() == [
        "Limits from 14 points (fewer than 15): treat them as provisional."
    ]


def test_a_rebase_at_the_start_repeated_or_out_of_range_is_ignored() -> None:
    # Segments start at 0 and 4 only; the last segment has one point: no limits, no note.
    chart = xmr([10, 12, 11, 13, 7], rebase=[4, 0, 4, 9, -1])
    assert [(s.start, s.end, s.points_used) for s in chart.segments] == [(0, 3, 4), (4, 4, 1)]
    assert [p.segment for p in chart.points] == [0, 0, 0, 0, 1]
    assert chart.segments[0].mean == pytest.approx(11.5)
    assert chart.segments[1].mean is None and chart.points[4].mean is None
    assert chart.variation is Variation.NOT_ENOUGH_DATA
    assert chart.notes() == []


def test_a_gap_does_not_break_a_run_and_the_icon_reads_the_latest_value() -> None:
    # The run-of-seven series with a gap among the 11s: the seven present 11s still run.
    values = [10, 14, 6, 14, 6, 11, 11, 11, None, 11, 11, 11, 11, 6, 14, 6, 10]
    assert flagged(values) == {i: ({RUN}, "H") for i in (5, 6, 7, 9, 10, 11, 12)}
    signal = [10, 11, 10, 11, 10, 11, 10, 11, 10, 20, None]  # the latest month not in yet
    assert xmr(signal, improvement=Improvement.UP).variation is Variation.IMPROVING_HIGH


def test_a_point_under_two_rules_takes_the_side_of_the_higher_ranked_rule() -> None:
    # Eight points 14/16 above the mean, then 8 9 10 11 12 13 14.5: mean 197.5/15 = 13.17,
    # MR 28.5/14 = 2.036, lower two sigma 9.56. 8 and 9 are two of three low (side L) and also
    # start a rising trend of seven (side H): two of three ranks higher, so they read L.
    flags = flagged([14, 16] * 4 + [8, 9, 10, 11, 12, 13, 14.5])
    assert flags[8] == ({TWO_OF_THREE, TREND}, "L") and flags[9] == flags[8]
    assert all(flags[i] == ({TREND}, "H") for i in range(10, 15))
    assert all(flags[i] == ({RUN}, "H") for i in range(8))
    assert xmr([14, 16] * 4 + [8, 9, 10, 11, 12, 13, 14.5]).variation is Variation.NEITHER_HIGH


@pytest.mark.parametrize(
    ("improvement", "expected"),
    [(Improvement.UP, Assurance.PASS), (Improvement.DOWN, Assurance.PASS)],
)
def test_limits_exactly_on_the_target_pass_it(
    improvement: Improvement, expected: Assurance
) -> None:
    # A steady 10: mean 10, MR 0, both limits 10; no point is a signal.
    chart = xmr([10, 10, 10, 10], improvement=improvement, target=10)
    assert chart.assurance is expected
    assert chart.variation is Variation.COMMON_CAUSE
    assert xmr([10, 10, 10, 10], improvement=improvement, target=None).assurance is (
        Assurance.NO_TARGET
    )
    assert xmr([10], improvement=improvement, target=10).assurance is Assurance.NO_TARGET


def test_icons_read_as_their_colour_side_and_words() -> None:
    tones = {v: (v.tone, v.side) for v in Variation}
    assert tones == {
        Variation.COMMON_CAUSE: ("common", ""),
        Variation.IMPROVING_HIGH: ("improving", "H"),
        Variation.IMPROVING_LOW: ("improving", "L"),
        Variation.CONCERNING_HIGH: ("concerning", "H"),
        Variation.CONCERNING_LOW: ("concerning", "L"),
        Variation.NEITHER_HIGH: ("neither", "H"),
        Variation.NEITHER_LOW: ("neither", "L"),
        Variation.NOT_ENOUGH_DATA: ("none", ""),
    }
    assert Variation.CONCERNING_LOW.label == "Special cause: concern (lower)"
    assert Assurance.HIT_AND_MISS.label == (
        "Hit and miss: the target lies within the process limits"
    )
    assert [a.label for a in (Assurance.PASS, Assurance.FAIL, Assurance.NO_TARGET)] == [
        "Consistently passing the target",
        "Consistently failing the target",
        "No target set",
    ]


def test_five_rising_points_at_the_very_start_are_not_a_trend() -> None:
    # 5 6 7 8 9 rise four times from the first point: five points. Mean 75/10 = 7.5, MR
    # 47/9 = 5.22, limits -6.39..21.39, two sigma -1.76..16.76; no run of seven either side.
    assert flagged([5, 6, 7, 8, 9, 3, 15, 4, 12, 6]) == {}


def test_a_target_exactly_on_a_limit_is_hit_and_miss_or_passed_as_the_icon_says() -> None:
    # Limits 11 ± 5.32 from 10 12. A target on the limit a measure must stay clear of is
    # hit and miss (the process can reach it); on the limit it must stay beyond, it passes.
    limits = xmr([10, 12]).segments[0]
    down_on_lower = xmr([10, 12], improvement=Improvement.DOWN, target=limits.lower)
    up_on_upper = xmr([10, 12], improvement=Improvement.UP, target=limits.upper)
    assert down_on_lower.assurance is Assurance.HIT_AND_MISS
    assert up_on_upper.assurance is Assurance.HIT_AND_MISS
    assert xmr([10, 12], improvement=Improvement.UP, target=limits.lower).assurance is (
        Assurance.PASS
    )
    assert xmr([], improvement=Improvement.UP, target=5).assurance is Assurance.NO_TARGET


def test_a_low_signal_on_a_measure_with_no_better_direction_reads_low() -> None:
    values = [10, 9, 10, 9, 10, 9, 10, 9, 10, 0]
    assert xmr(values).variation is Variation.NEITHER_LOW
