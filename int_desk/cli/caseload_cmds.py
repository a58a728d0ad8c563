"""``int-desk caseload`` and ``int-desk import-cohort``: the caseload window's list and the
cohort import, headless (same services, same filters and saved views)."""

from __future__ import annotations

import argparse
import io
import json
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import date
from pathlib import Path
from typing import IO

from int_desk.cli.common import (
    UNKNOWN_PRACTICES,
    add_first_import_args,
    add_workspace_arg,
    open_workspace,
    read_mapped,
    report_preview,
)
from int_desk.domain.errors import NotFound, ValidationError
from int_desk.domain.uk_time import london_today, uk_date
from int_desk.services import caseload as cl
from int_desk.services import caseload_export, caseload_views, table_export
from int_desk.services.cohort_fields import FIELDS, IGNORE
from int_desk.services.identity import current_actor


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("caseload", help="print the caseload (same rows and views as the window)")
    add_workspace_arg(p)
    p.add_argument("--team", help="team name (default: all your teams)")
    p.add_argument("--cohort", action="append", help="cohort name (repeatable)")
    p.add_argument("--view", help='saved view, e.g. "My caseload" or "Reviews overdue"')
    p.add_argument(
        "--search",
        default="",
        help="name (punctuation ignored), NHS number, postcode or "
        "date of birth (10/01/1930, 10-Jan-1930)",
    )
    p.add_argument("--sort", choices=cl.SORT_KEYS, help="sort column")
    p.add_argument("--desc", action="store_true", help="sort descending")
    p.add_argument(
        "--format", choices=("table", "csv", "json", "xlsx"), default="table",
        help="csv is UTF-8 with a byte-order mark, so Excel reads names right; xlsx needs "
        "--output; dates are dd/mm/yyyy except in json (ISO)",
    )  # fmt: skip
    p.add_argument("--output", type=Path, help="write to this file instead of the screen")
    p.add_argument(
        "--no-bom", action="store_true", help="csv without the byte-order mark (for scripts)"
    )
    p.add_argument("--limit", type=int, help="print at most this many rows")
    p.set_defaults(func=run_caseload)

    p = sub.add_parser(
        "import-cohort",
        help="import a PHM or GP-system extract (CSV, text, .xlsx, .ods) into a cohort, "
        "with a validation report",
    )
    add_workspace_arg(p)
    p.add_argument("--cohort", required=True, help="cohort name")
    p.add_argument("--team", help="team name, when several of your teams share the cohort name")
    p.add_argument("file", type=Path, help="CSV or text export, or an .xlsx/.xls/.ods workbook")
    p.add_argument("--sheet", help="the workbook sheet to read (default: the first)")
    p.add_argument("--dry-run", action="store_true", help="report only; write nothing")
    p.add_argument(
        "--map", action="append", default=[], metavar="COLUMN=FIELD",
        help=f"map a column to a field ({', '.join(FIELDS)}, {IGNORE})",
    )  # fmt: skip
    p.add_argument("--strict", action="store_true", help="import nothing when any row is rejected")
    add_first_import_args(p)
    p.set_defaults(func=run_import)


def _filters(args: argparse.Namespace, session, actor) -> cl.CaseloadFilter:  # noqa: ANN001
    f = (
        caseload_views.load_view(session=session, actor=actor, name=args.view)
        if args.view
        else cl.CaseloadFilter()
    )
    if args.team:
        f.team_ids = [cl.resolve_team(session, actor, args.team).hex]
    if args.cohort:
        f.cohort_ids = [cl.resolve_cohort(session, actor, c).hex for c in args.cohort]
    if args.search:
        f.search = args.search
    if args.sort:
        f.sort = args.sort
        f.descending = args.desc
    return f


def _iso(value: object) -> str:
    if isinstance(value, date):
        return value.isoformat()
    raise TypeError(type(value).__name__)


@contextmanager
def _utf8_stdout() -> Iterator[IO[str]]:
    """Standard output as UTF-8 whatever the console's code page (Windows: cp1252 would fail
    on Łukasz); detached afterwards so the real stream stays open."""
    buffer = getattr(sys.stdout, "buffer", None)
    if buffer is None:
        yield sys.stdout
        return
    sys.stdout.flush()
    stream = io.TextIOWrapper(buffer, encoding="utf-8", newline="")
    try:
        yield stream
    finally:
        stream.flush()
        stream.detach()


@contextmanager
def _destination(path: Path | None) -> Iterator[IO[str]]:
    if path is None:
        with _utf8_stdout() as out:
            yield out
        return
    if not path.parent.is_dir():
        raise ValidationError("Choose a folder that exists for --output.", "output")
    with path.open("w", encoding="utf-8", newline="") as fh:
        yield fh


def run_caseload(args: argparse.Namespace) -> int:
    today = london_today()
    if args.format == "xlsx" and args.output is None:
        raise ValidationError("--format xlsx needs --output FILE.xlsx (a workbook is no text).")
    with open_workspace(args.workspace) as ws, ws.session() as s:
        actor = current_actor(s)
        f = _filters(args, s, actor)
        if args.format in caseload_export.FORMATS and args.output is not None:
            n = caseload_export.export_list(
                session=s, actor=actor, filters=f, path=args.output, fmt=args.format,
                bom=not args.no_bom, limit=args.limit,
            )  # fmt: skip
            print(f"Wrote {n} {'person' if n == 1 else 'people'} to {args.output}")
            return 0
        rows = cl.caseload(session=s, actor=actor, filters=f, today=today, limit=args.limit)
        iso = args.format == "json"
        records = caseload_export.caseload_records(rows, today, _iso if iso else uk_date)
    with _destination(args.output) as out:
        if args.format == "json":
            json.dump(records, out, indent=1, ensure_ascii=False, default=_iso)
            out.write("\n")
        elif args.format == "csv":
            table_export.write_csv(out, caseload_export.CSV_COLUMNS, records, bom=not args.no_bom)
        else:
            _print_table(out, records)
            out.write(f"{len(records)} people\n")
    return 0


def _print_table(out: IO[str], records: list[dict[str, object]]) -> None:
    cols = [("name", "Name", 28), ("nhs_number", "NHS number", 12),
            ("date_of_birth", "Born", 10), ("age", "Age", 3),
            ("cohorts", "Cohorts", 16), ("priority", "Priority", 8),
            ("lead_professional", "Lead", 18), ("last_contact", "Last contact", 12),
            ("next_review_due", "Review due", 10), ("care_plan", "Care plan", 14),
            ("open_tasks", "Tasks", 5), ("attention", "Attention", 30)]  # fmt: skip

    def text(value: object) -> str:
        return (
            uk_date(value) if isinstance(value, date) else str(value if value is not None else "")
        )

    out.write("  ".join(f"{label:<{w}}" for _, label, w in cols).rstrip() + "\n")
    for r in records:
        out.write("  ".join(f"{text(r[k])[:w]:<{w}}" for k, _, w in cols).rstrip() + "\n")


def run_import(args: argparse.Namespace) -> int:
    from int_desk.services import cohort_import as ci  # not imported for `caseload`

    table, mapping = read_mapped(args, ci)
    with open_workspace(args.workspace) as ws:
        with ws.session() as s:
            actor = current_actor(s)
            cohort_id, new_cohort = import_cohort_id(s, actor, args)
            preview = ci.build_preview(
                session=s, actor=actor, cohort_id=cohort_id, table=table, mapping=mapping
            )
            if new_cohort:
                s.rollback()  # the new cohort is made again when writing: a preview writes nothing
        stop = report_preview(args, preview, fields=FIELDS)
        if stop is not None:
            return stop
        rejected = len(preview.rejected)
        if preview.unknown_practices and not args.add_practices:
            print(UNKNOWN_PRACTICES)
            return 2
        with ws.session() as s:
            actor = current_actor(s)
            if new_cohort:
                preview.cohort_id, _ = import_cohort_id(s, actor, args)
            result = ci.apply_import(session=s, actor=actor, preview=preview)
        print(
            f"Imported into {preview.cohort_name}: {result.created_patients} new people, "
            f"{result.enrolled} enrolled, {result.updated} updated, {result.unchanged} unchanged, "
            f"{result.rejected} rejected (not imported)."
        )
    return 1 if rejected else 0


def import_cohort_id(s, actor, args: argparse.Namespace):  # noqa: ANN001, ANN202
    """(cohort id, made now) for an import's --cohort/--team/--new-cohort (import-fhir too)."""
    if args.team:
        team = cl.resolve_team(s, actor, args.team)
        from dataclasses import replace

        actor = replace(actor, team_ids=frozenset({team}))
    try:
        return cl.resolve_cohort(s, actor, args.cohort), False
    except NotFound:
        if not getattr(args, "new_cohort", False):
            raise NotFound(
                f"No cohort called '{args.cohort}' in your teams. For a first import, add "
                "--new-cohort to create it."
            ) from None
    if len(actor.team_ids) != 1:
        raise ValidationError("You are in several teams: add --team to say whose cohort it is.")
    from int_desk.services.team_setup import ensure_cohort

    (team_id,) = actor.team_ids
    return ensure_cohort(session=s, actor=actor, team_id=team_id, name=args.cohort), True
