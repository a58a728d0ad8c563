"""The hazard log is complete and every control's test exists and is collected.

docs/clinical-safety/hazard-log.md names, for each hazard, the tests proving its controls; this
reads the log, checks each hazard has every DCB0129 field filled in and the hazards the issue
requires are there, then asks pytest to collect exactly the named tests.
"""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

import pytest

from tests.mutation import declared

ROOT = Path(__file__).resolve().parent.parent
LOG = ROOT / "docs" / "clinical-safety" / "hazard-log.md"
FIELDS = (
    "Hazard", "Cause", "Effect", "Initial severity", "Initial likelihood", "Initial risk",
    "Controls", "Tests", "Mutants", "Residual severity", "Residual likelihood", "Residual risk", "Owner",
)  # fmt: skip
REQUIRED_HAZARDS = (
    "wrong patient selected or merged",
    "stale offline data acted on",
    "conflicting edits",
    "lost edit",
    "misprinted or mis-addressed pdf",
    "invalid nhs number",
    "over-sharing to a non-clinical role",
    "huddle action never assigned",
)
NODE = re.compile(r"`(tests/[\w/]+\.py::\w+)`")
MUTANT = re.compile(r"`(M-\d\d[a-z])`")
MATRIX = {  # DCB0129 risk rating by (likelihood, severity)
    5: (3, 4, 4, 5, 5),
    4: (2, 3, 3, 4, 5),
    3: (2, 2, 3, 3, 4),
    2: (1, 2, 2, 3, 4),
    1: (1, 1, 2, 2, 3),
}


def parse() -> dict[str, dict[str, str]]:
    hazards: dict[str, dict[str, str]] = {}
    current: dict[str, str] | None = None
    for line in LOG.read_text(encoding="utf-8").splitlines():
        heading = re.match(r"^## (H-\d+) (.+)$", line)
        if heading:
            current = hazards.setdefault(f"{heading[1]} {heading[2]}", {})
            continue
        if line.startswith("## "):
            current = None
        row = re.match(r"^\| ([^|]+?) \| (.+) \|$", line)
        if current is not None and row and row[1] in FIELDS:
            current[row[1]] = row[2].strip()
    return hazards


def _level(value: str) -> int:
    found = re.match(r"^(\d)\b", value)
    assert found, value
    return int(found[1])


def test_every_required_hazard_is_logged_with_every_field() -> None:
    hazards = parse()
    titles = [t.split(" ", 1)[1].lower() for t in hazards]
    for required in REQUIRED_HAZARDS:
        assert required in titles, f"hazard missing from the log: {required}"
    for title, fields in hazards.items():
        missing = [f for f in FIELDS if not fields.get(f)]
        assert not missing, f"{title}: missing {missing}"
        for stage in ("Initial", "Residual"):
            severity = _level(fields[f"{stage} severity"])
            likelihood = _level(fields[f"{stage} likelihood"])
            rating = MATRIX[likelihood][severity - 1]
            assert _level(fields[f"{stage} risk"]) == rating, f"{title}: {stage} risk"
        assert _level(fields["Residual risk"]) <= 2, f"{title}: residual risk needs CSO sign-off"
        assert NODE.findall(fields["Tests"]), f"{title}: no test named for its controls"


@pytest.mark.slow  # a pytest collection in a subprocess
def test_every_named_control_test_exists_and_is_collected() -> None:
    nodes = sorted({n for f in parse().values() for n in NODE.findall(f["Tests"])})
    assert len(nodes) >= 30
    for node in nodes:
        path, name = node.split("::")
        source = (ROOT / path).read_text(encoding="utf-8")
        assert re.search(rf"^def {name}\(", source, re.M), f"{node} does not exist"
    done = subprocess.run(
        [sys.executable, "-m", "pytest", "--collect-only", "-q", "-p", "no:cacheprovider", *nodes],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert done.returncode == 0, done.stdout[-2000:] + done.stderr[-2000:]
    collected = {line.split("[")[0] for line in done.stdout.splitlines() if "::" in line}
    assert set(nodes) <= collected, sorted(set(nodes) - collected)


def test_every_hazard_cites_declared_mutants_that_are_still_applicable() -> None:
    """The Mutants row of each hazard cites mutants declared for that hazard, every declared
    mutant is cited, its tests are among the hazard's named tests, and its exact code is
    still found once in its file (otherwise whoever moved the code updates the declaration)."""
    hazards = {title.split(" ", 1)[0]: fields for title, fields in parse().items()}
    mutants = declared.load()
    by_id = {m.id: m for m in mutants}
    cited: set[str] = set()
    for hazard, fields in hazards.items():
        ids = MUTANT.findall(fields["Mutants"])
        assert ids, f"{hazard}: no declared mutant removes its controls"
        for mutant_id in ids:
            assert mutant_id in by_id, f"{hazard} cites {mutant_id}, which mutants.toml lacks"
            assert by_id[mutant_id].hazard == hazard, f"{mutant_id} belongs to another hazard"
        cited.update(ids)
    assert set(by_id) <= cited, f"declared but never cited: {sorted(set(by_id) - cited)}"
    claimed: dict[str, set[str]] = {}
    for mutant in mutants:
        named = set(NODE.findall(hazards[mutant.hazard]["Tests"]))
        tests = {t.split("[")[0] for t in mutant.tests}  # a parametrised case counts as its test
        assert tests <= named, f"{mutant.id}: tests not named in {mutant.hazard}: {tests - named}"
        claimed.setdefault(mutant.hazard, set()).update(tests)
    for hazard, fields in hazards.items():  # every named test proves it kills a removal
        idle = set(NODE.findall(fields["Tests"])) - claimed.get(hazard, set())
        assert not idle, f"{hazard}: no declared mutant shows these tests fail: {sorted(idle)}"
    unplaced = {m.id: why for m in mutants if (why := declared.locate(m))}
    assert not unplaced, unplaced
