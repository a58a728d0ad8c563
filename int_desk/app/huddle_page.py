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
import uuid
from datetime import datetime
from pathlib import Path
from typing import Any

from PySide6.QtCore import Qt, QTimer, Signal
from PySide6.QtWidgets import (
    QAbstractItemView,
    QComboBox,
    QDialog,
    QDialogButtonBox,
    QFileDialog,
    QHBoxLayout,
    QLabel,
    QListWidget,
    QListWidgetItem,
    QPlainTextEdit,
    QStackedWidget,
    QVBoxLayout,
    QWidget,
)

from int_desk.app.context import AppContext
from int_desk.app.dialog_parts import error_label
from int_desk.app.huddle_dialogs import AddPersonDialog, PlanDialog
from int_desk.app.huddle_run import RunMode, born, button
from int_desk.app.messages import confirm, describe, show_error
from int_desk.app.navigation import open_in_caseload
from int_desk.domain.errors import IntDeskError
from int_desk.domain.nhs_number import format_nhs
from int_desk.domain.permissions import ACTION_LABELS, Permission, allowed
from int_desk.domain.uk_time import in_london
from int_desk.domain.vocab import HuddleKind, HuddleStatus
from int_desk.services import huddle_export
from int_desk.services import huddles as h
from int_desk.services import patient_record as pr
from int_desk.store.changes import Changes

AGENDA, RUN, MINUTES, EMPTY = range(4)
HUDDLE_TABLES = ("huddle", "huddle_item", "huddle_attendee")


class HuddlePage(RunMode):
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
        self._stale = False  # a huddle changed while busy: re-read when the work is done
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
        self.plan_button = button("Plan huddle…", "Plan a new huddle", "Plan a huddle (Ctrl+N)")
        self.status = QLabel()
        self.status.setAccessibleName("Huddle status")
        self.status.setWordWrap(True)
        self.error = error_label()
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
        self.add_button = button("Add person…", "Add a person to the agenda", "Insert")
        self.remove_button = button("Remove", "Remove the selected person", "Delete")
        self.up_button = button("Move up", "Move the selected person up", "Alt+Up")
        self.down_button = button("Move down", "Move the selected person down", "Alt+Down")
        self.undo_button = button("Undo remove", "Undo the last removal", "Ctrl+Z")
        self.undo_button.hide()
        self.refresh_button = button(
            "Refresh from rules", "Add people the rules now bring", "Ctrl+Shift+R"
        )
        self.attendees_button = button("Attendees…", "Change who is attending", "Ctrl+Shift+A")
        self.agenda_open_button = button(
            "Open record", "Open the selected person's record in the caseload", "Ctrl+O"
        )
        self.agenda_pdf_button = button("Agenda PDF…", "Export the agenda as PDF", "Ctrl+P")
        self.start_button = button("Start huddle", "Start the huddle", "Ctrl+Shift+S")
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

    def _build_minutes(self) -> QWidget:
        w = QWidget()
        self.minutes_text = QPlainTextEdit()
        self.minutes_text.setReadOnly(True)
        self.minutes_text.setAccessibleName("Huddle minutes")
        self.minutes_pdf_button = button("Minutes PDF…", "Export the minutes as PDF", "Ctrl+P")
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
            self._catch_up()

        def failed(exc: BaseException) -> None:
            self.busy = False
            self.error.setText(describe(exc))
            self.error.show()
            if not isinstance(exc, IntDeskError):
                show_error(self, exc)
            self._catch_up()

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
        self._stale = False  # this read comes after every change heard of so far
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

    def _on_changes(self, changes: Changes) -> None:
        """A huddle written by anyone (this page, another window, sync): show it as stored.
        While the page's own work runs, it waits for that to finish: a refresh never makes the
        page busy (a keypress dropped) nor says "loaded" in the middle of its work."""
        if self.team_id is None or not changes.touches(*HUDDLE_TABLES):
            return
        self._stale = True
        self._catch_up()

    def _catch_up(self) -> None:
        if not self._stale or self.busy or self.team_id is None:
            return
        self._stale = False
        team, actor, wanted = self.team_id, self.ctx.actor, self.view.id if self.view else None
        self.ctx.query(lambda s: self._read(s, team, actor, wanted), self._show_all, None)

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
                f"{n}. {mark}{it.name}   {born(it.date_of_birth)}NHS {format_nhs(it.nhs_number)}\n"
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
