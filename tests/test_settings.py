"""Settings: declared once as data, bounded, stored as preferences only; the dialog and About."""

from __future__ import annotations

from pathlib import Path

import pytest
from PySide6.QtCore import Qt
from PySide6.QtWidgets import QApplication, QDialogButtonBox, QSpinBox
from pytestqt.qtbot import QtBot

from int_desk import paths
from int_desk.app.about import COMPONENTS, AboutDialog
from int_desk.app.main import make_context, settings
from int_desk.app.main_window import MainWindow
from int_desk.app.settings_dialog import SettingsDialog, apply_appearance
from int_desk.domain.errors import ValidationError
from int_desk.settings_schema import (
    APPEARANCE,
    ENDPOINT_URL,
    IDLE_LOCK,
    PDF_FOLDER,
    SETTINGS,
    SYNC_INTERVAL,
    MemoryStore,
    Preferences,
)
from int_desk.store.workspace import Workspace
from tests.conftest import PASSPHRASE


def test_schema_bounds_and_defaults() -> None:
    prefs = Preferences(MemoryStore())
    assert prefs.idle_lock_minutes() == 5  # default
    assert prefs.sync_interval_minutes() == 5
    assert prefs.endpoint_url() is None
    assert prefs.color_scheme() == "system"
    for bad in (0, 16, 60, "ten"):
        with pytest.raises(ValidationError, match="Lock after idle"):
            prefs.set(IDLE_LOCK, bad)
    assert prefs.set(IDLE_LOCK, 15) == 15
    with pytest.raises(ValidationError, match="https://"):
        prefs.set(ENDPOINT_URL, "http://int.example.nhs.uk")  # plain http only on this computer
    assert prefs.set(ENDPOINT_URL, "https://int.example.nhs.uk") == "https://int.example.nhs.uk"
    assert {s.key for s in SETTINGS} >= {ENDPOINT_URL, SYNC_INTERVAL, IDLE_LOCK, PDF_FOLDER}


def test_tampered_ini_is_clamped_on_read() -> None:
    store = settings()
    store.setValue(IDLE_LOCK, "600")  # e.g. edited by hand to dodge the lock
    store.setValue(APPEARANCE, "neon")
    store.sync()
    ini = paths.config_dir() / "int-desk.ini"
    assert ini.exists() and "600" in ini.read_text()
    prefs = Preferences(settings())
    assert prefs.idle_lock_minutes() == 15
    assert prefs.color_scheme() == "system"


def test_settings_dialog_bounds_and_save(qtbot: QtBot) -> None:
    prefs = Preferences(settings())
    dialog = SettingsDialog(prefs)
    qtbot.addWidget(dialog)
    dialog.show()
    idle = dialog.editors[IDLE_LOCK]
    assert isinstance(idle, QSpinBox)
    assert (idle.minimum(), idle.maximum(), idle.value()) == (1, 15, 5)
    idle.selectAll()
    qtbot.keyClicks(idle, "45")  # typing past the bound cannot produce 45
    assert idle.value() <= 15
    idle.setValue(99)
    assert idle.value() == 15
    idle.setValue(0)
    assert idle.value() == 1
    idle.setValue(10)
    dialog.editors[SYNC_INTERVAL].setValue(30)  # type: ignore[attr-defined]

    # an invalid endpoint blocks saving with an inline error; nothing is written
    dialog.editors[ENDPOINT_URL].setText("int.example.nhs.uk")  # type: ignore[attr-defined]
    save = dialog.form.buttonBox.button(QDialogButtonBox.StandardButton.Ok)
    qtbot.mouseClick(save, Qt.MouseButton.LeftButton)
    assert dialog.isVisible() and dialog.form.errorLabel.isVisible()
    assert "https://" in dialog.form.errorLabel.text()
    assert Preferences(settings()).idle_lock_minutes() == 5

    dialog.editors[ENDPOINT_URL].setText("https://int.example.nhs.uk")  # type: ignore[attr-defined]
    with qtbot.waitSignal(dialog.accepted, timeout=5_000):
        qtbot.mouseClick(save, Qt.MouseButton.LeftButton)
    stored = Preferences(settings())
    assert stored.idle_lock_minutes() == 10
    assert stored.sync_interval_minutes() == 30
    assert stored.endpoint_url() == "https://int.example.nhs.uk"
    # the security engineer's auto-lock reads this exact key
    assert int(settings().value("security/idle_lock_minutes")) == 10


def test_restore_defaults(qtbot: QtBot) -> None:
    prefs = Preferences(settings())
    prefs.set(IDLE_LOCK, 12)
    dialog = SettingsDialog(prefs)
    qtbot.addWidget(dialog)
    assert dialog.editors[IDLE_LOCK].value() == 12  # type: ignore[attr-defined]
    restore = dialog.form.buttonBox.button(QDialogButtonBox.StandardButton.RestoreDefaults)
    qtbot.mouseClick(restore, Qt.MouseButton.LeftButton)
    assert dialog.editors[IDLE_LOCK].value() == 5  # type: ignore[attr-defined]
    assert prefs.idle_lock_minutes() == 12  # not written until saved


def test_dark_appearance_applies(qtbot: QtBot, qapp: QApplication) -> None:
    try:
        assert apply_appearance(qapp, "dark") == "dark"
        assert qapp.palette().window().color().lightness() < 80
        assert apply_appearance(qapp, "light") == "light"
        assert qapp.palette().window().color().lightness() > 180
    finally:
        apply_appearance(qapp, "light")


def test_main_window_has_settings_and_about(qtbot: QtBot, demo_dir: Path) -> None:
    ws = Workspace.open(demo_dir, PASSPHRASE)
    window = MainWindow(make_context(ws))
    qtbot.addWidget(window)
    action = window.settings_action
    assert action.shortcut().toString() == "Ctrl+,"
    menus = [a.text().replace("&", "") for a in window.menuBar().actions()]
    assert "Edit" in menus and menus.index("Edit") < menus.index("Help")
    window.close()


def test_about_lists_bundled_licences(qtbot: QtBot) -> None:
    about = AboutDialog()
    qtbot.addWidget(about)
    rows = {
        about.table.item(r, 0).text(): about.table.item(r, 2).text() for r in range(len(COMPONENTS))
    }
    assert rows["Qt 6 / Qt for Python (PySide6-Essentials)"] == "LGPL-3.0"
    assert any("SQLCipher" in name for name in rows)
    assert "0.1.0" in about.version_label.text() or "INT Desk" in about.version_label.text()
    qt_row = next(r for r in range(len(COMPONENTS)) if "PySide6" in about.table.item(r, 0).text())
    assert about.table.item(qt_row, 1).text().startswith("6.")


def test_saving_settings_from_the_menu_updates_auto_lock(qtbot: QtBot, demo_dir: Path) -> None:
    ws = Workspace.open(demo_dir, PASSPHRASE)
    window = MainWindow(make_context(ws))
    qtbot.addWidget(window)
    window.show()
    window.settings_action.trigger()
    dialog = window.findChild(SettingsDialog)
    assert dialog is not None and dialog.isVisible()
    dialog.editors[IDLE_LOCK].setValue(3)  # type: ignore[attr-defined]
    dialog.editors[SYNC_INTERVAL].setValue(10)  # type: ignore[attr-defined]
    save = dialog.form.buttonBox.button(QDialogButtonBox.StandardButton.Ok)
    qtbot.mouseClick(save, Qt.MouseButton.LeftButton)
    assert window.lock_controller.idle_ms == 3 * 60_000
    assert window.sync.periodic.interval() == 10 * 60_000
    window.close()


def test_stored_sync_interval_reaches_the_sync_timer(qtbot: QtBot, demo_dir: Path) -> None:
    Preferences(settings()).set(SYNC_INTERVAL, 30)
    ws = Workspace.open(demo_dir, PASSPHRASE)
    window = MainWindow(make_context(ws))
    qtbot.addWidget(window)
    qtbot.waitUntil(lambda: window.sync.periodic.interval() == 30 * 60_000, timeout=5_000)
    window.close()
