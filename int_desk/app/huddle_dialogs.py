"""The huddle page's dialogs: plan a huddle (or change who attends), agree an action for the
person being discussed (task, home visit, escalation, referral), and add a person to the agenda.
"""

from __future__ import annotations

import uuid
from datetime import date
from datetime import time as dt_time
from typing import TYPE_CHECKING, Any, cast

from PySide6.QtCore import QDate, Qt, QTime, QTimer
from PySide6.QtWidgets import (
    QComboBox,
    QDateEdit,
    QDialog,
    QFormLayout,
    QLineEdit,
    QListWidget,
    QListWidgetItem,
    QTimeEdit,
    QVBoxLayout,
    QWidget,
)

from int_desk.app.dialog_parts import error_label, ok_cancel
from int_desk.app.messages import show_error
from int_desk.domain.nhs_number import format_nhs
from int_desk.domain.uk_time import london_today, london_wall
from int_desk.domain.vocab import HuddleKind, ReferralService
from int_desk.services import huddles as h

if TYPE_CHECKING:
    from int_desk.app.huddle_page import HuddlePage


def _today() -> QDate:
    """Today in London (the team's day), whatever this computer's zone."""
    t = london_today()
    return QDate(t.year, t.month, t.day)


class PlanDialog(QDialog):
    """Date, time, kind, chair and attendees (visiting members marked) for a new huddle."""

    def __init__(
        self,
        members: list[tuple[uuid.UUID, str, str, bool]],
        *,
        me: uuid.UUID,
        kind: str,
        parent: QWidget | None = None,
    ) -> None:
        super().__init__(parent)
        self.setWindowTitle("Plan a huddle")
        self.date_edit = QDateEdit(_today())
        self.date_edit.setCalendarPopup(True)
        self.date_edit.setDisplayFormat("ddd d MMM yyyy")
        self.date_edit.setAccessibleName("Huddle date")
        self.time_edit = QTimeEdit(QTime(9, 0))
        self.time_edit.setDisplayFormat("HH:mm")
        self.time_edit.setAccessibleName("Huddle start time")
        self.kind_combo = QComboBox()
        self.kind_combo.setAccessibleName("Huddle kind")
        for k in HuddleKind:
            self.kind_combo.addItem(k.value.capitalize(), k.value)
        self.kind_combo.setCurrentIndex(max(0, self.kind_combo.findData(kind)))
        self.chair_combo = QComboBox()
        self.chair_combo.setAccessibleName("Chair")
        self.attendees = QListWidget()
        self.attendees.setAccessibleName("Attendees")
        for mid, name, role, visiting in members:
            label = f"{name} – {role}" + (" (visiting)" if visiting else "")
            # Qt compares item data as strings reliably; UUID objects do not round-trip findData.
            self.chair_combo.addItem(label, str(mid))
            item = QListWidgetItem(label)
            item.setData(Qt.ItemDataRole.UserRole, str(mid))
            item.setFlags(item.flags() | Qt.ItemFlag.ItemIsUserCheckable)
            checked = not visiting or kind == HuddleKind.WEEKLY.value or mid == me
            item.setCheckState(Qt.CheckState.Checked if checked else Qt.CheckState.Unchecked)
            self.attendees.addItem(item)
        self.chair_combo.setCurrentIndex(max(0, self.chair_combo.findData(str(me))))
        self.error = error_label()
        form = QFormLayout()
        form.addRow("&Date", self.date_edit)
        form.addRow("&Time", self.time_edit)
        form.addRow("&Kind", self.kind_combo)
        form.addRow("C&hair", self.chair_combo)
        form.addRow("&Attendees", self.attendees)
        self.buttons = ok_cancel(self, self.accept, "Plan and build agenda")
        layout = QVBoxLayout(self)
        layout.addLayout(form)
        layout.addWidget(self.error)
        layout.addWidget(self.buttons)

    def values(self) -> dict[str, Any]:
        d = cast(date, self.date_edit.date().toPython())
        t = cast(dt_time, self.time_edit.time().toPython())
        attendees = [
            uuid.UUID(self.attendees.item(i).data(Qt.ItemDataRole.UserRole))
            for i in range(self.attendees.count())
            if self.attendees.item(i).checkState() == Qt.CheckState.Checked
        ]
        return {
            "scheduled_at": london_wall(d, t),
            "kind": self.kind_combo.currentData(),
            "chair_id": uuid.UUID(self.chair_combo.currentData()),
            "attendee_ids": attendees,
        }

    def show_error(self, text: str) -> None:
        self.error.setText(text)
        self.error.show()


# Each action's fields, in order: (widget, form label, what a screen reader says).
_FIELDS: dict[str, tuple[tuple[str, str, str], ...]] = {
    "task": (
        ("text", "&What", "Task description"),
        ("owner", "&Owner", "Task owner"),
        ("due", "&Due", "Task due date"),
    ),
    "home_visit": (
        ("owner", "&Who visits", "Who will visit"),
        ("due", "&When", "Visit date"),
        ("text", "&Purpose", "Purpose of the visit"),
    ),
    "escalation": (("text", "&Reason", "Reason for escalation"),),
    "referral": (
        ("service", "&Service", "Service referred to"),
        ("text", "&Reason", "Reason for referral"),
    ),
}


class ActionDialog(QDialog):
    """One agreed action for the current person: task, home visit, escalation or referral.

    Required fields are checked inline before the dialog closes; the service checks again.
    """

    TITLES = {
        "task": "New task",
        "home_visit": "Plan a home visit",
        "escalation": "Escalate to the INT clinical lead",
        "referral": "Refer",
    }

    def __init__(
        self,
        kind: str,
        members: list[tuple[uuid.UUID, str, str, bool]],
        *,
        patient: str,
        lead: uuid.UUID | None = None,
        parent: QWidget | None = None,
    ) -> None:
        super().__init__(parent)
        self.kind = kind
        self.setWindowTitle(f"{self.TITLES[kind]} – {patient}")
        form = QFormLayout()
        self.text = QLineEdit()
        self.owner = QComboBox()
        self.due = QDateEdit(_today().addDays(1 if kind == "home_visit" else 7))
        self.due.setCalendarPopup(True)
        self.due.setDisplayFormat("ddd d MMM yyyy")
        self.service = QComboBox()
        # Nobody is made responsible by default: "Choose…" until someone is chosen, or the
        # person's named lead professional, labelled as such.
        self.owner.addItem("Choose who…", None)
        for mid, name, role, visiting in members:
            label = f"{name} – {role}" + (" (visiting)" if visiting else "")
            if mid == lead:
                label += " (named lead professional)"
            self.owner.addItem(label, str(mid))
        if lead is not None and self.owner.findData(str(lead)) > 0:
            self.owner.setCurrentIndex(self.owner.findData(str(lead)))
        self.service.addItem("Choose a service…", None)
        for s in ReferralService:
            self.service.addItem(s.label, s.value)
        widgets = {"text": self.text, "owner": self.owner, "due": self.due, "service": self.service}
        for field, label, spoken in _FIELDS.get(kind, _FIELDS["referral"]):
            widgets[field].setAccessibleName(spoken)
            form.addRow(label, widgets[field])
        self.error = error_label()
        self.buttons = ok_cancel(self, self._check)
        layout = QVBoxLayout(self)
        layout.addLayout(form)
        layout.addWidget(self.error)
        layout.addWidget(self.buttons)

    def _check(self) -> None:
        if self.kind in ("task", "home_visit") and self.owner.currentData() is None:
            self.error.setText(f"Choose the {self.owner.accessibleName().lower()}: it is required.")
            self.error.show()
            self.owner.setFocus()
            return
        if self.kind == "referral" and self.service.currentData() is None:
            self.error.setText("Choose the service: it is required.")
            self.error.show()
            self.service.setFocus()
            return
        if self.kind != "home_visit" and not self.text.text().strip():
            self.error.setText(f"{self.text.accessibleName()} is required.")
            self.error.show()
            self.text.setFocus()
            return
        if self.kind in ("task", "home_visit") and self.due.date() < _today():
            self.error.setText("The date is in the past.")
            self.error.show()
            return
        self.accept()

    def values(self) -> dict[str, Any]:
        owner = self.owner.currentData()
        return {
            "text": self.text.text().strip(),
            "owner": uuid.UUID(owner) if owner else None,
            "due": self.due.date().toPython(),
            "service": self.service.currentData(),
        }


class AddPersonDialog(QDialog):
    """Find someone on the team's caseload by name or NHS number and say why they are added."""

    def __init__(self, page: HuddlePage) -> None:
        super().__init__(page)
        self.page = page
        self.setWindowTitle("Add a person to the agenda")
        self.search = QLineEdit()
        self.search.setPlaceholderText("Family name, given name or NHS number")
        self.search.setAccessibleName("Search the caseload")
        self.results = QListWidget()
        self.results.setAccessibleName("Matching people")
        self.reason = QLineEdit()
        self.reason.setAccessibleName("Reason for adding")
        self.reason.setPlaceholderText("Why discuss them today?")
        self.error = error_label()
        self.buttons = ok_cancel(self, self._check)
        form = QFormLayout()
        form.addRow("&Find", self.search)
        form.addRow("", self.results)
        form.addRow("&Reason", self.reason)
        layout = QVBoxLayout(self)
        layout.addLayout(form)
        layout.addWidget(self.error)
        layout.addWidget(self.buttons)
        self._timer = QTimer(self)
        self._timer.setSingleShot(True)
        self._timer.setInterval(250)
        self._timer.timeout.connect(self._run_search)
        self.search.textChanged.connect(lambda _t: self._timer.start())

    def _run_search(self) -> None:
        text, team, actor = self.search.text(), self.page.team_id, self.page.ctx.actor
        if team is None:  # never: the dialog opens on a huddle, which is a team's
            return
        self.page.ctx.query(
            lambda s: h.search_caseload(session=s, actor=actor, team_id=team, text=text),
            self._show,
            lambda exc: show_error(self, exc),
        )

    def _show(self, rows: list[tuple[uuid.UUID, str, str]]) -> None:
        self.results.clear()
        for pid, name, nhs in rows:
            item = QListWidgetItem(f"{name}  ·  NHS {format_nhs(nhs)}")
            item.setData(Qt.ItemDataRole.UserRole, pid)
            self.results.addItem(item)
        if rows:
            self.results.setCurrentRow(0)

    def _check(self) -> None:
        if self.results.currentItem() is None:
            self.error.setText("Choose a person from the list.")
        elif not self.reason.text().strip():
            self.error.setText("Say why they are added.")
        else:
            self.accept()
            return
        self.error.show()

    def patient_id(self) -> uuid.UUID | None:
        item = self.results.currentItem()
        return item.data(Qt.ItemDataRole.UserRole) if item else None


# --- the page --------------------------------------------------------------------------------
