"""Run mode of the huddle page, keyboard-driven: one person at a time with their summary, plan and
recent timeline; the outcome and decisions; actions agreed (Ctrl+T task, Ctrl+H home visit,
Ctrl+E escalation, Ctrl+R referral); Ctrl+Enter discussed, Ctrl+D defer; Alt+Right / Alt+Left
next and previous; elapsed time per person and for the huddle; Ctrl+Shift+C closes it.

``RunMode`` is a part of ``HuddlePage`` (its base class), kept in a file of its own: it builds
the run view's widgets and handles them, using the page's state and worker calls declared below.
"""

from __future__ import annotations

import html
import time
import uuid
from datetime import date, datetime
from typing import Any

from PySide6.QtCore import Qt, QTimer
from PySide6.QtGui import QKeySequence, QShortcut
from PySide6.QtWidgets import (
    QDialog,
    QHBoxLayout,
    QLabel,
    QListWidget,
    QListWidgetItem,
    QPlainTextEdit,
    QPushButton,
    QSplitter,
    QTextBrowser,
    QVBoxLayout,
    QWidget,
)

from int_desk.app.context import AppContext
from int_desk.app.huddle_dialogs import ActionDialog
from int_desk.app.messages import confirm, describe
from int_desk.app.navigation import open_in_caseload
from int_desk.app.record_html import labelled
from int_desk.domain.errors import ValidationError
from int_desk.domain.nhs_number import format_nhs
from int_desk.domain.uk_time import in_london, london_today
from int_desk.domain.vocab import HuddleItemStatus, HuddleStatus
from int_desk.services import huddles as h
from int_desk.services import patient_record as pr

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


def born(dob: date | None) -> str:
    """ "born 10 Jan 1930 · " (nothing when unknown), before an NHS number."""
    return f"born {dob:%d %b %Y} · " if dob else ""


def button(text: str, name: str, tip: str = "") -> QPushButton:
    """A push button with its accessible name and (keyboard) tooltip."""
    b = QPushButton(text)
    b.setAccessibleName(name)
    if tip:
        b.setToolTip(tip)
    return b


class RunMode(QWidget):
    """The run view of ``HuddlePage`` and what it does."""

    # The page's state and calls, which run mode uses (set and defined by HuddlePage).
    ctx: AppContext
    view: h.HuddleView | None
    members: list[tuple[uuid.UUID, str, str, bool]]
    current: int
    busy: bool
    dialog: QDialog | None
    error: QLabel
    timer: QTimer
    _item_base: dict[uuid.UUID, int]
    _item_since: float | None
    _loaded_item: uuid.UUID | None
    current_record: pr.PatientRecord | None

    def _query(self, op: Any, done: Any, what: str = "") -> None:
        raise NotImplementedError  # HuddlePage's

    def reload(self, huddle_id: uuid.UUID | None = None) -> None:
        raise NotImplementedError  # HuddlePage's

    def _shortcut(self, widget: QWidget, keys: str, slot: Any) -> QShortcut:
        sc = QShortcut(QKeySequence(keys), widget)
        sc.setContext(Qt.ShortcutContext.WidgetWithChildrenShortcut)
        sc.activated.connect(slot)
        return sc

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
        self.task_button = button("Task…", "Add a task", "Ctrl+T")
        self.visit_button = button("Home visit…", "Plan a home visit", "Ctrl+H")
        self.escalate_button = button("Escalate…", "Escalate to the clinical lead", "Ctrl+E")
        self.refer_button = button("Refer…", "Make a referral", "Ctrl+R")
        self.run_open_button = button(
            "Open record", "Open this person's record in the caseload", "Ctrl+O"
        )
        self.prev_button = button("◀ Previous", "Previous person", "Alt+Left")
        self.defer_button = button("Defer", "Defer to the next huddle", "Ctrl+D")
        self.discussed_button = button(
            "Discussed ✓", "Mark discussed and go to the next person", "Ctrl+Enter"
        )
        self.discussed_button.setDefault(True)
        self.next_button = button("Next ▶", "Next person", "Alt+Right")
        self.close_button = button("Close huddle…", "Close the huddle", "Ctrl+Shift+C")
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
        outcome_label = QLabel("&Outcome")
        outcome_label.setBuddy(self.outcome)
        ml.addWidget(outcome_label)
        ml.addWidget(self.outcome, 2)
        decisions_label = QLabel("D&ecisions")
        decisions_label.setBuddy(self.decisions)
        ml.addWidget(decisions_label)
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
        for seq, slot in (
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
            self._shortcut(w, seq, slot)
        return w

    def open_current_record(self) -> None:
        """The person being discussed, in the caseload; the huddle keeps its place."""
        item = self.current_item()
        if item is not None:
            self._save_current()  # the outcome typed so far is kept
            open_in_caseload(self, item.patient_id)

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
            f"{born(item.date_of_birth)}NHS {format_nhs(item.nhs_number)}"
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
        flags = ", ".join(code.label + (f" ({note})" if note else "") for code, note in rec.flags)
        parts += labelled("Flags", flags)
        parts += labelled("Conditions", rec.long_term_conditions)
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
            parts += labelled("What matters", p.what_matters)
            parts += labelled("If things get worse", p.contingency_plan)
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
        for entry in rec.timeline[:8]:
            when = in_london(entry.when)
            parts.append(
                f"<li><b>{when.day} {when:%b}</b> {e(entry.label)}: {e(entry.text[:160])}"
                + (f" <i>({e(entry.who)})</i>" if entry.who else "")
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
                lambda _minutes: self.reload(hid),
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
