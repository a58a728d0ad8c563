"""The Qt part of ``int-desk --self-test``: Qt starts, the bundled font and forms load, a window paints."""

from __future__ import annotations

from PySide6.QtWidgets import QApplication

from int_desk.settings_schema import MemoryStore, Preferences


def qt_check() -> str:
    from int_desk.app.first_run import FirstRunDialog
    from int_desk.app.main import create_app

    app = create_app()
    family = app.font().family()
    if "DejaVu" not in family:
        raise AssertionError(f"bundled font did not load (UI font is {family!r})")
    dialog = FirstRunDialog(Preferences(MemoryStore()))
    try:
        dialog.resize(640, 600)
        image = dialog.grab().toImage()
        if image.isNull() or image.width() < 100:
            raise AssertionError("the first-run window did not paint")
        title = dialog.form.welcomeTitle.text()
    finally:
        dialog.done(0)
        dialog.deleteLater()
    platform = QApplication.platformName()
    return f"Qt {_qt_version()} on '{platform}': painted the first-run window ({title!r}, {family})"


def _qt_version() -> str:
    from PySide6 import __version__

    return __version__
