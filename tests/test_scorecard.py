"""The scorecard's measures on a hand-built team (tests/helpers/scorecard_world.py).

Every expected figure is worked by hand from the world's table; person-months are person-days
over 30.4375 (365.25 / 12).
"""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import select

from int_desk.domain.errors import NotFound, PermissionDenied
from int_desk.domain.scorecard import Breakdown, Grain
from int_desk.domain.vocab import HealthEventKind, Role
from int_desk.services import scorecard as sc
from int_desk.services.identity import actor_for, current_actor
from int_desk.store import models as m
from tests.helpers.scorecard_world import START, TODAY, ScorecardWorld, build_scorecard_world, d

PM = 30.4375  # days per month


@pytest.fixture
def world(tmp_path: Path) -> Iterator[ScorecardWorld]:
    w = build_scorecard_world(tmp_path / "ws")
    yield w
    w.ws.close()


def card_for(
    world: ScorecardWorld, *, by: Breakdown | None = None, **kwargs: object
) -> sc.Scorecard:
    with world.ws.session() as s:
        query = sc.ScorecardQuery(start=START, end=TODAY, by=by, **kwargs)  # type: ignore[arg-type]
        return sc.scorecard(session=s, actor=current_actor(s), query=query, today=TODAY)


def values(card: sc.Scorecard, key: str) -> list[float | None]:
    return [c.value for c in card.measure(key).overall.series]


def group(card: sc.Scorecard, key: str, label: str) -> sc.Cell:
    return next(g.total for g in card.measure(key).groups if g.label == label)


def test_periods_are_calendar_months_with_the_current_one_so_far(world: ScorecardWorld) -> None:
    card = card_for(world)
    assert [(p.start, p.end) for p in card.periods] == [
        (d("2026-01-01"), d("2026-01-31")),
        (d("2026-02-01"), d("2026-02-28")),
        (d("2026-03-01"), d("2026-03-20")),
    ]
    assert [p.complete for p in card.periods] == [True, True, False]
    assert card.people_now == 3  # A, C, D on 20 Mar (B left on 15 Feb; E is another team's)
    assert card.team_names == ["Kidlington INT"]


def test_care_plan_coverage_and_reviews_in_date_on_each_months_last_day(
    world: ScorecardWorld,
) -> None:
    card = card_for(world)
    # 31 Jan: A (version 1), D covered; B's plan is signed only on 1 Feb: 2 of A, B, D.
    # 28 Feb: A (version 2), C (closed on 1 Mar), D: 3 of A, C, D.
    # 20 Mar: A, D; C's plan closed: 2 of 3.
    assert values(card, "plan_coverage") == pytest.approx([200 / 3, 100, 200 / 3])
    cov = card.measure("plan_coverage").overall.series
    assert [(c.numerator, c.denominator) for c in cov] == [(2, 3), (3, 3), (2, 3)]
    # In date: 31 Jan A (review 10 Feb) and D (review 1 Feb): 2 of 2. 28 Feb: A, C in date,
    # D overdue since 1 Feb: 2 of 3. 20 Mar: A in date, D overdue: 1 of 2.
    assert values(card, "plan_in_date") == pytest.approx([100, 200 / 3, 50])
    total = card.measure("plan_in_date").overall.total
    assert (total.numerator, total.denominator) == (1, 2)  # a snapshot measure: the last day


def test_emergency_admissions_per_1000_person_months(world: ScorecardWorld) -> None:
    card = card_for(world)
    # Person-days: Jan A31 B16 D31 = 78; Feb A28 B14 C28 D28 = 98; Mar A20 C20 D20 = 60.
    # Admissions in the cohort: A 10 Jan, A 5 Feb, D 5 Mar (B's came after leaving, C's
    # before joining, E is another team's, A's 10 Mar was deleted, the ED attendance is not one).
    assert values(card, "emergency_admissions") == pytest.approx(
        [1 / (78 / PM) * 1000, 1 / (98 / PM) * 1000, 1 / (60 / PM) * 1000]
    )
    total = card.measure("emergency_admissions").overall.total
    assert total.numerator == 3
    assert total.value == pytest.approx(3 / (236 / PM) * 1000)


def test_readmissions_within_30_days_of_a_discharge(world: ScorecardWorld) -> None:
    card = card_for(world)
    # A discharged 15 Jan, back 5 Feb (day 21): readmitted. A discharged 8 Feb: not back.
    # D discharged 6 Mar: fewer than 30 days ago, left out. C's discharge was before joining.
    series = card.measure("readmissions").overall.series
    assert [(c.numerator, c.denominator) for c in series] == [(1, 1), (0, 1), (0, 0)]
    assert values(card, "readmissions") == [100, 0, None]
    assert card.measure("readmissions").overall.total.value == 50


@pytest.mark.parametrize(("days_later", "counted"), [(0, 0), (1, 1), (30, 1), (31, 0)])
def test_readmission_window_is_day_1_to_day_30(
    world: ScorecardWorld, days_later: int, counted: int
) -> None:
    from datetime import timedelta

    pid = world.people["D"]  # D's only other admission is on 5 Mar
    with world.ws.session() as s:
        # D discharged on 1 Jan and admitted again 0, 1, 30 or 31 days later.
        s.add(m.HealthEvent(patient_id=pid, kind=HealthEventKind.DISCHARGE.value,
                            occurred_on=d("2026-01-01")))  # fmt: skip
        s.add(m.HealthEvent(patient_id=pid, kind=HealthEventKind.EMERGENCY_ADMISSION.value,
                            occurred_on=d("2026-01-01") + timedelta(days=days_later)))  # fmt: skip
    jan = card_for(world).measure("readmissions").overall.series[0]
    # January also holds A's 15 Jan discharge, readmitted on 5 Feb.
    assert (jan.numerator, jan.denominator) == (1 + counted, 2)


def test_huddle_work(world: ScorecardWorld) -> None:
    card = card_for(world)
    # Discussed (not deferred) at this team's huddles: Jan A, B; Feb A, C, D; Mar A (E is not
    # in the team's cohorts; D's March discussion was at the other team's huddle).
    series = card.measure("people_discussed").overall.series
    assert [c.numerator for c in series] == [2, 3, 1]
    assert values(card, "people_discussed") == pytest.approx([2 / (31 / 7), 3 / 4, 1 / (20 / 7)])
    # Over the range: 6 person-weeks discussed in 79 days (11.3 weeks).
    total = card.measure("people_discussed").overall.total
    assert (total.numerator, total.value) == (6, pytest.approx(6 / (79 / 7)))
    # Actions agreed at huddles, by due date: Jan A on time, B late; Feb D overdue (C's was
    # cancelled); Mar A's due today and done (the one due 25 Mar is not due yet).
    actions = card.measure("actions_on_time").overall.series
    assert [(c.numerator, c.denominator) for c in actions] == [(1, 2), (0, 1), (1, 1)]
    assert card.measure("actions_on_time").overall.total.value == 50


def test_median_days_from_escalation_to_resolution(world: ScorecardWorld) -> None:
    card = card_for(world)
    # Resolved in January after 3 and 10.5 days (median 6.75); in February after 8.
    esc = card.measure("escalation_days")
    assert values(card, "escalation_days") == pytest.approx([6.75, 8, None])
    assert [c.denominator for c in esc.overall.series] == [2, 1, 0]
    assert esc.overall.total.value == pytest.approx(8)  # median of 3, 8, 10.5
    assert card.open_escalations == 1  # C's


def test_breakdown_by_deprivation_keeps_people_without_a_decile(world: ScorecardWorld) -> None:
    card = card_for(world, by=Breakdown.DEPRIVATION)
    labels = [g.label for g in card.measure("plan_coverage").groups]
    assert labels == ["1 (most deprived)", "2", "5 (least deprived)", "Not known"]
    # A (Q1): 2 admissions over 79 person-days.
    assert group(card, "emergency_admissions", "1 (most deprived)").value == pytest.approx(
        2 / (79 / PM) * 1000
    )
    # On 20 Mar: Q1 A covered; Q2 nobody left; Q5 D covered; not known C, plan closed.
    assert group(card, "plan_coverage", "1 (most deprived)").value == 100
    assert group(card, "plan_coverage", "2").value is None
    assert group(card, "plan_coverage", "Not known").value == 0
    # The breakdown adds up to the whole (no one dropped).
    people = sum(g.total.denominator or 0 for g in card.measure("plan_coverage").groups)
    assert people == card.measure("plan_coverage").overall.total.denominator == 3


def test_breakdown_by_age_practice_and_cohort(world: ScorecardWorld) -> None:
    by_age = card_for(world, by=Breakdown.AGE)
    labels = [g.label for g in by_age.measure("plan_coverage").groups]
    assert labels == ["18-64", "75-84", "85 and over"]  # B turns 76 only on 21 Mar
    by_practice = card_for(world, by=Breakdown.PRACTICE)
    labels = [g.label for g in by_practice.measure("emergency_admissions").groups]
    assert labels == ["Park Surgery", "Road Surgery", "Not known"]
    assert group(by_practice, "emergency_admissions", "Park Surgery").numerator == 2
    by_cohort = card_for(world, by=Breakdown.COHORT)
    cells = {g.label: g.total for g in by_cohort.measure("plan_coverage").groups}
    # D is in both cohorts, so counts in each; the whole counts them once.
    assert {k: c.denominator for k, c in cells.items()} == {"Frailty": 2, "Post-discharge": 2}


def test_each_cohort_counts_its_people_and_plans_over_its_own_enrolment(
    world: ScorecardWorld,
) -> None:
    # D leaves Post-discharge on 15 Feb but stays in Frailty (and so in the team's cohort).
    with world.ws.session() as s:
        membership = s.scalars(
            select(m.CohortMembership).where(
                m.CohortMembership.patient_id == world.people["D"],
                m.CohortMembership.cohort_id == world.post_discharge_id,
            )
        ).one()
        membership.discharged_on = d("2026-02-15")
    card = card_for(world, by=Breakdown.COHORT)

    def series(key: str, label: str) -> list[tuple[float | None, float | None]]:
        cells = next(g.series for g in card.measure(key).groups if g.label == label)
        return [(c.numerator, c.denominator) for c in cells]

    # Post-discharge: D 10 Jan - 14 Feb, C from 1 Feb (plan signed 5 Feb, closed 1 Mar).
    # 28 Feb: only C, covered; D's plan, still in force, is not Post-discharge's to count.
    assert series("plan_coverage", "Post-discharge") == [(1, 1), (1, 1), (0, 1)]
    assert series("plan_in_date", "Post-discharge") == [(1, 1), (1, 1), (0, 0)]
    # Person-days: Jan D 22; Feb C 28 + D 14; Mar C 20. D's 5 Mar admission is Frailty's.
    adm = series("emergency_admissions", "Post-discharge")
    assert [n for n, _ in adm] == [0, 0, 0]
    assert [den for _, den in adm] == pytest.approx([22 / PM, 42 / PM, 20 / PM])
    # Frailty: A, B (16 Jan - 14 Feb), D throughout.
    assert series("plan_coverage", "Frailty") == [(2, 3), (2, 2), (2, 2)]
    adm = series("emergency_admissions", "Frailty")
    assert [n for n, _ in adm] == [1, 1, 1]
    assert [den for _, den in adm] == pytest.approx([78 / PM, 70 / PM, 40 / PM])
    # The whole is as before: D is in the team's cohort throughout.
    cov = card.measure("plan_coverage").overall.series
    assert [(c.numerator, c.denominator) for c in cov] == [(2, 3), (3, 3), (2, 3)]


def test_one_cohort_only(world: ScorecardWorld) -> None:
    card = card_for(world, cohort_ids=(world.post_discharge_id,))
    # Post-discharge: D from 10 Jan (22 days in January), C from 1 Feb.
    adm = card.measure("emergency_admissions").overall.series
    assert [c.numerator for c in adm] == [0, 0, 1]
    assert adm[0].denominator == pytest.approx(22 / PM)
    assert card.cohort_names == ["Post-discharge"]


def test_weekly_periods_start_on_monday(world: ScorecardWorld) -> None:
    card = card_for(world, grain=Grain.WEEK)
    assert card.periods[0].start == d("2026-01-01")  # a Thursday: the first week is clipped
    assert card.periods[1].key == d("2026-01-05")  # Monday
    assert card.periods[-1].end == TODAY
    by_week = dict(
        zip([p.key for p in card.periods], values(card, "people_discussed"), strict=True)
    )
    assert by_week[d("2026-01-12")] == 2  # A and B on Tue 13 Jan


def test_scope_and_permissions(world: ScorecardWorld) -> None:
    with world.ws.session() as s:
        coordinator = current_actor(s)
        query = sc.ScorecardQuery(start=START, end=TODAY, team_ids=(world.other_team_id,))
        with pytest.raises(PermissionDenied):
            sc.scorecard(session=s, actor=coordinator, query=query, today=TODAY)
        vcse = m.Member(name="Val Sykes", role=Role.VCSE_WORKER.value)
        s.add(vcse)
        s.flush()
        s.add(m.TeamMembership(team_id=world.team_id, member_id=vcse.id))
        s.flush()
        with pytest.raises(PermissionDenied):
            sc.scorecard(
                session=s,
                actor=actor_for(s, vcse.id),
                query=sc.ScorecardQuery(start=START, end=TODAY),
                today=TODAY,
            )
        with pytest.raises(NotFound):
            sc.compute(s, team_ids=[uuid.uuid4()], query=query, today=TODAY)


def test_several_teams_with_a_team_breakdown(world: ScorecardWorld) -> None:
    with world.ws.session() as s:
        query = sc.ScorecardQuery(start=START, end=TODAY, by=Breakdown.TEAM)
        card = sc.compute(
            s, team_ids=[world.team_id, world.other_team_id], query=query, today=TODAY
        )
    adm = {g.label: g.total.numerator for g in card.measure("emergency_admissions").groups}
    assert adm == {"Kidlington INT": 3, "Witney INT": 1}  # E's 12 Jan admission
    assert card.measure("emergency_admissions").overall.total.numerator == 4


def test_targets_come_from_the_team_and_drive_the_assurance_icon(world: ScorecardWorld) -> None:
    with world.ws.session() as s:
        team = s.get(m.Team, world.team_id)
        assert team is not None
        team.config = {"scorecard_targets": {"plan_coverage": 50, "escalation_days": None}}
    card = card_for(world)
    assert card.measure("plan_coverage").target == 50
    assert card.measure("plan_coverage").chart.target == 50
    assert card.measure("escalation_days").target is None
    assert card.measure("actions_on_time").target == 90  # the default


def test_empty_workspace_team_has_no_values_not_errors(world: ScorecardWorld) -> None:
    with world.ws.session() as s:
        query = sc.ScorecardQuery(start=d("2020-01-01"), end=d("2020-03-31"))
        card = sc.compute(s, team_ids=[world.team_id], query=query, today=TODAY)
    assert card.nobody and card.people_now == 0
    assert all(
        c.value is None
        for mr in card.measures
        for c in mr.overall.series
        if mr.key != "people_discussed"  # nobody discussed: 0 a week
    )
    assert not card_for(world).nobody


def test_deprivation_from_a_quintile_only_extract(world: ScorecardWorld) -> None:
    with world.ws.session() as s:
        patient = s.get(m.Patient, world.people["C"])
        assert patient is not None and patient.deprivation_decile is None
        patient.deprivation_quintile = 3
    card = card_for(world, by=Breakdown.DEPRIVATION)
    labels = [g.label for g in card.measure("plan_coverage").groups]
    assert labels == ["1 (most deprived)", "2", "3", "5 (least deprived)"]  # no one not known
