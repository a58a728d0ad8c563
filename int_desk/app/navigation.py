"""Opening a person from any page: the one way every page does it (see MainWindow.open_patient)."""

from __future__ import annotations

import uuid

from PySide6.QtWidgets import QWidget


def open_in_caseload(widget: QWidget, patient_id: uuid.UUID | None) -> bool:
    """Show ``patient_id`` in the caseload, list and record in step; False when ``widget`` is
    not in a main window (a page shown on its own, e.g. in a test) or there is no person."""
    window = widget.window()
    opener = getattr(window, "open_patient", None)
    if patient_id is None or opener is None:
        return False
    opener(patient_id)
    return True
