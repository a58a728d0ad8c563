"""Conflicts inbox: the same field changed here and by someone else before either saw the other.

Each row shows both values with who and when; a person keeps one of them (or types the right
value) and the choice is saved as an ordinary, audited edit that syncs to everyone.
"""

from __future__ import annotations

import logging
import uuid
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
from int_desk.services import sync_conflicts

log = logging.getLogger(__name__)
COLUMNS = ("Record", "Patient", "Yours", "By / when", "Theirs", "By / when")


def _show(value: Any) -> str:
    if value is None:
        return "(empty)"
    if value is True:
        return "Yes"
    if value is False:
        return "No"
    return str(value)


class ConflictsPage(QWidget):
    title = "Conflicts"
    shortcut = "Ctrl+7"

    def __init__(self, ctx: AppContext, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.ctx = ctx
        self.conflicts: list[sync_conflicts.ConflictView] = []
        self.summary = QLabel("No conflicts.")
        self.summary.setObjectName("conflictsSummaryLabel")
        self.summary.setWordWrap(True)
        self.table = QTableWidget(0, len(COLUMNS))
        self.table.setObjectName("conflictsTable")
        self.table.setAccessibleName("Sync conflicts")
        self.table.setHorizontalHeaderLabels(COLUMNS)
        self.table.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        self.table.setSelectionMode(QAbstractItemView.SelectionMode.SingleSelection)
        self.table.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        self.table.horizontalHeader().setSectionResizeMode(QHeaderView.ResizeMode.Stretch)
        self.keep_mine = QPushButton("Keep &mine")
        self.keep_mine.setObjectName("keepMineButton")
        self.keep_theirs = QPushButton("Keep &theirs")
        self.keep_theirs.setObjectName("keepTheirsButton")
        self.other = QPushButton("&Enter the right value…")
        self.other.setObjectName("customValueButton")
        buttons = QHBoxLayout()
        for b in (self.keep_mine, self.keep_theirs, self.other):
            buttons.addWidget(b)
        buttons.addStretch(1)
        layout = QVBoxLayout(self)
        layout.addWidget(self.summary)
        layout.addWidget(self.table, 1)
        layout.addLayout(buttons)
        self.keep_mine.clicked.connect(lambda: self._resolve("local"))
        self.keep_theirs.clicked.connect(lambda: self._resolve("remote"))
        self.other.clicked.connect(self._custom)
        self.table.itemSelectionChanged.connect(self._update_buttons)
        ctx.events.sync_finished.connect(lambda _r: self.refresh())
        self._update_buttons()
        self.refresh()

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
                c.patient_name,
                _show(c.local_value),
                f"{c.local_by}, {c.local_at:%d %b %H:%M}",
                _show(c.remote_value),
                f"{c.remote_by}, {c.remote_at[:16].replace('T', ' ')}",
            )
            for j, text in enumerate(cells):
                item = QTableWidgetItem(text)
                item.setData(Qt.ItemDataRole.UserRole, str(c.id))
                item.setToolTip(text)
                self.table.setItem(i, j, item)
        self.summary.setText(
            "No conflicts."
            if not rows
            else f"{len(rows)} change(s) need a decision: the same "
            "detail was changed here and by someone else. Nothing has been overwritten."
        )
        if rows and not self.table.selectedItems():
            self.table.selectRow(0)
        self._update_buttons()

    def selected(self) -> sync_conflicts.ConflictView | None:
        row = self.table.currentRow()
        if 0 <= row < len(self.conflicts) and self.table.selectedItems():
            return self.conflicts[row]
        return None

    def _update_buttons(self) -> None:
        enabled = self.selected() is not None
        for b in (self.keep_mine, self.keep_theirs, self.other):
            b.setEnabled(enabled)

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
            if c.patient_id:
                self.ctx.events.patient_changed.emit(c.patient_id)
            self.ctx.events.data_changed.emit(c.entity)
            self.refresh()

        def failed(exc: BaseException) -> None:
            self._update_buttons()
            show_error(self, exc)

        self.ctx.query(op, done, failed)
