"""A background result that arrives after its window closed is dropped, not raised: a sync
that fails while its window is being deleted must not surface as an error in the next window."""

from __future__ import annotations

import gc
import threading
import weakref

import shiboken6
from PySide6.QtCore import QCoreApplication, QEvent, QObject, Signal

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


class _Page(QObject):
    """Stands for a page that asked for work and shows its result."""

    def show(self, value: object) -> None:
        self.value = value

    def show_error(self, exc: BaseException) -> None:
        self.error = exc


def test_a_page_is_freed_once_its_work_has_reported(qtbot) -> None:
    """A result's relay and callbacks go once it was delivered: before, every task kept them
    for the rest of the session, and through its callbacks the page (and window) that asked,
    so no closed window was ever freed."""
    runner = TaskRunner()
    page = _Page()
    gone = weakref.ref(page)
    runner.run(lambda: 42, page.show)
    runner.run_network(lambda: 1 / 0, on_error=page.show_error)
    qtbot.waitUntil(runner.idle, timeout=10_000)
    assert page.value == 42 and isinstance(page.error, ZeroDivisionError)
    del page
    QCoreApplication.sendPostedEvents(None, QEvent.Type.DeferredDelete)
    gc.collect()
    assert gone() is None


def test_a_runner_dropped_as_soon_as_its_work_reported_goes_quietly(qtbot) -> None:
    """A window (or test) lets go of its runner the moment its last result arrived, 200 times
    over: the runner goes then, never from inside its relay's deletion (a relay whose slots held
    the runner freed it there, and Qt then deleted the half-deleted relay again: a crash)."""
    for _ in range(200):
        runner = TaskRunner()
        got: list[list[str]] = []
        runner.run(lambda: [str(n) for n in range(500)], got.append)
        qtbot.waitUntil(runner.idle, timeout=10_000)
        assert len(got[0]) == 500
        del runner
        QCoreApplication.sendPostedEvents(None, QEvent.Type.DeferredDelete)
