"""A hand-built team for scorecard tests: every fact a measure reads, placed on a known date.

Today is 20 Mar 2026 and the range 1 Jan - 20 Mar 2026 (January, February, March so far).
The expected figures in tests/test_scorecard.py are worked by hand from the table below.

  person  cohort(s)                              practice  IMD decile  born        age band
  A       Frailty from 1 Dec 2025                Park      1 (Q1)      1 Jun 1940  85 and over
  B       Frailty 16 Jan - 15 Feb 2026           Park      4 (Q2)      21 Mar 1950 75-84
  C       Post-discharge from 1 Feb 2026         -         -           1 Jan 1962  18-64
  D       Frailty from 1 Jun 2025, Post-discharge
          from 10 Jan 2026                       Road      10 (Q5)     1 Jan 1945  75-84
  E       the other team's cohort                Park      1           1 Jan 1940  (never counted)
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import UTC, date, datetime, time
from pathlib import Path

from int_desk.domain import nhs_number
from int_desk.domain.vocab import (
    CarePlanStatus,
    EscalationStatus,
    HealthEventKind,
    HuddleItemStatus,
    HuddleStatus,
    Role,
    TaskStatus,
)
from int_desk.services.identity import set_current_member
from int_desk.store import models as m
from int_desk.store.workspace import Workspace

PASSPHRASE = "correct horse battery staple"
TODAY = date(2026, 3, 20)
START = date(2026, 1, 1)


def d(text: str) -> date:
    return date.fromisoformat(text)


def at(text: str, hour: int = 9) -> datetime:
    return datetime.combine(d(text), time(hour, 0), tzinfo=UTC)


@dataclass
class ScorecardWorld:
    ws: Workspace
    team_id: uuid.UUID
    other_team_id: uuid.UUID
    frailty_id: uuid.UUID
    post_discharge_id: uuid.UUID
    coordinator_id: uuid.UUID
    people: dict[str, uuid.UUID]


def _number(n: int) -> str:
    k = n * 7919
    while (number := nhs_number.complete(f"999{k % 1_000_000:06d}")) is None:
        k += 1
    return number


def build_scorecard_world(directory: Path) -> ScorecardWorld:
    ws = Workspace.create(directory, PASSPHRASE, use_keyring=False)
    with ws.session() as s:
        place = m.Place(name="Oxfordshire")
        s.add(place)
        s.flush()
        team = m.Team(name="Kidlington INT", place_id=place.id, neighbourhood="Kidlington PCN")
        other = m.Team(name="Witney INT", place_id=place.id, neighbourhood="Witney PCN")
        s.add_all([team, other])
        s.flush()
        frailty = m.Cohort(team_id=team.id, name="Frailty")
        post = m.Cohort(team_id=team.id, name="Post-discharge")
        other_frailty = m.Cohort(team_id=other.id, name="Frailty")
        park = m.Organisation(name="Park Surgery", kind="gp_practice", code="K10001")
        road = m.Organisation(name="Road Surgery", kind="gp_practice", code="K10002")
        s.add_all([frailty, post, other_frailty, park, road])
        coordinator = m.Member(name="Dana Carrow", role=Role.CARE_COORDINATOR.value)
        lead = m.Member(name="Dr Lee Hart", role=Role.CLINICAL_LEAD.value)
        s.add_all([coordinator, lead])
        s.flush()
        s.add(m.TeamMembership(team_id=team.id, member_id=coordinator.id))
        s.add(m.TeamMembership(team_id=team.id, member_id=lead.id))
        set_current_member(s, coordinator.id)

        people: dict[str, uuid.UUID] = {}
        for n, (key, born, practice, decile) in enumerate(
            (
                ("A", "1940-06-01", park.id, 1),
                ("B", "1950-03-21", park.id, 4),
                ("C", "1962-01-01", None, None),
                ("D", "1945-01-01", road.id, 10),
                ("E", "1940-01-01", park.id, 1),
            ),
            start=1,
        ):
            p = m.Patient(
                nhs_number=_number(n), given_name=f"Person{key}", family_name="Test",
                date_of_birth=d(born), sex="female", postcode="OX5 1AB",
                practice_id=practice, deprivation_decile=decile,
            )  # fmt: skip
            s.add(p)
            s.flush()
            people[key] = p.id
        A, B, C, D, E = (people[k] for k in "ABCDE")  # noqa: N806 - the people's names

        def enrol(pid: uuid.UUID, cohort: m.Cohort, on: str, off: str | None = None) -> None:
            s.add(m.CohortMembership(cohort_id=cohort.id, patient_id=pid, enrolled_on=d(on),
                                     discharged_on=d(off) if off else None))  # fmt: skip

        enrol(A, frailty, "2025-12-01")
        enrol(B, frailty, "2026-01-16", "2026-02-15")
        enrol(C, post, "2026-02-01")
        enrol(D, frailty, "2025-06-01")
        enrol(D, post, "2026-01-10")
        enrol(E, other_frailty, "2025-01-01")

        def event(pid: uuid.UUID, kind: HealthEventKind, on: str, deleted: bool = False) -> None:
            s.add(m.HealthEvent(patient_id=pid, kind=kind.value, occurred_on=d(on),
                                source="Test trust", deleted=deleted))  # fmt: skip

        adm, dis = HealthEventKind.EMERGENCY_ADMISSION, HealthEventKind.DISCHARGE
        event(A, adm, "2026-01-10")
        event(A, dis, "2026-01-15")
        event(A, adm, "2026-02-05")  # 21 days after the last discharge: a readmission
        event(A, dis, "2026-02-08")
        event(A, HealthEventKind.ED_ATTENDANCE, "2026-03-01")  # not an admission
        event(A, adm, "2026-03-10", deleted=True)  # deleted: never counted
        event(B, adm, "2026-02-20")  # after B left the cohort
        event(C, adm, "2026-01-20")  # before C joined
        event(C, dis, "2026-01-25")
        event(D, adm, "2026-03-05")
        event(D, dis, "2026-03-06")  # under 30 days ago: follow-up not complete
        event(E, adm, "2026-01-12")  # the other team's

        def plan(pid: uuid.UUID, signed: str | None, review: str, status: CarePlanStatus,
                 series: uuid.UUID | None = None, updated: str | None = None) -> None:  # fmt: skip
            s.add(m.CarePlan(
                patient_id=pid, series_id=series or uuid.uuid4(), status=status.value,
                signed_off_at=at(signed) if signed else None, review_date=d(review),
                updated_at=at(updated) if updated else at("2026-03-01"),
            ))  # fmt: skip

        a_series = uuid.uuid4()
        plan(A, "2025-12-10", "2026-02-10", CarePlanStatus.SUPERSEDED, a_series)
        plan(A, "2026-02-20", "2026-06-01", CarePlanStatus.ACTIVE, a_series)
        plan(B, "2026-02-01", "2026-05-01", CarePlanStatus.ACTIVE)
        plan(C, None, "2026-05-01", CarePlanStatus.DRAFT)
        plan(C, "2026-02-05", "2026-05-01", CarePlanStatus.CLOSED, updated="2026-03-01")
        plan(D, "2025-09-01", "2026-02-01", CarePlanStatus.ACTIVE)

        items: dict[tuple[str, str], uuid.UUID] = {}

        def huddle(
            team_id: uuid.UUID, on: str, entries: list[tuple[str, HuddleItemStatus]]
        ) -> None:
            h = m.Huddle(team_id=team_id, scheduled_at=at(on), kind="weekly",
                         status=HuddleStatus.CLOSED.value, started_at=at(on))  # fmt: skip
            s.add(h)
            s.flush()
            for pos, (key, status) in enumerate(entries):
                item = m.HuddleItem(huddle_id=h.id, patient_id=people[key], position=pos,
                                    reasons=["test"], status=status.value)  # fmt: skip
                s.add(item)
                s.flush()
                items[(on, key)] = item.id

        disc, deferred = HuddleItemStatus.DISCUSSED, HuddleItemStatus.DEFERRED
        huddle(team.id, "2026-01-13", [("A", disc), ("B", disc), ("D", deferred)])
        huddle(team.id, "2026-02-10", [("A", disc), ("C", disc), ("D", disc)])
        huddle(team.id, "2026-03-10", [("A", disc), ("E", disc)])
        huddle(other.id, "2026-03-11", [("D", disc)])  # the other team's huddle

        def task(key: str, item: tuple[str, str] | None, due: str, status: TaskStatus,
                 done: str | None = None) -> None:  # fmt: skip
            s.add(m.Task(
                patient_id=people[key], description="Review medicines", status=status.value,
                due_on=d(due), completed_at=at(done, 15) if done else None,
                huddle_item_id=items[item] if item else None,
            ))  # fmt: skip

        done, open_ = TaskStatus.COMPLETED, TaskStatus.REQUESTED
        task("A", ("2026-01-13", "A"), "2026-01-20", done, "2026-01-19")  # on time
        task("B", ("2026-01-13", "B"), "2026-01-27", done, "2026-01-30")  # late
        task("C", ("2026-02-10", "C"), "2026-02-17", TaskStatus.CANCELLED)  # not counted
        task("D", ("2026-02-10", "D"), "2026-02-24", open_)  # overdue: not done on time
        task("A", ("2026-03-10", "A"), "2026-03-25", open_)  # not due yet: not counted
        task("A", ("2026-03-10", "A"), "2026-03-20", done, "2026-03-19")  # due today, done
        task("A", None, "2026-02-01", done, "2026-02-05")  # not a huddle action

        def escalation(key: str, raised: datetime, resolved: datetime | None) -> None:
            s.add(m.Escalation(
                patient_id=people[key], reason="Carer breakdown", raised_at=raised,
                status=(EscalationStatus.RESOLVED if resolved else EscalationStatus.OPEN).value,
                resolved_at=resolved,
            ))  # fmt: skip

        escalation("A", at("2026-01-05"), at("2026-01-08"))  # 3 days
        escalation("B", at("2026-01-10"), at("2026-01-20", 21))  # 10.5 days
        escalation("D", at("2026-01-25"), at("2026-02-02"))  # 8 days
        escalation("C", at("2026-03-01"), None)  # still open
        escalation("E", at("2026-01-02"), at("2026-01-03"))  # the other team's
        return ScorecardWorld(ws, team.id, other.id, frailty.id, post.id, coordinator.id, people)
