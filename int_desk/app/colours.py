"""Colours the app paints with outside the palette and style sheets, in one place, so the
contrast test (tests/test_accessibility.py) checks every pair a reader sees: WCAG AA, 4.5:1."""

from __future__ import annotations

from PySide6.QtGui import QColor, QPalette

OVERDUE_BG = "#fde2df"  # pale red row tint (overdue), the same in light and dark
HIGH_BG = "#fff1cc"  # pale amber row tint (high priority)
TEXT_ON_TINT = "#212b32"  # text on those tints
MUTED_ON_TINT = "#515f68"  # a discharged person's row on a tint (#5e6b73 was 4.47:1)
ALERT_TEXT = "#8a1538"  # the record pane's alert line, on OVERDUE_BG
MUTED = {"light": "#5e6b73", "dark": "#aeb7bd"}  # a discharged person's row
LIGHT_HIGHLIGHT = "#005eb8"  # Fusion's #308cc6 gave white text 3.6:1
LIGHT_PLACEHOLDER = "#5e6b73"  # Fusion's grey placeholder text was below 4.5:1


def scheme_of(palette: QPalette) -> str:
    """'dark' when the window background is dark."""
    return "dark" if palette.color(QPalette.ColorRole.Window).lightness() < 128 else "light"


def muted(palette: QPalette) -> QColor:
    return QColor(MUTED[scheme_of(palette)])
