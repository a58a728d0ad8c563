"""The caseload desk on the real main window over a real encrypted demo workspace."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path

import pytest
from PySide6.QtCore import Qt
from PySide6.QtGui import QFont, QFontMetricsF
from pytestqt.qtbot import QtBot
from sqlalchemy import func, select

from int_desk.app.caseload_model import PatientIdRole, RowRole
from int_desk.app.caseload_page import CaseloadPage
from int_desk.app.main import make_context
from int_desk.app.main_window import MainWindow
from int_desk.app.my_tasks_page import HEADERS, MyTasksPage
from int_desk.app.patient_pane import PANE_WIDTH
from int_desk.domain.actor import Actor
from int_desk.domain.uk_time import london_today
from int_desk.domain.vocab import Role
from int_desk.services import caseload as cl
from int_desk.services import patient_actions as pa
from int_desk.services.identity import actor_for, current_actor, set_current_member
from int_desk.store.models import (
    Cohort,
    CohortMembership,
    Member,
    Patient,
    Referral,
    Task,
    TeamMembership,
)
from int_desk.store.workspace import Workspace
from tests.conftest import PASSPHRASE
from tests.helpers.actors import actor_of_role

WAIT = 15_000


def _open(qtbot: QtBot, directory: Path, active: bool = True) -> tuple[MainWindow, CaseloadPage]:
    ws = Workspace.open(directory, PASSPHRASE)
    window = MainWindow(make_context(ws))
    qtbot.addWidget(window)
    window.resize(1366, 768)
    window.show()
    window.activateWindow()
    if active:  # shortcuts need an active window
        qtbot.waitUntil(window.isActiveWindow, timeout=WAIT)
    page = window.pages["CaseloadPage"]
    assert window.form.pageStack.currentWidget() is page  # the caseload is the first page
    qtbot.waitUntil(lambda: page.model.rowCount() > 0, timeout=WAIT)
    return window, page


@pytest.fixture
def desk(qtbot: QtBot, demo_dir: Path) -> Iterator[tuple[MainWindow, CaseloadPage]]:
    window, page = _open(qtbot, demo_dir)
    yield window, page
    window.close()


def _row(page: CaseloadPage, row: int) -> cl.CaseloadRow:
    return page.model.data(page.model.index(row, 0), RowRole)


def _settle(qtbot: QtBot, page: CaseloadPage) -> None:
    qtbot.waitUntil(lambda: not page._busy, timeout=WAIT)


def _open_row(qtbot: QtBot, page: CaseloadPage, row: int) -> cl.CaseloadRow:
    target = _row(page, row)
    page.table.setFocus()
    page.table.selectRow(row)
    qtbot.waitUntil(
        lambda: page.record is not None and page.record.patient_id == target.patient_id,
        timeout=WAIT,
    )
    return target


def test_search_by_nhs_number_with_spaces_finds_the_patient(
    qtbot: QtBot, desk: tuple[MainWindow, CaseloadPage]
) -> None:
    _window, page = desk
    total = page.model.rowCount()
    target = _row(page, total // 2)
    page.table.setFocus()
    qtbot.keyClick(page.table, Qt.Key.Key_F, Qt.KeyboardModifier.ControlModifier)
    assert page.search.hasFocus()
    qtbot.keyClicks(page.search, target.nhs_display)  # "999 123 4567", typed with spaces
    qtbot.waitUntil(lambda: page.model.rowCount() == 1, timeout=WAIT)
    _settle(qtbot, page)
    assert page.model.rowCount() == 1
    assert _row(page, 0).patient_id == target.patient_id
    assert page.count_label.text() == "1 person"
    page.search.clear()
    qtbot.keyClicks(page.search, target.nhs_number[:4])  # and without spaces, partial
    qtbot.waitUntil(lambda: 1 < page.model.rowCount() < total, timeout=WAIT)
    _settle(qtbot, page)
    ids = {
        page.model.data(page.model.index(r, 0), PatientIdRole) for r in range(page.model.rowCount())
    }
    assert target.patient_id in ids
    # Enter opens the first result; Alt+Down / Alt+Up walk the list.
    first = _row(page, 0).patient_id
    qtbot.keyClick(page.search, Qt.Key.Key_Return)
    qtbot.waitUntil(lambda: page.record and page.record.patient_id == first, timeout=WAIT)
    qtbot.keyClick(page.table, Qt.Key.Key_Down, Qt.KeyboardModifier.AltModifier)
    qtbot.waitUntil(lambda: page.record.patient_id != first, timeout=WAIT)
    qtbot.keyClick(page.table, Qt.Key.Key_Up, Qt.KeyboardModifier.AltModifier)
    qtbot.waitUntil(lambda: page.record.patient_id == first, timeout=WAIT)


def test_filters_combine(qtbot: QtBot, desk: tuple[MainWindow, CaseloadPage]) -> None:
    _window, page = desk
    total = page.model.rowCount()
    page.priority_combo.setCurrentIndex(page.priority_combo.findData("high"))
    qtbot.waitUntil(lambda: 0 < page.model.rowCount() < total, timeout=WAIT)
    _settle(qtbot, page)
    high = page.model.rowCount()
    page.flag_combo.setCurrentIndex(page.flag_combo.findData("lives_alone"))
    qtbot.waitUntil(lambda: 0 < page.model.rowCount() < high, timeout=WAIT)
    _settle(qtbot, page)
    rows = [_row(page, r) for r in range(page.model.rowCount())]
    assert all(r.priority.value == "high" and "lives_alone" in r.flags for r in rows)
    with page.ctx.workspace.session() as s:
        expected = cl.query_keys(
            session=s, actor=current_actor(s),
            filters=cl.CaseloadFilter(priorities=["high"], flags=["lives_alone"]),
        )  # fmt: skip
    assert page.model.keys == expected
    assert page.count_label.text() == f"{len(expected)} people"
    # Header click sorts in the store: by age, oldest first when descending.
    page.table.horizontalHeader().setSortIndicator(cl.Col.AGE, Qt.SortOrder.DescendingOrder)
    qtbot.waitUntil(lambda: page.filters.sort == "age", timeout=WAIT)
    _settle(qtbot, page)
    ages = [_row(page, r).date_of_birth for r in range(page.model.rowCount())]
    assert ages == sorted(ages)
    page.clear_button.click()
    qtbot.waitUntil(lambda: page.model.rowCount() == total, timeout=WAIT)


def test_saved_view_round_trips_and_is_remembered(qtbot: QtBot, demo_dir: Path) -> None:
    window, page = _open(qtbot, demo_dir)
    total = page.model.rowCount()
    page.plan_combo.setCurrentIndex(page.plan_combo.findData("review_overdue"))
    page.priority_combo.setCurrentIndex(page.priority_combo.findData("medium"))
    qtbot.waitUntil(lambda: 0 < page.model.rowCount() < total, timeout=WAIT)
    _settle(qtbot, page)
    wanted = list(page.model.keys)
    page.save_view("Medium, review overdue")
    qtbot.waitUntil(lambda: page.view_combo.findData("Medium, review overdue") >= 0, timeout=WAIT)
    _settle(qtbot, page)
    page.clear_button.click()
    qtbot.waitUntil(lambda: page.model.rowCount() == total, timeout=WAIT)
    page.apply_view("Reviews overdue")  # a built-in
    qtbot.waitUntil(lambda: page.overdue_check.isChecked(), timeout=WAIT)
    _settle(qtbot, page)
    assert all(_row(page, r).review_overdue(london_today()) for r in range(page.model.rowCount()))
    index = page.view_combo.findData("Medium, review overdue")
    page.view_combo.setCurrentIndex(index)
    page.view_combo.activated.emit(index)
    qtbot.waitUntil(lambda: page.model.keys == wanted, timeout=WAIT)
    assert page.priority_combo.currentData() == "medium"
    assert page.plan_combo.currentData() == "review_overdue"
    someone = _row(page, 0)
    window.close()
    page.ctx.settings.sync()
    # The last view is remembered (by name only) and comes back after reopening.
    settings_text = Path(page.ctx.settings.fileName()).read_text(encoding="utf-8")
    assert "Medium, review overdue" in settings_text
    assert all(n not in settings_text for n in (someone.family_name, someone.nhs_number))
    window2, page2 = _open(qtbot, demo_dir)
    qtbot.waitUntil(lambda: page2.model.keys == wanted, timeout=WAIT)
    assert page2.view_combo.currentData() == "Medium, review overdue"
    window2.close()


def test_add_contact_appears_in_timeline_and_survives_reopening(
    qtbot: QtBot, demo_dir: Path
) -> None:
    window, page = _open(qtbot, demo_dir)
    target = _open_row(qtbot, page, 5)
    qtbot.keyClick(page.table, Qt.Key.Key_C,
                   Qt.KeyboardModifier.ControlModifier | Qt.KeyboardModifier.ShiftModifier)  # fmt: skip
    dialog = page.pane.dialog
    assert dialog is not None and dialog.isVisible() and dialog.windowTitle() == "Add contact"
    dialog.set_value("kind", "phone_call")
    dialog.ok.click()  # empty text: an inline error, nothing saved
    qtbot.waitUntil(lambda: dialog.error.isVisible(), timeout=WAIT)
    assert "required" in dialog.error.text()
    qtbot.keyClicks(dialog.widgets["text"], "Rang daughter; carer coping, synthetic test note 4711")
    with qtbot.waitSignal(page.record_shown, timeout=WAIT):
        dialog.ok.click()
    qtbot.waitUntil(
        lambda: "synthetic test note 4711" in page.pane.browser.toPlainText(), timeout=WAIT
    )
    assert "Phone call" in page.pane.browser.toPlainText()
    window.close()

    window2, page2 = _open(qtbot, demo_dir)
    page2.search.setText(target.nhs_display)
    qtbot.waitUntil(lambda: page2.model.rowCount() == 1, timeout=WAIT)
    _settle(qtbot, page2)
    _open_row(qtbot, page2, 0)
    qtbot.waitUntil(
        lambda: "synthetic test note 4711" in page2.pane.browser.toPlainText(), timeout=WAIT
    )
    # ... and the caseload's "last contact" column now says today.
    assert _row(page2, 0).last_contact.date() >= london_today() - timedelta(days=1)
    window2.close()


def test_allocating_a_task_shows_in_the_owners_my_tasks(qtbot: QtBot, demo_dir: Path) -> None:
    window, page = _open(qtbot, demo_dir)
    target = _open_row(qtbot, page, 3)
    with page.ctx.workspace.session() as s:
        actor = current_actor(s)
        nurse_id, nurse_name = s.execute(
            select(Member.id, Member.name)
            .join(TeamMembership, TeamMembership.member_id == Member.id)
            .where(TeamMembership.team_id.in_(actor.team_ids), Member.role == "district_nurse")
            .order_by(Member.name)
        ).first()
    page.pane.buttons["task"].click()
    dialog = page.pane.dialog
    assert dialog is not None and dialog.windowTitle() == "Allocate task"
    qtbot.keyClicks(dialog.widgets["description"], "Check pressure areas (test 8842)")
    dialog.set_value("owner_member_id", nurse_id.hex)
    dialog.set_value("owner_role", "district_nurse")
    dialog.set_value("due_on", london_today() + timedelta(days=2))
    with qtbot.waitSignal(dialog.done, timeout=WAIT):
        dialog.ok.click()
    qtbot.waitUntil(lambda: "test 8842" in page.pane.browser.toPlainText(), timeout=WAIT)
    assert nurse_name in page.pane.browser.toPlainText()
    window.close()

    # The district nurse signs in: the task is in their My tasks.
    with Workspace.open(demo_dir, PASSPHRASE) as ws, ws.session() as s:
        set_current_member(s, nurse_id)
    window2, _page2 = _open(qtbot, demo_dir)
    window2.show_page("MyTasksPage")
    tasks: MyTasksPage = window2.pages["MyTasksPage"]
    qtbot.waitUntil(lambda: tasks.model.rowCount() > 0, timeout=WAIT)
    task_col = HEADERS.index("Task")
    shown = [
        tasks.model.data(tasks.model.index(r, task_col)) for r in range(tasks.model.rowCount())
    ]
    assert "Check pressure areas (test 8842)" in shown
    row = shown.index("Check pressure areas (test 8842)")
    assert tasks.model.data(tasks.model.index(row, HEADERS.index("Allocated to"))) == "You"
    # Overdue tasks come first.
    overdue = [tasks.model.tasks[r].overdue(london_today()) for r in range(tasks.model.rowCount())]
    assert overdue == sorted(overdue, reverse=True)
    # Open patient jumps to the caseload with the person's record.
    tasks.table.selectRow(row)
    tasks.open_button.click()
    page2 = window2.pages["CaseloadPage"]
    qtbot.waitUntil(
        lambda: page2.record is not None and page2.record.patient_id == target.patient_id,
        timeout=WAIT,
    )
    window2.close()


BAD_CSV = (
    "NHS Number,Forename,Surname,Date of Birth,Postcode,Practice Code,Reason for inclusion\n"
    "999 476 5914,Ann,Example,01/02/1940,OX26 1AB,X90000,Frailty: eFI severe\n"
    "1234567890,Bob,Bad,01/02/1940,OX26 1AB,X90000,x\n"
    "999 476 5876,Cy,Dated,31/02/1940,OX26 1AB,X90000,x\n"
    "999 476 5841,Di,Nowhere,05/05/1950,,X90000,x\n"
    "999 476 5833,Ed,Good,05/05/1950,OX26 3AB,X90001,Multimorbidity\n"
)


def _counts(ws: Workspace) -> tuple[int, int]:
    with ws.session() as s:
        return (
            s.scalar(select(func.count()).select_from(Patient)),
            s.scalar(select(func.count()).select_from(CohortMembership)),
        )


def test_import_preview_rejects_bad_rows_writes_nothing_and_reimport_is_idempotent(
    qtbot: QtBot, desk: tuple[MainWindow, CaseloadPage], tmp_path: Path
) -> None:
    _window, page = desk
    before = _counts(page.ctx.workspace)
    csv_file = tmp_path / "phm.csv"
    csv_file.write_text(BAD_CSV, encoding="utf-8")
    page.import_button.click()
    d = page.import_dialog
    qtbot.waitUntil(lambda: d.cohort_combo.count() > 0, timeout=WAIT)
    d.load_file(csv_file)
    assert (
        d.mapping()["NHS Number"] == "nhs_number"
        and d.mapping()["Date of Birth"] == "date_of_birth"
    )
    with qtbot.waitSignal(d.previewed, timeout=WAIT):
        d.preview_button.click()
    report = {
        d.report.item(r, 0).text(): d.report.item(r, 2).text() for r in range(d.report.rowCount())
    }
    assert "invalid NHS number" in report["3"]
    assert "date of birth is not a date" in report["4"]
    assert "postcode is needed" in report["5"]
    assert "3 rejected" in d.summary.text() and "2 new" in d.summary.text()
    assert d.import_button.text() == "Import 2 valid rows (skip 3 rejected)"
    assert _counts(page.ctx.workspace) == before  # the preview wrote nothing
    d.close()  # the user walks away: still nothing written
    assert _counts(page.ctx.workspace) == before

    page.open_import()
    d = page.import_dialog
    qtbot.waitUntil(lambda: d.cohort_combo.count() > 0, timeout=WAIT)
    d.load_file(csv_file)
    with qtbot.waitSignal(d.previewed, timeout=WAIT):
        d.preview_button.click()
    with qtbot.waitSignal(d.imported, timeout=WAIT) as blocker:
        d.import_button.click()
    assert blocker.args[0].created_patients == 2 and blocker.args[0].enrolled == 2
    after = _counts(page.ctx.workspace)
    assert after == (before[0] + 2, before[1] + 2)
    # The caseload shows the new people.
    page.search.setText("999 476 5914")
    qtbot.waitUntil(lambda: page.model.rowCount() == 1, timeout=WAIT)

    # Re-importing the same file changes nothing.
    with qtbot.waitSignal(d.previewed, timeout=WAIT):
        d.preview_button.click()
    assert "2 unchanged" in d.summary.text() and not d.import_button.isEnabled()
    assert _counts(page.ctx.workspace) == after
    d.close()


def test_caseload_model_passes_qtmodeltester(qtmodeltester, desk) -> None:  # noqa: ANN001
    _window, page = desk
    qtmodeltester.check(page.model, force_py=True)
    assert page.model.rowCount() > 50
    tasks = desk[0].pages["MyTasksPage"]
    qtmodeltester.check(tasks.model, force_py=True)


def test_rows_are_marked_by_text_and_icon_not_colour_alone(
    qtbot: QtBot, desk: tuple[MainWindow, CaseloadPage]
) -> None:
    _window, page = desk
    m = page.model
    today = london_today()
    seen_high = seen_overdue = seen_tasks = False
    for r in range(m.rowCount()):
        row = _row(page, r)
        name = m.index(r, cl.Col.NAME)
        if row.priority.value == "high":
            seen_high = True
            assert "High" in m.data(m.index(r, cl.Col.PRIORITY))
            assert m.data(name, Qt.ItemDataRole.DecorationRole) is not None
            assert "high priority" in m.data(name, Qt.ItemDataRole.AccessibleTextRole)
        if row.review_overdue(today):
            seen_overdue = True
            review = m.index(r, cl.Col.NEXT_REVIEW)
            assert m.data(review).startswith("! ")
            assert "overdue" in m.data(review, Qt.ItemDataRole.AccessibleTextRole)
            assert "overdue" in m.data(review, Qt.ItemDataRole.ToolTipRole)
            assert m.data(m.index(r, cl.Col.PLAN)) == "Overdue"
            assert m.data(name, Qt.ItemDataRole.BackgroundRole) is not None
        if row.tasks_overdue(today):
            seen_tasks = True
            tasks = m.index(r, cl.Col.TASKS)
            # How many are late, in words: never a bare "! 2" when one of two is overdue.
            late = row.overdue_tasks
            assert 1 <= late <= row.open_tasks
            expected = (
                f"{late} late" if late == row.open_tasks else f"{row.open_tasks} ({late} late)"
            )
            assert m.data(tasks) == expected
            accessible = m.data(tasks, Qt.ItemDataRole.AccessibleTextRole)
            assert f"{late} overdue" in accessible
    assert seen_high and seen_overdue and seen_tasks


def test_page_is_usable_at_1366x768(qtbot: QtBot, desk: tuple[MainWindow, CaseloadPage]) -> None:
    window, page = desk
    window.resize(1366, 768)
    _open_row(qtbot, page, 0)
    qtbot.waitUntil(lambda: page.pane.buttons["contact"].isEnabled(), timeout=WAIT)
    assert window.minimumSizeHint().width() <= 1366
    assert page.pane.width() >= PANE_WIDTH and page.table.width() >= 500
    for b in page.pane.buttons.values():
        assert b.accessibleName() and b.width() >= b.sizeHint().width() - 2, b.text()
    for w in (page.search, page.view_combo, page.priority_combo, page.table, page.pane.browser):
        assert w.accessibleName()


def _tooltip_at(qtbot: QtBot, page: CaseloadPage, row: int, col: int) -> str:
    from PySide6.QtCore import QEvent
    from PySide6.QtGui import QHelpEvent
    from PySide6.QtWidgets import QApplication, QToolTip

    QToolTip.hideText()
    rect = page.table.visualRect(page.model.index(row, col))
    vp = page.table.viewport()
    event = QHelpEvent(QEvent.Type.ToolTip, rect.center(), vp.mapToGlobal(rect.center()))
    QApplication.sendEvent(vp, event)
    return QToolTip.text() if QToolTip.isVisible() else ""


def test_columns_fit_1366_wide_without_cutting_numbers_or_dates(
    qtbot: QtBot, desk: tuple[MainWindow, CaseloadPage]
) -> None:
    window, page = desk
    window.resize(1366, 768)
    _open_row(qtbot, page, 0)
    t = page.table
    h = t.horizontalHeader()
    qtbot.waitUntil(lambda: h.length() <= t.viewport().width(), timeout=WAIT)
    assert t.horizontalScrollBar().maximum() == 0  # no sideways scrolling to see a column
    assert page.pane.width() >= PANE_WIDTH
    t.viewport().repaint()  # the delegate measures in the table's font when it paints
    delegate = t.itemDelegate()
    identity = (cl.Col.NAME, cl.Col.NHS, cl.Col.AGE)  # full name, NHS number, date of birth
    for r in range(min(page.model.rowCount(), 25)):
        for col in (*identity, cl.Col.LAST_CONTACT, cl.Col.NEXT_REVIEW, cl.Col.PLAN):
            index = page.model.index(r, col)
            assert delegate.full_text_if_elided(index, h.sectionSize(col)) is None, (r, col)
        born = _row(page, r).date_of_birth
        assert page.model.data(page.model.index(r, cl.Col.AGE)).startswith(f"{born:%d %b %Y} (")
    # No header is cut short ("Co…"): every line of every label fits its column.
    bold = QFont(h.font())
    bold.setBold(True)
    metrics = QFontMetricsF(bold)
    for col in range(h.count()):
        label = page.model.headerData(col, Qt.Orientation.Horizontal)
        room = h.sectionSize(col) - 8 - (14 if col == h.sortIndicatorSection() else 0)
        for line in label.split("\n"):
            assert metrics.horizontalAdvance(line) <= room, (label, h.sectionSize(col))
    # Long text is elided, and the whole of it is in the cell's tooltip.
    name_col = cl.Col.NAME
    page.table.horizontalHeader().resizeSection(cl.Col.LEAD, 40)
    row = next(
        r for r in range(page.model.rowCount())
        if delegate.full_text_if_elided(page.model.index(r, cl.Col.LEAD), 40)
    )  # fmt: skip
    lead = page.model.data(page.model.index(row, cl.Col.LEAD))
    qtbot.waitUntil(lambda: lead in _tooltip_at(qtbot, page, row, cl.Col.LEAD), timeout=WAIT)
    # A wider window gives the room to the name column first.
    before = h.sectionSize(name_col)
    page.columns.reset()
    narrow_name = h.sectionSize(name_col)
    window.resize(1700, 900)
    qtbot.waitUntil(lambda: h.sectionSize(name_col) > max(before, narrow_name), timeout=WAIT)
    assert h.length() <= t.viewport().width()


def test_column_widths_the_user_sets_are_kept_and_remembered(qtbot: QtBot, demo_dir: Path) -> None:
    window, page = _open(qtbot, demo_dir)
    h = page.table.horizontalHeader()
    assert not page.columns.user_sized
    h.resizeSection(cl.Col.COHORTS, 180)  # what dragging the divider does
    assert page.columns.user_sized
    window.resize(1500, 800)  # no longer refitted to the window
    qtbot.waitUntil(lambda: page.table.viewport().width() > 800, timeout=WAIT)
    assert h.sectionSize(cl.Col.COHORTS) == 180
    window.close()
    window2, page2 = _open(qtbot, demo_dir)
    h2 = page2.table.horizontalHeader()
    assert page2.columns.user_sized and h2.sectionSize(cl.Col.COHORTS) == 180
    # The header's menu puts the fitted widths back.
    page2.columns.reset()
    assert not page2.columns.user_sized
    assert h2.sectionSize(cl.Col.COHORTS) < 180
    assert h2.length() <= page2.table.viewport().width()
    window2.close()


def test_my_tasks_unknown_ids_are_refused_by_service(demo_ws: Workspace) -> None:
    from int_desk.domain.errors import NotFound
    from int_desk.services import patient_actions as pa

    with demo_ws.session() as s, pytest.raises(NotFound):
        pa.complete_task(session=s, actor=current_actor(s), task_id=uuid.uuid4())
    with demo_ws.session() as s:
        assert s.scalar(select(func.count()).select_from(Task)) > 0


def test_open_care_plan_button_opens_the_editor(
    qtbot: QtBot, desk: tuple[MainWindow, CaseloadPage]
) -> None:
    from PySide6.QtWidgets import QApplication

    from int_desk.app.care_plan_editor import CarePlanEditor

    _window, page = desk
    _open_row(qtbot, page, 1)
    button = page.pane.buttons["plan"]
    qtbot.waitUntil(button.isEnabled, timeout=WAIT)
    button.click()

    def editor() -> CarePlanEditor | None:
        found = [w for w in QApplication.topLevelWidgets() if isinstance(w, CarePlanEditor)]
        found += page.pane.findChildren(CarePlanEditor)
        return next((w for w in found if w.isVisible()), None)

    qtbot.waitUntil(lambda: editor() is not None, timeout=WAIT)
    editor().close()


def _shown_patients(page: CaseloadPage) -> set[uuid.UUID]:
    m = page.model
    return {m.data(m.index(r, 0), PatientIdRole) for r in range(m.rowCount())}


def _sign_in_vcse_worker(directory: Path) -> tuple[Actor, Actor, uuid.UUID]:
    """Sign the demo's busiest VCSE worker in; returns them, a care coordinator of their team,
    and a person on that team's caseload who was never referred to them."""
    with Workspace.open(directory, PASSPHRASE) as ws, ws.session() as s:
        vcse = actor_of_role(s, Role.VCSE_WORKER)
        coordinator_id = s.scalar(
            select(Member.id)
            .join(TeamMembership, TeamMembership.member_id == Member.id)
            .where(
                TeamMembership.team_id.in_(vcse.team_ids),
                Member.role == Role.CARE_COORDINATOR.value,
            )
            .order_by(Member.name)
            .limit(1)
        )
        coordinator = actor_for(s, coordinator_id)
        newcomer = s.scalar(
            select(CohortMembership.patient_id)
            .join(Cohort, Cohort.id == CohortMembership.cohort_id)
            .where(
                Cohort.team_id.in_(vcse.team_ids),
                Cohort.team_id.in_(coordinator.team_ids),
                CohortMembership.discharged_on.is_(None),
                CohortMembership.deleted.is_(False),
                CohortMembership.patient_id.not_in(
                    select(Referral.patient_id).where(Referral.to_member_id == vcse.member_id)
                ),
            )
            .order_by(CohortMembership.patient_id)
            .limit(1)
        )
        set_current_member(s, vcse.member_id)
    assert newcomer is not None
    return vcse, coordinator, newcomer


def _close_settled(window: MainWindow, page: CaseloadPage) -> None:
    """Close after every page has been built and its first result delivered; no page may have
    greeted the VCSE worker with a refusal (the Conflicts page once did)."""
    from PySide6.QtWidgets import QApplication, QMessageBox

    window.build_pending_pages()
    page.ctx.tasks.wait()
    QApplication.processEvents()
    boxes = [w for w in QApplication.topLevelWidgets() if isinstance(w, QMessageBox)]
    texts = [b.text() for b in boxes if b.isVisible()]
    for b in boxes:
        b.close()
    window.close()
    assert not texts, texts


def test_vcse_worker_caseload_shows_a_new_referral_to_them(qtbot: QtBot, demo_dir: Path) -> None:
    vcse, coordinator, newcomer = _sign_in_vcse_worker(demo_dir)
    window, page = _open(qtbot, demo_dir, active=False)
    assert page.ctx.actor.member_id == vcse.member_id
    _settle(qtbot, page)
    before = _shown_patients(page)
    assert before and newcomer not in before
    # A colleague refers the person to them: the store tells the open page (no event sent here).
    with page.ctx.workspace.session() as s:
        pa.refer(
            session=s, actor=coordinator, patient_id=newcomer, service="vcse",
            reason="Befriending (test 5531)", to_member_id=vcse.member_id,
        )  # fmt: skip
    qtbot.waitUntil(lambda: newcomer in _shown_patients(page), timeout=WAIT)
    _settle(qtbot, page)
    assert _shown_patients(page) == before | {newcomer}
    assert page.count_label.text() == f"{len(before) + 1} people"
    _close_settled(window, page)


def test_save_view_is_disabled_for_a_vcse_worker_with_the_reason(
    qtbot: QtBot, demo_dir: Path
) -> None:
    _sign_in_vcse_worker(demo_dir)
    window, page = _open(qtbot, demo_dir, active=False)
    _settle(qtbot, page)
    assert not page.save_view_button.isEnabled()
    assert "VCSE worker" in page.save_view_button.toolTip()
    assert "saving views" in page.save_view_button.toolTip()
    assert not page.delete_view_button.isEnabled()
    _close_settled(window, page)


def test_save_view_is_enabled_for_a_care_coordinator(
    qtbot: QtBot, desk: tuple[MainWindow, CaseloadPage]
) -> None:
    _window, page = desk
    _settle(qtbot, page)
    assert page.ctx.actor.role is Role.CARE_COORDINATOR
    assert page.save_view_button.isEnabled()
    assert "Save the current filters" in page.save_view_button.toolTip()
