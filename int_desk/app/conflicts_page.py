"""Conflicts inbox: the same field changed here and by someone else before either saw the other.

Each row shows both values with who and when; a person keeps one of them (or types the right
value) and the choice is saved as an ordinary, audited edit that syncs to everyone.
"""

from __future__ import annotations

import logging
import uuid
from datetime import datetime
from typing import Any

from PySide6.QtCore import Qt
from PySide6.QtWidgets import (
    QAbstractItemView,
    QHBoxLayout,
    QHeaderView,
    QInputDialog,
    QLabel,
    QPushButton,
    QTableWidget,
    QTableWidgetItem,
    QVBoxLayout,
    QWidget,
)

from int_desk.app.context import AppContext
from int_desk.app.messages import show_error
from int_desk.app.navigation import open_in_caseload
from int_desk.domain.uk_time import in_london
from int_desk.services import sync_conflicts
from int_desk.store.changes import Changes

log = logging.getLogger(__name__)
COLUMNS = ("Detail", "Patient", "Your value", "Your change", "Their value", "Their change")
VALUE_COLUMNS = (2, 4)
EMPTY = (
    "No conflicts. If the same detail is changed here and by someone else before INT Desk "
    "syncs, it appears here for you to decide; nothing is overwritten meanwhile."
)
CHOSEN = {"local": "your value", "remote": "their value", "custom": "the value you entered"}


def _show(value: Any) -> str:
    if value is None:
        return "(empty)"
    if value is True:
        return "Yes"
    if value is False:
        return "No"
    return str(value)


def _when(value: datetime | str | None) -> str:
    """Both sides' times the same way, in London whatever this computer's zone: '22 Nov 14:05'
    (stored and sent in UTC; a naive value is UTC)."""
    if not value:
        return ""
    when = in_london(datetime.fromisoformat(value) if isinstance(value, str) else value)
    return f"{when.day} {when:%b %H:%M}"


def summary_text(count: int) -> str:
    if not count:
        return EMPTY
    need = "change needs" if count == 1 else "changes need"
    return (
        f"<b>{count} {need} a decision.</b> The same detail was changed here and by someone "
        "else before either saw the other. Nothing has been overwritten. Select a row, then "
        "keep your value, keep theirs, or enter the right one; your decision is sent to your "
        "team at the next sync."
    )


class ConflictsPage(QWidget):
    title = "Conflicts"
    shortcut = "Ctrl+7"

    def __init__(self, ctx: AppContext, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.ctx = ctx
        self.conflicts: list[sync_conflicts.ConflictView] = []
        self.summary = QLabel(EMPTY)
        self.summary.setObjectName("conflictsSummaryLabel")
        self.summary.setWordWrap(True)
        self.summary.setTextFormat(Qt.TextFormat.RichText)
        self.outcome = QLabel()  # what the last decision did (stays until the next one)
        self.outcome.setObjectName("conflictsOutcomeLabel")
        self.outcome.setWordWrap(True)
        self.outcome.setAccessibleName("Last decision")
        self.outcome.hide()
        self.table = QTableWidget(0, len(COLUMNS))
        self.table.setObjectName("conflictsTable")
        self.table.setAccessibleName("Sync conflicts")
        self.table.setTabKeyNavigation(False)  # Tab leaves the table; arrows move in it
        self.table.setHorizontalHeaderLabels(COLUMNS)
        self.table.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        self.table.setSelectionMode(QAbstractItemView.SelectionMode.SingleSelection)
        self.table.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        self.table.setWordWrap(True)
        self.table.verticalHeader().hide()
        header = self.table.horizontalHeader()
        for column in range(len(COLUMNS)):
            mode = QHeaderView.ResizeMode.Stretch if column in VALUE_COLUMNS else None
            header.setSectionResizeMode(column, mode or QHeaderView.ResizeMode.ResizeToContents)
        self.keep_mine = QPushButton("Keep &your value")
        self.keep_mine.setObjectName("keepMineButton")
        self.keep_mine.setToolTip("Keep the value changed on this computer (Alt+Y)")
        self.keep_theirs = QPushButton("Keep &their value")
        self.keep_theirs.setObjectName("keepTheirsButton")
        self.keep_theirs.setToolTip("Keep the value your colleague saved (Alt+T)")
        self.other = QPushButton("&Enter the right value…")
        self.other.setObjectName("customValueButton")
        self.other.setToolTip("Neither is right: type the correct value (Alt+E)")
        self.open_button = QPushButton("&Open patient")
        self.open_button.setObjectName("openPatientButton")
        self.open_button.setToolTip("Open this person's record in the caseload (Alt+O)")
        buttons = QHBoxLayout()
        for b in (self.keep_mine, self.keep_theirs, self.other):
            buttons.addWidget(b)
        buttons.addStretch(1)
        buttons.addWidget(self.open_button)
        layout = QVBoxLayout(self)
        layout.addWidget(self.summary)
        layout.addWidget(self.outcome)
        layout.addWidget(self.table, 1)
        layout.addLayout(buttons)
        self.keep_mine.clicked.connect(lambda: self._resolve("local"))
        self.keep_theirs.clicked.connect(lambda: self._resolve("remote"))
        self.other.clicked.connect(self._custom)
        self.open_button.clicked.connect(self.open_patient)
        self.table.doubleClicked.connect(lambda _i: self.open_patient())
        self.table.itemSelectionChanged.connect(self._update_buttons)
        ctx.events.sync_finished.connect(lambda _r: self.refresh())
        ctx.events.changed.connect(self._on_changes)
        self._update_buttons()
        self.refresh()

    def _on_changes(self, changes: Changes) -> None:
        if changes.touches("sync_conflict"):
            self.refresh()

    def focus_target(self) -> QWidget:
        return self.table

    def refresh(self) -> None:
        actor = self.ctx.actor
        self.ctx.query(
            lambda s: sync_conflicts.list_conflicts(session=s, actor=actor),
            self._show_rows,
            lambda exc: show_error(self, exc),
        )

    def _show_rows(self, rows: list[sync_conflicts.ConflictView]) -> None:
        self.conflicts = rows
        self.table.setRowCount(len(rows))
        for i, c in enumerate(rows):
            cells = (
                c.what,
                c.patient_label,
                c.local_text or _show(c.local_value),
                f"{c.local_by}, {_when(c.local_at)}",
                c.remote_text or _show(c.remote_value),
                f"{c.remote_by}, {_when(c.remote_at)}",
            )
            for j, text in enumerate(cells):
                item = QTableWidgetItem(text)
                item.setData(Qt.ItemDataRole.UserRole, str(c.id))
                item.setToolTip(text)
                self.table.setItem(i, j, item)
        self.table.resizeRowsToContents()
        self.summary.setText(summary_text(len(rows)))
        if rows and not self.table.selectedItems():
            self.table.selectRow(0)
        self._update_buttons()

    def selected(self) -> sync_conflicts.ConflictView | None:
        row = self.table.currentRow()
        if 0 <= row < len(self.conflicts) and self.table.selectedItems():
            return self.conflicts[row]
        return None

    def _update_buttons(self) -> None:
        c = self.selected()
        for b in (self.keep_mine, self.keep_theirs, self.other):
            b.setEnabled(c is not None)
        self.open_button.setEnabled(c is not None and bool(c.patient_id))

    def open_patient(self) -> None:
        """The selected conflict's person, in the caseload (list and record in step)."""
        c = self.selected()
        if c is not None and c.patient_id:
            open_in_caseload(self, uuid.UUID(str(c.patient_id)))

    def _custom(self) -> None:
        c = self.selected()
        if c is None:
            return
        text, ok = QInputDialog.getText(
            self, "Enter the right value", c.what, text=_show(c.local_value)
        )
        if ok:
            self._resolve("custom", text)

    def _resolve(self, choice: str, value: Any = None) -> None:
        c = self.selected()
        if c is None:
            return
        actor, conflict_id = self.ctx.actor, uuid.UUID(str(c.id))
        for b in (self.keep_mine, self.keep_theirs, self.other):
            b.setEnabled(False)

        def op(s: Any) -> None:
            sync_conflicts.resolve_conflict(
                session=s, actor=actor, conflict_id=conflict_id, choice=choice, value=value
            )

        def done(_: Any) -> None:
            log.info("conflict %s resolved (%s)", conflict_id, choice)
            whose = f"{c.patient_name}: " if c.patient_name else ""
            self.outcome.setText(
                f"✓ {whose}{c.field_label} now has {CHOSEN[choice]}. It is sent to your team "
                "at the next sync."
            )
            self.outcome.show()
            self.refresh()

        def failed(exc: BaseException) -> None:
            self._update_buttons()
            show_error(self, exc)

        self.ctx.query(op, done, failed)
