"""Build a synthetic, realistic demo workspace across the three BOB Places.

Deterministic for (seed, today): ids come from the seeded generator, timestamps from ``today``.
NHS numbers are from the 999 test range with valid check digits. Rows go in through Core bulk
inserts in one transaction, so 100,000 patients take seconds, not minutes.
"""

from __future__ import annotations

import random
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from typing import Any

from sqlalchemy import Connection, insert
from sqlalchemy.orm import Session

from int_desk.domain import nhs_number
from int_desk.domain.uk_time import london_today
from int_desk.domain.vocab import (
    AuditAction,
    CarePlanStatus,
    ConsentDecision,
    ContactKind,
    EscalationStatus,
    FlagCode,
    HealthEventKind,
    HuddleItemStatus,
    HuddleKind,
    HuddleStatus,
    Priority,
    ReferralService,
    ReferralStatus,
    Role,
    Sex,
    TaskKind,
    TaskStatus,
)
from int_desk.domain.vocab import OrganisationKind as Kind
from int_desk.services import demo_data as words
from int_desk.services.demo_history import History, enrolled_days_ago, signed_days_ago
from int_desk.services.identity import set_current_member
from int_desk.store import audit
from int_desk.store import models as m
from int_desk.store.base import Base

DEFAULT_PATIENTS = 750

# (place, team, neighbourhood, postcode districts, cohorts, huddle kind)
TEAMS = (
    ("Oxfordshire", "Bicester INT", "Bicester PCN", ("OX25", "OX26", "OX27"),
     ("Frailty", "Post-discharge"), HuddleKind.DAILY),
    ("Berkshire West", "Reading West INT", "Reading West PCN", ("RG1", "RG30", "RG31"),
     ("Multimorbidity", "Frailty"), HuddleKind.WEEKLY),
    ("Buckinghamshire", "Aylesbury Vale INT", "Aylesbury Central PCN", ("HP19", "HP20", "HP21"),
     ("Frailty", "Housebound"), HuddleKind.DAILY),
)  # fmt: skip
TEAM_ROLES = (
    Role.CLINICAL_LEAD, Role.GP, Role.GP, Role.CARE_COORDINATOR, Role.CARE_COORDINATOR,
    Role.DISTRICT_NURSE, Role.DISTRICT_NURSE, Role.COMMUNITY_MATRON, Role.PRACTICE_NURSE,
    Role.SOCIAL_PRESCRIBER, Role.CLINICAL_PHARMACIST, Role.SOCIAL_WORKER,
    Role.MENTAL_HEALTH_PRACTITIONER, Role.PHYSIO_OT, Role.HEALTH_WELLBEING_COACH,
    Role.VCSE_WORKER, Role.ADMIN,
)  # fmt: skip
CHUNK = 5000
PATIENT_BATCH = 2000


@dataclass
class DemoSummary:
    patients: int
    teams: int
    members: int
    rows: dict[str, int] = field(default_factory=dict)
    current_member_id: uuid.UUID | None = None


class _Gen:
    def __init__(self, seed: int, today: date) -> None:
        self.rng = random.Random(seed)
        self.today = today
        self.now = datetime.combine(today, time(8, 0), tzinfo=UTC)
        self.rows: dict[type, list[dict[str, Any]]] = {}
        self.team_patients: dict[uuid.UUID, set[uuid.UUID]] = {}
        # Two years of scorecard history, from its own generator (the rest stays as it was).
        self.history = History(seed, today, self.add)

    def uid(self) -> uuid.UUID:
        # Version-4-shaped ids from the seeded generator keep the demo deterministic.
        return uuid.UUID(int=self.rng.getrandbits(128), version=4)

    def days_ago(self, lo: int, hi: int) -> date:
        return self.today - timedelta(days=self.rng.randint(lo, hi))

    def add(self, model: type, **values: Any) -> uuid.UUID:
        if "id" not in values:  # (setdefault would draw an id even when one is given)
            values["id"] = self.uid()
        values.setdefault("created_at", self.now)
        values.setdefault("updated_at", self.now)
        values.setdefault("deleted", False)
        self.rows.setdefault(model, []).append(values)
        return values["id"]

    def nhs_numbers(self, n: int) -> Iterator[str]:
        seen = 0
        for middle in self.rng.sample(range(1_000_000), min(1_000_000, int(n * 1.15) + 50)):
            number = nhs_number.complete(f"999{middle:06d}")
            if number:
                yield number
                seen += 1
                if seen == n:
                    return
        raise ValueError("too many patients for the 999 test range")


def build_demo(
    session: Session,
    *,
    patients: int = DEFAULT_PATIENTS,
    seed: int = 1,
    today: date | None = None,
    progress: Callable[[int, int], None] | None = None,
) -> DemoSummary:
    """Fill an empty, migrated store with the demo; sets the current member (a coordinator)."""
    if patients < 1 or patients > 200_000:
        raise ValueError("patients must be between 1 and 200,000")
    g = _Gen(seed, today or london_today())
    conn = session.connection()
    counts: dict[str, int] = {}
    teams, members_by_team, practices = _organisation(g)

    def flush(done: int) -> None:
        # Write what is buffered so memory stays flat however many patients there are.
        _write(conn, g, counts)
        if progress:
            progress(done, patients)

    _patients(g, patients, teams, members_by_team, practices, flush)
    _huddles(g, teams, members_by_team)
    for team in teams:
        g.history.team_work(team, members_by_team[team])
    flush(patients)
    from int_desk.services.gp_notify import add_demo_notifications  # after: own random stream

    counts["gp_notification"] = add_demo_notifications(session, seed=seed)
    coordinator = next(
        mid for mid, role in members_by_team[teams[0]] if role is Role.CARE_COORDINATOR
    )
    set_current_member(session, coordinator)
    from int_desk.store.caseload_index import (
        rebuild_index,
    )  # derived cache, built while data is hot

    rebuild_index(session)
    audit.record(
        session, actor_id=None, action=AuditAction.EXECUTE, entity_type="workspace",
        detail=f"demo built: patients={patients} seed={seed}",
    )  # fmt: skip
    return DemoSummary(patients, len(teams), counts["member"], counts, coordinator)


def _org(g: _Gen, place_id: uuid.UUID, name: str, kind: Kind, code: str | None = None) -> uuid.UUID:
    """A demo organisation of the place (its name says it is the demo's)."""
    return g.add(
        m.Organisation, name=f"{name} (demo)", kind=kind.value, code=code, place_id=place_id
    )


def _organisation(
    g: _Gen,
) -> tuple[list[uuid.UUID], dict[uuid.UUID, list[tuple[uuid.UUID, Role]]], dict]:
    teams: list[uuid.UUID] = []
    members_by_team: dict[uuid.UUID, list[tuple[uuid.UUID, Role]]] = {}
    practices: dict[uuid.UUID, list[tuple[uuid.UUID, tuple[str, ...]]]] = {}
    # Walk given and family names at different strides: distinct pairs, not 16 "Ashdown"s.
    given, family = words.STAFF_GIVEN, words.STAFF_FAMILY
    staff_names = iter(
        f"{given[i % len(given)]} {family[(i + i // len(given)) % len(family)]}" for i in range(160)
    )
    pharmacy = None
    for i, (place, team, hood, districts, cohorts, kind) in enumerate(TEAMS):
        place_id = g.add(m.Place, name=place)
        community = _org(g, place_id, f"{place} Community Health Services", Kind.COMMUNITY_TRUST)
        council = _org(g, place_id, f"{place} Council Adult Social Care", Kind.COUNCIL)
        vcse = _org(g, place_id, f"{place} Age Friendly Volunteers", Kind.VCSE)
        pharmacy = _org(g, place_id, f"{hood} Community Pharmacy", Kind.PHARMACY)
        team_id = g.add(
            m.Team,
            name=team,
            place_id=place_id,
            neighbourhood=hood,
            huddle_kind=kind.value,
            # Ofcom's numbers for drama (01632 960xxx) and the reserved .example domain.
            phone=f"01632 960{100 + i:03d}",
            email=f"{team.lower().replace(' ', '.')}@nhs.example",
            config={},
        )
        teams.append(team_id)
        practices[team_id] = []
        for p in range(3):
            code = f"X9{i}{p:03d}"
            name = f"{hood.split()[0]} {('Park', 'Road', 'Green')[p]} Surgery"
            pid = _org(g, place_id, name, Kind.GP_PRACTICE, code)
            practices[team_id].append((pid, districts))
        for c in cohorts:
            g.add(
                m.Cohort,
                team_id=team_id,
                name=c,
                description=f"{c} cohort identified from the {place} PHM extract (demo)",
            )
        members: list[tuple[uuid.UUID, Role]] = []
        for role in TEAM_ROLES:
            org = {
                Role.GP: practices[team_id][0][0],
                Role.SOCIAL_WORKER: council,
                Role.VCSE_WORKER: vcse,
            }.get(role, community)
            mid = g.add(
                m.Member,
                name=next(staff_names),
                role=role.value,
                organisation_id=org,
                email=None,
                active=True,
            )
            g.add(m.TeamMembership, team_id=team_id, member_id=mid, visiting=False)
            members.append((mid, role))
        # A community pharmacist visits the weekly meeting.
        mid = g.add(
            m.Member,
            name=next(staff_names),
            role=Role.COMMUNITY_PHARMACIST.value,
            organisation_id=pharmacy,
            email=None,
            active=True,
        )
        g.add(m.TeamMembership, team_id=team_id, member_id=mid, visiting=True)
        members.append((mid, Role.COMMUNITY_PHARMACIST))
        members_by_team[team_id] = members
    return teams, members_by_team, practices  # fmt: skip


def _age(g: _Gen) -> int:
    # Skewed elderly: most 70-95, a tail of younger people with multimorbidity.
    if g.rng.random() < 0.12:
        return g.rng.randint(35, 64)
    return min(104, int(g.rng.triangular(65, 100, 83)))


def _patients(
    g: _Gen,
    n: int,
    teams: list,
    members_by_team: dict,
    practices: dict,
    flush: Callable[[int], None],
) -> None:
    cohorts_by_team: dict[uuid.UUID, list[tuple[uuid.UUID, str]]] = {}
    for row in g.rows[m.Cohort]:
        cohorts_by_team.setdefault(row["team_id"], []).append((row["id"], row["name"]))
    rng = g.rng
    for i, nhs in enumerate(g.nhs_numbers(n)):
        if i and i % PATIENT_BATCH == 0:
            flush(i)
        team = teams[i % len(teams)]
        members = members_by_team[team]
        by_role: dict[Role, list[uuid.UUID]] = {}
        for mid, role in members:
            by_role.setdefault(role, []).append(mid)
        sex = rng.choice((Sex.FEMALE, Sex.FEMALE, Sex.MALE, Sex.MALE, Sex.FEMALE))
        given = rng.choice(words.GIVEN_F if sex is Sex.FEMALE else words.GIVEN_M)
        age = _age(g)
        dob = g.today - timedelta(days=age * 365 + rng.randint(0, 364))
        practice_id, districts = rng.choice(practices[team])
        postcode = (
            f"{rng.choice(districts)} {rng.randint(1, 9)}{rng.choice('ABDEFGHJLNPQRSTUWXYZ')}"
            f"{rng.choice('ABDEFGHJLNPQRSTUWXYZ')}"
        )
        has_carer = rng.random() < 0.45
        ltcs = rng.sample(words.LTCS, k=rng.choice((1, 2, 2, 3, 3, 4, 5)))
        pid = g.add(
            m.Patient, nhs_number=nhs, given_name=given, family_name=rng.choice(words.FAMILY),
            date_of_birth=dob, sex=sex.value, postcode=postcode,
            deprivation_decile=g.history.decile(
                rng.choices(range(1, 11), weights=(14, 12, 11, 10, 10, 9, 9, 9, 8, 8))[0]),
            practice_id=practice_id, usual_gp_id=rng.choice(by_role[Role.GP]),
            phone=f"01632 {rng.randint(100000, 999999)}",  # Ofcom drama range
            address=f"{rng.randint(1, 120)} {rng.choice(('Church', 'Mill', 'Station', 'Manor'))} "
                    f"{rng.choice(('Lane', 'Road', 'Close', 'Way'))}",
            communication_needs=(needs := rng.choice(words.COMMUNICATION_NEEDS)),
            information_needs=words.INFORMATION_NEEDS.get(needs),
            carer_name=f"{rng.choice(words.GIVEN_F + words.GIVEN_M)} {rng.choice(words.FAMILY)}"
                       if has_carer else None,
            carer_relationship=rng.choice(words.CARER_RELATIONSHIPS) if has_carer else None,
            carer_phone=f"07700 9{rng.randint(10000, 99999)}" if has_carer else None,
            carer_needs=rng.choice(("", "Carer has own health problems", "Carer works full time"))
                        if has_carer else "",
            long_term_conditions=", ".join(ltcs),
        )  # fmt: skip
        memberships = _membership(g, pid, team, cohorts_by_team[team], by_role)
        frailty = 0.5 + (memberships[0][3] or 0.5)  # the PHM risk score sets the admission rate
        g.history.person(pid, team, TEAMS[i % len(TEAMS)][0],
                         [(s, e, prio) for s, e, prio, _risk in memberships], frailty)  # fmt: skip
        _flags(g, pid, age)
        _events_and_work(g, pid, team, by_role)
        if rng.random() < 0.78:
            _care_plans(g, pid, team, by_role, has_carer)


def _membership(
    g: _Gen, pid: uuid.UUID, team: uuid.UUID, cohorts: list, by_role: dict
) -> list[tuple[date, date | None, str, float]]:
    """Enrol the person; returns (enrolled, discharged, priority, risk score) per cohort."""
    rng = g.rng
    g.team_patients.setdefault(team, set()).add(pid)
    chosen = [cohorts[0]] if rng.random() < 0.7 else cohorts
    if rng.random() < 0.5:
        chosen = [rng.choice(cohorts)]
    leads = (
        by_role[Role.DISTRICT_NURSE]
        + by_role[Role.CARE_COORDINATOR]
        + by_role[Role.COMMUNITY_MATRON]
    )
    lead = rng.choice(leads)
    out = []
    for cohort_id, name in chosen:
        discharged = rng.random() < 0.04
        # Drawn in the order the demo always drew them, so the rest of the demo is unchanged.
        enrolled_on = g.today - timedelta(days=enrolled_days_ago(rng.randint(0, 700)))
        risk = round(rng.uniform(0.05, 0.95), 2)
        left = g.days_ago(0, 30) if discharged else None
        priority = rng.choices([p.value for p in Priority], weights=(2, 5, 3))[0]
        g.add(
            m.CohortMembership, cohort_id=cohort_id, patient_id=pid,
            enrolled_on=enrolled_on, enrol_reason=f"{name}: identified in PHM extract",
            source="phm_import", risk_score=risk, discharged_on=left,
            discharge_reason="Moved out of area" if discharged else None,
            lead_member_id=lead, priority=priority,
        )  # fmt: skip
        out.append((enrolled_on, left, priority, risk))
    return out


def _flags(g: _Gen, pid: uuid.UUID, age: int) -> None:
    rng = g.rng
    odds = {
        FlagCode.HOUSEBOUND: 0.25 if age > 80 else 0.08,
        FlagCode.CARE_HOME: 0.08,
        FlagCode.END_OF_LIFE: 0.05,
        FlagCode.FALLS_RISK: 0.2,
        FlagCode.LIVES_ALONE: 0.3,
        FlagCode.SAFEGUARDING: 0.01,
        FlagCode.ADD_TO_HUDDLE: 0.02,
    }
    for code, p in odds.items():
        if rng.random() < p:
            g.add(m.Flag, patient_id=pid, code=code.value, active=True,
                  since=g.days_ago(0, 400), note="")  # fmt: skip


def _events_and_work(g: _Gen, pid: uuid.UUID, team: uuid.UUID, by_role: dict) -> None:
    rng = g.rng
    if rng.random() < 0.07:
        when = g.days_ago(0, 20)
        g.add(
            m.HealthEvent,
            patient_id=pid,
            kind=HealthEventKind.EMERGENCY_ADMISSION.value,
            occurred_on=when - timedelta(days=rng.randint(2, 9)),
            source="Acute trust feed (demo)",
        )
        g.add(
            m.HealthEvent,
            patient_id=pid,
            kind=HealthEventKind.DISCHARGE.value,
            occurred_on=when,
            source="Acute trust feed (demo)",
        )
        if when >= g.today - timedelta(days=14):
            g.add(
                m.Flag,
                patient_id=pid,
                code=FlagCode.RECENTLY_DISCHARGED.value,
                active=True,
                since=when,
                note="",
            )
    if rng.random() < 0.08:
        g.add(
            m.HealthEvent,
            patient_id=pid,
            kind=HealthEventKind.ED_ATTENDANCE.value,
            occurred_on=g.days_ago(0, 60),
            source="Acute trust feed (demo)",
        )
    staff = [mid for mids in by_role.values() for mid in mids]
    for _ in range(rng.choice((0, 1, 2, 3, 4, 6))):
        kind = rng.choice(("home_visit", "home_visit", "phone_call", "carer_call", "note"))
        at = datetime.combine(
            g.days_ago(0, 120), time(rng.randint(8, 17), rng.choice((0, 15, 30))), tzinfo=UTC
        )
        g.add(
            m.Contact,
            patient_id=pid,
            kind=ContactKind(kind).value,
            occurred_at=at,
            author_id=rng.choice(staff),
            text=rng.choice(words.CONTACT_TEXT[kind]),
            clinical=True,
        )
    for _ in range(rng.choice((0, 0, 1, 1, 2))):
        status = rng.choice((TaskStatus.REQUESTED, TaskStatus.IN_PROGRESS, TaskStatus.COMPLETED))
        owner_role = rng.choice(list(by_role))
        g.add(
            m.Task,
            patient_id=pid,
            kind=TaskKind.TASK.value,
            description=rng.choice(words.TASKS),
            status=status.value,
            owner_team_id=team,
            owner_role=owner_role.value,
            owner_member_id=rng.choice(by_role[owner_role]),
            requester_id=rng.choice(by_role[Role.CARE_COORDINATOR]),
            due_on=g.today + timedelta(days=rng.randint(-10, 21)),
            completed_at=g.now if status is TaskStatus.COMPLETED else None,
        )
    if rng.random() < 0.3:
        service = rng.choice(list(ReferralService))
        status = rng.choice(list(ReferralStatus))
        referred = g.days_ago(1, 90)
        to_member = (
            rng.choice(by_role[Role.VCSE_WORKER]) if service is ReferralService.VCSE else None
        )
        g.add(
            m.Referral,
            patient_id=pid,
            service=service.value,
            reason="Referred after INT discussion",
            referred_on=referred,
            referred_by=rng.choice(staff),
            to_member_id=to_member,
            status=status.value,
            outcome="Seen and discharged back to INT" if status is ReferralStatus.COMPLETED else "",
            outcome_on=g.today if status is ReferralStatus.COMPLETED else None,
        )
    if rng.random() < 0.04:
        resolved = rng.random() < 0.5
        g.add(m.Escalation, patient_id=pid, raised_by=rng.choice(staff),
              raised_at=g.now - timedelta(days=rng.randint(0, 20)),
              reason=rng.choice(words.ESCALATIONS),
              status=(EscalationStatus.RESOLVED if resolved else EscalationStatus.OPEN).value,
              resolved_by=by_role[Role.CLINICAL_LEAD][0] if resolved else None,
              resolved_at=g.now if resolved else None,
              resolution="Agreed plan at MDT; GP to visit" if resolved else "")  # fmt: skip


def _care_plans(g: _Gen, pid: uuid.UUID, team: uuid.UUID, by_role: dict, has_carer: bool) -> None:
    rng = g.rng
    consent_ago = signed_days_ago(rng.randint(60, 300))  # consent comes before any sign-off
    lead = by_role[Role.CLINICAL_LEAD][0]
    series = g.uid()
    state = rng.choices(
        ("draft", "active", "overdue", "superseded", "closed"), weights=(15, 50, 15, 15, 5)
    )[0]
    versions = 2 if state == "superseded" else 1
    previous = None
    for v in range(1, versions + 1):
        latest = v == versions
        if state == "draft" and latest:
            status = CarePlanStatus.DRAFT
        elif state == "closed":
            status = CarePlanStatus.CLOSED
        elif latest:
            status = CarePlanStatus.ACTIVE
        else:
            status = CarePlanStatus.SUPERSEDED
        signed = status is not CarePlanStatus.DRAFT
        review = (
            g.days_ago(1, 60)
            if state == "overdue" and latest
            else g.today + timedelta(days=rng.randint(7, 180))
        )
        consent = ConsentDecision.DENY if rng.random() < 0.06 else ConsentDecision.PERMIT
        plan_id = g.add(
            m.CarePlan, patient_id=pid, series_id=series, version=v, status=status.value,
            about_me=rng.choice(words.ABOUT_ME), what_matters=rng.choice(words.WHAT_MATTERS),
            contingency_plan=rng.choice(words.CONTINGENCY),
            clinical_summary="Multimorbidity with recent decline in mobility. Lives at home.",
            medicines_notes="Blister pack weekly. Rescue pack issued." if rng.random() < 0.5 else "",
            carer_involvement="Carer attends reviews and holds the contingency plan."
                              if has_carer else "",
            consent_decision=consent.value, consent_with="INT members, GP practice, care agencies",
            consent_date=g.today - timedelta(days=consent_ago), consent_recorded_by=rng.choice(by_role[Role.CARE_COORDINATOR]),
            lead_member_id=rng.choice(by_role[Role.DISTRICT_NURSE]), review_date=review,
            signed_off_by=lead if signed else None,
            signed_off_at=g.now - timedelta(days=consent_ago - rng.randint(1, 20) - 30 * (v - 1))
                          if signed else None,
            previous_version_id=previous,
        )  # fmt: skip
        goal_ids = []
        for pos, (text, target) in enumerate(rng.sample(words.GOALS, k=rng.randint(1, 3))):
            goal_ids.append(
                g.add(
                    m.Goal,
                    care_plan_id=plan_id,
                    description=text,
                    target_measure=target,
                    target_date=review,
                    position=pos,
                    lifecycle_status="active",
                    achievement_status="in-progress",
                )
            )
        for pos, (text, role) in enumerate(rng.sample(words.ACTIONS, k=rng.randint(1, 4))):
            role_members = by_role.get(Role(role))
            g.add(m.PlanAction, care_plan_id=plan_id, goal_id=rng.choice(goal_ids),
                  description=text, owner_team_id=team, owner_role=role,
                  owner_member_id=rng.choice(role_members) if role_members else None,
                  when=rng.choice(("Within 2 weeks", "Weekly", "Before review", "By end of month")),
                  status=TaskStatus.REQUESTED.value, position=pos)  # fmt: skip
        previous = plan_id


def _huddles(g: _Gen, teams: list, members_by_team: dict) -> None:
    """Past huddles for each team, with items discussed from its patients."""
    for team in teams:
        members = members_by_team[team]
        chair = next(mid for mid, role in members if role is Role.CARE_COORDINATOR)
        pool = sorted(g.team_patients.get(team, ()))
        for days_back in (7, 5, 3, 1):
            when = datetime.combine(g.today - timedelta(days=days_back), time(9, 0), tzinfo=UTC)
            hid = g.add(
                m.Huddle,
                team_id=team,
                scheduled_at=when,
                kind=HuddleKind.DAILY.value,
                chair_id=chair,
                status=HuddleStatus.CLOSED.value,
                started_at=when,
                closed_at=when + timedelta(minutes=30),
                minutes="Huddle closed.",
            )
            for mid, _role in g.rng.sample(members, k=min(6, len(members))):
                g.add(m.HuddleAttendee, huddle_id=hid, member_id=mid)
            for pos, pid in enumerate(g.rng.sample(pool, k=min(8, len(pool)))):
                g.add(
                    m.HuddleItem,
                    huddle_id=hid,
                    patient_id=pid,
                    position=pos,
                    reasons=["Due for discussion"],
                    status=HuddleItemStatus.DISCUSSED.value,
                    outcome="Discussed; plan unchanged.",
                    decisions="",
                    seconds_spent=120,
                )
                g.add(m.Contact, patient_id=pid, kind=ContactKind.HUDDLE_DISCUSSION.value,
                      occurred_at=when, author_id=chair, text="Discussed at huddle; plan unchanged.",
                      clinical=True)  # fmt: skip


_ORDER = (
    m.Place, m.Organisation, m.Team, m.Member, m.TeamMembership, m.Cohort, m.Patient, m.Flag,
    m.CohortMembership, m.CareTeamParticipant, m.CarePlan, m.Goal, m.PlanAction, m.Task,
    m.Contact, m.Referral, m.Escalation, m.HealthEvent, m.Huddle, m.HuddleAttendee, m.HuddleItem,
)  # fmt: skip


def _write(conn: Connection, g: _Gen, counts: dict[str, int]) -> None:
    """Insert and drop every buffered row, parents before children."""
    for model in _ORDER:
        rows = g.rows.pop(model, [])
        counts[model.__tablename__] = counts.get(model.__tablename__, 0) + len(rows)
        for start in range(0, len(rows), CHUNK):
            conn.execute(insert(model.__table__), _complete(model, rows[start : start + CHUNK]))


def _complete(model: type[Base], rows: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Executemany needs the same keys in every row: fill the model's remaining defaults."""
    keys: set[str] = set().union(*(r.keys() for r in rows))
    cols = {c.key: c for c in model.__table__.columns}
    for row in rows:
        for key in keys - row.keys():
            row[key] = None
        for key, col in cols.items():
            if key not in row and col.default is not None and not callable(col.default.arg):
                row[key] = col.default.arg
    return rows
