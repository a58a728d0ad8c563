"""``int-desk export-fhir`` and ``int-desk import-fhir``: FHIR R4 / UK Core in and out.

Both act as the workspace's signed-in team member, with the same permission, consent and audit
rules as the app. See docs/fhir.md for the mapping.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from sqlalchemy import select

from int_desk.cli.caseload_cmds import import_cohort_id
from int_desk.cli.common import (
    UNKNOWN_PRACTICES,
    add_first_import_args,
    add_workspace_arg,
    open_workspace,
    report_preview,
)
from int_desk.domain.errors import NotFound, ValidationError
from int_desk.domain.uk_time import in_london
from int_desk.services import caseload as cl
from int_desk.services import fhir_export, fhir_import
from int_desk.services.care_plan_export import find_cohort
from int_desk.services.identity import current_actor


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser(
        "export-fhir",
        help="export care plans as FHIR R4 (UK Core): a Bundle per person, NDJSON per cohort/team",
    )
    add_workspace_arg(p)
    who = p.add_mutually_exclusive_group(required=True)
    who.add_argument("--nhs-number", help="one person: writes a Bundle (JSON) to --out")
    who.add_argument("--cohort", help="a cohort ('Team/Cohort' if ambiguous): NDJSON into --out")
    who.add_argument("--team", help="every cohort of a team: NDJSON files into --out")
    p.add_argument("--out", required=True, type=Path, help="file (one person) or folder")
    p.add_argument("--quiet", action="store_true", help="no progress on stderr")
    p.set_defaults(func=run_export)

    p = sub.add_parser(
        "import-fhir",
        help="import a FHIR Bundle or NDJSON of Patients (with Flags, Conditions) into a cohort",
    )
    add_workspace_arg(p)
    p.add_argument("--cohort", required=True, help="cohort name")
    p.add_argument("--team", help="team name, when several of your teams share the cohort name")
    p.add_argument("file", type=Path, help="Bundle (.json) or NDJSON (.ndjson) file")
    p.add_argument("--dry-run", action="store_true", help="report only; write nothing")
    p.add_argument(
        "--strict", action="store_true", help="import nothing when any entry is rejected"
    )
    add_first_import_args(p)
    p.set_defaults(func=run_import)

    p = sub.add_parser(
        "gp-notifications",
        help="what a person's GP practice was told by the INT, and when it was read",
    )
    add_workspace_arg(p)
    p.add_argument("--nhs-number", required=True, help="the person's NHS number")
    p.add_argument(
        "--summary-pdf", type=Path, metavar="FILE", help="write the latest one's GP summary"
    )
    p.set_defaults(func=run_gp_notifications)


def run_export(args: argparse.Namespace) -> int:
    def progress(done: int, total: int) -> None:
        if not args.quiet and total:
            print(f"\r{done}/{total} people", end="", file=sys.stderr, flush=True)

    with open_workspace(args.workspace) as ws, ws.session() as s:
        actor = current_actor(s)
        if args.nhs_number:
            one = fhir_export.export_person(
                session=s, actor=actor, nhs_number=args.nhs_number, out=args.out
            )
            print(f"Wrote {one.path} ({one.resources} resources).")
            return 0
        cohort_id = find_cohort(s, actor, args.cohort).id if args.cohort else None
        team_id = cl.resolve_team(s, actor, args.team) if args.team else None
        result = fhir_export.export_group(
            session=s,
            actor=actor,
            out_dir=args.out,
            cohort_id=cohort_id,
            team_id=team_id,
            progress=progress,
        )
    if not args.quiet:
        print(file=sys.stderr)
    counts = ", ".join(f"{t} {c}" for t, c in sorted(result.files.items()))
    skipped = (
        f"; {result.skipped_no_consent} left out (no signed-off plan with consent to share)"
        if result.skipped_no_consent
        else ""
    )
    print(f"Wrote {result.people} people to {result.out_dir} ({counts}){skipped}.")
    return 0


def run_import(args: argparse.Namespace) -> int:
    if not args.file.exists():
        raise ValidationError(f"No such file: {args.file}")
    parsed = fhir_import.read_file(args.file)
    with open_workspace(args.workspace) as ws:
        with ws.session() as s:
            cohort_id, new_cohort = import_cohort_id(s, current_actor(s), args)
            preview = fhir_import.build_preview(
                session=s, actor=current_actor(s), cohort_id=cohort_id, parsed=parsed
            )
            if new_cohort:
                s.rollback()  # the new cohort is made again when writing: a preview writes nothing
        rejected = len(preview.rows.rejected)
        stop = report_preview(args, preview, rejected=rejected, what="entries")
        if stop is not None:
            return stop
        if preview.rows.unknown_practices and not args.add_practices:
            print(UNKNOWN_PRACTICES)
            return 2
        with ws.session() as s:
            if new_cohort:
                preview.rows.cohort_id, _ = import_cohort_id(s, current_actor(s), args)
            result = fhir_import.apply_import(session=s, actor=current_actor(s), preview=preview)
        print(
            f"Imported into {preview.rows.cohort_name}: {result.created_patients} new people, "
            f"{result.enrolled} enrolled, {result.updated} updated, {result.unchanged} unchanged, "
            f"{result.rejected} rejected (not imported); {result.flags} flags and "
            f"{result.conditions} conditions recorded."
        )
    return 1 if rejected else 0


def run_gp_notifications(args: argparse.Namespace) -> int:
    from int_desk.domain.nhs_number import normalise
    from int_desk.reports import pdf_base
    from int_desk.services import gp_notify
    from int_desk.store.models import Patient

    with open_workspace(args.workspace) as ws, ws.session() as s:
        actor = current_actor(s)
        digits = normalise(args.nhs_number)
        pid = s.scalar(select(Patient.id).where(Patient.nhs_number == digits))
        if pid is None:
            raise NotFound("No patient with that NHS number in this workspace.")
        notices = gp_notify.sent_to_gp(session=s, actor=actor, patient_id=pid)
        for n in notices:
            print(f"{in_london(n.queued_at):%d %b %Y %H:%M}  {n.subject}  [{n.state}]")
        if not notices:
            print("Nothing has been sent to this person's practice.")
        if args.summary_pdf and notices:
            data = gp_notify.gp_summary_pdf(session=s, actor=actor, notification_id=notices[0].id)
            pdf_base.write_atomic(args.summary_pdf, data)
            print(f"Wrote {args.summary_pdf}.")
    return 0
