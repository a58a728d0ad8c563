"""What an empty list says: a centred message over a table's viewport while it has no rows.

    hint = EmptyState(table)                  # shown whenever the model has no rows
    hint.set_text("No one on your caseload yet. Import a cohort list ...")

A brand-new workspace is a normal state, not an error: every page says what to do next (import
a cohort, connect to the team, plan a huddle). The message is a real QLabel (object name
``emptyState``) so screen readers read it and tests can find it.
"""

from __future__ import annotations

from PySide6.QtCore import QEvent, QObject, Qt
from PySide6.QtWidgets import QAbstractItemView, QLabel

from int_desk.domain.actor import Actor
from int_desk.domain.permissions import Permission, allowed

OBJECT_NAME = "emptyState"


class EmptyState(QLabel):
    def __init__(self, view: QAbstractItemView, text: str = "") -> None:
        super().__init__(text, view.viewport())
        self.setObjectName(OBJECT_NAME)
        self.setAccessibleName("What to do next")
        self.setWordWrap(True)
        self.setAlignment(Qt.AlignmentFlag.AlignCenter)
        self.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.setMargin(24)
        self._view = view
        view.viewport().installEventFilter(self)
        model = view.model()
        if model is not None:
            for signal in (model.modelReset, model.rowsInserted, model.rowsRemoved):
                signal.connect(self.update_visibility)
        self.update_visibility()

    def set_text(self, text: str) -> None:
        self.setText(text)
        self.update_visibility()

    def update_visibility(self, *_args: object) -> None:
        model = self._view.model()
        empty = model is None or model.rowCount() == 0
        self.setVisible(empty and bool(self.text()))
        self._place()

    def eventFilter(self, watched: QObject, event: QEvent) -> bool:  # noqa: N802 - Qt override
        if event.type() == QEvent.Type.Resize:
            self._place()
        return False

    def _place(self) -> None:
        area = self._view.viewport().rect()
        width = min(area.width(), 640)
        self.setGeometry(area.x() + (area.width() - width) // 2, area.y(), width, area.height())


def no_caseload_text(actor: Actor, connected: bool) -> str:
    """What someone facing an empty caseload can do, by what their role allows."""
    if connected:
        return (
            "No one is on your team's caseload yet. People appear here once your team's "
            "coordinator has imported its cohort list and INT Desk has synced."
        )
    if allowed(actor, Permission.IMPORT_COHORT):
        return (
            "No one is on your caseload yet. Import your team's cohort list from a PHM extract "
            "(Import cohort…, Ctrl+Shift+I), or connect this computer to your team's endpoint "
            "(Edit > Settings > Team endpoint) to receive its caseload."
        )
    return (
        "No one is on your caseload yet. Ask your care coordinator or clinical lead to import "
        "the team's cohort list, or connect this computer to your team's endpoint "
        "(Edit > Settings > Team endpoint)."
    )
