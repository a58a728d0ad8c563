"""Sync in the app: on start, debounced after edits, periodically and on "Sync now", always on a
worker thread; the status bar says offline / syncing / failed / up to date, when it last
succeeded and how many changes are waiting.

    controller = install_sync(window, ctx)      # MainWindow does this
"""

from __future__ import annotations

import logging
import threading
from datetime import datetime
from typing import Any

from PySide6.QtCore import QEvent, QObject, QTimer, Signal
from PySide6.QtWidgets import QLabel, QMainWindow, QProgressBar, QToolButton

from int_desk.app.context import AppContext

log = logging.getLogger(__name__)

OFFLINE, SYNCING, FAILED, UP_TO_DATE, NOT_CONNECTED = (
    "offline",
    "syncing",
    "failed",
    "up to date",
    "not connected",
)


class SyncController(QObject):
    """Signals: ``state_changed(str state, str text)``, ``progress(str stage, int done, int total)``."""

    state_changed = Signal(str, str)
    progress = Signal(str, int, int)

    def __init__(
        self,
        ctx: AppContext,
        parent: QObject | None = None,
        *,
        debounce_ms: int = 5_000,
        period_ms: int = 5 * 60_000,
    ) -> None:
        super().__init__(parent)
        self.ctx = ctx
        self.state = NOT_CONNECTED
        self.pending = 0
        self.last_ok: str | None = None
        self.last_result: Any = None
        self.running = False
        self._again = False
        self._quiet = False
        self.cancel = threading.Event()
        self.debounce = QTimer(self, singleShot=True, interval=debounce_ms)
        self.debounce.timeout.connect(self.sync_now)
        self.periodic = QTimer(self, interval=period_ms)
        self.periodic.timeout.connect(self.sync_now)
        ctx.events.data_changed.connect(self._edited)
        ctx.events.patient_changed.connect(self._edited)
        ctx.events.locked.connect(self.stop)
        ctx.events.unlocked.connect(self.start)

    def eventFilter(self, watched: QObject, event: QEvent) -> bool:  # noqa: N802 - Qt override
        if event.type() == QEvent.Type.Close:
            self.stop()  # a running cycle stops at its next step; the window then waits for it
        return False

    # --- triggers -----------------------------------------------------------------------------

    def start(self) -> None:
        """Sync once now (if connected) and then periodically."""
        self.ctx.query(self._read_status, self._status_read, lambda _exc: None)
        self.periodic.start()

    def stop(self) -> None:
        self.cancel.set()
        self.debounce.stop()
        self.periodic.stop()

    def _edited(self, *_args: Any) -> None:
        if self._quiet:
            return
        self.ctx.query(_pending, self._pending_read, lambda _exc: None)
        if self.state != NOT_CONNECTED:
            self.debounce.start()

    def sync_now(self) -> None:
        if self.state == NOT_CONNECTED:
            return
        if self.running:
            self._again = True
            return
        self.running = True
        self.cancel.clear()
        self._set_state(SYNCING)
        self.ctx.events.sync_started.emit()
        self.ctx.tasks.run_network(self._work, self._done, self._failed)

    # --- work (worker thread) -----------------------------------------------------------------

    def _read_status(self, session: Any) -> tuple[bool, int, str | None]:
        from int_desk.sync import credentials, local

        connected = credentials.get_state(self.ctx.workspace, credentials.ENDPOINT) is not None
        return connected, local.pending_count(session), local.state(session, local.LAST_SYNC_AT)

    def _work(self) -> Any:
        from int_desk.sync import credentials
        from int_desk.sync.client import SyncEngine

        conn = credentials.load(self.ctx.workspace)
        if conn is None:
            return None
        engine = SyncEngine(
            self.ctx.workspace,
            conn.endpoint,
            conn.token,
            cancel=self.cancel,
            progress=lambda stage, done, total: self.progress.emit(stage, done, total),
        )
        return engine.run()

    # --- results (GUI thread) -----------------------------------------------------------------

    def _status_read(self, status: tuple[bool, int, str | None]) -> None:
        connected, self.pending, self.last_ok = status
        if connected:
            self._set_state(UP_TO_DATE if self.last_ok else OFFLINE)
            self.sync_now()
        else:
            self._set_state(NOT_CONNECTED)

    def _pending_read(self, count: int) -> None:
        self.pending = count
        self._set_state(self.state)

    def _done(self, result: Any) -> None:
        self.running = False
        self.last_result = result
        if result is None:
            self._set_state(NOT_CONNECTED)
        else:
            self.pending = result.pending
            if result.ok:
                self.last_ok = result.finished_at
                self._set_state(UP_TO_DATE)
            elif result.error_kind == "network":
                self._set_state(OFFLINE)
            elif result.error_kind != "interrupted":
                self._set_state(FAILED, result.error or "")
            self.ctx.events.sync_finished.emit(result)
            if result.pulled or result.purged or result.conflicts:
                self._quiet = True  # views refresh; that is not an edit to sync again
                try:
                    self.ctx.events.data_changed.emit("")
                finally:
                    self._quiet = False
        if self._again:
            self._again = False
            self.sync_now()

    def _failed(self, exc: BaseException) -> None:
        self.running = False
        log.warning("sync failed: %s", type(exc).__name__)
        self._set_state(FAILED, str(exc))
        self.ctx.events.sync_finished.emit(None)

    def _set_state(self, state: str, detail: str = "") -> None:
        self.state = state
        self.state_changed.emit(state, self.describe(detail))

    def describe(self, detail: str = "") -> str:
        if self.state == NOT_CONNECTED:
            return "Sync: not connected"
        parts = {
            SYNCING: "Syncing…",
            OFFLINE: "Offline",
            FAILED: "Sync failed",
            UP_TO_DATE: "Up to date",
        }[self.state]
        text = parts
        if self.last_ok:
            when = datetime.fromisoformat(self.last_ok).astimezone()
            text += f" · last sync {when:%H:%M}"
        text += f" · {self.pending} waiting"
        if self.state == FAILED and detail:
            text += f" ({detail[:120]})"
        return text


def _pending(session: Any) -> int:
    from int_desk.sync import local

    return local.pending_count(session)


def install_sync(window: QMainWindow, ctx: AppContext, **kwargs: Any) -> SyncController:
    """Add the sync status, progress and "Sync now" to the window's status bar; start syncing."""
    controller = SyncController(ctx, window, **kwargs)
    window.installEventFilter(controller)
    label = QLabel(controller.describe())
    label.setObjectName("syncStatusLabel")
    label.setAccessibleName("Sync status")
    bar = QProgressBar()
    bar.setObjectName("syncProgress")
    bar.setMaximumWidth(160)
    bar.setRange(0, 0)
    bar.hide()
    button = QToolButton()
    button.setObjectName("syncNowButton")
    button.setText("Sync now")
    button.setAccessibleName("Sync now")
    button.setToolTip("Send your changes and get your team's (F5)")
    button.setShortcut("F5")
    button.clicked.connect(controller.sync_now)
    status = window.statusBar()
    status.addPermanentWidget(bar)
    status.addPermanentWidget(label)
    status.addPermanentWidget(button)

    def on_state(state: str, text: str) -> None:
        label.setText(text)
        label.setToolTip(text)
        button.setEnabled(state not in (SYNCING, NOT_CONNECTED))
        button.setVisible(state != NOT_CONNECTED)
        bar.setVisible(state == SYNCING)

    def on_progress(stage: str, done: int, total: int) -> None:
        if total:
            bar.setRange(0, total)
            bar.setValue(done)
        else:
            bar.setRange(0, 0)
        bar.setFormat(f"{stage} {done:,}")

    controller.state_changed.connect(on_state)
    controller.progress.connect(on_progress)
    controller.label, controller.button, controller.bar = label, button, bar  # type: ignore[attr-defined]
    on_state(controller.state, controller.describe())
    controller.start()
    return controller
