"""Qt tests that cannot hang a serial run on a modal dialog nobody answers.

A modal dialog (``QDialog.exec``, a ``QMessageBox``, a file or input dialog, a context menu's
``exec``) runs its own event loop until someone answers it. Tests answer the ones they expect
from a timer; if the dialog never matches (a changed button text, an exception in the timer's
callback) or an unexpected one opens, nothing answers it and the run waits forever. The
watchdog closes any modal dialog or popup left open for ``limit_s`` seconds and fails the test,
naming what it closed.
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from dataclasses import dataclass, field

import pytest

MODAL_LIMIT_S = 60.0  # tests answer their dialogs in milliseconds; this is only a backstop


@dataclass
class ModalWatchdog:
    limit_s: float = MODAL_LIMIT_S
    closed: list[str] = field(default_factory=list)  # what it had to close, as "Class 'title'"
    _first_seen: dict[int, tuple[object, float]] = field(default_factory=dict)

    def check(self) -> None:
        from PySide6.QtWidgets import QApplication, QDialog, QMenu

        now = time.monotonic()
        for widget in (QApplication.activeModalWidget(), QApplication.activePopupWidget()):
            if widget is None:
                continue
            seen = self._first_seen.get(id(widget))
            if seen is None or seen[0] is not widget:
                self._first_seen[id(widget)] = (widget, now)
                continue
            if now - seen[1] < self.limit_s:
                continue
            title = widget.title() if isinstance(widget, QMenu) else widget.windowTitle()
            self.closed.append(f"{type(widget).__name__} {title!r}")
            del self._first_seen[id(widget)]
            if isinstance(widget, QDialog):
                widget.done(QDialog.DialogCode.Rejected)  # ends its exec() loop, whatever it is
            else:
                widget.close()


@pytest.fixture(autouse=True)
def modal_watchdog(request: pytest.FixtureRequest) -> Iterator[ModalWatchdog | None]:
    if not {"qtbot", "qapp"} & set(request.fixturenames):
        yield None
        return
    from PySide6.QtCore import QTimer

    request.getfixturevalue("qapp")
    dog = ModalWatchdog()
    timer = QTimer()
    timer.setInterval(250)
    timer.timeout.connect(dog.check)  # runs inside any modal loop: it is an event loop
    timer.start()
    yield dog
    timer.stop()
    if dog.closed:
        pytest.fail(
            f"modal dialog left open for {dog.limit_s:g} s, closed by the watchdog: "
            + ", ".join(dog.closed)
            + " (a test must answer every modal dialog it opens)",
            pytrace=False,
        )
