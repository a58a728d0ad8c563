"""``int-desk audit verify``: check the audit trail's hash chain."""

from __future__ import annotations

import argparse

from int_desk.cli.common import add_workspace_arg, open_workspace
from int_desk.store import audit


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("audit", help="audit trail commands")
    audit_sub = p.add_subparsers(dest="audit_command", required=True, metavar="ACTION")
    v = audit_sub.add_parser("verify", help="verify the hash chain; exit 1 where it is broken")
    add_workspace_arg(v)
    v.set_defaults(func=run_verify)


def run_verify(args: argparse.Namespace) -> int:
    with open_workspace(args.workspace) as ws, ws.session() as s:
        report = audit.verify(s)
    print(report.describe())
    return 0 if report.intact else 1
