"""Nothing is told by colour alone (issue 21; WCAG 1.4.1 use of colour): on every page of the
app, in the light and the dark appearance, whatever is coloured also says what it means in
words a screen reader reads.

* Tables and lists: a row tinted or greyed for a status says that status in its own row
  (shown text, tooltip or accessible text); an icon in a cell has accessible text or a tooltip.
  A colour not known here as a status fails too: say which words carry it.
* Everything else (labels, marks, buttons, charts, the status bar): a widget that paints in
  colour (not greys: measured from a grab of it) has words in its text, accessible name or
  tooltip. An offline sync state is included.
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Iterator
from pathlib import Path

import pytest
from PySide6.QtCore import QAbstractListModel, QModelIndex, Qt
from PySide6.QtGui import QBrush, QColor, QImage
from PySide6.QtWidgets import (
    QAbstractItemView,
    QAbstractScrollArea,
    QApplication,
    QHeaderView,
    QMenu,
    QWidget,
)
from pytestqt.qtbot import QtBot

from int_desk.app import colours
from int_desk.app.main_window import MainWindow
from int_desk.app.settings_dialog import apply_appearance
from int_desk.app.sync_status import OFFLINE
from int_desk.domain.vocab import Role
from tests.helpers.windows import settle, window_as

# Each colour the app gives a row for a status, and the words that must say it in that row.
STATUS_WORDS: dict[str, tuple[str, ...]] = {
    colours.OVERDUE_BG: ("overdue", "rejected", "not imported"),
    colours.HIGH_BG: ("high priority", "note"),
    colours.MUTED["light"]: ("discharged",),
    colours.MUTED["dark"]: ("discharged",),
}
# Text drawn on a status tint so that it stays readable: the tint carries the status.
ON_A_TINT = frozenset({colours.TEXT_ON_TINT, colours.MUTED_ON_TINT})
ROLES = Qt.ItemDataRole
WORDS = re.compile(r"[^\W\d_]{2,}")  # two letters together: a word, not a mark like "⚠" or "!"
ROWS_CHECKED = 400


@pytest.fixture(params=["light", "dark"])
def scheme(request: pytest.FixtureRequest, qapp: QApplication) -> Iterator[str]:
    apply_appearance(qapp, request.param)
    yield request.param
    apply_appearance(qapp, "light")


def _colour(value: object) -> str | None:
    if isinstance(value, QBrush) and value.style() != Qt.BrushStyle.NoBrush:
        return value.color().name()
    if isinstance(value, QColor):
        return value.name()
    return None


def _said(model, index: QModelIndex) -> str:  # noqa: ANN001
    return " ".join(
        str(model.data(index, role) or "")
        for role in (ROLES.DisplayRole, ROLES.ToolTipRole, ROLES.AccessibleTextRole)
    ).lower()


def _view_problems(view: QAbstractItemView, where: str, seen: set[str]) -> list[str]:
    model = view.model()
    problems = []
    if model is None:
        return problems
    columns = 1 if isinstance(model, QAbstractListModel) else model.columnCount()
    for row in range(min(model.rowCount(), ROWS_CHECKED)):
        cells = [model.index(row, col) for col in range(columns)]
        said = " ".join(_said(model, i) for i in cells)
        found: list[str] = []
        for cell in cells:
            for role in (ROLES.BackgroundRole, ROLES.ForegroundRole):
                colour = _colour(model.data(cell, role))
                if colour is None or colour in ON_A_TINT:
                    continue
                seen.add(f"{where} {colour}")
                words = STATUS_WORDS.get(colour)
                if words is None:
                    found.append(f"{where}: row {row} is coloured {colour}, not a known status")
                elif not any(w in said for w in words):
                    found.append(f"{where}: row {row} is {colour} but says none of {words}")
            icon = model.data(cell, ROLES.DecorationRole)
            if icon is not None and not (
                WORDS.search(str(model.data(cell, ROLES.AccessibleTextRole) or ""))
                or WORDS.search(str(model.data(cell, ROLES.ToolTipRole) or ""))
            ):
                found.append(f"{where}: row {row} has an icon with no words for it")
        problems += dict.fromkeys(found)  # once per row
    return problems


def _colour_pixels(image: QImage) -> int:
    """Pixels of a clear colour (not white, black or a grey) in a grab: every other row, up to
    300 pixels across. The sampled pixels are counted by value first (a grab holds few distinct
    colours), so each colour is judged once rather than each pixel through Qt."""
    image = image.convertToFormat(QImage.Format.Format_ARGB32)  # one QRgb per 32-bit word
    words = memoryview(image.constBits()).cast("I")
    per_line = image.bytesPerLine() // 4
    step = max(1, image.width() // 300)
    counts: Counter[int] = Counter()
    for y in range(0, image.height(), 2):
        counts.update(words[y * per_line : y * per_line + image.width() : step])
    found = 0
    for rgba, n in counts.items():
        c = QColor.fromRgba(rgba)
        if c.hsvSaturation() > 80 and c.value() > 60:
            found += n
    return found


def _words_of(w: QWidget) -> str:
    text = getattr(w, "text", None)
    parts = [w.accessibleName(), w.toolTip(), text() if callable(text) else ""]
    if isinstance(w.parentWidget(), QAbstractScrollArea):  # a viewport: its area's document
        area = w.parentWidget()
        plain = getattr(area, "toPlainText", None)
        parts += [area.accessibleName(), plain() if callable(plain) else ""]
    return " ".join(str(p) for p in parts)


def _in_item_view(w: QWidget) -> bool:
    while w is not None:
        if isinstance(w, QAbstractItemView):
            return True
        w = w.parentWidget()
    return False


def _problems(root: QWidget, where: str, seen: set[str]) -> list[str]:
    """What on ``root`` is coloured without words; what was coloured is added to ``seen``."""
    problems = []
    for view in root.findChildren(QAbstractItemView):
        if view.isVisibleTo(root) and not isinstance(view, QHeaderView):
            name = view.accessibleName() or view.objectName() or type(view).__name__
            problems += _view_problems(view, f"{where} / {name}", seen)
    for w in root.findChildren(QWidget):
        if not w.isVisibleTo(root) or isinstance(w, QMenu) or _in_item_view(w):
            continue
        if any(c.isVisibleTo(root) for c in w.findChildren(QWidget)):
            continue  # a container: its children are checked one by one
        if w.width() < 2 or w.height() < 2 or _colour_pixels(w.grab().toImage()) < 6:
            continue
        seen.add(f"{where} {type(w).__name__}#{w.objectName()}")
        if not WORDS.search(_words_of(w)):
            problems.append(
                f"{where}: {type(w).__name__}#{w.objectName()} is coloured with no words "
                f"(text {getattr(w, 'text', lambda: '')()!r})"
            )
    return problems


def _every_page(qtbot: QtBot, window: MainWindow) -> Iterator[str]:
    for key in list(window.pages):
        window.show_page(key)
        settle(qtbot, window)  # the page has its data: judged as a person would see it
        # Offline: the status bar's framed, coloured state (the demo has no endpoint).
        window.sync.state_changed.emit(OFFLINE, "Offline: changes are kept here until you sync")
        QApplication.processEvents()
        yield key


def test_no_page_tells_a_status_by_colour_alone(qtbot: QtBot, demo_dir: Path, scheme: str) -> None:
    window, _page = window_as(qtbot, demo_dir, Role.CLINICAL_LEAD)
    problems: list[str] = []
    seen: set[str] = set()
    for key in _every_page(qtbot, window):
        problems += _problems(window, f"{scheme} {key}", seen)
    assert problems == [], "\n".join(problems)
    # It looked at coloured things: the caseload's overdue and high-priority rows, My tasks'
    # overdue ones, the offline sync state.
    for what in (
        f"CaseloadPage / Caseload table {colours.OVERDUE_BG}",
        f"CaseloadPage / Caseload table {colours.HIGH_BG}",
        f"MyTasksPage / My open tasks {colours.OVERDUE_BG}",
    ):
        assert f"{scheme} {what}" in seen, sorted(seen)
    # (on any page: the controller may restate its own state once as the first page opens)
    assert any(x.endswith("QLabel#syncStatusLabel") for x in seen), sorted(seen)
    window.close()


def test_a_vcse_worker_sees_no_status_by_colour_alone(qtbot: QtBot, demo_dir: Path) -> None:
    # Another role, other states: referred people only, pages that say what is not permitted.
    window, _page = window_as(qtbot, demo_dir, Role.VCSE_WORKER)
    problems: list[str] = []
    for key in _every_page(qtbot, window):
        problems += _problems(window, f"VCSE {key}", set())
    assert problems == [], "\n".join(problems)
    window.close()
