"""Light and dark appearance: the Fusion style, a palette and the style sheets.

Start-up applies it before the first window (the unlock dialog), so this module imports only
Qt, paths and the settings schema - not the Settings dialog.
"""

from __future__ import annotations

from typing import Any

from PySide6.QtCore import Qt
from PySide6.QtGui import QColor, QPalette
from PySide6.QtWidgets import QApplication

from int_desk import paths
from int_desk.app import colours
from int_desk.settings_schema import Preferences


def _dark_palette() -> QPalette:
    p = QPalette()
    colours = {
        QPalette.ColorRole.Window: "#1f2429",
        QPalette.ColorRole.WindowText: "#e8edee",
        QPalette.ColorRole.Base: "#161a1e",
        QPalette.ColorRole.AlternateBase: "#242a30",
        QPalette.ColorRole.ToolTipBase: "#2b3238",
        QPalette.ColorRole.ToolTipText: "#e8edee",
        QPalette.ColorRole.Text: "#e8edee",
        QPalette.ColorRole.Button: "#2b3238",
        QPalette.ColorRole.ButtonText: "#e8edee",
        QPalette.ColorRole.BrightText: "#ffffff",
        QPalette.ColorRole.Highlight: "#41b6e6",
        QPalette.ColorRole.HighlightedText: "#0b0c0c",
        QPalette.ColorRole.Link: "#41b6e6",
        QPalette.ColorRole.PlaceholderText: "#9aa5ad",
    }
    for role, name in colours.items():
        p.setColor(role, QColor(name))
    for role in (QPalette.ColorRole.Text, QPalette.ColorRole.ButtonText):
        p.setColor(QPalette.ColorGroup.Disabled, role, QColor("#7b868e"))
    return p


def _light_palette(app: QApplication) -> QPalette:
    """Fusion's light palette with a selection and placeholder text that reach 4.5:1."""
    p = app.style().standardPalette()
    for group in (QPalette.ColorGroup.Active, QPalette.ColorGroup.Inactive):
        p.setColor(group, QPalette.ColorRole.Highlight, QColor(colours.LIGHT_HIGHLIGHT))
        p.setColor(group, QPalette.ColorRole.HighlightedText, QColor("#ffffff"))
    p.setColor(QPalette.ColorRole.PlaceholderText, QColor(colours.LIGHT_PLACEHOLDER))
    return p


def effective_scheme(app: QApplication, choice: str) -> str:
    """'light' or 'dark': the user's choice, or the desktop's when following the system."""
    if choice in ("light", "dark"):
        return choice
    return "dark" if app.styleHints().colorScheme() == Qt.ColorScheme.Dark else "light"


def apply_appearance(app: QApplication, choice: str) -> str:
    """Apply light/dark (following the OS for 'system'); returns the scheme now in effect."""
    scheme = effective_scheme(app, choice)
    app.setStyle("Fusion")
    app.setPalette(_dark_palette() if scheme == "dark" else _light_palette(app))
    qss = paths.resources_dir() / "style.qss"
    sheet = qss.read_text(encoding="utf-8") if qss.exists() else ""
    dark = paths.resources_dir() / "style-dark.qss"
    if scheme == "dark" and dark.exists():
        sheet += "\n" + dark.read_text(encoding="utf-8")
    app.setStyleSheet(sheet)
    app.setProperty("intDeskScheme", scheme)
    return scheme


def follow_system_scheme(app: QApplication, prefs: Preferences) -> None:
    """Re-apply when the desktop switches light/dark while 'Follow the system' is chosen."""

    def changed(_scheme: Any) -> None:
        if prefs.color_scheme() == "system":
            apply_appearance(app, "system")

    app.styleHints().colorSchemeChanged.connect(changed)
