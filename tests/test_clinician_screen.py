"""Issue 21: fit for a clinician's screen (1366 x 768, light and dark), identity never in doubt."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import pytest
from PySide6.QtCore import QRect, Qt
from PySide6.QtWidgets import QApplication
from pytestqt.qtbot import QtBot
from sqlalchemy import func, select

from int_desk.app.accessibility import AA_TEXT, ink_contrast
from int_desk.app.caseload_model import PatientIdRole
from int_desk.app.caseload_page import CaseloadPage
from int_desk.app.first_run import FirstRunDialog
from int_desk.app.huddle_dialogs import ActionDialog as HuddleActionDialog
from int_desk.app.main import settings, show_main_window
from int_desk.app.main_window import MainWindow, fits_on_screen
from int_desk.app.my_tasks_page import HEADERS as MY_TASKS_HEADERS
from int_desk.app.my_tasks_page import MyTasksPage
from int_desk.app.record_html import record_html
from int_desk.app.settings_dialog import apply_appearance
from int_desk.domain.uk_time import london_today
from int_desk.domain.vocab import ReferralService, Role
from int_desk.services import caseload as cl
from int_desk.services import patient_record as pr
from int_desk.services.access import in_scope as access_in_scope
from int_desk.services.identity import current_actor
from int_desk.services.patient_record import patient_record
from int_desk.settings_schema import Preferences
from int_desk.store.models import Patient, Referral
from int_desk.store.sync_tables import SyncConflict
from int_desk.store.workspace import Workspace
from tests.conftest import PASSPHRASE
from tests.helpers.actors import actor_of_role, patient_in_scope
from tests.helpers.windows import window_as

WAIT = 15_000


@pytest.fixture(params=["light", "dark"])
def scheme(request: pytest.FixtureRequest, qapp: QApplication) -> Iterator[str]:
    apply_appearance(qapp, request.param)
    yield request.param
    apply_appearance(qapp, "light")


def _open(qtbot: QtBot, directory: Path) -> tuple[MainWindow, CaseloadPage]:
    return window_as(qtbot, directory)


def test_the_first_window_fits_the_screen_with_its_frame(qtbot: QtBot, demo_ws: Workspace) -> None:
    # 1280 x 760 plus a title bar does not fit 1366 x 768 (less a taskbar): maximised there.
    assert not fits_on_screen(QRect(0, 0, 1366, 768))
    assert not fits_on_screen(QRect(0, 0, 1366, 728))
    assert fits_on_screen(QRect(0, 0, 1920, 1040))
    window = show_main_window(demo_ws)  # no remembered geometry: the first start
    qtbot.addWidget(window)
    available = window.screen().availableGeometry()  # the test screen is smaller still
    assert window.isMaximized() or available.contains(window.frameGeometry())
    window.close()


def test_the_patient_banner_reads_in_light_and_dark(
    qtbot: QtBot, demo_dir: Path, scheme: str
) -> None:
    window, page = _open(qtbot, demo_dir)
    page.table.selectRow(0)
    qtbot.waitUntil(lambda: page.record is not None, timeout=WAIT)
    banner = page.pane.heading
    r = page.record
    text = banner.text()
    assert r.display_name in text and r.nhs_display in text
    assert f"{r.date_of_birth:%d %b %Y}" in text  # name, date of birth and NHS number
    assert ink_contrast(banner.grab().toImage()) >= AA_TEXT, scheme
    window.close()


# --- opening a person from anywhere: list and record in step --------------------------------


def _in_step(page: CaseloadPage, patient_id: uuid.UUID) -> bool:
    """The record pane and the table's selected row are both this person."""
    row = page.table.currentIndex().row()
    selected = page.model.data(page.model.index(row, 0), PatientIdRole) if row >= 0 else None
    return (
        page.record is not None and page.record.patient_id == patient_id and selected == patient_id
    )


def _hide_behind_a_search(qtbot: QtBot, page: CaseloadPage, patient_id: uuid.UUID) -> None:
    """Search for someone else, so the person to open is not in the list."""
    with page.ctx.workspace.session() as s:
        family = s.get(Patient, patient_id).family_name
    shown = (page.model.row_at(r) for r in range(page.model.rowCount()))
    other = next(r.family_name for r in shown if r is not None and r.family_name != family)
    page.search.setText(other)
    qtbot.waitUntil(
        lambda: page.filters.search == other and 0 < page.model.rowCount() < 50, timeout=WAIT
    )
    page.table.selectRow(0)
    qtbot.waitUntil(
        lambda: page.record is not None and page.record.patient_id != patient_id, timeout=WAIT
    )


def test_open_patient_from_my_tasks_clears_a_search_that_hid_them(
    qtbot: QtBot, demo_dir: Path
) -> None:
    window, page = _open(qtbot, demo_dir)
    window.show_page("MyTasksPage")
    tasks: MyTasksPage = window.pages["MyTasksPage"]
    qtbot.waitUntil(lambda: tasks.model.rowCount() > 0, timeout=WAIT)
    task = tasks.model.tasks[0]
    with window.ctx.workspace.session() as s:
        born = s.get(Patient, task.patient_id).date_of_birth
    born_column = MY_TASKS_HEADERS.index("Born")  # listed with the date of birth
    assert tasks.model.data(tasks.model.index(0, born_column)) == f"{born:%d %b %Y}"
    window.show_page("CaseloadPage")
    _hide_behind_a_search(qtbot, page, task.patient_id)
    assert not page.pane.outside_note.isVisible()  # chosen from the list beside it
    shown = page.record.patient_id
    page.search.setText("zz-no-such-person")  # the list no longer holds the person shown
    qtbot.waitUntil(lambda: page.pane.outside_note.isVisible(), timeout=WAIT)
    assert page.record.patient_id == shown
    page.search.clear()
    qtbot.waitUntil(lambda: not page.pane.outside_note.isVisible(), timeout=WAIT)
    _hide_behind_a_search(qtbot, page, task.patient_id)
    window.show_page("MyTasksPage")
    tasks.table.selectRow(0)
    tasks.open_button.click()
    assert window.form.pageStack.currentWidget() is page
    qtbot.waitUntil(lambda: _in_step(page, task.patient_id), timeout=WAIT)
    assert page.search.text() == ""  # the search that hid them is gone, visibly
    window.close()


def test_open_patient_from_the_audit_trail_and_conflicts(qtbot: QtBot, demo_dir: Path) -> None:
    with Workspace.open(demo_dir, PASSPHRASE) as ws, ws.session() as s:
        lead = actor_of_role(s, Role.CLINICAL_LEAD)
        pid = patient_in_scope(s, lead)
        patient_record(session=s, actor=lead, patient_id=pid)  # an audit entry about them
        s.add(
            SyncConflict(
                id=uuid.uuid4(), entity="patient", entity_id=pid, patient_id=pid,
                field="phone", local_value="01632 960001", local_by=lead.member_id,
                local_at=datetime.now(UTC), remote_value="01632 960002",
                remote_by="Another nurse", remote_at=datetime.now(UTC).isoformat(),
            )
        )  # fmt: skip
        born = s.get(Patient, pid).date_of_birth
    window, page = window_as(qtbot, demo_dir, Role.CLINICAL_LEAD)
    _hide_behind_a_search(qtbot, page, pid)

    audit = window.show_page("AuditPage")
    qtbot.waitUntil(lambda: audit.model.rowCount() > 0, timeout=WAIT)
    row = next(i for i, r in enumerate(audit.model.rows) if r.patient_id == pid)
    assert f"born {born:%d %b %Y}" in audit.model.data(audit.model.index(row, 5))
    audit.table.selectRow(row)
    assert audit.open_button.isEnabled()
    audit.open_button.click()
    qtbot.waitUntil(lambda: _in_step(page, pid), timeout=WAIT)

    _hide_behind_a_search(qtbot, page, pid)
    conflicts = window.show_page("ConflictsPage")
    conflicts.refresh()
    qtbot.waitUntil(lambda: conflicts.table.rowCount() == 1, timeout=WAIT)
    assert f"born {born:%d %b %Y}" in conflicts.table.item(0, 1).text()
    conflicts.table.selectRow(0)
    conflicts.open_button.click()
    qtbot.waitUntil(lambda: _in_step(page, pid), timeout=WAIT)
    window.close()


# --- nobody becomes responsible by default ----------------------------------------------------


def test_huddle_task_and_visit_owner_start_empty_or_on_the_named_lead(qtbot: QtBot) -> None:
    nurse, physio = uuid.uuid4(), uuid.uuid4()
    members = [
        (physio, "Amelia Ashdown", "Physiotherapist", False),  # first alphabetically
        (nurse, "Nia Okafor", "District nurse", False),
    ]
    for kind in ("task", "home_visit"):
        dialog = HuddleActionDialog(kind, members, patient="Rose Abbott")
        qtbot.addWidget(dialog)
        assert dialog.owner.currentData() is None  # not Amelia, the first attendee
        dialog.text.setText("Review medicines")
        dialog.buttons.accepted.emit()
        assert not dialog.result() and "required" in dialog.error.text()
        lead = HuddleActionDialog(kind, members, patient="Rose Abbott", lead=nurse)
        qtbot.addWidget(lead)
        assert lead.owner.currentData() == str(nurse)
        assert "named lead professional" in lead.owner.currentText()
    refer = HuddleActionDialog("referral", members, patient="Rose Abbott")
    qtbot.addWidget(refer)
    assert refer.service.currentData() is None  # not GP, the first service
    refer.text.setText("Falls assessment")
    refer.buttons.accepted.emit()
    assert not refer.result() and "service" in refer.error.text()


def test_refer_from_the_record_names_no_service_until_one_is_chosen(
    qtbot: QtBot, demo_dir: Path
) -> None:
    window, page = _open(qtbot, demo_dir)
    page.table.selectRow(0)
    qtbot.waitUntil(lambda: page.pane.buttons["refer"].isEnabled(), timeout=WAIT)
    pid = page.record.patient_id
    with page.ctx.workspace.session() as s:
        before = s.scalar(select(func.count()).select_from(Referral))
    page.pane.buttons["refer"].click()
    dialog = page.pane.dialog
    assert dialog.values()["service"] is None
    dialog.set_value("reason", "Struggling with stairs")
    dialog.ok.click()
    assert dialog.isVisible() and "service" in dialog.error.text().lower()
    dialog.set_value("service", "district_nursing")
    with qtbot.waitSignal(dialog.done, timeout=WAIT):
        dialog.ok.click()
    with page.ctx.workspace.session() as s:
        assert s.scalar(select(func.count()).select_from(Referral)) == before + 1
        assert s.scalar(select(Referral.service).where(Referral.patient_id == pid).order_by(
            Referral.created_at.desc())) == "district_nursing"  # fmt: skip
    # Allocate task: no team or person chosen for the user, except the named lead (labelled).
    page.pane.buttons["task"].click()
    task = page.pane.dialog
    values = task.values()
    assert values["owner_team_id"] is None and values["owner_role"] is None
    person = task.widgets["owner_member_id"]
    lead = next((m for m in page.record.active_memberships if m.lead_member_id), None)
    if lead is None:
        assert values["owner_member_id"] is None
    else:
        assert values["owner_member_id"] == lead.lead_member_id.hex
        assert "named lead professional" in person.currentText()
    task.reject()
    window.close()


# --- wording ----------------------------------------------------------------------------------


def test_wording_uses_proper_labels_and_plurals(demo_ws: Workspace) -> None:
    labels = [s.label for s in ReferralService]
    assert "GP" in labels and "VCSE (voluntary sector)" in labels
    assert not {"Gp", "Vcse"} & set(labels)
    with demo_ws.session() as s:
        actor = current_actor(s)
        rows = cl.caseload(session=s, actor=actor, filters=cl.CaseloadFilter())
        escalated = [r for r in rows if r.open_escalations][:5]
        assert escalated
        today = london_today()
        for row in escalated:
            record = pr.patient_record(session=s, actor=actor, patient_id=row.patient_id)
            text = record_html(record, today)
            n = len(record.open_escalations)
            assert f"{n} open escalation{'' if n == 1 else 's'}" in text
            assert "(s)" not in text and "E 1 " not in text


# --- keyboard ---------------------------------------------------------------------------------


def test_ctrl_number_moves_the_focus_into_the_page_so_its_shortcuts_work(
    qtbot: QtBot, demo_dir: Path
) -> None:
    window, page = _open(qtbot, demo_dir)
    window.activateWindow()
    qtbot.waitUntil(window.isActiveWindow, timeout=WAIT)
    huddle = window.pages["HuddlePage"]
    qtbot.waitUntil(lambda: huddle.team_id is not None, timeout=WAIT)
    nav = window.form.navList
    nav.setFocus()
    qtbot.keyClick(nav, Qt.Key.Key_3, Qt.KeyboardModifier.ControlModifier)
    assert window.form.pageStack.currentWidget() is huddle
    focused = QApplication.focusWidget()
    assert focused is not None and huddle.isAncestorOf(focused)  # not left in the navigation
    qtbot.keyClick(focused, Qt.Key.Key_N, Qt.KeyboardModifier.ControlModifier)  # Plan huddle
    qtbot.waitUntil(lambda: huddle.dialog is not None and huddle.dialog.isVisible(), timeout=WAIT)
    huddle.dialog.reject()
    # Enter on a section in the navigation moves into it too.
    nav.setFocus()
    nav.setCurrentRow(0)
    qtbot.keyClick(nav, Qt.Key.Key_Return)
    assert page.isAncestorOf(QApplication.focusWidget())
    window.close()


def test_enter_chooses_the_focused_first_run_option(qtbot: QtBot) -> None:
    dialog = FirstRunDialog(Preferences(settings()))
    qtbot.addWidget(dialog)
    dialog.show()
    dialog.form.createButton.setFocus()
    qtbot.keyClick(dialog.form.createButton, Qt.Key.Key_Return)
    assert dialog.current_page() == dialog.CREATE
    dialog.form.createBackButton.click()
    assert dialog.current_page() == dialog.CHOOSE
    dialog.form.connectButton.setFocus()
    qtbot.keyClick(dialog.form.connectButton, Qt.Key.Key_Enter)
    assert dialog.current_page() == dialog.CONNECT


def test_waiting_list_says_what_whose_and_when_within_the_members_scope(
    demo_ws: Workspace,
) -> None:
    from int_desk.services import outbox_view
    from int_desk.services import patient_actions as pa

    with demo_ws.session() as s:
        nurse = actor_of_role(s, Role.DISTRICT_NURSE)
        pid = patient_in_scope(s, nurse)
        pa.add_contact(session=s, actor=nurse, patient_id=pid, kind="note", text="Seen today")
        p = s.get(Patient, pid)
        label = f"{p.family_name.upper()}, {p.given_name} (born {p.date_of_birth:%d %b %Y})"
    with demo_ws.session() as s:
        newest = outbox_view.waiting_changes(session=s, actor=nurse)[0]
        assert (newest.what, newest.whose) == ("New contact", label)
        assert (datetime.now(UTC) - newest.when.replace(tzinfo=UTC)).total_seconds() < 600
        vcse = actor_of_role(s, Role.VCSE_WORKER)
        theirs = outbox_view.waiting_changes(session=s, actor=vcse)[0]
        if not access_in_scope(s, vcse, pid):
            assert theirs.whose == outbox_view.OUTSIDE  # no name outside their scope


# --- a VCSE worker's window -------------------------------------------------------------------


def test_a_vcse_worker_gets_explanations_not_errors(qtbot: QtBot, demo_dir: Path) -> None:
    from PySide6.QtWidgets import QMessageBox

    window, _page = window_as(qtbot, demo_dir, Role.VCSE_WORKER)  # the people referred
    window.ctx.tasks.wait()
    qapp = QApplication.instance()
    boxes = [w for w in qapp.topLevelWidgets() if isinstance(w, QMessageBox) and w.isVisible()]
    assert boxes == []  # no "Not permitted … view the caseload" at sign-in

    huddle = window.show_page("HuddlePage")
    window.ctx.tasks.wait()
    qapp.processEvents()
    assert not huddle.error.isVisible()  # no red error…
    assert not huddle.plan_button.isEnabled()  # …beside an enabled Plan huddle…
    assert huddle.empty_label.isVisible() and "VCSE worker" in huddle.empty_label.text()
    huddle.plan_dialog()  # Ctrl+N does nothing either
    assert huddle.dialog is None

    audit = window.show_page("AuditPage")
    qtbot.waitUntil(lambda: not audit.allowed, timeout=WAIT)
    assert not audit.filter_bar.isVisible() and not audit.chain_bar.isVisible()
    assert audit.status_label.isVisible() and "cannot view the audit trail" in (
        audit.status_label.text()
    )
    # The explanation sits under the title, not stranded mid-page between spread-out rows.
    qtbot.waitUntil(lambda: audit.status_label.geometry().top() < audit.height() // 4, timeout=WAIT)
    window.close()
