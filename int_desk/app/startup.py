"""Start-up work done while the unlock dialog waits for the passphrase.

Typing a passphrase takes seconds; importing the main window's pages and what their first
minute needs (reportlab for huddle PDFs, the sync client, ...) takes a few hundred
milliseconds. ``WarmUp`` imports them one module per event-loop turn while the dialog is open,
so the dialog stays responsive and, once the key is unwrapped, only opening the store,
building the window and the first caseload query stand between the passphrase and the
caseload. Nothing here needs the key or touches patient data. If the passphrase comes first,
whatever is left is imported on demand, as before.
"""

from __future__ import annotations

import importlib
import logging
import time

from PySide6.QtCore import QObject, QTimer, Signal

from int_desk.app.pages import PAGES

log = logging.getLogger(__name__)

EXTRA_MODULES = (
    "int_desk.app.main_window",
    "int_desk.app.lock",
    "int_desk.app.settings_dialog",
    "int_desk.settings_schema",
    "int_desk.app.sync_status",
    "int_desk.services.first_run",
    "int_desk.sync.credentials",  # the sync status read on start
    "int_desk.sync.local",
    "int_desk.app.caseload_delegate",
)


def warm_modules() -> list[str]:
    """The modules the main window and its first minute import, pages first."""
    pages = [spec.partition(":")[0] for spec in PAGES]
    return list(dict.fromkeys([*EXTRA_MODULES[:1], *pages, *EXTRA_MODULES[1:]]))


class WarmUp(QObject):
    """Signals: ``finished()`` when every module is imported (``seconds`` says how long)."""

    finished = Signal()

    def __init__(self, parent: QObject | None = None, modules: list[str] | None = None) -> None:
        super().__init__(parent)
        self._todo = list(modules if modules is not None else warm_modules())
        self.done = False
        self.seconds = 0.0
        self.failed: list[str] = []

    def start(self) -> None:
        QTimer.singleShot(0, self._step)  # after the dialog has painted

    def _step(self) -> None:
        if not self._todo:
            self.done = True
            log.info("start-up modules imported in %.2f s", self.seconds)
            self.finished.emit()
            return
        name = self._todo.pop(0)
        started = time.perf_counter()
        try:
            importlib.import_module(name)
        except Exception as exc:  # never in the way of unlocking: imported on demand instead
            self.failed.append(name)
            log.warning("warm-up import of %s failed: %s", name, type(exc).__name__)
        self.seconds += time.perf_counter() - started
        QTimer.singleShot(0, self._step)
