"""``int-desk import-admissions``: a hospital admissions extract into people's health events."""

from __future__ import annotations

import argparse
from pathlib import Path

from int_desk.cli.common import add_workspace_arg, open_workspace, read_mapped, report_preview

FIELDS = "nhs_number, admission_date, admission_method, discharge_date, provider, ignore"


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser(
        "import-admissions",
        help="import hospital admissions (NHS number, admission date and method, discharge "
        "date, provider) with a validation report",
    )
    add_workspace_arg(p)
    p.add_argument("file", type=Path, help="CSV or workbook (.xlsx, .xls, .ods)")
    p.add_argument("--sheet", help="the workbook's sheet (default the first)")
    p.add_argument("--dry-run", action="store_true", help="report only; write nothing")
    p.add_argument("--strict", action="store_true", help="import nothing when any row is rejected")
    p.add_argument(
        "--map", action="append", default=[], metavar="COLUMN=FIELD",
        help=f"map a column to a field ({FIELDS})",
    )  # fmt: skip
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    from int_desk.services import admissions_import as ai
    from int_desk.services.identity import current_actor

    table, mapping = read_mapped(args, ai)
    with open_workspace(args.workspace) as ws:
        with ws.session() as s:
            preview = ai.build_preview(
                session=s, actor=current_actor(s), table=table, mapping=mapping
            )
        stop = report_preview(args, preview, fields=ai.FIELDS)
        if stop is not None:
            return stop
        rejected = len(preview.rejected)
        with ws.session() as s:
            result = ai.apply_import(session=s, actor=current_actor(s), preview=preview)
        print(
            f"Imported: {result.admissions} admissions ({result.emergency} emergency), "
            f"{result.discharges} discharges; {result.unchanged} already recorded, "
            f"{result.rejected} rejected (not imported)."
        )
    return 1 if rejected else 0
