"""The active version of a person's care plan, in one place for the plan service (and its export)
and the GP notifications: the plan service calls gp_notify, so gp_notify cannot import it."""

from __future__ import annotations

import uuid

from sqlalchemy import select
from sqlalchemy.orm import Session

from int_desk.domain.vocab import CarePlanStatus
from int_desk.store.models import CarePlan


def active_plan(session: Session, patient_id: uuid.UUID) -> CarePlan | None:
    """The signed-off version in force (the highest, should two ever be active), or None."""
    return session.scalar(
        select(CarePlan)
        .where(
            CarePlan.patient_id == patient_id,
            CarePlan.status == CarePlanStatus.ACTIVE.value,
            CarePlan.deleted.is_(False),
        )
        .order_by(CarePlan.version.desc())
        .limit(1)
    )
