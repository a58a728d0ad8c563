"""The layers of CONTRIBUTING.md hold: `lint-imports` checks the contracts in .importlinter.

The contracts' ``ignore_imports`` lines are the known wrong-way imports still being removed
(issue #19); their number may only shrink, so a new wrong-way import fails here even when its
author adds an exception for it.
"""

from __future__ import annotations

import configparser
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
# Lower this as exceptions are removed; never raise it.
MAX_EXCEPTIONS = 6


def exceptions() -> list[str]:
    config = configparser.ConfigParser()
    config.read(ROOT / ".importlinter")
    found = []
    for section in config.sections():
        lines = config[section].get("ignore_imports", "")
        found += [line.strip() for line in lines.splitlines() if line.strip()]
    return found


def test_the_import_contracts_are_kept() -> None:
    lint = Path(sys.executable).with_name("lint-imports")
    run = subprocess.run(
        [str(lint), "--no-cache", "--no-logo"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert run.returncode == 0, run.stdout[-4000:] + run.stderr[-2000:]


def test_the_known_wrong_way_imports_only_shrink() -> None:
    assert len(exceptions()) <= MAX_EXCEPTIONS, (
        "a wrong-way import was added to .importlinter's exceptions; import through the layer "
        "below instead (CONTRIBUTING.md, Layering)"
    )
