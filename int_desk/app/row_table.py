"""A read-only table of whole rows, as the app's lists show them (conflicts, waiting changes,
administration tabs): Tab leaves it and the arrows move in it, a click chooses a whole row."""

from __future__ import annotations

from collections.abc import Sequence

from PySide6.QtWidgets import QAbstractItemView, QTableWidget


def row_table(
    headers: Sequence[str], name: str, object_name: str = "", *, single: bool = True
) -> QTableWidget:
    """``name`` is what a screen reader says; ``single``: one row chosen at a time."""
    t = QTableWidget(0, len(headers))
    if object_name:
        t.setObjectName(object_name)
    t.setAccessibleName(name)
    t.setTabKeyNavigation(False)  # Tab leaves the table; arrows move in it
    t.setHorizontalHeaderLabels(list(headers))
    t.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
    t.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
    if single:
        t.setSelectionMode(QAbstractItemView.SelectionMode.SingleSelection)
    t.verticalHeader().hide()
    return t
