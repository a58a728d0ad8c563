"""Accessibility checks the app's tests (and anyone changing colours) use: WCAG contrast, and
which controls a screen reader would announce without a name.

WCAG 2.2 relative luminance and contrast ratio (1.4.3: at least 4.5:1 for text); the
accessibility tree is Qt's own (QAccessible), as Orca, NVDA and VoiceOver see it.
"""

from __future__ import annotations

from collections.abc import Iterator

from PySide6.QtCore import Qt
from PySide6.QtGui import QAccessible, QColor, QImage
from PySide6.QtWidgets import QWidget

AA_TEXT = 4.5  # WCAG 1.4.3 contrast (minimum) for body text


def luminance(colour: QColor) -> float:
    """WCAG relative luminance of an sRGB colour (0 black .. 1 white)."""

    def channel(value: float) -> float:
        return value / 12.92 if value <= 0.04045 else ((value + 0.055) / 1.055) ** 2.4

    return (
        0.2126 * channel(colour.redF())
        + 0.7152 * channel(colour.greenF())
        + 0.0722 * channel(colour.blueF())
    )


def contrast_ratio(a: QColor | str, b: QColor | str) -> float:
    """WCAG contrast ratio of two colours, 1 (none) .. 21 (black on white)."""
    la, lb = sorted((luminance(QColor(a)), luminance(QColor(b))), reverse=True)
    return (la + 0.05) / (lb + 0.05)


def ink_contrast(image: QImage) -> float:
    """The contrast of the strongest ink in a grab of a text widget against its background
    (the colour of the top-left pixel): what a reader actually sees, whatever set the colour
    (palette, style sheet or HTML)."""
    background = image.pixelColor(0, 0)
    best = 1.0
    step = max(1, image.width() // 400)
    for y in range(image.height()):
        for x in range(0, image.width(), step):
            best = max(best, contrast_ratio(background, image.pixelColor(x, y)))
    return best


_ROLES_NEEDING_NAMES = frozenset(
    {
        QAccessible.Role.PushButton,
        QAccessible.Role.CheckBox,
        QAccessible.Role.RadioButton,
        QAccessible.Role.ComboBox,
        QAccessible.Role.EditableText,
        QAccessible.Role.SpinBox,
        QAccessible.Role.Slider,
        QAccessible.Role.Table,
        QAccessible.Role.List,
        QAccessible.Role.Tree,
        QAccessible.Role.PageTabList,
        QAccessible.Role.ButtonMenu,
        QAccessible.Role.ButtonDropDown,
        QAccessible.Role.ProgressBar,
    }
)


def _walk(iface: QAccessible.QAccessibleInterface, depth: int = 0) -> Iterator[object]:
    yield iface
    if depth > 40 or iface.role() in (QAccessible.Role.Table, QAccessible.Role.List):
        return  # a table's cells are named by its model; the table itself needs a name
    for i in range(iface.childCount()):
        child = iface.child(i)
        if child is not None and child.isValid():
            yield from _walk(child, depth + 1)


def unnamed_controls(root: QWidget) -> list[str]:
    """Visible, enabled-or-not controls under ``root`` that a screen reader would announce
    without a name (object name and class, for the failure message)."""
    found = []
    iface = QAccessible.queryAccessibleInterface(root)
    if iface is None:
        return found
    for node in _walk(iface):
        if node.role() not in _ROLES_NEEDING_NAMES or node.state().invisible:
            continue
        if not node.text(QAccessible.Text.Name).strip():
            widget = node.object()
            name = widget.objectName() if widget is not None else ""
            found.append(f"{type(widget).__name__}#{name}" if widget is not None else "?")
    return found


def tab_chain(root: QWidget) -> list[QWidget]:
    """The controls Tab visits under ``root``, in order (visible and enabled only)."""
    out: list[QWidget] = []
    seen: set[int] = set()
    w = root.nextInFocusChain()
    while w is not root and id(w) not in seen:
        seen.add(id(w))
        if (
            root.isAncestorOf(w)
            and w.focusPolicy() & Qt.FocusPolicy.TabFocus
            and w.isVisibleTo(root)
            and w.isEnabled()
        ):
            out.append(w)
        w = w.nextInFocusChain()
    return out


def tab_order_problems(root: QWidget) -> list[str]:
    """Pairs of controls in the same container whose Tab order goes against the layout: a
    control further down, or further right on the same row, is reached before one above or
    to its left. (Across containers the order follows the containers; tested the same way.)"""
    chain = tab_chain(root)
    position = {id(w): i for i, w in enumerate(chain)}
    problems = []
    by_parent: dict[int, list[QWidget]] = {}
    for w in chain:
        by_parent.setdefault(id(w.parentWidget()), []).append(w)
    for siblings in by_parent.values():
        for a in siblings:
            ga = a.geometry()
            for b in siblings:
                gb = b.geometry()
                above = ga.bottom() < gb.top()
                same_row = not above and not gb.bottom() < ga.top()
                left = same_row and ga.right() < gb.left()
                if (above or left) and position[id(a)] > position[id(b)]:
                    problems.append(f"{_describe(b)} before {_describe(a)}")
    return problems


def _describe(w: QWidget) -> str:
    name = w.accessibleName() or w.objectName() or getattr(w, "text", lambda: "")()
    return f"{type(w).__name__}({name})"


def tab_in_visual_order(widgets: list[QWidget]) -> None:
    """Make Tab visit ``widgets`` left to right as laid out (a dialog's button box, whose
    platform layout can put Restore Defaults left of buttons created before it)."""
    ordered = sorted(
        widgets,
        key=lambda w: (
            w.mapToGlobal(w.rect().topLeft()).y() // 8,
            w.mapToGlobal(w.rect().topLeft()).x(),
        ),
    )
    for first, second in zip(ordered, ordered[1:], strict=False):
        QWidget.setTabOrder(first, second)
