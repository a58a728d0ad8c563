"""An integrated care system in simulation: 40 teams x 50 laptops against one endpoint holding
1,000,000 people on PostgreSQL, at the app's cadence, for 10 minutes.

    .venv/bin/python -m tests.benchmarks ics

Every laptop syncs about once a minute (the app's idle cadence is 5 minutes; a minute is the
busy end) and, after an edit, again every ~5 s for a while (the debounce after an edit): a
cycle is push (only when it has edits, as the app's), pull after its cursor, verify counts, on
a new connection each time. The people are seeded set-based (one INSERT ... SELECT FROM
generate_series), never through the API. Reported: cycle p95 (idle and editing cycles), errors
(must be 0), lost edits (must be 0), the endpoint's CPU per cycle, its peak memory, PostgreSQL's
size, the load average.

Simulated laptops speak the wire protocol over the lean asyncio HTTP client of the sync
benchmark (``bench_sync._Http``), all in one process: 2,000 real ``SyncEngine`` laptops would
each need their own SQLCipher file and thread, and the two shared cores would be spent on the
laptops rather than the endpoint. Each laptop starts synced (its cursor from a one-row first
page of a full download) instead of downloading its team's 25,000 people.

"Lost 0": each laptop edits only its own people, so the last edit it had acknowledged for a
person must be what the endpoint holds, every acknowledged op id must be in the endpoint's
applied ops exactly once, and no version may repeat within a team.

Bounded and loopback only: endpoints on 127.0.0.1, the run stops starting cycles after
``INT_DESK_ICS_SECONDS`` and waits at most a minute for those under way; at most
``MAX_CYCLES`` cycles in all. Knobs (environment): INT_DESK_ICS_TEAMS (40), INT_DESK_ICS_LAPTOPS
(per team, 50), INT_DESK_ICS_PEOPLE (1,000,000), INT_DESK_ICS_SECONDS (600),
INT_DESK_ICS_CADENCE (seconds between a laptop's cycles, 60), INT_DESK_ICS_ENDPOINTS (1).
"""

from __future__ import annotations

import asyncio
import hashlib
import os
import random
import time
import uuid
from pathlib import Path
from typing import Any

from tests.benchmarks.harness import Figure, median_p95

TEAMS = int(os.environ.get("INT_DESK_ICS_TEAMS", "40"))
LAPTOPS = int(os.environ.get("INT_DESK_ICS_LAPTOPS", "50"))
PEOPLE = int(os.environ.get("INT_DESK_ICS_PEOPLE", "1000000"))
SECONDS = float(os.environ.get("INT_DESK_ICS_SECONDS", "600"))
CADENCE = float(os.environ.get("INT_DESK_ICS_CADENCE", "60"))
ENDPOINTS = int(os.environ.get("INT_DESK_ICS_ENDPOINTS", "1"))
EDITING = 0.2  # share of a laptop's cycles that follow an edit
BURST = 3  # cycles ~5 s apart after an edit (the app's debounce), each with a further edit
BURST_GAP = 5.0
MAX_CYCLES = 200_000
TARGET_P95_MS = 250


def _team_id(t: int) -> uuid.UUID:
    return uuid.UUID(hashlib.md5(f"int-desk-ics-team-{t}".encode()).hexdigest())


def _patient_id(n: int) -> uuid.UUID:
    """The n-th person's id, as the seeding SQL makes it (``md5(...)::uuid``)."""
    return uuid.UUID(hashlib.md5(f"int-desk-ics-patient-{n}".encode()).hexdigest())


# Patients by team: n % TEAMS; the team's k-th patient (n // TEAMS) has version base + k + 1.
# NHS numbers 999 nnn nnn c (the test range) with their check digit; a base whose check digit
# would be 10 has no valid number, and that person has none (awaiting a trace).
_SEED_PEOPLE = """
INSERT INTO srv_record (entity, id, scope, patient_id, version, deleted, data, field_meta,
                        updated_at, nhs_number)
SELECT 'patient', p.id, p.scope, p.id, p.version, false,
       jsonb_build_object(
           'nhs_number', p.nhs, 'given_name', 'Test', 'family_name', 'Person ' || p.n,
           'date_of_birth', (date '1925-01-01' + (p.n % 30000))::text,
           'sex', CASE WHEN p.n % 2 = 0 THEN 'female' ELSE 'male' END,
           'postcode', 'ZZ99 3VZ', 'communication_needs', '', 'carer_needs', '',
           'long_term_conditions', '', 'created_at', CAST(:at AS text),
           'updated_at', CAST(:at AS text), 'deleted', false
       )::text,
       '{}', CAST(:at AS text), p.nhs
FROM (
    SELECT n, md5('int-desk-ics-patient-' || n)::uuid AS id, teams[n % :teams + 1] AS scope,
           bases[n % :teams + 1] + n / :teams + 1 AS version,
           CASE WHEN c = 11 THEN b || '0' WHEN c = 10 THEN NULL ELSE b || c::text END AS nhs
    FROM (
        SELECT n, b, 11 - (
            SELECT sum(substr(b, i, 1)::int * (11 - i)) FROM generate_series(1, 9) AS i
        ) % 11 AS c
        FROM (
            SELECT n, '999' || lpad((n % 1000000)::text, 6, '0') AS b
            FROM generate_series(0, :people - 1) AS n
        ) AS numbered
    ) AS checked,
    (SELECT CAST(:team_ids AS text[]) AS teams, CAST(:bases AS bigint[]) AS bases) AS given
) AS p
"""
_SEED_SEQ = """
UPDATE srv_scope_seq AS s SET last_seq = m.top
FROM (SELECT scope, max(version) AS top FROM srv_record WHERE entity = 'patient'
      AND scope = ANY(CAST(:team_ids AS text[])) GROUP BY scope) AS m
WHERE s.scope = m.scope
"""
_SEED_DIGESTS = """
INSERT INTO srv_scope_digest (scope, entity, count, xor)
SELECT scope, 'patient', count(*),
       lpad(to_hex(bit_xor(('x' || substr(replace(id::text, '-', ''), 17, 16))::bit(64)::bigint)),
            16, '0')
FROM srv_record WHERE entity = 'patient' AND scope = ANY(CAST(:team_ids AS text[]))
GROUP BY scope
"""


def _seed(db_url: str) -> tuple[dict[int, list[str]], dict[int, int]]:
    """Teams, people (set-based) and a login and token per laptop: tokens by team, and each
    team's version before its people (its k-th person's version is that + k + 1)."""
    from sqlalchemy import select, text

    from int_desk.server import admin, db, directory
    from int_desk.server.models import ScopeSeq, utcnow_text

    engine, factory = db.open_db(db_url, pool_size=1)
    tokens: dict[int, list[str]] = {}
    try:
        with factory.begin() as s:
            place = directory.place_named(s, "ICS simulation", directory.CLI)
            for t in range(TEAMS):
                fields = {"name": f"ICS team {t:02d}", "place_id": str(place)}
                directory.save(s, "team", _team_id(t), fields, base_version=None, by=directory.CLI)
        team_ids = [str(_team_id(t)) for t in range(TEAMS)]
        with factory.begin() as s:
            rows = s.execute(
                select(ScopeSeq.scope, ScopeSeq.last_seq).where(ScopeSeq.scope.in_(team_ids))
            )
            bases = {scope: int(last) for scope, last in rows}
        params = {
            "at": utcnow_text(), "teams": TEAMS, "people": PEOPLE, "team_ids": team_ids,
            "bases": [int(bases.get(t, 0)) for t in team_ids],
        }  # fmt: skip
        with engine.begin() as conn:
            conn.execute(text(_SEED_PEOPLE), params)
            conn.execute(text(_SEED_SEQ), {"team_ids": team_ids})
            conn.execute(text(_SEED_DIGESTS), {"team_ids": team_ids})
        with engine.connect() as conn:
            conn.execution_options(isolation_level="AUTOCOMMIT").exec_driver_sql(
                "VACUUM ANALYZE srv_record"
            )
        with factory.begin() as s:
            for t in range(TEAMS):
                for k in range(LAPTOPS):
                    user = f"ics-{t:02d}-{k:02d}"
                    admin.add_integration(s, user, [team_ids[t]], "clinical_system")
                    tokens.setdefault(t, []).append(admin.issue_token(s, user)[1])
    finally:
        engine.dispose()
    return tokens, {t: int(bases.get(team_ids[t], 0)) for t in range(TEAMS)}


class _Laptop:
    """One simulated laptop: its team, its own people (it alone edits them) and what it sent."""

    def __init__(self, team: int, k: int, token: str, url: str) -> None:
        self.team, self.token, self.url = team, token, url
        per_team = PEOPLE // TEAMS
        # Its share of the team's people: the team's k-th, (k + LAPTOPS)-th, ... patients.
        self.people = [(j * TEAMS + team) for j in range(k, per_team, LAPTOPS)][:200]
        self.versions: dict[str, int] = {}
        self.cursor = ""
        self.pending: list[dict[str, Any]] = []  # ops not yet acknowledged (sent again)
        self.last_value: dict[str, str] = {}  # patient -> the last value acknowledged
        self.acked: list[str] = []  # op ids acknowledged applied
        self.rng = random.Random(token)

    def version_of(self, n: int, base: int) -> int:
        return self.versions.get(str(_patient_id(n)), base + n // TEAMS + 1)


async def _cycle(lap: _Laptop, edits: int, bases: dict[int, int], Http: Any) -> str:
    """One sync cycle as the app runs it; '' or what went wrong."""
    for _ in range(edits):
        n = lap.rng.choice(lap.people)
        pid = str(_patient_id(n))
        lap.pending = [op for op in lap.pending if op["id"] != pid]  # (one op per row)
        lap.pending.append(
            {
                "op_id": str(uuid.uuid4()), "entity": "patient", "id": pid, "kind": "update",
                "base_version": lap.version_of(n, bases[lap.team]),
                "fields": {"carer_needs": f"needs {uuid.uuid4().hex[:12]}"},
            }
        )  # fmt: skip
    async with Http(lap.url, lap.token) as c:  # a new connection per cycle, as the app
        if lap.pending:
            ops = list(lap.pending)
            status, reply = await c.request(
                "POST", "/v1/push", {"batch_id": str(uuid.uuid4()), "ops": ops}
            )
            if status != 200:
                return f"push {status}"
            for op, res in zip(ops, reply["results"], strict=True):
                if res["status"] != "applied":
                    return f"push op {res['status']}"
                lap.acked.append(op["op_id"])
                lap.last_value[op["id"]] = op["fields"]["carer_needs"]
                lap.versions[op["id"]] = res["row"]["v"]
            lap.pending = []
        while True:
            status, page = await c.request("POST", "/v1/pull", {"cursor": lap.cursor})
            if status != 200:
                return f"pull {status}"
            for row in page["changes"]:  # what the laptop holds now (others edit other people)
                if row["e"] == "patient":
                    lap.versions[row["id"]] = row["v"]
            lap.cursor = page["cursor"]
            if not page["has_more"]:
                break
        status, _counts = await c.request("GET", "/v1/verify")
        if status != 200:
            return f"verify {status}"
    return ""


async def _run(laptops: list[_Laptop], bases: dict[int, int], mark: Any) -> dict[str, Any]:
    """Every laptop's life for ``SECONDS``; ``mark()`` (the CPU counters) is read once all
    have their cursors and again at the end."""
    from tests.benchmarks.bench_sync import _Http

    idle: list[float] = []
    editing: list[float] = []
    errors: list[str] = []
    started = [0]
    gate = asyncio.Semaphore(20)

    async def first(lap: _Laptop) -> None:  # its cursor: the snapshot of a one-row first page
        async with gate, _Http(lap.url, lap.token) as c:
            status, page = await c.request("POST", "/v1/pull", {"full": True, "limit": 1})
            if status != 200:
                raise AssertionError(f"first page: {status}")
            lap.cursor = page["cursor"]

    await asyncio.gather(*(first(lap) for lap in laptops))
    marks = [mark()]
    t0 = time.perf_counter()
    stop_at = t0 + SECONDS

    async def nap(seconds: float) -> None:
        await asyncio.sleep(max(0.0, min(seconds, stop_at - time.perf_counter())))

    async def life(lap: _Laptop) -> None:
        await nap(lap.rng.uniform(0, CADENCE))  # laptops start through the first minute
        while time.perf_counter() < stop_at and started[0] < MAX_CYCLES:
            plan = [1] + [1] * BURST if lap.rng.random() < EDITING else [0]
            for i, edits in enumerate(plan):
                if time.perf_counter() >= stop_at or started[0] >= MAX_CYCLES:
                    return
                if i:
                    await nap(lap.rng.uniform(0.5, 1.5) * BURST_GAP)
                started[0] += 1
                begun = time.perf_counter()
                try:
                    problem = await asyncio.wait_for(_cycle(lap, edits, bases, _Http), 120)
                except (OSError, asyncio.IncompleteReadError, ValueError, TimeoutError) as exc:
                    problem = type(exc).__name__
                if problem:
                    errors.append(problem)
                else:
                    (editing if edits else idle).append(time.perf_counter() - begun)
            await nap(lap.rng.uniform(0.5, 1.5) * CADENCE)

    await asyncio.gather(*(life(lap) for lap in laptops))
    marks.append(mark())
    return {
        "idle": idle, "editing": editing, "errors": errors,
        "seconds": time.perf_counter() - t0, "marks": marks,
    }  # fmt: skip


def _lost(db_url: str, laptops: list[_Laptop]) -> tuple[int, int, int]:
    """(acknowledged ops missing or not once among the applied ops, people whose stored value is
    not the last acknowledged, versions repeated within a team)."""
    import json

    from sqlalchemy import create_engine, text

    from int_desk.server.db import normalise_url

    engine = create_engine(normalise_url(db_url))
    try:
        with engine.connect() as conn:
            acked = [op for lap in laptops for op in lap.acked]
            found = 0
            for i in range(0, len(acked), 5000):
                chunk = acked[i : i + 5000]
                found += conn.execute(
                    text(
                        "SELECT count(*) FROM srv_applied_op WHERE op_id = ANY(CAST(:ids AS uuid[]))"
                    ),
                    {"ids": chunk},
                ).scalar_one()
            last = {pid: value for lap in laptops for pid, value in lap.last_value.items()}
            wrong = 0
            ids = list(last)
            for i in range(0, len(ids), 5000):
                chunk = ids[i : i + 5000]
                for rid, data in conn.execute(
                    text("SELECT id::text, data FROM srv_record WHERE entity = 'patient' "
                         "AND id = ANY(CAST(:ids AS uuid[]))"),
                    {"ids": chunk},
                ):  # fmt: skip
                    if json.loads(data).get("carer_needs") != last[rid]:
                        wrong += 1
            repeated = conn.execute(
                text("SELECT count(*) FROM (SELECT scope, version FROM srv_record "
                     "GROUP BY scope, version HAVING count(*) > 1) AS twice")
            ).scalar_one()  # fmt: skip
    finally:
        engine.dispose()
    return len(acked) - found, wrong, repeated


def _database_size(db_url: str) -> int:
    from sqlalchemy import create_engine, text

    from int_desk.server.db import normalise_url

    engine = create_engine(normalise_url(db_url))
    try:
        with engine.connect() as conn:
            return int(
                conn.execute(text("SELECT pg_database_size(current_database())")).scalar_one()
            )
    finally:
        engine.dispose()


def _peak_rss_mb(pid: int) -> float:
    """The process's peak resident memory (Linux /proc; 0 elsewhere)."""
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) / 1024
    except OSError:
        pass
    return 0.0


def run() -> list[Figure]:
    from tests.benchmarks.bench_sync import _cpu_seconds, _pg_cpu
    from tests.helpers.sync_env import PgCluster, pg_available, start_endpoint

    name = f"ics: {TEAMS} teams x {LAPTOPS} laptops, {PEOPLE:,} people, {SECONDS:.0f} s"
    if not pg_available():
        return [Figure(name, 0, "ms", note="PostgreSQL not installed")]
    cluster = PgCluster()
    cluster.start()
    hosts = []
    try:
        db_url = cluster.new_database()
        load_before = os.getloadavg()[0]
        t = time.perf_counter()
        tokens, bases = _seed(db_url)
        seeded = time.perf_counter() - t
        print(
            f"ics: seeded {PEOPLE:,} people, {TEAMS * LAPTOPS:,} logins in {seeded:.0f} s",
            flush=True,
        )
        hosts = [start_endpoint(db_url, faults=False) for _ in range(ENDPOINTS)]
        laptops = [
            _Laptop(t, k, tokens[t][k], hosts[(t * LAPTOPS + k) % len(hosts)].url)
            for t in range(TEAMS)
            for k in range(LAPTOPS)
        ]
        pids = [h.proc.pid for h in hosts]
        postmaster = cluster.postmaster_pid()

        def mark() -> tuple[float, float, float]:
            return _cpu_seconds(pids) or 0.0, _pg_cpu(postmaster), os.getloadavg()[0]

        out = asyncio.run(_run(laptops, bases, mark))
        (cpu0, pg0, load0), (cpu1, pg1, load1) = out["marks"]
        missing, wrong, repeated = _lost(db_url, laptops)
        size = _database_size(db_url)
        memory = max(_peak_rss_mb(p) for p in pids)
    finally:
        for h in hosts:
            h.stop()
        cluster.stop()
    cycles = len(out["idle"]) + len(out["editing"])
    every = out["idle"] + out["editing"]
    median, p95 = median_p95(every) if every else (0.0, 0.0)
    _m, p95_edit = median_p95(out["editing"]) if out["editing"] else (0.0, 0.0)
    per_cycle = (cpu1 - cpu0) * 1000 / cycles if cycles else 0.0
    acked = sum(len(lap.acked) for lap in laptops)
    lost = missing + wrong + repeated
    note = (
        f"median {median * 1000:.0f} ms, editing cycles p95 {p95_edit * 1000:.0f} ms; "
        f"{cycles:,} cycles ({len(out['editing']):,} with edits) in {out['seconds']:.0f} s = "
        f"{cycles / out['seconds']:.1f}/s; errors {len(out['errors'])}"
        f"{' ' + str(sorted(set(out['errors']))[:3]) if out['errors'] else ''}; {acked:,} edits "
        f"acknowledged, lost {lost} "
        f"(ops missing {missing}, values not the last {wrong}, versions repeated {repeated}); "
        f"endpoint CPU {per_cycle:.1f} ms/cycle, PostgreSQL {(pg1 - pg0) * 1000 / max(cycles, 1):.1f}"
        f" ms/cycle; endpoint peak memory {memory:.0f} MB ({len(hosts)} process(es)); "
        f"PostgreSQL {size / 2**20:,.0f} MB; seeded in {seeded:.0f} s; load {load_before:.1f} "
        f"before seeding, {load0:.1f} -> {load1:.1f} during"
    )
    print(f"{name}: p95 {p95 * 1000:.0f} ms ({note})", flush=True)
    return [Figure(name + ", cycle p95", p95 * 1000, "ms", target=TARGET_P95_MS, note=note)]
