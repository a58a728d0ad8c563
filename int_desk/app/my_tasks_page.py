"""My tasks: the signed-in member's open tasks, overdue first (marked by colour and text)."""

from __future__ import annotations

from typing import Any

from PySide6.QtCore import QAbstractTableModel, QModelIndex, QPersistentModelIndex, Qt, Signal
from PySide6.QtGui import QBrush, QColor, QFont
from PySide6.QtWidgets import (
    QAbstractItemView,
    QCheckBox,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QPushButton,
    QTableView,
    QVBoxLayout,
    QWidget,
)

from int_desk.app import colours
from int_desk.app.caseload_model import OVERDUE_BG, icon
from int_desk.app.context import AppContext
from int_desk.app.empty_state import EmptyState
from int_desk.app.messages import confirm, show_error
from int_desk.app.navigation import open_in_caseload
from int_desk.domain.nhs_number import format_nhs
from int_desk.domain.permissions import Permission, allowed
from int_desk.domain.uk_time import london_today
from int_desk.services import patient_actions as pa
from int_desk.services import patient_record as pr
from int_desk.store.changes import Changes

HEADERS = ("Due", "Patient", "Born", "NHS number", "Task", "Allocated to", "Requested by", "Status")
TASK_COLUMN = HEADERS.index("Task")
Index = QModelIndex | QPersistentModelIndex


class TasksModel(QAbstractTableModel):
    def __init__(self, parent: Any = None) -> None:
        super().__init__(parent)
        self.tasks: list[pr.TaskInfo] = []
        self.me: object = None
        self.today = london_today()
        self._bold = QFont()
        self._bold.setBold(True)

    def set_tasks(self, tasks: list[pr.TaskInfo]) -> None:
        self.beginResetModel()
        self.today = london_today()
        # Overdue first, then by due date (the service orders by due date already).
        self.tasks = sorted(tasks, key=lambda t: (not t.overdue(self.today),))
        self.endResetModel()

    def rowCount(self, parent: Index = QModelIndex()) -> int:  # noqa: N802, B008
        return 0 if parent.isValid() else len(self.tasks)

    def columnCount(self, parent: Index = QModelIndex()) -> int:  # noqa: N802, B008
        return 0 if parent.isValid() else len(HEADERS)

    def headerData(self, section: int, orientation: Qt.Orientation, role: int = 0) -> Any:  # noqa: N802
        if orientation == Qt.Orientation.Horizontal and role == Qt.ItemDataRole.DisplayRole:
            return HEADERS[section]
        return None

    def data(self, index: Index, role: int = Qt.ItemDataRole.DisplayRole) -> Any:
        if not index.isValid():
            return None
        t = self.tasks[index.row()]
        col = index.column()
        overdue = t.overdue(self.today)
        if role in (Qt.ItemDataRole.DisplayRole, Qt.ItemDataRole.AccessibleTextRole):
            due = t.due_on.strftime("%d %b %Y") if t.due_on else "No date"
            n = t.nhs_number
            late = (self.today - t.due_on).days if overdue and t.due_on else 0
            values = (
                f"! {due} – {late} day{'s' if late != 1 else ''} overdue" if overdue else due,
                t.patient_name,
                f"{t.date_of_birth:%d %b %Y}" if t.date_of_birth else "",
                format_nhs(n),
                ("Home visit: " if t.kind == "home_visit" else "") + t.description,
                "You" if t.owner_member_id == self.me else (t.owner or "Your role / team"),
                t.requester,
                t.status.replace("-", " ").capitalize(),
            )
            return values[col]
        if role == Qt.ItemDataRole.ToolTipRole and col == TASK_COLUMN:
            return t.description
        if role == Qt.ItemDataRole.BackgroundRole and overdue:
            return QBrush(OVERDUE_BG)
        if role == Qt.ItemDataRole.ForegroundRole and overdue:
            return QBrush(QColor(colours.TEXT_ON_TINT))  # dark on the pale tint, light or dark
        if role == Qt.ItemDataRole.FontRole and overdue and col == 0:
            return self._bold
        if role == Qt.ItemDataRole.DecorationRole and overdue and col == 0:
            return icon("overdue")
        if role == Qt.ItemDataRole.UserRole:
            return t
        return None


class MyTasksPage(QWidget):
    """Signals: ``refreshed()`` after the list reloads."""

    title = "My tasks"
    shortcut = "Ctrl+2"
    refreshed = Signal()

    def __init__(self, ctx: AppContext, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.ctx = ctx
        self.setAccessibleName("My tasks")
        self.heading = QLabel(f"My tasks – {ctx.actor.name}")
        self.heading.setObjectName("pageTitle")
        self.summary = QLabel("Loading…")
        self.summary.setAccessibleName("Task summary")
        self.include_team = QCheckBox("Include tasks for my role or team that nobody has taken yet")
        self.include_team.setAccessibleName("Include unallocated tasks for my role and team")
        self.include_team.setChecked(True)
        self.include_team.toggled.connect(self.refresh)
        self.model = TasksModel(self)
        self.model.me = ctx.actor.member_id
        self.table = QTableView()
        self.table.setAccessibleName("My open tasks")
        self.table.setTabKeyNavigation(False)  # Tab leaves the table; arrows move in it
        self.table.setModel(self.model)
        self.table.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        self.table.setSelectionMode(QAbstractItemView.SelectionMode.SingleSelection)
        self.table.verticalHeader().hide()
        self.table.setWordWrap(False)
        h = self.table.horizontalHeader()
        h.setStretchLastSection(False)
        for col, width in enumerate((250, 180, 95, 100, 0, 130, 125, 95)):
            if width:
                self.table.setColumnWidth(col, width)
        h.setSectionResizeMode(TASK_COLUMN, QHeaderView.ResizeMode.Stretch)
        self.table.doubleClicked.connect(lambda _i: self.open_patient())
        self.open_button = QPushButton("Open patient")
        self.open_button.setAccessibleName("Open the patient's record")
        self.open_button.setToolTip("Open the patient's record in the caseload (Enter)")
        self.open_button.clicked.connect(self.open_patient)
        self.complete_button = QPushButton("Mark complete")
        self.complete_button.setAccessibleName("Mark the selected task complete")
        self.complete_button.clicked.connect(self.complete_selected)
        buttons = QHBoxLayout()
        buttons.addWidget(self.include_team)
        buttons.addStretch(1)
        buttons.addWidget(self.open_button)
        buttons.addWidget(self.complete_button)
        layout = QVBoxLayout(self)
        layout.addWidget(self.heading)
        layout.addWidget(self.summary)
        layout.addLayout(buttons)
        layout.addWidget(self.table, 1)
        self.empty_state = EmptyState(
            self.table,
            "No open tasks for you. Tasks agreed at a huddle, or added from a person's record "
            "on the Caseload page (+ Task…), appear here with their due dates.",
        )
        ctx.events.changed.connect(self._on_changes)
        ctx.events.unlocked.connect(self.refresh)
        self.refresh()

    def _on_changes(self, changes: Changes) -> None:
        if changes.touches("task", "patient", "member"):
            self.refresh()

    def refresh(self) -> None:
        actor = self.ctx.actor
        if not allowed(actor, Permission.MANAGE_TASKS):  # e.g. an administrator: no query
            self.summary.setText("No tasks")
            self.empty_state.set_text(
                f"The role '{actor.role.label}' is not given tasks in INT Desk. Team members' "
                "tasks are on their own My tasks page."
            )
            self.refreshed.emit()
            return
        wide = self.include_team.isChecked()
        self.ctx.query(
            lambda s: pr.my_tasks(session=s, actor=actor, include_role_and_team=wide),
            self._show,
            lambda exc: show_error(self, exc),
        )

    def _show(self, tasks: list[pr.TaskInfo]) -> None:
        self.model.set_tasks(tasks)
        overdue = sum(1 for t in tasks if t.overdue(self.model.today))
        self.summary.setText(
            f"{len(tasks)} open task{'s' if len(tasks) != 1 else ''}"
            + (f" · {overdue} overdue (shown first, marked !)" if overdue else " · none overdue")
        )
        self.refreshed.emit()

    def focus_target(self) -> QWidget:
        return self.table

    def selected(self) -> pr.TaskInfo | None:
        idx = self.table.currentIndex()
        return self.model.data(idx, Qt.ItemDataRole.UserRole) if idx.isValid() else None

    def keyPressEvent(self, event: Any) -> None:  # noqa: N802 - Qt override
        if event.key() in (Qt.Key.Key_Return, Qt.Key.Key_Enter):
            self.open_patient()
            return
        super().keyPressEvent(event)

    def open_patient(self) -> None:
        t = self.selected()
        if t is None:
            return
        open_in_caseload(self, t.patient_id)

    def complete_selected(self) -> None:
        t = self.selected()
        if t is None:
            return
        if not confirm(self, "Mark complete", f"Mark “{t.description}” complete?", "Mark complete"):
            return
        actor = self.ctx.actor
        self.ctx.query(
            lambda s: pa.complete_task(session=s, actor=actor, task_id=t.id),
            None,
            lambda exc: show_error(self, exc),
        )
