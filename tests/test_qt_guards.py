"""A modal dialog that no test answers is closed and reported, not left to hang the run."""

from __future__ import annotations

import time

from PySide6.QtWidgets import QMenu, QMessageBox

from tests.helpers.qt_guards import ModalWatchdog


def test_an_unanswered_message_box_is_closed_and_named(
    qtbot, modal_watchdog: ModalWatchdog
) -> None:
    modal_watchdog.limit_s = 0.5
    box = QMessageBox(QMessageBox.Icon.Question, "Close the huddle?", "Nobody answers this.")
    box.addButton("Close huddle", QMessageBox.ButtonRole.AcceptRole)  # no Escape button
    started = time.monotonic()
    box.exec()  # without the watchdog this never returns
    assert time.monotonic() - started < 10
    assert modal_watchdog.closed == ["QMessageBox 'Close the huddle?'"]
    modal_watchdog.closed.clear()  # expected here; anywhere else it fails the test


def test_an_unanswered_menu_is_closed_and_named(qtbot, modal_watchdog: ModalWatchdog) -> None:
    modal_watchdog.limit_s = 0.5
    menu = QMenu()
    menu.setTitle("Columns")
    menu.addAction("NHS number")
    started = time.monotonic()
    menu.exec()
    assert time.monotonic() - started < 10
    assert modal_watchdog.closed == ["QMenu 'Columns'"]
    modal_watchdog.closed.clear()


def test_a_dialog_answered_in_time_is_left_alone(qtbot, modal_watchdog: ModalWatchdog) -> None:
    from PySide6.QtCore import QTimer

    box = QMessageBox(QMessageBox.Icon.Question, "Sign off?", "Answered at once.")
    ok = box.addButton("Sign off", QMessageBox.ButtonRole.AcceptRole)
    QTimer.singleShot(50, ok.click)
    box.exec()
    assert box.clickedButton() is ok
    assert modal_watchdog.closed == []
