"""Import hospital admissions: choose the extract, check the columns, preview, import.

Same steps and promises as the cohort import: the preview writes nothing; the import writes the
valid rows in one transaction on the store worker, with a progress bar and Cancel (which rolls
everything back); the same file again changes nothing.
"""

from __future__ import annotations

import threading
from pathlib import Path
from typing import Any

from PySide6.QtCore import Qt, Signal
from PySide6.QtGui import QBrush, QColor
from PySide6.QtWidgets import (
    QAbstractItemView,
    QComboBox,
    QDialog,
    QFileDialog,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QProgressBar,
    QPushButton,
    QTableWidget,
    QTableWidgetItem,
    QVBoxLayout,
    QWidget,
)

from int_desk.app.context import AppContext
from int_desk.app.messages import describe
from int_desk.domain.errors import Interrupted
from int_desk.services import admissions_import as ai

REJECT_BG = QColor("#fde2df")


class AdmissionsImportDialog(QDialog):
    """Signals: ``previewed(AdmissionsPreview)``, ``imported(AdmissionsResult)``,
    ``import_failed(exception)`` (Interrupted when cancelled)."""

    previewed = Signal(object)
    imported = Signal(object)
    import_failed = Signal(object)
    _progress = Signal(int)

    def __init__(self, ctx: AppContext, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.ctx = ctx
        self.table: ai.ExtractTable | None = None
        self.preview: ai.AdmissionsPreview | None = None
        self._cancel = threading.Event()
        self._running = False
        self.setWindowTitle("Import hospital admissions")
        self.setAccessibleName("Import hospital admissions")
        self.resize(900, 600)
        heading = QLabel("Import hospital admissions")
        heading.setObjectName("dialogTitle")
        intro = QLabel(
            "An extract of hospital stays (SUS, HES or a trust's): NHS number, admission date "
            "and method (21-28 and 2A-2D are emergencies), discharge date and provider. Only "
            "people on your teams' caseload are matched. Preview first: nothing is written "
            "until you import, and importing the same file again changes nothing."
        )
        intro.setWordWrap(True)
        self.choose_button = QPushButton("Choose file…")
        self.choose_button.setAccessibleName("Choose the admissions extract")
        self.choose_button.clicked.connect(self.choose_file)
        self.file_label = QLabel("No file chosen")
        self.file_label.setAccessibleName("Chosen file")
        self.mapping_table = QTableWidget(0, 2)
        self.mapping_table.setAccessibleName("Column mapping")
        self.mapping_table.setHorizontalHeaderLabels(["Column in file", "Holds"])
        self.mapping_table.verticalHeader().hide()
        self.mapping_table.horizontalHeader().setSectionResizeMode(QHeaderView.ResizeMode.Stretch)
        self.mapping_table.setMaximumHeight(170)
        self.summary = QLabel("")
        self.summary.setAccessibleName("Preview summary")
        self.summary.setWordWrap(True)
        self.report = QTableWidget(0, 3)
        self.report.setAccessibleName("Validation report")
        self.report.setHorizontalHeaderLabels(["Line", "Result", "Problems"])
        self.report.verticalHeader().hide()
        self.report.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        self.report.setColumnWidth(0, 60)
        self.report.setColumnWidth(1, 300)
        self.report.horizontalHeader().setStretchLastSection(True)
        self.progress = QProgressBar()
        self.progress.setAccessibleName("Import progress")
        self.progress.hide()
        self._progress.connect(self.progress.setValue)
        self.error = QLabel("")
        self.error.setObjectName("errorText")
        self.error.setWordWrap(True)
        self.error.hide()
        self.preview_button = QPushButton("Preview")
        self.preview_button.clicked.connect(self.run_preview)
        self.import_button = QPushButton("Import")
        self.import_button.setEnabled(False)
        self.import_button.clicked.connect(self.run_import)
        self.close_button = QPushButton("Close")
        self.close_button.setAccessibleName("Cancel or close")
        self.close_button.clicked.connect(self.cancel_or_close)

        file_row = QHBoxLayout()
        file_row.addWidget(self.choose_button)
        file_row.addWidget(self.file_label, 1)
        buttons = QHBoxLayout()
        buttons.addStretch(1)
        for b in (self.preview_button, self.import_button, self.close_button):
            buttons.addWidget(b)
        layout = QVBoxLayout(self)
        for w in (heading, intro):
            layout.addWidget(w)
        layout.addLayout(file_row)
        layout.addWidget(QLabel("Column mapping (recognised headers are filled in):"))
        layout.addWidget(self.mapping_table)
        layout.addWidget(self.summary)
        layout.addWidget(self.report, 1)
        layout.addWidget(self.progress)
        layout.addWidget(self.error)
        layout.addLayout(buttons)

    # --- the file and its columns ----------------------------------------------------------------

    def choose_file(self) -> None:
        path, _ = QFileDialog.getOpenFileName(
            self, "Choose admissions extract", "",
            "Extracts (*.csv *.txt *.tsv *.xlsx *.xls *.ods);;All files (*)",
        )  # fmt: skip
        if path:
            self.load_file(Path(path))

    def load_file(self, path: Path) -> None:
        self.error.hide()
        try:
            self.table = ai.read_admissions(path)
        except Exception as exc:
            self.table = None
            self.mapping_table.setRowCount(0)
            self._failed(exc)
            self._invalidate()
            return
        self.file_label.setText(f"{path.name} – {self.table.data_rows:,} rows")
        mapping = ai.auto_mapping(self.table.headers)
        t = self.mapping_table
        t.setRowCount(len(self.table.headers))
        for i, header in enumerate(self.table.headers):
            item = QTableWidgetItem(header)
            item.setFlags(Qt.ItemFlag.ItemIsEnabled)
            t.setItem(i, 0, item)
            box = QComboBox()
            box.setAccessibleName(f"Field held by column {header}")
            box.addItem("— ignore —", ai.IGNORE)
            for key, label in ai.FIELDS.items():
                box.addItem(label, key)
            box.setCurrentIndex(max(0, box.findData(mapping.get(header, ai.IGNORE))))
            box.currentIndexChanged.connect(self._invalidate)
            t.setCellWidget(i, 1, box)
        self._invalidate()

    def mapping(self) -> dict[str, str]:
        out = {}
        for i in range(self.mapping_table.rowCount()):
            box = self.mapping_table.cellWidget(i, 1)
            data = box.currentData() if isinstance(box, QComboBox) else ai.IGNORE
            heading = self.mapping_table.item(i, 0)
            assert heading is not None  # every row has its column heading (set with the box)
            out[heading.text()] = data
        return out

    def _invalidate(self, *_: Any) -> None:
        self.preview = None
        self.import_button.setEnabled(False)
        self.import_button.setText("Import")
        self.report.setRowCount(0)
        self.summary.setText("Press Preview to check the file." if self.table else "")

    # --- preview and import ----------------------------------------------------------------------

    def run_preview(self) -> None:
        if self.table is None:
            self._failed(ValueError("Choose a file first."))
            return
        table, mapping, actor = self.table, self.mapping(), self.ctx.actor
        self.error.hide()
        self.preview_button.setEnabled(False)
        self.summary.setText("Checking…")
        self.ctx.query(
            lambda s: ai.build_preview(session=s, actor=actor, table=table, mapping=mapping),
            self._show_preview,
            self._failed,
        )

    def _show_preview(self, preview: ai.AdmissionsPreview) -> None:
        self.preview_button.setEnabled(True)
        self.preview = preview
        self.summary.setText("\n".join(preview.report_lines()[:2]))
        rows = sorted(preview.rows, key=lambda r: (r.status != ai.REJECTED, r.line))[:500]
        self.report.setRowCount(len(rows))
        for i, r in enumerate(rows):
            label = ai.STATUS_LABELS[r.status]
            if r.status == ai.REJECTED:
                label = "✖ Rejected – will not be imported"
            for c, text in enumerate((str(r.line), label, "; ".join(r.problems))):
                item = QTableWidgetItem(text)
                if r.status == ai.REJECTED:
                    item.setBackground(QBrush(REJECT_BG))
                self.report.setItem(i, c, item)
        n = len(preview.to_write)
        self.import_button.setEnabled(n > 0)
        self.import_button.setText(
            f"Import {n} row{'s' if n != 1 else ''}" if n else "Nothing to import"
        )
        self.previewed.emit(preview)

    def run_import(self) -> None:
        preview = self.preview
        if preview is None or not preview.to_write:
            return
        actor = self.ctx.actor
        self._cancel.clear()
        self._running = True
        self.progress.setRange(0, len(preview.to_write))
        self.progress.setValue(0)
        self.progress.show()
        self.import_button.setEnabled(False)
        self.preview_button.setEnabled(False)
        self.close_button.setText("Cancel import")
        self.summary.setText("Importing… Cancel leaves the workspace as it was.")

        def op(s: Any) -> ai.AdmissionsResult:
            return ai.apply_import(
                session=s, actor=actor, preview=preview,
                progress=lambda done, _total: self._progress.emit(done),
                cancelled=self._cancel.is_set,
            )  # fmt: skip

        self.ctx.query(op, self._imported, self._import_failed)

    def _imported(self, result: ai.AdmissionsResult) -> None:
        self._running = False
        self.progress.setValue(self.progress.maximum())
        self.close_button.setText("Close")
        self.preview_button.setEnabled(True)
        self.summary.setText(
            f"Imported: {result.admissions} admissions ({result.emergency} emergency), "
            f"{result.discharges} discharges; {result.unchanged} already recorded; "
            f"{result.rejected} rejected rows were not imported."
        )
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
            self.summary.setText("Cancelling…")
            return
        self.close()

    def _failed(self, exc: BaseException) -> None:
        self.preview_button.setEnabled(True)
        self.error.setText(describe(exc) if not isinstance(exc, ValueError) else str(exc))
        self.error.show()
