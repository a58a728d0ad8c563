"""Declared mutants: each hazard-log control removed on purpose, and its named tests must fail.

docs/clinical-safety/mutants.toml lists the mutations (its header documents the format). For
each one this copies the checkout to a scratch directory, replaces the declared exact code with
the declared replacement, runs only the declared tests against the copy, and restores the file.

A mutant is *killed* when every one of its tests fails (a failure or an error, never a skip).
The run fails when any mutant survives (one of its tests still passes or skips), when a
mutant's exact code is no longer found exactly once in its file (the code moved: whoever moved
it updates the declaration), when the mutated code cannot even be imported (a broken mutant
proves nothing), or when the unmutated tests do not all pass first (the baseline).

    .venv/bin/python -m tests.mutation declared            # every mutant, 2 at a time
    .venv/bin/python -m tests.mutation declared M-09a H-10 # some mutants, or a hazard's
    .venv/bin/python -m tests.mutation declared --check    # validate and locate only (seconds)
"""

from __future__ import annotations

import argparse
import compileall
import os
import py_compile
import re
import shutil
import signal
import subprocess
import sys
import tempfile
import time
import tomllib
import xml.etree.ElementTree as ET
from collections.abc import Iterable, Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager, suppress
from dataclasses import dataclass, field
from pathlib import Path
from queue import Queue

ROOT = Path(__file__).resolve().parents[2]
DECLARATIONS = ROOT / "docs" / "clinical-safety" / "mutants.toml"
MUTANT_ID = re.compile(r"^M-\d\d[a-z]$")
HAZARD_ID = re.compile(r"^H-\d\d$")
# A test, optionally one parametrised case of it ("...::test_x[sqlite]": cheaper to run).
NODE = re.compile(r"^tests/[\w/]+\.py::\w+(\[[\w\- ]+\])?$")
KEYS = {"id", "hazard", "control", "file", "code", "replacement", "tests"}
# Environment that would change what a test run means: CI strictness turns a skip into a
# failure (which must never count as a kill) and pytest options from outside.
STRIP_ENV = ("CI", "INT_DESK_REQUIRE_POSTGRES", "INT_DESK_NO_SKIPS", "PYTEST_ADDOPTS")
DEFAULT_TIMEOUT = 300.0


class DeclarationError(Exception):
    """The declarations file is malformed (names the mutant and what is wrong)."""


@dataclass(frozen=True)
class Mutant:
    id: str
    hazard: str
    control: str
    file: str
    code: tuple[str, ...]  # one or more exact snippets, each replaced by its replacement
    replacement: tuple[str, ...]
    tests: tuple[str, ...]

    def apply(self, source: str) -> str:
        for code, replacement in zip(self.code, self.replacement, strict=True):
            source = source.replace(code, replacement, 1)
        return source


@dataclass
class Outcome:
    mutant: Mutant
    verdict: str  # killed | SURVIVED | NOT APPLICABLE | BROKEN | TIMEOUT
    seconds: float = 0.0
    detail: str = ""
    cpu: float = 0.0
    passed: list[str] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return self.verdict == "killed"


def load(path: Path = DECLARATIONS) -> list[Mutant]:
    """Read and validate the declarations; DeclarationError names every problem found."""
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except tomllib.TOMLDecodeError as exc:
        raise DeclarationError(f"{path.name}: not valid TOML: {exc}") from None
    problems: list[str] = []
    mutants: list[Mutant] = []
    seen: set[str] = set()
    for index, entry in enumerate(data.get("mutant", [])):
        name = entry.get("id", f"entry #{index + 1}")
        missing = KEYS - entry.keys()
        unknown = entry.keys() - KEYS
        if missing or unknown:
            problems.append(f"{name}: missing {sorted(missing)} unknown {sorted(unknown)}")
            continue
        if not MUTANT_ID.match(entry["id"]):
            problems.append(f"{name}: id must look like M-01a")
        if not HAZARD_ID.match(entry["hazard"]) or not entry["id"].startswith(
            "M-" + entry["hazard"][2:]
        ):
            problems.append(f"{name}: hazard must be H-NN and match the id's number")
        if name in seen:
            problems.append(f"{name}: declared twice")
        seen.add(name)
        code, replacement = _snippets(entry["code"]), _snippets(entry["replacement"])
        if (
            code is None
            or replacement is None
            or len(code) != len(replacement)
            or not all(c.strip() and c != r for c, r in zip(code, replacement, strict=True))
        ):
            problems.append(
                f"{name}: code and replacement must be strings (or lists of as many strings), "
                "each code non-empty and different from its replacement"
            )
            continue
        tests = entry["tests"]
        if not tests or not all(isinstance(t, str) and NODE.match(t) for t in tests):
            problems.append(f"{name}: tests must be a non-empty list of tests/...py::test_name")
        mutants.append(
            Mutant(
                id=entry["id"],
                hazard=entry["hazard"],
                control=entry["control"],
                file=entry["file"],
                code=code,
                replacement=replacement,
                tests=tuple(tests),
            )
        )
    if problems:
        raise DeclarationError("\n".join(problems))
    return mutants


def _snippets(value: object) -> tuple[str, ...] | None:
    if isinstance(value, str):
        return (value,)
    if isinstance(value, list) and value and all(isinstance(v, str) for v in value):
        return tuple(value)
    return None


def locate(mutant: Mutant, root: Path = ROOT) -> str | None:
    """Why the mutant cannot be applied in ``root`` (None when its code is there exactly once)."""
    path = root / mutant.file
    if not path.is_file():
        return f"{mutant.file} does not exist"
    source = path.read_text(encoding="utf-8")
    for n, code in enumerate(mutant.code, start=1):
        count = source.count(code)
        if count != 1:
            which = f"exact code #{n}" if len(mutant.code) > 1 else "exact code"
            where = "is no longer" if count == 0 else f"is {count} times"
            return f"its {which} {where} in {mutant.file} (the code moved: update the declaration)"
    for node in mutant.tests:
        test_file, name = node.split("[")[0].split("::")
        source = root / test_file
        if not source.is_file() or not re.search(
            rf"^(async )?def {name}\(", source.read_text(encoding="utf-8"), re.M
        ):
            return f"its test {node} does not exist"
    return None


def select_mutants(mutants: list[Mutant], wanted: Iterable[str]) -> list[Mutant]:
    wanted = list(wanted)
    if not wanted:
        return mutants
    chosen = [m for m in mutants if m.id in wanted or m.hazard in wanted]
    unknown = set(wanted) - {m.id for m in chosen} - {m.hazard for m in chosen}
    if unknown:
        raise DeclarationError(f"no mutant or hazard called {sorted(unknown)}")
    return chosen


# --- running ------------------------------------------------------------------------------------


def _checkout_files(root: Path) -> list[str]:
    """Tracked and new (not ignored) files: what a fresh clone of this work tree would hold."""
    listed = subprocess.run(
        ["git", "ls-files", "-z", "--cached", "--others", "--exclude-standard"],
        cwd=root,
        capture_output=True,
        check=True,
    ).stdout.decode("utf-8")
    return [f for f in listed.split("\0") if f and (root / f).is_file()]


@contextmanager
def scratch_copy(root: Path = ROOT, *, compiled: bool = False) -> Iterator[Path]:
    """A copy of the checkout in a temporary folder, removed afterwards.

    ``compiled``: the copy's Python files are byte-compiled first, as *checked-hash* .pyc files:
    Python re-validates such a file against the source's content on every import (never its
    time stamp), so a mutated or restored source is always recompiled - never hidden by a stale
    .pyc - while every unchanged module loads from its .pyc instead of being compiled again by
    each test run."""
    base = Path(tempfile.mkdtemp(prefix="int-desk-mutants-"))
    copy = base / "repo"
    try:
        for rel in _checkout_files(root):
            target = copy / rel
            target.parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(root / rel, target)
        if compiled:
            for folder in ("int_desk", "tests", "migrations"):
                compileall.compile_dir(
                    copy / folder,
                    quiet=1,
                    invalidation_mode=py_compile.PycInvalidationMode.CHECKED_HASH,
                )
        yield copy
    finally:
        shutil.rmtree(base, ignore_errors=True)


def _env(copy: Path) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if k not in STRIP_ENV}
    env["PYTHONPATH"] = str(copy)  # ahead of the editable install of the real checkout
    # The copy's .pyc files are checked-hash (scratch_copy): a stale one can never hide a
    # mutation, so writing bytecode is allowed (pytest keeps its rewritten test modules too).
    env.pop("PYTHONDONTWRITEBYTECODE", None)
    env["INT_DESK_MUTANT_RUN"] = "1"  # fuzzers report a failure without shrinking it
    env.setdefault("QT_QPA_PLATFORM", "offscreen")
    return env


def imports_from(copy: Path) -> None:
    """Fail unless ``int_desk`` imported in the copy's environment is the copy's."""
    done = subprocess.run(
        [sys.executable, "-c", "import int_desk; print(int_desk.__file__)"],
        cwd=copy,
        env=_env(copy),
        capture_output=True,
        text=True,
        check=True,
    )
    if not Path(done.stdout.strip()).resolve().is_relative_to(copy.resolve()):
        raise RuntimeError(f"the scratch copy imports int_desk from {done.stdout.strip()}")


@dataclass
class TestRun:
    returncode: int
    results: dict[str, str]  # node id -> passed | failed | error | skipped
    output: str
    timed_out: bool = False
    cpu: float = 0.0  # CPU seconds of the test run and every process it waited for


def _run(command: list[str], copy: Path, timeout: float) -> tuple[int, str, float]:
    """Run ``command`` in ``copy``: (exit code, output tail, CPU seconds); TimeoutError.

    The CPU time (user + system, including the endpoints and other processes the tests
    started and waited for) is what the run costs a 2-core machine whatever else is running,
    unlike its wall-clock time."""
    with tempfile.TemporaryFile() as out:
        proc = subprocess.Popen(
            command, cwd=copy, env=_env(copy), stdout=out, stderr=subprocess.STDOUT,
            start_new_session=True,
        )  # fmt: skip
        deadline = time.monotonic() + timeout
        cpu = 0.0
        while True:
            if hasattr(os, "wait4"):
                pid, status, usage = os.wait4(proc.pid, os.WNOHANG)
                if pid:
                    proc.returncode = os.waitstatus_to_exitcode(status)
                    cpu = usage.ru_utime + usage.ru_stime
                    break
            elif proc.poll() is not None:
                break
            if time.monotonic() > deadline:
                with suppress(ProcessLookupError):  # the tests and every server they started
                    if hasattr(os, "killpg"):
                        os.killpg(proc.pid, signal.SIGKILL)
                    else:
                        proc.kill()
                proc.wait()
                raise TimeoutError(command)
            time.sleep(0.1)
        out.seek(0)
        text = out.read().decode("utf-8", errors="replace")
    return proc.returncode, text[-6000:], cpu


def run_tests(copy: Path, nodes: Iterable[str], timeout: float) -> TestRun:
    nodes = list(nodes)
    report = copy.parent / f"junit-{time.monotonic_ns()}.xml"
    command = [
        sys.executable, "-m", "pytest", "-p", "no:cacheprovider", "-q", "--no-header",
        "-o", "faulthandler_timeout=0", f"--junitxml={report}", *nodes,
    ]  # fmt: skip
    try:
        returncode, output, cpu = _run(command, copy, timeout)
    except TimeoutError:
        return TestRun(-1, {}, "", timed_out=True)
    results: dict[str, str] = {}
    if report.exists():
        for case in ET.parse(report).getroot().iter("testcase"):
            name = case.get("name", "")
            base = case.get("classname", "").replace(".", "/") + ".py::"
            # Results by test and by parametrised case, so a mutant may name either.
            for node in {base + name, base + name.split("[")[0]}:
                _merge(results, node, case)
        report.unlink()
    return TestRun(returncode, results, output, cpu=cpu)


def _merge(results: dict[str, str], node: str, case: ET.Element) -> None:
    tags = {child.tag for child in case}
    if "skipped" in tags:
        outcome = "skipped"
    elif "error" in tags:
        outcome = "error"
    elif "failure" in tags:
        outcome = "failed"
    else:
        outcome = "passed"
    # A parametrised test counts as failed when any of its cases fails.
    previous = results.get(node)
    if previous is None or outcome in ("failed", "error") or previous == "passed":
        results[node] = outcome


def judge(mutant: Mutant, run: TestRun, seconds: float) -> Outcome:
    if run.timed_out:
        return Outcome(mutant, "TIMEOUT", seconds, "its tests hung; a hang is not a clear kill")
    # pytest exit codes: 1 tests failed, 2 interrupted (collection errors), 3 internal, 4 usage.
    if run.returncode not in (0, 1) or any(t not in run.results for t in mutant.tests):
        return Outcome(
            mutant, "BROKEN", seconds, "the mutated code did not collect or run:\n" + run.output
        )
    alive = [t for t in mutant.tests if run.results[t] in ("passed", "skipped")]
    if alive:
        detail = ", ".join(f"{t} {run.results[t]}" for t in alive)
        return Outcome(mutant, "SURVIVED", seconds, detail, alive)
    return Outcome(mutant, "killed", seconds)


def run_mutant(copy: Path, mutant: Mutant, timeout: float) -> Outcome:
    problem = locate(mutant, copy)
    if problem:
        return Outcome(mutant, "NOT APPLICABLE", 0.0, problem)
    path = copy / mutant.file
    original = path.read_text(encoding="utf-8")
    path.write_text(mutant.apply(original), encoding="utf-8")
    started = time.monotonic()
    try:
        run = run_tests(copy, mutant.tests, timeout)
    finally:
        path.write_text(original, encoding="utf-8")
    outcome = judge(mutant, run, time.monotonic() - started)
    outcome.cpu = run.cpu
    return outcome


def run_all(
    mutants: list[Mutant], *, jobs: int, timeout: float, baseline: bool = True
) -> list[Outcome]:
    outcomes: list[Outcome] = []
    with scratch_copy(compiled=True) as first:
        imports_from(first)
        if baseline:
            nodes = sorted({t for m in mutants for t in m.tests})
            print(f"baseline: {len(nodes)} tests unmutated ...", file=sys.stderr, flush=True)
            started = time.monotonic()
            run = run_tests(first, nodes, timeout * 2)
            bad = sorted(n for n in nodes if run.results.get(n) != "passed")
            if run.timed_out or run.returncode != 0 or bad:
                raise RuntimeError(
                    "the unmutated tests must all pass first; not passing: "
                    f"{bad or 'the run'}\n{run.output}"
                )
            print(f"baseline: passed in {time.monotonic() - started:.0f} s", file=sys.stderr)
        copies: Queue[Path] = Queue()
        copies.put(first)
        extra = [scratch_copy(compiled=True) for _ in range(max(jobs, 1) - 1)]
        try:
            for ctx in extra:
                copies.put(ctx.__enter__())

            def work(mutant: Mutant) -> Outcome:
                copy = copies.get()
                try:
                    outcome = run_mutant(copy, mutant, timeout)
                finally:
                    copies.put(copy)
                print(
                    f"{mutant.id}: {outcome.verdict} ({outcome.seconds:.0f} s, "
                    f"{outcome.cpu:.0f} s CPU)",
                    file=sys.stderr,
                    flush=True,
                )
                return outcome

            with ThreadPoolExecutor(max_workers=max(jobs, 1)) as pool:
                outcomes = list(pool.map(work, mutants))
        finally:
            for ctx in extra:
                ctx.__exit__(None, None, None)
    return outcomes


def report(outcomes: list[Outcome]) -> str:
    lines = [f"{'mutant':<7} {'hazard':<6} {'verdict':<15} {'secs':>5} {'cpu':>5}  control"]
    for o in outcomes:
        m = o.mutant
        lines.append(
            f"{m.id:<7} {m.hazard:<6} {o.verdict:<15} {o.seconds:>5.0f} {o.cpu:>5.0f}  {m.control}"
        )
        if not o.ok:
            lines.extend("        " + line for line in o.detail.splitlines()[-40:])
    killed = sum(o.ok for o in outcomes)
    cpu = sum(o.cpu for o in outcomes)
    lines.append(f"\n{killed} of {len(outcomes)} declared mutants killed")
    lines.append(f"CPU time of the test runs: {cpu:.0f} s (~{cpu / 2:.0f} s on 2 idle cores)")
    return "\n".join(lines)


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(prog="python -m tests.mutation declared", description=__doc__)
    parser.add_argument("only", nargs="*", help="mutant ids (M-09a) or hazards (H-09)")
    parser.add_argument("--check", action="store_true", help="validate and locate; run nothing")
    parser.add_argument("--jobs", type=int, default=2, help="mutants run at once (default 2)")
    parser.add_argument("--timeout", type=float, default=DEFAULT_TIMEOUT, help="seconds each")
    parser.add_argument(
        "--no-baseline", action="store_true", help="skip the unmutated run (CI: suite just passed)"
    )
    parser.add_argument(
        "--budget",
        type=float,
        default=0,
        help="fail when the run would take longer on --jobs idle cores (seconds: its CPU time "
        "divided by --jobs; wall-clock time where CPU time is not measured)",
    )
    args = parser.parse_args(argv)
    try:
        mutants = select_mutants(load(), args.only)
    except DeclarationError as exc:
        print(f"declared mutants: {exc}", file=sys.stderr)
        return 1
    unplaced = [(m, locate(m)) for m in mutants]
    unplaced = [(m, why) for m, why in unplaced if why]
    for m, why in unplaced:
        print(f"{m.id} NOT APPLICABLE: {why}", file=sys.stderr)
    if args.check:
        print(f"declared mutants: {len(mutants)} checked, {len(unplaced)} not applicable")
        return 1 if unplaced else 0
    started = time.monotonic()
    outcomes = run_all(mutants, jobs=args.jobs, timeout=args.timeout, baseline=not args.no_baseline)
    print(report(outcomes))
    took = time.monotonic() - started
    print(f"({took:.0f} s, {args.jobs} at a time)")
    # The bound is the machine's work, not how busy it is: on a shared or loaded runner the
    # wall-clock time says more about the neighbours than about the mutants.
    cpu = sum(o.cpu for o in outcomes)
    cost = cpu / max(1, args.jobs) if cpu else took
    if args.budget and cost > args.budget:
        print(
            f"declared mutants: {cost:.0f} s on {args.jobs} idle cores (CPU {cpu:.0f} s, wall "
            f"{took:.0f} s), over the {args.budget:.0f} s budget"
        )
        return 1
    return 0 if all(o.ok for o in outcomes) else 1
