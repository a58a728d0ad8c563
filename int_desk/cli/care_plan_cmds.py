"""``int-desk export-plan`` and ``int-desk export-plans``: care-plan PDFs from the command line.

Both act as the workspace's signed-in team member and obey the same permission, consent and
audit rules as the app.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from int_desk.cli.common import add_workspace_arg, open_workspace
from int_desk.reports.care_plan_pdf import Variant
from int_desk.services import care_plan_export
from int_desk.services.identity import current_actor


def register(sub: argparse._SubParsersAction) -> None:  # type: ignore[type-arg]
    one = sub.add_parser("export-plan", help="export one person's active care plan as a PDF")
    add_workspace_arg(one)
    one.add_argument("--nhs-number", required=True, help="the person's NHS number")
    one.add_argument("--out", required=True, type=Path, help="PDF file to write")
    one.add_argument(
        "--carer-copy",
        action="store_true",
        help="plain-language copy for the person and their carer (no internal clinical notes)",
    )
    one.add_argument(
        "--override-consent",
        metavar="REASON",
        help="clinical lead only: export although consent to share was declined, giving the reason",
    )
    one.set_defaults(func=run_one)

    many = sub.add_parser("export-plans", help="export a cohort's active care plans to a folder")
    add_workspace_arg(many)
    many.add_argument(
        "--cohort", required=True, help="cohort name (or 'Team name/Cohort name' if ambiguous)"
    )
    many.add_argument("--out", required=True, type=Path, help="folder to write the PDFs into")
    many.add_argument("--carer-copy", action="store_true", help="write the patient/carer copies")
    many.add_argument("--quiet", action="store_true", help="no progress on stderr")
    many.add_argument(
        "--jobs",
        type=int,
        default=0,
        metavar="N",
        help="render in N worker processes (default: one per core for large cohorts)",
    )
    many.set_defaults(func=run_many)


def run_one(args: argparse.Namespace) -> int:
    variant = Variant.CARER if args.carer_copy else Variant.PROFESSIONAL
    with open_workspace(args.workspace) as ws, ws.session() as s:
        actor = current_actor(s)
        plan = care_plan_export.plan_for_nhs_number(s, args.nhs_number)
        result = care_plan_export.export_plan(
            session=s,
            actor=actor,
            plan_id=plan.id,
            out=args.out,
            variant=variant,
            override_reason=args.override_consent,
        )
    note = " (consent override recorded)" if result.consent_override else ""
    print(f"Wrote {result.path}{note}.")
    return 0


def run_many(args: argparse.Namespace) -> int:
    variant = Variant.CARER if args.carer_copy else Variant.PROFESSIONAL

    def progress(done: int, total: int) -> None:
        if not args.quiet and total and (done == total or done % 25 == 0):
            print(f"\r{done}/{total} plans", end="", file=sys.stderr, flush=True)

    with open_workspace(args.workspace) as ws, ws.session() as s:
        actor = current_actor(s)
        cohort = care_plan_export.find_cohort(s, actor, args.cohort)
        workers = args.jobs or care_plan_export.auto_workers(
            care_plan_export.count_shareable(s, cohort.id)
        )
        result = care_plan_export.export_cohort(
            session=s,
            actor=actor,
            cohort_id=cohort.id,
            out_dir=args.out,
            variant=variant,
            progress=progress,
            workers=max(1, workers),
        )
    if not args.quiet:
        print(file=sys.stderr)
    skipped = (
        f"; {result.skipped_no_consent} skipped (consent to share declined or not recorded)"
        if result.skipped_no_consent
        else ""
    )
    print(f"Wrote {len(result.written)} care plans to {result.out_dir}{skipped}.")
    return 0
