"""The changes made on this computer that are waiting to send: what, whose record, when.

Opened from the status bar ("Show waiting…"). Read-only: it explains the count beside it.
"""

from __future__ import annotations

from datetime import datetime

from PySide6.QtCore import Qt, Signal
from PySide6.QtWidgets import (
    QDialog,
    QDialogButtonBox,
    QHeaderView,
    QLabel,
    QTableWidgetItem,
    QVBoxLayout,
    QWidget,
)

from int_desk.app.context import AppContext
from int_desk.app.messages import describe
from int_desk.app.row_table import row_table
from int_desk.domain.uk_time import in_london, london_today
from int_desk.services import outbox_view

COLUMNS = ("When", "What", "Whose record")


def when_text(when: datetime) -> str:
    """London time, whatever this computer's zone: 'Today 14:05', older ones with the date."""
    local = in_london(when)
    if local.date() == london_today():
        return f"Today {local:%H:%M}"
    return f"{local:%d %b %Y %H:%M}"


class WaitingDialog(QDialog):
    """Signals: ``loaded(int)`` with the number of changes listed."""

    loaded = Signal(int)

    def __init__(self, ctx: AppContext, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setWindowTitle("Waiting to send")
        self.setAccessibleName("Changes waiting to send")
        self.summary = QLabel("Loading…")
        self.summary.setWordWrap(True)
        self.summary.setAccessibleName("Summary")
        self.table = row_table(COLUMNS, "Changes waiting to send", "waitingTable", single=False)
        header = self.table.horizontalHeader()
        header.setSectionResizeMode(0, QHeaderView.ResizeMode.ResizeToContents)
        header.setSectionResizeMode(1, QHeaderView.ResizeMode.ResizeToContents)
        header.setSectionResizeMode(2, QHeaderView.ResizeMode.Stretch)
        buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Close)
        buttons.button(QDialogButtonBox.StandardButton.Close).setAccessibleName("Close")
        buttons.rejected.connect(self.reject)
        layout = QVBoxLayout(self)
        layout.addWidget(self.summary)
        layout.addWidget(self.table, 1)
        layout.addWidget(buttons)
        self.resize(640, 380)
        actor = ctx.actor
        ctx.query(
            lambda s: outbox_view.waiting_changes(session=s, actor=actor),
            self._show,
            lambda exc: self.summary.setText(describe(exc)),
        )

    def _show(self, changes: list[outbox_view.WaitingChange]) -> None:
        self.table.setRowCount(len(changes))
        for row, c in enumerate(changes):
            for col, text in enumerate((when_text(c.when), c.what, c.whose or "—")):
                item = QTableWidgetItem(text)
                item.setToolTip(text)
                self.table.setItem(row, col, item)
        n = len(changes)
        if n:
            more = " (the newest shown)" if n >= outbox_view.LIMIT else ""
            self.summary.setText(
                f"{n:,} change{'s' if n != 1 else ''} made on this computer{more} will be sent "
                "to your team at the next sync. They are saved here meanwhile."
            )
            self.table.setFocus(Qt.FocusReason.OtherFocusReason)
        else:
            self.summary.setText("Nothing is waiting to send: your team has every change.")
        self.loaded.emit(n)
