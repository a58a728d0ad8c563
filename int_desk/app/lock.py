"""Auto-lock: after idle time, on OS session lock/suspend, or on File > Lock now (Ctrl+L).

Locking (``LockController.lock``):
1. asks every page implementing ``save_drafts() -> object`` for its unsaved work, while the store
   is still open (a page may write a draft to the encrypted store and return None, or return an
   in-memory snapshot); the controller hands the snapshot back to ``restore_drafts(snapshot)``
   after unlock. Drafts never touch disk unencrypted. Editors keep their text anyway: the page
   widgets are hidden, not destroyed;
2. waits for store work, then ``Workspace.close()`` (connections dropped, key overwritten);
3. swaps the central widget for the lock screen and hides every other window (dialogs included);
4. emits ``events.locked``.
Unlocking needs the passphrase (scrypt off the GUI thread), or the OS keyring when every one of
the member's teams allows quick unlock (``Team.config["allow_quick_unlock"]``). The unlocked
workspace replaces ``ctx.workspace``; pages get their drafts back; ``events.unlocked`` fires.

Idle time: ``settings[security/idle_lock_minutes]`` (default 5), clamped to at most 15 and to any
team limit (``int_desk.domain.security``). Input anywhere in the application resets the timer.
"""

from __future__ import annotations

import logging
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

from PySide6.QtCore import (
    SLOT,
    QAbstractNativeEventFilter,
    QEvent,
    QObject,
    Qt,
    QThread,
    QTimer,
    Signal,
    Slot,
)
from PySide6.QtWidgets import (
    QApplication,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QMainWindow,
    QPushButton,
    QVBoxLayout,
    QWidget,
)

from int_desk.app.context import AppContext
from int_desk.app.messages import describe
from int_desk.domain import security
from int_desk.store.workspace import Workspace

log = logging.getLogger(__name__)

ACTIVITY_EVENTS = frozenset(
    {
        QEvent.Type.KeyPress,
        QEvent.Type.MouseButtonPress,
        QEvent.Type.MouseMove,
        QEvent.Type.Wheel,
        QEvent.Type.TouchBegin,
        QEvent.Type.TabletPress,
    }
)


class _UnlockThread(QThread):
    unlocked = Signal(object)
    failed = Signal(object)

    def __init__(self, opener: Callable[[], Workspace], parent: QObject) -> None:
        super().__init__(parent)
        self.opener = opener

    def run(self) -> None:
        try:
            ws = self.opener()
        except BaseException as exc:
            self.failed.emit(exc)
        else:
            self.unlocked.emit(ws)


class LockScreen(QWidget):
    """What a locked window shows: no patient data, a passphrase box and Unlock.

    Signals: ``unlock_requested(str)`` (passphrase), ``quick_unlock_requested()``.
    """

    unlock_requested = Signal(str)
    quick_unlock_requested = Signal()

    def __init__(self, who: str, quick_unlock: bool, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("lockScreen")
        title = QLabel("INT Desk is locked")
        title.setObjectName("dialogTitle")
        title.setAlignment(Qt.AlignmentFlag.AlignCenter)
        self.who_label = QLabel(f"{who}. Enter the workspace passphrase to continue.")
        self.who_label.setWordWrap(True)
        self.who_label.setAlignment(Qt.AlignmentFlag.AlignCenter)
        self.passphrase_edit = QLineEdit()
        self.passphrase_edit.setEchoMode(QLineEdit.EchoMode.Password)
        self.passphrase_edit.setObjectName("lockPassphraseEdit")
        self.passphrase_edit.setAccessibleName("Workspace passphrase")
        self.passphrase_edit.setPlaceholderText("Passphrase")
        self.unlock_button = QPushButton("&Unlock")
        self.unlock_button.setObjectName("unlockButton")
        self.unlock_button.setDefault(True)
        self.unlock_button.setEnabled(False)
        self.quick_button = QPushButton("Unlock with system &keyring")
        self.quick_button.setObjectName("quickUnlockButton")
        self.quick_button.setVisible(quick_unlock)
        self.error_label = QLabel()
        self.error_label.setObjectName("errorText")
        self.error_label.setWordWrap(True)
        self.error_label.setAccessibleName("Unlock error")
        self.error_label.hide()
        self.busy_label = QLabel("Unlocking…")
        self.busy_label.hide()

        box = QVBoxLayout()
        box.addWidget(title)
        box.addWidget(self.who_label)
        box.addWidget(self.passphrase_edit)
        buttons = QHBoxLayout()
        buttons.addWidget(self.quick_button)
        buttons.addStretch(1)
        buttons.addWidget(self.unlock_button)
        box.addLayout(buttons)
        box.addWidget(self.busy_label)
        box.addWidget(self.error_label)
        panel = QWidget()
        panel.setLayout(box)
        panel.setMaximumWidth(460)
        outer = QVBoxLayout(self)
        outer.addStretch(1)
        row = QHBoxLayout()
        row.addStretch(1)
        row.addWidget(panel)
        row.addStretch(1)
        outer.addLayout(row)
        outer.addStretch(2)

        self.passphrase_edit.textChanged.connect(
            lambda text: self.unlock_button.setEnabled(bool(text) and not self.busy)
        )
        self.passphrase_edit.returnPressed.connect(self._submit)
        self.unlock_button.clicked.connect(self._submit)
        self.quick_button.clicked.connect(self.quick_unlock_requested.emit)
        self.busy = False

    def _submit(self) -> None:
        text = self.passphrase_edit.text()
        if text and not self.busy:
            self.unlock_requested.emit(text)

    def set_busy(self, busy: bool) -> None:
        self.busy = busy
        self.busy_label.setVisible(busy)
        self.passphrase_edit.setEnabled(not busy)
        self.quick_button.setEnabled(not busy)
        self.unlock_button.setEnabled(not busy and bool(self.passphrase_edit.text()))
        if busy:
            self.error_label.hide()

    def show_error(self, message: str) -> None:
        self.error_label.setText(message)
        self.error_label.show()
        self.passphrase_edit.selectAll()
        self.passphrase_edit.setFocus()


class _WindowsSessionLock(QAbstractNativeEventFilter):
    """WM_WTSSESSION_CHANGE with WTS_SESSION_LOCK -> lock (Windows only)."""

    WM_WTSSESSION_CHANGE = 0x02B1
    WTS_SESSION_LOCK = 0x7

    def __init__(self, on_lock: Callable[[], None]) -> None:
        super().__init__()
        self.on_lock = on_lock

    def nativeEventFilter(self, event_type: Any, message: Any) -> Any:  # noqa: N802 - Qt
        if bytes(event_type) == b"windows_generic_MSG":
            import ctypes.wintypes

            msg = ctypes.wintypes.MSG.from_address(int(message))
            if msg.message == self.WM_WTSSESSION_CHANGE and msg.wParam == self.WTS_SESSION_LOCK:
                QTimer.singleShot(0, self.on_lock)
        return False, 0


class LockController(QObject):
    """Owns the idle timer and the locked state of one main window.

    Signals: ``locked_changed(bool)``.
    """

    locked_changed = Signal(bool)

    def __init__(self, window: QMainWindow, ctx: AppContext, *, idle_ms: int | None = None) -> None:
        super().__init__(window)
        self.window = window
        self.ctx = ctx
        self.directory = Path(ctx.workspace.directory)
        self.is_locked = False
        self.lock_screen: LockScreen | None = None
        self._content: QWidget | None = None
        self._hidden_windows: list[QWidget] = []
        self._drafts: dict[str, Any] = {}
        self._thread: _UnlockThread | None = None
        configs = self._team_configs()
        self.quick_unlock = security.quick_unlock_allowed(configs) and bool(
            ctx.workspace.key_file.keyring_backend
        )
        minutes = security.clamp_idle_minutes(
            ctx.settings.value(security.IDLE_SETTING, security.DEFAULT_IDLE_MINUTES), configs
        )
        self.timer = QTimer(self)
        self.timer.setSingleShot(True)
        self.timer.timeout.connect(self.lock)
        self.set_idle_ms(idle_ms if idle_ms is not None else minutes * 60_000)
        app = QApplication.instance()
        if app is not None:
            app.installEventFilter(self)
            app.applicationStateChanged.connect(self._on_app_state)  # type: ignore[attr-defined]
        self._watch_os_session_lock()

    # --- configuration ------------------------------------------------------------------------

    def _team_configs(self) -> list[dict[str, Any]]:
        from int_desk.services.access import team_configs

        if not self.ctx.actor.team_ids:
            return []
        with self.ctx.workspace.session() as s:
            return team_configs(s, self.ctx.actor)

    def reload_settings(self) -> None:
        """Re-read ``security/idle_lock_minutes`` (the settings dialog calls this on save)."""
        minutes = security.clamp_idle_minutes(
            self.ctx.settings.value(security.IDLE_SETTING, security.DEFAULT_IDLE_MINUTES),
            self._team_configs() if self.ctx.workspace.is_open else (),
        )
        self.set_idle_ms(minutes * 60_000)

    def set_idle_ms(self, msecs: int) -> None:
        """Idle time in milliseconds, never above 15 minutes (tests use a short one)."""
        self.idle_ms = max(1, min(int(msecs), security.MAX_IDLE_MINUTES * 60_000))
        self.timer.setInterval(self.idle_ms)
        if not self.is_locked:
            self.timer.start()

    # --- activity and OS signals --------------------------------------------------------------

    def eventFilter(self, watched: QObject, event: QEvent) -> bool:  # noqa: N802 - Qt override
        if not self.is_locked and event.type() in ACTIVITY_EVENTS:
            self.timer.start()
        return False

    def _on_app_state(self, state: Qt.ApplicationState) -> None:
        if state == Qt.ApplicationState.ApplicationSuspended:
            log.info("application suspended: locking")
            self.lock()

    def _watch_os_session_lock(self) -> None:
        """Best effort, never fatal: lock when the OS says the session locked or is going to
        sleep. Linux: the freedesktop/GNOME screensaver and logind (session Lock, PrepareForSleep)
        over D-Bus. Windows: WTS session-lock messages through a native event filter. Elsewhere
        the idle timer and suspend (applicationStateChanged) are the protection."""
        try:
            from PySide6.QtDBus import QDBusConnection

            bus = QDBusConnection.sessionBus()
            if bus.isConnected():
                for service, path in (
                    ("org.freedesktop.ScreenSaver", "/org/freedesktop/ScreenSaver"),
                    ("org.gnome.ScreenSaver", "/org/gnome/ScreenSaver"),
                ):
                    bus.connect(
                        "",
                        path,
                        service,
                        "ActiveChanged",
                        self,
                        SLOT("on_screensaver_active(bool)"),
                    )
            system = QDBusConnection.systemBus()
            if system.isConnected():
                system.connect(
                    "org.freedesktop.login1",
                    "/org/freedesktop/login1",
                    "org.freedesktop.login1.Manager",
                    "PrepareForSleep",
                    self,
                    SLOT("on_screensaver_active(bool)"),
                )
                # logind signals Lock on the session's own object path (".../session/_32"),
                # never on the "auto" alias, so listen on every session path.
                system.connect(
                    "org.freedesktop.login1",
                    "",
                    "org.freedesktop.login1.Session",
                    "Lock",
                    self,
                    SLOT("on_session_lock()"),
                )
        except Exception:  # noqa: BLE001 - an optional integration must never stop the app
            log.info("no D-Bus session lock notifications")
        if sys.platform == "win32":
            try:
                self._win_filter = _WindowsSessionLock(self.lock)
                app = QApplication.instance()
                if app is not None:
                    app.installNativeEventFilter(self._win_filter)
                import ctypes

                ctypes.windll.wtsapi32.WTSRegisterSessionNotification(int(self.window.winId()), 0)
            except Exception:  # noqa: BLE001
                log.info("no Windows session lock notifications")

    @Slot(bool)
    def on_screensaver_active(self, active: bool) -> None:
        if active:
            log.info("screen locked or going to sleep: locking")
            self.lock()

    @Slot()
    def on_session_lock(self) -> None:
        log.info("session locked by the OS: locking")
        self.lock()

    # --- lock ---------------------------------------------------------------------------------

    def _pages(self) -> dict[str, QWidget]:
        return dict(getattr(self.window, "pages", {}))

    def lock(self) -> None:
        if self.is_locked:
            return
        self.timer.stop()
        self._drafts = {}
        if self.ctx.workspace.is_open:
            for key, page in self._pages().items():
                saver = getattr(page, "save_drafts", None)
                if callable(saver):
                    try:
                        self._drafts[key] = saver()
                    except Exception as exc:  # noqa: BLE001 - locking must not be stopped
                        log.error("page %s could not save drafts: %s", key, type(exc).__name__)
        self.ctx.tasks.wait()
        self.ctx.workspace.close()
        self.is_locked = True
        self._hidden_windows = [
            w
            for w in QApplication.topLevelWidgets()
            if w is not self.window and w.isVisible() and not isinstance(w, QMainWindow)
        ]
        for w in self._hidden_windows:
            w.hide()
        self._content = self.window.takeCentralWidget()
        if self._content is not None:
            self._content.hide()
        who = f"Signed in: {self.ctx.actor.name} ({self.ctx.actor.role.label})"
        self.lock_screen = LockScreen(who, self.quick_unlock)
        self.lock_screen.unlock_requested.connect(self._unlock_with_passphrase)
        self.lock_screen.quick_unlock_requested.connect(self._quick_unlock)
        self.window.setCentralWidget(self.lock_screen)
        self.lock_screen.show()
        self.window.setWindowTitle("INT Desk (locked)")
        self.lock_screen.passphrase_edit.setFocus()
        log.info("workspace locked")
        self.ctx.events.locked.emit()
        self.locked_changed.emit(True)

    # --- unlock -------------------------------------------------------------------------------

    def _unlock_with_passphrase(self, passphrase: str) -> None:
        directory = self.directory
        self._start_unlock(lambda: Workspace.open(directory, passphrase, use_keyring=False))

    def _quick_unlock(self) -> None:
        directory = self.directory
        self._start_unlock(lambda: Workspace.open(directory, None, use_keyring=True))

    def _start_unlock(self, opener: Callable[[], Workspace]) -> None:
        if self._thread is not None or self.lock_screen is None:
            return
        self.lock_screen.set_busy(True)
        self._thread = _UnlockThread(opener, self)
        self._thread.unlocked.connect(self._on_unlocked)
        self._thread.failed.connect(self._on_failed)
        self._thread.start()

    def _finish_thread(self) -> None:
        if self._thread is not None:
            self._thread.wait()
            self._thread.deleteLater()
            self._thread = None

    def _on_failed(self, exc: BaseException) -> None:
        self._finish_thread()
        if self.lock_screen is not None:
            self.lock_screen.set_busy(False)
            self.lock_screen.show_error(describe(exc))

    def _on_unlocked(self, ws: Workspace) -> None:
        self._finish_thread()
        self.ctx.use_workspace(ws)
        screen = self.window.takeCentralWidget()
        if screen is not None:
            screen.deleteLater()
        self.lock_screen = None
        if self._content is not None:
            self.window.setCentralWidget(self._content)
            self._content.show()
            self._content = None
        for w in self._hidden_windows:
            w.show()
        self._hidden_windows = []
        self.window.setWindowTitle("INT Desk")
        self.is_locked = False
        pages = self._pages()
        for key, snapshot in self._drafts.items():
            restorer = getattr(pages.get(key), "restore_drafts", None)
            if callable(restorer):
                restorer(snapshot)
        self._drafts = {}
        self.timer.start()
        log.info("workspace unlocked")
        self.ctx.events.unlocked.emit()
        self.locked_changed.emit(False)
