"""Large print and the recorded communication need (Accessible Information Standard): the
need is recorded on the person (audited, shown on the record), picks the large-print carer copy
by default in the service, the batch export, the CLI and the editor, and the large-print copy
is at least 16 pt throughout, in a simple layout, and tagged like every other PDF."""

from __future__ import annotations

import uuid
from pathlib import Path

import pytest
from PySide6.QtCore import Qt
from pytestqt.qtbot import QtBot
from sqlalchemy import select

from int_desk.app.care_plan_batch_export import CohortExportDialog
from int_desk.app.care_plan_editor import CarePlanEditor
from int_desk.app.context import AppContext
from int_desk.app.events import Events
from int_desk.app.main import settings
from int_desk.app.tasks import TaskRunner
from int_desk.cli import main as cli_main
from int_desk.domain.care_plan import Variant
from int_desk.domain.errors import PermissionDenied, ValidationError
from int_desk.domain.information_needs import InformationNeed
from int_desk.domain.nhs_number import format_nhs
from int_desk.domain.vocab import Role
from int_desk.server.models import ServerUser
from int_desk.services import care_plan_export as ex
from int_desk.services import patient_record
from int_desk.services.accessible_information import set_information_needs
from int_desk.services.identity import actor_for, current_actor
from int_desk.store.models import AuditEvent, CarePlan, CohortMembership, Patient
from int_desk.store.workspace import Workspace
from tests.conftest import PASSPHRASE
from tests.helpers import pdf_ua
from tests.helpers.care_plan_cohort import cohort_with_shareable_plans
from tests.helpers.care_plan_data import (
    NON_ASCII_FAMILY,
    NON_ASCII_GIVEN,
    NON_ASCII_NAME,
    TODAY,
    actor_with_role,
    make_signed_plan,
    patient_without_plan,
)
from tests.helpers.sync_env import sync

WAIT = 10_000


def _plan(ws: Workspace, needs: list[InformationNeed], **kw: object) -> tuple[uuid.UUID, Patient]:
    """A signed plan for Zoë Ó'Brien-Łukasz whose record holds ``needs``."""
    with ws.session() as s:
        lead = actor_with_role(s, Role.CLINICAL_LEAD)
        patient = patient_without_plan(s)
        patient.given_name, patient.family_name = NON_ASCII_GIVEN, NON_ASCII_FAMILY
        set_information_needs(session=s, actor=lead, patient_id=patient.id, chosen=needs)
        plan = make_signed_plan(s, lead, patient, **kw)  # type: ignore[arg-type]
        s.expunge(patient)
        return plan.id, patient


def _export(ws: Workspace, plan_id: uuid.UUID, out: Path, **kw: object) -> ex.ExportResult:
    with ws.session() as s:
        lead = actor_with_role(s, Role.CLINICAL_LEAD)
        return ex.export_plan(session=s, actor=lead, plan_id=plan_id, out=out, today=TODAY, **kw)


def _is_large_print(path: Path) -> bool:
    return min(pdf_ua.text_sizes(path)) >= 16


def test_large_print_copy_is_16pt_and_over_simple_and_tagged(
    demo_ws: Workspace, tmp_path: Path
) -> None:
    plan_id, patient = _plan(demo_ws, [], goals=4, actions=6, long_text=True)
    out = tmp_path / "large.pdf"
    result = _export(demo_ws, plan_id, out, variant=Variant.CARER, large_print=True)
    assert result.large_print
    assert min(pdf_ua.text_sizes(out)) >= 16  # body, headings, header, footer, page numbers
    tree = pdf_ua.struct_tree(out)
    # Simple layout: no tables; each goal and action under its own heading, as labelled lines.
    assert tree.find("Table") == []
    heads = [text for _, text in pdf_ua.headings(tree)]
    assert heads[:3] == [
        "My care and support plan",
        "Who to contact",
        "What to do if things change",
    ]
    assert [f"Goal {i}" for i in range(1, 5)] == [h for h in heads if h.startswith("Goal ")]
    assert [h for h in heads if h.startswith("Action ")] == [f"Action {i}" for i in range(1, 7)]
    paragraphs = [p.text() for p in tree.find("P")]
    assert "What I want: GOAL-01 I want to walk to the shop number 1 on my own." in paragraphs
    assert f"NHS number {format_nhs(patient.nhs_number)}" in paragraphs
    assert NON_ASCII_NAME in tree.strings()
    # What the standard footer says ends the document instead.
    assert heads[-1] == "About this copy"
    assert any(p.startswith("Printed by ") for p in paragraphs)
    assert "Internal clinical notes are not included" in tree.text()
    assert "INTERNAL-CLINICAL-SUMMARY" not in tree.text()
    # Tagged like every other document.
    assert pdf_ua.pdfinfo_tagged(out) and pdf_ua.untagged_marks(out) == []
    assert pdf_ua.reading_order_gaps(out, tree) == []
    assert pdf_ua.qpdf_check(out).returncode == 0
    assert pdf_ua.catalog_facts(out)["lang"] == "en-GB"
    with pytest.raises(ValidationError, match="patient/carer copy"):
        _export(
            demo_ws, plan_id, tmp_path / "p.pdf", variant=Variant.PROFESSIONAL, large_print=True
        )


def test_recorded_need_picks_large_print_and_an_explicit_choice_wins(
    demo_ws: Workspace, tmp_path: Path
) -> None:
    plan_id, _ = _plan(demo_ws, [InformationNeed.LARGE_PRINT, InformationNeed.BRAILLE])
    default = _export(demo_ws, plan_id, tmp_path / "a.pdf", variant=Variant.CARER)
    assert default.large_print and _is_large_print(default.path)
    # A PDF cannot be braille: the person exporting is told so they can arrange it.
    assert default.unmet_needs == (InformationNeed.BRAILLE,)
    standard = _export(
        demo_ws, plan_id, tmp_path / "b.pdf", variant=Variant.CARER, large_print=False
    )
    assert not standard.large_print and not _is_large_print(standard.path)
    professional = _export(demo_ws, plan_id, tmp_path / "c.pdf")
    assert not professional.large_print and not _is_large_print(professional.path)
    with demo_ws.session() as s:
        details = s.scalars(
            select(AuditEvent.detail)
            .where(AuditEvent.entity_id == plan_id, AuditEvent.action == "E")
            .order_by(AuditEvent.recorded_at)
        ).all()
    assert [("large_print=1" in d) for d in details] == [True, False, False]


def test_needs_are_validated_audited_and_shown_on_the_record(demo_ws: Workspace) -> None:
    with demo_ws.session() as s:
        patient = patient_without_plan(s)
        pid = patient.id
        coordinator = actor_with_role(s, Role.CARE_COORDINATOR)
        got = set_information_needs(
            session=s, actor=coordinator, patient_id=pid, chosen=["braille", "large_print"]
        )
        assert got == (InformationNeed.LARGE_PRINT, InformationNeed.BRAILLE)
    with demo_ws.session() as s, pytest.raises(ValidationError):
        set_information_needs(session=s, actor=coordinator, patient_id=pid, chosen=["semaphore"])
    with demo_ws.session() as s:
        record = patient_record.patient_record(session=s, actor=coordinator, patient_id=pid)
        assert record.information_needs == (InformationNeed.LARGE_PRINT, InformationNeed.BRAILLE)
        event = s.scalars(
            select(AuditEvent).where(AuditEvent.entity_id == pid, AuditEvent.action == "U")
        ).one()
        assert event.detail == "fields=information_needs"  # never the needs themselves
        vcse = actor_with_role(s, Role.VCSE_WORKER)
        with pytest.raises(PermissionDenied):
            set_information_needs(session=s, actor=vcse, patient_id=pid, chosen=[])
    with demo_ws.session() as s:
        assert s.get(Patient, pid).information_needs == "large_print,braille"


def test_batch_export_follows_each_persons_need(demo_ws: Workspace, tmp_path: Path) -> None:
    cohort_id, expected = cohort_with_shareable_plans(demo_ws)
    with demo_ws.session() as s:
        actor = current_actor(s)
        members = select(CohortMembership.patient_id).where(CohortMembership.cohort_id == cohort_id)
        shareable = s.scalars(
            select(CarePlan.patient_id).where(
                CarePlan.patient_id.in_(members),
                CarePlan.status == "active",
                CarePlan.consent_decision == "permit",
            )
        ).all()
        for pid in shareable:
            set_information_needs(session=s, actor=actor, patient_id=pid, chosen=[])
        needs_large = s.get(Patient, shareable[0])
        set_information_needs(
            session=s, actor=actor, patient_id=needs_large.id, chosen=["large_print"]
        )
        nhs = needs_large.nhs_number
    out = tmp_path / "batch"
    with demo_ws.session() as s:
        result = ex.export_cohort(
            session=s, actor=current_actor(s), cohort_id=cohort_id, out_dir=out,
            variant=Variant.CARER, today=TODAY, workers=1,
        )  # fmt: skip
    assert len(result.written) == expected and result.large_print == 1
    large = sorted(out.glob("*-large-print.pdf"))
    assert [p.name for p in large] == [f"care-plan-{nhs}-carer-copy-large-print.pdf"]
    assert _is_large_print(large[0]) and pdf_ua.pdfinfo_tagged(large[0])
    others = [p for p in out.glob("*.pdf") if p not in large]
    assert others and not _is_large_print(others[0])
    everyone = tmp_path / "everyone"
    with demo_ws.session() as s:
        result = ex.export_cohort(
            session=s, actor=current_actor(s), cohort_id=cohort_id, out_dir=everyone,
            variant=Variant.CARER, today=TODAY, workers=1, large_print=True,
        )  # fmt: skip
    assert result.large_print == expected == len(list(everyone.glob("*-large-print.pdf")))


def test_cli_large_print(
    demo_dir: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture
) -> None:
    monkeypatch.setenv("INT_DESK_PASSPHRASE", PASSPHRASE)
    with Workspace.open(demo_dir, PASSPHRASE) as ws:
        plan_id, patient = _plan(ws, [InformationNeed.SPOKEN_INTERPRETER])
    args = ["export-plan", "--workspace", str(demo_dir), "--nhs-number", patient.nhs_number]
    out = tmp_path / "large.pdf"
    assert cli_main([*args, "--large-print", "--out", str(out)]) == 0
    printed = capsys.readouterr().out
    assert "in large print" in printed
    assert "Their record also asks for: spoken language interpreter" in printed
    assert _is_large_print(out) and "My care and support plan" in pdf_ua.struct_tree(out).text()
    plain = tmp_path / "carer.pdf"
    assert cli_main([*args, "--carer-copy", "--out", str(plain)]) == 0
    assert not _is_large_print(plain)
    with pytest.raises(SystemExit):  # one or the other
        cli_main([*args, "--large-print", "--standard-print", "--out", str(plain)])


def test_editor_ticks_large_print_from_the_record_and_exports_it(
    qtbot: QtBot, demo_ws: Workspace, tmp_path: Path
) -> None:
    plan_id, patient = _plan(demo_ws, [InformationNeed.LARGE_PRINT])
    with demo_ws.session() as s:
        ctx = AppContext(
            demo_ws, actor_with_role(s, Role.CLINICAL_LEAD), Events(), TaskRunner(), settings()
        )
    opened: list[CarePlanEditor] = []
    CarePlanEditor.open_for(ctx, patient.id, None, on_open=opened.append)
    qtbot.waitUntil(lambda: bool(opened), timeout=WAIT)
    editor = opened[0]
    qtbot.addWidget(editor)
    check = editor.form.largePrintCheck
    assert check.isChecked() and "recorded need" in check.text() and check.isEnabled()
    out = tmp_path / "large.pdf"
    asked: list[str] = []
    editor._ask_save_path = lambda name: asked.append(name) or out  # type: ignore[method-assign]
    qtbot.mouseClick(editor.form.carerCopyButton, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: "in large print" in editor.form.saveStatusLabel.text(), timeout=WAIT)
    assert asked == [f"care-plan-{patient.nhs_number}-carer-copy-large-print.pdf"]
    assert _is_large_print(out)
    check.setChecked(False)  # the user's choice beats the record
    plain = tmp_path / "plain.pdf"
    editor._ask_save_path = lambda name: plain  # type: ignore[method-assign]
    qtbot.mouseClick(editor.form.carerCopyButton, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: "plain.pdf" in editor.form.saveStatusLabel.text(), timeout=WAIT)
    assert not _is_large_print(plain)
    ctx.tasks.wait()


def test_app_cohort_export_dialog_offers_large_print_for_everyone(
    qtbot: QtBot, demo_ws: Workspace, tmp_path: Path
) -> None:
    cohort_id, expected = cohort_with_shareable_plans(demo_ws)
    with demo_ws.session() as s:
        actor = current_actor(s)
    ctx = AppContext(demo_ws, actor, Events(), TaskRunner(), settings())
    dialog = CohortExportDialog(ctx)
    qtbot.addWidget(dialog)
    qtbot.waitUntil(lambda: dialog.cohort.count() > 1, timeout=WAIT)
    dialog.cohort.setCurrentIndex(dialog.cohort.findData(cohort_id.hex))
    copies = [dialog.variant.itemText(i) for i in range(dialog.variant.count())]
    assert "large print where the person's record asks for it" in copies[1]
    dialog.variant.setCurrentIndex(copies.index("Carer copy in large print for everyone"))
    out = tmp_path / "plans"
    dialog.folder.setText(str(out))
    with qtbot.waitSignal(dialog.started, timeout=WAIT) as started:
        dialog.export_button.click()
    job = started.args[0]
    with qtbot.waitSignal(job.finished, timeout=60_000) as finished:
        pass
    assert finished.args[0].large_print == expected
    assert f"({expected} in large print)" in job.dialog.labelText()
    files = list(out.glob("*-carer-copy-large-print.pdf"))
    assert len(files) == expected and all(_is_large_print(p) for p in files)
    job.dialog.close()
    ctx.tasks.wait()


def test_recorded_needs_reach_the_other_laptops(sqlite_endpoint, laptops) -> None:  # type: ignore[no-untyped-def]
    a, b = laptops(sqlite_endpoint, "a"), laptops(sqlite_endpoint, "b")
    sync(a)
    sync(b)
    with sqlite_endpoint.session() as srv:
        member = dict(srv.execute(select(ServerUser.name, ServerUser.member_id)).all())
    with a.session() as s:  # the care coordinator records the need on laptop a
        coordinator = actor_for(s, member["a"])
        pid = s.scalars(select(Patient.id).order_by(Patient.id)).first()
        set_information_needs(session=s, actor=coordinator, patient_id=pid, chosen=["large_print"])
    assert sync(a).pushed == 1
    sync(b)
    with b.session() as s:  # the district nurse's laptop has it, and exports large print
        nurse = actor_for(s, member["b"])
        record = patient_record.patient_record(session=s, actor=nurse, patient_id=pid)
        assert record.information_needs == (InformationNeed.LARGE_PRINT,)
