"""Clinical-safety controls named in docs/clinical-safety/hazard-log.md that no feature test
already proves on its own."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import time, timedelta
from pathlib import Path

import pytest
from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError

from int_desk.domain.errors import ValidationError
from int_desk.services import huddles as h
from int_desk.store.models import Patient, Task
from int_desk.store.workspace import Workspace
from tests.helpers.huddle_world import World, build_world


@pytest.fixture
def world(tmp_path: Path) -> Iterator[World]:
    w = build_world(tmp_path / "ws")
    yield w
    w.ws.close()


def test_a_huddle_action_cannot_be_left_without_an_owner(world: World) -> None:
    """H-08: an action agreed at the huddle always names who owns it, or is refused."""
    pid = world.patient("Walter Quay", enrolled_days_ago=20)
    with world.session() as s:
        me = world.actor(s)
        huddle = h.plan_huddle(
            session=s,
            actor=me,
            team_id=world.team_id,
            scheduled_at=h.local_datetime(world.today, time(9, 0)),
            attendee_ids=[world.nurse_id],
        )
        item = h.add_item(session=s, actor=me, huddle_id=huddle.id, patient_id=pid, reason="x")
        h.start_huddle(session=s, actor=me, huddle_id=huddle.id)
        item_id = item.id
    with world.session() as s:
        before = s.scalar(select(func.count()).select_from(Task))
    with pytest.raises(ValidationError, match="who owns") as err:
        with world.session() as s:
            h.add_item_task(
                session=s,
                actor=world.actor(s),
                item_id=item_id,
                description="Review medicines",
                owner_member_id=None,  # type: ignore[arg-type]
                due_on=world.today + timedelta(days=2),
            )
    assert err.value.field == "owner_member_id"
    with world.session() as s:
        assert s.scalar(select(func.count()).select_from(Task)) == before


def test_one_record_per_nhs_number(demo_ws: Workspace) -> None:
    """H-01: the store itself refuses a second record with the same NHS number."""
    with demo_ws.session() as s:
        p = s.scalars(select(Patient).limit(1)).one()
        fields = {
            k: getattr(p, k)
            for k in ("nhs_number", "given_name", "family_name", "date_of_birth", "sex", "postcode")
        }
    with pytest.raises(IntegrityError):
        with demo_ws.session() as s:
            s.add(Patient(**fields))
