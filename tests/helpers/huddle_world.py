"""A small, hand-built team for huddle tests: every fact an agenda rule reads is placed on purpose.

Real encrypted workspace, real ORM rows; no demo randomness, so each rule's inputs are explicit.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from pathlib import Path

from sqlalchemy.orm import Session

from int_desk.domain import nhs_number
from int_desk.domain.actor import Actor
from int_desk.domain.vocab import (
    CarePlanStatus,
    EscalationStatus,
    HuddleItemStatus,
    HuddleStatus,
    Priority,
    Role,
    TaskStatus,
)
from int_desk.services.identity import actor_for, set_current_member
from int_desk.store import models as m
from int_desk.store.workspace import Workspace

PASSPHRASE = "correct horse battery staple"


@dataclass
class World:
    ws: Workspace
    team_id: uuid.UUID
    other_team_id: uuid.UUID
    cohort_id: uuid.UUID
    cohort2_id: uuid.UUID
    other_cohort_id: uuid.UUID
    coordinator_id: uuid.UUID
    nurse_id: uuid.UUID
    gp_id: uuid.UUID
    pharmacist_id: uuid.UUID  # visiting
    today: date = field(default_factory=date.today)
    _n: int = 0

    @contextmanager
    def session(self) -> Iterator[Session]:
        with self.ws.session() as s:
            yield s

    def actor(self, s: Session, member_id: uuid.UUID | None = None) -> Actor:
        return actor_for(s, member_id or self.coordinator_id)

    def days_ago(self, n: int) -> date:
        return self.today - timedelta(days=n)

    def at(self, days_ago: int, hour: int = 9) -> datetime:
        return datetime.combine(self.days_ago(days_ago), time(hour, 0)).astimezone(UTC)

    def patient(
        self,
        name: str,
        *,
        priority: Priority = Priority.MEDIUM,
        enrolled_days_ago: int = 3,
        cohort: str = "main",
        discharged: bool = False,
    ) -> uuid.UUID:
        """A person enrolled in the team's cohort (or the other team's, cohort='other')."""
        self._n += 1
        given, _, family = name.partition(" ")
        number = None
        k = self._n * 7919
        while number is None:
            number = nhs_number.complete(f"999{k % 1_000_000:06d}")
            k += 1
        cohort_id = {
            "main": self.cohort_id,
            "second": self.cohort2_id,
            "other": self.other_cohort_id,
        }[cohort]
        with self.ws.session() as s:
            p = m.Patient(
                nhs_number=number,
                given_name=given,
                family_name=family or "Test",
                date_of_birth=date(1938, 5, 17),
                sex="female",
                postcode="OX26 1AB",
                long_term_conditions="COPD, Heart failure",
            )
            s.add(p)
            s.flush()
            s.add(
                m.CohortMembership(
                    cohort_id=cohort_id,
                    patient_id=p.id,
                    enrolled_on=self.days_ago(enrolled_days_ago),
                    priority=priority.value,
                    lead_member_id=self.nurse_id,
                    discharged_on=self.days_ago(1) if discharged else None,
                )
            )
            return p.id

    def add(self, row: object) -> None:
        with self.ws.session() as s:
            s.add(row)

    def event(self, pid: uuid.UUID, kind: str, days_ago: int) -> None:
        self.add(m.HealthEvent(patient_id=pid, kind=kind, occurred_on=self.days_ago(days_ago)))

    def flag(self, pid: uuid.UUID, code: str, *, active: bool = True, note: str = "") -> None:
        self.add(
            m.Flag(patient_id=pid, code=code, active=active, since=self.days_ago(2), note=note)
        )

    def plan(self, pid: uuid.UUID, review_in_days: int, status: CarePlanStatus) -> None:
        self.add(
            m.CarePlan(
                patient_id=pid,
                series_id=uuid.uuid4(),
                status=status.value,
                review_date=self.today + timedelta(days=review_in_days),
                what_matters="Staying at home with my cat",
            )
        )

    def task(self, pid: uuid.UUID, due_in_days: int, status: TaskStatus) -> None:
        self.add(
            m.Task(
                patient_id=pid,
                description="Check blister pack",
                status=status.value,
                owner_member_id=self.nurse_id,
                due_on=self.today + timedelta(days=due_in_days),
            )
        )

    def escalation(self, pid: uuid.UUID, *, open_: bool = True) -> None:
        self.add(
            m.Escalation(
                patient_id=pid,
                reason="Carer breakdown",
                raised_at=self.at(4),
                status=(EscalationStatus.OPEN if open_ else EscalationStatus.RESOLVED).value,
            )
        )

    def past_huddle(
        self,
        days_ago: int,
        items: list[tuple[uuid.UUID, HuddleItemStatus]] | None = None,
        *,
        team_id: uuid.UUID | None = None,
        outcome: str = "",
    ) -> dict[uuid.UUID, uuid.UUID]:
        """A closed huddle `days_ago` with items in the given states; returns patient -> item."""
        out = {}
        with self.ws.session() as s:
            h = m.Huddle(
                team_id=team_id or self.team_id,
                scheduled_at=self.at(days_ago),
                kind="daily",
                chair_id=self.coordinator_id,
                status=HuddleStatus.CLOSED.value,
                started_at=self.at(days_ago),
                closed_at=self.at(days_ago, 10),
            )
            s.add(h)
            s.flush()
            for pos, (pid, status) in enumerate(items or []):
                it = m.HuddleItem(
                    huddle_id=h.id,
                    patient_id=pid,
                    position=pos,
                    reasons=["earlier"],
                    status=status.value,
                    outcome=outcome if status is HuddleItemStatus.DEFERRED else "",
                )
                s.add(it)
                s.flush()
                out[pid] = it.id
        return out


def build_world(directory: Path) -> World:
    ws = Workspace.create(directory, PASSPHRASE, use_keyring=False)
    with ws.session() as s:
        place = m.Place(name="Oxfordshire")
        s.add(place)
        s.flush()
        team = m.Team(name="Kidlington INT", place_id=place.id, neighbourhood="Kidlington PCN")
        other = m.Team(name="Witney INT", place_id=place.id, neighbourhood="Witney PCN")
        s.add_all([team, other])
        s.flush()
        cohort = m.Cohort(team_id=team.id, name="Frailty")
        cohort2 = m.Cohort(team_id=team.id, name="Post-discharge")
        other_cohort = m.Cohort(team_id=other.id, name="Frailty")
        s.add_all([cohort, cohort2, other_cohort])
        people = {}
        for key, name, role, visiting in (
            ("coordinator", "Dana Carrow", Role.CARE_COORDINATOR, False),
            ("nurse", "Nia Okafor", Role.DISTRICT_NURSE, False),
            ("gp", "Dr Sam Patel", Role.GP, False),
            ("pharmacist", "Zoë Lindqvist", Role.COMMUNITY_PHARMACIST, True),
        ):
            member = m.Member(name=name, role=role.value)
            s.add(member)
            s.flush()
            s.add(m.TeamMembership(team_id=team.id, member_id=member.id, visiting=visiting))
            people[key] = member.id
        s.flush()
        set_current_member(s, people["coordinator"])
        return World(
            ws=ws,
            team_id=team.id,
            other_team_id=other.id,
            cohort_id=cohort.id,
            cohort2_id=cohort2.id,
            other_cohort_id=other_cohort.id,
            coordinator_id=people["coordinator"],
            nurse_id=people["nurse"],
            gp_id=people["gp"],
            pharmacist_id=people["pharmacist"],
        )
