"""Two years of history for the demo, so the scorecard's charts have something to show.

Emergency admissions, discharges and readmissions; weekly MDT huddles with the people discussed
and the actions agreed (done on time or late); escalations and how long they took to resolve;
a few people with no deprivation decile. The history has ordinary variation and, on purpose,
special causes a Place analyst would spot on an SPC chart: a winter spike in admissions (a point
beyond the upper limit) and, from about nine months ago, fewer admissions as the INT's proactive
care takes hold (a run below the mean).

It draws from its own random generator (seeded from the demo's seed), so the rest of the demo is
exactly what it was before the history existed. Everything ends before the recent weeks the
demo's live data covers: no open tasks, no open escalations, no events the huddle agenda's
look-back rules would pick up.
"""

from __future__ import annotations

import bisect
import math
import random
import uuid
from collections.abc import Callable, Sequence
from datetime import UTC, date, datetime, time, timedelta
from typing import Any

from int_desk.domain.vocab import (
    EscalationStatus,
    HealthEventKind,
    HuddleItemStatus,
    HuddleKind,
    HuddleStatus,
    Priority,
    Role,
    TaskKind,
    TaskStatus,
)
from int_desk.services import demo_data as words
from int_desk.store import models as m

MONTHS = 25  # a little over two years, so a 24-month scorecard starts full
ADMISSIONS_END_DAYS = 30  # the demo's live events cover the last month
HUDDLES_END_DAYS = 14  # the demo's live huddles are in the last week
BASE_RATE = 0.05  # emergency admissions per person per month (0.6 a year): frail, high risk
INT_EFFECT_FROM_MONTHS = 9  # months ago proactive care starts to lower admissions
INT_EFFECT = 0.6
SPIKE_MONTHS_AGO = 13  # one winter month with an outbreak
SPIKE = 2.0
READMIT_CHANCE = 0.14
NO_DECILE_CHANCE = 0.04
LAUNCH_DAYS = 760  # the INT's first PHM list was imported about 25 months ago
LATER_ENROLMENT_SHARE = 0.4

_PROVIDERS = {
    "Oxfordshire": "Oxford University Hospitals NHS FT (demo)",
    "Berkshire West": "Royal Berkshire NHS FT (demo)",
    "Buckinghamshire": "Buckinghamshire Healthcare NHS Trust (demo)",
}


def enrolled_days_ago(draw: int) -> int:
    """Map the demo's enrolment draw (0-700 days) onto a launch list plus later additions.

    Most people came on the INT's first PHM list at launch; the rest were added steadily since.
    One draw in, one value out: the demo's random sequence is unchanged.
    """
    cut = int(700 * LATER_ENROLMENT_SHARE)
    if draw < cut:
        return draw * 700 // cut
    return LAUNCH_DAYS - (draw - cut) % 30


def signed_days_ago(consent_days_ago: int) -> int:
    """Spread the demo's consent dates (60-300 days ago) over the INT's two years."""
    return 60 + (consent_days_ago - 60) * 26 // 10


class History:
    """Adds history rows through ``add`` (the demo's buffer), with ids from its own generator."""

    def __init__(self, seed: int, today: date, add: Callable[..., uuid.UUID]) -> None:
        self.rng = random.Random(f"int-desk-demo-history-{seed}")
        self.today = today
        self.now = datetime.combine(today, time(8, 0), tzinfo=UTC)
        self._add = add
        self.people: dict[uuid.UUID, list[tuple[uuid.UUID, date, date | None, str]]] = {}
        self.provider: dict[uuid.UUID, str] = {}
        self.months = self._months()

    def add(self, model: type, **values: Any) -> uuid.UUID:
        values.setdefault("id", uuid.UUID(int=self.rng.getrandbits(128), version=4))
        return self._add(model, **values)

    def at(self, day: date, hour: int = 9) -> datetime:
        return datetime.combine(day, time(hour, 0), tzinfo=UTC)

    # -- per person ------------------------------------------------------------------------

    def decile(self, drawn: int) -> int | None:
        return None if self.rng.random() < NO_DECILE_CHANCE else drawn

    def person(
        self,
        pid: uuid.UUID,
        team: uuid.UUID,
        place: str,
        memberships: list[tuple[date, date | None, str]],
        frailty: float,
    ) -> None:
        """Remember the person for the huddles, and write their hospital history."""
        self.provider.setdefault(team, _PROVIDERS.get(place, "Acute trust (demo)"))
        self.people.setdefault(team, []).extend((pid, s, e, p) for s, e, p in memberships)
        self._admissions(pid, self.provider[team], frailty)

    def _months(self) -> list[tuple[date, float]]:
        """Each month of the history (its first day) and its admission rate per person."""
        out = []
        last = self.today - timedelta(days=ADMISSIONS_END_DAYS)
        day = (self.today - timedelta(days=MONTHS * 30)).replace(day=1)
        while day <= last:
            months_ago = (self.today.year - day.year) * 12 + self.today.month - day.month
            rate = BASE_RATE
            if day.month in (12, 1, 2):
                rate *= 1.25
            if months_ago == SPIKE_MONTHS_AGO:
                rate *= SPIKE
            if months_ago < INT_EFFECT_FROM_MONTHS:
                rate *= INT_EFFECT
            out.append((day, rate))
            day = (day + timedelta(days=32)).replace(day=1)
        return out

    def _admissions(self, pid: uuid.UUID, provider: str, frailty: float) -> None:
        rng = self.rng
        last = self.today - timedelta(days=ADMISSIONS_END_DAYS)
        busy_until = self.months[0][0]
        for month_start, rate in self.months:
            if rng.random() >= rate * frailty:
                continue
            admitted = max(busy_until, month_start + timedelta(days=rng.randint(0, 27)))
            if admitted > last:
                break
            busy_until = self._spell(pid, provider, admitted, last)
            # Frail people discharged home are often back within a month.
            if rng.random() < READMIT_CHANCE:
                again = busy_until + timedelta(days=rng.randint(1, 30))
                if again <= last:
                    busy_until = self._spell(pid, provider, again, last)

    def _spell(self, pid: uuid.UUID, provider: str, admitted: date, last: date) -> date:
        stay = max(0, int(self.rng.lognormvariate(1.5, 0.8)))
        discharged = admitted + timedelta(days=stay)
        self.add(m.HealthEvent, patient_id=pid, kind=HealthEventKind.EMERGENCY_ADMISSION.value,
                 occurred_on=admitted, source=provider)  # fmt: skip
        if discharged <= last:
            self.add(m.HealthEvent, patient_id=pid, kind=HealthEventKind.DISCHARGE.value,
                     occurred_on=discharged, source=provider)  # fmt: skip
        return discharged + timedelta(days=1)

    # -- per team, once everyone is known -------------------------------------------------------

    def team_work(self, team: uuid.UUID, members: list[tuple[uuid.UUID, Role]]) -> None:
        """Weekly MDT meetings over two years, with actions and escalations."""
        rng = self.rng
        people = sorted(self.people.get(team, ()), key=lambda r: (r[1], r[0].int))
        if not people:
            return
        starts = [p[1] for p in people]
        by_role: dict[Role, list[uuid.UUID]] = {}
        for mid, role in members:
            by_role.setdefault(role, []).append(mid)
        chair = by_role[Role.CARE_COORDINATOR][0]
        lead = by_role[Role.CLINICAL_LEAD][0]
        staff = [mid for mid, _role in members]
        owners = [r for r in by_role if r not in (Role.ADMIN, Role.VCSE_WORKER)]
        last = self.today - timedelta(days=HUDDLES_END_DAYS)
        day = self.today - timedelta(days=MONTHS * 30)
        day -= timedelta(days=day.weekday() - 1)  # Tuesdays
        while day <= last:
            # Everyone enrolled by this day is a candidate (sampled, not listed: 50,000 people).
            known = bisect.bisect_right(starts, day)

            def pick(high_first: bool, day: date = day, known: int = known) -> uuid.UUID | None:
                for _ in range(20):
                    pid, _s, ended, priority = people[rng.randrange(known)]
                    if ended is not None and ended <= day:
                        continue
                    if high_first and priority != Priority.HIGH.value and rng.random() < 0.6:
                        continue
                    return pid
                return None

            if known:
                chosen = dict.fromkeys(
                    p for p in (pick(True) for _ in range(rng.randint(8, 13))) if p is not None
                )
                self._huddle(team, day, list(chosen), chair, staff, by_role, owners, last)
                # About one escalation a week per team, resolved in days (median about five).
                for _ in range(rng.choice((0, 1, 1, 1, 2))):
                    pid = pick(False)
                    if pid is not None:
                        self._escalation(pid, day, staff, lead)
            day += timedelta(days=7)

    def _escalation(
        self, pid: uuid.UUID, day: date, staff: list[uuid.UUID], lead: uuid.UUID
    ) -> None:
        rng = self.rng
        raised = self.at(day + timedelta(days=rng.randint(0, 6)), rng.randint(8, 17))
        delay = timedelta(hours=max(2.0, rng.lognormvariate(math.log(110), 0.8)))
        resolved = min(raised + delay, self.at(self.today - timedelta(days=2)))
        self.add(m.Escalation, patient_id=pid, raised_by=rng.choice(staff), raised_at=raised,
                 reason=rng.choice(words.ESCALATIONS), status=EscalationStatus.RESOLVED.value,
                 resolved_by=lead, resolved_at=resolved, resolution="Agreed plan at MDT",
                 created_at=raised, updated_at=resolved)  # fmt: skip

    def _huddle(
        self,
        team: uuid.UUID,
        day: date,
        chosen: list[uuid.UUID],
        chair: uuid.UUID,
        staff: list[uuid.UUID],
        by_role: dict[Role, list[uuid.UUID]],
        owners: Sequence[Role],
        last: date,
    ) -> None:
        rng = self.rng
        when = self.at(day)
        hid = self.add(
            m.Huddle, team_id=team, scheduled_at=when, kind=HuddleKind.WEEKLY.value,
            chair_id=chair, status=HuddleStatus.CLOSED.value, started_at=when,
            closed_at=when + timedelta(minutes=45), minutes="Weekly MDT meeting (demo history).",
            created_at=when, updated_at=when + timedelta(minutes=45),
        )  # fmt: skip
        self.add(m.HuddleAttendee, huddle_id=hid, member_id=chair)  # (the rest: not needed)
        for pos, pid in enumerate(chosen):
            deferred = rng.random() < 0.06
            item = self.add(
                m.HuddleItem, huddle_id=hid, patient_id=pid, position=pos,
                reasons=["Due for discussion"],
                status=(HuddleItemStatus.DEFERRED if deferred else HuddleItemStatus.DISCUSSED).value,
                outcome="" if deferred else "Discussed; actions agreed.", decisions="",
                seconds_spent=0 if deferred else rng.randint(60, 300),
            )  # fmt: skip
            if deferred or rng.random() > 0.35:
                continue
            self._action(item, pid, team, day, by_role, owners, chair, last)

    def _action(
        self,
        item: uuid.UUID,
        pid: uuid.UUID,
        team: uuid.UUID,
        day: date,
        by_role: dict[Role, list[uuid.UUID]],
        owners: Sequence[Role],
        chair: uuid.UUID,
        last: date,
    ) -> None:
        rng = self.rng
        due = min(day + timedelta(days=rng.choice((2, 3, 7, 7, 14, 21))), last)
        role = rng.choice(owners)
        if rng.random() < 0.05:
            status, done = TaskStatus.CANCELLED, None
        else:
            status = TaskStatus.COMPLETED
            # Mostly on time; a tail of late ones (never after the history ends).
            late = rng.random() < 0.17
            offset = rng.randint(1, 12) if late else -rng.randint(0, 4)
            done_day = min(max(day, due + timedelta(days=offset)), self.today - timedelta(days=1))
            done = self.at(done_day, rng.randint(9, 17))
        self.add(
            m.Task, patient_id=pid, kind=TaskKind.TASK.value,
            description=rng.choice(words.TASKS), status=status.value, owner_team_id=team,
            owner_role=role.value, owner_member_id=rng.choice(by_role[role]),
            requester_id=chair, due_on=due, completed_at=done, huddle_item_id=item,
            created_at=self.at(day), updated_at=done or self.at(due),
        )  # fmt: skip
