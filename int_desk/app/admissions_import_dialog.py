"""Import hospital admissions: choose the extract, check the columns, preview, import.

Same steps and promises as the cohort import: the preview writes nothing; the import writes the
valid rows in one transaction on the store worker, with a progress bar and Cancel (which rolls
everything back); the same file again changes nothing.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

from PySide6.QtWidgets import (
    QFileDialog,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QPushButton,
    QTableWidget,
    QVBoxLayout,
    QWidget,
)
from sqlalchemy.orm import Session

from int_desk.app.context import AppContext
from int_desk.app.import_dialog import ImportDialog
from int_desk.services import admissions_import as ai


class AdmissionsImportDialog(ImportDialog):
    """Signals: ``previewed(AdmissionsPreview)``, ``imported(AdmissionsResult)``,
    ``import_failed(exception)`` (Interrupted when cancelled)."""

    def __init__(self, ctx: AppContext, parent: QWidget | None = None) -> None:
        super().__init__(ctx, parent)
        self.table: ai.ExtractTable | None = None
        self.preview: ai.AdmissionsPreview | None = None
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
        buttons = self.make_controls("Problems", 300)

        file_row = QHBoxLayout()
        file_row.addWidget(self.choose_button)
        file_row.addWidget(self.file_label, 1)
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
        self.mapping_table.setRowCount(len(self.table.headers))
        for i, header in enumerate(self.table.headers):
            self.put_mapping_row(i, header, ai.FIELDS, mapping.get(header, ai.IGNORE))
        self._invalidate()

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
        self.show_report(rows, ai.STATUS_LABELS)
        n = len(preview.to_write)
        self.import_button.setEnabled(n > 0)
        self.import_button.setText(
            f"Import {n} row{'s' if n != 1 else ''}" if n else "Nothing to import"
        )
        self.previewed.emit(preview)

    def import_work(self, preview: ai.AdmissionsPreview) -> Callable[[Session], Any]:
        actor = self.ctx.actor
        return lambda s: ai.apply_import(
            session=s, actor=actor, preview=preview, progress=self.report_progress,
            cancelled=self.cancelled,
        )  # fmt: skip

    def imported_text(self, result: ai.AdmissionsResult) -> str:
        return (
            f"Imported: {result.admissions} admissions ({result.emergency} emergency), "
            f"{result.discharges} discharges; {result.unchanged} already recorded; "
            f"{result.rejected} rejected rows were not imported."
        )
