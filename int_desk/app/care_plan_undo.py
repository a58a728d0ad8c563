"""Undo steps of the care-plan editor: a field edit (consecutive edits of one field merge into
one step) and a goal or action added or removed (undo removes or re-adds the row in the store).
"""

from __future__ import annotations

import uuid
from typing import TYPE_CHECKING, Any

from PySide6.QtGui import QUndoCommand

from int_desk.domain import care_plan as rules

if TYPE_CHECKING:
    from int_desk.app.care_plan_editor import CarePlanEditor
    from int_desk.app.care_plan_rows import PlanRows


class FieldCommand(QUndoCommand):
    """A change to one plan field; consecutive edits of the same field merge into one step."""

    def __init__(self, editor: CarePlanEditor, name: str, old: Any, new: Any) -> None:
        super().__init__(f"Edit {rules.PLAN_FIELDS.get(name, name).lower()}")
        self.editor, self.name, self.old, self.new = editor, name, old, new
        self._first = True

    def id(self) -> int:  # noqa: A003 - Qt's name
        return 1000 + list(rules.PLAN_FIELDS).index(self.name)

    def mergeWith(self, other: QUndoCommand) -> bool:  # noqa: N802 - Qt's name
        if not isinstance(other, FieldCommand) or other.name != self.name:
            return False
        self.new = other.new
        return True

    def redo(self) -> None:
        self.editor.apply_field(self.name, self.new, update_widget=not self._first)
        self._first = False

    def undo(self) -> None:
        self.editor.apply_field(self.name, self.old, update_widget=True)


class RowCommand(QUndoCommand):
    """Adding (or removing) a goal or action row; undo removes (or re-adds) it."""

    def __init__(
        self,
        editor: PlanRows,
        kind: str,
        values: dict[str, Any],
        *,
        add: bool,
        row_id: Any = None,
    ) -> None:
        super().__init__(f"{'Add' if add else 'Remove'} {kind}")
        self.editor, self.kind, self.values, self.add = editor, kind, values, add
        self.row_id = row_id

    def _create(self) -> None:
        def done(row_id: uuid.UUID) -> None:
            self.row_id = row_id

        self.editor.row_op(self.kind, "add", self.values, None, done)

    def _delete(self) -> None:
        if self.row_id is not None:  # None: the add has not reached the store yet
            self.editor.row_op(self.kind, "remove", {}, self.row_id, None)

    def redo(self) -> None:
        self._create() if self.add else self._delete()

    def undo(self) -> None:
        self._delete() if self.add else self._create()
