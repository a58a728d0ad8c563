"""Huddle page: plan a huddle, shape its agenda, run it one person at a time, close with minutes.

Three views on one page, chosen by the huddle's status:

- **Agenda** (planned): the people the team's rules chose, each with the reasons. Reorder by
  dragging or Alt+Up/Alt+Down, add a person (Insert), remove one (Delete, with confirmation and
  Ctrl+Z to undo), export the agenda PDF (Ctrl+P), start the huddle (Ctrl+Shift+S; F5 is Sync now).
- **Run** (in progress), keyboard-driven: the person's summary, plan and recent timeline beside
  the item; outcome and decisions; Ctrl+T task, Ctrl+H home visit, Ctrl+E escalation, Ctrl+R
  referral; Ctrl+Enter discussed, Ctrl+D defer; Alt+Right / Alt+Left next and previous;
  elapsed time per item and for the huddle; Ctrl+Shift+C closes the huddle.
- **Minutes** (closed): the minutes generated from what was recorded; Ctrl+P exports the PDF.

Everything goes through ``services.huddles`` on the store worker; the page only uses the local
store, so a huddle is prepared, run and closed with no network.

Signals: ``loaded()`` after a huddle view is (re)shown; ``action_done(str)`` after a service call
succeeds (arg: what was done).
"""

from __future__ import annotations

import html
import time
import uuid
from datetime import date, datetime
from pathlib import Path
from typing import Any

from PySide6.QtCore import QDate, Qt, QTime, QTimer, Signal
from PySide6.QtGui import QKeySequence, QShortcut
from PySide6.QtWidgets import (
    QAbstractItemView,
    QComboBox,
    QDateEdit,
    QDialog,
    QDialogButtonBox,
    QFileDialog,
    QFormLayout,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QListWidget,
    QListWidgetItem,
    QPlainTextEdit,
    QPushButton,
    QSplitter,
    QStackedWidget,
    QTextBrowser,
    QTimeEdit,
    QVBoxLayout,
    QWidget,
)

from int_desk.app.context import AppContext
from int_desk.app.messages import confirm, describe, show_error
from int_desk.app.navigation import open_in_caseload
from int_desk.domain.errors import IntDeskError, ValidationError
from int_desk.domain.nhs_number import format_nhs
from int_desk.domain.permissions import ACTION_LABELS, Permission, allowed
from int_desk.domain.uk_time import in_london, london_today, london_wall
from int_desk.domain.vocab import HuddleItemStatus, HuddleKind, HuddleStatus, ReferralService
from int_desk.services import huddle_export
from int_desk.services import huddles as h
from int_desk.services import patient_record as pr
from int_desk.store.changes import Changes

AGENDA, RUN, MINUTES, EMPTY = range(4)
HUDDLE_TABLES = ("huddle", "huddle_item", "huddle_attendee")
WITHHELD_HINT = (
    "Outcomes and decisions are clinical content: recorded by a clinician, not shown for your role."
)
_STATUS_MARK = {
    HuddleItemStatus.PENDING.value: "○",
    HuddleItemStatus.DISCUSSED.value: "✓",
    HuddleItemStatus.DEFERRED.value: "↷",
}


def _mmss(seconds: float) -> str:
    m, s = divmod(max(0, int(seconds)), 60)
    return f"{m:02d}:{s:02d}"


def _born(dob: date | None) -> str:
    return f"born {dob:%d %b %Y} · " if dob else ""


def _button(text: str, name: str, tip: str = "") -> QPushButton:
    b = QPushButton(text)
    b.setAccessibleName(name)
    if tip:
        b.setToolTip(tip)
    return b


# --- dialogs ---------------------------------------------------------------------------------


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
        self.error = QLabel()
        self.error.setObjectName("errorText")
        self.error.setWordWrap(True)
        self.error.hide()
        form = QFormLayout()
        form.addRow("&Date", self.date_edit)
        form.addRow("&Time", self.time_edit)
        form.addRow("&Kind", self.kind_combo)
        form.addRow("C&hair", self.chair_combo)
        form.addRow("&Attendees", self.attendees)
        self.buttons = QDialogButtonBox(
            QDialogButtonBox.StandardButton.Ok | QDialogButtonBox.StandardButton.Cancel
        )
        self.buttons.button(QDialogButtonBox.StandardButton.Ok).setText("Plan and build agenda")
        self.buttons.accepted.connect(self.accept)
        self.buttons.rejected.connect(self.reject)
        layout = QVBoxLayout(self)
        layout.addLayout(form)
        layout.addWidget(self.error)
        layout.addWidget(self.buttons)

    def values(self) -> dict[str, Any]:
        d = self.date_edit.date().toPython()
        t = self.time_edit.time().toPython()
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
        if kind == "task":
            self.text.setAccessibleName("Task description")
            self.owner.setAccessibleName("Task owner")
            self.due.setAccessibleName("Task due date")
            form.addRow("&What", self.text)
            form.addRow("&Owner", self.owner)
            form.addRow("&Due", self.due)
        elif kind == "home_visit":
            self.text.setAccessibleName("Purpose of the visit")
            self.owner.setAccessibleName("Who will visit")
            self.due.setAccessibleName("Visit date")
            form.addRow("&Who visits", self.owner)
            form.addRow("&When", self.due)
            form.addRow("&Purpose", self.text)
        elif kind == "escalation":
            self.text.setAccessibleName("Reason for escalation")
            form.addRow("&Reason", self.text)
        else:
            self.text.setAccessibleName("Reason for referral")
            self.service.setAccessibleName("Service referred to")
            form.addRow("&Service", self.service)
            form.addRow("&Reason", self.text)
        self.error = QLabel()
        self.error.setObjectName("errorText")
        self.error.hide()
        self.buttons = QDialogButtonBox(
            QDialogButtonBox.StandardButton.Ok | QDialogButtonBox.StandardButton.Cancel
        )
        self.buttons.accepted.connect(self._check)
        self.buttons.rejected.connect(self.reject)
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
        self.error = QLabel()
        self.error.setObjectName("errorText")
        self.error.hide()
        self.buttons = QDialogButtonBox(
            QDialogButtonBox.StandardButton.Ok | QDialogButtonBox.StandardButton.Cancel
        )
        self.buttons.accepted.connect(self._check)
        self.buttons.rejected.connect(self.reject)
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


class HuddlePage(QWidget):
    title = "Huddle"
    shortcut = "Ctrl+3"
    loaded = Signal()
    action_done = Signal(str)

    def __init__(self, ctx: AppContext, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.ctx = ctx
        self.setAccessibleName("Huddle")
        self.team_id: uuid.UUID | None = None
        self.view: h.HuddleView | None = None
        self.members: list[tuple[uuid.UUID, str, str, bool]] = []
        self.current = 0
        self.busy = False
        self.last_removed: uuid.UUID | None = None
        self.dialog: QDialog | None = None
        self._item_base: dict[uuid.UUID, int] = {}
        self._item_since: float | None = None
        self._loaded_item: uuid.UUID | None = None
        self.current_record: pr.PatientRecord | None = None  # the person being discussed

        self.heading = QLabel("Huddle")
        self.heading.setObjectName("pageTitle")
        self.team_combo = QComboBox()
        self.team_combo.setAccessibleName("Team")
        self.team_combo.setSizeAdjustPolicy(QComboBox.SizeAdjustPolicy.AdjustToContents)
        self.huddle_combo = QComboBox()
        self.huddle_combo.setAccessibleName("Open a huddle")
        self.huddle_combo.setMinimumContentsLength(34)
        self.plan_button = _button("Plan huddle…", "Plan a new huddle", "Plan a huddle (Ctrl+N)")
        self.status = QLabel()
        self.status.setAccessibleName("Huddle status")
        self.status.setWordWrap(True)
        self.error = QLabel()
        self.error.setObjectName("errorText")
        self.error.setWordWrap(True)
        self.error.hide()
        top = QHBoxLayout()
        top.addWidget(QLabel("Team"))
        top.addWidget(self.team_combo)
        top.addWidget(QLabel("Huddle"))
        top.addWidget(self.huddle_combo, 1)
        top.addWidget(self.plan_button)

        self.stack = QStackedWidget()
        self.stack.addWidget(self._build_agenda())
        self.stack.addWidget(self._build_run())
        self.stack.addWidget(self._build_minutes())
        empty = QLabel("No huddle yet for this team. Plan one (Ctrl+N) to build its agenda.")
        empty.setAlignment(Qt.AlignmentFlag.AlignCenter)
        empty.setWordWrap(True)
        self.empty_label = empty
        self.stack.addWidget(empty)
        self.stack.setCurrentIndex(EMPTY)

        layout = QVBoxLayout(self)
        layout.addWidget(self.heading)
        layout.addLayout(top)
        layout.addWidget(self.status)
        layout.addWidget(self.error)
        layout.addWidget(self.stack, 1)

        self.plan_button.clicked.connect(self.plan_dialog)
        self.team_combo.currentIndexChanged.connect(self._team_changed)
        self.huddle_combo.activated.connect(self._huddle_chosen)
        self._shortcut(self, "Ctrl+N", self.plan_dialog)
        self.timer = QTimer(self)
        self.timer.setInterval(1000)
        self.timer.timeout.connect(self._tick)
        ctx.events.unlocked.connect(self.reload)
        ctx.events.changed.connect(self._on_changes)
        if self._explain_role():
            return  # a role that does not take part in huddles: nothing to load or refuse
        self._load_teams()

    def _explain_role(self) -> bool:
        """For a role without the huddle (a VCSE worker sees only the people referred to
        them), say so in place of the page, with its controls disabled: not a red error
        beside an enabled Plan huddle…. True when the page is explained away."""
        actor = self.ctx.actor
        if allowed(actor, Permission.VIEW_CASELOAD):
            if not allowed(actor, Permission.RUN_HUDDLE):
                self.plan_button.setEnabled(False)
                self.plan_button.setToolTip(
                    f"Not available to a {actor.role.label}: planning a huddle needs "
                    f"permission to {ACTION_LABELS[Permission.RUN_HUDDLE]}."
                )
            return False
        for w in (self.team_combo, self.huddle_combo, self.plan_button):
            w.setEnabled(False)
        self.empty_label.setText(
            f"Huddles are run by your team for its whole caseload. As a {actor.role.label} "
            "you see the people referred to you: their records are in the Caseload, and "
            "what the huddle asks of you comes to My tasks."
        )
        return True

    # --- building blocks ---------------------------------------------------------------------

    def focus_target(self) -> QWidget:
        """The agenda, the outcome box in a running huddle, else Plan huddle."""
        return {AGENDA: self.agenda_list, RUN: self.outcome}.get(
            self.stack.currentIndex(), self.plan_button
        )

    def _shortcut(self, widget: QWidget, keys: str, slot: Any) -> QShortcut:
        sc = QShortcut(QKeySequence(keys), widget)
        sc.setContext(Qt.ShortcutContext.WidgetWithChildrenShortcut)
        sc.activated.connect(slot)
        return sc

    def _build_agenda(self) -> QWidget:
        w = QWidget()
        self.agenda_list = QListWidget()
        self.agenda_list.setAccessibleName("Agenda: people to discuss, in order")
        self.agenda_list.setWordWrap(True)
        self.agenda_list.setAlternatingRowColors(True)
        self.agenda_list.setDragDropMode(QAbstractItemView.DragDropMode.InternalMove)
        self.agenda_list.setDefaultDropAction(Qt.DropAction.MoveAction)
        self.agenda_list.model().rowsMoved.connect(lambda *_a: self._persist_order())
        self.agenda_list.currentRowChanged.connect(lambda _r: self._update_agenda_buttons())
        self.agenda_hint = QLabel(
            "Drag or Alt+Up/Alt+Down to reorder · Insert adds a person · Delete removes · "
            "Ctrl+Shift+R refreshes from the rules · Ctrl+Shift+S starts the huddle"
        )
        self.agenda_hint.setObjectName("hintText")
        self.add_button = _button("Add person…", "Add a person to the agenda", "Insert")
        self.remove_button = _button("Remove", "Remove the selected person", "Delete")
        self.up_button = _button("Move up", "Move the selected person up", "Alt+Up")
        self.down_button = _button("Move down", "Move the selected person down", "Alt+Down")
        self.undo_button = _button("Undo remove", "Undo the last removal", "Ctrl+Z")
        self.undo_button.hide()
        self.refresh_button = _button(
            "Refresh from rules", "Add people the rules now bring", "Ctrl+Shift+R"
        )
        self.attendees_button = _button("Attendees…", "Change who is attending", "Ctrl+Shift+A")
        self.agenda_open_button = _button(
            "Open record", "Open the selected person's record in the caseload", "Ctrl+O"
        )
        self.agenda_pdf_button = _button("Agenda PDF…", "Export the agenda as PDF", "Ctrl+P")
        self.start_button = _button("Start huddle", "Start the huddle", "Ctrl+Shift+S")
        self.start_button.setDefault(True)
        buttons = QHBoxLayout()
        for b in (self.add_button, self.remove_button, self.up_button, self.down_button):
            buttons.addWidget(b)
        buttons.addWidget(self.undo_button)
        buttons.addWidget(self.agenda_open_button)
        buttons.addStretch(1)
        buttons.addWidget(self.refresh_button)
        buttons.addWidget(self.attendees_button)
        buttons.addWidget(self.agenda_pdf_button)
        buttons.addWidget(self.start_button)
        layout = QVBoxLayout(w)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addWidget(self.agenda_list, 1)
        layout.addWidget(self.agenda_hint)
        layout.addLayout(buttons)
        self.add_button.clicked.connect(self.add_person_dialog)
        self.remove_button.clicked.connect(self.remove_selected)
        self.up_button.clicked.connect(lambda: self.move_selected(-1))
        self.down_button.clicked.connect(lambda: self.move_selected(1))
        self.undo_button.clicked.connect(self.undo_remove)
        self.agenda_pdf_button.clicked.connect(lambda: self.export_pdf("agenda"))
        self.refresh_button.clicked.connect(self.refresh_agenda)
        self.attendees_button.clicked.connect(self.attendees_dialog)
        self.start_button.clicked.connect(self.start)
        self.agenda_open_button.clicked.connect(self.open_selected_record)
        self.agenda_list.itemDoubleClicked.connect(lambda _it: self.open_selected_record())
        for keys, slot in (
            ("Ctrl+O", self.open_selected_record),
            ("Alt+Up", lambda: self.move_selected(-1)),
            ("Alt+Down", lambda: self.move_selected(1)),
            ("Delete", self.remove_selected),
            ("Insert", self.add_person_dialog),
            ("Ctrl+Z", self.undo_remove),
            ("Ctrl+P", lambda: self.export_pdf("agenda")),
            ("Ctrl+Shift+R", self.refresh_agenda),
            ("Ctrl+Shift+A", self.attendees_dialog),
            ("Ctrl+Shift+S", self.start),
        ):
            self._shortcut(w, keys, slot)
        return w

    def _build_run(self) -> QWidget:
        w = QWidget()
        self.run_list = QListWidget()
        self.run_list.setAccessibleName("Agenda progress")
        self.run_list.setMaximumWidth(260)
        self.run_list.itemClicked.connect(lambda it: self.go_to(self.run_list.row(it)))

        self.huddle_clock = QLabel()
        self.huddle_clock.setAccessibleName("Huddle elapsed time")
        self.huddle_clock.setObjectName("clockText")
        self.item_clock = QLabel()
        self.item_clock.setAccessibleName("Time on this person")
        self.item_clock.setObjectName("clockText")
        self.item_title = QLabel()
        self.item_title.setObjectName("itemTitle")
        self.item_title.setAccessibleName("Person being discussed")
        self.item_title.setWordWrap(True)
        self.item_reasons = QLabel()
        self.item_reasons.setAccessibleName("Why they are on the agenda")
        self.item_reasons.setWordWrap(True)
        self.item_reasons.setTextFormat(Qt.TextFormat.PlainText)
        self.outcome = QPlainTextEdit()
        self.outcome.setAccessibleName("Discussion outcome")
        self.outcome.setPlaceholderText("Outcome: what the team concluded")
        self.outcome.setTabChangesFocus(True)
        self.decisions = QPlainTextEdit()
        self.decisions.setAccessibleName("Decisions")
        self.decisions.setPlaceholderText("Decisions agreed (optional)")
        self.decisions.setTabChangesFocus(True)
        self.decisions.setMaximumHeight(70)
        self.actions_list = QListWidget()
        self.actions_list.setAccessibleName("Actions agreed for this person")
        self.actions_list.setMaximumHeight(96)
        self.actions_list.setWordWrap(True)
        self.task_button = _button("Task…", "Add a task", "Ctrl+T")
        self.visit_button = _button("Home visit…", "Plan a home visit", "Ctrl+H")
        self.escalate_button = _button("Escalate…", "Escalate to the clinical lead", "Ctrl+E")
        self.refer_button = _button("Refer…", "Make a referral", "Ctrl+R")
        self.run_open_button = _button(
            "Open record", "Open this person's record in the caseload", "Ctrl+O"
        )
        self.prev_button = _button("◀ Previous", "Previous person", "Alt+Left")
        self.defer_button = _button("Defer", "Defer to the next huddle", "Ctrl+D")
        self.discussed_button = _button(
            "Discussed ✓", "Mark discussed and go to the next person", "Ctrl+Enter"
        )
        self.discussed_button.setDefault(True)
        self.next_button = _button("Next ▶", "Next person", "Alt+Right")
        self.close_button = _button("Close huddle…", "Close the huddle", "Ctrl+Shift+C")
        self.patient_panel = QTextBrowser()
        self.patient_panel.setAccessibleName("Summary, plan and recent timeline")
        self.patient_panel.setOpenLinks(False)

        clocks = QHBoxLayout()
        clocks.addWidget(self.item_clock)
        clocks.addStretch(1)
        clocks.addWidget(self.huddle_clock)
        acts = QHBoxLayout()
        for b in (self.task_button, self.visit_button, self.escalate_button, self.refer_button):
            acts.addWidget(b)
        acts.addStretch(1)
        acts.addWidget(self.run_open_button)
        moves = QHBoxLayout()
        moves.addWidget(self.prev_button)
        moves.addStretch(1)
        moves.addWidget(self.defer_button)
        moves.addWidget(self.discussed_button)
        moves.addWidget(self.next_button)
        middle = QWidget()
        ml = QVBoxLayout(middle)
        ml.setContentsMargins(6, 0, 6, 0)
        ml.addLayout(clocks)
        ml.addWidget(self.item_title)
        ml.addWidget(self.item_reasons)
        ml.addWidget(QLabel("&Outcome", buddy=self.outcome))
        ml.addWidget(self.outcome, 2)
        ml.addWidget(QLabel("D&ecisions", buddy=self.decisions))
        ml.addWidget(self.decisions)
        ml.addWidget(QLabel("Actions agreed"))
        ml.addWidget(self.actions_list)
        ml.addLayout(acts)
        ml.addLayout(moves)
        keys = QLabel(
            "Ctrl+Enter discussed · Ctrl+D defer · Ctrl+T task · Ctrl+H home visit · "
            "Ctrl+E escalate · Ctrl+R refer · Alt+←/→ previous/next · Ctrl+Shift+C close"
        )
        keys.setObjectName("hintText")
        keys.setWordWrap(True)
        ml.addWidget(keys)
        left = QWidget()
        ll = QVBoxLayout(left)
        ll.setContentsMargins(0, 0, 0, 0)
        ll.addWidget(self.run_list, 1)
        ll.addWidget(self.close_button)
        split = QSplitter()
        split.addWidget(left)
        split.addWidget(middle)
        split.addWidget(self.patient_panel)
        split.setStretchFactor(1, 3)
        split.setStretchFactor(2, 2)
        split.setSizes([220, 560, 420])
        layout = QVBoxLayout(w)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addWidget(split)

        self.task_button.clicked.connect(lambda: self.action_dialog("task"))
        self.visit_button.clicked.connect(lambda: self.action_dialog("home_visit"))
        self.escalate_button.clicked.connect(lambda: self.action_dialog("escalation"))
        self.refer_button.clicked.connect(lambda: self.action_dialog("referral"))
        self.prev_button.clicked.connect(lambda: self.go_to(self.current - 1))
        self.next_button.clicked.connect(lambda: self.go_to(self.current + 1))
        self.defer_button.clicked.connect(self.defer)
        self.discussed_button.clicked.connect(self.discussed)
        self.close_button.clicked.connect(self.close_huddle)
        self.run_open_button.clicked.connect(self.open_current_record)
        for keys, slot in (
            ("Ctrl+O", self.open_current_record),
            ("Ctrl+Return", self.discussed),
            ("Ctrl+Enter", self.discussed),
            ("Ctrl+D", self.defer),
            ("Ctrl+T", lambda: self.action_dialog("task")),
            ("Ctrl+H", lambda: self.action_dialog("home_visit")),
            ("Ctrl+E", lambda: self.action_dialog("escalation")),
            ("Ctrl+R", lambda: self.action_dialog("referral")),
            ("Alt+Right", lambda: self.go_to(self.current + 1)),
            ("Alt+Left", lambda: self.go_to(self.current - 1)),
            ("Ctrl+Shift+C", self.close_huddle),
        ):
            self._shortcut(w, keys, slot)
        return w

    def _build_minutes(self) -> QWidget:
        w = QWidget()
        self.minutes_text = QPlainTextEdit()
        self.minutes_text.setReadOnly(True)
        self.minutes_text.setAccessibleName("Huddle minutes")
        self.minutes_pdf_button = _button("Minutes PDF…", "Export the minutes as PDF", "Ctrl+P")
        self.minutes_pdf_button.clicked.connect(lambda: self.export_pdf("minutes"))
        self._shortcut(w, "Ctrl+P", lambda: self.export_pdf("minutes"))
        row = QHBoxLayout()
        row.addStretch(1)
        row.addWidget(self.minutes_pdf_button)
        layout = QVBoxLayout(w)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addWidget(self.minutes_text, 1)
        layout.addLayout(row)
        return w

    # --- loading -----------------------------------------------------------------------------

    def _query(self, op: Any, done: Any, what: str = "") -> None:
        """Run a service call on the store worker; errors show inline and in a message box."""
        self.busy = True
        self.error.hide()

        def ok(result: Any) -> None:
            self.busy = False
            done(result)
            if what:
                self.action_done.emit(what)

        def failed(exc: BaseException) -> None:
            self.busy = False
            self.error.setText(describe(exc))
            self.error.show()
            if not isinstance(exc, IntDeskError):
                show_error(self, exc)

        self.ctx.query(op, ok, failed)

    def _load_teams(self) -> None:
        ids = list(self.ctx.actor.team_ids)

        def op(s: Any) -> list[tuple[uuid.UUID, str]]:
            return h.team_choices(s, ids)

        self._query(op, self._show_teams)

    def _show_teams(self, teams: list[tuple[uuid.UUID, str]]) -> None:
        self.team_combo.blockSignals(True)
        self.team_combo.clear()
        for tid, name in teams:
            self.team_combo.addItem(name, tid)
        self.team_combo.blockSignals(False)
        if teams:
            self._team_changed(0)

    def _team_changed(self, _index: int) -> None:
        self.team_id = self.team_combo.currentData()
        self.view = None
        self.reload()

    def reload(self, huddle_id: uuid.UUID | None = None) -> None:
        """Re-read the team's huddles and show ``huddle_id`` (default: the most relevant one)."""
        team, actor = self.team_id, self.ctx.actor
        if team is None:
            return
        wanted = huddle_id or (self.view.id if self.view else None)
        self._query(lambda s: self._read(s, team, actor, wanted), self._show_all)

    @staticmethod
    def _read(
        s: Any, team: uuid.UUID, actor: Any, wanted: uuid.UUID | None
    ) -> tuple[list, list, h.HuddleView | None]:
        huddles = h.list_huddles(session=s, actor=actor, team_id=team)
        members = h.team_members(s, team)
        target = wanted
        if target is None and huddles:
            open_ = [x for x in huddles if x.status != HuddleStatus.CLOSED.value]
            target = (open_[-1] if open_ else huddles[0]).id
        view = h.huddle_view(session=s, actor=actor, huddle_id=target) if target else None
        listing = [(x.id, x.scheduled_at, x.status, x.kind) for x in huddles]
        return listing, members, view

    def _show_all(self, result: tuple[list, list, h.HuddleView | None]) -> None:
        listing, self.members, view = result
        self.huddle_combo.clear()
        for hid, when, status, kind in listing:
            local = in_london(when)
            label = (
                f"{local:%a} {local.day} {local:%b %Y %H:%M} · {kind} · {status.replace('_', ' ')}"
            )
            self.huddle_combo.addItem(label, hid)
        self._show(view)

    def _on_changes(self, changes: Changes) -> None:
        """A huddle written by anyone (this page, another window, sync): show it as stored.
        Not through ``_query``: a refresh must never make the page busy and drop a keypress."""
        if self.team_id is None or not changes.touches(*HUDDLE_TABLES):
            return
        team, actor, wanted = self.team_id, self.ctx.actor, self.view.id if self.view else None
        self.ctx.query(lambda s: self._read(s, team, actor, wanted), self._show_all, None)

    def _huddle_chosen(self, index: int) -> None:
        self._save_current()
        self.reload(self.huddle_combo.itemData(index))

    def _show(self, view: h.HuddleView | None) -> None:
        previous = self.view.id if self.view else None
        self.view = view
        if view is None:
            self.stack.setCurrentIndex(EMPTY)
            self.status.setText("")
            self.timer.stop()
            self.loaded.emit()
            return
        i = self.huddle_combo.findData(view.id)
        if i >= 0:
            self.huddle_combo.setCurrentIndex(i)
        when = in_london(view.scheduled_at)
        n = len(view.items)
        planned = n * view.minutes_per_item
        attendees = ", ".join(
            f"{name} ({role}{', visiting' if v else ''})" for _i, name, role, v in view.attendees
        )
        self.status.setText(
            f"<b>{html.escape(view.team)}</b> · {view.kind} huddle · "
            f"{when:%a} {when.day} {when:%b %Y %H:%M} · {view.status.replace('_', ' ')} · "
            f"{n} people, about {planned} min<br>Chair: {html.escape(view.chair or 'not set')}"
            f" · Attending: {html.escape(attendees or 'none recorded')}"
        )
        if view.status == HuddleStatus.PLANNED.value:
            self._show_agenda(view)
            self.stack.setCurrentIndex(AGENDA)
            self.timer.stop()
        elif view.status == HuddleStatus.IN_PROGRESS.value:
            if previous != view.id:
                self.current = self._first_pending(view)
                self._item_base = {i.id: i.seconds_spent for i in view.items}
            self.stack.setCurrentIndex(RUN)
            self._show_run(view)
            self.timer.start()
        else:
            self.minutes_text.setPlainText(view.minutes or h.minutes_text(view))
            self.stack.setCurrentIndex(MINUTES)
            self.timer.stop()
        self.loaded.emit()

    # --- agenda ------------------------------------------------------------------------------

    def _show_agenda(self, view: h.HuddleView) -> None:
        row = max(0, self.agenda_list.currentRow())
        self.agenda_list.blockSignals(True)
        self.agenda_list.model().blockSignals(True)
        self.agenda_list.clear()
        for n, it in enumerate(view.items, 1):
            mark = "↻ " if it.rolled_over else ""
            text = (
                f"{n}. {mark}{it.name}   {_born(it.date_of_birth)}NHS {format_nhs(it.nhs_number)}\n"
                + "\n".join(f"      • {r}" for r in it.reasons)
            )
            item = QListWidgetItem(text)
            item.setData(Qt.ItemDataRole.UserRole, it.id)
            item.setToolTip("Rolled over from the last huddle" if it.rolled_over else "")
            self.agenda_list.addItem(item)
        self.agenda_list.model().blockSignals(False)
        self.agenda_list.blockSignals(False)
        if view.items:
            self.agenda_list.setCurrentRow(min(row, len(view.items) - 1))
        self._update_agenda_buttons()

    def _update_agenda_buttons(self) -> None:
        has = self.agenda_list.currentRow() >= 0
        for b in (self.remove_button, self.up_button, self.down_button, self.agenda_open_button):
            b.setEnabled(has)

    def open_selected_record(self) -> None:
        """The selected agenda person, in the caseload (list and record in step)."""
        iid = self.selected_item_id()
        item = next((i for i in (self.view.items if self.view else []) if i.id == iid), None)
        if item is not None:
            open_in_caseload(self, item.patient_id)

    def open_current_record(self) -> None:
        """The person being discussed, in the caseload; the huddle keeps its place."""
        item = self.current_item()
        if item is not None:
            self._save_current()  # the outcome typed so far is kept
            open_in_caseload(self, item.patient_id)

    def selected_item_id(self) -> uuid.UUID | None:
        item = self.agenda_list.currentItem()
        return item.data(Qt.ItemDataRole.UserRole) if item else None

    def _agenda_editable(self) -> bool:
        return self.view is not None and self.view.status != HuddleStatus.CLOSED.value

    def move_selected(self, offset: int) -> None:
        iid, actor = self.selected_item_id(), self.ctx.actor
        if iid is None or not self._agenda_editable() or self.busy:
            return
        row = self.agenda_list.currentRow()
        target = max(0, min(self.agenda_list.count() - 1, row + offset))
        if target == row:
            return
        self.agenda_list.setCurrentRow(target)
        self._query(
            lambda s: h.move_item(session=s, actor=actor, item_id=iid, offset=offset),
            lambda _r: self.reload(),
            "moved",
        )

    def _persist_order(self) -> None:
        """After a drag: save the list's new order."""
        if self.view is None:
            return
        ids = [
            self.agenda_list.item(i).data(Qt.ItemDataRole.UserRole)
            for i in range(self.agenda_list.count())
        ]
        hid, actor = self.view.id, self.ctx.actor
        self._query(
            lambda s: h.reorder_items(session=s, actor=actor, huddle_id=hid, item_ids=ids),
            lambda _r: self.reload(),
            "reordered",
        )

    def remove_selected(self) -> None:
        iid = self.selected_item_id()
        if iid is None or self.view is None or not self._agenda_editable():
            return
        item = next(i for i in self.view.items if i.id == iid)
        if not confirm(
            self,
            "Remove from the agenda",
            f"Take {item.name} off this huddle's agenda? You can undo this (Ctrl+Z).",
            "Remove",
        ):
            return
        actor = self.ctx.actor

        def done(_r: Any) -> None:
            self.last_removed = iid
            self.undo_button.setText(f"Undo remove ({item.name})")
            self.undo_button.show()
            self.reload()

        self._query(lambda s: h.remove_item(session=s, actor=actor, item_id=iid), done, "removed")

    def undo_remove(self) -> None:
        iid, actor = self.last_removed, self.ctx.actor
        if iid is None:
            return

        def done(_r: Any) -> None:
            self.last_removed = None
            self.undo_button.hide()
            self.reload()

        self._query(lambda s: h.restore_item(session=s, actor=actor, item_id=iid), done, "restored")

    def add_person_dialog(self) -> None:
        if self.view is None or not self._agenda_editable():
            return
        dialog = AddPersonDialog(self)
        self.dialog = dialog
        hid, actor = self.view.id, self.ctx.actor

        def accepted() -> None:
            pid, reason = dialog.patient_id(), dialog.reason.text()
            self._query(
                lambda s: h.add_item(
                    session=s, actor=actor, huddle_id=hid, patient_id=pid, reason=reason
                ),
                lambda _r: self.reload(),
                "added",
            )

        dialog.accepted.connect(accepted)
        dialog.open()

    def refresh_agenda(self) -> None:
        view = self.view
        if view is None or view.status != HuddleStatus.PLANNED.value or self.busy:
            return
        hid, actor = view.id, self.ctx.actor

        def done(added: int) -> None:
            self.reload(hid)
            self.status.setText(
                self.status.text()
                + f"<br>Refreshed: {added} {'person' if added == 1 else 'people'} added."
            )

        self._query(
            lambda s: h.refresh_agenda(session=s, actor=actor, huddle_id=hid), done, "refreshed"
        )

    def attendees_dialog(self) -> None:
        view = self.view
        if view is None or view.status == HuddleStatus.CLOSED.value:
            return
        dialog = PlanDialog(self.members, me=self.ctx.actor.member_id, kind=view.kind, parent=self)
        dialog.setWindowTitle("Who is attending")
        present = {str(a[0]) for a in view.attendees}
        for i in range(dialog.attendees.count()):
            item = dialog.attendees.item(i)
            on = item.data(Qt.ItemDataRole.UserRole) in present
            item.setCheckState(Qt.CheckState.Checked if on else Qt.CheckState.Unchecked)
        for w in (dialog.date_edit, dialog.time_edit, dialog.kind_combo, dialog.chair_combo):
            w.setEnabled(False)
        dialog.buttons.button(QDialogButtonBox.StandardButton.Ok).setText("Save attendees")
        self.dialog = dialog
        hid, actor = view.id, self.ctx.actor

        def accepted() -> None:
            ids = dialog.values()["attendee_ids"]
            self._query(
                lambda s: h.set_attendees(session=s, actor=actor, huddle_id=hid, member_ids=ids),
                lambda _r: self.reload(hid),
                "attendees",
            )

        dialog.accepted.connect(accepted)
        dialog.open()

    # --- planning ----------------------------------------------------------------------------

    def plan_dialog(self) -> None:
        if self.team_id is None or not self.plan_button.isEnabled():
            return
        actor = self.ctx.actor
        kind = self.view.kind if self.view else HuddleKind.DAILY.value
        dialog = PlanDialog(self.members, me=actor.member_id, kind=kind, parent=self)
        self.dialog = dialog

        def accepted() -> None:
            v = dialog.values()
            self.plan(**v)

        dialog.accepted.connect(accepted)
        dialog.open()

    def plan(
        self,
        *,
        scheduled_at: datetime,
        kind: str | None = None,
        chair_id: uuid.UUID | None = None,
        attendee_ids: list[uuid.UUID] | None = None,
    ) -> None:
        team, actor = self.team_id, self.ctx.actor
        self._query(
            lambda s: h.plan_huddle(
                session=s, actor=actor, team_id=team, scheduled_at=scheduled_at, kind=kind,
                chair_id=chair_id, attendee_ids=attendee_ids or [],
            ).id,
            lambda hid: self.reload(hid),
            "planned",
        )  # fmt: skip

    # --- run mode ----------------------------------------------------------------------------

    def start(self) -> None:
        if self.view is None or self.view.status != HuddleStatus.PLANNED.value or self.busy:
            return
        hid, actor = self.view.id, self.ctx.actor
        self._query(
            lambda s: h.start_huddle(session=s, actor=actor, huddle_id=hid),
            lambda _r: self.reload(hid),
            "started",
        )

    @staticmethod
    def _first_pending(view: h.HuddleView) -> int:
        for n, it in enumerate(view.items):
            if it.status == HuddleItemStatus.PENDING.value:
                return n
        return 0

    def current_item(self) -> h.ItemRecord | None:
        if self.view is None or not self.view.items:
            return None
        self.current = max(0, min(self.current, len(self.view.items) - 1))
        return self.view.items[self.current]

    def _item_seconds(self, item: h.ItemRecord) -> int:
        base = self._item_base.get(item.id, item.seconds_spent)
        if self._item_since is not None and self._loaded_item == item.id:
            base += int(time.monotonic() - self._item_since)
        return base

    def _show_run(self, view: h.HuddleView) -> None:
        self.run_list.clear()
        for n, it in enumerate(view.items, 1):
            mark = _STATUS_MARK.get(it.status, "")
            self.run_list.addItem(QListWidgetItem(f"{mark} {n}. {it.name}"))
        item = self.current_item()
        if item is None:
            return
        self.run_list.setCurrentRow(self.current)
        if self._loaded_item != item.id:
            self._loaded_item = item.id
            self._item_since = time.monotonic() if item.status == "pending" else None
            self.outcome.setPlainText(item.outcome)
            self.decisions.setPlainText(item.decisions)
            self._load_patient(item.patient_id)
            self.outcome.setFocus()
        status = {"pending": "", "discussed": " · discussed", "deferred": " · deferred"}
        self.item_title.setText(
            f"<b>{self.current + 1} of {len(view.items)} · {html.escape(item.name)}</b>  "
            f"{_born(item.date_of_birth)}NHS {format_nhs(item.nhs_number)}"
            f"{status.get(item.status, '')}"
        )
        self.item_reasons.setText("Why: " + "; ".join(item.reasons))
        self.actions_list.clear()
        for a in item.actions:
            self.actions_list.addItem(h.action_text(a))
        pending = item.status == HuddleItemStatus.PENDING.value
        for b in (self.defer_button, self.discussed_button):
            b.setEnabled(pending)
        # Outcomes and decisions are clinical content: not shown to, nor written by, a role
        # without clinical access (the service and the endpoint refuse them too).
        withheld = view.clinical_withheld
        self.outcome.setReadOnly(not pending or withheld)
        self.decisions.setReadOnly(not pending or withheld)
        self.outcome.setPlaceholderText(
            WITHHELD_HINT if withheld else "Outcome: what the team concluded"
        )
        self.decisions.setPlaceholderText(
            WITHHELD_HINT if withheld else "Decisions agreed (optional)"
        )
        self._tick()

    def _tick(self) -> None:
        view = self.view
        if view is None or view.status != HuddleStatus.IN_PROGRESS.value:
            return
        item = self.current_item()
        if view.started_at is not None:
            elapsed = (datetime.now(view.started_at.tzinfo) - view.started_at).total_seconds()
            target = len(view.items) * view.minutes_per_item * 60
            self.huddle_clock.setText(f"Huddle {_mmss(elapsed)} of {_mmss(target)}")
            self.huddle_clock.setProperty("over", elapsed > target)
        if item is not None:
            secs = self._item_seconds(item)
            target_item = view.minutes_per_item * 60
            over = secs > target_item
            self.item_clock.setText(
                f"This person {_mmss(secs)} (aim {_mmss(target_item)})"
                + (" – over time" if over else "")
            )
            if self.item_clock.property("over") != over:  # style.qss: bold, amber / pale amber
                self.item_clock.setProperty("over", over)
                self.item_clock.style().unpolish(self.item_clock)
                self.item_clock.style().polish(self.item_clock)

    def _load_patient(self, patient_id: uuid.UUID) -> None:
        actor = self.ctx.actor
        self.patient_panel.setHtml("<p>Loading…</p>")
        self.ctx.query(
            lambda s: pr.patient_record(session=s, actor=actor, patient_id=patient_id),
            self._show_patient,
            lambda exc: self.patient_panel.setPlainText(describe(exc)),
        )

    def _show_patient(self, rec: pr.PatientRecord) -> None:
        self.current_record = rec
        item = self.current_item()
        if item is None or item.patient_id != rec.patient_id:
            return  # the chair has moved on
        e = html.escape
        today = london_today()
        parts = [
            f"<h3>{e(rec.given_name)} {e(rec.family_name)}</h3>",
            f"<p>{rec.age(today)} years · {e(rec.sex)} · NHS {rec.nhs_display} · "
            f"{e(rec.postcode)}</p>",
        ]
        if rec.flags:
            flags = ", ".join(
                code.label + (f" ({note})" if note else "") for code, note in rec.flags
            )
            parts.append(f"<p><b>Flags:</b> {e(flags)}</p>")
        if rec.long_term_conditions:
            parts.append(f"<p><b>Conditions:</b> {e(rec.long_term_conditions)}</p>")
        if rec.carer_name:
            parts.append(
                f"<p><b>Carer:</b> {e(rec.carer_name)} ({e(rec.carer_relationship)})"
                + (f" – {e(rec.carer_needs)}" if rec.carer_needs else "")
                + "</p>"
            )
        if rec.team:
            parts.append(
                "<p><b>Team:</b> "
                + e("; ".join(f"{t.role}: {t.name}" for t in rec.team[:4]))
                + "</p>"
            )
        if rec.plan:
            p = rec.plan
            review = h.fmt_day(p.review_date) if p.review_date else "not set"
            parts.append(f"<h4>Care plan (v{p.version}, {e(p.status)}, review {review})</h4>")
            if p.what_matters:
                parts.append(f"<p><b>What matters:</b> {e(p.what_matters)}</p>")
            if p.contingency_plan:
                parts.append(f"<p><b>If things get worse:</b> {e(p.contingency_plan)}</p>")
            if p.goals:
                parts.append("<ul>" + "".join(f"<li>{e(g)}</li>" for g in p.goals) + "</ul>")
        else:
            parts.append("<h4>Care plan</h4><p>No shared care plan yet.</p>")
        if rec.open_tasks:
            parts.append("<h4>Open tasks</h4><ul>")
            for t in rec.open_tasks[:6]:
                due = f", due {h.fmt_day(t.due_on)}" if t.due_on else ""
                late = " <b>OVERDUE</b>" if t.overdue(today) else ""
                parts.append(f"<li>{e(t.description)} ({e(t.owner)}{due}){late}</li>")
            parts.append("</ul>")
        if rec.open_escalations:
            parts.append(
                "<h4>Open escalations</h4><ul>"
                + "".join(f"<li>{e(o.label)}: {e(o.detail)}</li>" for o in rec.open_escalations)
                + "</ul>"
            )
        parts.append("<h4>Recent timeline</h4><ul>")
        for t in rec.timeline[:8]:
            when = in_london(t.when)
            parts.append(
                f"<li><b>{when.day} {when:%b}</b> {e(t.label)}: {e(t.text[:160])}"
                + (f" <i>({e(t.who)})</i>" if t.who else "")
                + "</li>"
            )
        parts.append("</ul>")
        self.patient_panel.setHtml("".join(parts))

    def _save_current(self, then: Any = None) -> None:
        """Save the outcome, decisions and time of the current item (when it is still open)."""
        item = self.current_item()
        view = self.view
        if view is None or view.status != HuddleStatus.IN_PROGRESS.value or item is None:
            if then:
                then()
            return
        if item.status != HuddleItemStatus.PENDING.value:
            if then:
                then()
            return
        outcome, decisions = self.outcome.toPlainText(), self.decisions.toPlainText()
        secs = self._item_seconds(item)
        self._item_base[item.id] = secs
        if self._loaded_item == item.id and self._item_since is not None:
            self._item_since = time.monotonic()
        actor, iid = self.ctx.actor, item.id
        item.outcome, item.decisions = outcome, decisions
        self._query(
            lambda s: h.record_outcome(
                session=s, actor=actor, item_id=iid, outcome=outcome, decisions=decisions,
                seconds_spent=secs,
            ),
            lambda _r: then() if then else None,
        )  # fmt: skip

    def go_to(self, index: int) -> None:
        view = self.view
        if view is None or view.status != HuddleStatus.IN_PROGRESS.value or self.busy:
            return
        if not 0 <= index < len(view.items) or index == self.current:
            return

        def move() -> None:
            self.current = index
            self._show_run(view)

        self._save_current(move)

    def _settle(self, kind: str, reason: str = "") -> None:
        view, item = self.view, self.current_item()
        if view is None or item is None or self.busy:
            return
        if view.status != HuddleStatus.IN_PROGRESS.value:
            return
        if item.status != HuddleItemStatus.PENDING.value:
            return
        outcome, decisions = self.outcome.toPlainText(), self.decisions.toPlainText()
        if kind == "discussed" and not outcome.strip() and not view.clinical_withheld:
            self.error.setText("Record the outcome before marking discussed (Ctrl+Enter).")
            self.error.show()
            self.outcome.setFocus()
            return
        secs = self._item_seconds(item)
        actor, iid = self.ctx.actor, item.id

        def op(s: Any) -> Any:
            h.record_outcome(
                session=s, actor=actor, item_id=iid, outcome=outcome, decisions=decisions,
                seconds_spent=secs,
            )  # fmt: skip
            if kind == "discussed":
                return h.mark_discussed(session=s, actor=actor, item_id=iid)
            return h.defer_item(session=s, actor=actor, item_id=iid, reason=reason)

        def done(_contact: Any) -> None:
            self._item_base[iid] = secs
            self._item_since = None
            nxt = next(
                (
                    n
                    for n in list(range(self.current + 1, len(view.items)))
                    + list(range(self.current))
                    if view.items[n].status == HuddleItemStatus.PENDING.value and n != self.current
                ),
                self.current,
            )
            self.current = nxt
            self._loaded_item = None
            self.reload(view.id)

        self._query(op, done, kind)

    def discussed(self) -> None:
        self._settle("discussed")

    def defer(self) -> None:
        """Defer: the outcome box, if filled, says why; the item rolls over."""
        self._settle("deferred")

    def action_dialog(self, kind: str) -> None:
        view, item = self.view, self.current_item()
        if view is None or item is None or view.status != HuddleStatus.IN_PROGRESS.value:
            return
        attendees = {a[0] for a in view.attendees}
        members = sorted(self.members, key=lambda m: (m[0] not in attendees, m[1]))
        rec = self.current_record
        leads = [
            m.lead_member_id
            for m in (rec.active_memberships if rec and rec.patient_id == item.patient_id else [])
            if m.lead_member_id
        ]
        dialog = ActionDialog(
            kind, members, patient=item.name, lead=leads[0] if leads else None, parent=self
        )
        self.dialog = dialog
        dialog.accepted.connect(lambda: self.record_action(kind, **dialog.values()))
        dialog.open()

    def record_action(
        self,
        kind: str,
        *,
        text: str = "",
        owner: uuid.UUID | None = None,
        due: date | None = None,
        service: str | None = None,
    ) -> None:
        item = self.current_item()
        if item is None:
            return
        actor, iid = self.ctx.actor, item.id

        def op(s: Any) -> Any:
            if kind == "task":
                return h.add_item_task(
                    session=s, actor=actor, item_id=iid, description=text,
                    owner_member_id=owner, due_on=due,
                )  # fmt: skip
            if kind == "home_visit":
                return h.add_item_home_visit(
                    session=s, actor=actor, item_id=iid, member_id=owner, on=due, purpose=text
                )
            if kind == "escalation":
                return h.add_item_escalation(session=s, actor=actor, item_id=iid, reason=text)
            if kind == "referral":
                return h.add_item_referral(
                    session=s, actor=actor, item_id=iid, service=service, reason=text
                )
            raise ValidationError(f"Unknown action {kind}.")

        def done(_r: Any) -> None:
            self._save_current(lambda: self.reload())

        self._query(op, done, kind)

    def close_huddle(self) -> None:
        view = self.view
        if view is None or view.status != HuddleStatus.IN_PROGRESS.value or self.busy:
            return
        counts = {s: sum(1 for i in view.items if i.status == s) for s in _STATUS_MARK}
        if not confirm(
            self,
            "Close the huddle",
            f"{counts['discussed']} discussed, {counts['deferred']} deferred, "
            f"{counts['pending']} not reached.\n\nDeferred and not reached people roll over to "
            "the next huddle. Close and write the minutes?",
            "Close huddle",
        ):
            return
        hid, actor = view.id, self.ctx.actor

        def close() -> None:
            self._query(
                lambda s: h.close_huddle(session=s, actor=actor, huddle_id=hid),
                lambda _m: self.reload(hid),
                "closed",
            )

        self._save_current(close)

    # --- auto-lock ---------------------------------------------------------------------------

    def save_drafts(self) -> None:
        """Before the store locks: save what was typed for the current person, pause its clock."""
        view, item = self.view, self.current_item()
        self.timer.stop()
        if view is None or item is None or view.status != HuddleStatus.IN_PROGRESS.value:
            return None
        if item.status != HuddleItemStatus.PENDING.value:
            return None
        secs = self._item_seconds(item)
        outcome, decisions = self.outcome.toPlainText(), self.decisions.toPlainText()
        with self.ctx.workspace.session() as s:
            h.record_outcome(
                session=s, actor=self.ctx.actor, item_id=item.id, outcome=outcome,
                decisions=decisions, seconds_spent=secs,
            )  # fmt: skip
        self._item_base[item.id] = secs
        self._item_since = None
        return None

    def restore_drafts(self, _snapshot: object) -> None:
        """After unlock: the text is still in the editors; restart the clocks."""
        item = self.current_item()
        if self.view is not None and self.view.status == HuddleStatus.IN_PROGRESS.value:
            if item is not None and item.status == HuddleItemStatus.PENDING.value:
                self._item_since = time.monotonic()
            self.timer.start()

    # --- PDFs --------------------------------------------------------------------------------

    def export_pdf(self, which: str, path: Path | None = None) -> None:
        view = self.view
        if view is None:
            return
        if which == "minutes" and view.status != HuddleStatus.CLOSED.value:
            return
        if path is None:
            when = in_london(view.scheduled_at)
            suggested = f"{view.team} huddle {which} {when:%Y-%m-%d}.pdf".replace(" ", "-")
            from int_desk.settings_schema import Preferences  # Settings > Save PDFs to

            folder = Preferences(self.ctx.settings).pdf_folder()
            chosen, _f = QFileDialog.getSaveFileName(
                self, f"Save the huddle {which}", str(folder / suggested), "PDF (*.pdf)"
            )
            if not chosen:
                return
            path = Path(chosen)
        if path.suffix.lower() != ".pdf":
            path = path.with_suffix(".pdf")
        hid, actor = view.id, self.ctx.actor
        fn = huddle_export.export_minutes if which == "minutes" else huddle_export.export_agenda
        self._query(
            lambda s: fn(session=s, actor=actor, huddle_id=hid, path=path),
            lambda p: self.status.setText(self.status.text() + f"<br>Saved {html.escape(str(p))}"),
            f"{which}_pdf",
        )
