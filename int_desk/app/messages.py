"""One presenter for errors: typed IntDeskErrors become readable messages, bugs get logged."""

from __future__ import annotations

import logging

from PySide6.QtWidgets import QMessageBox, QWidget

from int_desk.domain.errors import IntDeskError

log = logging.getLogger(__name__)


def describe(exc: BaseException) -> str:
    if isinstance(exc, IntDeskError):
        return str(exc)
    return f"Something went wrong ({type(exc).__name__}). Your saved work is safe."


def show_error(parent: QWidget | None, exc: BaseException, title: str = "INT Desk") -> None:
    if not isinstance(exc, IntDeskError):
        log.error("unexpected error: %s", type(exc).__name__, exc_info=exc)
    box = QMessageBox(QMessageBox.Icon.Warning, title, describe(exc), parent=parent)
    box.setModal(False)
    box.show()


def confirm(parent: QWidget | None, title: str, text: str, ok: str = "Continue") -> bool:
    box = QMessageBox(QMessageBox.Icon.Question, title, text, parent=parent)
    ok_button = box.addButton(ok, QMessageBox.ButtonRole.AcceptRole)
    box.addButton(QMessageBox.StandardButton.Cancel)
    box.exec()
    return box.clickedButton() is ok_button
