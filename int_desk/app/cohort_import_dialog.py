"""Cohort import: choose a PHM or GP-system extract (CSV, text, .xlsx, .ods; a workbook's sheet)
and a cohort, check the column mapping, preview the validation report (its first line says what
was found: report preamble, date style, footer), then import the valid rows (or nothing) with a
progress bar and Cancel.

The preview writes nothing. The import runs in one transaction on the store worker; Cancel sets
a flag the service checks between rows, and the transaction rolls back, so nothing is
half-written.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

from PySide6.QtCore import Qt
from PySide6.QtWidgets import (
    QComboBox,
    QFileDialog,
    QFormLayout,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QPushButton,
    QTableWidget,
    QTableWidgetItem,
    QVBoxLayout,
    QWidget,
)
from sqlalchemy.orm import Session

from int_desk.app.context import AppContext
from int_desk.app.import_dialog import ImportDialog
from int_desk.services import caseload as cl
from int_desk.services import cohort_import as ci
from int_desk.services import fhir_import


class CohortImportDialog(ImportDialog):
    """Signals: ``previewed(object)`` (ImportPreview), ``imported(object)`` (ImportResult),
    ``import_failed(object)`` (exception; Interrupted when cancelled)."""

    def __init__(self, ctx: AppContext, parent: QWidget | None = None) -> None:
        super().__init__(ctx, parent)
        self.table: ci.CsvTable | None = None
        self.preview: ci.ImportPreview | None = None
        # A FHIR file: its Patients fill ``table``; flags and conditions ride in the preview.
        self._fhir: Any = None
        self._fhir_preview: fhir_import.FhirPreview | None = None
        self._path: Path | None = None
        self.setWindowTitle("Import cohort from a PHM extract")
        self.setAccessibleName("Import cohort")
        self.resize(1000, 660)
        layout = QVBoxLayout(self)
        heading = QLabel("Import cohort from a PHM extract")
        heading.setObjectName("dialogTitle")
        layout.addWidget(heading)
        intro = QLabel(
            "1. Choose the extract (CSV or text export, Excel or OpenDocument workbook) and the "
            "cohort.  2. Check which column holds what.  "
            "3. Preview: nothing is written until you import, and only rows without problems "
            "are imported. Importing the same file again changes nothing."
        )
        intro.setWordWrap(True)
        layout.addWidget(intro)

        form = QFormLayout()
        self.file_label = QLabel("No file chosen")
        self.file_label.setAccessibleName("Chosen file")
        self.choose_button = QPushButton("Choose file…")
        self.choose_button.setAccessibleName("Choose the extract file")
        self.choose_button.clicked.connect(self.choose_file)
        row = QHBoxLayout()
        row.addWidget(self.choose_button)
        row.addWidget(self.file_label, 1)
        form.addRow("File", row)
        self.sheet_combo = QComboBox()
        self.sheet_combo.setAccessibleName("Workbook sheet to read")
        self.sheet_combo.activated.connect(self._sheet_chosen)
        self.sheet_label = QLabel("Sheet")
        form.addRow(self.sheet_label, self.sheet_combo)
        self.sheet_combo.hide()
        self.sheet_label.hide()
        self.cohort_combo = QComboBox()
        self.cohort_combo.setAccessibleName("Cohort to import into")
        # A first import into a new team: type the new cohort's name (made when importing).
        self.cohort_combo.setEditable(True)
        self.cohort_combo.lineEdit().setAccessibleName("Cohort to import into")  # its text box
        self.cohort_combo.setInsertPolicy(QComboBox.InsertPolicy.NoInsert)
        self.cohort_combo.lineEdit().setPlaceholderText("Choose a cohort, or type a new one's name")
        self.cohort_combo.currentIndexChanged.connect(self._invalidate)
        self.cohort_combo.editTextChanged.connect(self._invalidate)
        form.addRow("Cohort", self.cohort_combo)
        layout.addLayout(form)

        self.mapping_table = QTableWidget(0, 3)
        self.mapping_table.setAccessibleName("Column mapping")
        self.mapping_table.setHorizontalHeaderLabels(["Column in file", "Holds", "First value"])
        self.mapping_table.verticalHeader().hide()
        self.mapping_table.horizontalHeader().setSectionResizeMode(
            2, QHeaderView.ResizeMode.Stretch
        )
        self.mapping_table.setColumnWidth(0, 220)
        self.mapping_table.setColumnWidth(1, 220)
        self.mapping_table.setMaximumHeight(190)
        layout.addWidget(QLabel("Column mapping (recognised headers are filled in):"))
        layout.addWidget(self.mapping_table)

        self.found = QLabel("")
        self.found.setAccessibleName("What the file holds")
        self.found.setWordWrap(True)
        layout.addWidget(self.found)
        self.summary = QLabel("")
        self.summary.setAccessibleName("Preview summary")
        self.summary.setWordWrap(True)
        layout.addWidget(self.summary)
        buttons = self.make_controls("Problems and notes", 290)
        layout.addWidget(self.report, 1)
        layout.addWidget(self.progress)
        layout.addWidget(self.error)
        layout.addLayout(buttons)
        self._running = False
        self._load_cohorts()

    # --- inputs -------------------------------------------------------------------------------

    def _load_cohorts(self) -> None:
        actor = self.ctx.actor

        def done(choices: cl.FilterChoices) -> None:
            self.cohort_combo.clear()
            for c in choices.cohorts:
                self.cohort_combo.addItem(c.label, c.id)

        self.ctx.query(lambda s: cl.filter_choices(session=s, actor=actor), done, self._failed)

    def choose_file(self) -> None:
        path, _ = QFileDialog.getOpenFileName(
            self,
            "Choose PHM extract",
            "",
            "Extracts (*.csv *.txt *.tsv *.xlsx *.xls *.ods);;"
            "FHIR Bundle or NDJSON of Patients (*.json *.ndjson);;All files (*)",
        )
        if path:
            self.load_file(Path(path))

    def load_file(self, path: Path, sheet: str | None = None) -> None:
        self.error.hide()
        self._path = path
        self._fhir = None
        try:
            if fhir_import.is_fhir(path):
                self._fhir = fhir_import.read_file(path)
                self.table = fhir_import.as_table(self._fhir)
            else:
                self.table = ci.read_csv(path, sheet=sheet)
        except Exception as exc:
            self.table = None
            self.found.setText("")
            self.mapping_table.setRowCount(0)
            if sheet is None:  # a new file: its sheets are unknown; a bad sheet keeps the list
                self.sheet_combo.hide()
                self.sheet_label.hide()
            self._failed(exc)
            self._invalidate()
            return
        table = self.table
        self.file_label.setText(f"{path.name} – {table.data_rows:,} rows")
        self.sheet_combo.clear()
        self.sheet_combo.addItems(table.sheets)
        self.sheet_combo.setCurrentText(table.sheet)
        self.sheet_combo.setVisible(len(table.sheets) > 1)
        self.sheet_label.setVisible(len(table.sheets) > 1)
        self.found.setText(", ".join(table.findings() + table.closing_findings()))
        self._fill_mapping(ci.auto_mapping(table.headers))
        # A FHIR file's elements are its columns: nothing to map by hand.
        self.mapping_table.setEnabled(self._fhir is None)
        self._invalidate()

    def _sheet_chosen(self, _index: int) -> None:
        name = self.sheet_combo.currentText()
        if self._path is not None and name and (self.table is None or name != self.table.sheet):
            self.load_file(self._path, sheet=name)

    def _fill_mapping(self, mapping: dict[str, str]) -> None:
        assert self.table is not None
        t = self.mapping_table
        t.setRowCount(len(self.table.headers))
        first = next((r for r in self.table.rows if r), [])
        for i, header in enumerate(self.table.headers):
            self.put_mapping_row(i, header, ci.FIELDS, mapping.get(header, ci.IGNORE))
            value = first[i] if i < len(first) else ""
            sample = QTableWidgetItem(self.table.shown(i, value)[:60])
            sample.setFlags(Qt.ItemFlag.ItemIsEnabled)
            t.setItem(i, 2, sample)

    def set_mapping(self, column: str, fld: str) -> None:
        for i in range(self.mapping_table.rowCount()):
            if self.mapping_table.item(i, 0).text() == column:
                box = self.mapping_table.cellWidget(i, 1)
                assert isinstance(box, QComboBox)
                box.setCurrentIndex(box.findData(fld))

    # --- preview ------------------------------------------------------------------------------

    def run_preview(self) -> None:
        if self.table is None:
            self._failed(ValueError("Choose a file first."))
            return
        cohort, new_name = self._chosen_cohort()
        if not cohort and not new_name:
            self._failed(ValueError("Choose a cohort, or type the name of a new one."))
            return
        import uuid

        table, mapping, actor, fhir = self.table, self.mapping(), self.ctx.actor, self._fhir
        self._fhir_preview = None
        self.preview_button.setEnabled(False)
        self.summary.setText("Checking…")

        def op(s: Any) -> ci.ImportPreview:
            cohort_id = uuid.UUID(cohort) if cohort else _new_cohort(s, actor, new_name)
            if fhir is not None:  # the same row validation, plus the FHIR-level checks
                self._fhir_preview = fhir_import.build_preview(
                    session=s, actor=actor, cohort_id=cohort_id, parsed=fhir
                )
                preview = self._fhir_preview.rows
            else:
                preview = ci.build_preview(
                    session=s, actor=actor, cohort_id=cohort_id, table=table, mapping=mapping
                )
            if not cohort:
                s.rollback()  # the new cohort is made when importing: a preview writes nothing
                preview.cohort_id = None  # type: ignore[assignment]
            return preview

        self.ctx.query(op, self._show_preview, self._failed)

    def _chosen_cohort(self) -> tuple[str | None, str]:
        """(id of an existing cohort, or None; the typed name of a new one)."""
        text = self.cohort_combo.currentText().strip()
        index = self.cohort_combo.findText(text)
        if index >= 0:
            return str(self.cohort_combo.itemData(index)), ""
        return None, text

    def _show_preview(self, preview: ci.ImportPreview) -> None:
        self.preview_button.setEnabled(True)
        self.preview = preview
        self.found.setText(preview.found())
        summary = preview.summary()
        if preview.cohort_id is None:
            summary += f" A new cohort '{preview.cohort_name}' is made when you import."
        if preview.unknown_practices and preview.practice_codes:
            summary += (
                f"\n{preview.practice_codes.describe_unknown()}. Importing adds them as "
                "practices awaiting a name; your administrator names them later."
            )
        self.summary.setText(summary)
        shown = [r for r in preview.rows if r.status == ci.REJECTED or r.notes]
        shown += [r for r in preview.rows if r.status != ci.REJECTED and not r.notes][:200]
        shown.sort(key=lambda r: (r.status != ci.REJECTED, r.line))
        self.show_report(shown, ci.STATUS_LABELS)
        n = len(preview.to_write)
        self.import_button.setEnabled(n > 0)
        rejected = len(preview.rejected)
        self.import_button.setText(
            f"Import {n} valid row{'s' if n != 1 else ''}"
            + (f" (skip {rejected} rejected)" if rejected else "")
            if n
            else "Nothing to import"
        )
        self.previewed.emit(preview)

    # --- import -------------------------------------------------------------------------------

    def import_work(self, preview: ci.ImportPreview) -> Callable[[Session], Any]:
        actor = self.ctx.actor
        fhir = (
            self._fhir_preview
            if self._fhir_preview and self._fhir_preview.rows is preview
            else None
        )

        def op(s: Session) -> ci.ImportResult:
            if preview.cohort_id is None:  # a new cohort, named in the preview
                preview.cohort_id = _new_cohort(s, actor, preview.cohort_name)
            if fhir is not None:  # the same write, then the people's flags and conditions
                return fhir_import.apply_import(  # type: ignore[return-value]
                    session=s, actor=actor, preview=fhir, progress=self.report_progress,
                    cancelled=self.cancelled,
                )  # fmt: skip
            return ci.apply_import(
                session=s, actor=actor, preview=preview, progress=self.report_progress,
                cancelled=self.cancelled,
            )  # fmt: skip

        return op

    def imported_text(self, result: ci.ImportResult) -> str:
        return (
            f"Imported: {result.created_patients} new people, {result.enrolled} enrolled, "
            f"{result.updated} updated, {result.unchanged} unchanged; "
            f"{result.rejected} rejected rows were not imported."
        )


def _new_cohort(session: Any, actor: Any, name: str) -> Any:
    from int_desk.domain.errors import ValidationError
    from int_desk.services.team_setup import ensure_cohort

    if len(actor.team_ids) != 1:
        raise ValidationError(
            "You are in several teams: choose an existing cohort, or ask your administrator "
            "to add the new cohort to the right team."
        )
    (team_id,) = actor.team_ids
    return ensure_cohort(session=session, actor=actor, team_id=team_id, name=name)
