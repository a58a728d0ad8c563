"""On the laptop, clinical content beyond notes is hidden from roles without clinical access:
escalation reasons (except the raiser's own), huddle outcomes, decisions and minutes. Such a
role may still run a huddle, but neither writes nor blanks what a clinician recorded."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import time
from pathlib import Path

import pytest
from sqlalchemy import select

from int_desk.domain.errors import PermissionDenied
from int_desk.domain.vocab import HuddleItemStatus, Role
from int_desk.services import huddles as h
from int_desk.services import patient_actions as pa
from int_desk.services.patient_record import patient_record
from int_desk.store import models as m
from int_desk.store.models import AuditEvent
from tests.helpers.huddle_world import World, build_world


@pytest.fixture
def world(tmp_path: Path) -> Iterator[World]:
    w = build_world(tmp_path / "ws")
    with w.session() as s:
        for name, role in (("Sol Prescott", Role.SOCIAL_PRESCRIBER), ("Ada Min", Role.ADMIN)):
            member = m.Member(name=name, role=role.value)
            s.add(member)
            s.flush()
            s.add(m.TeamMembership(team_id=w.team_id, member_id=member.id))
    yield w
    w.ws.close()


def _member(world: World, role: Role) -> m.Member:
    with world.session() as s:
        member = s.scalars(select(m.Member).where(m.Member.role == role.value)).one()
        s.expunge(member)
        return member


def test_escalation_reasons_are_shown_to_clinicians_and_to_whoever_raised_them(
    world: World,
) -> None:
    pid = world.patient("Arthur Penhaligon")
    prescriber = _member(world, Role.SOCIAL_PRESCRIBER)
    with world.session() as s:
        pa.escalate(session=s, actor=world.actor(s, world.nurse_id), patient_id=pid,
                    reason="Chest pain on exertion")  # fmt: skip
        pa.escalate(session=s, actor=world.actor(s, prescriber.id), patient_id=pid,
                    reason="Food bank referral refused")  # fmt: skip

    def escalations(member_id: object) -> list[str]:
        with world.session() as s:
            rec = patient_record(session=s, actor=world.actor(s, member_id), patient_id=pid)
        return sorted(t.text for t in rec.timeline if t.kind == "escalation")

    assert escalations(world.gp_id) == ["Chest pain on exertion", "Food bank referral refused"]
    shown = escalations(prescriber.id)
    assert "Food bank referral refused" in shown  # their own
    assert not any("Chest pain" in t for t in shown)
    assert any("not shown for your role" in t for t in shown)
    admin = _member(world, Role.ADMIN)
    assert not any("Chest pain" in t or "Food bank" in t for t in escalations(admin.id))


def test_huddle_outcomes_and_minutes_are_withheld_and_not_written_by_non_clinical_roles(
    world: World,
) -> None:
    pid = world.patient("Rose Marsh", enrolled_days_ago=20)
    other = world.patient("Walter Quay", enrolled_days_ago=20)
    prescriber = _member(world, Role.SOCIAL_PRESCRIBER)
    with world.session() as s:
        me = world.actor(s)
        huddle = h.plan_huddle(
            session=s, actor=me, team_id=world.team_id,
            scheduled_at=h.local_datetime(world.today, time(9, 0)), attendee_ids=[],
        )  # fmt: skip
        hid = huddle.id
        for p in (pid, other):
            h.add_item(session=s, actor=me, huddle_id=hid, patient_id=p, reason="Review")
        h.start_huddle(session=s, actor=me, huddle_id=hid)
        items = {
            i.patient_id: i.id for i in h.huddle_view(session=s, actor=me, huddle_id=hid).items
        }
        h.record_outcome(session=s, actor=me, item_id=items[pid],
                         outcome="Breathless at rest; GP to visit", decisions="Start oxygen")  # fmt: skip

    # The social prescriber (runs huddles, no clinical access) sees no outcome or decision...
    with world.session() as s:
        sp = world.actor(s, prescriber.id)
        view = h.huddle_view(session=s, actor=sp, huddle_id=hid)
    assert view.clinical_withheld
    item = next(i for i in view.items if i.patient_id == pid)
    assert (item.outcome, item.decisions) == ("", "")
    # ...may not write one (refused and audited)...
    with world.session() as s:
        sp = world.actor(s, prescriber.id)
        with pytest.raises(PermissionDenied):
            h.record_outcome(session=s, actor=sp, item_id=items[other], outcome="Seems fine")
    with world.session() as s:
        denied = s.scalars(select(AuditEvent).where(AuditEvent.actor_id == prescriber.id)).all()
        assert any(e.detail == "denied:view_clinical" for e in denied)
    # ...and saving what their (blank) editor holds does not wipe the clinician's outcome;
    # they can still move the huddle on and close it.
    with world.session() as s:
        sp = world.actor(s, prescriber.id)
        h.record_outcome(session=s, actor=sp, item_id=items[pid], outcome="", decisions="",
                         seconds_spent=90)  # fmt: skip
        h.mark_discussed(session=s, actor=sp, item_id=items[other])
        h.close_huddle(session=s, actor=sp, huddle_id=hid)
    with world.session() as s:
        row = s.get(m.HuddleItem, items[pid])
        assert (row.outcome, row.decisions, row.seconds_spent) == (
            "Breathless at rest; GP to visit", "Start oxygen", 90)  # fmt: skip
        assert s.get(m.HuddleItem, items[other]).status == HuddleItemStatus.DISCUSSED.value
        assert s.get(m.Huddle, hid).minutes == ""  # not written by a reader who may not see them
    # A clinician's view of the closed huddle shows the minutes generated from what was recorded.
    with world.session() as s:
        view = h.minutes_view(session=s, actor=world.actor(s, world.gp_id), huddle_id=hid)
    assert not view.clinical_withheld
    assert "Breathless at rest" in (view.minutes or h.minutes_text(view))
    with world.session() as s:
        view = h.minutes_view(session=s, actor=world.actor(s, prescriber.id), huddle_id=hid)
    assert "Breathless" not in (view.minutes or h.minutes_text(view))
