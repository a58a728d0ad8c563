"""FHIR R4: the endpoint's read API (``python -m tests.benchmarks fhir_api``).

1. Endpoint FHIR reads on SQLite (uvicorn subprocess, keep-alive client): p95 and median of a mix
   of Patient search by NHS number, CarePlan search with _include of goals and care team, and
   CarePlan read, over a 2,000-patient seeded endpoint.
2. The same mix's CPU time per request, the app called in-process (``httpx.ASGITransport``;
   ``time.process_time`` counts every thread): what a request costs, whatever else the machine
   is doing. Wall-clock figures on a shared machine rise with its load; these do not.
"""

from __future__ import annotations

import asyncio
import random
import shutil
import time

import httpx
from sqlalchemy import select

from tests.benchmarks.harness import PASSPHRASE, Figure, demo_workspace, median_p95, scratch_dir

API_PATIENTS = 2_000
REQUESTS = 300
NHS = "https://fhir.nhs.uk/Id/nhs-number"


def _api() -> list[Figure]:
    from int_desk.server import admin, db
    from int_desk.store import models as m
    from int_desk.store.workspace import Workspace
    from int_desk.sync.seed_source import WorkspaceRows

    db_path = scratch_dir("fhir-api") / "srv.db"
    url = f"sqlite:///{db_path}"
    engine, factory = db.open_db(url, pool_size=1)
    with Workspace.open(demo_workspace(API_PATIENTS), PASSPHRASE, use_keyring=False) as ws:
        with ws.session() as wss, factory.begin() as s:
            admin.seed_from_workspace(s, WorkspaceRows(wss))
            team, _team_name = wss.execute(select(m.Team.id, m.Team.name)).first()
            member = wss.scalar(  # a person's login is a team member (endpoint fails closed)
                select(m.TeamMembership.member_id)
                .join(m.Member, m.Member.id == m.TeamMembership.member_id)
                .where(m.TeamMembership.team_id == team, m.Member.role == "care_coordinator")
                .limit(1)
            )
            admin.add_user(s, "bench", [str(team)], member_id=member)
            token = admin.issue_token(s, "bench")[1]
            people = wss.execute(
                select(m.Patient.nhs_number, m.CarePlan.id)
                .join(m.CarePlan, m.CarePlan.patient_id == m.Patient.id)
                .join(m.CohortMembership, m.CohortMembership.patient_id == m.Patient.id)
                .join(m.Cohort, m.Cohort.id == m.CohortMembership.cohort_id)
                .where(m.Cohort.team_id == team, m.CarePlan.status == "active")
            ).all()
    engine.dispose()
    try:
        return _api_wall(url, token, people) + _api_cpu(url, token, people)
    finally:
        shutil.rmtree(db_path.parent, ignore_errors=True)


def _paths(people: list, seed: int) -> list[tuple[str, str]]:
    """(kind, path) of the request mix: the three kinds in turn, random people."""
    rng = random.Random(seed)
    kinds = ("Patient search", "CarePlan search + _include", "CarePlan read")
    out = []
    for n in range(REQUESTS):
        nhs, plan_id = rng.choice(people)
        kind = kinds[n % 3]
        out.append((kind, {
            "Patient search": f"/Patient?identifier={NHS}|{nhs}",
            "CarePlan search + _include": (
                f"/CarePlan?subject:identifier={NHS}|{nhs}&status=active"
                "&_include=CarePlan:goal&_include=CarePlan:care-team"
            ),
            "CarePlan read": f"/CarePlan/{plan_id}",
        }[kind]))  # fmt: skip
    return out


def _api_cpu(url: str, token: str, people: list) -> list[Figure]:
    import httpx

    from int_desk.server.app import create_app

    app = create_app(url)
    samples: dict[str, list[float]] = {}

    async def run() -> None:
        transport = httpx.ASGITransport(app=app, client=("127.0.0.1", 50000))
        async with httpx.AsyncClient(
            transport=transport, base_url="http://bench/fhir/R4",
            headers={"Authorization": f"Bearer {token}"},
        ) as client:  # fmt: skip
            await client.get("/metadata")
            for kind, path in _paths(people, 2):
                start = time.process_time()
                r = await client.get(path)
                samples.setdefault(kind, []).append(time.process_time() - start)
                assert r.status_code == 200, r.text[:200]

    asyncio.run(run())
    inner = app
    while not hasattr(inner, "state"):  # create_app wraps FastAPI in its ASGI layers
        inner = inner.app
    inner.state.engine.dispose()
    every = [x for xs in samples.values() for x in xs]
    median, p95 = median_p95(every)
    figures = [
        Figure("FHIR read CPU per request p95 (in-process)", p95 * 1000, "ms",
               note=f"median {median * 1000:.2f} ms over {len(every)} requests"),
    ]  # fmt: skip
    for kind, xs in samples.items():
        med, p = median_p95(xs)
        figures.append(
            Figure(f"  {kind} CPU p95", p * 1000, "ms", note=f"median {med * 1000:.2f} ms")
        )
    return figures


def _api_wall(url: str, token: str, people: list) -> list[Figure]:
    from tests.helpers.sync_env import start_endpoint

    ep = start_endpoint(url, faults=False)
    samples: dict[str, list[float]] = {"Patient search": [], "CarePlan search + _include": [],
                                       "CarePlan read": []}  # fmt: skip
    try:
        with httpx.Client(
            base_url=f"{ep.url}/fhir/R4", headers={"Authorization": f"Bearer {token}"}, timeout=10
        ) as client:
            client.get("/metadata")
            for kind, path in _paths(people, 1):
                start = time.perf_counter()
                r = client.get(path)
                samples[kind].append(time.perf_counter() - start)
                assert r.status_code == 200, r.text[:200]
    finally:
        ep.stop()
    every = [x for xs in samples.values() for x in xs]
    median, p95 = median_p95(every)
    figures = [
        Figure("FHIR read API p95 (SQLite, mixed reads)", p95 * 1000, "ms", target=50.0,
               note=f"median {median * 1000:.1f} ms over {len(every)} requests, {len(people)} plans"),
    ]  # fmt: skip
    for kind, xs in samples.items():
        med, p = median_p95(xs)
        figures.append(Figure(f"  {kind} p95", p * 1000, "ms", note=f"median {med * 1000:.1f} ms"))
    return figures


def run() -> list[Figure]:
    return _api()
