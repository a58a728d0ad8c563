"""Garbage is collected on the GUI thread only: a collection on a store worker destroyed GUI
objects off their thread and hung a CI run for 90 minutes (int_desk/app/gc_pin.py)."""

from __future__ import annotations

import gc
import threading
from typing import Any

from PySide6.QtCore import QObject
from pytestqt.qtbot import QtBot

from int_desk.app import gc_pin
from int_desk.app.main import create_app
from int_desk.app.tasks import TaskRunner


class _Window:
    """Stands for a closed dialog caught in a reference cycle: it holds a GUI-thread QObject and
    notes which thread finally destroys it."""

    def __init__(self, destroyed_on: list[str]) -> None:
        self.qobject = QObject()
        self.destroyed_on = destroyed_on
        self.me = self  # the cycle: only the collector can free it

    def __del__(self) -> None:
        self.destroyed_on.append(threading.current_thread().name)


def _allocate_like_a_query() -> list[Any]:
    # Compiling and running SQL allocates thousands of containers: far past the collector's
    # first threshold (700), so an unpinned interpreter collects here, on the worker.
    return [{"n": n} for n in range(50_000)]


def test_a_store_worker_never_collects_the_gui_threads_objects(qtbot: QtBot) -> None:
    destroyed_on: list[str] = []
    tasks = TaskRunner()
    _Window(destroyed_on)  # garbage from now on
    results: list[Any] = []  # kept, so collection is still due when the worker has finished
    tasks.run(_allocate_like_a_query, on_done=results.append)
    assert tasks.wait(10_000)  # the GUI thread allocates nothing meanwhile
    assert destroyed_on == [], "the worker thread collected the GUI's garbage"
    qtbot.waitUntil(lambda: bool(destroyed_on), timeout=5 * gc_pin.INTERVAL_MS)
    assert destroyed_on == [threading.main_thread().name]


def test_the_app_turns_automatic_collection_off_and_collects_on_a_timer() -> None:
    assert gc.isenabled()  # a test without Qt runs with the interpreter's own collection
    try:
        app = create_app()
        assert not gc.isenabled()
        collector = app.findChild(gc_pin.GuiThreadCollector)
        assert collector is not None and collector.timer.isActive()
    finally:
        gc_pin.unpin()
    assert gc.isenabled()
