"""The administration page's building blocks: a tab's table and its list/form section (New / Save
and an error line), and how the page shows what the endpoint sends.
"""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any

from PySide6.QtCore import Qt
from PySide6.QtGui import QShowEvent
from PySide6.QtWidgets import (
    QAbstractItemView,
    QFormLayout,
    QGroupBox,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QPushButton,
    QTableWidget,
    QTableWidgetItem,
    QVBoxLayout,
    QWidget,
)

from int_desk.domain.uk_time import london_hhmm, uk_date


def blank(value: Any) -> Any:
    """An empty box and a missing value are the same (but False is not)."""
    return None if value == "" else value


def london_text(iso: object, *, day: bool = False) -> str:
    """An instant the endpoint sent (ISO UTC text) as the team reads it, in London."""
    if not iso:
        return ""
    when = datetime.fromisoformat(str(iso))
    return uk_date(when) if day else f"{uk_date(when)} {london_hhmm(when)}"


def admin_table(headers: list[str], name: str) -> QTableWidget:
    """A read-only table of whole rows, one chosen at a time."""
    t = QTableWidget(0, len(headers))
    t.setAccessibleName(name)
    t.setTabKeyNavigation(False)  # Tab leaves the table; arrows move in it
    t.setHorizontalHeaderLabels(headers)
    t.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
    t.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
    t.setSelectionMode(QAbstractItemView.SelectionMode.SingleSelection)
    t.verticalHeader().hide()
    t.horizontalHeader().setSectionResizeMode(QHeaderView.ResizeMode.ResizeToContents)
    t.horizontalHeader().setStretchLastSection(True)
    return t


def fill_table(table: QTableWidget, rows: list[tuple[Any, list[str]]]) -> None:
    """Show ``rows`` (key, cells); each cell carries its row's key."""
    table.setRowCount(len(rows))
    for r, (key, cells) in enumerate(rows):
        for c, text in enumerate(cells):
            item = QTableWidgetItem(text)
            item.setData(Qt.ItemDataRole.UserRole, key)
            table.setItem(r, c, item)


def selected_key(table: QTableWidget) -> Any:
    """The key of the chosen row (None when none is)."""
    items = table.selectedItems()
    return items[0].data(Qt.ItemDataRole.UserRole) if items else None


class Section(QWidget):
    """One tab: a list on the left, its form on the right (New / Save, an error line)."""

    def __init__(self, table: QTableWidget, title: str, new_text: str) -> None:
        super().__init__()
        self.table = table
        self.form_box = QGroupBox(title)
        self.form = QFormLayout(self.form_box)
        self.error = QLabel("")
        self.error.setObjectName("errorText")
        self.error.setWordWrap(True)
        self.error.setAccessibleName("Problem")
        self.error.hide()
        self.new_button = QPushButton(new_text)
        self.save_button = QPushButton("&Save")
        self.save_button.setDefault(True)
        buttons = QHBoxLayout()
        buttons.addWidget(self.new_button)
        buttons.addStretch(1)
        buttons.addWidget(self.save_button)
        right = QVBoxLayout()
        right.addWidget(self.form_box)
        right.addWidget(self.error)
        right.addLayout(buttons)
        right.addStretch(1)
        layout = QHBoxLayout(self)
        layout.addWidget(table, 3)
        layout.addLayout(right, 2)
        self.row_id: uuid.UUID | None = None
        self.version: int | None = None
        self.loaded: dict[str, Any] = {}  # the row's values when chosen: only changes are sent

    def show_error(self, text: str) -> None:
        self.error.setText(text)
        self.error.setVisible(bool(text))

    def showEvent(self, event: QShowEvent) -> None:  # noqa: N802 - Qt's name
        # The form's fields are added after New and Save were made, so Qt's Tab order put the
        # buttons first: Tab goes through the fields, then New, then Save, as laid out.
        last, w = None, self.nextInFocusChain()
        while w is not None and w is not self and self.isAncestorOf(w):
            if self.form_box.isAncestorOf(w):
                last = w
            w = w.nextInFocusChain()
        if last is not None:
            QWidget.setTabOrder(last, self.new_button)
            QWidget.setTabOrder(self.new_button, self.save_button)
        super().showEvent(event)
