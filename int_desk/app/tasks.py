"""Run blocking work off the GUI thread and deliver results back on it.

    ctx.tasks.run(op, on_done=..., on_error=...)

``op`` runs on a single store worker (SQLite writes are serialised anyway) and must never
touch widgets. ``on_done(result)`` / ``on_error(exc)`` run on the GUI thread. Network-only work
uses ``run_network`` (its own pool) so a slow server never blocks the store.

Thread rule: a job's relay lives on the GUI thread as a child of its runner, so a worker dropping
its last reference never deletes it there. It is deleted with ``deleteLater`` once its one result
was delivered, after letting go of its callbacks and its runner. Before, every relay stayed alive
for the rest of the session (its connections held closures that held it), keeping its callbacks
and through them the page and window that asked. A relay must not hold its runner when it is
deleted: a runner freed by that deletion would delete the half-deleted relay again (a crash).
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import Any

from PySide6.QtCore import QObject, QRunnable, QThreadPool, Signal, Slot

log = logging.getLogger(__name__)


class _Relay(QObject):
    """Carries one job's outcome from its worker to the GUI thread and hands it on there."""

    done = Signal(object)
    failed = Signal(object)

    def __init__(
        self,
        runner: TaskRunner,
        on_done: Callable[[Any], None] | None,
        on_error: Callable[[BaseException], None] | None,
    ) -> None:
        super().__init__(runner)  # owned by the runner: never deleted by a worker
        self.runner: TaskRunner | None = runner
        self.on_done = on_done
        self.on_error = on_error
        self.done.connect(self._on_done)  # queued: the relay lives on the GUI thread
        self.failed.connect(self._on_failed)

    def _take(self) -> tuple[Any, Any]:
        """Let go of everything before the callback runs; delete the relay afterwards."""
        callbacks = (self.on_done, self.on_error)
        self.on_done = self.on_error = None
        if self.runner is not None:
            self.runner._live.discard(self)
        self.runner = None
        self.deleteLater()
        return callbacks

    @Slot(object)
    def _on_done(self, result: Any) -> None:
        on_done, _ = self._take()
        if on_done:
            _deliver(on_done, result)

    @Slot(object)
    def _on_failed(self, exc: BaseException) -> None:
        _, on_error = self._take()
        if on_error:
            _deliver(on_error, exc)
        else:
            log.error("background task failed: %s", type(exc).__name__)


class _Job(QRunnable):
    def __init__(self, op: Callable[[], Any], relay: _Relay) -> None:
        super().__init__()
        self.op = op
        self.relay = relay
        self.setAutoDelete(True)

    def run(self) -> None:
        try:
            result = self.op()
        except BaseException as exc:  # delivered to on_error on the GUI thread
            self._report(self.relay.failed, exc)
        else:
            self._report(self.relay.done, result)

    @staticmethod
    def _report(signal: Any, value: Any) -> None:
        try:
            signal.emit(value)
        except RuntimeError as exc:  # its runner (and so the relay) was deleted while it ran
            if "has been deleted" not in str(exc) and "already deleted" not in str(exc):
                raise
            log.info("a background result arrived after its runner was deleted")


def _deliver(callback: Callable[[Any], None], value: Any) -> None:
    """Hand a result to its page; a page whose window closed (its widgets deleted) while the
    work ran has nothing left to show it on, which is not an error."""
    try:
        callback(value)
    except RuntimeError as exc:
        # PySide6 words it "... already deleted" for a method call on a deleted widget and
        # "Signal source has been deleted" for a signal emitted by a deleted object.
        if "already deleted" not in str(exc) and "has been deleted" not in str(exc):
            raise
        log.info("a background result arrived after its window closed")


class TaskRunner(QObject):
    def __init__(self, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self.store_pool = QThreadPool(self)
        self.store_pool.setMaxThreadCount(1)
        self.network_pool = QThreadPool(self)
        self.network_pool.setMaxThreadCount(2)
        self._live: set[_Relay] = set()  # relays whose job has not reported yet

    def run(
        self,
        op: Callable[[], Any],
        on_done: Callable[[Any], None] | None = None,
        on_error: Callable[[BaseException], None] | None = None,
    ) -> None:
        self._start(self.store_pool, op, on_done, on_error)

    def run_network(
        self,
        op: Callable[[], Any],
        on_done: Callable[[Any], None] | None = None,
        on_error: Callable[[BaseException], None] | None = None,
    ) -> None:
        self._start(self.network_pool, op, on_done, on_error)

    def _start(self, pool: QThreadPool, op: Callable[[], Any], on_done: Any, on_error: Any) -> None:
        relay = _Relay(self, on_done, on_error)
        self._live.add(relay)
        pool.start(_Job(op, relay))

    def idle(self) -> bool:
        """Nothing running or waiting to report its result (tests wait for this, not a time)."""
        return not self._live

    def wait(self, msecs: int = 30_000) -> bool:
        """Block until all work has finished (shutdown and tests)."""
        return self.store_pool.waitForDone(msecs) and self.network_pool.waitForDone(msecs)
