"""The caseload table: the view set up for a model of tens of thousands of rows, and its column
widths.

Until the user sizes a column, the widths are fitted to the table's width (``caseload_columns``:
the longest names shown in full, the sorted column's header given room for its arrow); once they
drag a divider the widths are theirs (the page remembers them in settings). The header's menu
hides and shows columns and fits them to the window again.
"""

from __future__ import annotations

from typing import Any

from PySide6.QtCore import QEvent, QObject, Qt, Signal
from PySide6.QtGui import QAction, QFont, QFontMetricsF
from PySide6.QtWidgets import QAbstractItemView, QHeaderView, QMenu, QTableView, QWidget

from int_desk.app.caseload_columns import default_column_widths
from int_desk.app.caseload_delegate import CaseloadDelegate
from int_desk.app.caseload_model import HEADERS, CaseloadModel
from int_desk.services.caseload import COLUMNS


def make_table(model: CaseloadModel) -> QTableView:
    """The caseload's table view (rows selected whole, one at a time; columns movable)."""
    t = QTableView()
    t.setObjectName("caseloadTable")
    t.setAccessibleName("Caseload table")
    t.setTabKeyNavigation(False)  # Tab leaves the table; arrows move in it
    t.setModel(model)
    t.setItemDelegate(CaseloadDelegate(model, t))  # one lookup per cell, cached text
    # Always shown: a result that fits on one screen must not change the table's width.
    t.setVerticalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOn)
    t.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
    t.setSelectionMode(QAbstractItemView.SelectionMode.SingleSelection)
    t.setAlternatingRowColors(False)
    t.setWordWrap(False)
    t.verticalHeader().hide()
    t.verticalHeader().setDefaultSectionSize(26)
    t.verticalHeader().setSectionResizeMode(QHeaderView.ResizeMode.Fixed)
    h = t.horizontalHeader()
    h.setSectionsMovable(True)
    h.setHighlightSections(False)
    h.setStretchLastSection(True)
    h.setSortIndicatorShown(True)
    h.setSortIndicator(0, Qt.SortOrder.AscendingOrder)
    h.setContextMenuPolicy(Qt.ContextMenuPolicy.CustomContextMenu)
    h.setMinimumSectionSize(30)
    # Columns are never narrower than their labels (two lines for long ones); eliding
    # would treat a two-line label as one long line and cut it.
    h.setTextElideMode(Qt.TextElideMode.ElideNone)
    h.setDefaultAlignment(Qt.AlignmentFlag.AlignLeft | Qt.AlignmentFlag.AlignVCenter)
    return t


class ColumnFit(QObject):
    """The table's column widths and its header menu. ``owner`` (the page) gives the font the
    labels are measured in and parents the menu.

    Signals: ``sized_by_user()`` when the user drags (or double-clicks) a divider: save soon;
    ``layout_changed()`` when the menu hid or showed a column or fitted them again: save now.
    Install it as the viewport's event filter to fit the columns whenever the table is resized.
    """

    sized_by_user = Signal()
    layout_changed = Signal()

    def __init__(self, table: QTableView, owner: QWidget) -> None:
        super().__init__(table)
        self.table = table
        self.owner = owner
        self.user_sized = False  # True once the user resizes a column (then remembered)
        self.longest_names: list[str] = []
        self.menu: QMenu | None = None
        self._fitting = False

    def set_default_widths(self, width: int) -> None:
        """Widths for a table ``width`` pixels wide, until the first fit to the real width."""
        for col, w in enumerate(default_column_widths(width, self.measure, HEADERS)):
            self.table.setColumnWidth(col, w)

    def eventFilter(self, watched: Any, event: Any) -> bool:  # noqa: N802 - Qt override
        if event.type() == QEvent.Type.Resize and watched is self.table.viewport():
            if not self.user_sized:
                self.fit()
        return False

    def fit(self) -> None:
        """Default widths for the table's current width (until the user sizes a column)."""
        h = self.table.horizontalHeader()
        hidden = frozenset(c for c in range(h.count()) if h.isSectionHidden(c))
        sort = h.sortIndicatorSection() if h.isSortIndicatorShown() else -1
        widths = default_column_widths(
            self.table.viewport().width(), self.measure, HEADERS, hidden, sort, self.longest_names
        )
        self._fitting = True
        try:
            for col, width in enumerate(widths):
                if col not in hidden and h.sectionSize(col) != width:
                    h.resizeSection(col, width)
        finally:
            self._fitting = False

    def show_longest_names(self, longest: list[str]) -> None:
        """Size the name column to show these names in full (unless the user sized it)."""
        if longest != self.longest_names:
            self.longest_names = longest
            if not self.user_sized:
                self.fit()

    def sort_indicator_moved(self, *_: Any) -> None:
        if not self.user_sized:
            self.fit()  # the sorted column's header needs room for its arrow

    def measure(self, text: str, bold: bool) -> float:
        font = QFont(self.owner.font())  # the table's (it sets none of its own)
        font.setBold(bold)
        return QFontMetricsF(font).horizontalAdvance(text)

    def section_resized(self, col: int, _old: int, _new: int) -> None:
        h = self.table.horizontalHeader()
        last = max(
            (c for c in range(h.count()) if not h.isSectionHidden(c)),
            key=h.visualIndex,
            default=-1,
        )
        if self._fitting or col == last:  # ours, or the stretching last section following
            return
        self.user_sized = True  # the user dragged (or double-clicked) a divider
        self.sized_by_user.emit()

    def reset(self) -> None:
        """Back to the default widths that fit the window (header menu)."""
        self.user_sized = False
        self.fit()
        self.layout_changed.emit()

    def show_menu(self, pos: Any) -> None:
        h = self.table.horizontalHeader()
        menu = QMenu(self.owner)
        menu.setAccessibleName("Columns")
        for col, (_key, label) in enumerate(COLUMNS):
            act = QAction(label, menu, checkable=True)
            act.setChecked(not h.isSectionHidden(col))
            act.setEnabled(col != 0)  # the name column always shows
            act.toggled.connect(lambda on, c=col: self._show_column(c, on))
            menu.addAction(act)
        menu.addSeparator()
        fit = QAction("Fit columns to the window", menu)
        fit.setEnabled(self.user_sized)
        fit.triggered.connect(self.reset)
        menu.addAction(fit)
        self.menu = menu
        menu.exec(h.mapToGlobal(pos))

    def _show_column(self, col: int, on: bool) -> None:
        self.table.horizontalHeader().setSectionHidden(col, not on)
        if not self.user_sized:
            self.fit()  # the room a hidden column leaves goes to the others
        self.layout_changed.emit()
