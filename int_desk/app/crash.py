"""Last-resort crash handler: a scrubbed, copyable report instead of a raw traceback.

``install()`` sets ``sys.excepthook`` and ``threading.excepthook``. The report names the
exception type and the frames (file:line:function), the version and the OS - never the message
or locals (SQLAlchemy messages embed SQL parameters, i.e. patient data). It is logged, written
to ``crash-<time>.txt`` in the (user-only) log directory and shown in a dialog with Copy.
"""

from __future__ import annotations

import logging
import os
import sys
import threading
from datetime import UTC, datetime
from pathlib import Path
from types import TracebackType

from PySide6 import __version__ as pyside_version
from PySide6.QtCore import QThread
from PySide6.QtGui import QGuiApplication
from PySide6.QtWidgets import (
    QApplication,
    QDialog,
    QDialogButtonBox,
    QLabel,
    QPlainTextEdit,
    QVBoxLayout,
    QWidget,
)

from int_desk import paths

log = logging.getLogger("int_desk.crash")
_dialogs: list[QDialog] = []  # keep shown dialogs alive


class CrashDialog(QDialog):
    def __init__(self, report: str, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setWindowTitle("INT Desk - something went wrong")
        self.report = report
        intro = QLabel(
            "INT Desk hit an error it did not expect. Your saved work is safe. "
            "Copy this report to your IT support; it contains no patient details."
        )
        intro.setWordWrap(True)
        self.text = QPlainTextEdit(report)
        self.text.setReadOnly(True)
        self.text.setAccessibleName("Crash report")
        buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Close)
        self.copy_button = buttons.addButton("&Copy report", QDialogButtonBox.ButtonRole.ActionRole)
        self.copy_button.clicked.connect(self.copy)
        buttons.rejected.connect(self.reject)
        buttons.accepted.connect(self.accept)
        layout = QVBoxLayout(self)
        layout.addWidget(intro)
        layout.addWidget(self.text, 1)
        layout.addWidget(buttons)
        self.resize(640, 420)

    def copy(self) -> None:
        QGuiApplication.clipboard().setText(self.report)


def write_crash_file(report: str) -> Path | None:
    try:
        directory = paths.ensure_private_dir(paths.log_dir())
        stamp = datetime.now(UTC).strftime("%Y%m%dT%H%M%S%fZ")
        path = directory / f"crash-{stamp}.txt"
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(fd, "w", encoding="utf-8") as fh:
            fh.write(report)
        return path
    except OSError:
        return None


def handle(
    exc_type: type[BaseException],
    exc: BaseException | None,
    tb: TracebackType | None,
    *,
    thread: str = "main",
    show: bool = True,
) -> str:
    """Report one unhandled exception; returns the scrubbed report."""
    from int_desk.scrub import crash_report  # imported when needed: start-up is timed

    report = crash_report(exc_type, exc, tb, thread=thread, qt_version=pyside_version)
    log.critical("unhandled %s\n%s", exc_type.__name__, report)
    write_crash_file(report)
    sys.stderr.write(report)
    app = QApplication.instance()
    on_gui_thread = app is not None and QThread.currentThread() is app.thread()
    if show and on_gui_thread:
        dialog = CrashDialog(report)
        _dialogs.append(dialog)
        dialog.finished.connect(lambda _r: _dialogs.remove(dialog) if dialog in _dialogs else None)
        dialog.show()
    return report


def _excepthook(
    exc_type: type[BaseException], exc: BaseException, tb: TracebackType | None
) -> None:
    if issubclass(exc_type, KeyboardInterrupt):
        sys.__excepthook__(exc_type, exc, tb)
        return
    handle(exc_type, exc, tb)


def _thread_hook(args: threading.ExceptHookArgs) -> None:
    if args.exc_type is SystemExit:
        return
    name = args.thread.name if args.thread is not None else "?"
    handle(args.exc_type, args.exc_value, args.exc_traceback, thread=name, show=False)


def install() -> None:
    sys.excepthook = _excepthook
    threading.excepthook = _thread_hook
