"""Care-plan PDFs read back: identity, every goal and action, page numbering, carer copy,
consent rules, atomic writing, batch export and cancel, and the CLI."""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import uuid
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import pypdf
import pytest
from sqlalchemy import func, select

from int_desk.cli import main as cli_main
from int_desk.domain.care_plan import ConsentNotGiven, Variant
from int_desk.domain.errors import Interrupted, PermissionDenied, ValidationError
from int_desk.domain.nhs_number import format_nhs
from int_desk.domain.vocab import Role
from int_desk.reports import pdf_base
from int_desk.services import access
from int_desk.services import care_plan_export as ex
from int_desk.services import care_plans as cp
from int_desk.services.identity import current_actor
from int_desk.store.models import (
    AuditEvent,
    CarePlan,
    Cohort,
    CohortMembership,
    Contact,
    Patient,
    Team,
)
from int_desk.store.workspace import Workspace
from tests.conftest import PASSPHRASE
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

PRINTED_AT = datetime(2026, 11, 20, 9, 30, tzinfo=UTC)


def _flat(text: str) -> str:
    return " ".join(text.split())


def _pages(path: Path) -> list[str]:
    return [_flat(p.extract_text() or "") for p in pypdf.PdfReader(path).pages]


def _long_plan(ws: Workspace, *, consent: str = "permit") -> tuple[uuid.UUID, str]:
    """A signed plan for Zoë Ó'Brien-Łukasz long enough for 3+ pages; returns (plan, NHS no.)."""
    with ws.session() as s:
        lead = actor_with_role(s, Role.CLINICAL_LEAD)
        patient = patient_without_plan(s)
        patient.given_name, patient.family_name = NON_ASCII_GIVEN, NON_ASCII_FAMILY
        plan = make_signed_plan(
            s, lead, patient, goals=12, actions=45, consent=consent, long_text=True
        )
        return plan.id, patient.nhs_number


def _export(ws: Workspace, plan_id: uuid.UUID, out: Path, **kw: object) -> ex.ExportResult:
    with ws.session() as s:
        lead = actor_with_role(s, Role.CLINICAL_LEAD)
        return ex.export_plan(
            session=s, actor=lead, plan_id=plan_id, out=out, now=PRINTED_AT, today=TODAY, **kw
        )


@pytest.fixture(scope="module")
def long_plan_pdf(
    demo_template: Path, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[tuple[Path, str]]:
    """The long plan's PDF, made once for the tests below that only read it (a private demo
    copy, its own INT_DESK_HOME)."""
    root = tmp_path_factory.mktemp("long-plan")
    shutil.copytree(demo_template, root / "ws")
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("INT_DESK_HOME", str(root / "home"))
        with Workspace.open(root / "ws", PASSPHRASE, use_keyring=False) as ws:
            plan_id, nhs = _long_plan(ws)
            out = root / "plan.pdf"
            _export(ws, plan_id, out)
        yield out, nhs


def test_pdf_has_identity_every_goal_and_action(long_plan_pdf: tuple[Path, str]) -> None:
    path, nhs = long_plan_pdf
    pages = _pages(path)
    text = " ".join(pages)
    assert format_nhs(nhs) in text and re.search(r"\d{3} \d{3} \d{4}", format_nhs(nhs))
    for number, page in enumerate(pages, start=1):
        # Header on every page: name, formatted NHS number, DOB, status and version, review.
        assert NON_ASCII_NAME in page, number
        assert f"NHS number {format_nhs(nhs)}" in page
        assert "Date of birth" in page and "Plan v1 Active" in page and "Review date" in page
        assert "OFFICIAL-SENSITIVE: personal" in page
        assert "Printed by" in page and "(INT clinical lead) on 20 Nov 2026" in page
    for i in range(1, 13):
        assert f"GOAL-{i:02d} I want to walk to the shop number {i} on my own." in text
    for i in range(1, 46):
        assert f"ACTION-{i:02d} Review of mobility and equipment." in text
    for heading in (
        "About me",
        "What matters to me",
        "Contingency and crisis plan",
        "Goals",
        "Actions",
        "Unpaid carer's involvement",
        "Clinical summary",
        "Medicines notes",
        "Consent to share",
        "Named lead professional",
        "Care team and contributors",
    ):
        assert heading in text, heading
    assert "Care team Bicester INT (Bicester PCN)" in text  # which INT "call the INT" means
    assert "INTERNAL-CLINICAL-SUMMARY" in text and "INTERNAL-MEDICINES-NOTE" in text


def test_page_count_matches_page_x_of_y(long_plan_pdf: tuple[Path, str]) -> None:
    path, _ = long_plan_pdf
    pages = _pages(path)
    total = len(pages)
    assert total >= 3
    for number, page in enumerate(pages, start=1):
        assert re.findall(r"Page (\d+) of (\d+)", page) == [(str(number), str(total))]


def test_actions_table_repeats_its_header_on_each_page(long_plan_pdf: tuple[Path, str]) -> None:
    path, _ = long_plan_pdf
    pages_with_actions = [p for p in _pages(path) if "ACTION-" in p]
    assert len(pages_with_actions) >= 2
    for page in pages_with_actions:
        assert "# Action Who When Status Goal" in page
    # A row is never split across pages: each action's text sits whole on one page.
    for i in range(1, 46):
        marker = f"ACTION-{i:02d} Review of mobility and equipment. The person would like"
        assert sum(marker in p for p in pages_with_actions) == 1


@pytest.mark.skipif(shutil.which("pdftotext") is None, reason="poppler-utils not installed")
def test_pdftotext_reads_the_embedded_font(long_plan_pdf: tuple[Path, str]) -> None:
    path, nhs = long_plan_pdf
    out = subprocess.run(["pdftotext", str(path), "-"], capture_output=True, check=True)
    text = _flat(out.stdout.decode("utf-8"))
    assert NON_ASCII_NAME in text and format_nhs(nhs) in text and "GOAL-12" in text
    fonts = subprocess.run(["pdffonts", str(path)], capture_output=True, check=True).stdout
    assert b"DejaVuSans" in fonts and b"Helvetica" not in fonts
    # Every font embedded ("emb" column yes).
    rows = [line.split() for line in fonts.decode().splitlines()[2:]]
    assert rows and all("yes" in row for row in rows)


def test_pdf_metadata(long_plan_pdf: tuple[Path, str]) -> None:
    path, _ = long_plan_pdf
    meta = pypdf.PdfReader(path).metadata
    assert meta.title == "Personalised care and support plan"
    assert meta.author and "(" not in meta.author  # the lead professional's name
    assert NON_ASCII_NAME in meta.subject
    assert meta.creator == "INT Desk"


def test_carer_copy_omits_internal_notes(demo_ws: Workspace, tmp_path: Path) -> None:
    plan_id, nhs = _long_plan(demo_ws)
    carer = tmp_path / "carer.pdf"
    _export(demo_ws, plan_id, carer, variant=Variant.CARER)
    text = " ".join(_pages(carer))
    assert "My care and support plan" in text and NON_ASCII_NAME in text
    assert format_nhs(nhs) in text and "GOAL-12" in text and "ACTION-45" in text
    assert "What to do if things change" in text and "call 999" in text
    assert "INTERNAL-CLINICAL-SUMMARY" not in text and "Clinical summary" not in text
    assert "INTERNAL-MEDICINES-NOTE" not in text
    assert "Internal clinical notes are not included" in text
    with_meds = tmp_path / "carer-meds.pdf"
    _export(demo_ws, plan_id, with_meds, variant=Variant.CARER, include_medicines=True)
    text = " ".join(_pages(with_meds))
    assert "INTERNAL-MEDICINES-NOTE" in text and "INTERNAL-CLINICAL-SUMMARY" not in text


def test_draft_is_marked_as_not_signed_off(demo_ws: Workspace, tmp_path: Path) -> None:
    plan_id, _ = _long_plan(demo_ws)
    with demo_ws.session() as s:
        lead = actor_with_role(s, Role.CLINICAL_LEAD)
        draft_id = cp.new_draft(session=s, actor=lead, plan_id=plan_id).id
    out = tmp_path / "draft.pdf"
    _export(demo_ws, draft_id, out)
    pages = _pages(out)
    assert all("DRAFT - NOT SIGNED OFF" in p and "Plan v2 Draft" in p for p in pages)


def test_declined_consent_blocks_sharing_until_clinical_lead_overrides(
    demo_ws: Workspace, tmp_path: Path
) -> None:
    plan_id, _ = _long_plan(demo_ws, consent="deny")
    out = tmp_path / "shared.pdf"
    for variant in Variant:
        with pytest.raises(ConsentNotGiven, match="declined"):
            _export(demo_ws, plan_id, out, variant=variant)
    # Nothing written at all: no file, no temporary or partial file beside it.
    assert [p.name for p in tmp_path.iterdir()] == ["demo-ws"]
    with demo_ws.session() as s:
        coordinator = actor_with_role(s, Role.CARE_COORDINATOR)
        with pytest.raises(PermissionDenied):
            ex.export_plan(
                session=s,
                actor=coordinator,
                plan_id=plan_id,
                out=out,
                override_reason="Care home admission tonight; plan needed for safe care.",
            )
    with pytest.raises(ValidationError):
        _export(demo_ws, plan_id, out, override_reason="ok")
    assert not out.exists()

    reason = "Emergency admission to care home tonight; staff need the crisis plan."
    result = _export(demo_ws, plan_id, out, override_reason=reason)
    assert result.consent_override and out.exists()
    with demo_ws.session() as s:
        event = s.scalars(
            select(AuditEvent).where(AuditEvent.entity_id == plan_id, AuditEvent.action == "E")
        ).one()
        assert "consent_override=1" in event.detail and "reason_note=" in event.detail
        assert "care home" not in event.detail  # the reason is not in the audit detail
        note_id = uuid.UUID(event.detail.split("reason_note=")[1])
        note = s.get(Contact, note_id)
        assert reason in note.text and note.patient_id == event.patient_id
    # The override is on the plan itself, first page: whoever reads it knows it was shared
    # without consent, by whom, when and why.
    first = _pages(out)[0]
    assert "Shared without consent to share - clinical lead override" in first
    assert "Consent to share was declined" in first and _flat(reason) in first
    consented = tmp_path / "consented.pdf"
    _export(demo_ws, _long_plan(demo_ws)[0], consented)
    assert "Shared without consent" not in " ".join(_pages(consented))


def test_the_plan_prints_the_team_phone_where_it_says_to_call(
    demo_ws: Workspace, tmp_path: Path
) -> None:
    plan_id, _nhs = _long_plan(demo_ws)
    with demo_ws.session() as s:
        patient_id = s.get(CarePlan, plan_id).patient_id
        teams = list(
            s.scalars(
                select(Team)
                .join(Cohort, Cohort.team_id == Team.id)
                .join(CohortMembership, CohortMembership.cohort_id == Cohort.id)
                .where(
                    CohortMembership.patient_id == patient_id,
                    CohortMembership.discharged_on.is_(None),
                )
            )
        )
        phones = [t.phone for t in teams]
    assert teams and all(phones)  # the demo teams have numbers
    for variant in Variant:
        out = tmp_path / f"{variant.value}.pdf"
        _export(demo_ws, plan_id, out, variant=variant)
        text = " ".join(_pages(out))
        assert "Your care team's phone number:" in text
        assert all(phone in text for phone in phones)
    with demo_ws.session() as s:
        for t in teams:
            s.get(Team, t.id).phone = None
    out = tmp_path / "no-phone.pdf"
    _export(demo_ws, plan_id, out, variant=Variant.CARER)
    assert "No phone number is recorded for the care team" in " ".join(_pages(out))


def test_consent_not_recorded_blocks_sharing_until_clinical_lead_overrides(
    demo_ws: Workspace, tmp_path: Path
) -> None:
    """A plan whose consent decision was never recorded is not shared either (only "permit"
    lets a plan leave INT Desk); the clinical lead may override with a reason."""
    with demo_ws.session() as s:
        lead = actor_with_role(s, Role.CLINICAL_LEAD)
        draft = cp.start_plan(session=s, actor=lead, patient_id=patient_without_plan(s).id)
        cp.add_goal(session=s, actor=lead, plan_id=draft.id, description="I want to walk again.")
        plan_id = draft.id
        assert draft.consent_decision is None
    out = tmp_path / "shared.pdf"
    for variant in Variant:
        with pytest.raises(ConsentNotGiven, match="not recorded"):
            _export(demo_ws, plan_id, out, variant=variant)
    assert [p.name for p in tmp_path.iterdir()] == ["demo-ws"]
    with demo_ws.session() as s:
        assert not s.scalar(
            select(func.count())
            .select_from(AuditEvent)
            .where(AuditEvent.entity_id == plan_id, AuditEvent.action == "E")
        )
    reason = "Hospital discharge today; the ward needs the draft plan for the handover."
    result = _export(demo_ws, plan_id, out, override_reason=reason)
    assert result.consent_override and _pages(out)[0]


def test_failed_write_leaves_no_partial_file(
    demo_ws: Workspace, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    plan_id, _ = _long_plan(demo_ws)
    out_dir = tmp_path / "out"
    out_dir.mkdir()
    out = out_dir / "plan.pdf"
    out.write_bytes(b"previous export")

    def broken_fsync(fd: int) -> None:
        raise OSError("disk full")

    monkeypatch.setattr(pdf_base.os, "fsync", broken_fsync)
    with pytest.raises(OSError):
        _export(demo_ws, plan_id, out)
    assert [p.name for p in out_dir.iterdir()] == ["plan.pdf"]
    assert out.read_bytes() == b"previous export"
    with demo_ws.session() as s:  # the export's audit entry rolled back with the failure
        assert not s.scalar(
            select(func.count())
            .select_from(AuditEvent)
            .where(AuditEvent.entity_id == plan_id, AuditEvent.action == "E")
        )
    monkeypatch.undo()
    _export(demo_ws, plan_id, out)
    assert out.read_bytes().startswith(b"%PDF") and oct(out.stat().st_mode)[-3:] == "600"


# --- batch -----------------------------------------------------------------------------------


@pytest.mark.parametrize("workers", [1, 2], ids=["in-process", "worker-processes"])
def test_batch_export_writes_one_file_and_one_audit_entry_per_plan(
    demo_ws: Workspace, tmp_path: Path, workers: int
) -> None:
    cohort_id, expected = cohort_with_shareable_plans(demo_ws)
    assert expected >= 10
    out = tmp_path / "batch"
    seen: list[tuple[int, int]] = []
    with demo_ws.session() as s:
        actor = current_actor(s)
        result = ex.export_cohort(
            session=s,
            actor=actor,
            cohort_id=cohort_id,
            out_dir=out,
            progress=lambda done, total: seen.append((done, total)),
            today=TODAY,
            workers=workers,
        )
    files = sorted(out.iterdir())
    assert len(files) == len(result.written) == expected
    assert all(f.name.startswith("care-plan-") and f.suffix == ".pdf" for f in files)
    assert seen[0] == (0, expected) and seen[-1] == (expected, expected)
    counts = [d for d, _ in seen]
    assert counts == sorted(set(counts)) and {t for _, t in seen} == {expected}
    if workers == 1:
        assert counts == list(range(expected + 1))
    with demo_ws.session() as s:
        events = s.scalars(
            select(AuditEvent).where(
                AuditEvent.action == "E",
                AuditEvent.entity_type == "care_plan",
                AuditEvent.detail.like("export %batch=%"),
            )
        ).all()
        assert len(events) == expected and len({e.entity_id for e in events}) == expected
        # The file of a person holds that person's NHS number.
        one = files[0]
        nhs = one.stem.removeprefix("care-plan-")
        patient = s.scalars(select(Patient).where(Patient.nhs_number == nhs)).one()
        assert format_nhs(nhs) in _pages(one)[0] and patient.family_name in _pages(one)[0]
    assert result.plans_in_cohort == expected and result.skipped_no_consent == 0


def test_batch_export_skips_people_who_declined_or_were_never_asked(
    demo_ws: Workspace, tmp_path: Path
) -> None:
    """Of a cohort's active plans, one person declined and one was never asked: the batch
    writes every other plan, no file and no export entry for those two, and says it skipped 2."""
    cohort_id, shareable = cohort_with_shareable_plans(demo_ws)
    with demo_ws.session() as s:
        members = select(CohortMembership.patient_id).where(
            CohortMembership.cohort_id == cohort_id, CohortMembership.discharged_on.is_(None)
        )
        plans = s.scalars(
            select(CarePlan)
            .where(CarePlan.patient_id.in_(members), CarePlan.status == "active")
            .order_by(CarePlan.id)
        ).all()
        assert len(plans) == shareable >= 3  # every active plan in this cohort is consented
        declined, unasked = plans[0], plans[1]
        declined.consent_decision = "deny"
        unasked.consent_decision = None  # e.g. signed off before consent was recorded
        held_back = {s.get(Patient, p.patient_id).nhs_number: p.id for p in (declined, unasked)}
    out = tmp_path / "batch"
    with demo_ws.session() as s:
        last_seq = s.scalar(select(func.max(AuditEvent.seq)))
        result = ex.export_cohort(
            session=s, actor=current_actor(s), cohort_id=cohort_id, out_dir=out, today=TODAY,
            workers=1,
        )  # fmt: skip
    assert result.plans_in_cohort == shareable and result.skipped_no_consent == 2
    names = sorted(f.stem.removeprefix("care-plan-") for f in out.iterdir())
    assert len(names) == len(result.written) == shareable - 2
    assert not set(names) & set(held_back)
    with demo_ws.session() as s:
        exported = set(
            s.scalars(
                select(AuditEvent.entity_id).where(
                    AuditEvent.action == "E",
                    AuditEvent.entity_type == "care_plan",
                    AuditEvent.seq > last_seq,
                )
            )
        )
        assert len(exported) == shareable - 2 and not exported & set(held_back.values())


@pytest.mark.parametrize("workers", [1, 2], ids=["in-process", "worker-processes"])
def test_cancelled_batch_leaves_no_files_and_no_audit(
    demo_ws: Workspace, tmp_path: Path, workers: int
) -> None:
    cohort_id, expected = cohort_with_shareable_plans(demo_ws)
    out = tmp_path / "batch"
    out.mkdir()
    (out / "keep-me.txt").write_text("unrelated file")
    done_so_far: list[int] = []
    polls: list[int] = []

    def cancel_on_third_poll() -> bool:
        polls.append(1)
        return len(polls) >= 3

    with demo_ws.session() as s:
        before = s.scalar(select(func.count()).select_from(AuditEvent))
    with pytest.raises(Interrupted), demo_ws.session() as s:
        ex.export_cohort(
            session=s,
            actor=current_actor(s),
            cohort_id=cohort_id,
            out_dir=out,
            progress=lambda done, total: done_so_far.append(done),
            is_cancelled=cancel_on_third_poll,
            today=TODAY,
            workers=workers,
        )
    assert max(done_so_far) < expected
    if workers == 1:
        assert max(done_so_far) == 2  # two were rendered before the cancel, then removed
    assert [p.name for p in out.iterdir()] == ["keep-me.txt"]  # nothing else, no staging folder
    with demo_ws.session() as s:
        assert s.scalar(select(func.count()).select_from(AuditEvent)) == before


# --- CLI -------------------------------------------------------------------------------------


def test_cli_export_plan_and_plans(
    demo_dir: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture
) -> None:
    monkeypatch.setenv("INT_DESK_PASSPHRASE", PASSPHRASE)
    with Workspace.open(demo_dir, PASSPHRASE) as ws:
        cohort_id, expected = cohort_with_shareable_plans(ws)
        with ws.session() as s:
            cohort = s.get(Cohort, cohort_id)
            cohort_name = cohort.name
            mine = access.visible_plan_filter(current_actor(s))
            plan = s.scalars(
                select(CarePlan).where(
                    CarePlan.status == "active", CarePlan.consent_decision == "permit", mine
                )
            ).first()
            nhs = s.get(Patient, plan.patient_id).nhs_number
            declined = s.scalars(
                select(CarePlan).where(
                    CarePlan.status == "active", CarePlan.consent_decision == "deny", mine
                )
            ).first()
            declined_nhs = s.get(Patient, declined.patient_id).nhs_number
    out = tmp_path / "one.pdf"
    args = ["export-plan", "--workspace", str(demo_dir), "--nhs-number", format_nhs(nhs)]
    assert cli_main([*args, "--out", str(out)]) == 0
    assert format_nhs(nhs) in _pages(out)[0]
    carer = tmp_path / "carer.pdf"
    assert cli_main([*args, "--out", str(carer), "--carer-copy"]) == 0
    assert "My care and support plan" in _pages(carer)[0]

    refused = tmp_path / "refused.pdf"
    code = cli_main(
        ["export-plan", "--workspace", str(demo_dir), "--nhs-number", declined_nhs,
         "--out", str(refused)]
    )  # fmt: skip
    assert code == 2 and not refused.exists()
    assert "consent" in capsys.readouterr().err.lower()

    folder = tmp_path / "cohort"
    code = cli_main(
        ["export-plans", "--workspace", str(demo_dir), "--cohort", cohort_name,
         "--out", str(folder), "--quiet"]
    )  # fmt: skip
    assert code == 0
    assert len(list(folder.glob("*.pdf"))) == expected == len(os.listdir(folder))
    assert f"Wrote {expected} care plans" in capsys.readouterr().out
