"""A new laptop's first download of a 10,000-patient team (about 150,000 rows) from a real
endpoint (uvicorn subprocess, SQLite, loopback): rows applied per second, end to end as the app
does it (``SyncEngine.run``), with the CPU time each side spent and the machine's load.

Then the same download taken apart, one step at a time, in CPU time (``time.thread_time`` for
the laptop's steps, /proc for the endpoint's), to show where a first download's time goes:

    serve     the endpoint answering every page (its process's CPU)
    transfer  the laptop receiving the pages' bytes (httpx)
    decode    the pages' JSON into Python (orjson, as the client does)
    prepare   rows -> the statements' parameters (sync.incoming, no database); pages in the
              column form the client asks for (names once an entity, rows as arrays)
    insert    the rows written (INSERT OR IGNORE), secondary indexes set aside
    commit    one commit per page (SQLCipher encrypts each page it writes)
    indexes   the secondary indexes built once at the end

    .venv/bin/python -m tests.benchmarks pull

On two cores the endpoint serves the next page while the laptop applies this one, so the wall
time is about the laptop's share plus what does not overlap. Under load the wall figure swings
with what else runs; the CPU figures are what each step costs.
"""

from __future__ import annotations

import gc
import os
import resource
import shutil
import time
from collections import Counter
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import httpx
import orjson

from tests.benchmarks.bench_sync import TEAM_PATIENTS, _cpu_seconds, _seed
from tests.benchmarks.harness import PASSPHRASE, Figure, scratch_dir

TARGET = 60_000  # rows/s (issue #20)


def _own_cpu() -> float:
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime


def _load() -> str:
    return f"load {os.getloadavg()[0]:.1f}" if hasattr(os, "getloadavg") else "load ?"


@contextmanager
def _timed(spent: Counter[str], step: str) -> Iterator[None]:
    start = time.thread_time()
    try:
        yield
    finally:
        spent[step] += time.thread_time() - start


def _end_to_end(ep: Any, token: str, work: Path) -> tuple[Figure, int]:
    from int_desk.store.workspace import Workspace
    from int_desk.sync import credentials
    from int_desk.sync.client import SyncEngine

    ws = Workspace.create(work / "laptop", PASSPHRASE, use_keyring=False)
    try:
        credentials.connect(ws, ep.url, token)
        served, own = _cpu_seconds([ep.proc.pid]), _own_cpu()
        start = time.perf_counter()
        result = SyncEngine(ws, ep.url, token, verify=False).run()
        took = time.perf_counter() - start
        own, after = _own_cpu() - own, _cpu_seconds([ep.proc.pid])
        assert result.ok, result.error
    finally:
        ws.close()
    endpoint = f"endpoint CPU {after - served:.2f} s" if served and after else "endpoint CPU ?"
    return Figure(
        f"sync: initial pull, {TEAM_PATIENTS:,}-patient team",
        result.pulled / took,
        "rows/s",
        target=TARGET,
        higher_is_better=True,
        note=f"{result.pulled:,} rows in {took:.2f} s; laptop CPU {own:.2f} s, {endpoint}; "
        f"{_load()} (SQLite endpoint, loopback)",
    ), result.pulled


def _pages(ep: Any, token: str, spent: Counter[str]) -> list[bytes]:
    """Every page of a full download, as bytes (what the client receives)."""
    from int_desk.wire import protocol as P

    pages: list[bytes] = []
    after = ""
    headers = {"Authorization": f"Bearer {token}", P.PROTOCOL_HEADER: str(P.PROTOCOL_VERSION)}
    served = _cpu_seconds([ep.proc.pid])
    with httpx.Client(base_url=ep.url, headers=headers, timeout=120) as http:
        while True:
            body = {"full": True, "limit": P.MAX_PULL_PAGE, "form": "columns"}
            if after:
                body["after"] = after
            with _timed(spent, "transfer"):
                raw = http.post("/v1/pull", json=body).content
            pages.append(raw)
            tail = orjson.loads(raw)
            after = tail.get("after") or ""
            if not tail.get("has_more"):
                break
    done = _cpu_seconds([ep.proc.pid])
    if served is not None and done is not None:
        spent["serve"] = done - served
    return pages


def _apply(pages: list[bytes], work: Path, spent: Counter[str]) -> None:
    """The client's steps over the received pages into a new laptop, each timed apart."""
    from int_desk.store.workspace import Workspace
    from int_desk.sync import incoming, local

    ws = Workspace.create(work / "apart", PASSPHRASE, use_keyring=False)
    real = incoming._upsert_batch

    def insert(s: Any, entity: str, batch: list[tuple[Any, ...]]) -> None:
        spent["prepare"] += time.thread_time()  # (inside apply_rows, not preparation)
        with _timed(spent, "insert"):
            real(s, entity, batch)
        spent["prepare"] -= time.thread_time()

    incoming._upsert_batch = insert  # type: ignore[assignment]
    gc.disable()  # as during the client's download
    try:
        with local.apply_session(ws) as s:
            local.defer_indexes(s)
            local.begin_redownload(s)
        for raw in pages:
            with _timed(spent, "decode"):
                page = orjson.loads(raw)
            with local.apply_session(ws) as s:
                with _timed(spent, "prepare"):
                    rows = incoming.prepare_page(page)
                    incoming.apply_rows(s, rows, local.pending_keys(s), [])
                local.set_state(s, local.FULL_AFTER, page.get("after") or "")
                spent["commit"] -= time.thread_time()  # the commit: leaving the session
            spent["commit"] += time.thread_time()
        with local.apply_session(ws) as s, _timed(spent, "indexes"):
            local.finish_redownload(s)
            local.restore_indexes(s)
    finally:
        gc.enable()
        incoming._upsert_batch = real  # type: ignore[assignment]
        ws.close()


def run() -> list[Figure]:
    from tests.benchmarks.harness import demo_workspace
    from tests.helpers.sync_env import start_endpoint

    src = demo_workspace(TEAM_PATIENTS * 3)  # the demo spreads patients over three teams
    work = scratch_dir("pull")
    db_url = f"sqlite:///{work / 'srv.db'}"
    token = next(iter(_seed(db_url, src, "Bicester INT").values()))
    ep = start_endpoint(db_url, faults=False)
    try:
        figure, rows = _end_to_end(ep, token, work)
        print(f"{figure.name}: {figure.value:,.0f} rows/s ({figure.note})", flush=True)
        spent: Counter[str] = Counter()
        pages = _pages(ep, token, spent)
        _apply(pages, work, spent)
    finally:
        ep.stop()
        shutil.rmtree(work, ignore_errors=True)
    steps = ("serve", "transfer", "decode", "prepare", "insert", "commit", "indexes")
    split = ", ".join(f"{k} {spent[k]:.2f}" for k in steps)
    laptop = sum(spent[k] for k in steps if k != "serve")
    print(
        f"  taken apart, CPU seconds for {rows:,} rows ({len(pages)} pages, "
        f"{sum(map(len, pages)) / 1e6:.0f} MB): {split}; laptop {laptop:.2f} "
        f"= {laptop / rows * 1e6:.1f} us/row; {_load()}",
        flush=True,
    )
    return [figure]
