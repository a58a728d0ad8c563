"""Broad mutation score, on demand: mutmut over the safety-critical modules.

Each target below is mutated by mutmut (every operator it knows: comparisons, constants,
strings, arguments, removed calls...) in a scratch copy of the checkout, and each mutant runs
against the tests listed for that target (mutmut runs only those that reach the mutated
function). The score is killed / (killed + survived + timeouts + ...), per target and overall;
survivors are listed so each is either killed by a new test or recorded as equivalent in
docs/clinical-safety/mutation-score.md.

    .venv/bin/python -m tests.mutation broad                  # every target (hours on 2 cores)
    .venv/bin/python -m tests.mutation broad audit keys       # targets whose name contains these
    .venv/bin/python -m tests.mutation broad --list           # the targets and their tests
    .venv/bin/python -m tests.mutation broad keys --keep out  # keep every mutant's state
    .venv/bin/python -m tests.mutation broad keys --again out --keep out  # re-judge survivors

Needs the ``mutation`` extra (``pip install -e .[test,mutation]``).
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path

from tests.mutation.declared import STRIP_ENV, scratch_copy


@dataclass(frozen=True)
class Target:
    name: str
    globs: tuple[str, ...]  # what mutmut mutates (only_mutate patterns)
    tests: tuple[str, ...]  # the tests that judge it


TARGETS = (
    Target(
        "domain",
        ("int_desk/domain/*",),
        (
            "tests/test_nhs_number.py", "tests/test_cohort_import.py", "tests/test_care_plans.py",
            "tests/test_access_matrix.py", "tests/test_auto_lock.py", "tests/test_huddle_agenda.py",
            "tests/test_huddle_run.py", "tests/test_safety_controls.py",
            "tests/test_care_plan_pdf.py", "tests/test_server_permissions.py",
        ),
    ),
    Target(
        "audit",
        ("int_desk/store/audit.py",),
        ("tests/test_audit.py", "tests/test_cohort_import.py"),  # record_many: the import's
    ),
    Target("keys", ("int_desk/store/keys.py",), ("tests/test_keys.py", "tests/test_store.py")),
    # The outbox's own tests: every sync test writes through it too, but each starts endpoints,
    # and mutmut would run them all against every surviving mutant.
    Target("outbox", ("int_desk/store/outbox.py",), ("tests/test_sync_outbox.py",)),
    Target(
        "sync-client",
        ("int_desk/sync/client.py",),
        ("tests/test_sync_engine.py", "tests/test_sync_standalone_connect.py"),
    ),
    Target(
        "endpoint-merge",
        ("int_desk/server/engine_ops.py",),
        (
            "tests/test_sync_engine.py", "tests/test_server_api.py",
            "tests/test_sync_duplicate_patient.py", "tests/test_server_read_scope.py",
        ),
    ),
)  # fmt: skip
ALSO_COPY = ("migrations", "resources", "ui", "docs/clinical-safety")


def _config(target: Target) -> str:
    def toml_list(items: tuple[str, ...]) -> str:
        return "[" + ", ".join(json.dumps(i) for i in items) + "]"

    return (
        "\n[tool.mutmut]\n"
        'source_paths = ["int_desk"]\n'
        f"only_mutate = {toml_list(target.globs)}\n"
        f"pytest_add_cli_args_test_selection = {toml_list(target.tests)}\n"
        f"also_copy = {toml_list(ALSO_COPY)}\n"
    )


def run_target(
    target: Target, keep: Path | None = None, again: dict[str, str] | None = None
) -> dict[str, object]:
    """Run mutmut for one target in a fresh scratch copy; its counts and survivors.

    ``again``: every mutant's state from an earlier run (``--keep``); only the mutants that
    were not killed then are run now, the rest keep their earlier state (for re-judging the
    survivors after adding tests, while the module itself is unchanged)."""
    rerun = sorted(name for name, state in (again or {}).items() if state != "killed")
    with scratch_copy() as copy:
        with (copy / "pyproject.toml").open("a", encoding="utf-8") as fh:
            fh.write(_config(target))
        env = {k: v for k, v in os.environ.items() if k not in STRIP_ENV}
        env["PYTHONPATH"] = str(copy)
        env.setdefault("QT_QPA_PLATFORM", "offscreen")

        def mutmut(*args: str, check: bool = True) -> subprocess.CompletedProcess[str]:
            return subprocess.run(
                [sys.executable, "-m", "mutmut", *args],
                cwd=copy, env=env, capture_output=True, text=True, check=check,
            )  # fmt: skip

        started = time.monotonic()
        run = mutmut("run", *rerun, check=False)
        seconds = time.monotonic() - started
        if run.returncode != 0:
            raise RuntimeError(f"mutmut failed for {target.name}:\n{run.stdout[-3000:]}")
        states = dict(again or {})
        for line in mutmut("results", "--all", "true").stdout.splitlines():
            name, _, state = line.strip().partition(": ")
            if state and (not again or name in rerun):
                states[name] = state
        if again and set(rerun) - set(states):
            raise RuntimeError(f"{target.name}: the module changed since the earlier run")
        survivors = [
            {"mutant": name, "state": state, "diff": mutmut("show", name, check=False).stdout}
            for name, state in sorted(states.items())
            if state != "killed"
        ]
        stats = counts(states)
        if keep is not None:
            keep.mkdir(parents=True, exist_ok=True)
            (keep / f"{target.name}.json").write_text(
                json.dumps({"stats": stats, "states": states, "survivors": survivors}, indent=1)
            )
    return {"target": target.name, "seconds": seconds, **stats, "survivors": survivors}


def counts(states: dict[str, str]) -> dict[str, int]:
    """Mutants by state (killed, survived, "no tests", timeout, ...) and in all."""
    totals: dict[str, int] = {"total": len(states), "killed": 0, "survived": 0}
    for state in states.values():
        totals[state] = totals.get(state, 0) + 1
    return totals


def score(stats: dict[str, object]) -> float:
    judged = int(stats["total"]) - int(stats.get("skipped", 0))  # type: ignore[call-overload]
    return 100.0 * int(stats["killed"]) / judged if judged else 100.0  # type: ignore[call-overload]


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(prog="python -m tests.mutation broad", description=__doc__)
    parser.add_argument("only", nargs="*", help="targets whose name contains any of these")
    parser.add_argument("--list", action="store_true", help="list the targets and stop")
    parser.add_argument("--keep", type=Path, help="write each target's results here (JSON)")
    parser.add_argument(
        "--again",
        type=Path,
        help="a --keep folder of an earlier run: re-run only the mutants it did not kill",
    )
    args = parser.parse_args(argv)
    targets = [t for t in TARGETS if not args.only or any(o in t.name for o in args.only)]
    if args.list:
        for t in targets:
            print(f"{t.name}: {', '.join(t.globs)}\n    judged by {', '.join(t.tests)}")
        return 0
    results = []
    for target in targets:
        print(f"mutating {target.name} ...", file=sys.stderr, flush=True)
        earlier = None
        if args.again is not None:
            earlier = json.loads((args.again / f"{target.name}.json").read_text())["states"]
        results.append(run_target(target, args.keep, earlier))
    print(f"\n{'target':<16} {'mutants':>8} {'killed':>7} {'survived':>9} {'score':>7} {'secs':>6}")
    for r in results:
        print(
            f"{r['target']:<16} {r['total']:>8} {r['killed']:>7} {r['survived']:>9} "
            f"{score(r):>6.1f}% {r['seconds']:>6.0f}"
        )
        for s in r["survivors"]:  # type: ignore[attr-defined]
            print(f"    {s['state']}: {s['mutant']}")
    return 0
