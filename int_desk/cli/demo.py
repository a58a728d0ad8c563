"""``int-desk demo``: build a synthetic demo workspace."""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

from int_desk.cli.common import new_passphrase
from int_desk.services.demo import DEFAULT_PATIENTS, build_demo
from int_desk.store.workspace import Workspace


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("demo", help="build a synthetic demo workspace")
    p.add_argument("--workspace", required=True, type=Path, help="new workspace directory")
    p.add_argument("--patients", type=int, default=DEFAULT_PATIENTS, help="number of patients")
    p.add_argument("--seed", type=int, default=1, help="random seed (same seed, same workspace)")
    p.add_argument(
        "--no-keyring", action="store_true", help="do not keep the key in the OS keyring"
    )
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    if not 1 <= args.patients <= 200_000:
        print("int-desk: --patients must be between 1 and 200000", file=sys.stderr)
        return 2
    start = time.perf_counter()
    with Workspace.create(args.workspace, new_passphrase(), use_keyring=not args.no_keyring) as ws:
        with ws.session() as s:
            summary = build_demo(s, patients=args.patients, seed=args.seed)
    took = time.perf_counter() - start
    rows = sum(summary.rows.values())
    print(
        f"Demo workspace ready in {args.workspace}: {summary.patients} patients, "
        f"{summary.teams} teams, {summary.members} team members, {rows} rows ({took:.1f} s)."
    )
    return 0
