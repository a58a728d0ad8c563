"""The signed-in coordinator's first cohort and how many shareable active plans it holds."""

from __future__ import annotations

import uuid

from sqlalchemy import func, select

from int_desk.services.identity import current_actor
from int_desk.store.models import CarePlan, Cohort, CohortMembership
from int_desk.store.workspace import Workspace


def cohort_with_shareable_plans(ws: Workspace) -> tuple[uuid.UUID, int]:
    with ws.session() as s:
        actor = current_actor(s)
        cohort = s.scalars(
            select(Cohort).where(Cohort.team_id.in_(actor.team_ids)).order_by(Cohort.name)
        ).first()
        assert cohort is not None
        members = select(CohortMembership.patient_id).where(
            CohortMembership.cohort_id == cohort.id, CohortMembership.discharged_on.is_(None)
        )
        n = s.scalar(
            select(func.count(func.distinct(CarePlan.patient_id))).where(
                CarePlan.patient_id.in_(members),
                CarePlan.status == "active",
                CarePlan.consent_decision == "permit",
            )
        )
        return cohort.id, int(n or 0)
