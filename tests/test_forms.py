"""Every ui/*.ui form has a current generated module (run int_desk.app.build_forms)."""

from __future__ import annotations

import pytest

from int_desk import paths
from int_desk.app.build_forms import FORMS_DIR, compile_form

UI_FILES = sorted(paths.ui_dir().glob("*.ui"))


def test_there_are_forms() -> None:
    assert UI_FILES


@pytest.mark.parametrize("ui_file", UI_FILES, ids=lambda p: p.name)
def test_generated_form_is_current(ui_file) -> None:  # noqa: ANN001
    generated = FORMS_DIR / f"{ui_file.stem}.py"
    assert generated.exists(), f"run python -m int_desk.app.build_forms ({ui_file.name})"
    assert generated.read_text(encoding="utf-8") == compile_form(ui_file), (
        f"{generated.name} is stale: run python -m int_desk.app.build_forms"
    )
