"""`pip install .` gives a working app: the wheel carries ui/, resources/ and migrations/.

Builds the wheel from a copy of this checkout (the working tree stays clean), installs it with
--no-deps into a fresh venv whose dependencies come from the test venv (a .pth file, so no
download of Qt), then runs ``int-desk --self-test`` from that venv as a user would.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import sysconfig
import zipfile
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
SOURCES = ("int_desk", "ui", "resources", "migrations")
FILES = ("pyproject.toml", "setup.py", "MANIFEST.in", "README.md")


def _run(cmd: list[str], **kwargs: object) -> subprocess.CompletedProcess[str]:
    result = subprocess.run(cmd, capture_output=True, text=True, timeout=600, **kwargs)  # type: ignore[call-overload]
    assert result.returncode == 0, f"{cmd[:4]} failed:\n{result.stdout}\n{result.stderr}"
    return result  # type: ignore[no-any-return]


@pytest.mark.slow
def test_wheel_installs_into_a_fresh_venv_and_passes_self_test(tmp_path: Path) -> None:
    src = tmp_path / "src"
    ignore = shutil.ignore_patterns("__pycache__", "*.pyc", "_data")
    for name in SOURCES:
        shutil.copytree(ROOT / name, src / name, ignore=ignore)
    for name in FILES:
        shutil.copy2(ROOT / name, src / name)
    dist = tmp_path / "dist"
    _run([sys.executable, "-m", "pip", "wheel", "--no-deps", "-q", "-w", str(dist), str(src)])
    (wheel,) = dist.glob("int_desk-*.whl")
    names = set(zipfile.ZipFile(wheel).namelist())
    for needed in (
        "int_desk/_data/ui/main_window.ui",
        "int_desk/_data/ui/first_run.ui",
        "int_desk/_data/resources/fonts/DejaVuSans.ttf",
        "int_desk/_data/resources/icons/int-desk.svg",
        "int_desk/_data/migrations/env.py",
        "int_desk/_data/migrations/versions/0001_initial_schema.py",
    ):
        assert needed in names, needed

    venv = tmp_path / "venv"
    _run([sys.executable, "-m", "venv", str(venv)])
    bindir = venv / ("Scripts" if os.name == "nt" else "bin")
    python = bindir / ("python.exe" if os.name == "nt" else "python")
    purelib = _run(
        [str(python), "-c", "import sysconfig; print(sysconfig.get_paths()['purelib'])"]
    ).stdout.strip()
    # Dependencies (Qt, SQLCipher ...) from the test venv; int_desk itself only from the wheel.
    deps = {sysconfig.get_paths()["purelib"], sysconfig.get_paths()["platlib"]}
    (Path(purelib) / "int_desk_test_deps.pth").write_text("\n".join(sorted(deps)) + "\n")
    _run([str(python), "-m", "pip", "install", "-q", "--no-deps", "--no-index", str(wheel)])

    exe = bindir / ("int-desk.exe" if os.name == "nt" else "int-desk")
    env = {k: v for k, v in os.environ.items() if k not in ("PYTHONPATH", "QT_QPA_PLATFORM")}
    env.pop("DISPLAY", None)  # headless, as in CI: the self-test must pick offscreen itself
    result = subprocess.run(
        [str(exe), "--self-test"],
        capture_output=True,
        text=True,
        timeout=300,
        env=env,
        cwd=tmp_path,
    )
    out = result.stdout
    assert result.returncode == 0, out + result.stderr
    assert "(installed: " in out and str(venv) in out  # ran the wheel, not this checkout
    for check in ("workspace", "encryption", "pdf", "endpoint", "qt"):
        assert f"PASS {check}:" in out, out
    assert "FAIL" not in out
    assert "PASS self-test: 5/5" in out
