"""``int-desk huddle-agenda``: the agenda the team's rules give for a date, with reasons."""

from __future__ import annotations

import argparse
from datetime import date
from pathlib import Path

from int_desk.cli.common import add_workspace_arg, open_workspace
from int_desk.domain.errors import ValidationError
from int_desk.domain.nhs_number import format_nhs


def _day(value: str) -> date:
    try:
        return date.fromisoformat(value)
    except ValueError:
        raise argparse.ArgumentTypeError("use YYYY-MM-DD") from None


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser(
        "huddle-agenda",
        help="print a team's huddle agenda for a date with the reasons; --out writes the PDF",
    )
    add_workspace_arg(p)
    p.add_argument("--team", required=True, help="team name, e.g. 'Bicester INT'")
    p.add_argument("--date", required=True, type=_day, help="huddle date, YYYY-MM-DD")
    p.add_argument("--out", type=Path, help="write the agenda PDF to this file")
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    from int_desk.services import huddle_export, huddles
    from int_desk.services.identity import current_actor

    if args.out is not None and args.out.suffix.lower() != ".pdf":
        raise ValidationError("--out must name a .pdf file.", field="out")
    with open_workspace(args.workspace) as ws, ws.session() as s:
        actor = current_actor(s)
        team = huddles.team_by_name(s, args.team)
        agenda, written = huddle_export.export_computed_agenda(
            session=s, actor=actor, team_id=team.id, on=args.date, path=args.out
        )
    print(f"{team.name} huddle agenda for {huddles.fmt_day(args.date)}: {len(agenda.items)} people")
    if agenda.last_huddle_on:
        print(f"(since the last huddle on {huddles.fmt_day(agenda.last_huddle_on)})")
    for n, c in enumerate(agenda.items, 1):
        print(f"\n{n:>2}. {c.name}  NHS {format_nhs(c.nhs_number)}  [{c.priority} priority]")
        for reason in c.reason_texts:
            print(f"    - {reason}")
    if agenda.overflow:
        print(
            f"\n{agenda.overflow:,} more people met a rule but did not fit (max {agenda.config.max_items})."
        )
    if written:
        print(f"\nAgenda PDF written to {written}")
    return 0
