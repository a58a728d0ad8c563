"""Care-plan PDFs: one plan's render time (median), and a 1,000-plan cohort batch export.

The single render starts from a ready ``PlanView`` (3 goals, 4 actions, the typical demo plan)
so it measures layout and font embedding only. The batch runs the real service path
(``export_cohort``): queries, snapshots, rendering, staging, moves and 1,000 audit entries, in
an encrypted demo workspace whose benchmark cohort holds exactly 1,000 active plans.
"""

from __future__ import annotations

import os
import resource
import shutil
import time
import uuid
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

from sqlalchemy import insert, select

from int_desk.domain.care_plan import ActionView, GoalView, PatientSummary, PlanView, Variant
from int_desk.domain.uk_time import london_today
from int_desk.reports.care_plan_pdf import render_care_plan
from int_desk.services import care_plan_export
from int_desk.services.identity import current_actor
from int_desk.store.models import CarePlan, Cohort, CohortMembership
from int_desk.store.workspace import Workspace
from tests.benchmarks.harness import (
    PASSPHRASE,
    Figure,
    demo_workspace,
    median_p95,
    scratch_dir,
    timed,
)

SINGLE_RUNS = 60
BATCH = 1_000
DEMO_PATIENTS = 4_000


def typical_view() -> PlanView:
    today = date(2026, 11, 20)
    goals = tuple(
        GoalView(uuid.uuid4(), i, f"I want to walk to the corner shop on my own again ({i}).",
                 "Walks 200 m with a frame", today + timedelta(days=60))
        for i in range(1, 4)
    )  # fmt: skip
    actions = tuple(
        ActionView(uuid.uuid4(), i, "District nursing review of leg ulcer dressing",
                   "Femi Ashdown (District nurse), Bicester INT", "Within 2 weeks",
                   goal_number=1 + i % 3)
        for i in range(1, 5)
    )  # fmt: skip
    return PlanView(
        id=uuid.uuid4(),
        series_id=uuid.uuid4(),
        version=2,
        status="active",
        patient=PatientSummary(
            uuid.uuid4(),
            "Zoë Ó'Brien-Łukasz",
            "9990000018",
            date(1938, 3, 3),
            "12 Mill Lane, OX26 4AB",
            "Hard of hearing",
            "Aoife Murphy",
            "Daughter",
            "07700 900123",
            "Chris Ashdown",
        ),  # fmt: skip
        about_me="I have lived in this house for forty years and want to stay here.",
        what_matters="Staying at home and not going back into hospital.",
        contingency_plan="If more breathless than usual: use rescue pack as agreed, then call "
        "the INT on the team number. If chest pain or blue lips: call 999.",
        clinical_summary="Multimorbidity with recent decline in mobility. Lives at home.",
        medicines_notes="Blister pack weekly. Rescue pack issued.",
        carer_involvement="Carer attends reviews and holds the contingency plan.",
        consent_decision="permit",
        consent_with="INT members, GP practice, care agencies",
        consent_date=today,
        consent_recorded_by="Dana Ashdown (Care coordinator)",
        lead="Gita Ashdown (District nurse)",
        review_date=today + timedelta(days=90),
        signed_off_by="Amelia Ashdown (INT clinical lead)",
        signed_off_at=datetime(2026, 11, 1, 10, 0, tzinfo=UTC),
        goals=goals,
        actions=actions,
        contributors=("Gita Ashdown (District nurse)", "Amelia Ashdown (INT clinical lead)"),
    )


def bench_single() -> Figure:
    view = typical_view()
    now = datetime.now(UTC)
    render_care_plan(view, printed_by="Bench (GP)", printed_at=now, today=london_today())  # warm
    samples, cpu = [], []
    for _ in range(SINGLE_RUNS):
        c0 = time.process_time()
        samples.append(
            timed(
                lambda: render_care_plan(
                    view, printed_by="Bench (GP)", printed_at=now, today=london_today()
                )
            )
        )
        cpu.append(time.process_time() - c0)
    median, p95 = median_p95(samples)
    cpu_median, _ = median_p95(cpu)
    pages = render_care_plan(view, printed_by="x", printed_at=now, today=london_today()).count(
        b"/Type /Page\n"
    )
    return Figure(
        "care plan PDF render (median)",
        median * 1000,
        "ms",
        target=20,
        note=f"CPU median {cpu_median * 1000:.1f} ms; wall p95 {p95 * 1000:.1f} ms; "
        f"{SINGLE_RUNS} runs; {pages or '1-2'} pages; load avg {os.getloadavg()[0]:.1f}",
    )


def _benchmark_cohort(ws: Workspace) -> uuid.UUID:
    """A cohort in the signed-in member's team holding 1,000 people with shareable plans."""
    with ws.session() as s:
        actor = current_actor(s)
        team_id = next(iter(actor.team_ids))
        patient_ids = list(
            s.scalars(
                select(CarePlan.patient_id)
                .where(CarePlan.status == "active", CarePlan.consent_decision == "permit")
                .distinct()
                .limit(BATCH)
            )
        )
        if len(patient_ids) < BATCH:
            raise RuntimeError(f"demo has only {len(patient_ids)} shareable active plans")
        cohort_id = uuid.uuid4()
        s.add(Cohort(id=cohort_id, team_id=team_id, name="Benchmark 1000"))
        s.flush()
        s.execute(
            insert(CohortMembership),
            [
                {
                    "id": uuid.uuid4(),
                    "cohort_id": cohort_id,
                    "patient_id": pid,
                    "enrolled_on": london_today(),
                }
                for pid in patient_ids
            ],  # fmt: skip
        )
        return cohort_id


def bench_batch() -> list[Figure]:
    source = demo_workspace(DEMO_PATIENTS)
    work = scratch_dir("reports") / "ws"
    shutil.copytree(source, work)
    figures = []
    with Workspace.open(work, PASSPHRASE, use_keyring=False) as ws:
        cohort_id = _benchmark_cohort(ws)
        for label, workers in (
            ("in-process (as the GUI runs it)", 1),
            ("CLI default workers", care_plan_export.auto_workers(BATCH)),
        ):
            out = scratch_dir("reports-out")
            result: list[care_plan_export.BatchResult] = []

            def run(
                workers: int = workers,
                out: Path = out,
                result: list[care_plan_export.BatchResult] = result,
            ) -> None:
                with ws.session() as s:
                    result.append(
                        care_plan_export.export_cohort(
                            session=s,
                            actor=current_actor(s),
                            cohort_id=cohort_id,
                            out_dir=out,
                            variant=Variant.PROFESSIONAL,
                            workers=workers,
                        )
                    )

            before = (
                resource.getrusage(resource.RUSAGE_SELF),
                resource.getrusage(resource.RUSAGE_CHILDREN),
            )
            took = timed(run)
            after = (
                resource.getrusage(resource.RUSAGE_SELF),
                resource.getrusage(resource.RUSAGE_CHILDREN),
            )
            cpu = sum(
                (a.ru_utime + a.ru_stime) - (b.ru_utime + b.ru_stime)
                for a, b in zip(after, before, strict=True)
            )
            written = len(result[0].written)
            size = sum(p.stat().st_size for p in result[0].written) / max(written, 1)
            shutil.rmtree(out, ignore_errors=True)
            if written != BATCH:
                raise RuntimeError(f"batch wrote {written} files, expected {BATCH}")
            figures.append(
                Figure(
                    f"cohort batch export, {BATCH} plans, {label}",
                    took,
                    "s",
                    target=20,
                    note=f"{workers} process(es); CPU {cpu:.1f} s; {took / BATCH * 1000:.1f} ms/plan incl. "
                    f"queries, audit, moves; avg {size / 1024:.0f} KiB/file; "
                    f"load avg {os.getloadavg()[0]:.1f} on {os.cpu_count()} cores",
                )
            )
    shutil.rmtree(work.parent, ignore_errors=True)
    return figures


def run() -> list[Figure]:
    return [bench_single(), *bench_batch()]
