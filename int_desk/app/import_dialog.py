"""What the cohort and admissions import dialogs share: the column mapping, the validation
report, the Preview / Import / Close row, running the import on the store worker with a progress
bar and Cancel (which rolls everything back), and saying how it ended."""

from __future__ import annotations

import threading
from collections.abc import Callable, Sequence
from typing import Any

from PySide6.QtCore import Qt, Signal
from PySide6.QtGui import QBrush, QColor
from PySide6.QtWidgets import (
    QAbstractItemView,
    QComboBox,
    QDialog,
    QHBoxLayout,
    QLabel,
    QProgressBar,
    QPushButton,
    QTableWidget,
    QTableWidgetItem,
    QWidget,
)
from sqlalchemy.orm import Session

from int_desk.app import colours
from int_desk.app.context import AppContext
from int_desk.app.dialog_parts import error_label
from int_desk.app.messages import describe
from int_desk.domain.errors import Interrupted
from int_desk.services.extract_reader import IGNORE, REJECTED

REJECT_BG = QColor(colours.OVERDUE_BG)
NOTE_BG = QColor(colours.HIGH_BG)
TEXT_ON_TINT = QColor(colours.TEXT_ON_TINT)


class ImportDialog(QDialog):
    """Signals: ``previewed(preview)``, ``imported(result)``, ``import_failed(exception)``
    (Interrupted when cancelled). A dialog builds its own widgets, ``summary`` and
    ``mapping_table`` among them, and the shared ones with ``make_controls``; it reads its file
    into ``table``, and says what an import wrote (``imported_text``)."""

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
    report: QTableWidget
    mapping_table: QTableWidget
    table: Any  # the file read, None before one is chosen

    def __init__(self, ctx: AppContext, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.ctx = ctx
        self.preview: Any = None
        self._cancel = threading.Event()
        self._running = False

    def imported_text(self, result: Any) -> str:
        raise NotImplementedError

    def run_preview(self) -> None:
        raise NotImplementedError

    def import_work(self, preview: Any) -> Callable[[Session], Any]:
        """The import of ``preview``'s rows, run on the store worker (reporting progress with
        ``report_progress`` and stopping when ``cancelled`` says so)."""
        raise NotImplementedError

    def run_import(self) -> None:
        preview = self.preview
        if preview is None or not preview.to_write:
            return
        work = self.import_work(preview)
        self.start_import(len(preview.to_write))
        self.ctx.query(work, self._imported, self._import_failed)

    def report_progress(self, done: int, _total: int) -> None:
        self._progress.emit(done)  # from the worker: queued to the GUI thread

    def cancelled(self) -> bool:
        return self._cancel.is_set()

    def make_controls(self, problems_heading: str, result_width: int) -> QHBoxLayout:
        """The validation report, the progress bar, the error line and the Preview, Import and
        Close buttons; returns the buttons' row."""
        self.report = QTableWidget(0, 3)
        self.report.setAccessibleName("Validation report")
        self.report.setHorizontalHeaderLabels(["Line", "Result", problems_heading])
        self.report.verticalHeader().hide()
        self.report.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        self.report.setColumnWidth(0, 60)
        self.report.setColumnWidth(1, result_width)
        self.report.horizontalHeader().setStretchLastSection(True)
        self.progress = QProgressBar()
        self.progress.setAccessibleName("Import progress")
        self.progress.hide()
        self._progress.connect(self.progress.setValue)
        self.error = error_label()
        self.preview_button = QPushButton("Preview")
        self.preview_button.setAccessibleName("Preview the import")
        self.preview_button.clicked.connect(self.run_preview)
        self.import_button = QPushButton("Import")
        self.import_button.setAccessibleName("Import the valid rows")
        self.import_button.setEnabled(False)
        self.import_button.clicked.connect(self.run_import)
        self.close_button = QPushButton("Close")
        self.close_button.setAccessibleName("Cancel or close")
        self.close_button.clicked.connect(self.cancel_or_close)
        buttons = QHBoxLayout()
        buttons.addStretch(1)
        for b in (self.preview_button, self.import_button, self.close_button):
            buttons.addWidget(b)
        return buttons

    # --- the column mapping --------------------------------------------------------------------

    def put_mapping_row(self, i: int, header: str, fields: dict[str, str], chosen: str) -> None:
        """Row ``i`` of the mapping: the file's column and a choice of the field it holds."""
        item = QTableWidgetItem(header)
        item.setFlags(Qt.ItemFlag.ItemIsEnabled)
        self.mapping_table.setItem(i, 0, item)
        box = QComboBox()
        box.setAccessibleName(f"Field held by column {header}")
        box.addItem("— ignore —", IGNORE)
        for key, label in fields.items():
            box.addItem(label, key)
        box.setCurrentIndex(max(0, box.findData(chosen)))
        box.currentIndexChanged.connect(self._invalidate)
        self.mapping_table.setCellWidget(i, 1, box)

    def mapping(self) -> dict[str, str]:
        """The file's column -> the field it holds (IGNORE for none), as chosen."""
        out = {}
        for i in range(self.mapping_table.rowCount()):
            box = self.mapping_table.cellWidget(i, 1)
            heading = self.mapping_table.item(i, 0)
            assert heading is not None  # every row has its column heading (set with the box)
            out[heading.text()] = box.currentData() if isinstance(box, QComboBox) else IGNORE
        return out

    def _invalidate(self, *_: Any) -> None:
        """A new file, mapping or target: the preview no longer stands."""
        self.preview = None
        self.import_button.setEnabled(False)
        self.import_button.setText("Import")
        self.report.setRowCount(0)
        self.summary.setText("Press Preview to check the file." if self.table else "")

    # --- preview and import --------------------------------------------------------------------

    def show_report(self, rows: Sequence[Any], labels: dict[str, str]) -> None:
        """A report row per checked line (``line``, ``status``, ``problems``, and ``notes`` where
        the import has them): rejected lines tinted red, lines with notes amber."""
        self.report.setRowCount(len(rows))
        for i, r in enumerate(rows):
            notes: list[str] = getattr(r, "notes", [])
            rejected = r.status == REJECTED
            label = "✖ Rejected – will not be imported" if rejected else labels[r.status]
            tint = REJECT_BG if rejected else NOTE_BG if notes else None
            for c, text in enumerate((str(r.line), label, "; ".join(r.problems + notes))):
                item = QTableWidgetItem(text)
                if tint is not None:
                    item.setBackground(QBrush(tint))
                    item.setForeground(QBrush(TEXT_ON_TINT))  # dark on the pale tint, light or dark
                self.report.setItem(i, c, item)
        self.report.resizeRowsToContents()

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
