"""The first window: unlock dialog and the main window on a real encrypted demo workspace."""

from __future__ import annotations

from pathlib import Path

import pytest
from PySide6.QtCore import Qt
from PySide6.QtWidgets import QDialog, QDialogButtonBox
from pytestqt.qtbot import QtBot

from int_desk.app.main import make_context
from int_desk.app.main_window import MainWindow
from int_desk.app.unlock_dialog import UnlockDialog
from int_desk.store.workspace import Workspace
from tests.conftest import PASSPHRASE


def test_unlock_dialog_wrong_then_right_passphrase(qtbot: QtBot, demo_dir: Path) -> None:
    dialog = UnlockDialog(demo_dir)
    qtbot.addWidget(dialog)
    dialog.show()
    unlock = dialog.form.buttonBox.button(QDialogButtonBox.StandardButton.Ok)
    assert not unlock.isEnabled()  # nothing typed yet

    qtbot.keyClicks(dialog.form.passphraseEdit, "not the right one")
    qtbot.keyClick(dialog.form.passphraseEdit, Qt.Key.Key_Return)
    qtbot.waitUntil(lambda: dialog.form.errorLabel.isVisible(), timeout=10_000)
    assert "does not unlock" in dialog.form.errorLabel.text()
    assert dialog.workspace is None

    dialog.form.passphraseEdit.setText(PASSPHRASE)
    with qtbot.waitSignal(dialog.accepted, timeout=10_000):
        qtbot.mouseClick(unlock, Qt.MouseButton.LeftButton)
    assert dialog.workspace is not None and dialog.workspace.is_open
    dialog.workspace.close()


def test_main_window_shows_teams_and_caseload(qtbot: QtBot, demo_dir: Path) -> None:
    ws = Workspace.open(demo_dir, PASSPHRASE)
    window = MainWindow(make_context(ws))
    qtbot.addWidget(window)
    window.show()
    page = window.pages["OverviewPage"]
    qtbot.waitUntil(lambda: page.table.rowCount() == 3, timeout=10_000)
    teams = {page.table.item(r, 0).text() for r in range(3)}
    assert teams == {"Bicester INT", "Reading West INT", "Aylesbury Vale INT"}
    assert "people on the caseload" in page.summary.text()
    total = sum(int(page.table.item(r, 4).text().replace(",", "")) for r in range(3))
    assert 250 < total <= 300  # 300 demo patients, a few discharged from their cohort
    assert "Care coordinator" in window.identity_label.text()
    window.close()
    assert not ws.is_open  # closing the window locks the store


def test_cancel_while_unlocking_closes_the_workspace_the_unlock_opened(
    qtbot: QtBot, demo_dir: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    opened: list[Workspace] = []
    real_open = Workspace.open.__func__  # type: ignore[attr-defined]

    def recording_open(cls: type[Workspace], *args: object, **kwargs: object) -> Workspace:
        ws = real_open(cls, *args, **kwargs)
        opened.append(ws)
        return ws

    monkeypatch.setattr(Workspace, "open", classmethod(recording_open))
    dialog = _unlocking(qtbot, demo_dir)
    # Cancel before the unlock's answer can arrive (it is queued to this thread).
    dialog.form.buttonBox.button(QDialogButtonBox.StandardButton.Cancel).click()
    qtbot.waitUntil(lambda: len(opened) == 1 and dialog._thread is None, timeout=10_000)
    assert dialog.result() == QDialog.DialogCode.Rejected and not dialog.isVisible()
    assert dialog.workspace is None
    assert not opened[0].is_open  # its key dropped, nothing left open


def test_cancel_while_unlocking_says_so_until_the_unlock_has_ended(
    qtbot: QtBot, demo_dir: Path
) -> None:
    dialog = _unlocking(qtbot, demo_dir)
    qtbot.keyClick(dialog, Qt.Key.Key_Escape)
    assert dialog.isVisible() and dialog.form.errorLabel.text() == "Cancelling…"
    assert not dialog.form.buttonBox.isEnabled()
    with qtbot.waitSignal(dialog.rejected, timeout=10_000):
        pass
    assert dialog.workspace is None and not dialog.isVisible()


def _unlocking(qtbot: QtBot, demo_dir: Path) -> UnlockDialog:
    """An unlock dialog whose Unlock was just pressed with the right passphrase."""
    dialog = UnlockDialog(demo_dir)
    qtbot.addWidget(dialog)
    dialog.form.keyringCheck.setChecked(False)
    dialog.show()
    dialog.form.passphraseEdit.setText(PASSPHRASE)
    dialog.unlock_button.click()
    return dialog
