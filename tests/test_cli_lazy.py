"""The command line starts lazily: --version imports nothing, a command only its own module."""

from __future__ import annotations

import argparse
import importlib
import os
import subprocess
import sys
from pathlib import Path

from int_desk.cli import COMMAND_MODULES, COMMANDS, command_in, modules_for
from tests.conftest import PASSPHRASE

HEAVY = ("sqlalchemy", "PySide6", "reportlab", "fastapi", "uvicorn", "alembic", "httpx")


def test_every_command_is_mapped_to_the_module_that_registers_it() -> None:
    registered = {}
    for name in COMMANDS:
        sub = argparse.ArgumentParser().add_subparsers()
        importlib.import_module(f"int_desk.cli.{name}").register(sub)
        registered.update(dict.fromkeys(sub.choices, name))
    assert registered == COMMAND_MODULES


def test_the_command_is_found_among_the_options() -> None:
    assert command_in(["--workspace", "caseload", "info"]) == "info"  # a value, not a command
    assert command_in(["-v", "caseload", "--workspace", "x"]) == "caseload"
    assert command_in(["--demo"]) is None
    assert modules_for(["caseload", "--workspace", "x"]) == ("caseload_cmds",)
    assert modules_for([]) == ()  # the app: no command modules at all
    assert modules_for(["--help"]) == COMMANDS and modules_for(["nonsense"]) == COMMANDS


def _imported_after(args: list[str], env: dict[str, str] | None = None) -> tuple[str, list[str]]:
    code = (
        "import sys\n"
        "from int_desk.cli import main\n"
        f"rc = main({args!r})\n"
        f"heavy = sorted({{m.split('.')[0] for m in sys.modules}} & set({HEAVY!r}))\n"
        "print('HEAVY', ','.join(heavy), 'RC', rc)\n"
    )
    out = subprocess.run(
        [sys.executable, "-c", code],
        capture_output=True,
        text=True,
        timeout=120,
        env={**os.environ, **(env or {})},
        check=True,
    ).stdout
    line = next(x for x in out.splitlines() if x.startswith("HEAVY"))
    heavy = [m for m in line.split()[1].split(",") if m and m != "RC"]
    return out, heavy


def test_version_imports_nothing_heavy() -> None:
    out, heavy = _imported_after(["--version"])
    assert "INT Desk " in out and heavy == []


def test_a_headless_command_imports_only_what_it_needs(demo_dir: Path) -> None:
    out, heavy = _imported_after(
        ["info", "--workspace", str(demo_dir)], env={"INT_DESK_PASSPHRASE": PASSPHRASE}
    )
    assert "RC 0" in out
    assert not {"PySide6", "reportlab", "fastapi", "uvicorn"} & set(heavy)


def test_caseload_leaves_the_cohort_import_unimported(demo_dir: Path) -> None:
    # `caseload` and `import-cohort` share a module; the import's code costs `caseload` start-up.
    code = (
        "import sys\n"
        "from int_desk.cli import main\n"
        f"rc = main(['caseload', '--workspace', {str(demo_dir)!r}, '--limit', '1'])\n"
        "print('IMPORTED', 'int_desk.services.cohort_import' in sys.modules, 'RC', rc)\n"
    )
    out = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, timeout=120, check=True,
        env={**os.environ, "INT_DESK_PASSPHRASE": PASSPHRASE},
    ).stdout  # fmt: skip
    assert "IMPORTED False RC 0" in out
