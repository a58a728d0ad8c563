"""Mutation score of the safety-critical modules (tests/mutation/broad.py, mutmut): the share
of mutants the tests kill, per target, against the 90% target. On demand and slow (mutmut runs
each mutant against the tests that reach it): hours for every target on 2 shared cores.

    .venv/bin/python -m tests.benchmarks mutation
    INT_DESK_MUTATION_TARGETS=audit,keys .venv/bin/python -m tests.benchmarks mutation
    INT_DESK_MUTATION_SAMPLE=150 ...   # each target judged on a random sample (seed 18)

The figures measured so far, with load and duration: docs/clinical-safety/mutation-score.md.
"""

from __future__ import annotations

import os

from tests.benchmarks.harness import Figure
from tests.mutation import broad

TARGET_SCORE = 90.0


def run() -> list[Figure]:
    wanted = [w for w in os.environ.get("INT_DESK_MUTATION_TARGETS", "").split(",") if w]
    sample = int(os.environ.get("INT_DESK_MUTATION_SAMPLE", "0")) or None
    figures = []
    for target in broad.TARGETS:
        if wanted and target.name not in wanted:
            continue
        result = broad.run_target(target, sample=sample)
        figures.append(
            Figure(
                f"mutation score {target.name}",
                broad.score(result),
                "% killed",
                TARGET_SCORE,
                higher_is_better=True,
                note=f"{broad.describe(result)}, {result['seconds']:.0f} s",
            )
        )
    return figures
