"""The care-plan editor: sections with inline validation, autosaved drafts, undo, sign-off,
history with version diff, and PDF export.

    CarePlanEditor.open_for(ctx, patient_id, parent)     # loads off the GUI thread, then shows

Drafts save themselves: every change is queued and written to the store ``AUTOSAVE_MS`` after
typing pauses (and on close), so a crash loses at most that moment. Goals and actions are saved
row by row as they are added or edited. Undo/redo (Ctrl+Z / Ctrl+Shift+Z) covers field edits
and added or removed goals and actions. Everything goes through ``services.care_plans`` and
``services.care_plan_export`` on the task runner, so the GUI obeys the same permission,
consent and audit rules as the CLI.

Signals: ``saved(object)`` (plan id, after an autosave), ``signed_off(object)`` (plan id).
"""

from __future__ import annotations

import logging
import uuid
from collections.abc import Callable
from datetime import date
from pathlib import Path
from typing import Any

from PySide6.QtCore import QDate, Qt, QTimer, Signal
from PySide6.QtGui import QCloseEvent, QKeySequence, QShortcut, QUndoStack
from PySide6.QtWidgets import (
    QAbstractItemView,
    QComboBox,
    QFileDialog,
    QHeaderView,
    QInputDialog,
    QPlainTextEdit,
    QWidget,
)
from sqlalchemy.orm import Session

from int_desk.app.care_plan_rows import PlanRows, find_data
from int_desk.app.care_plan_undo import FieldCommand
from int_desk.app.context import AppContext
from int_desk.app.forms.care_plan_editor import Ui_CarePlanEditorDialog
from int_desk.app.messages import confirm, show_error
from int_desk.domain import care_plan as rules
from int_desk.domain import information_needs
from int_desk.domain.care_plan import ConsentNotGiven, PlanView, Variant
from int_desk.domain.uk_time import in_london, london_today
from int_desk.domain.vocab import CarePlanStatus, ConsentDecision, Role
from int_desk.services import care_plan_export as export
from int_desk.services import care_plan_views
from int_desk.services import care_plans as cp
from int_desk.services.care_plan_views import EditorData, load_editor_data

log = logging.getLogger(__name__)

AUTOSAVE_MS = 700
TEXT_FIELDS = {
    "about_me": "aboutMeEdit",
    "what_matters": "whatMattersEdit",
    "contingency_plan": "contingencyEdit",
    "carer_involvement": "carerInvolvementEdit",
    "clinical_summary": "clinicalSummaryEdit",
    "medicines_notes": "medicinesEdit",
}
FIELD_TABS = {  # where each sign-off problem is fixed
    "goals": "goalsTab",
    "review_date": "consentTab",
    "consent_decision": "consentTab",
}
NO_DATE = QDate(2000, 1, 1)  # the date edit's minimum shows as "Not set"
GOAL_HEADERS = (
    "Goal (in the person's own words)",
    "Measurable target",
    "By (YYYY-MM-DD)",
    "Progress",
)
ACTION_HEADERS = ("What", "Who", "When", "Status", "Goal")


# --- the dialog ------------------------------------------------------------------------------


class CarePlanEditor(PlanRows):
    saved = Signal(object)
    signed_off = Signal(object)

    _open: set[CarePlanEditor] = set()  # editors without a parent stay alive while shown

    @classmethod
    def open_for(
        cls,
        ctx: AppContext,
        patient_id: uuid.UUID,
        parent: QWidget | None = None,
        on_open: Callable[[CarePlanEditor], None] | None = None,
    ) -> None:
        """Load the person's plan off the GUI thread, then show the editor (non-modal)."""

        def loaded(data: EditorData) -> None:
            editor = cls(ctx, data, parent)
            if parent is None:
                cls._open.add(editor)
                editor.finished.connect(lambda _r: cls._open.discard(editor))
            editor.show()
            if on_open:
                on_open(editor)

        ctx.query(
            lambda s: load_editor_data(s, ctx.actor, patient_id),
            loaded,
            lambda exc: show_error(parent, exc),
        )

    def __init__(self, ctx: AppContext, data: EditorData, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.ctx = ctx
        self.form = Ui_CarePlanEditorDialog()
        self.form.setupUi(self)
        self.undo_stack = QUndoStack(self)
        self._timer = QTimer(self)
        self._timer.setSingleShot(True)
        self._timer.setInterval(AUTOSAVE_MS)
        self._pending: dict[str, Any] = {}
        self._values: dict[str, Any] = {}
        self._in_flight = 0
        self._loading = False
        self._show_errors = False
        self._closed = False
        self._large_print_for: Any = None  # the person whose recorded need set the tick box
        self.data = data
        self._setup_widgets()
        self._connect_signals()
        self._load(data)

    # --- state ---------------------------------------------------------------------------------

    @property
    def plan(self) -> PlanView | None:
        return self.data.view

    @property
    def is_draft(self) -> bool:
        return self.plan is not None and self.plan.status == CarePlanStatus.DRAFT.value

    @property
    def is_saved(self) -> bool:
        """True when nothing typed is waiting to be written to the store."""
        return not self._pending and self._in_flight == 0

    # --- setup ---------------------------------------------------------------------------------

    def _setup_widgets(self) -> None:
        f = self.form
        for name in TEXT_FIELDS.values():
            edit: QPlainTextEdit = getattr(f, name)
            edit.setUndoRedoEnabled(False)  # one undo history for the whole plan
        f.reviewDateEdit.setMinimumDate(NO_DATE)
        f.reviewDateEdit.setMaximumDate(QDate(2100, 12, 31))
        f.consentCombo.addItem("Not recorded", None)
        f.consentCombo.addItem("Given (permit sharing)", ConsentDecision.PERMIT.value)
        f.consentCombo.addItem("Declined (do not share)", ConsentDecision.DENY.value)
        f.actionRoleCombo.addItem("Who (role)…", None)
        for role in Role:
            if role not in (Role.ADMIN,):
                f.actionRoleCombo.addItem(role.label, role.value)
        for table, headers in ((f.goalsTable, GOAL_HEADERS), (f.actionsTable, ACTION_HEADERS)):
            table.setColumnCount(len(headers))
            table.setHorizontalHeaderLabels(headers)
            table.verticalHeader().setVisible(True)
            table.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
            table.setSelectionMode(QAbstractItemView.SelectionMode.SingleSelection)
            table.setEditTriggers(
                QAbstractItemView.EditTrigger.DoubleClicked
                | QAbstractItemView.EditTrigger.EditKeyPressed
                | QAbstractItemView.EditTrigger.AnyKeyPressed
            )
            table.setWordWrap(True)
            header = table.horizontalHeader()
            header.setSectionResizeMode(0, QHeaderView.ResizeMode.Stretch)
            for col in range(1, len(headers)):
                header.setSectionResizeMode(col, QHeaderView.ResizeMode.ResizeToContents)
        f.problemsLabel.setTextFormat(Qt.TextFormat.PlainText)
        f.goalAddLayout.setStretch(1, 3)
        f.goalAddLayout.setStretch(2, 2)
        f.actionAddLayout.setStretch(1, 4)
        f.actionAddLayout.setStretch(2, 2)
        f.actionAddLayout.setStretch(3, 2)
        f.actionAddLayout.setStretch(4, 2)
        for combo in (f.actionRoleCombo, f.actionGoalCombo):
            combo.setSizeAdjustPolicy(
                QComboBox.SizeAdjustPolicy.AdjustToMinimumContentsLengthWithIcon
            )
            combo.setMinimumContentsLength(10)
        f.actionInputEdit.setMinimumWidth(240)
        f.actionWhenEdit.setMinimumWidth(110)
        self.resize(1000, 700)

    def _connect_signals(self) -> None:
        f = self.form
        self._timer.timeout.connect(self.save_now)
        for name, widget in TEXT_FIELDS.items():
            getattr(f, widget).textChanged.connect(lambda n=name: self._field_edited(n))
        f.consentWithEdit.textEdited.connect(lambda _t: self._field_edited("consent_with"))
        f.reviewDateEdit.dateChanged.connect(lambda _d: self._field_edited("review_date"))
        f.consentCombo.currentIndexChanged.connect(
            lambda _i: self._field_edited("consent_decision")
        )
        f.leadCombo.currentIndexChanged.connect(lambda _i: self._field_edited("lead_member_id"))
        f.addGoalButton.clicked.connect(self.add_goal)
        f.goalInputEdit.returnPressed.connect(self.add_goal)
        f.goalTargetEdit.returnPressed.connect(self.add_goal)
        f.removeGoalButton.clicked.connect(lambda: self._remove_selected("goal"))
        f.addActionButton.clicked.connect(self.add_action)
        f.actionInputEdit.returnPressed.connect(self.add_action)
        f.actionWhenEdit.returnPressed.connect(self.add_action)
        f.removeActionButton.clicked.connect(lambda: self._remove_selected("action"))
        f.goalsTable.itemChanged.connect(lambda item: self._cell_edited("goal", item))
        f.actionsTable.itemChanged.connect(lambda item: self._cell_edited("action", item))
        f.undoButton.clicked.connect(self.undo_stack.undo)
        f.redoButton.clicked.connect(self.undo_stack.redo)
        self.undo_stack.canUndoChanged.connect(f.undoButton.setEnabled)
        self.undo_stack.canRedoChanged.connect(f.redoButton.setEnabled)
        f.signOffButton.clicked.connect(self.sign_off)
        f.newDraftButton.clicked.connect(self.start_draft)
        f.exportButton.clicked.connect(lambda: self.export(Variant.PROFESSIONAL))
        f.carerCopyButton.clicked.connect(lambda: self.export(Variant.CARER))
        f.closeButton.clicked.connect(self.close)
        f.diffButton.clicked.connect(self.show_diff)
        shortcuts = (
            (QKeySequence.StandardKey.Undo, self.undo_stack.undo),
            (QKeySequence.StandardKey.Redo, self.undo_stack.redo),
            ("Ctrl+Shift+Z", self.undo_stack.redo),
            (QKeySequence.StandardKey.Save, self.save_now),
            ("Ctrl+E", lambda: self.export(Variant.PROFESSIONAL)),
            ("Ctrl+Return", self.sign_off),
        )
        for key, slot in shortcuts:
            shortcut = QShortcut(QKeySequence(key), self)
            shortcut.setContext(Qt.ShortcutContext.WindowShortcut)
            shortcut.activated.connect(slot)

    # --- loading -------------------------------------------------------------------------------

    def _load(self, data: EditorData) -> None:
        """Show ``data``; called on open and after sign-off / new draft (not after autosave)."""
        self.data = data
        self._loading = True
        try:
            f = self.form
            v = data.view
            f.leadCombo.clear()
            f.leadCombo.addItem("Not recorded", None)
            for mid, label in data.members:
                f.leadCombo.addItem(label, mid)
            if v is None:
                self._values = {}
                self.setWindowTitle("Care plan")
                f.titleLabel.setText(f"<b>{_e(data.patient_label)}</b>")
                f.statusLabel.setText("No care plan yet.")
            else:
                self._values = {
                    **{name: getattr(v, name) for name in TEXT_FIELDS},
                    "consent_with": v.consent_with,
                    "review_date": v.review_date,
                    "consent_decision": v.consent_decision,
                    "lead_member_id": v.lead_member_id,
                }
                if v.lead_member_id and find_data(f.leadCombo, v.lead_member_id) < 0:
                    f.leadCombo.addItem(v.lead, v.lead_member_id)  # a lead from another team
                for name in self._values:
                    self._set_widget(name, self._values[name])
                self.setWindowTitle(f"Care plan - version {v.version}")
                f.titleLabel.setText(f"<b>{_e(data.patient_label)}</b>")
                f.statusLabel.setText(self._status_text(v, data.today))
                recorded = (
                    f"Recorded by {v.consent_recorded_by} on {v.consent_date:%d %b %Y}"
                    if v.consent_recorded_by and v.consent_date
                    else ""
                )
                f.consentRecordedLabel.setText(recorded)
            self._fill_rows()
            self._fill_history()
            self._apply_permissions()
            self.undo_stack.clear()
        finally:
            self._loading = False
        self._refresh_validation()

    def _status_text(self, v: PlanView, today: date) -> str:
        label = rules.status_label(v.status, v.review_date, today)
        text = f"Version {v.version}: {label}."
        if v.signed_off_at:
            text += f" Signed off by {v.signed_off_by} on {in_london(v.signed_off_at):%d %b %Y}."
        if v.status != CarePlanStatus.DRAFT.value:
            text += " Signed-off versions cannot be changed; start a new draft to edit."
        if v.clinical_redacted:
            text += " Clinical notes are hidden for your role."
        return text

    def _fill_history(self) -> None:
        f = self.form
        f.historyList.clear()
        f.diffFromCombo.clear()
        f.diffToCombo.clear()
        for info in self.data.history:
            f.historyList.addItem(info.describe())
            label = f"v{info.version} ({info.status})"
            f.diffFromCombo.addItem(label, info.plan_id)
            f.diffToCombo.addItem(label, info.plan_id)
        if f.diffFromCombo.count() > 1:
            f.diffFromCombo.setCurrentIndex(1)  # previous version -> newest
        f.diffButton.setEnabled(f.diffFromCombo.count() > 1)
        f.diffText.setPlainText("")

    def _apply_permissions(self) -> None:
        f = self.form
        d = self.data
        v = d.view
        editable = self.is_draft and d.can_edit
        for name in TEXT_FIELDS.values():
            getattr(f, name).setReadOnly(not editable)
        for w in (
            f.consentWithEdit,
            f.reviewDateEdit,
            f.consentCombo,
            f.leadCombo,
            f.goalInputEdit,
            f.goalTargetEdit,
            f.addGoalButton,
            f.removeGoalButton,
            f.actionInputEdit,
            f.actionRoleCombo,
            f.actionWhenEdit,
            f.actionGoalCombo,
            f.addActionButton,
            f.removeActionButton,
        ):
            w.setEnabled(editable)
        clinical_editable = editable and d.can_see_clinical
        f.clinicalSummaryEdit.setReadOnly(not clinical_editable)
        f.medicinesEdit.setReadOnly(not clinical_editable)
        f.sectionsTab.setTabEnabled(f.sectionsTab.indexOf(f.clinicalTab), d.can_see_clinical)
        f.signOffButton.setEnabled(self.is_draft and d.can_sign)
        f.signOffButton.setToolTip(
            "Sign off this draft (Ctrl+Enter)"
            if d.can_sign
            else "Only the clinical lead, or a role your team allows, can sign off."
        )
        startable = d.can_edit and (v is None or v.status == CarePlanStatus.ACTIVE.value)
        f.newDraftButton.setVisible(startable)
        f.newDraftButton.setText("Start &care plan" if v is None else "Start &new draft")
        f.exportButton.setEnabled(v is not None and d.can_export and d.can_see_clinical)
        f.carerCopyButton.setEnabled(v is not None and d.can_export)
        f.largePrintCheck.setEnabled(v is not None and d.can_export)
        if v is not None and self._large_print_for != v.patient.id:
            # The person's recorded need (Accessible Information Standard) picks the default;
            # set once per person so a refresh never undoes the user's own choice.
            self._large_print_for = v.patient.id
            needed = information_needs.wants_large_print(v.patient.information_needs)
            f.largePrintCheck.setChecked(needed)
            f.largePrintCheck.setText("Large &print (recorded need)" if needed else "Large &print")
        f.undoButton.setEnabled(False)
        f.redoButton.setEnabled(False)
        f.sectionsTab.setEnabled(v is not None)

    # --- field edits, undo, autosave -----------------------------------------------------------

    def _widget_value(self, name: str) -> Any:
        f = self.form
        if name in TEXT_FIELDS:
            return getattr(f, TEXT_FIELDS[name]).toPlainText()
        if name == "consent_with":
            return f.consentWithEdit.text()
        if name == "review_date":
            qd = f.reviewDateEdit.date()
            return None if qd == NO_DATE else date(qd.year(), qd.month(), qd.day())
        if name == "consent_decision":
            return f.consentCombo.currentData()
        if name == "lead_member_id":
            return f.leadCombo.currentData()
        raise KeyError(name)

    def _set_widget(self, name: str, value: Any) -> None:
        f = self.form
        was = self._loading
        self._loading = True
        try:
            if name in TEXT_FIELDS:
                edit: QPlainTextEdit = getattr(f, TEXT_FIELDS[name])
                if edit.toPlainText() != (value or ""):
                    edit.setPlainText(value or "")
            elif name == "consent_with":
                f.consentWithEdit.setText(value or "")
            elif name == "review_date":
                f.reviewDateEdit.setDate(
                    QDate(value.year, value.month, value.day) if value else NO_DATE
                )
            elif name == "consent_decision":
                f.consentCombo.setCurrentIndex(max(0, find_data(f.consentCombo, value)))
            elif name == "lead_member_id":
                f.leadCombo.setCurrentIndex(max(0, find_data(f.leadCombo, value)))
        finally:
            self._loading = was

    def _field_edited(self, name: str) -> None:
        if self._loading or not self.is_draft:
            return
        new = self._widget_value(name)
        old = self._values.get(name)
        if (new or None) == (old or None):
            return
        self.undo_stack.push(FieldCommand(self, name, old, new))

    def apply_field(self, name: str, value: Any, *, update_widget: bool) -> None:
        """Record a field value (from typing, undo or redo) and schedule the autosave."""
        if update_widget:
            self._set_widget(name, value)
        self._values[name] = value
        self._pending[name] = value
        self.form.saveStatusLabel.setText("Unsaved changes…")
        self._timer.start()
        self._refresh_validation()

    def save_now(self) -> None:
        """Write queued field changes to the store now (autosave calls this)."""
        self._timer.stop()
        if not self._pending or self.plan is None or not self.is_draft:
            return
        changes = dict(self._pending)
        self._pending.clear()
        plan_id = self.plan.id
        actor = self.ctx.actor
        self._in_flight += 1

        def done(_changed: list[str]) -> None:
            self._in_flight -= 1
            if self._closed:
                return
            if self.is_saved:
                self.form.saveStatusLabel.setText(f"Draft saved {london_today():%d %b} ✓")
            self.saved.emit(plan_id)

        def failed(exc: BaseException) -> None:
            self._in_flight -= 1
            for name, value in changes.items():  # keep them queued for the next attempt
                self._pending.setdefault(name, value)
            if not self._closed:
                self.form.saveStatusLabel.setText("Not saved - see the message")
                show_error(self, exc)

        self.ctx.query(
            lambda s: cp.update_plan(session=s, actor=actor, plan_id=plan_id, changes=changes),
            done,
            failed,
        )

    # --- validation ----------------------------------------------------------------------------

    def problems(self) -> list[rules.Problem]:
        if self.plan is None:
            return []
        goals = sum(1 for g in self.plan.goals if g.lifecycle_status != "cancelled")
        return rules.sign_off_problems(
            goals=goals,
            review_date=self._values.get("review_date"),
            consent_decision=self._values.get("consent_decision"),
            today=self.data.today,
        )

    def _refresh_validation(self) -> None:
        f = self.form
        problems = self.problems() if self.is_draft else []
        by_field = {p.field: p.message for p in problems}
        show = self._show_errors
        f.goalsError.setText(by_field.get("goals", "") if show else "")
        f.reviewDateError.setText(by_field.get("review_date", "") if show else "")
        f.consentError.setText(by_field.get("consent_decision", "") if show else "")
        if not self.is_draft:
            f.problemsLabel.setText("")
        elif problems:
            f.problemsLabel.setText("Before sign-off: " + " ".join(p.message for p in problems))
        else:
            f.problemsLabel.setText("Ready to sign off.")

    # --- lifecycle -----------------------------------------------------------------------------

    def _reload(self, then: Callable[[], None] | None = None) -> None:
        actor = self.ctx.actor
        patient_id = self.data.patient_id

        def done(data: EditorData) -> None:
            if not self._closed:
                self._load(data)
                if then:
                    then()

        self.ctx.query(
            lambda s: load_editor_data(s, actor, patient_id, audit_read=False),
            done,
            lambda e: show_error(self, e),
        )

    def start_draft(self) -> None:
        actor = self.ctx.actor
        patient_id = self.data.patient_id

        def work(s: Session) -> EditorData:
            cp.start_plan(session=s, actor=actor, patient_id=patient_id)
            s.flush()
            return load_editor_data(s, actor, patient_id, audit_read=False)

        def done(data: EditorData) -> None:
            self._load(data)
            self.form.sectionsTab.setCurrentWidget(self.form.aboutTab)
            self.form.aboutMeEdit.setFocus()

        self.ctx.query(work, done, lambda e: show_error(self, e))

    def _confirm_sign_off(self) -> bool:
        return confirm(
            self,
            "Sign off care plan",
            "Sign off this version? It becomes the active plan shared with the team and "
            "cannot be changed afterwards (changes start a new draft).",
            ok="Sign off",
        )

    def sign_off(self) -> None:
        if not (self.is_draft and self.data.can_sign) or self.plan is None:
            return
        self._show_errors = True
        self._refresh_validation()
        problems = self.problems()
        if problems:
            tab = getattr(self.form, FIELD_TABS.get(problems[0].field, "aboutTab"))
            self.form.sectionsTab.setCurrentWidget(tab)
            return
        if not self._confirm_sign_off():
            return
        self.save_now()  # queued before the sign-off on the same store worker
        plan_id = self.plan.id
        actor = self.ctx.actor
        patient_id = self.data.patient_id
        self.form.signOffButton.setEnabled(False)

        def work(s: Session) -> EditorData:
            cp.sign_off(session=s, actor=actor, plan_id=plan_id)
            s.flush()
            return load_editor_data(s, actor, patient_id, audit_read=False)

        def done(data: EditorData) -> None:
            self._show_errors = False
            self._load(data)
            self.form.saveStatusLabel.setText("Signed off ✓")
            self.signed_off.emit(plan_id)

        def failed(exc: BaseException) -> None:
            self.form.signOffButton.setEnabled(self.is_draft and self.data.can_sign)
            show_error(self, exc)

        self.ctx.query(work, done, failed)

    # --- history and export --------------------------------------------------------------------

    def show_diff(self) -> None:
        f = self.form
        a, b = f.diffFromCombo.currentData(), f.diffToCombo.currentData()
        if a is None or b is None:
            return
        actor = self.ctx.actor
        self.ctx.query(
            lambda s: care_plan_views.diff(
                session=s, actor=actor, from_plan_id=a, to_plan_id=b
            ).lines(),
            lambda lines: f.diffText.setPlainText("\n".join(lines)),
            lambda e: show_error(self, e),
        )

    def _ask_save_path(self, suggested: str) -> Path | None:
        from int_desk.settings_schema import Preferences  # Settings > Save PDFs to

        folder = Preferences(self.ctx.settings).pdf_folder()
        path, _ = QFileDialog.getSaveFileName(
            self, "Export care plan", str(folder / suggested), "PDF (*.pdf)"
        )
        return Path(path) if path else None

    def _ask_override_reason(self) -> str | None:
        text, ok = QInputDialog.getMultiLineText(
            self,
            "Share without consent",
            "The person declined (or has not recorded) consent to share this plan.\n"
            "As clinical lead you may override: give the reason (it is kept on their record).",
        )
        return text.strip() if ok and text.strip() else None

    def export(
        self, variant: Variant, override_reason: str | None = None, path: Path | None = None
    ) -> None:
        if self.plan is None:
            return
        self.save_now()
        view = self.plan
        large = variant is Variant.CARER and self.form.largePrintCheck.isChecked()
        path = path or self._ask_save_path(export.file_name(view, variant, large))
        if path is None:
            return
        actor = self.ctx.actor

        def work(s: Session) -> export.ExportResult:
            return export.export_plan(
                session=s,
                actor=actor,
                plan_id=view.id,
                out=path,
                variant=variant,
                override_reason=override_reason,
                large_print=large if variant is Variant.CARER else None,
            )

        def done(result: export.ExportResult) -> None:
            note = " (consent override recorded)" if result.consent_override else ""
            if result.large_print:
                note += " in large print"
            if result.unmet_needs:
                needs = ", ".join(n.label.lower() for n in result.unmet_needs)
                note += f". Their record also asks for: {needs}; arrange that too"
            self.form.saveStatusLabel.setText(f"Exported {result.path.name}{note}")

        def failed(exc: BaseException) -> None:
            if (
                isinstance(exc, ConsentNotGiven)
                and self.data.can_override
                and override_reason is None
            ):
                reason = self._ask_override_reason()
                if reason:
                    self.export(variant, override_reason=reason, path=path)
                return
            show_error(self, exc)

        self.ctx.query(work, done, failed)

    # --- closing -------------------------------------------------------------------------------

    def closeEvent(self, event: QCloseEvent) -> None:  # noqa: N802 - Qt's name
        self.save_now()  # the queued write still runs after the window has gone
        self._closed = True
        super().closeEvent(event)

    def reject(self) -> None:  # Esc, and QDialog's own close handling
        self.save_now()
        self._closed = True
        super().reject()


def _e(text: str) -> str:
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
