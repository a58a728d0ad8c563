"""Each agenda rule on hand-built fixtures, roll-over, priority frequency, configuration as data."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from int_desk.domain import huddle_agenda as rules
from int_desk.domain.errors import PermissionDenied, ValidationError
from int_desk.domain.vocab import (
    CarePlanStatus,
    FlagCode,
    HealthEventKind,
    HuddleItemStatus,
    Priority,
    TaskStatus,
)
from int_desk.services import huddles as h
from tests.helpers.huddle_world import World, build_world


@pytest.fixture
def world(tmp_path: Path) -> Iterator[World]:
    w = build_world(tmp_path / "ws")
    yield w
    w.ws.close()


def only(code: str, **params: Any) -> dict[str, Any]:
    """A configuration with one rule enabled (with the given parameters) and the rest off."""
    cfg: dict[str, Any] = {"rules": {r: {"enabled": False} for r in rules.RULES}}
    cfg["rules"][code] = {"enabled": True, **params}
    return cfg


def agenda(
    world: World, config: dict[str, Any] | None = None, **kw: Any
) -> dict[uuid.UUID, h.AgendaCandidate]:
    with world.session() as s:
        result = h.compute_agenda(
            session=s,
            actor=world.actor(s),
            team_id=world.team_id,
            on=world.today,
            config=rules.resolve(config) if config is not None else None,
            **kw,
        )
    return {c.patient_id: c for c in result.items}


def test_newly_enrolled(world: World) -> None:
    new = world.patient("Ada New", enrolled_days_ago=3)
    old = world.patient("Bea Old", enrolled_days_ago=40)
    got = agenda(world, only("newly_enrolled", days=14))
    assert set(got) == {new}
    assert got[new].codes == ["newly_enrolled"]
    assert "Newly enrolled in the Frailty cohort" in got[new].reason_texts[0]
    assert "3 days ago" in got[new].reason_texts[0]
    # The look-back is a parameter: 60 days brings Bea in too.
    assert set(agenda(world, only("newly_enrolled", days=60))) == {new, old}


def test_recent_discharge(world: World) -> None:
    recent = world.patient("Cal Recent")
    world.event(recent, HealthEventKind.DISCHARGE.value, 2)
    older = world.patient("Dot Older")
    world.event(older, HealthEventKind.DISCHARGE.value, 10)
    admitted = world.patient("Eve Admitted")
    world.event(admitted, HealthEventKind.EMERGENCY_ADMISSION.value, 1)  # not a discharge
    got = agenda(world, only("recent_discharge", days=7))
    assert set(got) == {recent}
    assert got[recent].reason_texts == [
        f"Discharged from hospital {h.fmt_day(world.days_ago(2))} (2 days ago)"
    ]
    assert set(agenda(world, only("recent_discharge", days=14))) == {recent, older}


def test_event_rules_bring_someone_once_until_discussed(world: World) -> None:
    seen = world.patient("Cleo Seen", enrolled_days_ago=3)
    world.event(seen, HealthEventKind.DISCHARGE.value, 3)
    unseen = world.patient("Dev Unseen", enrolled_days_ago=3)
    world.event(unseen, HealthEventKind.DISCHARGE.value, 3)
    earlier = world.patient("Em Earlier", enrolled_days_ago=3)
    world.event(earlier, HealthEventKind.DISCHARGE.value, 3)
    world.past_huddle(1, [(seen, HuddleItemStatus.DISCUSSED)])
    world.past_huddle(5, [(earlier, HuddleItemStatus.DISCUSSED)])  # before the discharge
    assert set(agenda(world, only("recent_discharge"))) == {unseen, earlier}
    assert set(agenda(world, only("newly_enrolled"))) == {unseen, earlier}


def test_acute_event_since_last_huddle(world: World) -> None:
    world.past_huddle(3)
    ed = world.patient("Fay Ed")
    world.event(ed, HealthEventKind.ED_ATTENDANCE.value, 1)
    admission = world.patient("Gus Admission")
    world.event(admission, HealthEventKind.EMERGENCY_ADMISSION.value, 2)
    before_last = world.patient("Hal Before")
    world.event(before_last, HealthEventKind.ED_ATTENDANCE.value, 5)  # before the last huddle
    got = agenda(world, only("acute_event"))
    assert set(got) == {ed, admission}
    assert got[ed].reason_texts[0].startswith("ED attendance")
    assert "since the last huddle" in got[ed].reason_texts[0]
    assert got[admission].reason_texts[0].startswith("Emergency admission")
    # Kinds are configuration: only ED attendances.
    assert set(agenda(world, only("acute_event", kinds=["ed_attendance"]))) == {ed}


def test_acute_event_without_an_earlier_huddle_uses_the_look_back(world: World) -> None:
    ed = world.patient("Ida Ed")
    world.event(ed, HealthEventKind.ED_ATTENDANCE.value, 5)
    assert set(agenda(world, only("acute_event", first_huddle_days=7))) == {ed}
    assert set(agenda(world, only("acute_event", first_huddle_days=3))) == set()


def test_care_plan_review_due_or_overdue(world: World) -> None:
    overdue = world.patient("Jo Overdue")
    world.plan(overdue, -5, CarePlanStatus.ACTIVE)
    due = world.patient("Kit Due")
    world.plan(due, 3, CarePlanStatus.ACTIVE)
    later = world.patient("Lou Later")
    world.plan(later, 30, CarePlanStatus.ACTIVE)
    draft = world.patient("Mo Draft")
    world.plan(draft, -5, CarePlanStatus.DRAFT)  # only signed-off (active) plans are reviewed
    got = agenda(world, only("care_plan_review", due_within_days=7))
    assert set(got) == {overdue, due}
    assert "overdue" in got[overdue].reason_texts[0]
    assert got[due].reason_texts[0].startswith("Care-plan review due")


def test_open_escalation(world: World) -> None:
    open_ = world.patient("Ned Open")
    world.escalation(open_)
    resolved = world.patient("Ola Resolved")
    world.escalation(resolved, open_=False)
    got = agenda(world, only("open_escalation"))
    assert set(got) == {open_}
    assert got[open_].reason_texts[0].startswith("Open escalation, raised")


def test_overdue_tasks(world: World) -> None:
    late = world.patient("Pat Late")
    world.task(late, -2, TaskStatus.REQUESTED)
    world.task(late, -1, TaskStatus.IN_PROGRESS)
    done = world.patient("Quin Done")
    world.task(done, -2, TaskStatus.COMPLETED)
    soon = world.patient("Rae Soon")
    world.task(soon, 2, TaskStatus.REQUESTED)
    got = agenda(world, only("overdue_tasks"))
    assert set(got) == {late}
    assert got[late].reason_texts[0].startswith("2 overdue tasks")
    # Grace is configurable: only tasks overdue by 2+ days.
    assert got.keys() == agenda(world, only("overdue_tasks", overdue_by_days=2)).keys()
    assert agenda(world, only("overdue_tasks", overdue_by_days=3)) == {}


def test_add_to_huddle_flag(world: World) -> None:
    asked = world.patient("Sal Asked")
    world.flag(asked, FlagCode.ADD_TO_HUDDLE.value, note="Carer worried about falls")
    cleared = world.patient("Tom Cleared")
    world.flag(cleared, FlagCode.ADD_TO_HUDDLE.value, active=False)
    got = agenda(world, only("add_to_huddle_flag"))
    assert set(got) == {asked}
    assert got[asked].reason_texts[0].endswith(": Carer worried about falls")


def test_end_of_life_is_discussed_every_n_days(world: World) -> None:
    never = world.patient("Uma Never")
    world.flag(never, FlagCode.END_OF_LIFE.value)
    recent = world.patient("Vic Recent")
    world.flag(recent, FlagCode.END_OF_LIFE.value)
    stale = world.patient("Wyn Stale")
    world.flag(stale, FlagCode.END_OF_LIFE.value)
    world.past_huddle(2, [(recent, HuddleItemStatus.DISCUSSED)])
    world.past_huddle(10, [(stale, HuddleItemStatus.DISCUSSED)])
    got = agenda(world, only("end_of_life", every_days=7))
    assert set(got) == {never, stale}
    assert "not yet discussed" in got[never].reason_texts[0]
    assert f"last discussed {h.fmt_day(world.days_ago(10))}" in got[stale].reason_texts[0]
    assert set(agenda(world, only("end_of_life", every_days=1))) == {never, stale, recent}


def test_not_discussed_frequency_by_priority(world: World) -> None:
    high = world.patient("Xan High", priority=Priority.HIGH, enrolled_days_ago=200)
    medium = world.patient("Yul Medium", priority=Priority.MEDIUM, enrolled_days_ago=200)
    low = world.patient("Zed Low", priority=Priority.LOW, enrolled_days_ago=200)
    low_stale = world.patient("Abe Lowstale", priority=Priority.LOW, enrolled_days_ago=200)
    fresh = world.patient("Bo Fresh", priority=Priority.HIGH, enrolled_days_ago=2)
    world.past_huddle(8, [(high, HuddleItemStatus.DISCUSSED), (medium, HuddleItemStatus.DISCUSSED),
                          (low, HuddleItemStatus.DISCUSSED)])  # fmt: skip
    world.past_huddle(90, [(low_stale, HuddleItemStatus.DISCUSSED)])
    cfg = only("not_discussed")  # defaults: high 7, medium 28, low 84 days
    got = agenda(world, cfg)
    # 8 days: due for high priority only; 90 days: due even for low priority.
    assert set(got) == {high, low_stale}
    assert got[high].reason_texts == ["High priority: not discussed for 8 days (every 7 days)"]
    # Same score: higher priority comes first.
    assert list(got) == [high, low_stale]
    # Medium every 7 days too -> medium joins, placed after high and before low.
    cfg["rules"]["not_discussed"]["days_by_priority"] = {"medium": 7}
    assert list(agenda(world, cfg)) == [high, medium, low_stale]
    assert fresh not in got


def test_roll_over_of_deferred_and_not_reached_items(world: World) -> None:
    deferred = world.patient("Cy Deferred")
    unreached = world.patient("Di Unreached")
    discussed = world.patient("Ed Discussed")
    removed = world.patient("Flo Removed")
    items = world.past_huddle(
        1,
        [(deferred, HuddleItemStatus.DEFERRED), (unreached, HuddleItemStatus.PENDING),
         (discussed, HuddleItemStatus.DISCUSSED), (removed, HuddleItemStatus.REMOVED)],
        outcome="Awaiting GP review",
    )  # fmt: skip
    got = agenda(world, only("roll_over"))
    assert set(got) == {deferred, unreached}
    assert got[deferred].rolled_over_from_id == items[deferred]
    assert got[deferred].reason_texts == [
        f"Deferred at the huddle on {h.fmt_day(world.days_ago(1))}: Awaiting GP review"
    ]
    assert got[unreached].reason_texts[0].startswith("Not reached at the huddle")
    # Only the latest closed huddle rolls over: a later huddle that discussed them ends it.
    world.past_huddle(0, [(deferred, HuddleItemStatus.DISCUSSED)])
    assert agenda(world, only("roll_over")) == {}


def test_scope_is_the_teams_active_caseload(world: World) -> None:
    mine = world.patient("Gil Mine")
    gone = world.patient("Hana Gone", discharged=True)
    theirs = world.patient("Ivo Theirs", cohort="other")
    for pid in (mine, gone, theirs):
        world.escalation(pid)
    assert set(agenda(world, only("open_escalation"))) == {mine}


def _overflow(world: World, max_items: int) -> int | None:
    with world.session() as s:
        return h.compute_agenda(
            session=s, actor=world.actor(s), team_id=world.team_id, on=world.today,
            config=rules.resolve({"max_items": max_items}),
        ).overflow  # fmt: skip


def test_reasons_combine_and_rank_the_agenda_with_a_cap(world: World) -> None:
    assert _overflow(world, 3) == 0  # nobody on the caseload yet: none left over
    busy = world.patient("Jan Busy", priority=Priority.LOW, enrolled_days_ago=20)
    world.escalation(busy)
    world.event(busy, HealthEventKind.DISCHARGE.value, 1)
    world.task(busy, -3, TaskStatus.REQUESTED)
    flagged = world.patient("Kai Flagged", priority=Priority.MEDIUM, enrolled_days_ago=20)
    world.flag(flagged, FlagCode.ADD_TO_HUDDLE.value)
    others = [world.patient(f"Lee Other{i}", enrolled_days_ago=1) for i in range(5)]
    got = agenda(world)  # the defaults, all rules on
    order = list(got)
    assert order[:2] == [busy, flagged]
    assert got[busy].codes == ["open_escalation", "recent_discharge", "overdue_tasks"]
    assert got[busy].score == 70 + 60 + 20
    assert set(order[2:]) == set(others)
    with world.session() as s:
        capped = h.compute_agenda(
            session=s, actor=world.actor(s), team_id=world.team_id, on=world.today,
            config=rules.resolve({"max_items": 3}),
        )  # fmt: skip
    assert [c.patient_id for c in capped.items][:2] == [busy, flagged]
    assert len(capped.items) == 3 and capped.overflow == 4
    assert _overflow(world, 7) == 0 and _overflow(world, 6) == 1


def test_configuration_changes_the_agenda_without_code_changes(world: World) -> None:
    p = world.patient("Mia Config", enrolled_days_ago=20)
    world.event(p, HealthEventKind.DISCHARGE.value, 10)
    assert p not in agenda(world)  # defaults: discharge within 7 days, enrolled within 14
    with world.session() as s:
        h.set_agenda_config(
            session=s, actor=world.actor(s), team_id=world.team_id,
            config={"rules": {"recent_discharge": {"days": 14}}},
        )  # fmt: skip
    got = agenda(world)  # reads the team's stored configuration
    assert got[p].codes == ["recent_discharge"]
    with world.session() as s:
        stored = h.agenda_config(s, world.team_id)
        assert stored.rule("recent_discharge")["days"] == 14
        assert stored.rule("newly_enrolled")["days"] == 14  # untouched rules keep defaults
        h.set_agenda_config(
            session=s, actor=world.actor(s), team_id=world.team_id,
            config={"rules": {"recent_discharge": {"enabled": False}}},
        )  # fmt: skip
    assert p not in agenda(world)


@pytest.mark.parametrize(
    ("config", "field"),
    [
        ({"rules": {"gut_feeling": {}}}, "rules.gut_feeling"),
        ({"rules": {"recent_discharge": {"days": 0}}}, "rules.recent_discharge.days"),
        ({"rules": {"recent_discharge": {"days": "7"}}}, "rules.recent_discharge.days"),
        ({"rules": {"recent_discharge": {"enabled": "yes"}}}, "rules.recent_discharge.enabled"),
        ({"rules": {"recent_discharge": {"window": 3}}}, "rules.recent_discharge.window"),
        ({"rules": {"acute_event": {"kinds": ["fall"]}}}, "rules.acute_event.kinds"),
        ({"rules": {"not_discussed": {"days_by_priority": {"urgent": 1}}}},
         "rules.not_discussed.days_by_priority"),
        ({"max_items": 0}, "max_items"),
        ({"colour": "blue"}, "colour"),
    ],
)  # fmt: skip
def test_invalid_configuration_is_refused_with_the_field(
    world: World, config: dict[str, Any], field: str
) -> None:
    with pytest.raises(ValidationError) as info:
        rules.resolve(config)
    assert info.value.field == field
    with world.session() as s, pytest.raises(ValidationError):
        h.set_agenda_config(session=s, actor=world.actor(s), team_id=world.team_id, config=config)


def test_another_teams_agenda_is_refused(world: World) -> None:
    with world.session() as s, pytest.raises(PermissionDenied):
        h.compute_agenda(
            session=s, actor=world.actor(s), team_id=world.other_team_id, on=world.today
        )
