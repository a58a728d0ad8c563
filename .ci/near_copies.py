# ruff: noqa: T201  (a command-line report: it prints)
"""Count the near-copied code in int_desk/ the way issue #19 counts it ("fewer than 10 pairs of
near-copied code, runs of six or more lines of the same shape, boilerplate aside").

    .venv/bin/python .ci/near_copies.py                 # the three figures, the counted pairs
    .venv/bin/python .ci/near_copies.py --all           # also each pair set aside, and why
    .venv/bin/python .ci/near_copies.py --tree DIR      # another checkout (an older commit)

It runs the ``duplicates`` command (a developer tool on PATH, not a dependency: where it is
missing this says so and exits 2) in int_desk/ as ``duplicates --most 200 --seconds 120`` and
sets aside, in this order:

1. ``tool``: the rows the tool itself marks ``boilerplate`` (thin lines, or a shape that recurs
   across a folder).
2. ``generated``: a pair with a side in code that is generated or frozen, never edited by hand:
   app/forms/ (pyside6-uic output of ui/*.ui), wire/entities.py (written by
   ``python -m int_desk.store.wire_entities``) and the endpoint's Alembic revisions in
   server/migrations/versions/ (a revision keeps the schema as it was then, so it must not call
   live code that changes later).
3. ``declarations``: a pair with a side whose counted lines (the tool's: not blank, comments,
   lone punctuation or imports) are at least 85% declarations, lines that name things rather
   than do anything:
   - a name in an import list, a parameter or dataclass field (``name: Type = default``),
     a signature (``def name(...) -> T:`` or its opening ``def name(``), ``*,``, a class head,
     a decorator, a docstring line;
   - one argument a line, as ruff lays out a long call: ``name=value,``, a lone name,
     attribute or literal and a comma, a string continued below, and the call's opening line
     (``x = f(``, ``return f(``) when an argument line follows it;
   - a table entry (``"key": value,``), a constant (``NAME = ...``), ``log = getLogger(...)``;
   - argparse's ``add_parser``, ``add_argument``, ``set_defaults``;
   - Qt wiring: a signal connection, a layout line (``addWidget``, ``addLayout``,
     ``addStretch``, ``addRow``, ``= Q...Layout()``), a widget property set to a literal.
   Such a run repeats because two functions take or pass the same arguments, two records have
   fields of the same kinds, or two screens are wired alike: there is no logic to share.

What is left is counted: places where the same logic is written twice.
"""

from __future__ import annotations

import re
import shutil
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent / "int_desk"  # or --tree CHECKOUT
GENERATED = ("app/forms/", "wire/entities.py", "server/migrations/versions/")
SHARE = 0.85

ROW = re.compile(r"^(D\d+) (\S+):(\d+)-(\d+) ~ (\S+):(\d+)-(\d+)(.*)$")
_NAME = r"[A-Za-z_][\w.]*"
_LITERAL = r"""(True|False|None|-?[\d.]+|f?"[^"]*"|f?'[^']*'|[A-Z][\w.]*)"""
DECLARATION = [
    re.compile(p)
    for p in (
        # names: in an import list, or a lone argument one a line (``session,``)
        rf"^{_NAME},?$",
        rf"^\*\*?{_NAME},?$|^\*,$",
        # a parameter or dataclass field, with its type and default
        rf"^{_NAME}\s*:\s*[^=]+(=.+)?,?$",
        # one argument a line: ``name=value,`` or a literal or expression and a comma
        rf"^{_NAME}\s*=\s*.+,$",
        rf"""^{_NAME}\s*=\s*f?["'].*["']$""",  # ... its string continued below
        r"""^[\w.\[\]'"\-+*/ ]+,$|^f?"[^"]*",$|^f?'[^']*',$""",
        # a table entry (``"key": value,``) and a module or class constant
        r"""^(f?["'].*["']|[\w.()]+)\s*:\s*.+,$""",
        r"^[A-Z_][A-Z0-9_]*(\s*:\s*[^=]+)? = .+$",
        r"^log = logging\.getLogger\(__name__\)$",
        # signatures, class heads, decorators and docstrings
        rf"^(async )?def {_NAME}\((.*\)( -> .+)?:)?$",
        rf"^class {_NAME}(\(.*\))?:$",
        r"^@\w[\w.]*(\(.*\))?$",
        r'^(r|f)?"""[^"]*("""|$)|^"""$',
        # a string continued over lines (help text, messages)
        r"""^f?["'].*["']\)?$""",
        # argparse
        r"^(\w+ = )?\w+\.add_parser\($|\.add_argument\(|\.set_defaults\(|^add_\w+_args?\(\w+\)$",
        # Qt: signal connections, layout lines, a widget property set to a literal
        r"\.connect\(.*\)$|\.add(Widget|Layout|Stretch|Row|Spacing)\(.*\)$|= Q\w*Layout\(.*\)$",
        rf"^{_NAME}\.set[A-Z]\w*\({_LITERAL}\)$",
    )
]
# A call opened on a line of its own, its arguments one a line below (ruff's layout of a long
# call): the opening line is part of the argument list.
CALL_OPENING = re.compile(rf"^((\w+(, \w+)*) = |return )?{_NAME}\($")


def counted_lines(path: Path, first: int, last: int) -> list[str]:
    """The lines the tool compares: not blank, comments, lone punctuation or imports."""
    lines = path.read_text(encoding="utf-8").splitlines()[first - 1 : last]
    out = []
    for raw in lines:
        line = raw.strip()
        if not line or line.startswith("#") or re.fullmatch(r"[()\[\]{},:;]+", line):
            continue
        if line.startswith(("import ", "from ")):
            continue
        out.append(re.sub(r"\s+#.*$", "", line))
    return out


def is_declaration(line: str) -> bool:
    return any(p.search(line) for p in DECLARATION)


def declaration_share(path: Path, first: int, last: int) -> float:
    lines = counted_lines(path, first, last)
    if not lines:
        return 1.0
    marks = [is_declaration(line) for line in lines]
    for i, line in enumerate(lines[:-1]):
        if CALL_OPENING.match(line) and marks[i + 1]:
            marks[i] = True
    return sum(marks) / len(lines)


def classify(row: str) -> tuple[str, str] | None:
    """(why it is set aside, or "counted"; the row) for one row of the tool's output."""
    m = ROW.match(row)
    if m is None:
        return None
    _, a, a1, a2, b, b1, b2, tail = m.groups()
    if "boilerplate" in tail:
        return "tool", row
    if any(a.startswith(g) or b.startswith(g) for g in GENERATED):
        return "generated", row
    shares = (
        declaration_share(ROOT / a, int(a1), int(a2)),
        declaration_share(ROOT / b, int(b1), int(b2)),
    )
    if max(shares) >= SHARE:
        return "declarations", f"{row}  [{max(shares):.0%} declarations]"
    return "counted", row


def main(argv: list[str]) -> int:
    global ROOT
    if "--tree" in argv:  # another checkout, e.g. an older commit's worktree
        ROOT = Path(argv[argv.index("--tree") + 1]).resolve() / "int_desk"
    tool = shutil.which("duplicates")
    if tool is None:
        print("near_copies: the duplicates command is not on PATH", file=sys.stderr)
        return 2
    run = subprocess.run(
        [tool, "--most", "200", "--seconds", "120"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        check=False,
    )
    lines = run.stdout.splitlines()
    groups: dict[str, list[str]] = {"counted": [], "declarations": [], "generated": [], "tool": []}
    for line in lines:
        got = classify(line)
        if got is not None:
            groups[got[0]].append(got[1])
    total = sum(map(len, groups.values()))
    print(lines[0] if lines else "no output from duplicates")
    print(f"whole tree: {total} pairs")
    print(f"  set aside, marked boilerplate by the tool: {len(groups['tool'])}")
    print(f"  set aside, generated or frozen code: {len(groups['generated'])}")
    print(f"  set aside, declarations (>= {SHARE:.0%} of a side): {len(groups['declarations'])}")
    print(f"counted near-copies: {len(groups['counted'])}")
    for row in groups["counted"]:
        print("  " + row)
    if "--all" in argv:
        for why in ("declarations", "generated", "tool"):
            print(f"set aside ({why}):")
            for row in groups[why]:
                print("  " + row)
    for line in lines:
        if line.startswith(("left out:", "incomplete:", "(+")):
            print(line)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
