"""The audit viewer lists a view and an export made in the test, filters, exports CSV to the
chosen file, and shows the chain check."""

from __future__ import annotations

import csv
from pathlib import Path

from pytestqt.qtbot import QtBot

from int_desk.app.audit_page import AuditPage
from int_desk.app.main import make_context
from int_desk.app.main_window import MainWindow
from int_desk.domain.nhs_number import format_nhs
from int_desk.domain.vocab import AuditAction, Role
from int_desk.services.identity import set_current_member
from int_desk.services.patient_record import patient_record
from int_desk.store.models import Patient
from int_desk.store.workspace import Workspace
from tests.conftest import PASSPHRASE
from tests.helpers.actors import actor_of_role, patient_in_scope


def _rows(page: AuditPage) -> list[tuple[str, ...]]:
    m = page.model
    return [
        tuple(m.data(m.index(r, c)) for c in range(m.columnCount())) for r in range(m.rowCount())
    ]


def _window_as(qtbot: QtBot, demo_dir: Path, role: Role) -> tuple[MainWindow, AuditPage]:
    ws = Workspace.open(demo_dir, PASSPHRASE)
    with ws.session() as s:
        set_current_member(s, actor_of_role(s, role).member_id)
    window = MainWindow(make_context(ws))
    qtbot.addWidget(window)
    window.show()
    page = window.pages["AuditPage"]
    assert isinstance(page, AuditPage)
    return window, page


def test_audit_viewer_lists_view_and_export(qtbot: QtBot, demo_dir: Path, tmp_path: Path) -> None:
    window, page = _window_as(qtbot, demo_dir, Role.CLINICAL_LEAD)
    ctx = window.ctx
    with ctx.workspace.session() as s:
        nurse = actor_of_role(s, Role.DISTRICT_NURSE)
        pid = patient_in_scope(s, nurse)
        patient_record(session=s, actor=nurse, patient_id=pid)  # the view
        nhs = format_nhs(s.get(Patient, pid).nhs_number)

    with qtbot.waitSignal(page.verified, timeout=10_000) as verified:
        window.show_page("AuditPage")
    assert verified.args[0].intact
    assert "intact" in page.chain_label.text()
    rows = _rows(page)
    assert any(r[2] == "view" and nhs in r[5] and r[1].startswith(nurse.name) for r in rows)

    target = tmp_path / "chosen" / "ig-request.csv"
    target.parent.mkdir()
    with qtbot.waitSignal(page.exported, timeout=10_000) as exported:
        page.export_to(target)  # what the Save dialog hands over
    assert exported.args[0] > 0
    assert sorted(p.name for p in target.parent.iterdir()) == ["ig-request.csv"]
    with target.open(encoding="utf-8", newline="") as fh:
        exported_rows = list(csv.DictReader(fh))
    assert any(r["action"] == "view" and r["patient_nhs_number"] == nhs for r in exported_rows)

    with qtbot.waitSignal(page.loaded, timeout=10_000):
        page.refresh()
    rows = _rows(page)
    assert rows[0][2] == AuditAction.EXECUTE.label and rows[0][3] == "audit_export"
    assert ctx.actor.name in rows[0][1]

    # filter by patient: only that person's entries, the view among them
    page.patient_edit.setText(nhs)
    with qtbot.waitSignal(page.loaded, timeout=10_000):
        page.refresh()
    rows = _rows(page)
    assert rows and all(r[5].endswith(f"({nhs})") for r in rows)  # name, born, NHS number
    assert any(r[2] == "view" for r in rows)

    # filter by person and action
    page.patient_edit.clear()
    page.person_combo.setCurrentIndex(page.person_combo.findData(str(nurse.member_id)))
    page.action_combo.setCurrentIndex(page.action_combo.findData(AuditAction.READ.value))
    with qtbot.waitSignal(page.loaded, timeout=10_000):
        page.refresh()
    rows = _rows(page)
    assert rows and all(r[2] == "view" and r[1].startswith(nurse.name) for r in rows)
    window.close()


def test_audit_model_is_a_valid_qt_model(qtbot: QtBot, demo_dir: Path, qtmodeltester) -> None:
    window, page = _window_as(qtbot, demo_dir, Role.ADMIN)
    with qtbot.waitSignal(page.loaded, timeout=10_000):
        window.show_page("AuditPage")
    assert page.model.rowCount() > 0
    qtmodeltester.check(page.model)
    window.close()


def test_role_without_audit_permission_sees_explanation(qtbot: QtBot, demo_dir: Path) -> None:
    window, page = _window_as(qtbot, demo_dir, Role.DISTRICT_NURSE)
    with qtbot.waitSignal(page.loaded, timeout=10_000):
        window.show_page("AuditPage")
    assert page.model.rowCount() == 0 and not page.table.isVisible()
    assert "cannot view the audit trail" in page.status_label.text()
    assert not page.export_button.isEnabled()
    window.close()


def test_bad_nhs_number_filter_shows_inline_error(qtbot: QtBot, demo_dir: Path) -> None:
    window, page = _window_as(qtbot, demo_dir, Role.CLINICAL_LEAD)
    with qtbot.waitSignal(page.verified, timeout=10_000):
        window.show_page("AuditPage")
    page.patient_edit.setText("123")
    page.refresh()
    qtbot.waitUntil(page.error_label.isVisible, timeout=10_000)
    assert "10 digits" in page.error_label.text()
    page.patient_edit.setText("999 476 5913")  # ten digits, one mistyped: the check digit says so
    page.refresh()
    qtbot.waitUntil(lambda: "check digit" in page.error_label.text(), timeout=10_000)
    assert page.error_label.isVisible()
    window.close()
