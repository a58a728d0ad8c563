"""The Scorecard page: the INT's measures as SPC charts, each with its table beside it.

Filters (team, cohort, dates, week or month, breakdown, re-based limits) re-run the scorecard on
the store worker; pointing at a chart point (or Left/Right on a focused chart) shows its values.
Export writes the PDF (charts as vector graphics) or the CSV of every figure.
"""

from __future__ import annotations

import logging
import uuid
from datetime import date
from pathlib import Path
from typing import Any

from PySide6.QtCore import QDate, QRectF, QSize, Qt, Signal
from PySide6.QtGui import QColor, QFont, QPainter, QPaintEvent, QPen, QShowEvent
from PySide6.QtWidgets import (
    QAbstractItemView,
    QCheckBox,
    QComboBox,
    QDateEdit,
    QFileDialog,
    QFrame,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QPushButton,
    QScrollArea,
    QTableWidget,
    QTableWidgetItem,
    QVBoxLayout,
    QWidget,
)

from int_desk.app.admissions_import_dialog import AdmissionsImportDialog
from int_desk.app.context import AppContext
from int_desk.app.messages import describe
from int_desk.app.spc_chart_widget import SpcChartWidget
from int_desk.domain import scorecard as sc
from int_desk.domain.errors import IntDeskError, ValidationError
from int_desk.domain.permissions import allowed
from int_desk.domain.scorecard import Breakdown, Grain, MeasureResult, Scorecard, ScorecardQuery
from int_desk.domain.uk_time import day_text, london_today
from int_desk.reports import scorecard_pdf, spc_chart
from int_desk.services import admissions_import, scorecard_export
from int_desk.services import scorecard as service
from int_desk.store.changes import Changes

log = logging.getLogger(__name__)

ALL_TEAMS = "all"


def _qdate(d: date) -> QDate:
    return QDate(d.year, d.month, d.day)


def _pydate(q: QDate) -> date:
    return date(q.year(), q.month(), q.day())


class IconLabel(QWidget):
    """A Making Data Count icon (coloured ring and letter) with its meaning as tooltip."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.icon: spc_chart.Icon | None = None
        self.setFixedSize(30, 30)

    def sizeHint(self) -> QSize:  # noqa: N802 - Qt's name
        return QSize(30, 30)

    def set_icon(self, icon: spc_chart.Icon | None) -> None:
        self.icon = icon
        self.setVisible(icon is not None)
        if icon is not None:
            self.setToolTip(icon.label)
            self.setAccessibleName(icon.label)
        self.update()

    def paintEvent(self, event: QPaintEvent) -> None:  # noqa: N802 - Qt's name
        if self.icon is None:
            return
        p = QPainter(self)
        p.setRenderHint(QPainter.RenderHint.Antialiasing)
        colour = QColor(self.icon.colour)
        p.setPen(QPen(colour, 2.5))
        p.setBrush(QColor("white"))
        p.drawEllipse(QRectF(2, 2, 26, 26))
        font = QFont(self.font())
        font.setBold(True)
        font.setPointSizeF(font.pointSizeF() * 1.1)
        p.setFont(font)
        p.drawText(QRectF(2, 2, 26, 26), Qt.AlignmentFlag.AlignCenter, self.icon.letter)
        p.end()


class MeasurePanel(QFrame):
    """One measure: title, icons and headline, then the chart with its table beside it."""

    def __init__(self, measure: sc.Measure, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.measure = measure
        self.setObjectName("measurePanel")
        self.setFrameShape(QFrame.Shape.StyledPanel)
        self.title = QLabel(measure.title)
        self.title.setObjectName("sectionTitle")
        font = self.title.font()
        font.setBold(True)
        font.setPointSizeF(font.pointSizeF() * 1.15)
        self.title.setFont(font)
        self.variation_icon = IconLabel()
        self.assurance_icon = IconLabel()
        self.headline = QLabel()
        self.headline.setAccessibleName(f"{measure.title}: headline")
        self.headline.setWordWrap(True)
        self.notes = QLabel()
        self.notes.setWordWrap(True)
        self.notes.setObjectName("hintText")
        self.chart = SpcChartWidget()
        self.table = QTableWidget(0, 4)
        self.table.setAccessibleName(f"{measure.title}: values by period")
        self.table.setTabKeyNavigation(False)  # Tab leaves the table; arrows move in it
        self.table.setHorizontalHeaderLabels(["Period", "Value", "Numerator", "Denominator"])
        self.table.verticalHeader().hide()
        self.table.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        self.table.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        self.table.horizontalHeader().setSectionResizeMode(QHeaderView.ResizeMode.ResizeToContents)
        self.table.setMinimumWidth(280)
        self.table.setMaximumWidth(380)
        self.table.setFixedHeight(230)
        self.table.currentCellChanged.connect(self._row_chosen)
        self.breakdown = QTableWidget(0, 4)
        self.breakdown.setAccessibleName(f"{measure.title}: breakdown")
        self.breakdown.setTabKeyNavigation(False)  # Tab leaves the table; arrows move in it
        self.breakdown.verticalHeader().hide()
        self.breakdown.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        self.breakdown.horizontalHeader().setSectionResizeMode(
            QHeaderView.ResizeMode.ResizeToContents
        )
        self.breakdown.hide()
        head = QHBoxLayout()
        head.addWidget(self.title)
        head.addWidget(self.variation_icon)
        head.addWidget(self.assurance_icon)
        head.addWidget(self.headline, 1)
        body = QHBoxLayout()
        body.addWidget(self.chart, 3)
        body.addWidget(self.table, 2)
        layout = QVBoxLayout(self)
        layout.addLayout(head)
        layout.addLayout(body)
        layout.addWidget(self.notes)
        layout.addWidget(self.breakdown)
        self.result: MeasureResult | None = None

    def show_result(self, card: Scorecard, mr: MeasureResult) -> None:
        self.result = mr
        data = scorecard_pdf.chart_data(mr, card.periods)
        self.chart.set_data(data)
        found = {i.kind: i for i in spc_chart.icons(mr.chart)}
        self.variation_icon.set_icon(found.get("variation"))
        self.assurance_icon.set_icon(found.get("assurance"))
        self.headline.setText(scorecard_pdf.headline(mr))
        m = mr.measure
        self.table.setRowCount(len(card.periods))
        for r, (p, cell) in enumerate(zip(card.periods, mr.overall.series, strict=True)):
            special = mr.chart.points[r].special
            num = (
                "" if m.key == "escalation_days" else scorecard_pdf.count_text(cell.numerator, cell)
            )
            dec = 1 if m.key in ("emergency_admissions", "people_discussed") else 0
            values = (
                p.label + ("" if p.complete else " (so far)"),
                scorecard_pdf.cell_text(m, cell) + (" ◆" if special else ""),
                num,
                scorecard_pdf.count_text(cell.denominator, cell, dec),
            )
            for c, text in enumerate(values):
                item = QTableWidgetItem(text)
                item.setToolTip(data.tooltips[r])
                if c:
                    item.setTextAlignment(
                        Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter
                    )
                self.table.setItem(r, c, item)
        self.table.scrollToBottom()
        notes = list(mr.chart.notes())
        self.notes.setText(" ".join(notes))
        self.notes.setVisible(bool(notes))
        self._show_breakdown(card, mr)

    def _show_breakdown(self, card: Scorecard, mr: MeasureResult) -> None:
        if card.query.by is None or not mr.groups:
            self.breakdown.hide()
            return
        m = mr.measure
        self.breakdown.setHorizontalHeaderLabels(
            [card.query.by.label, m.unit if m.unit != "%" else "Value", m.numerator, m.denominator]
        )
        rows = [mr.overall, *mr.groups]
        dec = 1 if m.key in ("emergency_admissions", "people_discussed") else 0
        self.breakdown.setRowCount(len(rows))
        for r, g in enumerate(rows):
            cell = g.total
            values = (
                "All" if g is mr.overall else g.label,
                scorecard_pdf.cell_text(m, cell),
                ""
                if m.key == "escalation_days"
                else scorecard_pdf.count_text(cell.numerator, cell),
                scorecard_pdf.count_text(cell.denominator, cell, dec),
            )
            for c, text in enumerate(values):
                item = QTableWidgetItem(text)
                if c:
                    item.setTextAlignment(
                        Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter
                    )
                self.breakdown.setItem(r, c, item)
        self.breakdown.setFixedHeight(
            min(260, self.breakdown.horizontalHeader().height() + 4 + 24 * len(rows))
        )
        self.breakdown.show()

    def _row_chosen(self, row: int, *_: int) -> None:
        """Selecting a period in the table highlights its point on the chart."""
        lay = self.chart.chart_layout()
        if lay is None or row < 0:
            return
        for n, pt in enumerate(lay.points):
            if pt.index == row:
                self.chart.current = n
                self.chart.update()
                return


class ScorecardPage(QWidget):
    """Signals: ``loaded(Scorecard)``, ``exported(str path)``, ``failed(str message)``."""

    title = "Scorecard"
    shortcut = "Ctrl+6"
    loaded = Signal(object)
    exported = Signal(str)
    failed = Signal(str)

    def __init__(self, ctx: AppContext, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.ctx = ctx
        self.card: Scorecard | None = None
        self._shown = False
        self._cohorts: dict[str, list[tuple[uuid.UUID, str]]] = {}
        heading = QLabel("INT scorecard")
        heading.setObjectName("pageTitle")
        start, end = sc.default_range(london_today())
        self.team_combo = QComboBox()
        self.team_combo.setAccessibleName("Team")
        self.cohort_combo = QComboBox()
        self.cohort_combo.setAccessibleName("Cohort")
        for combo in (self.team_combo, self.cohort_combo):
            combo.setSizeAdjustPolicy(QComboBox.SizeAdjustPolicy.AdjustToContents)
        self.from_edit = QDateEdit(_qdate(start))
        self.from_edit.setAccessibleName("From")
        self.to_edit = QDateEdit(_qdate(end))
        self.to_edit.setAccessibleName("To")
        for edit in (self.from_edit, self.to_edit):
            edit.setCalendarPopup(True)
            edit.setDisplayFormat("d MMM yyyy")
        self.grain_combo = QComboBox()
        self.grain_combo.setAccessibleName("Periods")
        self.grain_combo.addItem("Monthly", Grain.MONTH.value)
        self.grain_combo.addItem("Weekly", Grain.WEEK.value)
        self.by_combo = QComboBox()
        self.by_combo.setAccessibleName("Break down by")
        self.by_combo.addItem("No breakdown", "")
        for b in Breakdown:
            self.by_combo.addItem(b.label, b.value)
        self.rebase_check = QCheckBox("Re-base limits from")
        self.rebase_edit = QDateEdit(_qdate(london_today().replace(day=1)))
        self.rebase_edit.setAccessibleName("Re-base limits from")
        self.rebase_edit.setCalendarPopup(True)
        self.rebase_edit.setDisplayFormat("d MMM yyyy")
        self.rebase_edit.setEnabled(False)
        self.rebase_check.toggled.connect(self.rebase_edit.setEnabled)
        self.refresh_button = QPushButton("&Show")
        self.refresh_button.setToolTip("Work out the scorecard for these filters")
        self.pdf_button = QPushButton("Export &PDF…")
        self.csv_button = QPushButton("Export &CSV…")
        self.admissions_button = QPushButton("Import &admissions…")
        self.admissions_button.setToolTip(
            "Import a hospital admissions extract into people's records (the scorecard counts "
            "them with the admissions recorded by hand)"
        )
        self.admissions_button.setEnabled(allowed(ctx.actor, admissions_import.PERMISSION))
        for b in (self.pdf_button, self.csv_button):
            b.setEnabled(False)
        self.status = QLabel("")
        self.status.setAccessibleName("Scorecard status")
        self.status.setWordWrap(True)
        self.error_label = QLabel()
        self.error_label.setObjectName("errorText")
        self.error_label.setWordWrap(True)
        self.error_label.hide()

        row1 = QHBoxLayout()
        for label, widget in (
            ("Team", self.team_combo),
            ("Cohort", self.cohort_combo),
            ("From", self.from_edit),
            ("To", self.to_edit),
        ):
            lab = QLabel(f"{label}:")
            lab.setBuddy(widget)
            row1.addWidget(lab)
            row1.addWidget(widget)
        row1.addStretch(1)
        row2 = QHBoxLayout()
        for label, widget in (("Periods", self.grain_combo), ("Break down by", self.by_combo)):
            lab = QLabel(f"{label}:")
            lab.setBuddy(widget)
            row2.addWidget(lab)
            row2.addWidget(widget)
        row2.addWidget(self.rebase_check)
        row2.addWidget(self.rebase_edit)
        row2.addStretch(1)
        row2.addWidget(self.refresh_button)
        row2.addWidget(self.pdf_button)
        row2.addWidget(self.csv_button)
        row1.addWidget(self.admissions_button)

        self.panels = [MeasurePanel(m) for m in sc.MEASURES]
        body = QWidget()
        body_layout = QVBoxLayout(body)
        for panel in self.panels:
            body_layout.addWidget(panel)
        body_layout.addStretch(1)
        self.scroll = QScrollArea()
        self.scroll.setAccessibleName("Measures")
        self.scroll.setWidgetResizable(True)
        self.scroll.setWidget(body)
        layout = QVBoxLayout(self)
        layout.addWidget(heading)
        layout.addLayout(row1)
        layout.addLayout(row2)
        layout.addWidget(self.status)
        layout.addWidget(self.error_label)
        layout.addWidget(self.scroll, 1)

        self.team_combo.currentIndexChanged.connect(self._team_changed)
        self.refresh_button.clicked.connect(self.refresh)
        self.pdf_button.clicked.connect(self._choose_pdf)
        self.csv_button.clicked.connect(self._choose_csv)
        self.admissions_button.clicked.connect(self.open_admissions_import)
        self.ctx.events.changed.connect(self._on_changes)

    # --- loading ------------------------------------------------------------------------------

    def showEvent(self, event: QShowEvent) -> None:  # noqa: N802 - Qt's name
        super().showEvent(event)
        if not self._shown:  # the first time only: the scorecard is not free to work out
            self._shown = True
            self._load_filters()

    def _load_filters(self) -> None:
        team_ids = sorted(self.ctx.actor.team_ids)

        def op(s: Any) -> tuple[list[tuple[uuid.UUID, str]], service.CohortsByTeam]:
            return service.filter_choices(s, team_ids)

        self.ctx.query(op, self._filters_loaded, self._on_error)

    def _filters_loaded(self, result: tuple[list[tuple[uuid.UUID, str]], dict]) -> None:
        teams, self._cohorts = result
        self.team_combo.blockSignals(True)
        self.team_combo.clear()
        if len(teams) > 1:
            self.team_combo.addItem("All my teams", ALL_TEAMS)
        for tid, name in teams:
            self.team_combo.addItem(name, str(tid))
        self.team_combo.blockSignals(False)
        self._team_changed()
        if not teams:
            self.status.setText("You are not a member of any team, so there is no scorecard.")
            return
        self.refresh()

    def _team_changed(self, *_: object) -> None:
        self.cohort_combo.clear()
        self.cohort_combo.addItem("All cohorts", "")
        team = self.team_combo.currentData()
        if team and team != ALL_TEAMS:
            for cid, name in self._cohorts.get(team, []):
                self.cohort_combo.addItem(name, str(cid))
        self.cohort_combo.setEnabled(self.cohort_combo.count() > 1)

    def query(self) -> ScorecardQuery:
        team = self.team_combo.currentData()
        cohort = self.cohort_combo.currentData()
        by = self.by_combo.currentData()
        start, end = _pydate(self.from_edit.date()), _pydate(self.to_edit.date())
        if end < start:
            raise ValidationError("'To' is before 'From'.", field="to")
        return ScorecardQuery(
            start=start,
            end=end,
            grain=Grain(self.grain_combo.currentData()),
            team_ids=(uuid.UUID(team),) if team and team != ALL_TEAMS else (),
            cohort_ids=(uuid.UUID(cohort),) if cohort else (),
            by=Breakdown(by) if by else None,
            rebase_from=_pydate(self.rebase_edit.date()) if self.rebase_check.isChecked() else None,
        )

    def refresh(self) -> None:
        try:
            query = self.query()
        except IntDeskError as exc:
            self._on_error(exc)
            return
        actor = self.ctx.actor
        self.refresh_button.setEnabled(False)
        self.status.setText("Working out the scorecard…")
        self.error_label.hide()
        self.ctx.query(
            lambda s: service.scorecard(session=s, actor=actor, query=query),
            self._show,
            self._on_error,
        )

    def _on_changes(self, changes: Changes) -> None:
        if self.card is not None and self.isVisible() and changes.touches_records():
            self.refresh()

    def _show(self, card: Scorecard) -> None:
        self.card = card
        self.refresh_button.setEnabled(True)
        for b in (self.pdf_button, self.csv_button):
            b.setEnabled(True)
        for panel, mr in zip(self.panels, card.measures, strict=True):
            panel.show_result(card, mr)
        first, last = card.periods[0], card.periods[-1]
        if card.nobody:
            self.status.setText(
                "No one is in this team's cohorts for these dates, so there is nothing to count "
                "yet. Import a cohort list on the Caseload page to start the scorecard."
            )
            self.loaded.emit(card)
            return
        self.status.setText(
            f"{card.scope_label}: {day_text(first.start)} to {day_text(last.end)}, "
            f"{len(card.periods)} {card.query.grain.value}s. {card.people_now:,} people in "
            f"the cohort now; {card.open_escalations:,} open escalations. Point at a chart "
            "for its values."
        )
        self.loaded.emit(card)

    def _on_error(self, exc: BaseException) -> None:
        if not isinstance(exc, IntDeskError):
            log.error("scorecard page: %s", type(exc).__name__, exc_info=exc)
        self.refresh_button.setEnabled(True)
        message = describe(exc)
        self.error_label.setText(message)
        self.error_label.show()
        self.status.setText("")
        self.failed.emit(message)

    def open_admissions_import(self) -> AdmissionsImportDialog:
        dialog = AdmissionsImportDialog(self.ctx, self)
        dialog.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
        dialog.show()
        return dialog

    # --- export -------------------------------------------------------------------------------

    def _suggested(self, suffix: str) -> str:
        from int_desk.settings_schema import Preferences  # Settings > Save PDFs to

        folder = Preferences(self.ctx.settings).pdf_folder()
        team = self.team_combo.currentText().replace(" ", "-") or "scorecard"
        return str(folder / f"{team}-scorecard-{london_today():%Y-%m-%d}.{suffix}")

    def _choose_pdf(self) -> None:
        path, _ = QFileDialog.getSaveFileName(
            self, "Save the scorecard PDF", self._suggested("pdf"), "PDF (*.pdf)"
        )
        if path:
            self.export_to(Path(path))

    def _choose_csv(self) -> None:
        path, _ = QFileDialog.getSaveFileName(
            self, "Save the scorecard CSV", self._suggested("csv"), "CSV files (*.csv)"
        )
        if path:
            self.export_to(Path(path))

    def export_to(self, path: Path) -> None:
        """Write the scorecard on screen as a PDF or CSV (by the file's suffix)."""
        card, actor = self.card, self.ctx.actor
        if card is None:
            return
        suffix = path.suffix.lower()
        if suffix not in (".pdf", ".csv"):
            path = path.with_suffix(".pdf")
        fn = scorecard_export.export_csv if suffix == ".csv" else scorecard_export.export_pdf
        self.status.setText(f"Saving {path.name}…")
        self.ctx.query(
            lambda s: fn(session=s, actor=actor, card=card, path=path),
            self._on_exported,
            self._on_error,
        )

    def _on_exported(self, path: Path) -> None:
        self.status.setText(f"Saved {path}")
        self.exported.emit(str(path))
