"""``int-desk``: launch the app, or run a headless command.

Each command lives in its own module here with ``register(subparsers)``; add its name to
``COMMANDS`` and the commands it registers to ``COMMAND_MODULES`` (tests/test_cli_lazy.py
checks the two agree). Errors the user can act on (IntDeskError) print one clear line and
exit 2.

Start-up is lazy: ``--version`` answers before anything else is imported, and a command
imports only its own module (each imports the store, reportlab, the server ... it needs), so a
nurse's ``int-desk caseload`` does not wait for the sync server's or the PDF code's imports.
"""

from __future__ import annotations

import argparse
import gc
import importlib
import io
import os
import sys
from collections.abc import Iterator, Sequence
from contextlib import contextmanager

from int_desk import __version__

COMMANDS = (
    "demo",
    "workspace_cmds",
    "audit_cmd",
    "care_plan_cmds",
    "server_cmds",
    "sync_cmds",
    "join_cmd",
    "caseload_cmds",
    "huddle_cmd",
    "scorecard_cmd",
    "admissions_cmd",
    "fhir_cmds",
)


# command -> the module in COMMANDS that registers it
COMMAND_MODULES = {
    "demo": "demo",
    "init": "workspace_cmds",
    "passwd": "workspace_cmds",
    "info": "workspace_cmds",
    "teams": "workspace_cmds",
    "audit": "audit_cmd",
    "export-plan": "care_plan_cmds",
    "export-plans": "care_plan_cmds",
    "serve": "server_cmds",
    "admin": "server_cmds",
    "connect": "sync_cmds",
    "sync": "sync_cmds",
    "join": "join_cmd",
    "caseload": "caseload_cmds",
    "import-cohort": "caseload_cmds",
    "huddle-agenda": "huddle_cmd",
    "scorecard": "scorecard_cmd",
    "import-admissions": "admissions_cmd",
    "export-fhir": "fhir_cmds",
    "import-fhir": "fhir_cmds",
    "gp-notifications": "fhir_cmds",
}
_VALUED_OPTIONS = frozenset({"--workspace"})  # top-level options that take a value


def command_in(argv: Sequence[str]) -> str | None:
    """The command named in ``argv`` (its first positional argument), if any."""
    skip = False
    for arg in argv:
        if skip:
            skip = False
        elif arg in _VALUED_OPTIONS:
            skip = True
        elif arg == "--":
            return None
        elif not arg.startswith("-"):
            return arg
    return None


def modules_for(argv: Sequence[str]) -> tuple[str, ...]:
    """The command modules to import for ``argv``: the named command's only; all of them for
    help or an unknown command (so argparse can list the choices); none to open the app."""
    command = command_in(argv)
    if command in COMMAND_MODULES:
        return (COMMAND_MODULES[command],)
    if command is not None or "-h" in argv or "--help" in argv:
        return COMMANDS
    return ()


def build_parser(modules: Sequence[str] = COMMANDS) -> argparse.ArgumentParser:
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
    for name in modules:
        importlib.import_module(f"int_desk.cli.{name}").register(sub)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    argv_given = argv
    argv = list(sys.argv[1:] if argv is None else argv)
    if argv == ["--version"]:
        print(f"INT Desk {__version__}")  # nothing else imported: answers in a few ms
        return 0
    modules = modules_for(argv)
    with _imports_kept(frozen=argv_given is None and bool(modules)):
        parser = build_parser(modules)
    args = parser.parse_args(argv)
    from int_desk.domain.errors import IntDeskError
    from int_desk.logs import setup_logging

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
    except BrokenPipeError:
        # The reader stopped early (`int-desk caseload | head`): end quietly. Point stdout at
        # the null device so the interpreter's final flush does not fail again at exit.
        _silence_stdout()
        return 0


@contextmanager
def _imports_kept(*, frozen: bool) -> Iterator[None]:
    """A headless command's imports (SQLAlchemy, the ORM models: most of its start-up) run
    without the cycle collector, and what they built is then frozen: modules live as long as
    the process, so collecting them is wasted work, and the collection at exit skips them too.
    About a third of a short command's CPU (issue 21: ``caseload`` on 300 people). Only when
    ``main`` is the process's entry: a test calling ``main([...])`` keeps its collector as is."""
    if not frozen:
        yield
        return
    gc.disable()
    try:
        yield
    finally:
        gc.freeze()
        gc.enable()


def _silence_stdout() -> None:
    try:
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
    except (OSError, ValueError, io.UnsupportedOperation):  # no real file descriptor (tests)
        pass


if __name__ == "__main__":
    sys.exit(main())
