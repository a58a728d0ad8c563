"""Endpoint CPU per cycle, two versions side by side: the same load, the same database.

    git archive <old commit> | tar -x -C /tmp/old
    .venv/bin/python -m tests.benchmarks.ab_sync_cpu /tmp/old . [rounds] [cycles]

Starts one PostgreSQL cluster seeded with the 750-patient demo, one ``serve`` process from each
tree (the same virtualenv: each tree's ``int_desk`` is imported from its directory), gives each
its own 10 laptops, then runs rounds of ``cycles`` sync cycles one at a time (push 5 + pull +
verify, a new connection each, made as the app makes them against that tree: one request,
``/v1/cycle``, where its endpoint advertises it, else three), alternating which tree goes
first, after 30 cycles each not counted. Prints each round's endpoint CPU per cycle (/proc user + system of that process,
split by request), PostgreSQL's CPU over the round, the load, and the medians: on a shared or
virtual machine the same code differs by up to a fifth from round to round, so compare medians
of alternated rounds, not two single runs.
"""

from __future__ import annotations

import asyncio
import os
import random
import statistics
import sys

from tests.benchmarks.bench_sync import (
    CpuSplit,
    _cpu_seconds,
    _download,
    _edits,
    _Http,
    _pg_cpu,
    _seed,
    sync_cycle,
)
from tests.benchmarks.harness import demo_workspace
from tests.helpers.sync_env import PgCluster, start_endpoint


async def laptops(url: str, tokens: list[str]) -> list[list]:
    state = []
    for token in tokens:
        async with _Http(url, token) as c:
            rows, cursor = await _download(c)
            whole = bool(c.cycle_path)  # the endpoint advertises the one-request cycle
        mine = [r for r in rows if r["e"] == "patient"]
        picks = random.Random(token).sample(mine, 5)
        state.append([token, picks, {p["id"]: p["v"] for p in picks}, cursor, whole])
    return state


async def cycles(
    url: str, pid: int, pg: int | None, state: list[list], n: int, tag: str
) -> tuple[float, float, dict[str, float]]:
    """``n`` cycles one at a time, each as the app makes it against this endpoint (one request
    where it advertises the cycle, else three): CPU a cycle, PostgreSQL's, split by request."""
    split: dict[str, float] = {}
    pg_before = _pg_cpu(pg)
    start = _cpu_seconds([pid]) or 0.0
    for i in range(n):
        token, picks, versions, cursor, whole = state[i % len(state)]
        async with _Http(url, token) as c:
            push = _edits(picks, versions, f"{tag}{i}")
            problem, cursor = await sync_cycle(
                c, whole, push, versions, cursor, CpuSplit([pid], split)
            )
            assert problem is None, problem
        state[i % len(state)][3] = cursor
    cpu = (_cpu_seconds([pid]) or 0.0) - start
    per = {k: v * 1000 / n for k, v in split.items()}
    return cpu * 1000 / n, (_pg_cpu(pg) - pg_before) * 1000 / n, per


def main() -> None:
    trees = sys.argv[1:3]
    rounds = int(sys.argv[3]) if len(sys.argv) > 3 else 4
    n = int(sys.argv[4]) if len(sys.argv) > 4 else 200
    cluster = PgCluster()
    cluster.start()
    procs = []
    try:
        db_url = cluster.new_database()
        tokens = list(_seed(db_url, demo_workspace(750), None).values())
        eps = []
        for tree in trees:
            ep = start_endpoint(db_url, faults=False, cwd=tree)
            procs.append(ep)
            eps.append((tree, ep.proc.pid, ep.url))
        print("endpoint processes (for py-spy):", [e[1] for e in eps], flush=True)
        results: dict[str, list[float]] = {t: [] for t in trees}
        pgs: dict[str, list[float]] = {t: [] for t in trees}

        async def run() -> None:
            # each endpoint its own 10 laptops
            states = {}
            for k, (tree, _pid, url) in enumerate(eps):
                states[tree] = await laptops(url, tokens[k * 10 : k * 10 + 10])
            # warm-up
            for tree, pid, url in eps:
                await cycles(url, pid, cluster.postmaster_pid(), states[tree], 30, "w")
            for r in range(rounds):
                order = eps if r % 2 == 0 else eps[::-1]
                for tree, pid, url in order:
                    cpu, pgc, split = await cycles(
                        url, pid, cluster.postmaster_pid(), states[tree], n, f"r{r}"
                    )
                    results[tree].append(cpu)
                    pgs[tree].append(pgc)
                    print(
                        f"round {r} {tree}: {cpu:.2f} ms/cycle "
                        f"({', '.join(f'{k} {v:.2f}' for k, v in split.items())}), "
                        f"PG {pgc:.2f} ms; load {os.getloadavg()[0]:.1f}",
                        flush=True,
                    )

        asyncio.run(run())
        for tree in trees:
            print(
                f"{tree}: median {statistics.median(results[tree]):.2f} ms/cycle, range {min(results[tree]):.2f}-{max(results[tree]):.2f}; PG median {statistics.median(pgs[tree]):.2f}"
            )
    finally:
        for ep in procs:
            ep.stop()
        cluster.stop()


if __name__ == "__main__":
    main()
