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
from PySide6.QtWidgets import QLabel, QMainWindow, QProgressBar, QToolButton, QWidget

from int_desk.app.context import AppContext
from int_desk.domain.uk_time import in_london, london_today
from int_desk.store.changes import Changes

log = logging.getLogger(__name__)

OFFLINE, SYNCING, FAILED, UP_TO_DATE, NOT_CONNECTED = (
    "offline",
    "syncing",
    "failed",
    "up to date",
    "not connected",
)
RETRY_MINUTES = 5  # the periodic cycle unless Settings > Sync every says otherwise
CONNECT_SECONDS = 3.0  # how long a cycle waits for the server to accept the connection

# Failed, by SyncError kind: the words a person reads in the status bar (the client's own
# message, e.g. "HTTP 500", only goes in the tooltip, for the administrator).
FAILED_HEADLINES = {
    "server": "Sync failed: your team's server had a problem; INT Desk will try again",
    "auth": "Sync stopped: ask your administrator for a new invitation code",
    "expired": "Sign in again: this computer's sign-in to your team has expired",
    "protocol": "Sync stopped: INT Desk needs updating",
}
ADVICE = {
    NOT_CONNECTED: "Your records are only on this computer. To share them with your team, "
    "connect in Edit > Settings > Team endpoint with the address and invitation code your "
    "administrator gave you.",
    UP_TO_DATE: "Your changes have been sent and you have your team's latest changes. "
    "INT Desk syncs when it starts, a few seconds after you change something, every "
    "{minutes} minutes, and when you press Sync now (F5).",
    "pending": "Your changes are saved on this computer and INT Desk sends them to your team "
    "a few seconds after you stop editing. Press Sync now (F5) to send them at once.",
    SYNCING: "Sending your changes and receiving your team's. You can keep working.",
    OFFLINE: "INT Desk cannot reach your team's server (no network, or the server is down). "
    "Keep working: your changes are saved on this computer and sent automatically when the "
    "connection is back. Press Sync now (F5) to try again straight away.",
    "server": "Your team's server reported a problem. Your changes are kept on this computer and "
    "INT Desk tries again every {minutes} minutes. If this keeps happening, tell your "
    "administrator.",
    "auth": "Your team's server no longer accepts this computer's device token (it may have "
    "been withdrawn or expired). Your changes are kept on this computer. Ask your administrator "
    "for a new invitation code, then press Sign in again (or Edit > Settings > Team endpoint) "
    "and enter it: everything waiting is then sent.",
    "expired": "This computer has not synced for a long time, so its sign-in to your team's "
    "server has expired. Your changes are kept on this computer. Press Sign in again and enter "
    "a new invitation code from your administrator: everything waiting is then sent.",
    "protocol": "Your team's server needs a newer version of INT Desk. Your changes are kept on "
    "this computer; ask your IT service to update INT Desk.",
}


class SyncController(QObject):
    """Signals: ``state_changed(str state, str text)``, ``progress(str stage, int done, int total)``,
    ``conflicts_changed(int open_conflicts)``."""

    state_changed = Signal(str, str)
    progress = Signal(str, int, int)
    conflicts_changed = Signal(int)
    # The status bar's widgets, set by install_sync (tests find them here).
    label: QLabel
    button: QToolButton
    bar: QProgressBar
    conflicts_button: QToolButton
    mark: QLabel
    waiting_button: QToolButton
    sign_in_button: QToolButton

    def __init__(
        self,
        ctx: AppContext,
        parent: QObject | None = None,
        *,
        debounce_ms: int = 5_000,
        period_ms: int = RETRY_MINUTES * 60_000,
    ) -> None:
        super().__init__(parent)
        self.ctx = ctx
        self.tab_order: list[QWidget] = []  # the status bar's controls, left to right
        self.state = NOT_CONNECTED
        self.pending = 0
        self.last_ok: str | None = None
        self.detail = ""  # the client's own message for the last failure (tooltip only)
        self.error_kind = ""  # of the last failure: server, auth, protocol (see FAILED_HEADLINES)
        self.conflicts = 0
        self.last_result: Any = None
        self.running = False
        self._again = False
        self.cancel = threading.Event()
        self.debounce = QTimer(self, singleShot=True, interval=debounce_ms)
        self.debounce.timeout.connect(self.sync_now)
        self.periodic = QTimer(self, interval=period_ms)
        self.periodic.timeout.connect(self.sync_now)
        ctx.events.changed.connect(self._on_changes)
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

    def _on_changes(self, changes: Changes) -> None:
        """A commit: an edit made here is sent soon; rows written from the server are not
        edits to send back, though conflicts they brought are counted."""
        if changes.local_edit:
            self._edited()
        elif changes.touches("sync_conflict"):
            self.count_conflicts()

    def _edited(self) -> None:
        self.ctx.query(_pending, self._pending_read, lambda _exc: None)
        self.count_conflicts()  # resolving one is an edit too
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

    def count_conflicts(self) -> None:
        self.ctx.query(_open_conflicts, self._conflicts_read, lambda _exc: None)

    def _read_status(self, session: Any) -> tuple[bool, int, str | None]:
        from int_desk.services import sync_link

        connected = sync_link.linked_endpoint(self.ctx.workspace) is not None
        return connected, sync_link.pending_count(session), sync_link.last_sync_at(session)

    def _work(self) -> Any:
        from int_desk.services import sync_link

        return sync_link.run_sync(
            self.ctx.workspace,
            cancel=self.cancel,
            progress=lambda stage, done, total: self.progress.emit(stage, done, total),
            connect_timeout=CONNECT_SECONDS,
            quick_offline=True,  # "Offline" in seconds, not "Syncing…" for 18 s
        )

    # --- results (GUI thread) -----------------------------------------------------------------

    def _status_read(self, status: tuple[bool, int, str | None]) -> None:
        connected, self.pending, self.last_ok = status
        self.count_conflicts()
        if connected:
            self._set_state(UP_TO_DATE if self.last_ok else OFFLINE)
            self.sync_now()
        else:
            self._set_state(NOT_CONNECTED)

    def _conflicts_read(self, count: int) -> None:
        if count != self.conflicts:
            self.conflicts = count
            self.conflicts_changed.emit(count)

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
                self.error_kind = result.error_kind or "server"
                self._set_state(FAILED, result.error or "")
            self.ctx.events.sync_finished.emit(result)
            self.count_conflicts()
        if self._again:
            self._again = False
            self.sync_now()

    def _failed(self, exc: BaseException) -> None:
        self.running = False
        log.warning("sync failed: %s", type(exc).__name__)
        self.error_kind = "server"
        self._set_state(FAILED, str(exc))
        self.ctx.events.sync_finished.emit(None)

    def _set_state(self, state: str, detail: str = "") -> None:
        if detail or state != FAILED:  # a recount while failed keeps the failure's detail
            self.detail = detail
        self.state = state
        self.state_changed.emit(state, self.describe())

    def describe(self) -> str:
        """The status bar line: the state in words, when sync last worked, what is waiting."""
        if self.state == NOT_CONNECTED:
            return "Not syncing: this computer is not connected to your team"
        text = self._headline()
        text += f" · {last_synced(self.last_ok)}"
        text += f" · {waiting(self.pending)}"
        return text

    def _headline(self) -> str:
        if self.state == FAILED:
            return FAILED_HEADLINES.get(self.error_kind, FAILED_HEADLINES["server"])
        if self.state == UP_TO_DATE and self.pending:
            return "Sending shortly"  # not "up to date" while changes wait
        return {
            SYNCING: "Syncing…",
            OFFLINE: "Offline: your changes are kept here until you reconnect",
            UP_TO_DATE: "Up to date",
        }[self.state]

    def advice(self) -> str:
        """What the state means and what to do about it (tooltip and accessible description)."""
        minutes = max(1, round(self.periodic.interval() / 60_000))
        if self.state == UP_TO_DATE and self.pending:
            return ADVICE["pending"]
        if self.state != FAILED:
            return ADVICE[self.state].format(minutes=minutes)
        text = ADVICE.get(self.error_kind, ADVICE["server"]).format(minutes=minutes)
        if self.detail:
            text += f"\n\nDetails for your administrator: {self.detail[:300]}"
        return text


def last_synced(when_iso: str | None, now: datetime | None = None) -> str:
    """'Last synced 14:05' today, 'Last synced yesterday 14:05', else with the date (London
    time, whatever this computer's zone)."""
    if not when_iso:
        return "Not synced yet"
    when = in_london(datetime.fromisoformat(when_iso))
    today = london_today(now)
    if when.date() == today:
        return f"Last synced {when:%H:%M}"
    if (today - when.date()).days == 1:
        return f"Last synced yesterday {when:%H:%M}"
    return f"Last synced {when.day} {when:%b %H:%M}"


def waiting(pending: int) -> str:
    if pending == 0:
        return "Nothing waiting to send"
    return f"{pending:,} change{'s' if pending != 1 else ''} waiting to send"


def conflicts_text(count: int) -> str:
    return f"{count} conflict{'s' if count != 1 else ''} to resolve"


def _pending(session: Any) -> int:
    from int_desk.services import sync_link

    return sync_link.pending_count(session)


def _open_conflicts(session: Any) -> int:
    from int_desk.services.sync_conflicts import open_count

    return open_count(session=session)


# state -> (mark shown before the status text, what the mark means, the label's style state)
STATE_LOOK = {
    UP_TO_DATE: ("✓", "Online", "ok"),
    SYNCING: ("⟳", "Syncing", "ok"),
    OFFLINE: ("⚠ OFFLINE", "Offline", "offline"),
    FAILED: ("⚠", "Sync failed", "failed"),
    NOT_CONNECTED: ("", "Not connected to a team", "ok"),
}


def show_waiting(parent: QWidget, ctx: AppContext) -> None:
    """The "waiting to send" list (what, whose record, when), from the status bar."""
    from int_desk.app.waiting_dialog import WaitingDialog

    dialog = WaitingDialog(ctx, parent)
    parent.waiting_dialog = dialog  # type: ignore[attr-defined]
    dialog.open()


def install_sync(window: QMainWindow, ctx: AppContext, **kwargs: Any) -> SyncController:
    """Add the sync status, progress, conflicts and "Sync now" to the window's status bar; start
    syncing. The window may offer ``show_page(key)`` (the conflicts button opens the inbox) and
    ``set_page_badge(key, text)`` (the navigation shows how many conflicts are open)."""
    from int_desk.services.first_run import STAGES

    if "period_ms" not in kwargs:  # Settings > Sync every (applied again when saved)
        from int_desk.settings_schema import Preferences

        kwargs["period_ms"] = Preferences(ctx.settings).sync_interval_minutes() * 60_000
    controller = SyncController(ctx, window, **kwargs)
    window.installEventFilter(controller)
    label = QLabel(controller.describe())
    label.setObjectName("syncStatusLabel")
    label.setAccessibleName("Sync status")
    bar = QProgressBar()
    bar.setObjectName("syncProgress")
    bar.setAccessibleName("Sync progress")
    bar.setMaximumWidth(160)
    bar.setRange(0, 0)
    bar.hide()
    conflicts = QToolButton()
    conflicts.setObjectName("syncConflictsButton")
    conflicts.setToolTip(
        "The same detail was changed here and by someone else. Nothing has been overwritten: "
        "open the Conflicts page and choose which value to keep."
    )
    conflicts.hide()
    mark = QLabel()  # offline looks different from online in shape and words, not colour only
    mark.setObjectName("syncStateMark")
    mark.setAccessibleName("Sync state")
    waiting_button = QToolButton()
    waiting_button.setObjectName("syncWaitingButton")
    waiting_button.setText("Show waiting…")
    waiting_button.setAccessibleName("Show the changes waiting to send")
    waiting_button.setToolTip("What is waiting to send: what, whose record and when")
    waiting_button.hide()
    waiting_button.clicked.connect(lambda: show_waiting(window, ctx))
    sign_in = QToolButton()
    sign_in.setObjectName("syncSignInButton")
    sign_in.setText("Sign in again…")
    sign_in.setAccessibleName("Sign in again")
    sign_in.setToolTip(
        "Enter a new invitation code from your administrator; nothing waiting is lost"
    )
    sign_in.hide()

    def sign_in_again() -> None:
        from int_desk.app.endpoint_link import ask_token_and_connect, current_endpoint

        url = current_endpoint(ctx)
        if url:
            window.sign_in_prompt = ask_token_and_connect(  # type: ignore[attr-defined]
                window, ctx, url, lambda _r=None: controller.sync_now()
            )

    sign_in.clicked.connect(sign_in_again)
    button = QToolButton()
    button.setObjectName("syncNowButton")
    button.setText("Sync now")
    button.setAccessibleName("Sync now")
    button.setToolTip("Send your changes and get your team's (F5)")
    button.setShortcut("F5")
    button.clicked.connect(controller.sync_now)
    status = window.statusBar()
    status.addPermanentWidget(bar)
    status.addPermanentWidget(mark)
    status.addPermanentWidget(label)
    status.addPermanentWidget(waiting_button)
    status.addPermanentWidget(conflicts)
    status.addPermanentWidget(sign_in)
    status.addPermanentWidget(button)
    # Tab as laid out, left to right; the main window keeps these after each page it builds.
    controller.tab_order = [waiting_button, conflicts, sign_in, button]
    for first, second in zip(controller.tab_order, controller.tab_order[1:], strict=False):
        QWidget.setTabOrder(first, second)

    def on_state(state: str, text: str) -> None:
        label.setText(text)
        look = STATE_LOOK.get(state, STATE_LOOK[NOT_CONNECTED])
        mark.setText(look[0])
        mark.setAccessibleDescription(look[1])
        if label.property("syncState") != look[2]:
            label.setProperty("syncState", look[2])  # style.qss: a frame and bold when not OK
            label.style().unpolish(label)
            label.style().polish(label)
        waiting_button.setVisible(controller.pending > 0)
        sign_in.setVisible(state == FAILED and controller.error_kind in ("auth", "expired"))
        advice = controller.advice()
        label.setToolTip(advice)
        label.setAccessibleDescription(advice)
        button.setEnabled(state not in (SYNCING, NOT_CONNECTED))
        button.setVisible(state != NOT_CONNECTED)
        bar.setVisible(state == SYNCING)
        if state != SYNCING:
            bar.setRange(0, 0)
            bar.setTextVisible(False)

    def on_progress(stage: str, done: int, total: int) -> None:
        words = STAGES.get(stage, "Syncing")
        if total:
            bar.setRange(0, total)
            bar.setValue(done)
            bar.setFormat(f"{done:,} of {total:,}")
            bar.setTextVisible(True)
        else:
            bar.setRange(0, 0)
            bar.setTextVisible(False)
        bar.setToolTip(f"{words}: {done:,} of {total:,}" if total else f"{words}…")
        bar.setAccessibleDescription(bar.toolTip())

    def on_conflicts(count: int) -> None:
        text = conflicts_text(count)
        conflicts.setText(text)
        conflicts.setAccessibleName(text)
        conflicts.setVisible(count > 0)
        set_badge = getattr(window, "set_page_badge", None)
        if set_badge is not None:
            set_badge("ConflictsPage", str(count) if count else "")

    def open_conflicts() -> None:
        show_page = getattr(window, "show_page", None)
        if show_page is not None:
            show_page("ConflictsPage")

    conflicts.clicked.connect(open_conflicts)
    controller.state_changed.connect(on_state)
    controller.progress.connect(on_progress)
    controller.conflicts_changed.connect(on_conflicts)
    controller.label, controller.button, controller.bar = label, button, bar
    controller.conflicts_button = conflicts
    controller.mark, controller.waiting_button = mark, waiting_button
    controller.sign_in_button = sign_in
    on_state(controller.state, controller.describe())
    controller.start()
    return controller
