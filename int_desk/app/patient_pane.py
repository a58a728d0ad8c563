"""The record pane beside the caseload table: the selected person's record and the actions on it
(contact, task, referral, escalation, huddle, flags, lead, care plan, cohorts, needs, hospital),
each a dialog that calls a service and then announces the change.
"""

from __future__ import annotations

import importlib
import uuid
from datetime import timedelta
from typing import TYPE_CHECKING, Any

from PySide6.QtCore import Qt
from PySide6.QtWidgets import (
    QGridLayout,
    QLabel,
    QPushButton,
    QTextBrowser,
    QVBoxLayout,
    QWidget,
)

from int_desk.app.context import AppContext
from int_desk.app.messages import show_error
from int_desk.app.patient_dialogs import ActionDialog, Field
from int_desk.app.record_html import escaped, record_html, short_date
from int_desk.domain.information_needs import InformationNeed
from int_desk.domain.permissions import Permission, allowed
from int_desk.domain.uk_time import london_today
from int_desk.domain.vocab import (
    ContactKind,
    FlagCode,
    HealthEventKind,
    Priority,
    ReferralService,
    ReferralStatus,
    Role,
    TaskKind,
)
from int_desk.services import patient_actions as pa
from int_desk.services import patient_record as pr
from int_desk.services.accessible_information import set_information_needs

if TYPE_CHECKING:
    from int_desk.app.caseload_page import CaseloadPage

BUTTONS_A_ROW = 3
PANE_WIDTH = 300  # the record pane beside the table at 1366 px (three buttons a row)
CARE_PLAN_MODULE = "int_desk.app.care_plan_editor"
_FULL_NAMES = {
    "contact": "Add contact", "task": "Allocate task", "refer": "Refer to a service",
    "escalate": "Escalate to the clinical lead", "huddle": "Add to next huddle",
    "flags": "Raise or clear flags", "lead": "Set the named lead professional",
    "plan": "Open care plan", "complete": "Complete a task",
    "outcome": "Record a referral outcome", "resolve": "Resolve an escalation",
    "enrol": "Enrol into or discharge from a cohort",
    "needs": "Record information and communication needs",
    "hospital": "Record a hospital admission or discharge",
}  # fmt: skip


class PatientPane(QWidget):
    """The selected person's record and the actions on it."""

    def __init__(self, ctx: AppContext, page: CaseloadPage) -> None:
        super().__init__(page)
        self.ctx = ctx
        self.page = page
        self.dialog: ActionDialog | None = None
        self.setAccessibleName("Patient record")
        self.setMinimumWidth(PANE_WIDTH)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(4, 0, 0, 0)
        self.heading = QLabel("No one selected")
        self.heading.setObjectName("patientHeading")
        # The palette's text colour, so the banner reads in light and dark alike.
        self.heading.setTextFormat(Qt.TextFormat.RichText)
        self.heading.setAccessibleName("Selected patient")
        self.heading.setWordWrap(True)
        self.heading.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        layout.addWidget(self.heading)
        self.outside_note = QLabel(
            "⚠ Not in the list beside: the search or filters hide this person."
        )
        self.outside_note.setObjectName("warningText")
        self.outside_note.setWordWrap(True)
        self.outside_note.setAccessibleName("Not in the list")
        self.outside_note.hide()
        layout.addWidget(self.outside_note)
        grid = QGridLayout()
        grid.setHorizontalSpacing(4)
        grid.setVerticalSpacing(4)
        self.buttons: dict[str, QPushButton] = {}
        actions = self._actions()
        for i, (key, (label, seq, slot, perm)) in enumerate(actions.items()):
            b = QPushButton(label)
            full = _FULL_NAMES.get(key, label.replace("…", ""))
            b.setAccessibleName(full)
            b.setToolTip(f"{full} ({seq})" if seq else full)
            b.clicked.connect(slot)
            b.setEnabled(False)
            b.setProperty("permission", perm.value if perm else "")
            grid.addWidget(b, i // BUTTONS_A_ROW, i % BUTTONS_A_ROW)
            self.buttons[key] = b
        layout.addLayout(grid)
        self.setStyleSheet("QPushButton { padding: 4px 4px; }")
        self.browser = QTextBrowser()
        self.browser.setObjectName("patientRecord")
        self.browser.setAccessibleName("Patient record details and timeline")
        self.browser.setOpenLinks(False)
        self.browser.setHtml("<p>Select a person in the caseload to see their record.</p>")
        layout.addWidget(self.browser, 1)

    def _actions(self) -> dict[str, tuple[str, str, Any, Permission | None]]:
        P = Permission
        return {
            "contact": ("+ Contact…", "Ctrl+Shift+C", self.add_contact, P.ADD_CONTACT),
            "task": ("+ Task…", "Ctrl+Shift+T", self.allocate_task, P.MANAGE_TASKS),
            "refer": ("Refer…", "Ctrl+Shift+R", self.refer, P.REFER),
            "escalate": ("Escalate…", "Ctrl+Shift+E", self.escalate, P.ESCALATE),
            "huddle": ("To huddle…", "Ctrl+Shift+H", self.add_to_huddle, P.ESCALATE),
            "flags": ("Flags…", "Ctrl+Shift+G", self.set_flag, P.EDIT_PATIENT),
            "lead": ("Lead…", "Ctrl+Shift+L", self.set_lead, P.EDIT_PATIENT),
            "plan": ("Care plan", "Ctrl+Shift+P", self.open_care_plan, P.VIEW_CASELOAD),
            "complete": ("Task done…", "", self.complete_task, P.MANAGE_TASKS),
            "outcome": ("Outcome…", "", self.referral_outcome, P.REFER),
            "resolve": ("Resolve…", "", self.resolve, P.RESOLVE_ESCALATION),
            "enrol": ("Cohorts…", "", self.enrol_or_discharge, P.EDIT_PATIENT),
            "needs": ("Needs…", "", self.set_information_needs, P.EDIT_PATIENT),
            "hospital": ("Hospital…", "", self.record_hospital, P.EDIT_PATIENT),
        }

    def shortcut_map(self) -> dict[str, Any]:
        return {seq: slot for _l, seq, slot, _p in self._actions().values() if seq}

    # --- showing ------------------------------------------------------------------------------

    def set_in_list(self, in_list: bool) -> None:
        self.outside_note.setVisible(not in_list and self.page.current_patient is not None)

    def show_record(self, r: pr.PatientRecord) -> None:
        today = london_today()
        self.heading.setText(
            f"<b style='font-size:12pt'>{escaped(r.display_name)}</b><br>"
            f"Born {short_date(r.date_of_birth)} ({r.age(today)}) &nbsp;·&nbsp; NHS {r.nhs_display}"
        )
        self.heading.setAccessibleDescription(
            f"{r.display_name}, born {r.date_of_birth:%d %B %Y}, NHS number {r.nhs_display}"
        )
        actor = self.ctx.actor
        for key, b in self.buttons.items():
            perm = b.property("permission")
            ok = not perm or allowed(actor, Permission(perm))
            if key == "complete":
                ok = ok and bool(r.open_tasks)
            elif key == "outcome":
                ok = ok and bool(r.open_referrals)
            elif key == "resolve":
                ok = ok and bool(r.open_escalations)
            elif key == "plan":
                ok = ok and self._care_plan_editor() is not None
                b.setToolTip(
                    "Open the care plan (Ctrl+Shift+P)"
                    if ok
                    else "The care-plan editor is not available in this build"
                )
            b.setEnabled(ok)
        self.browser.setHtml(record_html(r, today))

    def clear(self) -> None:
        self.heading.setText("No one selected")
        self.browser.setHtml("<p>Select a person in the caseload to see their record.</p>")
        for b in self.buttons.values():
            b.setEnabled(False)

    # --- actions ------------------------------------------------------------------------------

    def _record(self) -> pr.PatientRecord | None:
        r = self.page.record
        if r is None or r.patient_id != self.page.current_patient:
            return None
        return r

    def _open(self, title: str, intro: str, fields: list[Field], call: Any, ok: str) -> None:
        r = self._record()
        if r is None:
            return
        actor = self.ctx.actor
        pid = r.patient_id

        def submit(s: Any, v: dict[str, Any]) -> Any:
            return call(s, actor, pid, v)

        dialog = ActionDialog(self.ctx, title, intro, fields, submit, ok_text=ok, parent=self)
        self.dialog = dialog
        dialog.show()

    def add_contact(self) -> None:
        r = self._record()
        if r is None:
            return
        kinds = [(k.value, k.label) for k in ContactKind if k is not ContactKind.HUDDLE_DISCUSSION]
        self._open(
            "Add contact", f"Record a contact with or about {r.display_name}.",
            [Field("kind", "Type", "choice", kinds),
             Field("occurred_at", "When", "datetime"),
             Field("text", "What happened *", "text", aliases=("text",))],
            lambda s, a, pid, v: pa.add_contact(session=s, actor=a, patient_id=pid, **v),
            "Save contact",
        )  # fmt: skip

    def _member_choices(self, lead: uuid.UUID | None = None) -> list[tuple[Any, str]]:
        """Team members to choose from; the person's named lead professional says so."""
        choices = self.page.choices
        leads = choices.leads if choices else []
        lead_hex = lead.hex if lead else None
        return [
            (c.id, f"{c.label} (named lead professional)" if c.id == lead_hex else c.label)
            for c in leads
        ]

    def _lead(self) -> uuid.UUID | None:
        """The named lead professional of the person shown (their first active cohort's)."""
        r = self._record()
        leads = [m.lead_member_id for m in (r.active_memberships if r else []) if m.lead_member_id]
        return leads[0] if leads else None

    def allocate_task(self) -> None:
        choices = self.page.choices
        teams = [(t.id, t.label) for t in (choices.teams if choices else [])]
        lead = self._lead()
        self._open(
            "Allocate task", "Allocate to a team, a role and/or a named person, with a due date. "
            "Nobody is chosen for you" + (", except the named lead professional." if lead else "."),
            [Field("description", "Task *", "line"),
             Field("due_on", "Due *", "date", default=london_today() + timedelta(days=7),
                   min_date=london_today()),
             Field("owner_team_id", "Team", "choice", [(None, "—")] + teams),
             Field("owner_role", "Role", "choice", [(None, "—")] + [(x.value, x.label) for x in Role]),
             Field("owner_member_id", "Person", "choice", [(None, "—")] + self._member_choices(lead),
                   default=lead.hex if lead else None, aliases=("owner",)),
             Field("kind", "Kind", "choice", [(TaskKind.TASK.value, "Task"),
                                              (TaskKind.HOME_VISIT.value, "Planned home visit")])],
            lambda s, a, pid, v: pa.allocate_task(session=s, actor=a, patient_id=pid, **v),
            "Allocate",
        )  # fmt: skip

    def refer(self) -> None:
        self._open(
            "Refer", "Refer to one of the four pillars or a partner service.",
            [Field("service", "Service *", "choice",
                   [(None, "Choose a service…")] + [(x.value, x.label) for x in ReferralService],
                   required=True),
             Field("reason", "Reason *", "text"),
             Field("to_member_id", "To (optional)", "choice", [(None, "—")] + self._member_choices())],
            lambda s, a, pid, v: pa.refer(session=s, actor=a, patient_id=pid, **v),
            "Send referral",
        )  # fmt: skip

    def referral_outcome(self) -> None:
        r = self._record()
        if r is None or not r.open_referrals:
            return
        self._open(
            "Referral outcome", "Record what happened to the referral.",
            [Field("referral_id", "Referral", "choice",
                   [(o.id.hex, f"{o.label} ({o.detail})") for o in r.open_referrals]),
             Field("status", "Status", "choice",
                   [(x.value, x.value.capitalize()) for x in ReferralStatus if x is not ReferralStatus.SENT]),
             Field("outcome", "Outcome", "text")],
            lambda s, a, pid, v: pa.record_referral_outcome(session=s, actor=a, **v),
            "Save outcome",
        )  # fmt: skip

    def escalate(self) -> None:
        self._open(
            "Escalate to the clinical lead", "Say what worries you; the INT clinical lead is told.",
            [Field("reason", "Reason *", "text")],
            lambda s, a, pid, v: pa.escalate(session=s, actor=a, patient_id=pid, **v),
            "Escalate",
        )  # fmt: skip

    def resolve(self) -> None:
        r = self._record()
        if r is None or not r.open_escalations:
            return
        self._open(
            "Resolve escalation", "",
            [Field("escalation_id", "Escalation", "choice",
                   [(o.id.hex, o.detail) for o in r.open_escalations]),
             Field("resolution", "Resolution *", "text")],
            lambda s, a, pid, v: pa.resolve_escalation(session=s, actor=a, **v),
            "Resolve",
        )  # fmt: skip

    def add_to_huddle(self) -> None:
        self._open(
            "Add to next huddle", "The person goes on the agenda of the team's next huddle.",
            [Field("note", "Why (optional)", "line")],
            lambda s, a, pid, v: pa.add_to_next_huddle(session=s, actor=a, patient_id=pid, **v),
            "Add to huddle",
        )  # fmt: skip

    def set_flag(self) -> None:
        r = self._record()
        if r is None:
            return
        raised = {code for code, _ in r.flags}
        self._open(
            "Flags", "Raise or clear a flag. Currently: "
            + (", ".join(c.label for c in raised) or "none") + ".",
            [Field("code", "Flag", "choice", [(f.value, f.label) for f in FlagCode]),
             Field("active", "Raised", "check", default=True,
                   help="Untick to clear the flag"),
             Field("note", "Note (optional)", "line")],
            lambda s, a, pid, v: pa.set_flag(session=s, actor=a, patient_id=pid, **v),
            "Save flag",
        )  # fmt: skip

    def set_information_needs(self) -> None:
        """Accessible Information Standard needs; large print makes the carer copy large."""
        r = self._record()
        if r is None:
            return
        recorded = set(r.information_needs)
        fields = [Field(n.value, n.label, "check", default=n in recorded) for n in InformationNeed]
        self._open(
            "Information and communication needs",
            f"The formats and support {r.display_name} needs (Accessible Information "
            "Standard). Large print makes their care plan's carer copy large print.",
            fields,
            lambda s, a, pid, v: set_information_needs(
                session=s, actor=a, patient_id=pid, chosen=[k for k, on in v.items() if on]
            ),
            "Save needs",
        )

    def record_hospital(self) -> None:
        """An admission, discharge or ED attendance on the record (counted by the scorecard
        as an imported one; a discharge brings the person to the huddle agenda)."""
        from int_desk.services.admissions_import import record_hospital_event

        r = self._record()
        if r is None:
            return
        kinds = [HealthEventKind.EMERGENCY_ADMISSION, HealthEventKind.ADMISSION,
                 HealthEventKind.DISCHARGE, HealthEventKind.ED_ATTENDANCE]  # fmt: skip
        self._open(
            "Hospital admission or discharge",
            f"Record {r.display_name}'s hospital admission, discharge or ED attendance.",
            [Field("kind", "What", "choice", [(k.value, k.label) for k in kinds]),
             Field("on", "Date *", "date", default=london_today()),
             Field("provider", "Hospital", "line", help="e.g. John Radcliffe Hospital")],
            lambda s, a, pid, v: record_hospital_event(
                session=s, actor=a, patient_id=pid, kind=HealthEventKind(v["kind"]),
                on=v["on"], provider=v.get("provider") or ""),
            "Record",
        )  # fmt: skip

    def set_lead(self) -> None:
        r = self._record()
        if r is None:
            return
        active = r.active_memberships
        if not active:
            return
        self._open(
            "Named lead professional", "Name the lead professional for a cohort.",
            [Field("membership_id", "Cohort", "choice",
                   [(m.id.hex, f"{m.cohort} (lead: {m.lead or 'not named'})") for m in active]),
             Field("member_id", "Lead professional", "choice",
                   [(None, "Not named")] + self._member_choices())],
            lambda s, a, pid, v: pa.set_lead_professional(session=s, actor=a, **v),
            "Save",
        )  # fmt: skip

    def enrol_or_discharge(self) -> None:
        r = self._record()
        if r is None:
            return
        choices = self.page.choices
        enrolled = {m.cohort_id.hex for m in r.active_memberships}
        cohorts = [
            (c.id, c.label) for c in (choices.cohorts if choices else []) if c.id not in enrolled
        ]
        options: list[tuple[Any, str]] = [(("discharge", m.id.hex), f"Discharge from {m.cohort}")
                                          for m in r.active_memberships]  # fmt: skip
        options += [(("enrol", cid), f"Enrol into {label}") for cid, label in cohorts]

        def call(s: Any, a: Any, pid: uuid.UUID, v: dict[str, Any]) -> Any:
            what, ident = v["change"]
            if what == "discharge":
                return pa.discharge_from_cohort(
                    session=s, actor=a, membership_id=uuid.UUID(ident), reason=v["reason"]
                )
            return pa.enrol(
                session=s, actor=a, patient_id=pid, cohort_id=uuid.UUID(ident),
                reason=v["reason"], priority=v["priority"],
            )  # fmt: skip

        self._open(
            "Enrol or discharge", "Cohort changes keep their history; give the reason.",
            [Field("change", "Change", "choice", options),
             Field("reason", "Reason *", "text"),
             Field("priority", "Priority (enrol)", "choice",
                   [(p.value, p.value.capitalize()) for p in Priority], default="medium")],
            call, "Save",
        )  # fmt: skip

    def complete_task(self) -> None:
        r = self._record()
        if r is None or not r.open_tasks:
            return
        self._open(
            "Complete task", "Mark a task as done.",
            [Field("task_id", "Task", "choice",
                   [(t.id.hex, f"{t.description} (due {short_date(t.due_on)})") for t in r.open_tasks])],
            lambda s, a, pid, v: pa.complete_task(session=s, actor=a, **v),
            "Mark complete",
        )  # fmt: skip

    def _care_plan_editor(self) -> Any:
        try:
            module = importlib.import_module(CARE_PLAN_MODULE)
        except ImportError:
            return None
        return getattr(module, "CarePlanEditor", None)

    def open_care_plan(self) -> None:
        r = self._record()
        editor = self._care_plan_editor()
        if r is None or editor is None:
            return
        try:
            editor.open_for(self.ctx, r.patient_id, self)
        except Exception as exc:  # the editor reports its own errors; never lose the page
            show_error(self, exc)
