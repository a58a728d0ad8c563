"""App-wide events as named signals on one object; views subscribe, services stay Qt-free."""

from __future__ import annotations

from PySide6.QtCore import QObject, Signal


class Events(QObject):
    """Signals:

    - ``patient_changed(object)``: a patient's record changed (arg: patient UUID)
    - ``data_changed(str)``: rows of an entity type changed (arg: table name, "" for many)
    - ``patient_selected(object)``: the user opened a patient (arg: patient UUID)
    - ``locked()`` / ``unlocked()``: the workspace was locked or unlocked
    - ``sync_started()`` / ``sync_finished(object)``: a sync cycle began / ended (arg: result)
    """

    patient_changed = Signal(object)
    data_changed = Signal(str)
    patient_selected = Signal(object)
    locked = Signal()
    unlocked = Signal()
    sync_started = Signal()
    sync_finished = Signal(object)
