"""Ask for the workspace passphrase; unlock off the GUI thread (scrypt takes ~0.5 s).

This is the first window a nurse waits for, so it imports little: the store is imported by the
unlock thread (WarmUp has usually done it while the passphrase was typed) and the OS keyring is
asked whether it can keep the key only after the dialog has painted.

``INT_DESK_STARTUP_PROBE=report`` prints when the dialog first painted (epoch seconds, to
stderr); ``=exit`` then closes it: the start-up benchmark (tests/benchmarks/bench_launch.py).
"""

from __future__ import annotations

import os
import sys
import time
from pathlib import Path
from typing import TYPE_CHECKING, Any

from PySide6.QtCore import Qt, QThread, QTimer, Signal
from PySide6.QtWidgets import QDialog, QDialogButtonBox, QWidget

from int_desk.app.forms.unlock_dialog import Ui_UnlockDialog
from int_desk.app.messages import describe

if TYPE_CHECKING:
    from int_desk.store.workspace import Workspace

PROBE_ENV = "INT_DESK_STARTUP_PROBE"


class _UnlockThread(QThread):
    unlocked = Signal(object)
    failed = Signal(object)

    def __init__(self, directory: Path, passphrase: str, parent: QWidget) -> None:
        super().__init__(parent)
        self.directory = directory
        self.passphrase = passphrase

    def run(self) -> None:
        try:
            from int_desk.store.workspace import Workspace

            ws = Workspace.open(self.directory, self.passphrase, use_keyring=False)
        except BaseException as exc:
            self.failed.emit(exc)
        else:
            self.unlocked.emit(ws)


class UnlockDialog(QDialog):
    """Signals: ``painted()`` once, after the dialog first painted (start-up work waits for
    it); after ``exec()`` returns Accepted, ``workspace`` is open."""

    painted = Signal()

    def __init__(self, directory: Path, hint: str = "", parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.form = Ui_UnlockDialog()
        self.form.setupUi(self)
        self.directory = Path(directory)
        self.workspace: Workspace | None = None
        self._thread: _UnlockThread | None = None
        self._cancelled = False
        self.form.titleLabel.setObjectName("dialogTitle")
        self.form.workspaceLabel.setText(f"Workspace: {self.directory}")
        self.form.hintLabel.setText(hint)
        self.form.hintLabel.setVisible(bool(hint))
        self.form.errorLabel.setObjectName("errorText")
        self.form.errorLabel.hide()
        self.keyring_checked = False
        self._painted = False
        self.unlock_button = self.form.buttonBox.button(QDialogButtonBox.StandardButton.Ok)
        self.unlock_button.setText("&Unlock")
        self.unlock_button.setEnabled(False)
        self.form.passphraseEdit.textChanged.connect(self._passphrase_changed)
        self.form.buttonBox.accepted.connect(self._unlock)
        self.form.buttonBox.rejected.connect(self.reject)
        self.form.passphraseEdit.setFocus(Qt.FocusReason.OtherFocusReason)

    def _passphrase_changed(self, text: str) -> None:
        self.unlock_button.setEnabled(bool(text) and self._thread is None)

    def reject(self) -> None:
        """Cancel (Esc, the close button) while an unlock is under way ends once it has: a
        thread still running when the dialog is freed aborts the app, and a workspace it opened
        would keep its key in memory with nobody to close it."""
        if self._thread is None:
            super().reject()
            return
        self._cancelled = True
        self.form.buttonBox.setEnabled(False)
        self.form.errorLabel.setText("Cancelling…")
        self.form.errorLabel.show()

    def paintEvent(self, event: Any) -> None:  # noqa: N802 - Qt override
        super().paintEvent(event)
        if not self._painted:
            self._painted = True
            QTimer.singleShot(0, self, self._first_painted)

    def _first_painted(self) -> None:
        probe = os.environ.get(PROBE_ENV)
        if probe:
            print(f"int-desk: unlock dialog painted at {time.time():.6f}", file=sys.stderr)  # noqa: T201
            sys.stderr.flush()
            if probe == "exit":
                self.reject()
                return
        self.check_keyring()
        self.painted.emit()

    def check_keyring(self) -> None:
        """Offer "remember in the OS keyring" only where a keyring works (after the first
        paint: loading the keyring's backends takes a few hundred milliseconds)."""
        if self.keyring_checked:
            return
        from int_desk.store import keys

        self.keyring_checked = True
        usable = keys.keyring_usable()
        self.form.keyringCheck.setEnabled(usable)
        if not usable:
            self.form.keyringCheck.setChecked(False)
            self.form.keyringCheck.setToolTip("No OS keyring is available on this desktop.")

    def _unlock(self) -> None:
        passphrase = self.form.passphraseEdit.text()
        if not passphrase or self._thread is not None:
            return
        self.unlock_button.setEnabled(False)
        self.form.errorLabel.hide()
        self.form.passphraseEdit.setEnabled(False)
        self._thread = _UnlockThread(self.directory, passphrase, self)
        self._thread.unlocked.connect(self._on_unlocked)
        self._thread.failed.connect(self._on_failed)
        self._thread.start()

    def _on_unlocked(self, ws: Workspace) -> None:
        self._finish_thread()
        if self._cancelled:
            ws.close()
            super().reject()
            return
        self.workspace = ws
        self.check_keyring()  # unlocked before the dialog had painted: ask now
        if self.form.keyringCheck.isChecked() and self.form.keyringCheck.isEnabled():
            ws.remember_in_keyring()
        self.accept()

    def _on_failed(self, exc: BaseException) -> None:
        self._finish_thread()
        if self._cancelled:
            super().reject()
            return
        self.form.errorLabel.setText(describe(exc))
        self.form.errorLabel.show()
        self.form.passphraseEdit.setEnabled(True)
        self.form.passphraseEdit.selectAll()
        self.form.passphraseEdit.setFocus()
        self.unlock_button.setEnabled(True)

    def _finish_thread(self) -> None:
        if self._thread is not None:
            self._thread.wait()
            self._thread.deleteLater()
            self._thread = None
