"""The care-plan editor through real widgets (pytest-qt, offscreen): start a plan, type into
sections (autosaved), add goals and actions, undo, see inline validation block sign-off, sign
off, then check the store, the history/diff view, export, and who may sign off."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path

import pypdf
import pytest
from PySide6.QtCore import QDate, Qt
from pytestqt.qtbot import QtBot
from sqlalchemy import select

from int_desk.app.care_plan_editor import CarePlanEditor
from int_desk.app.context import AppContext
from int_desk.app.events import Events
from int_desk.app.main import settings
from int_desk.app.tasks import TaskRunner
from int_desk.domain.uk_time import london_today
from int_desk.domain.vocab import Role
from int_desk.services import care_plans as cp
from int_desk.services.care_plan_views import EditorData, load_editor_data
from int_desk.store.models import AuditEvent, CarePlan, Goal, Patient, PlanAction
from int_desk.store.workspace import Workspace
from tests.helpers.care_plan_data import (
    NON_ASCII_FAMILY,
    NON_ASCII_GIVEN,
    actor_with_role,
    make_signed_plan,
    patient_without_plan,
)

WAIT = 10_000


def _ctx(ws: Workspace, role: Role) -> AppContext:
    with ws.session() as s:
        actor = actor_with_role(s, role)
    return AppContext(ws, actor, Events(), TaskRunner(), settings())


@pytest.fixture
def person(demo_ws: Workspace) -> uuid.UUID:
    with demo_ws.session() as s:
        patient = patient_without_plan(s)
        patient.given_name, patient.family_name = NON_ASCII_GIVEN, NON_ASCII_FAMILY
        return patient.id


def _open(qtbot: QtBot, ctx: AppContext, patient_id: uuid.UUID) -> CarePlanEditor:
    opened: list[CarePlanEditor] = []
    CarePlanEditor.open_for(ctx, patient_id, None, on_open=opened.append)
    qtbot.waitUntil(lambda: bool(opened), timeout=WAIT)
    editor = opened[0]
    qtbot.addWidget(editor)
    return editor


def _settle(qtbot: QtBot, editor: CarePlanEditor) -> None:
    editor.save_now()
    qtbot.waitUntil(lambda: editor.is_saved, timeout=WAIT)


@pytest.fixture
def lead_ctx(demo_ws: Workspace) -> Iterator[AppContext]:
    ctx = _ctx(demo_ws, Role.CLINICAL_LEAD)
    yield ctx
    ctx.tasks.wait()


def test_edit_and_sign_off_a_plan(
    qtbot: QtBot,
    demo_ws: Workspace,
    lead_ctx: AppContext,
    person: uuid.UUID,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    editor = _open(qtbot, lead_ctx, person)
    f = editor.form
    assert "Zoë Ó'Brien-Łukasz" in f.titleLabel.text()
    assert f.statusLabel.text() == "No care plan yet."
    assert f.newDraftButton.isVisible() and "Start" in f.newDraftButton.text()

    qtbot.mouseClick(f.newDraftButton, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: editor.is_draft, timeout=WAIT)
    assert "Version 1: Draft" in f.statusLabel.text()

    # Typing autosaves on a short debounce: nothing is lost if the app dies afterwards.
    f.aboutMeEdit.setPlainText("I was a postwoman and know everyone on my round.")
    f.contingencyEdit.setPlainText("If more breathless: rescue pack, then call the INT.")
    assert f.saveStatusLabel.text() == "Unsaved changes…"
    qtbot.waitUntil(lambda: editor.is_saved and "saved" in f.saveStatusLabel.text(), timeout=WAIT)
    plan_id = editor.plan.id
    with demo_ws.session() as s:
        plan = s.get(CarePlan, plan_id)
        assert plan.about_me.startswith("I was a postwoman")
        assert plan.contingency_plan.startswith("If more breathless")

    # Undo reverts the last field edit, in the form and in the store.
    f.whatMattersEdit.setPlainText("Staying at home.")
    qtbot.keyClick(editor, Qt.Key.Key_Z, Qt.KeyboardModifier.ControlModifier)
    assert f.whatMattersEdit.toPlainText() == ""
    _settle(qtbot, editor)
    with demo_ws.session() as s:
        assert s.get(CarePlan, plan_id).what_matters == ""
    qtbot.mouseClick(f.redoButton, Qt.MouseButton.LeftButton)
    assert f.whatMattersEdit.toPlainText() == "Staying at home."

    # Sign-off is blocked, with the reasons shown beside the sections that need them.
    monkeypatch.setattr(editor, "_confirm_sign_off", lambda: True)
    qtbot.mouseClick(f.signOffButton, Qt.MouseButton.LeftButton)
    assert "at least one goal" in f.goalsError.text()
    assert "review date" in f.reviewDateError.text().lower()
    assert "consent" in f.consentError.text().lower()
    assert f.sectionsTab.currentWidget() is f.goalsTab
    assert f.problemsLabel.text().startswith("Before sign-off:")

    # Goals and actions are added with the keyboard (Enter).
    f.goalInputEdit.setFocus()
    f.goalInputEdit.setText("I want to walk to the shop on my own again.")
    f.goalTargetEdit.setText("Walks 200 m with a frame")
    qtbot.keyClick(f.goalTargetEdit, Qt.Key.Key_Return)
    qtbot.waitUntil(lambda: f.goalsTable.rowCount() == 1, timeout=WAIT)
    assert f.goalsError.text() == ""
    assert f.goalsTable.item(0, 0).text() == "I want to walk to the shop on my own again."
    f.actionInputEdit.setText("Falls prevention class referral")
    f.actionRoleCombo.setCurrentIndex(f.actionRoleCombo.findData(Role.PHYSIO_OT.value))
    f.actionWhenEdit.setText("Within 2 weeks")
    f.actionGoalCombo.setCurrentIndex(1)
    qtbot.mouseClick(f.addActionButton, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: f.actionsTable.rowCount() == 1, timeout=WAIT)
    assert "Physiotherapist / OT" in f.actionsTable.item(0, 1).text()
    assert f.actionsTable.cellWidget(0, 4).currentText() == "1"  # linked to goal 1
    # A second goal, then undo removes it again.
    f.goalInputEdit.setText("Temporary goal")
    qtbot.mouseClick(f.addGoalButton, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: f.goalsTable.rowCount() == 2, timeout=WAIT)
    qtbot.mouseClick(f.undoButton, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: f.goalsTable.rowCount() == 1, timeout=WAIT)

    f.reviewDateEdit.setDate(QDate.currentDate().addDays(90))
    assert f.reviewDateError.text() == ""
    f.consentCombo.setCurrentIndex(f.consentCombo.findData("permit"))
    f.consentWithEdit.setText("INT members, GP practice, care agencies")
    f.consentWithEdit.textEdited.emit(f.consentWithEdit.text())
    assert f.consentError.text() == "" and f.problemsLabel.text() == "Ready to sign off."

    with qtbot.waitSignal(editor.signed_off, timeout=WAIT):
        qtbot.keyClick(editor, Qt.Key.Key_Return, Qt.KeyboardModifier.ControlModifier)
    assert "Version 1: Active" in f.statusLabel.text()
    assert f.aboutMeEdit.isReadOnly() and not f.signOffButton.isEnabled()
    assert f.newDraftButton.isVisible() and "new draft" in f.newDraftButton.text()

    with demo_ws.session() as s:
        plan = s.get(CarePlan, plan_id)
        assert plan.status == "active" and plan.signed_off_by == lead_ctx.actor.member_id
        assert plan.review_date == london_today() + timedelta(days=90)
        assert plan.consent_decision == "permit" and plan.what_matters == "Staying at home."
        goals = s.scalars(
            select(Goal.description).where(Goal.care_plan_id == plan_id, Goal.deleted.is_(False))
        ).all()
        assert goals == ["I want to walk to the shop on my own again."]
        action = s.scalars(select(PlanAction).where(PlanAction.care_plan_id == plan_id)).one()
        assert action.owner_role == "physio_ot" and action.goal_id is not None
        assert s.scalar(
            select(AuditEvent.id).where(AuditEvent.entity_id == plan_id, AuditEvent.action == "S")
        )

    # A new draft, a change, and the history shows what changed between the versions.
    qtbot.mouseClick(f.newDraftButton, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: editor.is_draft and editor.plan.version == 2, timeout=WAIT)
    f.whatMattersEdit.setPlainText("Seeing my grandson graduate.")
    _settle(qtbot, editor)
    f.sectionsTab.setCurrentWidget(f.historyTab)
    assert f.historyList.count() == 2
    qtbot.mouseClick(f.diffButton, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: "What matters to me" in f.diffText.toPlainText(), timeout=WAIT)
    assert "Seeing my grandson graduate." in f.diffText.toPlainText()


def test_export_buttons_write_pdfs(
    qtbot: QtBot, demo_ws: Workspace, lead_ctx: AppContext, person: uuid.UUID, tmp_path: Path
) -> None:
    with demo_ws.session() as s:
        make_signed_plan(s, lead_ctx.actor, s.get(Patient, person))
    editor = _open(qtbot, lead_ctx, person)
    with demo_ws.session() as s:  # opening the plan is audited as a read, once
        reads = s.scalars(
            select(AuditEvent.entity_id).where(
                AuditEvent.action == "R", AuditEvent.entity_type == "care_plan"
            )
        ).all()
        assert reads == [editor.plan.id]
    out = tmp_path / "carer.pdf"
    editor._ask_save_path = lambda suggested: out  # type: ignore[method-assign]
    qtbot.mouseClick(editor.form.carerCopyButton, Qt.MouseButton.LeftButton)
    # The file lands on the store worker before the GUI thread reports it: wait for the report.
    qtbot.waitUntil(
        lambda: "Exported carer.pdf" in editor.form.saveStatusLabel.text(), timeout=WAIT
    )
    text = " ".join(p.extract_text() for p in pypdf.PdfReader(out).pages)
    assert "My care and support plan" in text and "Zoë Ó'Brien-Łukasz" in text


def test_sign_off_button_only_for_permitted_roles(
    qtbot: QtBot, demo_ws: Workspace, person: uuid.UUID
) -> None:
    coordinator = _ctx(demo_ws, Role.CARE_COORDINATOR)
    with demo_ws.session() as s:
        cp.start_plan(session=s, actor=coordinator.actor, patient_id=person)
    editor = _open(qtbot, coordinator, person)
    assert editor.is_draft
    assert not editor.form.signOffButton.isEnabled()
    assert "clinical lead" in editor.form.signOffButton.toolTip()
    assert not editor.form.aboutMeEdit.isReadOnly()  # coordinators edit, they do not sign
    coordinator.tasks.wait()


def test_editor_data_is_loaded_in_one_unit_of_work(demo_ws: Workspace, person: uuid.UUID) -> None:
    with demo_ws.session() as s:
        lead = actor_with_role(s, Role.CLINICAL_LEAD)
        data = load_editor_data(s, lead, person)
    assert isinstance(data, EditorData) and data.view is None
    assert data.can_sign and data.can_override and data.members
