"""A background result that arrives after its window closed is dropped, not raised: a sync
that fails while its window is being deleted must not surface as an error in the next window."""

from __future__ import annotations

import threading

import shiboken6
from PySide6.QtCore import QObject, Signal

from int_desk.app.tasks import TaskRunner


class _Status(QObject):
    changed = Signal(str)


def _fail_after(release: threading.Event) -> None:
    release.wait(10)
    raise ConnectionError("endpoint went away")


def test_a_failure_reported_to_a_deleted_object_is_dropped(qtbot) -> None:
    runner = TaskRunner()
    status = _Status()
    release = threading.Event()
    runner.run_network(
        lambda: _fail_after(release), on_error=lambda exc: status.changed.emit(str(exc))
    )
    shiboken6.delete(status)  # the window (and its status bar) closed while the sync ran
    release.set()
    qtbot.waitUntil(runner.idle, timeout=10_000)  # pytest-qt fails the test on an exception here


def test_a_failure_reported_to_a_live_object_still_arrives(qtbot) -> None:
    runner = TaskRunner()
    status = _Status()
    seen: list[str] = []
    status.changed.connect(seen.append)
    release = threading.Event()
    runner.run_network(
        lambda: _fail_after(release), on_error=lambda exc: status.changed.emit(str(exc))
    )
    release.set()
    qtbot.waitUntil(lambda: seen == ["endpoint went away"], timeout=10_000)
