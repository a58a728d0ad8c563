"""Helpers for care-plan tests: actors by role, a person without a plan, a long signed plan."""

from __future__ import annotations

import uuid
from datetime import date, timedelta

from sqlalchemy import select
from sqlalchemy.orm import Session

from int_desk.domain.actor import Actor
from int_desk.domain.vocab import Role
from int_desk.services import care_plans as cp
from int_desk.services.identity import actor_for, current_actor
from int_desk.store.models import (
    CarePlan,
    Cohort,
    CohortMembership,
    Member,
    Patient,
    Team,
    TeamMembership,
)

TODAY = date(2026, 11, 20)
NON_ASCII_GIVEN = "Zoë"
NON_ASCII_FAMILY = "Ó'Brien-Łukasz"
NON_ASCII_NAME = f"{NON_ASCII_GIVEN} {NON_ASCII_FAMILY}"


def first_team(s: Session) -> Team:
    """The signed-in member's (the demo coordinator's) team: the one tests work in."""
    team_id = next(iter(current_actor(s).team_ids))
    return s.get(Team, team_id)  # type: ignore[return-value]


def actor_with_role(s: Session, role: Role, team_id: uuid.UUID | None = None) -> Actor:
    """A member of ``role`` in ``team_id`` (default: the first team) as an Actor."""
    team_id = team_id or first_team(s).id
    query = (
        select(Member.id)
        .where(Member.role == role.value)
        .join(TeamMembership, TeamMembership.member_id == Member.id)
        .where(TeamMembership.team_id == team_id)
    )
    member_id = s.scalars(query.order_by(Member.name)).first()
    assert member_id is not None, role
    return actor_for(s, member_id)


def patient_without_plan(s: Session, team_id: uuid.UUID | None = None) -> Patient:
    """A person in the team's caseload (default: the first team) who has no care plan yet."""
    team_id = team_id or first_team(s).id
    has_plan = select(CarePlan.patient_id)
    in_team = (
        select(CohortMembership.patient_id)
        .join(Cohort, Cohort.id == CohortMembership.cohort_id)
        .where(Cohort.team_id == team_id)
    )
    patient = s.scalars(
        select(Patient)
        .where(Patient.id.not_in(has_plan), Patient.id.in_(in_team))
        .order_by(Patient.nhs_number)
    ).first()
    assert patient is not None
    return patient


def make_signed_plan(
    s: Session,
    lead: Actor,
    patient: Patient,
    *,
    goals: int = 3,
    actions: int = 4,
    consent: str = "permit",
    long_text: bool = False,
) -> CarePlan:
    """A signed-off plan with numbered goals/actions ('GOAL-07 ...', 'ACTION-12 ...')."""
    plan = cp.start_plan(session=s, actor=lead, patient_id=patient.id)
    filler = (
        " The person would like this done in the morning, after the carer has visited, and "
        "asks that the team phone ahead because the doorbell is hard to hear."
        if long_text
        else ""
    )
    cp.update_plan(
        session=s,
        actor=lead,
        plan_id=plan.id,
        changes={
            "about_me": "I was a postwoman for thirty years and know everyone on my round.",
            "what_matters": "Staying in my own home with my cat.",
            "contingency_plan": "If more breathless than usual: use the rescue pack, then call "
            "the INT the same day. If chest pain or blue lips: call 999.",
            "clinical_summary": "INTERNAL-CLINICAL-SUMMARY: COPD and heart failure, eGFR 41.",
            "medicines_notes": "INTERNAL-MEDICINES-NOTE: furosemide dose changed in October.",
            "carer_involvement": "Daughter visits daily and holds the contingency plan.",
            "consent_decision": consent,
            "consent_with": "INT members, GP practice, care agencies",
            "review_date": TODAY + timedelta(days=90),
            "lead_member_id": lead.member_id,
        },
    )
    goal_rows = [
        cp.add_goal(
            session=s,
            actor=lead,
            plan_id=plan.id,
            description=f"GOAL-{i:02d} I want to walk to the shop number {i} on my own.",
            target_measure=f"Walks {i * 50} m with a frame",
            target_date=TODAY + timedelta(days=60),
        )
        for i in range(1, goals + 1)
    ]
    for i in range(1, actions + 1):
        cp.add_action(
            session=s,
            actor=lead,
            plan_id=plan.id,
            description=f"ACTION-{i:02d} Review of mobility and equipment.{filler}",
            owner_role=Role.PHYSIO_OT.value,
            owner_team_id=first_team(s).id,
            when="Within 2 weeks",
            goal_id=goal_rows[(i - 1) % len(goal_rows)].id if goal_rows else None,
        )
    cp.sign_off(session=s, actor=lead, plan_id=plan.id, today=TODAY)
    return plan
