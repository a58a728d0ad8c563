"""Broad mutation score, on demand: mutmut over the safety-critical modules.

Each target below is mutated by mutmut (every operator it knows: comparisons, constants,
strings, arguments, removed calls...) in a scratch copy of the checkout, and each mutant runs
against the tests listed for that target (mutmut runs only those that reach the mutated
function). The score is killed / every mutant judged, per target; survivors are listed so each
is either killed by a new test or recorded as equivalent in
docs/clinical-safety/mutation-score.md.

    .venv/bin/python -m tests.mutation broad                  # every target (hours on 2 cores)
    .venv/bin/python -m tests.mutation broad audit keys       # targets whose name contains these
    .venv/bin/python -m tests.mutation broad --list           # the targets and their tests
    .venv/bin/python -m tests.mutation broad keys --keep out  # keep every mutant's state (JSON)
    .venv/bin/python -m tests.mutation broad domain --sample 300 --seed 18  # a random sample

Every figure comes from one whole run in a fresh copy: there is no re-judging of earlier
survivors (an earlier ``--again`` mode gave verdicts that applying the mutant by hand did not
reproduce). mutmut runs as its ``mutmut`` command (``python -m mutmut`` re-executes its main
module, which mutmut warns against) with ``process_isolation = "forkserver"``: each mutant's
tests run in a child of a process that has only collected the tests, never in a child of the
process that already ran them all once (whose caches and engines a mutant could inherit).

``--sample N`` judges N mutants drawn uniformly at random (``--seed``) from all the target's
mutants and gives the score with its 95% confidence interval (Wilson).

Needs the ``mutation`` extra (``pip install -e .[test,mutation]``).
"""

from __future__ import annotations

import argparse
import json
import math
import os
import random
import subprocess
import sys
import time
from contextlib import ExitStack
from dataclasses import dataclass
from pathlib import Path

from tests.mutation.declared import STRIP_ENV, scratch_copy


@dataclass(frozen=True)
class Target:
    name: str
    globs: tuple[str, ...]  # what mutmut mutates (only_mutate patterns)
    tests: tuple[str, ...]  # the tests that judge it
    # Seconds added to a mutant's measured test time before its timeout (see _config). mutmut
    # measures only each test's call, not its fixtures' set-up: domain/ is judged partly by
    # store-backed tests whose set-up (a workspace, a demo) costs more than their calls.
    timeout_constant: float = 30.0


TARGETS = (
    # The tests of domain/ itself and the services over it, not the Qt, PDF or endpoint-process
    # tests that also reach it: those cost minutes per mutant on a shared machine.
    Target(
        "domain",
        ("int_desk/domain/*",),
        (
            "tests/test_nhs_number.py", "tests/test_cohort_import.py", "tests/test_care_plans.py",
            "tests/test_access_matrix.py", "tests/test_huddle_agenda.py",
            "tests/test_safety_controls.py", "tests/test_scorecard.py", "tests/test_spc.py",
            "tests/test_wording.py", "tests/test_team_setup.py", "tests/test_domain_rules.py",
        ),
        timeout_constant=120.0,
    ),
    Target(
        "audit",
        ("int_desk/store/audit.py",),
        ("tests/test_audit.py", "tests/test_cohort_import.py"),  # record_many: the import's
    ),
    Target("keys", ("int_desk/store/keys.py",), ("tests/test_keys.py", "tests/test_store.py")),
    # The outbox's own tests, and the change feed's (a bulk insert tells open screens which
    # table changed): every sync test writes through it too, but each starts endpoints, and
    # mutmut would run them all against every surviving mutant.
    Target(
        "outbox",
        ("int_desk/store/outbox.py",),
        ("tests/test_sync_outbox.py", "tests/test_change_feed.py"),
    ),
    # The sync tests that start endpoint processes stay as they are; these judge the client and
    # the endpoint's merge through a real endpoint served in the test's own process, where
    # mutmut can switch the mutant on (tests/test_sync_in_process.py).
    # The client and how it applies pulled rows (incoming.py, split out of local.py); the
    # transport tests (HTTPS trust, connect timeout, the cap on waits) and the rows it sets
    # aside use the same endpoint template.
    Target(
        "sync-client",
        ("int_desk/sync/client.py", "int_desk/sync/incoming.py"),
        (
            "tests/test_sync_in_process.py", "tests/test_sync_client_transport.py",
            "tests/test_sync_client_incoming.py", "tests/test_sync_duplicate_patient.py",
            "tests/test_sync_pull_columns.py",  # (the column-form download in incoming.py)
        ),
        timeout_constant=60.0,  # (each test's endpoint and laptops are set-up, not timed)
    ),
    Target(
        "endpoint-merge",
        # the push (engine_ops, push_batch) and the pull and verify a laptop reads (read_ops)
        (
            "int_desk/server/engine_ops.py", "int_desk/server/push_batch.py",
            "int_desk/server/read_ops.py",
        ),
        # and the merge's own tests, on PostgreSQL too when its binaries are here (one cluster
        # for the run; without them those tests skip and the PostgreSQL-only lines survive)
        # and the hostile client's edges (tests/test_endpoint_merge_edges.py)
        (
            "tests/test_sync_in_process.py", "tests/test_endpoint_merge.py",
            "tests/test_endpoint_merge_edges.py",
        ),
        timeout_constant=60.0,
    ),
)  # fmt: skip
IN_PROCESS = "tests/test_sync_in_process.py"
PREPARED = "INT_DESK_IN_PROCESS_TEMPLATE"  # (read by that module's template fixture)
BUILD_TEMPLATE = (
    "import sys; from pathlib import Path; "
    "from tests.test_sync_in_process import build_template; build_template(Path(sys.argv[1]))"
)
ON_POSTGRES = "tests/test_endpoint_merge.py"
PG_PREPARED = "INT_DESK_IN_PROCESS_PG_TEMPLATE"  # (read by that module's pg_template fixture)
BUILD_PG_TEMPLATE = (
    "import sys; from pathlib import Path; "
    "from tests.test_endpoint_merge import build_pg_template; "
    "build_pg_template(Path(sys.argv[1]), int(sys.argv[2]))"
)
ALSO_COPY = ("migrations", "resources", "ui", "docs/clinical-safety")
# mutmut's own command: ``python -m mutmut`` would re-execute mutmut.__main__ (see above).
MUTMUT = "import sys; from mutmut.__main__ import cli; sys.argv[0] = 'mutmut'; cli()"
# Lists every mutant mutmut makes of the target, without running any test (for --sample).
LIST_MUTANTS = """
import json, sys
from mutmut.__main__ import (collect_source_file_mutation_data, copy_also_copy_files,
    copy_src_dir, create_mutants, setup_source_paths)
from mutmut.mutation.trampoline import set_mutant_under_test
set_mutant_under_test("mutant_generation")
copy_src_dir(); copy_also_copy_files(); setup_source_paths(); create_mutants(2)
mutants, _ = collect_source_file_mutation_data(mutant_names=[])
json.dump(sorted(name for _, name, _ in mutants), sys.stdout)
"""


def _config(target: Target) -> str:
    def toml_list(items: tuple[str, ...]) -> str:
        return "[" + ", ".join(json.dumps(i) for i in items) + "]"

    return (
        "\n[tool.mutmut]\n"
        'source_paths = ["int_desk"]\n'
        f"only_mutate = {toml_list(target.globs)}\n"
        f"pytest_add_cli_args_test_selection = {toml_list(target.tests)}\n"
        f"also_copy = {toml_list(ALSO_COPY)}\n"
        'process_isolation = "forkserver"\n'
        # Each mutant's tests quickest first, so a killed mutant costs its cheapest killing test.
        'pytest_add_cli_args = ["-p", "tests.mutation.cheapest_first"]\n'
        # A mutant that hangs (a loop that never ends, a wait with no timeout) is stopped after
        # 3 times (its tests' measured time + the target's timeout_constant) of wall time, or 6
        # times that of CPU (mutmut's default, 30 times plus 30 s, is half an hour per hanging
        # sync mutant; 8 times plus 8 s stopped mutants whose forked pytest merely started
        # slowly on a loaded machine; domain/ needs more, see Target.timeout_constant).
        "timeout_multiplier = 3.0\n"
        f"timeout_constant = {target.timeout_constant}\n"
    )


def run_target(
    target: Target, keep: Path | None = None, sample: int | None = None, seed: int = 18
) -> dict[str, object]:
    """Run mutmut for one target in a fresh scratch copy; its counts and survivors.

    ``sample``: judge only this many mutants, drawn at random (``seed``) from all of them."""
    from tests.helpers.sync_env import PgCluster, pg_available

    with scratch_copy() as copy, ExitStack() as stack:
        with (copy / "pyproject.toml").open("a", encoding="utf-8") as fh:
            fh.write(_config(target))
        env = {k: v for k, v in os.environ.items() if k not in STRIP_ENV}
        env["PYTHONPATH"] = str(copy)
        env.setdefault("QT_QPA_PLATFORM", "offscreen")
        if IN_PROCESS in target.tests:  # its endpoint database, seeded once by unmutated code
            template = copy / ".in-process-template"
            template.mkdir()
            env[PREPARED] = str(template)
            subprocess.run(
                [sys.executable, "-c", BUILD_TEMPLATE, str(template)], cwd=copy, env=env,
                check=True, capture_output=True,
            )  # fmt: skip
            if ON_POSTGRES in target.tests and pg_available():  # one cluster, a template db
                cluster = PgCluster()  # (each test clones it)
                cluster.start()
                stack.callback(cluster.stop)
                env[PG_PREPARED] = str(template / "pg-template.json")
                subprocess.run(
                    [sys.executable, "-c", BUILD_PG_TEMPLATE, str(template), str(cluster.port)],
                    cwd=copy, env=env, check=True, capture_output=True,
                )  # fmt: skip

        def python(*args: str, check: bool = True) -> subprocess.CompletedProcess[str]:
            return subprocess.run(
                [sys.executable, *args], cwd=copy, env=env, capture_output=True, text=True,
                check=check,
            )  # fmt: skip

        def mutmut(*args: str, check: bool = True) -> subprocess.CompletedProcess[str]:
            return python("-c", MUTMUT, *args, check=check)

        started = time.monotonic()
        chosen: list[str] = []
        population = 0
        if sample is not None:
            everyone = json.loads(python("-c", LIST_MUTANTS).stdout.strip().splitlines()[-1])
            population = len(everyone)
            chosen = sorted(random.Random(seed).sample(everyone, min(sample, population)))
        run = mutmut("run", *chosen, check=False)
        seconds = time.monotonic() - started
        if run.returncode != 0:
            raise RuntimeError(f"mutmut failed for {target.name}:\n{run.stdout[-3000:]}")
        states = {}
        for line in mutmut("results", "--all", "true").stdout.splitlines():
            name, _, state = line.strip().partition(": ")
            if state and (not chosen or name in chosen):
                states[name] = state
        if chosen and set(chosen) - set(states):
            raise RuntimeError(f"{target.name}: sampled mutants without a verdict")
        survivors = [
            {"mutant": name, "state": state, "diff": mutmut("show", name, check=False).stdout}
            for name, state in sorted(states.items())
            if state != "killed"
        ]
        stats = counts(states)
        result: dict[str, object] = {
            "target": target.name, "seconds": seconds, **stats, "survivors": survivors,
            "sampled_from": population if sample is not None else None, "seed": seed,
        }  # fmt: skip
        if keep is not None:
            keep.mkdir(parents=True, exist_ok=True)
            (keep / f"{target.name}.json").write_text(
                json.dumps({**result, "states": states}, indent=1)
            )
    return result


def counts(states: dict[str, str]) -> dict[str, int]:
    """Mutants by state (killed, survived, "no tests", timeout, ...) and in all."""
    totals: dict[str, int] = {"total": len(states), "killed": 0, "survived": 0}
    for state in states.values():
        totals[state] = totals.get(state, 0) + 1
    return totals


def score(stats: dict[str, object]) -> float:
    """Killed / judged. A timeout is not counted as killed (mutmut's own score counts it): on
    a loaded machine a mutant can be stopped for its tests being slow, not for hanging."""
    judged = int(stats["total"]) - int(stats.get("skipped", 0))  # type: ignore[call-overload]
    return 100.0 * int(stats["killed"]) / judged if judged else 100.0  # type: ignore[call-overload]


def wilson(killed: int, judged: int, z: float = 1.96) -> tuple[float, float]:
    """95% confidence interval (percent) of the kill rate, from a sample of ``judged``."""
    if not judged:
        return 0.0, 100.0
    p = killed / judged
    centre = (p + z * z / (2 * judged)) / (1 + z * z / judged)
    spread = z * math.sqrt(p * (1 - p) / judged + z * z / (4 * judged * judged))
    spread /= 1 + z * z / judged
    return 100.0 * max(0.0, centre - spread), 100.0 * min(1.0, centre + spread)


def describe(result: dict[str, object]) -> str:
    """The score as a line for the table: full, or a sample with its interval."""
    judged = int(result["total"]) - int(result.get("skipped", 0))  # type: ignore[call-overload]
    line = f"{result['killed']}/{judged} = {score(result):.1f}% killed"
    if result.get("timeout"):
        line += f" (+{result['timeout']} stopped by a timeout)"
    if result.get("sampled_from") is not None:
        low, high = wilson(int(result["killed"]), judged)  # type: ignore[call-overload]
        line += (
            f" (random sample of {judged} of {result['sampled_from']} mutants, "
            f"seed {result['seed']}; 95% CI {low:.1f}-{high:.1f}%)"
        )
    return line


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(prog="python -m tests.mutation broad", description=__doc__)
    parser.add_argument("only", nargs="*", help="targets whose name contains any of these")
    parser.add_argument("--list", action="store_true", help="list the targets and stop")
    parser.add_argument("--keep", type=Path, help="write each target's results here (JSON)")
    parser.add_argument("--sample", type=int, help="judge this many mutants, drawn at random")
    parser.add_argument("--seed", type=int, default=18, help="the sample's seed (default 18)")
    args = parser.parse_args(argv)
    targets = [t for t in TARGETS if not args.only or any(o in t.name for o in args.only)]
    if args.list:
        for t in targets:
            print(f"{t.name}: {', '.join(t.globs)}\n    judged by {', '.join(t.tests)}")
        return 0
    results = []
    for target in targets:
        print(f"mutating {target.name} ...", file=sys.stderr, flush=True)
        result = run_target(target, args.keep, args.sample, args.seed)
        print(f"{target.name}: {describe(result)}, {result['seconds']:.0f} s", flush=True)
        results.append(result)
    print(f"\n{'target':<16} {'mutants':>8} {'killed':>7} {'survived':>9} {'score':>7} {'secs':>6}")
    for r in results:
        print(
            f"{r['target']:<16} {r['total']:>8} {r['killed']:>7} {r['survived']:>9} "
            f"{score(r):>6.1f}% {r['seconds']:>6.0f}"
        )
        for s in r["survivors"]:  # type: ignore[attr-defined]
            print(f"    {s['state']}: {s['mutant']}")
    return 0
