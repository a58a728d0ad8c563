"""What the cohort and admissions import dialogs share: running the import on the store worker
with a progress bar and Cancel (which rolls everything back), and saying how it ended."""

from __future__ import annotations

import threading
from typing import Any

from PySide6.QtCore import Signal
from PySide6.QtWidgets import QDialog, QLabel, QProgressBar, QPushButton, QWidget

from int_desk.app.context import AppContext
from int_desk.app.messages import describe
from int_desk.domain.errors import Interrupted


class ImportDialog(QDialog):
    """Signals: ``previewed(preview)``, ``imported(result)``, ``import_failed(exception)``
    (Interrupted when cancelled). A dialog builds its widgets (the buttons, ``progress``,
    ``summary``, ``error``) and says what an import wrote (``imported_text``)."""

    previewed = Signal(object)
    imported = Signal(object)
    import_failed = Signal(object)
    _progress = Signal(int)  # from the worker: queued to the GUI thread

    preview_button: QPushButton
    import_button: QPushButton
    close_button: QPushButton  # "Cancel import" while one runs
    progress: QProgressBar
    summary: QLabel
    error: QLabel

    def __init__(self, ctx: AppContext, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.ctx = ctx
        self.preview: Any = None
        self._cancel = threading.Event()
        self._running = False

    def imported_text(self, result: Any) -> str:
        raise NotImplementedError

    def start_import(self, total: int) -> None:
        """Show the import as running (``total`` rows); Cancel now stops it."""
        self._cancel.clear()
        self._running = True
        self.progress.setRange(0, total)
        self.progress.setValue(0)
        self.progress.show()
        self.import_button.setEnabled(False)
        self.preview_button.setEnabled(False)
        self.close_button.setText("Cancel import")
        self.summary.setText("Importing… Cancel leaves the workspace as it was.")

    def _imported(self, result: Any) -> None:
        self._running = False
        self.progress.setValue(self.progress.maximum())
        self.close_button.setText("Close")
        self.preview_button.setEnabled(True)
        self.summary.setText(self.imported_text(result))
        self.preview = None
        self.import_button.setText("Import")
        self.imported.emit(result)

    def _import_failed(self, exc: BaseException) -> None:
        self._running = False
        self.progress.hide()
        self.close_button.setText("Close")
        self.preview_button.setEnabled(True)
        self.import_button.setEnabled(self.preview is not None)
        if isinstance(exc, Interrupted):
            self.summary.setText("Import cancelled. Nothing was imported.")
        else:
            self._failed(exc)
        self.import_failed.emit(exc)

    def cancel_or_close(self) -> None:
        if self._running:
            self._cancel.set()
            self.close_button.setEnabled(True)
            self.summary.setText("Cancelling…")
            return
        self.close()

    def _failed(self, exc: BaseException) -> None:
        self.preview_button.setEnabled(True)
        self.error.setText(describe(exc) if not isinstance(exc, ValueError) else str(exc))
        self.error.show()
