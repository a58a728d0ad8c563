"""The goals and actions of the care-plan editor: the two tables filled from the plan, rows added,
edited in place and removed (each an undo step), every change saved to the store row by row so
two people adding one each never overwrite each other.

``PlanRows`` is a part of ``CarePlanEditor`` (its base class), kept in a file of its own; it uses
the editor's state and calls declared below.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable
from datetime import date
from typing import Any

from PySide6.QtCore import Qt
from PySide6.QtGui import QUndoStack
from PySide6.QtWidgets import (
    QComboBox,
    QDialog,
    QTableWidget,
    QTableWidgetItem,
)
from sqlalchemy.orm import Session

from int_desk.app.care_plan_undo import RowCommand
from int_desk.app.context import AppContext
from int_desk.app.forms.care_plan_editor import Ui_CarePlanEditorDialog
from int_desk.app.messages import show_error
from int_desk.domain import care_plan as rules
from int_desk.domain.care_plan import PlanView
from int_desk.domain.uk_time import london_today
from int_desk.services import care_plans as cp
from int_desk.services.care_plan_views import EditorData, load_editor_data

GOAL_COLUMNS = ("description", "target_measure", "target_date", "achievement_status")
ACTION_COLUMNS = ("description", "owner_role", "when", "status", "goal_id")


def find_data(combo: QComboBox, value: Any) -> int:
    """Index of the item whose data equals ``value`` (QComboBox.findData compares Python
    objects such as UUIDs by identity, not equality), or -1."""
    for i in range(combo.count()):
        if combo.itemData(i) == value:
            return i
    return -1


class PlanRows(QDialog):
    """The goal and action tables of ``CarePlanEditor``."""

    # The editor's state and calls, used here (set and defined by CarePlanEditor).
    ctx: AppContext
    form: Ui_CarePlanEditorDialog
    data: EditorData
    undo_stack: QUndoStack
    saved: Any
    _in_flight: int
    _loading: bool
    _closed: bool

    @property
    def plan(self) -> PlanView | None:
        raise NotImplementedError  # CarePlanEditor's

    @property
    def is_draft(self) -> bool:
        raise NotImplementedError  # CarePlanEditor's

    def _fill_history(self) -> None:
        raise NotImplementedError  # CarePlanEditor's

    def _refresh_validation(self) -> None:
        raise NotImplementedError  # CarePlanEditor's

    def _reload(self, then: Callable[[], None] | None = None) -> None:
        raise NotImplementedError  # CarePlanEditor's

    def _fill_rows(self) -> None:
        f = self.form
        v = self.data.view
        goals = v.goals if v else ()
        actions = v.actions if v else ()
        editable = self.is_draft and self.data.can_edit
        f.goalsTable.blockSignals(True)
        f.goalsTable.setRowCount(len(goals))
        for r, g in enumerate(goals):
            due = g.target_date.isoformat() if g.target_date else ""
            self._put_cells(f.goalsTable, r, g.id, (g.description, g.target_measure, due), editable)
            progress = self._combo(rules.ACHIEVEMENT_LABELS, g.achievement_status, "Progress")
            self._put_choice(f.goalsTable, r, 3, ("goal", g.id, "achievement_status"), progress)
        f.goalsTable.blockSignals(False)
        f.goalsTable.resizeRowsToContents()
        f.actionGoalCombo.clear()
        f.actionGoalCombo.addItem("No linked goal", None)
        for g in goals:
            f.actionGoalCombo.addItem(f"Goal {g.number}: {g.description[:40]}", g.id)
        f.actionsTable.blockSignals(True)
        f.actionsTable.setRowCount(len(actions))
        for r, a in enumerate(actions):
            # Who is chosen when the action is added, so that cell is never typed in.
            texts = (a.description, a.who or "-", a.when)
            self._put_cells(f.actionsTable, r, a.id, texts, editable, locked=(1,))
            status = self._combo(rules.ACTION_STATUS_LABELS, a.status, "Action status")
            self._put_choice(f.actionsTable, r, 3, ("action", a.id, "status"), status)
            goal = QComboBox()
            goal.setAccessibleName("Linked goal")
            goal.addItem("-", None)
            for g in goals:
                goal.addItem(str(g.number), g.id)
            goal.setCurrentIndex(max(0, find_data(goal, a.goal_id)))
            self._put_choice(f.actionsTable, r, 4, ("action", a.id, "goal_id"), goal)
        f.actionsTable.blockSignals(False)
        f.actionsTable.resizeRowsToContents()

    @staticmethod
    def _put_cells(
        table: QTableWidget,
        r: int,
        row_id: uuid.UUID,
        texts: tuple[str, ...],
        editable: bool,
        locked: tuple[int, ...] = (),
    ) -> None:
        """Row ``r``'s text cells from column 0, each carrying the row's id for
        ``_cell_edited``; read-only unless ``editable`` (and never in the ``locked`` columns)."""
        for c, text in enumerate(texts):
            item = QTableWidgetItem(text)
            item.setData(Qt.ItemDataRole.UserRole, row_id)
            if not editable or c in locked:
                item.setFlags(item.flags() & ~Qt.ItemFlag.ItemIsEditable)
            table.setItem(r, c, item)

    def _put_choice(
        self,
        table: QTableWidget,
        r: int,
        c: int,
        field: tuple[str, uuid.UUID, str],
        combo: QComboBox,
    ) -> None:
        """A combo box in cell (r, c) whose choice saves ``field`` (kind, row id, column name)."""
        kind, row_id, name = field
        combo.setEnabled(self.is_draft and self.data.can_edit)
        combo.currentIndexChanged.connect(
            lambda _i: self._row_update(kind, row_id, {name: combo.currentData()})
        )
        table.setCellWidget(r, c, combo)

    @staticmethod
    def _combo(labels: dict[str, str], current: str, name: str) -> QComboBox:
        combo = QComboBox()
        combo.setAccessibleName(name)
        for value, label in labels.items():
            combo.addItem(label, value)
        combo.setCurrentIndex(max(0, find_data(combo, current)))
        return combo

    def add_goal(self) -> None:
        f = self.form
        text = f.goalInputEdit.text().strip()
        if not text:
            f.goalsError.setText("Write the goal in the person's own words first.")
            f.goalInputEdit.setFocus()
            return
        values = {"description": text, "target_measure": f.goalTargetEdit.text().strip()}
        f.goalInputEdit.clear()
        f.goalTargetEdit.clear()
        self.undo_stack.push(RowCommand(self, "goal", values, add=True))
        f.goalInputEdit.setFocus()

    def add_action(self) -> None:
        f = self.form
        text = f.actionInputEdit.text().strip()
        if not text:
            f.actionInputEdit.setFocus()
            return
        values = {
            "description": text,
            "owner_role": f.actionRoleCombo.currentData(),
            "when": f.actionWhenEdit.text().strip(),
            "goal_id": f.actionGoalCombo.currentData(),
        }
        f.actionInputEdit.clear()
        f.actionWhenEdit.clear()
        self.undo_stack.push(RowCommand(self, "action", values, add=True))
        f.actionInputEdit.setFocus()

    def _remove_selected(self, kind: str) -> None:
        table = self.form.goalsTable if kind == "goal" else self.form.actionsTable
        row = table.currentRow()
        if row < 0 or self.plan is None:
            return
        rows = self.plan.goals if kind == "goal" else self.plan.actions
        target = rows[row]
        if kind == "goal":
            values = {
                "description": target.description,
                "target_measure": target.target_measure,
                "target_date": target.target_date,
            }
        else:
            values = {
                "description": target.description,
                "owner_role": target.owner_role,
                "owner_member_id": target.owner_member_id,
                "owner_team_id": target.owner_team_id,
                "when": target.when,
                "status": target.status,
            }
        self.undo_stack.push(RowCommand(self, kind, values, add=False, row_id=target.id))

    def row_op(
        self,
        kind: str,
        op: str,
        values: dict[str, Any],
        row_id: uuid.UUID | None,
        on_id: Callable[[uuid.UUID], None] | None,
    ) -> None:
        """Add, update or remove one goal/action row in the store, then refresh the tables."""
        if self.plan is None:
            return
        plan_id = self.plan.id
        actor = self.ctx.actor
        patient_id = self.data.patient_id

        def work(s: Session) -> tuple[uuid.UUID | None, EditorData]:
            new_id = None
            if kind == "goal" and op == "add":
                new_id = cp.add_goal(session=s, actor=actor, plan_id=plan_id, **values).id
            elif kind == "action" and op == "add":
                new_id = cp.add_action(session=s, actor=actor, plan_id=plan_id, **values).id
            elif kind == "goal" and op == "update":
                cp.update_goal(session=s, actor=actor, goal_id=row_id, changes=values)
            elif kind == "action" and op == "update":
                cp.update_action(session=s, actor=actor, action_id=row_id, changes=values)
            elif kind == "goal":
                cp.remove_goal(session=s, actor=actor, goal_id=row_id)
            else:
                cp.remove_action(session=s, actor=actor, action_id=row_id)
            s.flush()
            return new_id, load_editor_data(s, actor, patient_id, audit_read=False)

        self._in_flight += 1

        def done(result: tuple[uuid.UUID | None, EditorData]) -> None:
            self._in_flight -= 1
            new_id, data = result
            if on_id and new_id:
                on_id(new_id)
            if self._closed:
                return
            self.data.view = data.view
            self.data.history = data.history
            self._loading = True
            try:
                self._fill_rows()
                self._fill_history()
            finally:
                self._loading = False
            self._refresh_validation()
            self.form.saveStatusLabel.setText(f"Draft saved {london_today():%d %b} ✓")
            self.saved.emit(plan_id)

        def failed(exc: BaseException) -> None:
            self._in_flight -= 1
            if not self._closed:
                show_error(self, exc)
                self._reload()

        self.ctx.query(work, done, failed)

    def _row_update(self, kind: str, row_id: uuid.UUID, changes: dict[str, Any]) -> None:
        if self._loading or not self.is_draft:
            return
        self.row_op(kind, "update", changes, row_id, None)

    def _cell_edited(self, kind: str, item: QTableWidgetItem) -> None:
        if self._loading or not self.is_draft:
            return
        row_id = item.data(Qt.ItemDataRole.UserRole)
        columns = GOAL_COLUMNS if kind == "goal" else ACTION_COLUMNS
        name = columns[item.column()]
        value: Any = item.text().strip()
        if name == "target_date":
            try:
                value = date.fromisoformat(value) if value else None
            except ValueError:
                self.form.goalsError.setText(
                    "Write the target date as YYYY-MM-DD, e.g. 2027-03-31."
                )
                self._reload()
                return
        self._row_update(kind, row_id, {name: value})
