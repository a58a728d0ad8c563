"""Compile ui/*.ui into int_desk/app/forms/*.py with pyside6-uic (one mechanism for all forms).

    .venv/bin/python -m int_desk.app.build_forms

Generated modules are committed; tests/test_forms.py fails when one is stale.
"""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

from int_desk import paths

FORMS_DIR = Path(__file__).resolve().parent / "forms"


def uic_executable() -> str:
    found = shutil.which("pyside6-uic", path=str(Path(sys.executable).parent)) or shutil.which(
        "pyside6-uic"
    )
    if not found:
        raise SystemExit("pyside6-uic not found; install PySide6-Essentials")
    return found


def compile_form(ui_file: Path) -> str:
    out = subprocess.run(
        [uic_executable(), "--from-imports", str(ui_file)],
        check=True,
        capture_output=True,
        text=True,
    ).stdout
    # Drop uic's header comment (it carries the Qt version) so output is stable across builds.
    lines = out.splitlines()
    body = [
        ln for ln in lines if not ln.startswith("##") and "Created by: Qt User Interface" not in ln
    ]
    return (
        "# Generated from ui/"
        + ui_file.name
        + " by int_desk.app.build_forms - do not edit.\n"
        + "\n".join(body).lstrip("\n")
        + "\n"
    )


def module_name(ui_file: Path) -> str:
    return ui_file.stem


def main() -> int:
    FORMS_DIR.mkdir(exist_ok=True)
    (FORMS_DIR / "__init__.py").write_text('"""Generated Qt Designer forms (see build_forms)."""\n')
    for ui_file in sorted(paths.ui_dir().glob("*.ui")):
        target = FORMS_DIR / f"{module_name(ui_file)}.py"
        target.write_text(compile_form(ui_file), encoding="utf-8")
        print(f"compiled {ui_file.name} -> {target.relative_to(FORMS_DIR.parent.parent.parent)}")  # noqa: T201
    return 0


if __name__ == "__main__":
    sys.exit(main())
