"""The workspace at a glance: its teams, their cohorts and caseload counts (the first page)."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from int_desk.store.models import Cohort, CohortMembership, Place, Team


@dataclass(frozen=True)
class TeamRow:
    team: str
    place: str
    neighbourhood: str
    cohorts: str
    caseload: int


def anyone_enrolled(session: Session) -> bool:
    """Whether anyone was ever enrolled in a cohort here (an empty caseload says why)."""
    return session.scalar(select(CohortMembership.id).limit(1)) is not None


def load_team_rows(session: Session) -> list[TeamRow]:
    active = CohortMembership.discharged_on.is_(None) & CohortMembership.deleted.is_(False)
    counts = dict(
        session.execute(
            select(Cohort.team_id, func.count(func.distinct(CohortMembership.patient_id)))
            .join(CohortMembership, CohortMembership.cohort_id == Cohort.id)
            .where(active)
            .group_by(Cohort.team_id)
        ).all()
    )
    rows = []
    for team, place in session.execute(
        select(Team, Place.name).join(Place, Place.id == Team.place_id).order_by(Team.name)
    ):
        cohorts = session.scalars(
            select(Cohort.name).where(Cohort.team_id == team.id).order_by(Cohort.name)
        ).all()
        rows.append(
            TeamRow(
                team.name, place, team.neighbourhood, ", ".join(cohorts), counts.get(team.id, 0)
            )
        )
    return rows
