"""Counts read as a person would write them (issue 21): "1 line", "lines 2 and 8", never
"line(s)" in anything the app, the command line or a report shows."""

from __future__ import annotations

import ast
import re
from pathlib import Path

from int_desk.domain.wording import noun_for, plural
from int_desk.sync.client import SyncResult

ROOT = Path(__file__).resolve().parents[1]
HEDGED_PLURAL = re.compile(r"[A-Za-z]\((s|es)\)")


def _shown_strings(path: Path) -> list[tuple[int, str]]:
    """String literals of a module that are not docstrings (f-string parts included)."""
    tree = ast.parse(path.read_text(encoding="utf-8"))
    docstrings = set()
    for node in ast.walk(tree):
        body = getattr(node, "body", None)
        if isinstance(body, list) and body and isinstance(body[0], ast.Expr):
            if isinstance(body[0].value, ast.Constant):
                docstrings.add(id(body[0].value))
    return [
        (node.lineno, node.value)
        for node in ast.walk(tree)
        if isinstance(node, ast.Constant)
        and isinstance(node.value, str)
        and id(node) not in docstrings
    ]


def test_no_string_shown_to_a_person_hedges_its_plural() -> None:
    found = [
        f"{path.relative_to(ROOT)}:{line}: {text!r}"
        for path in sorted((ROOT / "int_desk").rglob("*.py"))
        for line, text in _shown_strings(path)
        if HEDGED_PLURAL.search(text)
    ]
    found += [
        f"{path.relative_to(ROOT)}: {m.group(0)!r}"
        for path in sorted((ROOT / "ui").glob("*.ui"))
        for m in HEDGED_PLURAL.finditer(path.read_text(encoding="utf-8"))
    ]
    assert found == []


def test_counts_take_the_right_number() -> None:
    assert plural(1, "edit") == "1 edit"
    assert plural(0, "edit") == "0 edits"
    assert plural(2, "person", "people") == "2 people"
    assert noun_for([8], "line") == "line 8"
    assert noun_for([2, 8], "line") == "lines 2 and 8"
    assert noun_for([2, 8, 9], "line") == "lines 2, 8 and 9"


def test_the_sync_summary_counts_in_words() -> None:
    one = SyncResult(ok=True, conflicts=1, rejected=1, purged=1, quarantined=1).summary()
    assert "1 conflict to resolve" in one and "1 edit refused" in one
    assert "1 patient left your teams" in one and "1 record from the server" in one
    many = SyncResult(ok=True, conflicts=2, rejected=3).summary()
    assert "2 conflicts to resolve" in many and "3 edits refused" in many
    assert "(s)" not in one + many
