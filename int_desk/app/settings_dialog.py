"""Edit > Settings (Ctrl+,): a form generated from ``int_desk.settings_schema.SETTINGS``.

Each setting's editor follows its declared type and bounds (spin boxes cannot leave them), the
values are validated again on OK, and nothing is written until OK. Appearance applies at once.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from PySide6.QtCore import Qt, QTimer
from PySide6.QtGui import QAction, QKeySequence
from PySide6.QtWidgets import (
    QApplication,
    QComboBox,
    QDialog,
    QDialogButtonBox,
    QFileDialog,
    QFormLayout,
    QGroupBox,
    QHBoxLayout,
    QLineEdit,
    QMainWindow,
    QPushButton,
    QSpinBox,
    QVBoxLayout,
    QWidget,
)

# Appearance (light/dark) lives in appearance.py, which start-up imports without this dialog.
from int_desk.app.accessibility import tab_in_visual_order
from int_desk.app.appearance import (
    _dark_palette,
    apply_appearance,
    effective_scheme,
    follow_system_scheme,
)
from int_desk.app.forms.settings_dialog import Ui_SettingsDialog
from int_desk.domain.errors import ValidationError
from int_desk.settings_schema import (
    APPEARANCE,
    ENDPOINT_URL,
    SETTINGS,
    Preferences,
    Setting,
    validate,
)

__all__ = ["_dark_palette", "apply_appearance", "effective_scheme", "follow_system_scheme"]


# --- the dialog -----------------------------------------------------------------------------


class SettingsDialog(QDialog):
    """``editors[key]`` is the widget for each setting (tests drive them directly)."""

    def __init__(self, prefs: Preferences, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.prefs = prefs
        self.form = Ui_SettingsDialog()
        self.form.setupUi(self)
        self.form.titleLabel.setObjectName("dialogTitle")
        self.form.errorLabel.setObjectName("errorText")
        self.form.errorLabel.hide()
        self.editors: dict[str, QWidget] = {}
        self._build_fields()
        self.load(lambda s: prefs.get(s.key))
        ok = self.form.buttonBox.button(QDialogButtonBox.StandardButton.Ok)
        ok.setText("&Save")
        self.form.buttonBox.accepted.connect(self.save)
        self.form.buttonBox.rejected.connect(self.reject)
        restore = self.form.buttonBox.button(QDialogButtonBox.StandardButton.RestoreDefaults)
        restore.clicked.connect(lambda: self.load(lambda s: s.default))
        self._tabs_ordered = False

    def showEvent(self, event: Any) -> None:  # noqa: N802 - Qt override
        super().showEvent(event)
        if not self._tabs_ordered:  # once laid out: Tab goes left to right along the buttons
            self._tabs_ordered = True
            self.layout().activate()
            tab_in_visual_order(self.form.buttonBox.buttons())

    def _build_fields(self) -> None:
        outer = QVBoxLayout(self.form.fieldsHost)
        outer.setContentsMargins(0, 0, 0, 0)
        groups: dict[str, QFormLayout] = {}
        for setting in SETTINGS:
            if setting.group not in groups:
                box = QGroupBox(setting.group, self.form.fieldsHost)
                groups[setting.group] = QFormLayout(box)
                outer.addWidget(box)
            editor, field = self._editor(setting)
            editor.setAccessibleName(setting.label)
            editor.setToolTip(setting.help)
            editor.setWhatsThis(setting.help)
            self.editors[setting.key] = editor
            groups[setting.group].addRow(f"{setting.label}:", field)

    def _editor(self, s: Setting) -> tuple[QWidget, QWidget]:
        if s.type == "int":
            spin = QSpinBox()
            spin.setRange(s.minimum if s.minimum is not None else 0, s.maximum or 10**6)
            spin.setSuffix(s.suffix)
            spin.setAccessibleDescription(f"Between {s.minimum} and {s.maximum}{s.suffix}")
            return spin, spin
        if s.type == "choice":
            combo = QComboBox()
            for value, label in s.choices:
                combo.addItem(label, value)
            return combo, combo
        edit = QLineEdit()
        if s.type == "url":
            edit.setPlaceholderText("https://int.example.nhs.uk (empty: this computer only)")
            return edit, edit
        edit.setPlaceholderText(str(Path.home() / "Documents"))
        browse = QPushButton("&Browse...")
        browse.setAccessibleName(f"Choose: {s.label}")
        browse.clicked.connect(lambda: self._browse(edit, s))
        row = QWidget()
        layout = QHBoxLayout(row)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addWidget(edit, 1)
        layout.addWidget(browse)
        return edit, row

    def _browse(self, edit: QLineEdit, s: Setting) -> None:
        chosen = QFileDialog.getExistingDirectory(
            self, s.label, edit.text() or edit.placeholderText()
        )
        if chosen:
            edit.setText(chosen)

    # --- values -------------------------------------------------------------------------------

    def load(self, value_of: Any) -> None:
        for setting in SETTINGS:
            self.set_editor_value(setting.key, value_of(setting))

    def set_editor_value(self, key: str, value: Any) -> None:
        editor = self.editors[key]
        if isinstance(editor, QSpinBox):
            editor.setValue(int(value))
        elif isinstance(editor, QComboBox):
            index = editor.findData(value)
            editor.setCurrentIndex(max(index, 0))
        elif isinstance(editor, QLineEdit):
            editor.setText(str(value or ""))

    def editor_value(self, key: str) -> Any:
        editor = self.editors[key]
        if isinstance(editor, QSpinBox):
            return editor.value()
        if isinstance(editor, QComboBox):
            return editor.currentData()
        assert isinstance(editor, QLineEdit)
        return editor.text()

    def save(self) -> None:
        """Validate everything first; write only when all values are acceptable."""
        clean: dict[str, Any] = {}
        for setting in SETTINGS:
            try:
                clean[setting.key] = validate(setting, self.editor_value(setting.key))
            except ValidationError as exc:
                self.form.errorLabel.setText(str(exc))
                self.form.errorLabel.show()
                self.editors[setting.key].setFocus()
                return
        for key, value in clean.items():
            self.prefs.set(key, value)
        app = QApplication.instance()
        if isinstance(app, QApplication):
            apply_appearance(app, clean[APPEARANCE])
        self.accept()


def install_settings_action(window: QMainWindow, prefs: Preferences) -> QAction:
    """Edit > Settings... (Ctrl+, ; the platform's Preferences key where it has one)."""
    menu_bar = window.menuBar()
    edit_menu = next(
        (a.menu() for a in menu_bar.actions() if a.menu() and a.text().replace("&", "") == "Edit"),
        None,
    )
    if edit_menu is None:
        help_action = next(
            (a for a in menu_bar.actions() if a.text().replace("&", "") == "Help"), None
        )
        edit_menu = menu_bar.addMenu("&Edit")
        if help_action is not None:
            menu_bar.insertMenu(help_action, edit_menu)
    action = QAction("&Settings...", window)
    action.setObjectName("settingsAction")
    shortcuts = [QKeySequence("Ctrl+,")]
    platform_key = QKeySequence(QKeySequence.StandardKey.Preferences)
    if not platform_key.isEmpty() and platform_key != shortcuts[0]:
        shortcuts.append(platform_key)
    action.setShortcuts(shortcuts)
    action.setMenuRole(QAction.MenuRole.PreferencesRole)
    action.triggered.connect(lambda: open_settings(window, prefs))
    edit_menu.addAction(action)
    # Once the window has finished building its parts, give them the stored settings.
    QTimer.singleShot(0, window, lambda: apply_runtime_settings(window, prefs))
    return action


def apply_runtime_settings(window: QMainWindow, prefs: Preferences) -> None:
    """Hand settings to the live parts that cache them: auto-lock and the sync timer."""
    controller = getattr(window, "lock_controller", None)  # app/lock.py
    if controller is not None:
        controller.reload_settings()
    sync = getattr(window, "sync", None)  # app/sync_status.py SyncController
    periodic = getattr(sync, "periodic", None)
    if periodic is not None:
        periodic.setInterval(prefs.sync_interval_minutes() * 60_000)


def open_settings(window: QMainWindow, prefs: Preferences) -> SettingsDialog:
    """Show the dialog (window-modal); on save, parts that cache a setting re-read it."""
    from int_desk.app import endpoint_link

    dialog = SettingsDialog(prefs, window)
    dialog.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
    ctx = getattr(window, "ctx", None)
    before = endpoint_link.current_endpoint(ctx)
    if ctx is not None:  # the open workspace's connection is what this field changes
        dialog.set_editor_value(ENDPOINT_URL, before or "")

    def saved() -> None:
        apply_runtime_settings(window, prefs)
        endpoint_link.endpoint_changed(window, before, prefs.endpoint_url())

    dialog.accepted.connect(saved)
    dialog.open()
    return dialog
