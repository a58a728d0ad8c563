"""``int-desk scorecard``: the INT scorecard headless, as a table, CSV or JSON, or the PDF."""

from __future__ import annotations

import argparse
import sys
import uuid
from datetime import date
from pathlib import Path

from int_desk.cli.common import add_workspace_arg, open_workspace
from int_desk.domain.errors import ValidationError
from int_desk.domain.scorecard import Breakdown, Grain, Scorecard, ScorecardQuery
from int_desk.domain.uk_time import london_today


def day(value: str) -> date:
    try:
        return date.fromisoformat(value)
    except ValueError:
        raise argparse.ArgumentTypeError("use YYYY-MM-DD") from None


def add_scorecard_args(p: argparse.ArgumentParser) -> None:
    """The filters both ``scorecard`` and ``admin scorecard`` take."""
    p.add_argument("--team", action="append", default=[], help="team name (repeatable)")
    p.add_argument("--from", dest="start", type=day, help="first day, YYYY-MM-DD")
    p.add_argument("--to", dest="end", type=day, help="last day, YYYY-MM-DD (default today)")
    p.add_argument(
        "--by", choices=[b.value for b in Breakdown], help="break each measure down by this"
    )
    p.add_argument("--weekly", action="store_true", help="weekly periods (default monthly)")
    p.add_argument(
        "--rebase-from", type=day, metavar="DATE", help="SPC limits re-based from this date"
    )
    p.add_argument("--format", choices=("table", "csv", "json"), default="table")
    p.add_argument("--out", type=Path, help="write the PDF (or .csv) to this file")


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser(
        "scorecard",
        help="the INT scorecard (care plans, admissions, huddle work) with SPC; --out for PDF",
    )
    add_workspace_arg(p)
    p.add_argument("--cohort", action="append", default=[], help="cohort name (repeatable)")
    add_scorecard_args(p)
    p.set_defaults(func=run)


def build_query(
    args: argparse.Namespace, today: date, **ids: tuple[uuid.UUID, ...]
) -> ScorecardQuery:
    from int_desk.domain import scorecard as sc

    start, end = sc.default_range(today)
    if args.end is not None:
        end = args.end
        if args.start is None:
            start = sc.default_range(end)[0]
    if args.start is not None:
        start = args.start
    if end < start:
        raise ValidationError("--to is before --from.", field="to")
    return sc.ScorecardQuery(
        start=start,
        end=end,
        grain=Grain.WEEK if args.weekly else Grain.MONTH,
        by=Breakdown(args.by) if args.by else None,
        rebase_from=args.rebase_from,
        **ids,
    )


def check_out(path: Path | None) -> None:
    if path is not None and path.suffix.lower() not in (".pdf", ".csv"):
        raise ValidationError("--out must name a .pdf or .csv file.", field="out")


def emit(card: Scorecard, fmt: str) -> None:
    from int_desk.services import scorecard_export as x

    if fmt == "json":
        print(x.json_text(card), flush=True)
    elif fmt == "csv":
        sys.stdout.write(x.csv_text(card))
        sys.stdout.flush()
    else:
        print("\n".join(x.table_lines(card)), flush=True)


def run(args: argparse.Namespace) -> int:
    from int_desk.services import caseload as cl
    from int_desk.services import scorecard as service
    from int_desk.services import scorecard_export as x
    from int_desk.services.identity import current_actor

    check_out(args.out)
    today = london_today()
    with open_workspace(args.workspace) as ws, ws.session() as s:
        actor = current_actor(s)
        team_ids = tuple(cl.resolve_team(s, actor, t) for t in args.team)
        cohort_ids = tuple(cl.resolve_cohort(s, actor, c) for c in args.cohort)
        query = build_query(args, today, team_ids=team_ids, cohort_ids=cohort_ids)
        card = service.scorecard(session=s, actor=actor, query=query, today=today)
        written = None
        if args.out is not None:
            export = x.export_csv if args.out.suffix.lower() == ".csv" else x.export_pdf
            written = export(session=s, actor=actor, card=card, path=args.out)
    emit(card, args.format)
    if written is not None:
        print(f"Scorecard written to {written}", file=sys.stderr)
    return 0
