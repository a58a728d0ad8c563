"""mypy passes (mypy.ini: strict on domain, store, sync, the wire contract and the endpoint), and
its baseline of modules with known errors only shrinks."""

from __future__ import annotations

import configparser
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
# Lower these as modules are fixed; never raise them.
MAX_BASELINED_MODULES = 26
MAX_TYPE_IGNORES = 23


def test_the_baseline_only_shrinks() -> None:
    config = configparser.ConfigParser()
    config.read(ROOT / "mypy.ini")
    baselined = [s for s in config.sections() if config[s].get("disable_error_code")]
    assert len(baselined) <= MAX_BASELINED_MODULES, "fix the new type errors instead"
    strict = ("domain", "store", "sync", "server", "wire")
    loosened = [s for s in baselined if s.removeprefix("mypy-int_desk.").split(".")[0] in strict]
    assert not loosened, f"the strict layers take no baseline: {loosened}"
    ignores = sum(
        path.read_text(encoding="utf-8").count("type: ignore")
        for path in (ROOT / "int_desk").rglob("*.py")
        if "forms" not in path.parts
    )
    assert ignores <= MAX_TYPE_IGNORES, "a new `type: ignore`: type the code instead"


@pytest.mark.slow
def test_mypy_passes() -> None:
    run = subprocess.run(
        [sys.executable, "-m", "mypy"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=900,
    )
    assert run.returncode == 0, run.stdout[-6000:] + run.stderr[-2000:]
