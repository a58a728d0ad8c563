"""``int-desk``: launch the app, or run a headless command.

Each command lives in its own module here with ``register(subparsers)``; add its name to
``COMMANDS``. Errors the user can act on (IntDeskError) print one clear line and exit 2.
"""

from __future__ import annotations

import argparse
import importlib
import sys
from collections.abc import Sequence

from int_desk import __version__
from int_desk.domain.errors import IntDeskError
from int_desk.logs import setup_logging

COMMANDS = (
    "demo",
    "workspace_cmds",
    "audit_cmd",
    "care_plan_cmds",
    "server_cmds",
    "sync_cmds",
    "caseload_cmds",
    "huddle_cmd",
    "scorecard_cmd",
    "admissions_cmd",
    "fhir_cmds",
)


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="int-desk",
        description="INT Desk - caseload, shared care plans and huddles for INTs.",
    )
    parser.add_argument("--version", action="version", version=f"INT Desk {__version__}")
    parser.add_argument("--workspace", type=str, help="workspace directory to open in the app")
    parser.add_argument(
        "--demo",
        action="store_true",
        help="open (creating it if needed) the embedded default demo workspace",
    )
    parser.add_argument("-v", "--verbose", action="store_true", help="log more to stderr")
    parser.add_argument(
        "--self-test",
        action="store_true",
        help="check this install headless (encrypted store, PDF, endpoint, Qt); exit 0 if all pass",
    )
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")
    for name in COMMANDS:
        importlib.import_module(f"int_desk.cli.{name}").register(sub)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    setup_logging(verbose=args.verbose)
    if args.self_test:
        from int_desk.selftest import run as run_self_test

        return run_self_test()
    if args.command is None:
        from int_desk.app.main import run_app  # Qt only when the GUI is wanted

        return run_app(workspace=args.workspace, demo=args.demo)
    try:
        return int(args.func(args) or 0)
    except IntDeskError as exc:
        print(f"int-desk: {exc}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print("int-desk: interrupted; nothing further was written.", file=sys.stderr)
        return 130


if __name__ == "__main__":
    sys.exit(main())
