"""Endpoint CPU per cycle, two versions side by side: the same load, the same database.

    git archive <old commit> | tar -x -C /tmp/old
    .venv/bin/python -m tests.benchmarks.ab_sync_cpu /tmp/old . [rounds] [cycles]

Starts one PostgreSQL cluster seeded with the 750-patient demo, one ``serve`` process from each
tree (the same virtualenv: each tree's ``int_desk`` is imported from its directory), gives each
its own 10 laptops, then runs rounds of ``cycles`` sync cycles one at a time (push 5 + pull +
verify, a new connection each), alternating which tree goes first, after 30 cycles each not
counted. Prints each round's endpoint CPU per cycle (/proc user + system of that process,
split by request), PostgreSQL's CPU over the round, the load, and the medians: on a shared or
virtual machine the same code differs by up to a fifth from round to round, so compare medians
of alternated rounds, not two single runs.
"""

from __future__ import annotations

import asyncio
import os
import random
import statistics
import subprocess
import sys
import tempfile
from pathlib import Path

import httpx

from tests.benchmarks.bench_sync import _cpu_seconds, _download, _edits, _Http, _pg_cpu, _seed
from tests.benchmarks.harness import demo_workspace
from tests.helpers.sync_env import PgCluster, free_port, wait_for


def start(tree: str, db_url: str) -> tuple[subprocess.Popen, str]:
    port = free_port()
    log = open(Path(tempfile.mkdtemp(prefix="ab-srv-")) / "log", "wb")
    proc = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "int_desk",
            "serve",
            "--db",
            db_url,
            "--port",
            str(port),
            "--workers",
            "1",
        ],
        cwd=tree,
        stdout=subprocess.DEVNULL,
        stderr=log,
    )
    url = f"http://127.0.0.1:{port}"

    def up() -> bool:
        try:
            return httpx.get(f"{url}/v1/health", timeout=1).status_code == 200
        except httpx.TransportError:
            return False

    wait_for(up, 120, "endpoint")
    return proc, url


async def laptops(url: str, tokens: list[str]) -> list[list]:
    state = []
    for token in tokens:
        async with _Http(url, token) as c:
            rows, cursor = await _download(c)
        mine = [r for r in rows if r["e"] == "patient"]
        picks = random.Random(token).sample(mine, 5)
        state.append([token, picks, {p["id"]: p["v"] for p in picks}, cursor])
    return state


async def cycles(
    url: str, pid: int, pg: int | None, state: list[list], n: int, tag: str
) -> tuple[float, float, list[float]]:
    split = [0.0, 0.0, 0.0]
    pg_before = _pg_cpu(pg)
    start = _cpu_seconds([pid]) or 0.0
    for i in range(n):
        token, picks, versions, cursor = state[i % len(state)]
        before = _cpu_seconds([pid]) or 0.0
        async with _Http(url, token) as c:
            status, reply = await c.request(
                "POST", "/v1/push", _edits(picks, versions, f"{tag}{i}")
            )
            assert status == 200, (status, reply)
            for res in reply["results"]:
                versions[res["row"]["id"]] = res["row"]["v"]
            a = _cpu_seconds([pid]) or 0.0
            status, page = await c.request("POST", "/v1/pull", {"cursor": cursor})
            assert status == 200, (status, page)
            while page["has_more"]:
                status, page = await c.request("POST", "/v1/pull", {"cursor": page["cursor"]})
            state[i % len(state)][3] = page["cursor"]
            b = _cpu_seconds([pid]) or 0.0
            status, _v = await c.request("GET", "/v1/verify")
            assert status == 200
        e = _cpu_seconds([pid]) or 0.0
        split[0] += a - before
        split[1] += b - a
        split[2] += e - b
    cpu = (_cpu_seconds([pid]) or 0.0) - start
    return cpu * 1000 / n, (_pg_cpu(pg) - pg_before) * 1000 / n, [s * 1000 / n for s in split]


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
            proc, url = start(tree, db_url)
            procs.append(proc)
            eps.append((tree, proc.pid, url))
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
                        f"round {r} {tree}: {cpu:.2f} ms/cycle (push {split[0]:.2f} pull {split[1]:.2f} verify {split[2]:.2f}), PG {pgc:.2f} ms; load {os.getloadavg()[0]:.1f}",
                        flush=True,
                    )

        asyncio.run(run())
        for tree in trees:
            print(
                f"{tree}: median {statistics.median(results[tree]):.2f} ms/cycle, range {min(results[tree]):.2f}-{max(results[tree]):.2f}; PG median {statistics.median(pgs[tree]):.2f}"
            )
    finally:
        for p in procs:
            p.terminate()
            p.wait(30)
        cluster.stop()


if __name__ == "__main__":
    main()
