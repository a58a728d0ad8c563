"""App-wide events as named signals on one object; views subscribe, services stay Qt-free.

Data changes are not announced by the code that made them: the store publishes what each commit
wrote (int_desk/store/changes.py) and ``Events.watch`` relays it here as ``changed``, so an edit
by any service, sync, an import or another window refreshes every open view that shows it.
"""

from __future__ import annotations

from collections.abc import Callable

from PySide6.QtCore import QObject, QTimer, Signal, Slot

from int_desk.store.changes import ChangeFeed, Changes


class Events(QObject):
    """Signals:

    - ``changed(Changes)``: rows were committed (tables and people in ``Changes``); at most once
      per event-loop turn, several commits merged. Views refresh when it touches what they show.
    - ``patient_selected(object)``: the user opened a patient (arg: patient UUID)
    - ``locked()`` / ``unlocked()``: the workspace was locked or unlocked
    - ``sync_started()`` / ``sync_finished(object)``: a sync cycle began / ended (arg: result)
    """

    changed = Signal(object)
    patient_selected = Signal(object)
    locked = Signal()
    unlocked = Signal()
    sync_started = Signal()
    sync_finished = Signal(object)
    # A commit's Changes from whichever thread committed; queued onto this object's (the GUI)
    # thread by Qt when emitted from another.
    _arrived = Signal(object)

    def __init__(self, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self._pending: Changes | None = None
        self._unwatch: Callable[[], None] | None = None
        self._arrived.connect(self._collect)
        # One repaint per event-loop turn however many commits arrive in it (an import, a
        # huddle item's task + contact + item in quick succession).
        self._coalesce = QTimer(self, singleShot=True, interval=0)
        self._coalesce.timeout.connect(self._relay)

    def watch(self, feed: ChangeFeed) -> None:
        """Relay ``feed``'s commits as ``changed`` (a newly unlocked workspace replaces the old)."""
        if self._unwatch is not None:
            self._unwatch()
        self._unwatch = feed.subscribe(self._arrived.emit)

    @Slot(object)
    def _collect(self, changes: Changes) -> None:
        self._pending = changes if self._pending is None else self._pending | changes
        if not self._coalesce.isActive():
            self._coalesce.start()

    def _relay(self) -> None:
        changes, self._pending = self._pending, None
        if changes:
            self.changed.emit(changes)
