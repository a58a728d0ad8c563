"""Every instant a user sees is London's, whatever this computer's time zone.

The computer is set to Los Angeles (8 hours behind London in summer) and the instant is
23:30 UTC on 31 May 2026: 00:30 BST on 1 June in London, 16:30 on 31 May on this computer.
Each surface must show 1 June 00:30 (or the London day), never 31 May.
"""

from __future__ import annotations

import io
import os
import time as clock
import uuid
from collections.abc import Iterator
from datetime import UTC, date, datetime, time, timedelta
from pathlib import Path

import pytest
from pypdf import PdfReader
from pytestqt.qtbot import QtBot

from int_desk.domain.uk_time import london_date, london_today, london_wall
from int_desk.domain.vocab import AuditAction, HuddleItemStatus, HuddleStatus
from int_desk.store import models as m
from tests.helpers.huddle_world import World, build_world

NEAR_MIDNIGHT = datetime(2026, 5, 31, 23, 30, tzinfo=UTC)  # 00:30 BST on 1 June in London


@pytest.fixture
def far_from_london() -> Iterator[None]:
    """This computer's zone set to America/Los_Angeles for the test (restored after)."""
    if not hasattr(clock, "tzset"):  # Windows: no tzset; the suite's CI runs on Linux
        pytest.fail("time.tzset is needed to move this computer's zone")
    before = os.environ.get("TZ")
    os.environ["TZ"] = "America/Los_Angeles"
    clock.tzset()
    # the premise: on this computer the instant is still 31 May, 16:30
    assert NEAR_MIDNIGHT.astimezone().strftime("%d %H:%M") == "31 16:30"
    try:
        yield
    finally:
        if before is None:
            os.environ.pop("TZ", None)
        else:
            os.environ["TZ"] = before
        clock.tzset()


@pytest.fixture
def world(tmp_path: Path, far_from_london: None) -> Iterator[World]:
    w = build_world(tmp_path / "ws")
    yield w
    w.ws.close()


def _ctx(world: World):  # noqa: ANN202 - an AppContext (Qt imported only by the Qt tests)
    from int_desk.app.context import AppContext
    from int_desk.app.events import Events
    from int_desk.app.main import settings
    from int_desk.app.tasks import TaskRunner
    from int_desk.services.identity import actor_for

    with world.session() as s:
        actor = actor_for(s, world.coordinator_id)
    return AppContext(world.ws, actor, Events(), TaskRunner(), settings())


def _pdf_text(data: bytes) -> str:
    return " ".join(" ".join(p.extract_text() for p in PdfReader(io.BytesIO(data)).pages).split())


def test_the_helpers_take_the_london_day_and_clock(far_from_london: None) -> None:
    assert london_date(NEAR_MIDNIGHT) == date(2026, 6, 1)
    assert london_today(NEAR_MIDNIGHT) == date(2026, 6, 1)
    assert london_wall(date(2026, 6, 1), time(0, 30)) == NEAR_MIDNIGHT
    assert london_wall(date(2026, 12, 1), time(0, 30)).astimezone(UTC).hour == 0  # GMT


def _closed_huddle_near_midnight(world: World) -> tuple[uuid.UUID, uuid.UUID]:
    """A huddle held at 00:30 BST on 1 June (closed 00:55) that discussed one person."""
    pid = world.patient("Ada Midnight", enrolled_days_ago=20)
    with world.session() as s:
        huddle = m.Huddle(
            team_id=world.team_id, scheduled_at=NEAR_MIDNIGHT, kind="daily",
            chair_id=world.coordinator_id, status=HuddleStatus.CLOSED.value,
            started_at=NEAR_MIDNIGHT, closed_at=NEAR_MIDNIGHT + timedelta(minutes=25),
        )  # fmt: skip
        s.add(huddle)
        s.flush()
        s.add(
            m.HuddleItem(
                huddle_id=huddle.id,
                patient_id=pid,
                position=0,
                reasons=["earlier"],
                status=HuddleItemStatus.DISCUSSED.value,
                outcome="Settled",
            )  # fmt: skip
        )
        return huddle.id, pid


def test_huddle_minutes_pdfs_and_record_text_show_london(world: World) -> None:
    from int_desk.services import huddle_export
    from int_desk.services import huddles as h

    hid, _pid = _closed_huddle_near_midnight(world)
    with world.session() as s:
        me = world.actor(s)
        view = h.huddle_view(session=s, actor=me, huddle_id=hid)
        minutes = h.minutes_text(view)
        agenda_pdf = _pdf_text(huddle_export.agenda_pdf_bytes(session=s, actor=me, huddle_id=hid))
        minutes_pdf = _pdf_text(huddle_export.minutes_pdf_bytes(session=s, actor=me, huddle_id=hid))
        huddle = s.get(m.Huddle, hid)
        record_lines = h.contact_lines(s, huddle, view.items[0])
    assert "Monday 1 Jun 2026 00:30" in minutes
    assert "Started 00:30, closed 00:55" in minutes
    assert "Mon 1 Jun 2026, 00:30" in agenda_pdf and "31 May" not in agenda_pdf
    assert "Mon 1 Jun 2026, 00:30" in minutes_pdf and "00:55" in minutes_pdf
    assert record_lines[0].endswith("huddle on 1 Jun 2026.")


def test_huddle_page_lists_and_heads_the_huddle_in_london(qtbot: QtBot, world: World) -> None:
    from int_desk.app.huddle_dialogs import PlanDialog
    from int_desk.app.huddle_page import MINUTES, HuddlePage

    _closed_huddle_near_midnight(world)
    ctx = _ctx(world)
    page = HuddlePage(ctx)
    qtbot.addWidget(page)
    page.show()
    qtbot.waitUntil(lambda: page.stack.currentIndex() == MINUTES and not page.busy)
    assert page.huddle_combo.itemText(0).startswith("Mon 1 Jun 2026 00:30")
    assert "Mon 1 Jun 2026 00:30" in page.status.text()
    # a huddle planned for 09:00 is 09:00 in London, not on this computer's clock
    members = [(world.coordinator_id, "Coordinator", "Care coordinator", False)]
    dialog = PlanDialog(members, me=world.coordinator_id, kind="daily")
    qtbot.addWidget(dialog)
    assert dialog.values()["scheduled_at"] == london_wall(london_today(), time(9, 0))
    ctx.tasks.wait()


def test_printed_at_on_care_plan_huddle_and_scorecard_pdfs_is_london(
    world: World, tmp_path: Path
) -> None:
    from int_desk.domain.scorecard import ScorecardQuery
    from int_desk.reports import huddle_pdf
    from int_desk.reports.care_plan_pdf import render_care_plan
    from int_desk.services import care_plan_views, huddle_export, scorecard_export
    from int_desk.services import care_plans as cp
    from int_desk.services import huddles as h
    from int_desk.services import scorecard as sc

    hid, pid = _closed_huddle_near_midnight(world)
    with world.session() as s:
        me = world.actor(s)
        view = h.huddle_view(session=s, actor=me, huddle_id=hid)
        card = sc.scorecard(
            session=s, actor=me, today=date(2026, 6, 1),
            query=ScorecardQuery(start=date(2026, 1, 1), end=date(2026, 6, 1),
                                 team_ids=(world.team_id,)),
        )  # fmt: skip
        gp = world.actor(s, world.gp_id)
        draft = cp.start_plan(session=s, actor=gp, patient_id=pid)
        plan = care_plan_views.plan_view(session=s, actor=gp, plan_id=draft.id)
    texts = {
        "huddle": _pdf_text(
            huddle_pdf.agenda_pdf(
                huddle_export.agenda_doc(view), printed_by="Dana", printed_at=NEAR_MIDNIGHT
            )
        ),
        "scorecard": _pdf_text(scorecard_export.pdf_bytes(card, me, at=NEAR_MIDNIGHT)),
        "care plan": _pdf_text(
            render_care_plan(
                plan, printed_by="Dana", printed_at=NEAR_MIDNIGHT, today=date(2026, 6, 1)
            )
        ),
    }
    for what, text in texts.items():
        assert "on 1 Jun 2026 00:30 BST" in text, what
        assert "31 May 2026" not in text, what


def test_sync_bar_waiting_list_and_conflicts_show_london(far_from_london: None) -> None:
    from int_desk.app.conflicts_page import _when
    from int_desk.app.sync_status import last_synced
    from int_desk.app.waiting_dialog import when_text

    later_that_morning = NEAR_MIDNIGHT + timedelta(hours=8)  # 08:30 BST, 1 June
    assert last_synced(NEAR_MIDNIGHT.isoformat(), later_that_morning) == "Last synced 00:30"
    next_day = NEAR_MIDNIGHT + timedelta(days=1, hours=8)
    assert last_synced(NEAR_MIDNIGHT.isoformat(), next_day) == "Last synced yesterday 00:30"
    assert when_text(NEAR_MIDNIGHT) == "01 Jun 2026 00:30"
    assert _when(NEAR_MIDNIGHT.isoformat()) == "1 Jun 00:30"
    assert _when(NEAR_MIDNIGHT.replace(tzinfo=None)) == "1 Jun 00:30"  # stored naive is UTC


def test_audit_page_and_plan_history_show_london(qtbot: QtBot, far_from_london: None) -> None:
    from int_desk.app.audit_page import AuditTableModel
    from int_desk.services.audit_log import AuditRow
    from int_desk.services.care_plan_views import VersionInfo

    model = AuditTableModel()
    model.set_rows(
        [
            AuditRow(seq=1, recorded_at=NEAR_MIDNIGHT, action=AuditAction.READ,
                     entity_type="patient", entity_id=None, patient_id=None,
                     patient_nhs_number="", actor_id=None, actor_name="Dana",
                     actor_role="GP", detail="", hash="x")
        ]
    )  # fmt: skip
    assert model.data(model.index(0, 0)) == "2026-06-01 00:30:00"
    version = VersionInfo(
        plan_id=uuid.uuid4(), version=2, status="signed_off", created_at=NEAR_MIDNIGHT,
        created_by="Dana", updated_at=NEAR_MIDNIGHT, updated_by="Dana",
        signed_off_at=NEAR_MIDNIGHT, signed_off_by="Dr Penn", review_date=None,
    )  # fmt: skip
    assert "signed off 01 Jun 2026 00:30 BST by Dr Penn" in version.describe()


def test_a_contact_time_typed_in_a_form_is_londons_clock(qtbot: QtBot, world: World) -> None:
    from int_desk.app.patient_dialogs import ActionDialog, Field
    from int_desk.services import patient_actions as pa
    from int_desk.services import patient_record as pr

    fields = [Field("occurred_at", "When", "datetime")]
    dialog = ActionDialog(_ctx(world), "Record a contact", "", fields, lambda s, v: None)
    qtbot.addWidget(dialog)
    dialog.set_value("occurred_at", NEAR_MIDNIGHT)
    assert dialog.widgets["occurred_at"].dateTime().toString("dd MMM yyyy HH:mm") == (
        "01 Jun 2026 00:30"
    )
    assert dialog.values()["occurred_at"] == NEAR_MIDNIGHT
    pid = world.patient("Bea Latenight", enrolled_days_ago=20)
    with world.session() as s:
        contact = pa.add_contact(
            session=s, actor=world.actor(s), patient_id=pid, kind="phone_call",
            text="Rang back", occurred_at=datetime(2026, 6, 1, 0, 30),  # naive: a form's wall clock
        )  # fmt: skip
        assert contact.occurred_at == NEAR_MIDNIGHT
        record = pr.patient_record(session=s, actor=world.actor(s), patient_id=pid)
    assert [t.when for t in record.timeline if t.kind == "contact"] == [NEAR_MIDNIGHT]
