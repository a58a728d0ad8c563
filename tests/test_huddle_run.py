"""A whole huddle through the services: plan, edit the agenda, run, close; the results land in
the record (Contacts), owners' task lists, the next agenda and the minutes PDF read back."""

from __future__ import annotations

import io
import re
from collections.abc import Iterator
from datetime import time, timedelta
from pathlib import Path

import pytest
from pypdf import PdfReader
from sqlalchemy import select

from int_desk.domain.errors import ValidationError
from int_desk.domain.vocab import (
    ContactKind,
    FlagCode,
    HealthEventKind,
    HuddleItemStatus,
    HuddleStatus,
    Priority,
    ReferralService,
    TaskKind,
)
from int_desk.services import huddle_export
from int_desk.services import huddles as h
from int_desk.services import patient_actions as pa
from int_desk.store.models import AuditEvent, Contact, Flag, Task, TeamMembership
from tests.helpers.huddle_world import World, build_world


@pytest.fixture
def world(tmp_path: Path) -> Iterator[World]:
    w = build_world(tmp_path / "ws")
    yield w
    w.ws.close()


def _pdf_text(data: bytes) -> str:
    return "\n".join(page.extract_text() for page in PdfReader(io.BytesIO(data)).pages)


def test_a_huddle_from_plan_to_minutes(world: World, tmp_path: Path) -> None:
    discharged = world.patient("Rose Ó'Brien-Łukasz", enrolled_days_ago=20)
    world.event(discharged, HealthEventKind.DISCHARGE.value, 1)
    escalated = world.patient("Arthur Penhaligon", enrolled_days_ago=20)
    world.escalation(escalated)
    flagged = world.patient("Zoë Marsh", enrolled_days_ago=20)
    newbie = world.patient("Iris Newcombe", enrolled_days_ago=2, priority=Priority.HIGH)
    unreached = world.patient("Walter Quay", enrolled_days_ago=20)
    with world.session() as s:
        pa.add_to_next_huddle(
            session=s, actor=world.actor(s, world.nurse_id), patient_id=flagged,
            note="Daughter worried about falls",
        )  # fmt: skip

    # --- plan, then shape the agenda --------------------------------------------------------
    with world.session() as s:
        me = world.actor(s)
        huddle = h.plan_huddle(
            session=s, actor=me, team_id=world.team_id,
            scheduled_at=h.local_datetime(world.today, time(9, 0)),
            attendee_ids=[world.nurse_id, world.gp_id, world.pharmacist_id],
        )  # fmt: skip
        hid = huddle.id
        view = h.huddle_view(session=s, actor=me, huddle_id=hid)
    assert view.status == HuddleStatus.PLANNED.value
    assert {i.patient_id for i in view.items} == {discharged, escalated, flagged, newbie}
    assert any("visiting" in line for line in huddle_export._attendees(view))
    by_patient = {i.patient_id: i for i in view.items}
    with world.session() as s:
        me = world.actor(s)
        h.move_item(session=s, actor=me, item_id=by_patient[newbie].id, offset=-10)
        h.remove_item(session=s, actor=me, item_id=by_patient[escalated].id)
        h.restore_item(session=s, actor=me, item_id=by_patient[escalated].id)  # undo
        extra = h.add_item(
            session=s, actor=me, huddle_id=hid, patient_id=unreached,
            reason="GP asked for a review",
        )  # fmt: skip
        with pytest.raises(ValidationError, match="already on the agenda"):
            h.add_item(session=s, actor=me, huddle_id=hid, patient_id=unreached, reason="again")
        view = h.huddle_view(session=s, actor=me, huddle_id=hid)
    assert view.items[0].patient_id == newbie
    assert view.items[-1].id == extra.id
    assert view.items[-1].reasons == ["Added by Dana Carrow: GP asked for a review"]

    # --- run -----------------------------------------------------------------------------
    with world.session() as s:
        me = world.actor(s)
        with pytest.raises(ValidationError, match="Start the huddle"):
            h.record_outcome(session=s, actor=me, item_id=extra.id, outcome="too early")
        h.start_huddle(session=s, actor=me, huddle_id=hid)
    items = {i.patient_id: i.id for i in view.items}
    tomorrow = world.today + timedelta(days=1)
    with world.session() as s:
        me = world.actor(s)
        a = items[discharged]
        with pytest.raises(ValidationError, match="Record the outcome"):
            h.mark_discussed(session=s, actor=me, item_id=a)
        h.record_outcome(
            session=s, actor=me, item_id=a,
            outcome="Home from hospital, managing stairs with help.",
            decisions="Increase care package to twice daily.",
        )  # fmt: skip
        h.add_item_task(
            session=s, actor=me, item_id=a, description="Review medicines after discharge",
            owner_member_id=world.pharmacist_id, due_on=world.today + timedelta(days=3),
        )  # fmt: skip
        h.add_item_home_visit(
            session=s, actor=me, item_id=a, member_id=world.nurse_id, on=tomorrow,
            purpose="Check wound and pressure areas",
        )  # fmt: skip
        h.add_item_referral(
            session=s, actor=me, item_id=a, service=ReferralService.SOCIAL_PRESCRIBING,
            reason="Lonely since discharge",
        )  # fmt: skip
        h.mark_discussed(session=s, actor=me, item_id=a, seconds_spent=150)

        b = items[escalated]
        h.record_outcome(session=s, actor=me, item_id=b, outcome="Carer at breaking point.")
        h.add_item_escalation(
            session=s, actor=me, item_id=b, reason="Needs clinical lead decision on respite"
        )
        h.mark_discussed(session=s, actor=me, item_id=b, seconds_spent=95)

        c = items[flagged]
        h.record_outcome(session=s, actor=me, item_id=c, outcome="Falls clinic already booked.")
        h.mark_discussed(session=s, actor=me, item_id=c, seconds_spent=40)

        h.defer_item(
            session=s, actor=me, item_id=items[newbie], reason="Awaiting GP assessment",
            seconds_spent=20,
        )  # fmt: skip
        minutes = h.close_huddle(session=s, actor=me, huddle_id=hid)

    # --- the minutes, generated from what was recorded --------------------------------------
    for text in (
        "Home from hospital, managing stairs with help.",
        "Increase care package to twice daily.",
        "Task: Review medicines after discharge (Zoë Lindqvist, due",
        "Home visit: Check wound and pressure areas (Nia Okafor, on",
        "Referred to Social prescribing: Lonely since discharge",
        "Escalated to the INT clinical lead: Needs clinical lead decision on respite",
        "Falls clinic already booked.",
        "Why deferred: Awaiting GP assessment",
        "3 discussed, 1 deferred, 1 not reached",
        "Walter Quay",
    ):
        assert text in minutes, text

    # --- in the patient's record and the owners' task lists ---------------------------------
    with world.session() as s:
        contacts = s.scalars(
            select(Contact).where(
                Contact.patient_id == discharged,
                Contact.kind == ContactKind.HUDDLE_DISCUSSION.value,
            )
        ).all()
        assert len(contacts) == 1
        assert "Home from hospital" in contacts[0].text
        assert "Home visit" in contacts[0].text and "Review medicines" in contacts[0].text
        deferred_note = s.scalars(select(Contact.text).where(Contact.patient_id == newbie)).one()
        assert deferred_note.startswith("Deferred at the Kidlington INT huddle")
        nurse_tasks = s.scalars(select(Task).where(Task.owner_member_id == world.nurse_id)).all()
        assert [(t.kind, t.due_on) for t in nurse_tasks] == [(TaskKind.HOME_VISIT.value, tomorrow)]
        pharm = s.scalars(select(Task).where(Task.owner_member_id == world.pharmacist_id)).one()
        assert pharm.description == "Review medicines after discharge"
        assert pharm.huddle_item_id == a
        flag = s.scalars(
            select(Flag).where(Flag.patient_id == flagged, Flag.code == FlagCode.ADD_TO_HUDDLE)
        ).one()
        assert not flag.active  # discussed, so the request is done
        assert s.scalars(select(AuditEvent.detail).where(AuditEvent.entity_id == hid)).all()

    # --- the next huddle: deferred and not reached roll over ---------------------------------
    with world.session() as s:
        me = world.actor(s)
        nxt = h.plan_huddle(
            session=s, actor=me, team_id=world.team_id,
            scheduled_at=h.local_datetime(tomorrow, time(9, 0)),
        )  # fmt: skip
        view2 = h.huddle_view(session=s, actor=me, huddle_id=nxt.id)
    rolled = {i.patient_id: i for i in view2.items if i.rolled_over}
    assert set(rolled) == {newbie, unreached}
    assert rolled[newbie].reasons[0].endswith("Awaiting GP assessment")
    assert flagged not in {i.patient_id for i in view2.items}

    # --- the minutes PDF, read back ---------------------------------------------------------
    with world.session() as s:
        me = world.actor(s)
        path = huddle_export.export_minutes(
            session=s, actor=me, huddle_id=hid, path=tmp_path / "minutes.pdf"
        )
        agenda_path = huddle_export.export_agenda(
            session=s, actor=me, huddle_id=nxt.id, path=tmp_path / "agenda.pdf"
        )
    text = _pdf_text(path.read_bytes())
    squashed = " ".join(text.split())
    for outcome in (
        "Home from hospital, managing stairs with help.",
        "Increase care package to twice daily.",
        "Review medicines after discharge",
        "Check wound and pressure areas",
        "Lonely since discharge",
        "Needs clinical lead decision on respite",
        "Carer at breaking point.",
        "Falls clinic already booked.",
        "Awaiting GP assessment",
        "Rose Ó'Brien-Łukasz",
        "Zoë Lindqvist",
        "Page 1 of",
    ):
        assert outcome in squashed, outcome
    agenda_text = " ".join(_pdf_text(agenda_path.read_bytes()).split())
    assert "Iris Newcombe" in agenda_text and "Not reached at the huddle" in agenda_text
    # The Priority column is filled as the CLI's is (it was empty from the app), and each
    # person has their date of birth beside the name.
    priorities = {i.patient_id: i.priority for i in view2.items}
    assert priorities and all(p in ("high", "medium", "low") for p in priorities.values())
    for p in set(priorities.values()):
        assert re.search(rf"\b{p.capitalize()}\b", agenda_text), p
    assert agenda_text.count(" born ") >= len(priorities)


def test_minutes_pdf_needs_a_closed_huddle(world: World) -> None:
    world.patient("Ada Lone")
    with world.session() as s:
        me = world.actor(s)
        huddle = h.plan_huddle(
            session=s, actor=me, team_id=world.team_id,
            scheduled_at=h.local_datetime(world.today, time(9, 0)),
        )  # fmt: skip
        with pytest.raises(ValidationError, match="closed"):
            huddle_export.minutes_pdf_bytes(session=s, actor=me, huddle_id=huddle.id)
        with pytest.raises(ValidationError, match="already has an open huddle"):
            h.plan_huddle(
                session=s, actor=me, team_id=world.team_id,
                scheduled_at=h.local_datetime(world.today, time(14, 0)),
            )  # fmt: skip


def test_chair_and_attendees_must_be_team_members(world: World) -> None:
    with world.session() as s:
        me = world.actor(s)
        outsider = world.pharmacist_id
        s.execute(TeamMembership.__table__.delete().where(TeamMembership.member_id == outsider))
        with pytest.raises(ValidationError, match="team members"):
            h.plan_huddle(
                session=s, actor=me, team_id=world.team_id,
                scheduled_at=h.local_datetime(world.today, time(9, 0)), attendee_ids=[outsider],
            )  # fmt: skip
    assert HuddleItemStatus.PENDING.value == "pending"


def test_cli_prints_the_agenda_with_reasons_and_writes_the_pdf(
    world: World, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture
) -> None:
    from int_desk.cli import main
    from tests.helpers.huddle_world import PASSPHRASE

    p = world.patient("Rose Ó'Brien-Łukasz", enrolled_days_ago=20)
    world.event(p, HealthEventKind.DISCHARGE.value, 2)
    monkeypatch.setenv("INT_DESK_PASSPHRASE", PASSPHRASE)
    out = tmp_path / "agenda.pdf"
    args = ["huddle-agenda", "--workspace", str(world.ws.directory), "--team", "Kidlington INT"]
    assert main([*args, "--date", world.today.isoformat(), "--out", str(out)]) == 0
    printed = capsys.readouterr().out
    assert "Rose Ó'Brien-Łukasz" in printed
    assert "- Discharged from hospital" in printed
    text = " ".join(_pdf_text(out.read_bytes()).split())
    assert "Rose Ó'Brien-Łukasz" in text and "Discharged from hospital" in text
    with pytest.raises(SystemExit):  # argparse refuses a date that is not YYYY-MM-DD
        main([*args, "--date", "22/11/2026"])
    assert main(["huddle-agenda", "--workspace", str(world.ws.directory), "--team", "Nowhere",
                 "--date", world.today.isoformat()]) == 2  # fmt: skip


def test_refresh_adds_people_the_rules_now_bring_and_keeps_removals(world: World) -> None:
    first = world.patient("Ann First", enrolled_days_ago=2)
    with world.session() as s:
        me = world.actor(s)
        hid = h.plan_huddle(
            session=s, actor=me, team_id=world.team_id,
            scheduled_at=h.local_datetime(world.today + timedelta(days=1), time(9, 0)),
        ).id  # fmt: skip
        item = h.huddle_view(session=s, actor=me, huddle_id=hid).items[0]
        h.remove_item(session=s, actor=me, item_id=item.id)
    late = world.patient("Lou Late", enrolled_days_ago=20)
    world.event(late, HealthEventKind.DISCHARGE.value, 0)  # discharged after planning
    with world.session() as s:
        me = world.actor(s)
        assert h.refresh_agenda(session=s, actor=me, huddle_id=hid) == 1
        view = h.huddle_view(session=s, actor=me, huddle_id=hid)
    assert [i.patient_id for i in view.items] == [late]
    assert [i.patient_id for i in view.removed] == [first]
