"""Start-up work done while the unlock dialog waits for the passphrase.

Typing a passphrase takes seconds; importing the main window's pages and what their first
minute needs (reportlab for huddle PDFs, the sync client, for the demo workspace its local sync
endpoint) takes from a few hundred milliseconds to two seconds. ``WarmUp`` does it while the
dialog is open, so once the key is unwrapped only opening the store, building the window and
the first caseload query stand between the passphrase and the caseload:

* Qt-free modules (services, sync, server, reports and third-party packages: the layering rule
  keeps PySide6 out of them) are imported on a background thread, so the dialog stays
  responsive;
* the window's own modules (``int_desk.app``) are imported on the GUI thread, one per
  event-loop turn.

Nothing here needs the key or touches patient data. If the passphrase comes first, whatever is
left is imported on demand, as before (Python's import locks keep the two from colliding).
"""

from __future__ import annotations

import importlib
import logging
import threading
import time

from PySide6.QtCore import QObject, QTimer, Signal

from int_desk.app.pages import PAGES

log = logging.getLogger(__name__)

QT_FREE_MODULES = (
    "int_desk.services.huddle_export",  # reportlab: most of the huddle page's import time
    "int_desk.sync.credentials",  # the sync status read on start
    "int_desk.sync.local",
    "int_desk.services.first_run",
)
DEMO_ENDPOINT_MODULES = ("uvicorn", "int_desk.server.app")  # the demo's local sync endpoint
APP_MODULES = (
    "int_desk.app.main_window",
    "int_desk.app.lock",
    "int_desk.app.settings_dialog",
    "int_desk.settings_schema",
    "int_desk.app.sync_status",
    "int_desk.app.caseload_delegate",
)


def warm_modules() -> list[str]:
    """The GUI-side modules the main window and its first minute import, pages first."""
    pages = [spec.partition(":")[0] for spec in PAGES]
    return list(dict.fromkeys([*APP_MODULES[:1], *pages, *APP_MODULES[1:]]))


def _import(name: str, failed: list[str]) -> None:
    try:
        importlib.import_module(name)
    except Exception as exc:  # never in the way of unlocking: imported on demand instead
        failed.append(name)
        log.warning("warm-up import of %s failed: %s", name, type(exc).__name__)


class WarmUp(QObject):
    """Signals: ``finished()`` when every module is imported (``seconds``: how long it took)."""

    finished = Signal()
    _background_done = Signal()

    def __init__(
        self,
        parent: QObject | None = None,
        modules: list[str] | None = None,
        background: list[str] | None = None,
    ) -> None:
        super().__init__(parent)
        self._todo = list(modules if modules is not None else warm_modules())
        self._background = list(background if background is not None else QT_FREE_MODULES)
        self._thread: threading.Thread | None = None
        self._gui_done = False
        self._bg_done = not self._background
        self.done = False
        self.seconds = 0.0
        self.failed: list[str] = []
        self._started = 0.0
        self._background_done.connect(self._on_background_done)

    def start(self) -> None:
        self._started = time.perf_counter()
        if self._background:
            self._thread = threading.Thread(
                target=self._run_background, name="int-desk-warm-up", daemon=True
            )
            self._thread.start()
        QTimer.singleShot(0, self, self._step)  # after the dialog has painted

    def _run_background(self) -> None:
        for name in self._background:
            _import(name, self.failed)
        try:
            self._background_done.emit()  # queued to the GUI thread
        except RuntimeError:  # the dialog (and this) closed while importing: nobody waits
            log.info("start-up imports finished after their dialog closed")

    def _on_background_done(self) -> None:
        self._bg_done = True
        self._finish_if_done()

    def _step(self) -> None:
        if self._todo:
            _import(self._todo.pop(0), self.failed)
            QTimer.singleShot(0, self, self._step)
            return
        self._gui_done = True
        self._finish_if_done()

    def _finish_if_done(self) -> None:
        if self._gui_done and self._bg_done and not self.done:
            self.done = True
            self.seconds = time.perf_counter() - self._started
            log.info("start-up modules imported in %.2f s", self.seconds)
            self.finished.emit()
