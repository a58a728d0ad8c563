"""A huddle run through the real Qt page (pytest-qt, offscreen): plan, reorder, run with the
keyboard, record a task and a home visit, defer one person, close; then look where the results
must appear: the patient timeline, My tasks, the next huddle's agenda and the minutes PDF."""

from __future__ import annotations

import io
from collections.abc import Iterator
from datetime import time, timedelta
from pathlib import Path

import pytest
from pypdf import PdfReader
from PySide6.QtCore import QDate, QDeadlineTimer, Qt, QTimer
from PySide6.QtWidgets import QApplication, QDialogButtonBox, QMessageBox
from pytestqt.qtbot import QtBot

from int_desk.app.context import AppContext
from int_desk.app.events import Events
from int_desk.app.huddle_dialogs import ActionDialog, PlanDialog
from int_desk.app.huddle_page import AGENDA, EMPTY, MINUTES, RUN, HuddlePage
from int_desk.app.main import settings
from int_desk.app.my_tasks_page import MyTasksPage
from int_desk.app.tasks import TaskRunner
from int_desk.domain.vocab import HealthEventKind, Priority
from int_desk.services import huddles as h
from int_desk.services import patient_record as pr
from int_desk.services.identity import actor_for
from tests.helpers.huddle_world import World, build_world

CTRL = Qt.KeyboardModifier.ControlModifier
ALT = Qt.KeyboardModifier.AltModifier
# Waits are for conditions, never fixed sleeps; the limit only says when to give up (generous,
# so a busy machine does not fail a test that would pass).
WAIT = 30_000


@pytest.fixture
def world(tmp_path: Path) -> Iterator[World]:
    w = build_world(tmp_path / "ws")
    yield w
    w.ws.close()


def _ctx(world: World, member_id) -> AppContext:  # noqa: ANN001
    with world.session() as s:
        actor = actor_for(s, member_id)
    return AppContext(world.ws, actor, Events(), TaskRunner(), settings())


def _accept_next_message_box(button_text: str) -> list[str]:
    """Click the named button of the next modal confirmation (the real QMessageBox). The list
    returned holds the box's text once it was answered: a key that opened no box is seen at
    once instead of leaving this waiting to answer a later box."""
    answered: list[str] = []
    deadline = QDeadlineTimer(WAIT)

    def click() -> None:
        box = QApplication.activeModalWidget()
        if not isinstance(box, QMessageBox):
            if not deadline.hasExpired():
                QTimer.singleShot(20, click)
            return
        for b in box.buttons():
            if b.text().replace("&", "") == button_text:
                answered.append(box.text())
                b.click()
                return

    QTimer.singleShot(0, click)
    return answered


def _ok(dialog) -> None:  # noqa: ANN001
    dialog.buttons.button(QDialogButtonBox.StandardButton.Ok).click()


def _focus(qtbot: QtBot, page: HuddlePage, widget) -> None:  # noqa: ANN001
    """Give the page back the keyboard after a dialog (the window manager's job on a desktop)."""
    page.activateWindow()
    qtbot.waitUntil(lambda: QApplication.activeWindow() is page and not page.busy, timeout=WAIT)
    widget.setFocus()


def test_huddle_run_through(qtbot: QtBot, world: World, tmp_path: Path) -> None:
    rose = world.patient("Rose Abbott", enrolled_days_ago=20)
    world.event(rose, HealthEventKind.DISCHARGE.value, 1)
    bill = world.patient("Bill Carter", enrolled_days_ago=20)
    world.escalation(bill)
    iris = world.patient("Iris Newcombe", enrolled_days_ago=2, priority=Priority.HIGH)

    ctx = _ctx(world, world.coordinator_id)
    page = HuddlePage(ctx)
    qtbot.addWidget(page)
    page.resize(1366, 768)
    page.show()
    qtbot.waitUntil(lambda: bool(page.members) and page.stack.currentIndex() == EMPTY, timeout=WAIT)
    _focus(qtbot, page, page)  # its shortcuts act in the active window only

    # --- plan (Ctrl+N), with the visiting pharmacist attending ------------------------------
    qtbot.keyClick(page, Qt.Key.Key_N, CTRL)
    dialog = page.dialog
    assert isinstance(dialog, PlanDialog) and dialog.isVisible()
    labels = [dialog.attendees.item(i).text() for i in range(dialog.attendees.count())]
    assert any("(visiting)" in t for t in labels)
    for i in range(dialog.attendees.count()):
        dialog.attendees.item(i).setCheckState(Qt.CheckState.Checked)
    with qtbot.waitSignal(page.loaded, timeout=WAIT):
        _ok(dialog)
    qtbot.waitUntil(
        lambda: page.stack.currentIndex() == AGENDA and page.agenda_list.count() == 3, timeout=WAIT
    )
    text = page.agenda_list.item(0).text() + page.agenda_list.item(1).text()
    assert "Open escalation" in text and "Discharged from hospital" in text
    assert "Zoë Lindqvist (Community pharmacist, visiting)" in page.status.text()

    # --- reorder with the keyboard -----------------------------------------------------------
    _focus(qtbot, page, page.agenda_list)
    page.agenda_list.setCurrentRow(0)
    first = page.agenda_list.item(0).data(Qt.ItemDataRole.UserRole)
    with qtbot.waitSignal(page.action_done, timeout=WAIT):
        qtbot.keyClick(page.agenda_list, Qt.Key.Key_Down, ALT)
    qtbot.waitUntil(
        lambda: page.agenda_list.item(1).data(Qt.ItemDataRole.UserRole) == first, timeout=WAIT
    )

    # --- start (Ctrl+Shift+S): run mode, one person at a time --------------------------------
    _focus(qtbot, page, page.agenda_list)
    with qtbot.waitSignal(page.action_done, timeout=WAIT):
        qtbot.keyClick(page.agenda_list, Qt.Key.Key_S, CTRL | Qt.KeyboardModifier.ShiftModifier)
    qtbot.waitUntil(lambda: page.stack.currentIndex() == RUN, timeout=WAIT)
    assert page.huddle_clock.text().startswith("Huddle 00:")
    assert page.item_clock.text().startswith("This person 00:")
    order = [i.patient_id for i in page.view.items]
    page.go_to(order.index(rose))
    qtbot.waitUntil(lambda: not page.busy and page.current_item().patient_id == rose, timeout=WAIT)
    qtbot.waitUntil(lambda: "Recent timeline" in page.patient_panel.toPlainText(), timeout=WAIT)
    assert "Rose Abbott" in page.patient_panel.toPlainText()

    page.outcome.setFocus()
    qtbot.keyClicks(page.outcome, "Home from hospital; managing stairs with help.")
    qtbot.keyClicks(page.decisions, "Increase care package to twice daily.")
    # A task for the district nurse (Ctrl+T).
    qtbot.keyClick(page.outcome, Qt.Key.Key_T, CTRL)
    task_dialog = page.dialog
    assert isinstance(task_dialog, ActionDialog) and task_dialog.kind == "task"
    _ok(task_dialog)  # empty description: refused inline
    assert task_dialog.isVisible() and "required" in task_dialog.error.text()
    qtbot.keyClicks(task_dialog.text, "Review medicines after discharge")
    task_dialog.owner.setCurrentIndex(task_dialog.owner.findData(str(world.nurse_id)))
    task_dialog.due.setDate(QDate.currentDate().addDays(3))
    with qtbot.waitSignal(page.action_done, timeout=WAIT):
        _ok(task_dialog)
    # A home visit by the district nurse tomorrow (Ctrl+H).
    _focus(qtbot, page, page.outcome)
    qtbot.keyClick(page.outcome, Qt.Key.Key_H, CTRL)
    visit = page.dialog
    assert isinstance(visit, ActionDialog) and visit.kind == "home_visit"
    visit.owner.setCurrentIndex(visit.owner.findData(str(world.nurse_id)))
    qtbot.keyClicks(visit.text, "Check pressure areas")
    with qtbot.waitSignal(page.action_done, timeout=WAIT):
        _ok(visit)
    qtbot.waitUntil(lambda: page.actions_list.count() == 2, timeout=WAIT)
    # The outcome typed before the dialogs is still there (saved with the item).
    assert page.outcome.toPlainText() == "Home from hospital; managing stairs with help."
    _focus(qtbot, page, page.outcome)
    with qtbot.waitSignal(page.action_done, timeout=WAIT) as done:
        qtbot.keyClick(page.outcome, Qt.Key.Key_Return, CTRL)
    assert done.args == ["discussed"]

    # --- defer Bill (Ctrl+D), with the reason in the outcome box ------------------------------
    qtbot.waitUntil(lambda: not page.busy, timeout=WAIT)
    page.go_to(order.index(bill))
    qtbot.waitUntil(lambda: not page.busy and page.current_item().patient_id == bill, timeout=WAIT)
    qtbot.keyClicks(page.outcome, "Awaiting GP home assessment")
    with qtbot.waitSignal(page.action_done, timeout=WAIT):
        qtbot.keyClick(page.outcome, Qt.Key.Key_D, CTRL)
    # --- Iris discussed ----------------------------------------------------------------------
    qtbot.waitUntil(lambda: not page.busy, timeout=WAIT)
    page.go_to(order.index(iris))
    qtbot.waitUntil(lambda: not page.busy and page.current_item().patient_id == iris, timeout=WAIT)
    qtbot.keyClicks(page.outcome, "Settling in; no new concerns.")
    with qtbot.waitSignal(page.action_done, timeout=WAIT):
        qtbot.keyClick(page.outcome, Qt.Key.Key_Return, CTRL)
    qtbot.waitUntil(lambda: all(i.status != "pending" for i in page.view.items), timeout=WAIT)
    marks = [page.run_list.item(i).text()[0] for i in range(page.run_list.count())]
    assert sorted(marks) == sorted(["✓", "✓", "↷"])

    # --- close (Ctrl+Shift+C, confirmed): minutes ---------------------------------------------
    asked = _accept_next_message_box("Close huddle")
    with qtbot.waitSignal(page.action_done, timeout=WAIT):
        qtbot.keyClick(page.outcome, Qt.Key.Key_C, CTRL | Qt.KeyboardModifier.ShiftModifier)
    assert len(asked) == 1
    qtbot.waitUntil(lambda: page.stack.currentIndex() == MINUTES, timeout=WAIT)
    minutes = page.minutes_text.toPlainText()
    for text in (
        "Home from hospital; managing stairs with help.",
        "Increase care package to twice daily.",
        "Task: Review medicines after discharge (Nia Okafor, due",
        "Home visit: Check pressure areas (Nia Okafor, on",
        "Why deferred: Awaiting GP home assessment",
        "Settling in; no new concerns.",
        "2 discussed, 1 deferred, 0 not reached",
    ):
        assert text in minutes, text
    pdf_path = tmp_path / "minutes.pdf"
    with qtbot.waitSignal(page.action_done, timeout=WAIT):
        page.export_pdf("minutes", pdf_path)
    pdf_text = " ".join(
        " ".join(
            p.extract_text() for p in PdfReader(io.BytesIO(pdf_path.read_bytes())).pages
        ).split()
    )
    for text in (
        "Home from hospital; managing stairs with help.",
        "Increase care package to twice daily.",
        "Review medicines after discharge",
        "Check pressure areas",
        "Awaiting GP home assessment",
        "Settling in; no new concerns.",
    ):
        assert text in pdf_text, text

    # --- the patient timeline ----------------------------------------------------------------
    with world.session() as s:
        record = pr.patient_record(session=s, actor=world.actor(s), patient_id=rose)
    discussion = [
        t for t in record.timeline if "Home from hospital" in t.text and t.kind == "contact"
    ]
    assert discussion and "Huddle" in discussion[0].label
    assert any("Review medicines after discharge" in t.description for t in record.open_tasks)

    # --- the nurse's My tasks ----------------------------------------------------------------
    nurse_page = MyTasksPage(_ctx(world, world.nurse_id))
    qtbot.addWidget(nurse_page)
    qtbot.waitUntil(lambda: nurse_page.model.rowCount() == 2, timeout=WAIT)
    shown = [
        nurse_page.model.data(nurse_page.model.index(r, c))
        for r in range(2)
        for c in range(nurse_page.model.columnCount())
    ]
    assert any("Review medicines after discharge" in str(v) for v in shown)
    assert any("Check pressure areas" in str(v) for v in shown)

    # --- the next huddle: Bill rolls over ----------------------------------------------------
    tomorrow = world.today + timedelta(days=1)
    with qtbot.waitSignal(page.loaded, timeout=WAIT):
        page.plan(scheduled_at=h.local_datetime(tomorrow, time(9, 0)))
    qtbot.waitUntil(lambda: page.stack.currentIndex() == AGENDA, timeout=WAIT)
    rows = [page.agenda_list.item(i).text() for i in range(page.agenda_list.count())]
    carried = [r for r in rows if "Bill Carter" in r]
    assert carried and "↻" in carried[0]
    assert "Deferred at the huddle on" in carried[0] and "Awaiting GP home assessment" in carried[0]
    assert not any("Rose Abbott" in r for r in rows)
    ctx.tasks.wait()


def test_remove_needs_confirmation_and_can_be_undone(qtbot: QtBot, world: World) -> None:
    world.patient("Ada One", enrolled_days_ago=2)
    world.patient("Ben Two", enrolled_days_ago=2)
    ctx = _ctx(world, world.coordinator_id)
    with world.session() as s:
        h.plan_huddle(
            session=s, actor=world.actor(s), team_id=world.team_id,
            scheduled_at=h.local_datetime(world.today, time(9, 0)),
        )  # fmt: skip
    page = HuddlePage(ctx)
    qtbot.addWidget(page)
    page.show()
    qtbot.waitUntil(lambda: page.agenda_list.count() == 2, timeout=WAIT)
    # The shortcuts act in the active window only: wait for it before each key.
    _focus(qtbot, page, page.agenda_list)
    page.agenda_list.setCurrentRow(0)
    asked = _accept_next_message_box("Cancel")
    qtbot.keyClick(page.agenda_list, Qt.Key.Key_Delete)  # returns once the box is answered
    assert len(asked) == 1 and "off this huddle's agenda" in asked[0]
    assert page.agenda_list.count() == 2  # cancelled: nothing removed
    _focus(qtbot, page, page.agenda_list)
    asked = _accept_next_message_box("Remove")
    with qtbot.waitSignal(page.action_done, timeout=WAIT):
        qtbot.keyClick(page.agenda_list, Qt.Key.Key_Delete)
    assert len(asked) == 1
    qtbot.waitUntil(lambda: page.agenda_list.count() == 1, timeout=WAIT)
    assert page.undo_button.isVisible()
    _focus(qtbot, page, page.agenda_list)
    with qtbot.waitSignal(page.action_done, timeout=WAIT):
        qtbot.keyClick(page.agenda_list, Qt.Key.Key_Z, CTRL)
    qtbot.waitUntil(lambda: page.agenda_list.count() == 2, timeout=WAIT)
    ctx.tasks.wait()


def test_typed_outcome_is_kept_when_the_workspace_locks(qtbot: QtBot, world: World) -> None:
    pid = world.patient("Ada Lock", enrolled_days_ago=2)
    with world.session() as s:
        me = world.actor(s)
        hid = h.plan_huddle(
            session=s, actor=me, team_id=world.team_id,
            scheduled_at=h.local_datetime(world.today, time(9, 0)),
        ).id  # fmt: skip
        h.start_huddle(session=s, actor=me, huddle_id=hid)
    ctx = _ctx(world, world.coordinator_id)
    page = HuddlePage(ctx)
    qtbot.addWidget(page)
    page.show()
    qtbot.waitUntil(lambda: page.stack.currentIndex() == RUN and not page.busy, timeout=WAIT)
    assert page.current_item().patient_id == pid
    qtbot.keyClicks(page.outcome, "Half-typed when the screen locked")
    ctx.tasks.wait()
    page.save_drafts()  # what the lock controller calls before closing the store
    assert not page.timer.isActive()
    with world.session() as s:
        view = h.huddle_view(session=s, actor=world.actor(s), huddle_id=hid)
    assert view.items[0].outcome == "Half-typed when the screen locked"
    page.restore_drafts(None)
    assert page.timer.isActive()
    assert page.outcome.toPlainText() == "Half-typed when the screen locked"
    ctx.tasks.wait()


def test_attendees_can_change_and_the_agenda_refreshes_before_the_start(
    qtbot: QtBot, world: World
) -> None:
    world.patient("Ada One", enrolled_days_ago=2)
    with world.session() as s:
        h.plan_huddle(
            session=s, actor=world.actor(s), team_id=world.team_id,
            scheduled_at=h.local_datetime(world.today + timedelta(days=1), time(9, 0)),
            attendee_ids=[world.nurse_id, world.pharmacist_id],
        )  # fmt: skip
    ctx = _ctx(world, world.coordinator_id)
    page = HuddlePage(ctx)
    qtbot.addWidget(page)
    page.show()
    qtbot.waitUntil(lambda: page.agenda_list.count() == 1 and not page.busy, timeout=WAIT)
    assert "Zoë Lindqvist" in page.status.text()
    page.attendees_dialog()
    dialog = page.dialog
    assert isinstance(dialog, PlanDialog)
    for i in range(dialog.attendees.count()):
        item = dialog.attendees.item(i)
        if item.data(Qt.ItemDataRole.UserRole) == str(world.pharmacist_id):
            item.setCheckState(Qt.CheckState.Unchecked)
        if item.data(Qt.ItemDataRole.UserRole) == str(world.gp_id):
            item.setCheckState(Qt.CheckState.Checked)
    with qtbot.waitSignal(page.action_done, timeout=WAIT):
        _ok(dialog)
    qtbot.waitUntil(lambda: not page.busy and "Dr Sam Patel" in page.status.text(), timeout=WAIT)
    assert "Zoë Lindqvist" not in page.status.text()
    late = world.patient("Lou Late", enrolled_days_ago=20)
    world.event(late, HealthEventKind.DISCHARGE.value, 0)
    with qtbot.waitSignal(page.action_done, timeout=WAIT):
        page.refresh_agenda()
    qtbot.waitUntil(lambda: page.agenda_list.count() == 2 and not page.busy, timeout=WAIT)
    assert "Lou Late" in page.agenda_list.item(1).text()
    ctx.tasks.wait()
