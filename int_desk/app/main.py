"""Start the GUI: pick the workspace, unlock it, show the main window.

The way to the unlock dialog imports only Qt, the key file reader and the dialog itself (a
nurse at a patient's door waits for it): the store (SQLAlchemy, Alembic, the models), the
window's pages and the OS keyring's backends are imported while the passphrase is typed
(app/startup.py WarmUp), or on demand when the keyring already holds the key.
"""

from __future__ import annotations

import logging
import os
import sys
from pathlib import Path
from typing import TYPE_CHECKING

from PySide6.QtCore import QSettings
from PySide6.QtGui import QFontDatabase, QIcon
from PySide6.QtWidgets import QApplication, QMainWindow, QMessageBox

from int_desk import paths
from int_desk.domain.errors import IntDeskError, KeyUnavailable
from int_desk.logs import setup_logging
from int_desk.store.files import is_workspace

if TYPE_CHECKING:
    from int_desk.app.context import AppContext
    from int_desk.store.workspace import Workspace

log = logging.getLogger(__name__)

DEMO_PASSPHRASE = "int-desk-demo"
DEMO_HINT = f"Demo workspace (synthetic data): the passphrase is {DEMO_PASSPHRASE}"


def settings() -> QSettings:
    """Preferences only (window layout, last view): never patient data."""
    path = paths.ensure_private_dir(paths.config_dir()) / "int-desk.ini"
    return QSettings(str(path), QSettings.Format.IniFormat)


def load_fonts_and_style(app: QApplication) -> str:
    family = ""
    for name in ("DejaVuSans.ttf", "DejaVuSans-Bold.ttf"):
        font_id = QFontDatabase.addApplicationFont(str(paths.font_path(name)))
        if font_id >= 0 and not family:
            family = QFontDatabase.applicationFontFamilies(font_id)[0]
    if family:
        font = app.font()
        font.setFamily(family)
        app.setFont(font)
    qss = paths.resources_dir() / "style.qss"
    if qss.exists():
        app.setStyleSheet(qss.read_text(encoding="utf-8"))
    icon = paths.resources_dir() / "icons" / "int-desk.svg"
    if icon.exists():
        app.setWindowIcon(QIcon(str(icon)))
    return family


def ensure_demo_workspace(directory: Path) -> None:
    if is_workspace(directory):
        return
    from int_desk.services.demo import build_demo
    from int_desk.store.workspace import Workspace

    with Workspace.create(directory, DEMO_PASSPHRASE) as ws, ws.session() as s:
        build_demo(s)


def open_workspace(directory: Path, hint: str = "") -> Workspace | None:
    """Keyring or INT_DESK_PASSPHRASE first; otherwise the unlock dialog. None if cancelled."""
    if _key_may_be_at_hand(Path(directory)):
        from int_desk.store.workspace import Workspace

        try:
            return Workspace.open(directory)
        except KeyUnavailable:
            pass
    from int_desk.app.startup import DEMO_ENDPOINT_MODULES, QT_FREE_MODULES, WarmUp
    from int_desk.app.unlock_dialog import UnlockDialog

    dialog = UnlockDialog(directory, hint=hint)
    background = list(QT_FREE_MODULES)
    if Path(directory) == paths.default_workspace():  # run_app starts its local endpoint
        background += DEMO_ENDPOINT_MODULES
    # Imports while the passphrase is typed, from the dialog's first paint on (before it, the
    # GUI thread's imports and the background thread's hold on the GIL would delay the paint).
    warm = WarmUp(dialog, background=background)
    dialog.painted.connect(warm.start)
    if dialog.exec() and dialog.workspace is not None:
        return dialog.workspace
    return None


def _key_may_be_at_hand(directory: Path) -> bool:
    """Whether the OS keyring or INT_DESK_PASSPHRASE may unlock without asking. Read from the
    key file (which says if the keyring was ever given the key), so the usual case - the
    passphrase is asked - shows the dialog without loading the keyring or the store first.
    A workspace that cannot be read is opened the full way, which says what is wrong."""
    from int_desk.store import files, keys

    if files.passphrase_from_env() or not is_workspace(directory):
        return True
    try:
        return keys.KeyFile.load(directory / files.KEY_FILE).keyring_backend is not None
    except Exception:
        return True


def create_app() -> QApplication:
    app = QApplication.instance()
    if not isinstance(app, QApplication):  # (none yet: tests and self-checks may have made one)
        app = QApplication(sys.argv[:1])
    # X11 takes WM_CLASS from the application name: the reverse-DNS id matches StartupWMClass in
    # packaging/linux/uk.nhs.intdesk.IntDesk.desktop (Wayland uses the desktop file name).
    app.setApplicationName("uk.nhs.intdesk.IntDesk")
    app.setApplicationDisplayName("INT Desk")
    app.setOrganizationName("INT Desk")
    app.setDesktopFileName("uk.nhs.intdesk.IntDesk")
    load_fonts_and_style(app)
    from int_desk.app import gc_pin

    gc_pin.pin_to_gui_thread(app)  # never collect (and destroy Qt objects) on a worker thread
    return app


def make_context(workspace: Workspace) -> AppContext:
    from int_desk.app.context import AppContext
    from int_desk.app.events import Events
    from int_desk.app.tasks import TaskRunner
    from int_desk.services.identity import current_actor

    with workspace.session() as s:
        actor = current_actor(s)
    return AppContext(workspace, actor, Events(), TaskRunner(), settings())


def show_main_window(workspace: Workspace) -> QMainWindow:
    """The unlocked workspace's main window, shown. The first page (the caseload) is built and
    queried at once; the other pages follow after it has painted (see MainWindow)."""
    from int_desk.app.main_window import MainWindow

    window = MainWindow(make_context(workspace))
    window.show_fitted()  # maximised on a screen too small for its preferred size
    return window


def _has_display() -> bool:
    if os.environ.get("QT_QPA_PLATFORM") or sys.platform in ("win32", "darwin"):
        return True
    return bool(os.environ.get("DISPLAY") or os.environ.get("WAYLAND_DISPLAY"))


def run_app(workspace: str | None = None, demo: bool = False) -> int:
    if not any(getattr(h, "_int_desk", False) for h in logging.getLogger().handlers):
        setup_logging()  # started without the CLI (e.g. int-desk-gui)
    if not _has_display():
        print(  # noqa: T201
            "int-desk: no display found. Run it from a desktop session, or set "
            "QT_QPA_PLATFORM=offscreen for headless use.",
            file=sys.stderr,
        )
        return 1
    app = create_app()
    from int_desk.app import crash

    crash.install()  # scrubbed report for anything unhandled
    from int_desk.app.appearance import apply_appearance, follow_system_scheme
    from int_desk.app.workspace_choice import remember_workspace, startup_workspace
    from int_desk.settings_schema import Preferences

    prefs = Preferences(settings())
    apply_appearance(app, prefs.color_scheme())
    follow_system_scheme(app, prefs)
    hint = ""
    ws: Workspace | None = None
    if workspace:
        directory = Path(workspace)
    elif demo:
        directory = paths.default_workspace()
        ensure_demo_workspace(directory)
        hint = DEMO_HINT
    else:
        found = startup_workspace(prefs)  # last opened (or the demo); None: first run
        if found is None:
            from int_desk.app import first_run

            ws = first_run.run_first_run(prefs)
            if ws is None:
                return 0
            directory = ws.directory
        else:
            directory = found
        hint = DEMO_HINT if directory == paths.default_workspace() else ""
    try:
        ws = ws or open_workspace(directory, hint)
        if ws is None:
            return 0
        remember_workspace(prefs, ws.directory)
        if demo or ws.directory == paths.default_workspace():  # also when chosen in first run
            # the embedded default: a local sync endpoint beside the demo workspace
            from int_desk.local_endpoint import start_demo_endpoint

            start_demo_endpoint(ws)
        window = show_main_window(ws)  # noqa: F841 - referenced while the app runs
    except IntDeskError as exc:
        QMessageBox.critical(None, "INT Desk", str(exc))
        return 2
    return app.exec()
