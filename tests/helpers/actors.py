"""Pick real demo team members by role, and patients within their scope, for access tests."""

from __future__ import annotations

import uuid

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from int_desk.domain.actor import Actor
from int_desk.domain.vocab import Role
from int_desk.services.identity import actor_for
from int_desk.store.models import Cohort, CohortMembership, Member, Referral, TeamMembership


def actor_of_role(session: Session, role: Role) -> Actor:
    """A demo member with this role (for VCSE: the one with most referrals to them)."""
    if role is Role.VCSE_WORKER:
        member_id = session.scalar(
            select(Referral.to_member_id)
            .where(Referral.to_member_id.is_not(None))
            .group_by(Referral.to_member_id)
            .order_by(func.count().desc())
            .limit(1)
        )
    else:
        member_id = session.scalar(
            select(Member.id)
            .join(TeamMembership, TeamMembership.member_id == Member.id)
            .where(Member.role == role.value)
            .order_by(Member.name)
            .limit(1)
        )
    assert member_id is not None, role
    return actor_for(session, member_id)


def patient_in_scope(session: Session, actor: Actor) -> uuid.UUID:
    if actor.role is Role.VCSE_WORKER:
        pid = session.scalar(
            select(Referral.patient_id).where(Referral.to_member_id == actor.member_id).limit(1)
        )
    else:
        pid = session.scalar(
            select(CohortMembership.patient_id)
            .join(Cohort, Cohort.id == CohortMembership.cohort_id)
            .where(Cohort.team_id.in_(actor.team_ids))
            .limit(1)
        )
    assert pid is not None
    return pid


def patient_out_of_scope(session: Session, actor: Actor) -> uuid.UUID:
    """A patient in another team's cohort (and, for VCSE, never referred to the actor)."""
    referred = select(Referral.patient_id).where(Referral.to_member_id == actor.member_id)
    pid = session.scalar(
        select(CohortMembership.patient_id)
        .join(Cohort, Cohort.id == CohortMembership.cohort_id)
        .where(
            Cohort.team_id.not_in(actor.team_ids),
            CohortMembership.patient_id.not_in(referred),
            CohortMembership.patient_id.not_in(
                select(CohortMembership.patient_id)
                .join(Cohort, Cohort.id == CohortMembership.cohort_id)
                .where(Cohort.team_id.in_(actor.team_ids))
            ),
        )
        .limit(1)
    )
    assert pid is not None
    return pid


def team_patient_not_referred(session: Session, actor: Actor) -> uuid.UUID:
    """A patient on one of the actor's teams' caseloads who was never referred to the actor."""
    pid = session.scalar(
        select(CohortMembership.patient_id)
        .join(Cohort, Cohort.id == CohortMembership.cohort_id)
        .where(
            Cohort.team_id.in_(actor.team_ids),
            CohortMembership.patient_id.not_in(
                select(Referral.patient_id).where(Referral.to_member_id == actor.member_id)
            ),
        )
        .limit(1)
    )
    assert pid is not None
    return pid
