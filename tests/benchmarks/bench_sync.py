"""Sync over loopback against a real endpoint (uvicorn subprocess).

1. (The initial pull of a 10,000-patient team: bench_pull.py, taken apart step by step.)
2. Incremental sync of 100 changes: one full cycle (push 100 edits, pull, verify).
3. 100 laptops against PostgreSQL, open loop: p95 of a sync cycle (push 5 edits, pull,
   verify; made as the app makes it: one request, ``/v1/cycle``, once the endpoint has
   advertised it, else three) at the app's busiest cadence - every laptop being edited, so each syncs every ~5 s
   (the debounce after an edit; the idle cadence is every 5 minutes) - and, as a stress figure,
   at five times that (each once a second: 100 cycles/s offered), with one endpoint process and
   with two (two ``serve`` processes on two ports sharing the database, laptops spread over
   both, as two hosts would be). Each laptop keeps a fixed schedule (a random phase, then every
   ``think`` seconds, ± a tenth), whatever the endpoint does; a cycle's latency runs from when
   it was due, so queueing counts. After a warm-up, a steady window is measured: offered and
   achieved cycles/s, median and p95, errors, and CPU a cycle of the endpoint, of PostgreSQL and
   of the load generator itself (Linux: /proc). Skipped with a note when PostgreSQL is not
   installed.
4. Endpoint CPU per cycle, one cycle at a time (no contention), on PostgreSQL and on SQLite:
   the endpoint process's CPU time (user + system, /proc) over ``SERIAL_CYCLES`` cycles / their
   number (after ``SERIAL_WARM_UP`` cycles not counted: a running endpoint has compiled and
   prepared its statements), split by request, and PostgreSQL's server processes' CPU per cycle beside it. Under load the wall-clock figures
   swing with what else runs on the cores; CPU time is what the endpoint costs. Every figure
   names the machine's load (1-minute average) when it was taken.
"""

from __future__ import annotations

import asyncio
import json
import os
import random
import time
import uuid
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from sqlalchemy import select

from tests.benchmarks.harness import PASSPHRASE, Figure, median_p95, scratch_dir

TEAM_PATIENTS = 10_000
CLIENTS = 100
SERIAL_CYCLES = 300
SERIAL_WARM_UP = 50  # cycles first, not counted: the statements compiled and prepared once
# Seconds between one laptop's cycles: the app's debounce after edits (sync_status.py), then a
# stress run at five times that rate (100 laptops offering 100 cycles/s).
# (seconds between a laptop's cycles, endpoint processes, label)
PHASES = (
    (5.0, 1, "app cadence: each laptop every ~5 s"),
    (1.0, 1, "stress: each laptop ~1/s"),
    (1.0, 2, "stress: each laptop ~1/s"),
)


def _seed(db_url: str, ws_dir: Any, team: str | None) -> dict[str, str]:
    from int_desk.server import admin, db
    from int_desk.store.workspace import Workspace
    from int_desk.sync.seed_source import WorkspaceRows

    engine, factory = db.open_db(db_url, pool_size=1)
    tokens = {}
    with Workspace.open(ws_dir, PASSPHRASE, use_keyring=False) as ws, ws.session() as wss:
        from int_desk.store import models as m

        teams = {n: t for t, n in wss.execute(select(m.Team.id, m.Team.name))}
        with factory.begin() as s:
            admin.seed_from_workspace(s, WorkspaceRows(wss), [team] if team else [])
            for i, name in enumerate(sorted(teams) if team is None else [team]):
                if team is None or name == team:
                    for k in range(CLIENTS if team is None else 1):
                        user = f"bench-{i}-{k}"
                        admin.add_integration(s, user, [str(teams[name])], "clinical_system")
                        tokens[user] = admin.issue_token(s, user)[1]
    engine.dispose()
    return tokens


def _initial_and_incremental() -> list[Figure]:
    from int_desk.store import models as m
    from int_desk.store.workspace import Workspace
    from int_desk.sync import credentials
    from int_desk.sync.client import SyncEngine
    from tests.benchmarks.harness import demo_workspace
    from tests.helpers.sync_env import start_endpoint

    src = demo_workspace(TEAM_PATIENTS * 3)  # the demo spreads patients over three teams
    work = scratch_dir("sync")
    db_url = f"sqlite:///{work / 'srv.db'}"
    tokens = _seed(db_url, src, "Bicester INT")
    ep = start_endpoint(db_url, faults=False)
    try:
        ws = Workspace.create(work / "laptop", PASSPHRASE, use_keyring=False)
        credentials.connect(ws, ep.url, next(iter(tokens.values())))
        conn = credentials.load(ws)
        assert conn is not None
        first = SyncEngine(ws, ep.url, conn.token, verify=False).run()
        assert first.ok, first.error
        with ws.session() as s:
            patients = s.query(m.Patient).count()
        # (the first download's own figure, taken apart: bench_pull.py)
        figures: list[Figure] = []
        verify_start = time.perf_counter()
        assert SyncEngine(ws, ep.url, conn.token, full_verify=True).run().verified
        verify_took = time.perf_counter() - verify_start
        samples = []
        for round_ in range(5):
            with ws.session() as s:
                for i, p in enumerate(
                    s.scalars(select(m.Patient).order_by(m.Patient.id).limit(100))
                ):
                    p.phone = f"01632 {round_}{i:05d}"
            start = time.perf_counter()
            r = SyncEngine(ws, ep.url, conn.token).run()
            samples.append(time.perf_counter() - start)
            assert r.ok and r.pushed == 100 and r.verified, r
        median, p95 = median_p95(samples)
        figures.append(
            Figure(
                "sync: incremental cycle, 100 changes",
                median * 1000,
                "ms",
                target=200,
                note=f"push+pull+verify (counts) over {patients:,} patients; p95 {p95 * 1000:.0f} ms; "
                f"an idle cycle with the hourly full id digest {verify_took * 1000:.0f} ms",
            )
        )
        ws.close()
        return figures
    finally:
        ep.stop()


class _Http:
    """A lean HTTP/1.1 client on asyncio streams for the load generator.

    The 100 simulated laptops share the two cores with the server; httpx.AsyncClient cost about
    12 ms of CPU per cycle (3 requests), a third of what the server spent. This one sends the
    same requests (same headers, JSON bodies, keep-alive) for a fraction of that. Responses are
    read by Content-Length (the endpoint always sends it) and parsed as JSON.
    """

    def __init__(self, url: str, token: str) -> None:
        from urllib.parse import urlsplit

        from int_desk.wire.protocol import PROTOCOL_HEADER, PROTOCOL_VERSION

        parts = urlsplit(url)
        self.host, self.port = parts.hostname or "127.0.0.1", parts.port or 80
        self.head = (
            f"Host: {self.host}:{self.port}\r\nAuthorization: Bearer {token}\r\n"
            f"{PROTOCOL_HEADER}: {PROTOCOL_VERSION}\r\nContent-Type: application/json\r\n"
        )
        self.reader: asyncio.StreamReader | None = None
        self.writer: asyncio.StreamWriter | None = None
        self.cycle_path = ""  # the one-request cycle, once an answer advertises it (as the app)

    async def __aenter__(self) -> _Http:
        self.reader, self.writer = await asyncio.open_connection(self.host, self.port)
        return self

    async def __aexit__(self, *_exc: object) -> None:
        assert self.writer is not None
        self.writer.close()
        try:
            await self.writer.wait_closed()
        except OSError:
            pass

    async def request(self, method: str, path: str, payload: Any = None) -> tuple[int, Any]:
        assert self.reader is not None and self.writer is not None
        body = json.dumps(payload).encode() if payload is not None else b""
        self.writer.write(
            f"{method} {path} HTTP/1.1\r\n{self.head}Content-Length: {len(body)}\r\n\r\n".encode()
            + body
        )
        status = int((await self.reader.readline()).split()[1])
        length = 0
        while True:
            line = await self.reader.readline()
            if line in (b"\r\n", b""):
                break
            name, _, value = line.partition(b":")
            name = name.lower()
            if name == b"content-length":
                length = int(value)
            elif name == _CYCLE_HEADER and value.strip() == _CYCLE_PATH:
                self.cycle_path = _CYCLE_PATH.decode()
        data = await self.reader.readexactly(length)
        return status, json.loads(data) if data else None


_CYCLE_HEADER = b"x-intdesk-cycle"
_CYCLE_PATH = b"/v1/cycle"


async def sync_cycle(
    c: _Http,
    whole: bool,
    push: dict[str, Any],
    versions: dict[str, int],
    cursor: str,
    tick: Any = None,
) -> tuple[str | None, str]:
    """One sync cycle as the app makes it (sync/client.py): push, pull every page, verify the
    counts; in one request (``POST /v1/cycle``) when ``whole`` (the endpoint advertised it),
    else three. ``versions`` takes the pushed rows' new versions. Returns what went wrong (or
    None) and the new cursor; ``tick(label)`` is called after each request."""
    tick = tick or (lambda _label: None)
    if whole:
        body = {"push": push, "pull": {"cursor": cursor}, "verify": True}
        status, reply = await c.request("POST", "/v1/cycle", body)
        tick("cycle")
        if status != 200:
            return f"cycle {status}", cursor
        results, page = reply["push"]["results"], reply["pull"]
    else:
        status, reply = await c.request("POST", "/v1/push", push)
        tick("push")
        if status != 200:
            return f"push {status}", cursor
        results = reply["results"]
        status, page = await c.request("POST", "/v1/pull", {"cursor": cursor})
        tick("pull")
        if status != 200:
            return f"pull {status}", cursor
    for res in results:
        if "row" in res:
            versions[res["row"]["id"]] = res["row"]["v"]
    more = page["has_more"]
    while page["has_more"]:
        status, page = await c.request("POST", "/v1/pull", {"cursor": page["cursor"]})
        tick("pull")
        if status != 200:
            return f"pull {status}", cursor
    if more or not whole:  # (the cycle's counts were read before the pages after it)
        status, _verify = await c.request("GET", "/v1/verify")
        tick("verify")
        if status != 200:
            return f"verify {status}", page["cursor"]
    return None, page["cursor"]


async def _download(c: _Http) -> tuple[list[dict[str, Any]], str]:
    """A laptop's first download over ``c`` (not measured): its rows and cursor."""
    rows: list[dict[str, Any]] = []
    body: dict[str, Any] = {"full": True, "limit": 5000}
    while True:
        page = (await c.request("POST", "/v1/pull", body))[1]
        rows += page["changes"]
        if not page["has_more"]:
            return rows, page["cursor"]
        body = {"full": True, "limit": 5000, "after": page["after"]}


def _edits(picks: list[dict[str, Any]], versions: dict[str, int], text: str) -> dict[str, Any]:
    """A push of one edit to each picked patient, on the versions this laptop holds."""
    ops = [
        {
            "op_id": str(uuid.uuid4()),
            "entity": "patient",
            "id": p["id"],
            "kind": "update",
            "base_version": versions[p["id"]],
            "fields": {"carer_needs": text},
        }
        for p in picks
    ]
    return {"batch_id": str(uuid.uuid4()), "ops": ops}


def _load() -> str:
    """The machine's load beside a figure (wall-clock figures swing with it, CPU time less)."""
    try:
        return f"load {os.getloadavg()[0]:.1f}"
    except (AttributeError, OSError):  # (Windows)
        return "load unknown"


class CpuSplit:
    """Called after each request of a cycle: adds the processes' CPU since the last call to
    ``spent`` under the request's name (the first also carries the connection's set-up)."""

    def __init__(self, pids: list[int], spent: dict[str, float]) -> None:
        self.pids, self.spent = pids, spent
        self.mark = _cpu_seconds(pids) or 0.0
        self.first = True

    def __call__(self, label: str) -> None:
        now = _cpu_seconds(self.pids) or 0.0
        name = f"connect + {label}" if self.first else label
        self.spent[name] = self.spent.get(name, 0.0) + now - self.mark
        self.mark, self.first = now, False


def _serial_cpu(
    ep: Any, tokens: list[str], pg_pid: int | None, database: str = "PostgreSQL"
) -> Figure:
    """Endpoint CPU per cycle with one cycle at a time: what a cycle costs, free of queueing."""
    laptops = tokens[:10]
    spent: dict[str, float] = {}
    pg_spent = 0.0
    pid = [ep.proc.pid]
    whole = [False]  # the endpoint advertises the one-request cycle (seen at the download)

    async def main() -> None:
        nonlocal pg_spent
        state = []
        for token in laptops:
            async with _Http(ep.url, token) as c:
                rows, cursor = await _download(c)
                whole[0] = bool(c.cycle_path)
            mine = [r for r in rows if r["e"] == "patient"]
            picks = random.Random(token).sample(mine, 5)
            state.append([token, picks, {p["id"]: p["v"] for p in picks}, cursor])
        for n in range(-SERIAL_WARM_UP, SERIAL_CYCLES):
            token, picks, versions, cursor = state[n % len(state)]
            pg_before = _pg_cpu(pg_pid)
            tick = CpuSplit(pid, spent if n >= 0 else {})  # (not counted while warming up)
            async with _Http(ep.url, token) as c:  # a new connection per cycle, as the app
                push = _edits(picks, versions, f"s{n}")
                problem, state[n % len(state)][3] = await sync_cycle(
                    c, whole[0], push, versions, cursor, tick
                )
                assert problem is None, problem
            if n < 0:  # warming up
                continue
            pg_spent += _pg_cpu(pg_pid) - pg_before

    asyncio.run(main())
    per = {k: v * 1000 / SERIAL_CYCLES for k, v in spent.items()}
    parts = ", ".join(f"{k} {v:.1f}" for k, v in per.items())
    database_cpu = (
        f"; PostgreSQL's processes {pg_spent * 1000 / SERIAL_CYCLES:.1f} ms/cycle"
        if pg_pid is not None
        else ""
    )
    shape = "one request" if whole[0] else "three requests"
    return Figure(
        f"sync: endpoint CPU per cycle, one at a time (push 5 + pull + verify, {database})",
        sum(per.values()),
        "ms",
        target=10,
        note=f"{SERIAL_CYCLES} cycles after {SERIAL_WARM_UP}, {shape}: {parts} ms{database_cpu}; "
        f"/proc user+system; {_load()}",
    )


def _serial_sqlite() -> Figure:
    """The same one-at-a-time figure against an endpoint on SQLite (the embedded default)."""
    from tests.benchmarks.harness import demo_workspace
    from tests.helpers.sync_env import start_endpoint

    db_url = f"sqlite:///{scratch_dir('sync-serial') / 'srv.db'}"
    tokens = list(_seed(db_url, demo_workspace(750), None).values())
    ep = start_endpoint(db_url, faults=False)
    try:
        return _serial_cpu(ep, tokens, None, "SQLite")
    finally:
        ep.stop()


def _pg_cpu(postmaster: int | None) -> float:
    """CPU seconds so far of PostgreSQL: the postmaster, its live children (backends, writers)
    and the children it has already reaped (a backend whose connection closed), so a pool
    that reconnects does not hide its work."""
    if postmaster is None:
        return 0.0
    try:
        own = Path(f"/proc/{postmaster}/stat").read_text().rsplit(")", 1)[1].split()
    except OSError:
        return 0.0
    tick = os.sysconf("SC_CLK_TCK")
    total = sum(int(own[i]) for i in (11, 12, 13, 14)) / tick
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                stat = (entry / "stat").read_text().rsplit(")", 1)[1].split()
            except OSError:
                continue
            if int(stat[1]) == postmaster:
                total += (int(stat[11]) + int(stat[12])) / tick
    return total


def _concurrent_postgres() -> list[Figure]:
    from tests.benchmarks.harness import demo_workspace
    from tests.helpers.sync_env import PgCluster, pg_available, start_endpoint

    if not pg_available():
        return [
            Figure(
                "sync: 100 concurrent clients (PostgreSQL)",
                0,
                "ms",
                note="PostgreSQL not installed",
            )
        ]
    cluster = PgCluster()
    cluster.start()
    try:
        db_url = cluster.new_database()
        tokens = list(_seed(db_url, demo_workspace(750), None).values())[:CLIENTS]
        hosts = [start_endpoint(db_url, faults=False)]
        try:
            figures = [_serial_cpu(hosts[0], tokens, cluster.postmaster_pid())]
            print(f"{figures[-1].name}: {figures[-1].value:.3g} ms ({figures[-1].note})")
            for think, processes, label in PHASES:
                while len(hosts) < processes:
                    hosts.append(start_endpoint(db_url, faults=False))
                made = _phase(hosts[:processes], tokens, think, label, cluster.postmaster_pid())
                for f in made:
                    print(f"{f.name}: {f.value:.4g} {f.unit} ({f.note})", flush=True)
                figures.extend(made)
        finally:
            for ep in hosts:
                ep.stop()
    finally:
        cluster.stop()
    return figures


def _cpu_seconds(pids: list[int]) -> float | None:
    """User + system CPU of these processes so far (Linux /proc; None elsewhere)."""
    total = 0.0
    for pid in pids:
        try:
            fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
        except OSError:
            return None
        total += (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")
    return total


@dataclass
class _Laptop:
    """One simulated laptop of an open-loop phase: its schedule and what it holds."""

    url: str
    token: str
    first: float  # its first scheduled cycle (loop time)
    picks: list[dict[str, Any]] = field(default_factory=list)
    versions: dict[str, int] = field(default_factory=dict)
    cursor: str = ""
    whole: bool = False  # the endpoint advertised the one-request cycle (as the app learns it)


@dataclass
class _Window:
    """The steady window's bounds (loop time) and what happened in it."""

    start: float
    end: float
    stop: float  # cycles still running are abandoned here (counted as unfinished)
    latencies: list[float] = field(default_factory=list)  # of cycles scheduled in the window
    finished_in_window: int = 0  # cycles (any schedule) that ended inside the window
    offered: int = 0  # cycles scheduled inside the window
    errors: list[str] = field(default_factory=list)
    unfinished: list[float] = field(default_factory=list)  # their scheduled starts


async def _first_download(laptop: _Laptop, gate: asyncio.Semaphore) -> None:
    """The laptop's first download (not measured) and the five patients it edits."""
    async with gate, _Http(laptop.url, laptop.token) as c:
        rows, laptop.cursor = await _download(c)
        laptop.whole = bool(c.cycle_path)
    mine = [r for r in rows if r["e"] == "patient"]
    laptop.picks = random.Random(laptop.token).sample(mine, 5)
    laptop.versions = {p["id"]: p["v"] for p in laptop.picks}


async def _cycle(laptop: _Laptop, n: int) -> str | None:
    """One sync cycle as the app makes it (a new connection; push 5, pull, verify): None, or
    what went wrong."""
    try:
        async with _Http(laptop.url, laptop.token) as c:
            push = _edits(laptop.picks, laptop.versions, f"c{n} {laptop.token[-6:]}")
            problem, laptop.cursor = await sync_cycle(
                c, laptop.whole, push, laptop.versions, laptop.cursor
            )
            return problem
    except (OSError, asyncio.IncompleteReadError, ValueError) as exc:
        return type(exc).__name__


def _schedule(laptop: _Laptop, think: float, until: float) -> list[float]:
    """When the laptop's cycles are due: every ``think`` seconds from its first (± a tenth of
    ``think``), up to ``until``, fixed before the run whatever the endpoint does."""
    jitter = random.Random(laptop.token + "jitter")
    dues = []
    while True:
        due = laptop.first + len(dues) * think + jitter.uniform(-0.1, 0.1) * think
        if due >= until:
            return dues
        dues.append(due)


async def _run_schedule(laptop: _Laptop, dues: list[float], window: _Window) -> None:
    """Open loop: each cycle starts when it is due, or, for a laptop behind its schedule, as
    soon as its last cycle ends; its latency is taken from when it was DUE, so time spent
    queued counts (no coordinated omission)."""
    loop = asyncio.get_running_loop()
    for n, due in enumerate(dues):
        counted = window.start <= due < window.end
        wait = due - loop.time()
        try:
            if wait > 0:
                await asyncio.sleep(wait)
            problem = await _cycle(laptop, n)
        except asyncio.CancelledError:  # the hard stop: this cycle and those after it unfinished
            window.unfinished += [d for d in dues[n:] if window.start <= d < window.end]
            raise
        ended = loop.time()
        if window.start <= ended < window.end:
            window.finished_in_window += 1
        if counted:
            if problem:
                window.errors.append(problem)
            else:
                window.latencies.append(ended - due)


WARM_UP = 5.0  # seconds of cycles before the window (run, not counted)
WINDOW = 30.0  # the steady window measured
GRACE = 30.0  # after the window, cycles due in it may finish for this long (then: unfinished)


def _phase(
    hosts: list[Any], tokens: list[str], think: float, label: str, postmaster: int | None
) -> list[Figure]:
    """100 laptops on a fixed schedule (open loop), offering ``len(tokens) / think`` cycles a
    second; the figures of the steady window."""
    cpu: list[float | None] = []
    pg: list[float] = []
    own: list[float] = []
    pids = [ep.proc.pid for ep in hosts]
    result: list[_Window] = []

    async def main() -> None:
        loop = asyncio.get_running_loop()
        laptops = [  # spread over the endpoint processes, no stickiness needed
            _Laptop(hosts[i % len(hosts)].url, t, 0.0) for i, t in enumerate(tokens)
        ]
        gate = asyncio.Semaphore(8)  # first downloads, a few at a time (not measured)
        await asyncio.gather(*(_first_download(lt, gate) for lt in laptops))
        begin = loop.time() + 0.5
        window = _Window(
            begin + WARM_UP, begin + WARM_UP + WINDOW, begin + WARM_UP + WINDOW + GRACE
        )
        for lt in laptops:  # a random phase each, so the cycles are spread over ``think``
            lt.first = begin + random.Random(lt.token + "phase").uniform(0, think)
        dues = [_schedule(lt, think, window.end) for lt in laptops]
        window.offered = sum(window.start <= d < window.end for each in dues for d in each)
        tasks = [
            asyncio.create_task(_run_schedule(lt, d, window))
            for lt, d in zip(laptops, dues, strict=True)
        ]
        await asyncio.sleep(max(0.0, window.start - loop.time()))
        cpu.append(_cpu_seconds(pids))
        pg.append(_pg_cpu(postmaster))
        own.append(time.process_time())
        await asyncio.sleep(max(0.0, window.end - loop.time()))
        cpu.append(_cpu_seconds(pids))
        pg.append(_pg_cpu(postmaster))
        own.append(time.process_time())
        load.append(_load())
        _done, late = await asyncio.wait(tasks, timeout=max(0.0, window.stop - loop.time()))
        for task in late:
            task.cancel()
        await asyncio.gather(*late, return_exceptions=True)
        result.append(window)

    load: list[str] = []
    asyncio.run(main())
    w = result[0]
    done = w.finished_in_window
    # A cycle abandoned at the hard stop counts with the latency it had reached by then.
    latencies = w.latencies + [w.stop - due for due in w.unfinished]
    median, p95 = median_p95(latencies) if latencies else (0.0, 0.0)

    def per_cycle(spent: float) -> str:
        return f"{spent * 1000 / done:.1f}" if done else "?"

    endpoint = per_cycle(cpu[1] - cpu[0]) if None not in cpu else "?"
    where = f"PostgreSQL, {label}, {len(hosts)} endpoint process{'es' if len(hosts) > 1 else ''}"
    note = (
        f"open loop: offered {w.offered / WINDOW:.0f}/s, achieved {done / WINDOW:.0f}/s over a "
        f"{WINDOW:.0f} s window; median {median * 1000:.0f} ms (from each cycle's due time); "
        f"{len(w.errors)} errors, {len(w.unfinished)} unfinished; CPU a cycle: endpoint "
        f"{endpoint} ms, PostgreSQL {per_cycle(pg[1] - pg[0])} ms, load generator "
        f"{per_cycle(own[1] - own[0])} ms; 750-patient demo; {load[0]}"
    )
    figures = [
        Figure(
            f"sync: {len(tokens)} laptops, cycle p95 ({where})",
            p95 * 1000,
            "ms",
            target=250,
            note=note,
        )
    ]
    if think < 5.0:  # the stress phases: does the endpoint keep up with what is offered?
        figures.append(
            Figure(
                f"sync: {len(tokens)} laptops, cycles/s achieved ({where})",
                done / WINDOW,
                "cycles/s",
                target=100,
                higher_is_better=True,
                note=f"offered {w.offered / WINDOW:.0f}/s; see the p95 row",
            )
        )
    return figures


def run() -> list[Figure]:
    figures = _initial_and_incremental()
    figures.append(_serial_sqlite())
    for f in figures:
        print(f"{f.name}: {f.value:.4g} {f.unit} ({f.note})", flush=True)
    return figures + _concurrent_postgres()
