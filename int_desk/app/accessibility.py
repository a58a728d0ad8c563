"""Accessibility checks the app's tests (and anyone changing colours) use: WCAG contrast, and
which controls a screen reader would announce without a name.

WCAG 2.2 relative luminance and contrast ratio (1.4.3: at least 4.5:1 for text); the
accessibility tree is Qt's own (QAccessible), as Orca, NVDA and VoiceOver see it.
"""

from __future__ import annotations

from collections.abc import Iterator

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
