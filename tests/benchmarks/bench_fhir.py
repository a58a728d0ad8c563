"""FHIR R4: bulk export and the endpoint's read API.

1. Export of 10,000+ care plans as Bulk Data NDJSON (``export_group`` for one team, every
   resource of each person, audit entries included): seconds. The demo's cohorts are moved into
   one team so one export holds them all.
2. Endpoint FHIR reads on SQLite (uvicorn subprocess, keep-alive client): p95 and median of a mix
   of Patient search by NHS number, CarePlan search with _include of goals and care team, and
   CarePlan read, over a 2,000-patient seeded endpoint.
"""

from __future__ import annotations

import random
import shutil
import time

import httpx
from sqlalchemy import func, select, update

from tests.benchmarks.harness import PASSPHRASE, Figure, demo_workspace, median_p95, scratch_dir

EXPORT_PATIENTS = 18_000  # about 10,000 people with a signed-off, shareable plan
TARGET_PLANS = 10_000
API_PATIENTS = 2_000
REQUESTS = 300
NHS = "https://fhir.nhs.uk/Id/nhs-number"


def _export() -> Figure:
    from int_desk.services import fhir_export
    from int_desk.services.identity import current_actor
    from int_desk.store import models as m
    from int_desk.store.workspace import Workspace

    source = demo_workspace(EXPORT_PATIENTS)
    directory = scratch_dir("fhir-export") / "ws"
    shutil.copytree(source, directory)
    with Workspace.open(directory, PASSPHRASE, use_keyring=False) as ws:
        with ws.session() as s:
            team = next(iter(current_actor(s).team_ids))
            s.execute(
                update(m.Cohort).values(
                    name=m.Cohort.name + " " + func.substr(func.hex(m.Cohort.team_id), 1, 6),
                    team_id=team,
                )
            )
        out = scratch_dir("fhir-ndjson")
        with ws.session() as s:
            actor = current_actor(s)
            start = time.perf_counter()
            result = fhir_export.export_group(session=s, actor=actor, team_id=team, out_dir=out)
        seconds = time.perf_counter() - start
    shutil.rmtree(directory.parent, ignore_errors=True)
    shutil.rmtree(out, ignore_errors=True)
    return Figure(
        f"FHIR export: {result.people:,} care plans as NDJSON (one team)",
        seconds,
        "s",
        target=20.0,
        note=(
            f"{sum(result.files.values()):,} resources; {result.skipped_no_consent:,} without "
            f"consent left out" + ("" if result.people >= TARGET_PLANS else "; FEWER than 10,000")
        ),
    )


def _api() -> list[Figure]:
    from int_desk.server import admin, db
    from int_desk.store import models as m
    from int_desk.store.workspace import Workspace
    from int_desk.sync.seed_source import WorkspaceRows
    from tests.helpers.sync_env import start_endpoint

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
    ep = start_endpoint(url, faults=False)
    rng = random.Random(1)
    samples: dict[str, list[float]] = {"Patient search": [], "CarePlan search + _include": [],
                                       "CarePlan read": []}  # fmt: skip
    try:
        with httpx.Client(
            base_url=f"{ep.url}/fhir/R4", headers={"Authorization": f"Bearer {token}"}, timeout=10
        ) as client:
            client.get("/metadata")
            for n in range(REQUESTS):
                nhs, plan_id = rng.choice(people)
                kind = list(samples)[n % 3]
                path = {
                    "Patient search": f"/Patient?identifier={NHS}|{nhs}",
                    "CarePlan search + _include": (
                        f"/CarePlan?subject:identifier={NHS}|{nhs}&status=active"
                        "&_include=CarePlan:goal&_include=CarePlan:care-team"
                    ),
                    "CarePlan read": f"/CarePlan/{plan_id}",
                }[kind]
                start = time.perf_counter()
                r = client.get(path)
                samples[kind].append(time.perf_counter() - start)
                assert r.status_code == 200, r.text[:200]
    finally:
        ep.stop()
        shutil.rmtree(db_path.parent, ignore_errors=True)
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
    return [_export(), *_api()]
