"""Python's cyclic garbage collection, kept on the GUI thread.

CPython collects cycles on whichever thread happens to cross its allocation threshold. In this
app that is often a store or network worker (a SQL statement compiling allocates a lot), and a
collection there destroys whatever Qt objects sit in unreachable cycles — widgets, dialogs, timers
that belong to the GUI thread — from the wrong thread. Qt does not allow that: it can crash, or
deadlock the worker (holding the GIL) against the GUI thread (holding a Qt lock). A CI run hung
that way for 90 minutes in the accessibility test. So while the app runs, automatic collection
is off and a GUI-thread timer collects with CPython's own thresholds (the pattern calibre, anki
and pyqtgraph use).
"""

from __future__ import annotations

import gc

from PySide6.QtCore import QObject, QTimer

INTERVAL_MS = 1_000

_collector: GuiThreadCollector | None = None


class GuiThreadCollector(QObject):
    """Collect on a GUI-thread timer, as often as automatic collection would have."""

    def __init__(self, parent: QObject) -> None:
        super().__init__(parent)
        self.timer = QTimer(self)
        self.timer.setInterval(INTERVAL_MS)
        self.timer.timeout.connect(self.collect_due)

    def collect_due(self) -> None:
        """The same choice the interpreter makes: the oldest generation whose count is over its
        threshold, once the youngest generation is over its own."""
        counts, thresholds = gc.get_count(), gc.get_threshold()
        if counts[0] <= thresholds[0]:
            return
        generation = 0
        if counts[1] > thresholds[1]:
            generation = 2 if counts[2] > thresholds[2] else 1
        gc.collect(generation)


def pin_to_gui_thread(app: QObject) -> GuiThreadCollector:
    """Turn automatic collection off and collect on ``app``'s thread instead (idempotent)."""
    global _collector
    if _collector is None:
        _collector = GuiThreadCollector(app)
    gc.disable()
    _collector.timer.start()
    return _collector


def unpin() -> None:
    """Collect everything on this (the GUI) thread, then give collection back to the interpreter
    (tests: between a Qt test and one without an event loop to run the timer). A full collection,
    so no Qt object is left in an older generation for a later test's worker thread to free."""
    if _collector is not None:
        _collector.timer.stop()
    gc.collect()
    gc.enable()
