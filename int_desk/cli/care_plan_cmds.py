"""``int-desk export-plan`` and ``int-desk export-plans``: care-plan PDFs from the command line.

Both act as the workspace's signed-in team member and obey the same permission, consent and
audit rules as the app. The carer copy is large print when the person's record says they need
it (Accessible Information Standard), or with ``--large-print``; ``--standard-print`` overrides.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from int_desk.cli.common import add_workspace_arg, open_workspace
from int_desk.domain.care_plan import Variant
from int_desk.services import care_plan_export
from int_desk.services.identity import current_actor


def _print_size_args(parser: argparse.ArgumentParser) -> None:
    size = parser.add_mutually_exclusive_group()
    size.add_argument(
        "--large-print",
        dest="large_print",
        action="store_const",
        const=True,
        help="large-print carer copy (16 pt and over, simple layout); implies --carer-copy",
    )
    size.add_argument(
        "--standard-print",
        dest="large_print",
        action="store_const",
        const=False,
        help="standard print even for people whose record asks for large print",
    )


def _variant(args: argparse.Namespace) -> Variant:
    return Variant.CARER if args.carer_copy or args.large_print else Variant.PROFESSIONAL


def register(sub: argparse._SubParsersAction) -> None:
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
    _print_size_args(one)
    one.set_defaults(func=run_one)

    many = sub.add_parser("export-plans", help="export a cohort's active care plans to a folder")
    add_workspace_arg(many)
    many.add_argument(
        "--cohort", required=True, help="cohort name (or 'Team name/Cohort name' if ambiguous)"
    )
    many.add_argument("--out", required=True, type=Path, help="folder to write the PDFs into")
    many.add_argument("--carer-copy", action="store_true", help="write the patient/carer copies")
    _print_size_args(many)
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
    variant = _variant(args)
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
            large_print=args.large_print if variant is Variant.CARER else None,
        )
    note = " (consent override recorded)" if result.consent_override else ""
    size = " in large print" if result.large_print else ""
    print(f"Wrote {result.path}{size}{note}.")
    if result.unmet_needs:
        needs = ", ".join(n.label.lower() for n in result.unmet_needs)
        print(f"Their record also asks for: {needs}. Arrange that format as well.")
    return 0


def run_many(args: argparse.Namespace) -> int:
    variant = _variant(args)

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
            large_print=args.large_print if variant is Variant.CARER else None,
        )
    if not args.quiet:
        print(file=sys.stderr)
    skipped = (
        f"; {result.skipped_no_consent} skipped (consent to share declined or not recorded)"
        if result.skipped_no_consent
        else ""
    )
    large = f" ({result.large_print} in large print)" if result.large_print else ""
    print(f"Wrote {len(result.written)} care plans{large} to {result.out_dir}{skipped}.")
    return 0
