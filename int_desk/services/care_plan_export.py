"""Exporting care plans to PDF: one plan, or a cohort's active plans to a folder.

Consent: a plan leaves INT Desk (either copy) only when the person gave consent to share. If
consent was declined or never recorded, the export is refused unless someone holding
OVERRIDE_CONSENT (the clinical lead) gives a reason; the reason is kept as a clinical note on
the person's record and the export's audit entry points to that note (audit details hold ids
only). Batch export never overrides: such plans are skipped and counted.

Large print: the carer copy is large print when asked (``large_print=True``) or, by default
(``None``), when the person's recorded information needs include large print (Accessible
Information Standard; ``domain.information_needs``). A batch decides per person.

Files: a single PDF is written atomically (temp file in the target folder, then os.replace).
A batch renders into a hidden staging folder inside the target folder and moves the files
into place only when every plan has rendered; on cancel or error the staging folder is
deleted, so the target folder never holds a partial set, and no audit entry is kept (the
entries commit with the same unit of work as the moves).
"""

from __future__ import annotations

import logging
import multiprocessing
import os
import shutil
import sys
import tempfile
import uuid
from collections.abc import Callable, Iterator, Sequence
from concurrent.futures import FIRST_COMPLETED, Future, ProcessPoolExecutor, wait
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from pathlib import Path

from sqlalchemy import select
from sqlalchemy.orm import Session

from int_desk.domain import information_needs
from int_desk.domain.actor import Actor
from int_desk.domain.care_plan import ConsentNotGiven, PlanView, Variant
from int_desk.domain.errors import Interrupted, NotFound, ValidationError
from int_desk.domain.ids import new_id
from int_desk.domain.nhs_number import normalise
from int_desk.domain.permissions import Permission
from int_desk.domain.uk_time import in_london, london_today
from int_desk.domain.vocab import AuditAction, CarePlanStatus, ConsentDecision, ContactKind
from int_desk.reports import pdf_base
from int_desk.reports.care_plan_pdf import render_care_plan
from int_desk.services import access, care_plan_views, care_plans
from int_desk.store import audit
from int_desk.store.models import CarePlan, Cohort, CohortMembership, Contact, Patient, Team

log = logging.getLogger(__name__)

STAGING_PREFIX = ".int-desk-export-"
MIN_OVERRIDE_REASON = 10


@dataclass(frozen=True)
class ExportResult:
    path: Path
    plan_id: uuid.UUID
    variant: Variant
    consent_override: bool = False
    large_print: bool = False
    # Recorded needs a PDF does not meet (braille, easy read, audio, an interpreter): the
    # person exporting is told so they can arrange them.
    unmet_needs: tuple[information_needs.InformationNeed, ...] = ()


def printed_by(actor: Actor) -> str:
    return f"{actor.name or 'Team member'} ({actor.role.label})"


def file_name(view: PlanView, variant: Variant, large_print: bool = False) -> str:
    """care-plan-9991234567.pdf / care-plan-9991234567-carer-copy.pdf /
    care-plan-9991234567-carer-copy-large-print.pdf"""
    suffix = "-carer-copy" if variant is Variant.CARER else ""
    suffix += "-large-print" if large_print else ""
    return f"care-plan-{view.patient.nhs_number}{suffix}.pdf"


def use_large_print(view: PlanView, variant: Variant, choice: bool | None) -> bool:
    """Large print for this plan: as chosen, or (None) as the person's recorded need."""
    if variant is not Variant.CARER:
        if choice:
            raise ValidationError(
                "Large print is a format of the patient/carer copy.", "large_print"
            )
        return False
    if choice is None:
        return information_needs.wants_large_print(view.patient.information_needs)
    return choice


def _check_export_permission(session: Session, actor: Actor, variant: Variant) -> None:
    access.require(session, actor, Permission.EXPORT_PLAN)
    if variant is Variant.PROFESSIONAL:
        # A sharing copy with the clinical notes cut out would mislead its reader.
        access.require(session, actor, Permission.VIEW_CLINICAL)


def consent_allows_sharing(view: PlanView) -> bool:
    return view.consent_decision == ConsentDecision.PERMIT.value


def _audit_export(session: Session, actor: Actor, view: PlanView, detail: str) -> None:
    """The audit entry of one plan version exported, on the person's record."""
    audit.record_by(
        session,
        actor,
        AuditAction.EXECUTE,
        care_plans.ENTITY,
        view.id,
        patient_id=view.patient.id,
        detail=detail,
    )


def export_plan(
    *,
    session: Session,
    actor: Actor,
    plan_id: uuid.UUID,
    out: Path,
    variant: Variant = Variant.PROFESSIONAL,
    override_reason: str | None = None,
    include_medicines: bool = False,
    large_print: bool | None = None,
    now: datetime | None = None,
    today: date | None = None,
) -> ExportResult:
    """Render one plan version to ``out`` (atomically) and audit the export. ``large_print``:
    carer copy only; None follows the person's recorded information needs.

    Raises ConsentNotGiven when consent was declined or not recorded and no override reason
    is given; PermissionDenied when the override is asked for by a role without
    OVERRIDE_CONSENT; ValidationError for a too-short reason.
    """
    _check_export_permission(session, actor, variant)
    view = care_plan_views.plan_view(
        session=session, actor=actor, plan_id=plan_id, audit_read=False
    )
    large = use_large_print(view, variant, large_print)
    override = False
    contact_id = None
    if not consent_allows_sharing(view):
        if override_reason is None:
            state = "declined" if view.consent_declined else "not recorded"
            raise ConsentNotGiven(
                f"Consent to share this plan was {state}; it cannot be exported unless the "
                "clinical lead overrides with a reason."
            )
        access.require(session, actor, Permission.OVERRIDE_CONSENT, patient_id=view.patient.id)
        reason = override_reason.strip()
        if len(reason) < MIN_OVERRIDE_REASON:
            raise ValidationError(
                "Give the reason for sharing without consent (at least a short sentence).",
                "override_reason",
            )
        contact = Contact(
            id=new_id(),
            patient_id=view.patient.id,
            kind=ContactKind.NOTE.value,
            author_id=actor.member_id,
            text=(
                f"Care plan version {view.version} exported ({variant.value} copy) without "
                f"consent to share, by clinical lead override. Reason: {reason}"
            ),
            clinical=True,
            created_by=actor.member_id,
            updated_by=actor.member_id,
        )
        session.add(contact)
        session.flush()
        override, contact_id = True, contact.id
    now = now or datetime.now(UTC)
    override_text = (
        f"Consent to share was {'declined' if view.consent_declined else 'not recorded'}. "
        f"{printed_by(actor)} shared this plan on {in_london(now):%d %b %Y at %H:%M} "
        f"by clinical lead override. Reason: {reason}"
        if override
        else ""
    )
    data = render_care_plan(
        view,
        variant=variant,
        printed_by=printed_by(actor),
        printed_at=now,
        today=today or london_today(),
        include_medicines=include_medicines,
        large_print=large,
        consent_override=override_text,
    )
    detail = f"export variant={variant.value} version={view.version}"
    if large:
        detail += " large_print=1"
    if override:
        detail += f" consent_override=1 reason_note={contact_id}"
    # Audit first, then write: if writing fails the unit of work rolls the entry back.
    _audit_export(session, actor, view, detail)
    path = pdf_base.write_atomic(Path(out), data)
    log.info("exported care plan %s (%s, override=%s)", view.id, variant.value, override)
    unmet = information_needs.unmet_by_pdf(view.patient.information_needs)
    return ExportResult(path, view.id, variant, override, large, unmet)


def plan_for_nhs_number(session: Session, nhs_number: str) -> CarePlan:
    """The active plan of the person with this NHS number."""
    digits = normalise(nhs_number)
    patient_id = session.scalar(select(Patient.id).where(Patient.nhs_number == digits))
    if patient_id is None:
        raise NotFound("No patient with that NHS number in this workspace.")
    plan = care_plans.active_plan(session, patient_id)
    if plan is None:
        raise NotFound("That person has no signed-off (active) care plan to export.")
    return plan


# --- batch ---

POOL_TASK = 10  # plans per worker task: small enough for prompt progress and cancel
POOL_THRESHOLD = 60  # below this, starting worker processes costs more than it saves


def auto_workers(total: int) -> int:
    """Worker processes worth starting for ``total`` plans on this machine (1 = in-process).

    Workers are forked, so only where fork is the platform's safe default (Linux) and outside
    a frozen app; 'spawn' would re-run the caller's main module (``python -m int_desk`` has no
    main guard), and forking a GUI process is avoided by the app passing ``workers=1``.
    """
    if total < POOL_THRESHOLD or not _can_fork():
        return 1
    return max(1, min(4, os.cpu_count() or 1))


def _can_fork() -> bool:
    return sys.platform.startswith("linux") and not getattr(sys, "frozen", False)


def _batched(items: Iterator[PlanView], size: int) -> Iterator[list[PlanView]]:
    piece: list[PlanView] = []
    for item in items:
        piece.append(item)
        if len(piece) == size:
            yield piece
            piece = []
    if piece:
        yield piece


@dataclass(frozen=True)
class RenderJob:
    """Render plans into the staging folder (picklable, so worker processes can run it)."""

    variant: Variant
    printed_by: str
    printed_at: datetime
    today: date
    staging: str
    large_print: bool | None = None  # None: as each person's recorded need

    def large(self, view: PlanView) -> bool:
        return use_large_print(view, self.variant, self.large_print)

    def file_name(self, view: PlanView) -> str:
        return file_name(view, self.variant, self.large(view))

    def __call__(self, views: Sequence[PlanView]) -> None:
        for view in views:
            data = render_care_plan(
                view,
                variant=self.variant,
                printed_by=self.printed_by,
                printed_at=self.printed_at,
                today=self.today,
                large_print=self.large(view),
            )
            (Path(self.staging) / self.file_name(view)).write_bytes(data)


def find_cohort(session: Session, actor: Actor, name: str) -> Cohort:
    """A cohort by name within the actor's teams; 'Team name/Cohort name' picks between teams."""
    team_name, _, cohort_name = name.rpartition("/")
    query = select(Cohort).where(Cohort.name == cohort_name.strip(), Cohort.deleted.is_(False))
    if team_name:
        query = query.join(Team, Team.id == Cohort.team_id).where(Team.name == team_name.strip())
    mine = [c for c in session.scalars(query) if c.team_id in actor.team_ids]
    if not mine:
        raise NotFound("None of your teams has a cohort of that name.")
    if len(mine) > 1:
        raise ValidationError(
            "More than one team has a cohort of that name; write it as 'Team name/Cohort name'.",
            "cohort",
        )
    return mine[0]


def _cohort_active_plans(session: Session, cohort_id: uuid.UUID) -> list[CarePlan]:
    """Active plans of the cohort's current (not discharged) members, in a stable order."""
    patient_ids = list(
        session.scalars(
            select(CohortMembership.patient_id)
            .where(
                CohortMembership.cohort_id == cohort_id,
                CohortMembership.discharged_on.is_(None),
                CohortMembership.deleted.is_(False),
            )
            .distinct()
        )
    )
    plans: list[CarePlan] = []
    for start in range(0, len(patient_ids), 500):
        plans += session.scalars(
            select(CarePlan).where(
                CarePlan.patient_id.in_(patient_ids[start : start + 500]),
                CarePlan.status == CarePlanStatus.ACTIVE.value,
                CarePlan.deleted.is_(False),
            )
        )
    plans.sort(key=lambda p: str(p.patient_id))
    return plans


def count_shareable(session: Session, cohort_id: uuid.UUID) -> int:
    """How many of the cohort's active plans may be shared (consent given)."""
    return sum(
        p.consent_decision == ConsentDecision.PERMIT.value
        for p in _cohort_active_plans(session, cohort_id)
    )


@dataclass
class BatchResult:
    out_dir: Path
    written: list[Path] = field(default_factory=list)
    skipped_no_consent: int = 0
    plans_in_cohort: int = 0
    large_print: int = 0  # how many of the written copies are large print


def export_cohort(
    *,
    session: Session,
    actor: Actor,
    cohort_id: uuid.UUID,
    out_dir: Path,
    variant: Variant = Variant.PROFESSIONAL,
    progress: Callable[[int, int], None] | None = None,
    is_cancelled: Callable[[], bool] | None = None,
    now: datetime | None = None,
    today: date | None = None,
    chunk: int = 200,
    workers: int = 1,
    large_print: bool | None = None,
) -> BatchResult:
    """Export every active plan of the cohort's current members into ``out_dir``.

    ``progress(done, total)`` is called as plans finish; ``is_cancelled()`` is polled between
    plans (every 0.1 s with workers) and, when true, everything written so far is deleted and
    Interrupted is raised. Rendering is CPU-bound: with ``workers`` > 1 (see
    ``auto_workers``; the CLI uses it, the GUI renders in-process on its task thread) plans
    render in forked worker processes. The store is only touched here, in the caller's thread.
    ``large_print`` (carer copies): True or False for everyone, None (the default) as each
    person's recorded information needs say.
    """
    _check_export_permission(session, actor, variant)
    if large_print and variant is not Variant.CARER:
        raise ValidationError("Large print is a format of the patient/carer copy.", "large_print")
    cohort = session.get(Cohort, cohort_id)
    if cohort is None or cohort.deleted:
        raise NotFound(f"No cohort {cohort_id}.")
    if cohort.team_id not in actor.team_ids:
        raise access.deny(
            session, actor, "export another team's cohort", permission=Permission.EXPORT_PLAN
        )
    now = now or datetime.now(UTC)
    today = today or london_today()
    plans = _cohort_active_plans(session, cohort.id)
    result = BatchResult(Path(out_dir), plans_in_cohort=len(plans))
    shareable = [p for p in plans if p.consent_decision == ConsentDecision.PERMIT.value]
    result.skipped_no_consent = len(plans) - len(shareable)
    total = len(shareable)
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    staging = Path(tempfile.mkdtemp(prefix=STAGING_PREFIX, dir=out_dir))
    batch_id = new_id()
    who = printed_by(actor)
    staged: list[tuple[Path, PlanView]] = []
    workers = workers if _can_fork() else 1
    pool: ProcessPoolExecutor | None = None
    try:
        if progress:
            progress(0, total)
        redact = not access.can(session, actor, Permission.VIEW_CLINICAL)
        job = RenderJob(variant, who, now, today, str(staging), large_print)

        def views() -> Iterator[PlanView]:
            for start in range(0, total, chunk):
                yield from care_plan_views.plan_views(
                    session, shareable[start : start + chunk], redact_clinical=redact
                )

        def done(piece: Sequence[PlanView]) -> None:
            staged.extend((staging / job.file_name(v), v) for v in piece)
            if progress:
                progress(len(staged), total)

        if workers <= 1:
            for view in views():
                if is_cancelled and is_cancelled():
                    raise Interrupted("Export cancelled; no files were kept.")
                job([view])
                done([view])
        else:
            pool = ProcessPoolExecutor(workers, mp_context=multiprocessing.get_context("fork"))
            pieces = _batched(views(), POOL_TASK)
            pending: dict[Future[None], list[PlanView]] = {}

            def submit_next() -> None:
                piece = next(pieces, None)
                if piece:
                    pending[pool.submit(job, piece)] = piece

            for _ in range(workers * 3):
                submit_next()
            while pending:
                finished, _ = wait(pending, timeout=0.1, return_when=FIRST_COMPLETED)
                if is_cancelled and is_cancelled():
                    raise Interrupted("Export cancelled; no files were kept.")
                for future in finished:
                    piece = pending.pop(future)
                    future.result()  # a worker's error surfaces here
                    done(piece)
                    submit_next()
        for _path, view in staged:
            large = " large_print=1" if job.large(view) else ""
            result.large_print += bool(large)
            detail = f"export variant={variant.value} version={view.version}{large}"
            _audit_export(session, actor, view, f"{detail} batch={batch_id}")
        audit.record_by(
            session,
            actor,
            AuditAction.EXECUTE,
            "cohort",
            cohort.id,
            detail=f"export batch={batch_id} plans={total} skipped_no_consent={result.skipped_no_consent}",
        )
        for path, _view in staged:
            if os.name == "posix":
                os.chmod(path, 0o600)
            final = out_dir / path.name
            os.replace(path, final)
            result.written.append(final)
    except BaseException:
        # Cancelled, interrupted or failed: remove anything already moved, then the staging.
        for final in result.written:
            final.unlink(missing_ok=True)
        result.written.clear()
        raise
    finally:
        if pool is not None:
            # Wait for running workers so none writes into the staging folder after removal.
            pool.shutdown(wait=True, cancel_futures=True)
        shutil.rmtree(staging, ignore_errors=True)
    log.info(
        "exported %d care plans of cohort %s (skipped %d without consent)",
        len(result.written),
        cohort.id,
        result.skipped_no_consent,
    )
    return result
