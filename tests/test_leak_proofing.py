"""Nothing identifiable leaks: after a scripted session (CLI, services, GUI, a lock, errors and a
crash) the logs, settings, temp dir and crash output hold no demo patient's name or NHS number;
store files are user-only."""

from __future__ import annotations

import io
import logging
import os
import stat
import sys
import tempfile
from collections.abc import Iterator
from pathlib import Path

import pytest
from pytestqt.qtbot import QtBot
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError

from int_desk import paths
from int_desk.app import crash
from int_desk.app.main import make_context
from int_desk.app.main_window import MainWindow
from int_desk.app.messages import show_error
from int_desk.cli import main as cli_main
from int_desk.domain.errors import PermissionDenied
from int_desk.domain.nhs_number import format_nhs
from int_desk.domain.vocab import Role
from int_desk.logs import setup_logging
from int_desk.services import access
from int_desk.services.identity import current_actor
from int_desk.services.patient_record import patient_record
from int_desk.store.models import CarePlan, Member, Patient
from int_desk.store.workspace import Workspace
from tests.conftest import PASSPHRASE
from tests.helpers.actors import actor_of_role, patient_in_scope, patient_out_of_scope


@pytest.fixture
def file_logging() -> Iterator[io.StringIO]:
    """The app's logging (file + console); the console stream is captured for the scan."""
    root = logging.getLogger()
    saved_handlers, saved_level = list(root.handlers), root.level
    root.handlers[:] = [h for h in root.handlers if type(h) is not logging.StreamHandler]
    setup_logging(verbose=True)
    console = io.StringIO()
    consoles = [h for h in root.handlers if type(h) is logging.StreamHandler]
    assert consoles
    for h in consoles:
        h.setStream(console)
    yield console
    for h in root.handlers:
        if h not in saved_handlers:
            h.close()
    root.handlers[:] = saved_handlers
    root.setLevel(saved_level)


@pytest.fixture
def private_tmp(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    directory = tmp_path / "tmp"
    directory.mkdir()
    monkeypatch.setenv("TMPDIR", str(directory))
    monkeypatch.setattr(tempfile, "tempdir", str(directory))
    return directory


def _identifiers(ws: Workspace) -> set[str]:
    """Patients' full names, family names (unless a staff member shares one), NHS numbers in
    both forms, postcodes and phone numbers."""
    with ws.session() as s:
        staff_words = {w for n in s.scalars(select(Member.name)) for w in n.split()}
        out: set[str] = set()
        for p in s.scalars(select(Patient)):
            out |= {p.display_name, p.nhs_number, format_nhs(p.nhs_number), p.postcode}
            if p.family_name not in staff_words:
                out.add(f"'{p.family_name}'")  # as a quoted SQL parameter or repr
            if p.phone:
                out.add(p.phone)
    return out


def _files(*roots: Path) -> list[Path]:
    return [p for root in roots if root.exists() for p in root.rglob("*") if p.is_file()]


def test_scripted_session_leaks_no_identifiers(
    qtbot: QtBot,
    tmp_path: Path,
    file_logging: io.StringIO,
    private_tmp: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    monkeypatch.setattr(sys, "excepthook", sys.excepthook)
    monkeypatch.setattr("threading.excepthook", __import__("threading").excepthook)
    monkeypatch.setenv("INT_DESK_PASSPHRASE", PASSPHRASE)
    workspace = tmp_path / "session-ws"

    # CLI: build a demo workspace, verify the audit chain, a bad command
    assert cli_main(["demo", "--workspace", str(workspace), "--patients", "60"]) == 0
    assert cli_main(["audit", "verify", "--workspace", str(workspace)]) == 0
    assert cli_main(["audit", "verify", "--workspace", str(tmp_path / "nowhere")]) == 2

    ws = Workspace.open(workspace, PASSPHRASE)
    identifiers = _identifiers(ws)
    assert len(identifiers) >= 150

    # CLI: export one care plan as a PDF to a folder the user chose
    with ws.session() as s:
        current = current_actor(s)
        nhs = s.scalar(
            select(Patient.nhs_number)
            .join(CarePlan, CarePlan.patient_id == Patient.id)
            .where(
                CarePlan.status == "active",
                CarePlan.consent_decision == "permit",
                access.visible_patient_filter(current),
            )
            .limit(1)
        )
    assert nhs is not None
    chosen = tmp_path / "chosen"
    chosen.mkdir()
    out = chosen / "plan.pdf"
    args = ["export-plan", "--workspace", str(workspace), "--nhs-number", nhs, "--out", str(out)]
    assert cli_main(args) == 0
    assert [p.name for p in chosen.iterdir()] == ["plan.pdf"]

    # services: views, a denial, and a database error whose message embeds patient data
    with ws.session() as s:
        nurse = actor_of_role(s, Role.DISTRICT_NURSE)
        for _ in range(3):
            patient_record(session=s, actor=nurse, patient_id=patient_in_scope(s, nurse))
        other = patient_out_of_scope(s, nurse)
    with pytest.raises(PermissionDenied) as denied:
        with ws.session() as s:
            patient_record(session=s, actor=nurse, patient_id=other)
    with pytest.raises(IntegrityError) as db_error:
        with ws.session() as s:
            p = s.scalars(select(Patient).limit(1)).one()
            s.add(
                Patient(
                    nhs_number=p.nhs_number,
                    given_name=p.given_name,
                    family_name=p.family_name,
                    date_of_birth=p.date_of_birth,
                    sex=p.sex,
                    postcode=p.postcode,
                )
            )
    raw = str(db_error.value)
    assert any(i in raw for i in identifiers)  # the raw message would leak: the scan has teeth

    # GUI: main window, audit page, lock and unlock, an error box, then a crash
    window = MainWindow(make_context(ws))
    qtbot.addWidget(window)
    window.show()
    window.show_page("AuditPage")
    with qtbot.waitSignal(window.ctx.events.locked, timeout=5_000):
        window.form.lockAction.trigger()
    window.lock_controller.lock_screen.passphrase_edit.setText(PASSPHRASE)
    with qtbot.waitSignal(window.ctx.events.unlocked, timeout=10_000):
        window.lock_controller.lock_screen.unlock_button.click()
    show_error(window, db_error.value)
    logging.getLogger("int_desk.test").exception("while testing", exc_info=db_error.value)
    crash.install()
    sys.excepthook(type(db_error.value), db_error.value, db_error.value.__traceback__)
    report = crash._dialogs[-1].text.toPlainText()
    crash._dialogs[-1].copy_button.click()
    window.close()
    window.ctx.settings.sync()

    assert "IntegrityError" in report and "int_desk/store/workspace.py" in report
    assert "withheld" in report
    captured = capsys.readouterr()
    outputs = {
        "crash dialog": report,
        "stdout/stderr": captured.out + captured.err,
        "console log": file_logging.getvalue(),
        "error message": str(denied.value),
    }
    for f in _files(paths.log_dir(), paths.config_dir(), private_tmp):
        outputs[str(f)] = f.read_text(encoding="utf-8", errors="replace")
    assert any("crash-" in name for name in outputs)
    assert any(name.endswith("int-desk.log") for name in outputs)
    assert any(name.endswith(".ini") for name in outputs)
    leaks = {name: [i for i in identifiers if i in text] for name, text in outputs.items()}
    assert {name: found for name, found in leaks.items() if found} == {}


def test_store_files_are_user_only(tmp_path: Path) -> None:
    if os.name != "posix":
        pytest.skip("file modes are POSIX-only; Windows uses the per-user profile ACL")
    ws = Workspace.create(tmp_path / "ws", PASSPHRASE)
    with ws.session() as s:
        s.execute(select(Patient.id)).all()
    files = _files(ws.directory)
    assert {f.name for f in files} >= {"store.db", "workspace.key"}
    for f in files:
        assert stat.S_IMODE(f.stat().st_mode) == 0o600, f.name
    assert stat.S_IMODE(ws.directory.stat().st_mode) == 0o700
    ws.close()


def test_audit_export_is_user_only_and_only_where_chosen(
    demo_ws: Workspace, tmp_path: Path, private_tmp: Path
) -> None:
    from int_desk.services import audit_log

    chosen = tmp_path / "chosen"
    chosen.mkdir()
    with demo_ws.session() as s:
        lead = actor_of_role(s, Role.CLINICAL_LEAD)
        audit_log.export_csv(session=s, actor=lead, path=chosen / "trail.csv")
    assert [p.name for p in chosen.iterdir()] == ["trail.csv"]
    assert list(private_tmp.iterdir()) == []
    if os.name == "posix":
        assert stat.S_IMODE((chosen / "trail.csv").stat().st_mode) == 0o600
