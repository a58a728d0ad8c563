"""Parts every form dialog has: the hidden error line under the fields and the OK/Cancel row."""

from __future__ import annotations

from collections.abc import Callable

from PySide6.QtWidgets import QDialog, QDialogButtonBox, QLabel


def error_label() -> QLabel:
    """A hidden line for the dialog's error, styled by the stylesheet's #errorText."""
    label = QLabel()
    label.setObjectName("errorText")
    label.setWordWrap(True)
    label.setAccessibleName("Error")
    label.hide()
    return label


def ok_cancel(dialog: QDialog, on_ok: Callable[[], None], ok_text: str = "") -> QDialogButtonBox:
    """OK and Cancel: OK calls ``on_ok`` (which checks, then accepts), Cancel rejects."""
    buttons = QDialogButtonBox(
        QDialogButtonBox.StandardButton.Ok | QDialogButtonBox.StandardButton.Cancel
    )
    if ok_text:
        buttons.button(QDialogButtonBox.StandardButton.Ok).setText(ok_text)
    buttons.accepted.connect(on_ok)
    buttons.rejected.connect(dialog.reject)
    return buttons
