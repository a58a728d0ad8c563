"""What an operator of the endpoint relies on: liveness and readiness routes, Prometheus metrics
that count what laptops did (also across worker processes), and logs that are one JSON object
a line with no patient data in them."""

from __future__ import annotations

import json
import re
import uuid

import httpx
from sqlalchemy import select, text

from int_desk.server import db
from int_desk.store import models as m
from int_desk.store.workspace import Workspace
from tests.helpers.sync_env import Endpoint, start_endpoint, sync, wait_for


def _metric(body: str, name: str, **labels: str) -> float:
    """The sum of a metric's samples whose labels include ``labels``."""
    total = 0.0
    for line in body.splitlines():
        if not line.startswith(name):
            continue
        match = re.match(rf"{re.escape(name)}(\{{[^}}]*\}})? ([0-9.e+-]+)$", line)
        if not match:
            continue
        have = dict(re.findall(r'(\w+)="([^"]*)"', match.group(1) or ""))
        if all(have.get(k) == v for k, v in labels.items()):
            total += float(match.group(2))
    return total


def _edit_phone(ws: Workspace, pid: uuid.UUID, phone: str) -> None:
    with ws.session() as s:
        s.get(m.Patient, pid).phone = phone


def test_health_readiness_and_metrics_count_what_laptops_did(
    endpoint: Endpoint, laptops, demo_ws: Workspace
) -> None:
    assert httpx.get(f"{endpoint.url}/v1/health").json()["status"] == "ok"
    ready = httpx.get(f"{endpoint.url}/v1/ready")
    assert ready.status_code == 200 and ready.json()["status"] == "ready"
    a, b = laptops(endpoint, "a"), laptops(endpoint, "b")
    sync(a), sync(b)
    with a.session() as s:
        pid = s.scalars(select(m.Patient.id).order_by(m.Patient.id)).first()
    _edit_phone(a, pid, "01632 960001")
    _edit_phone(b, pid, "01632 960002")
    sync(a)
    assert sync(b).conflicts == 1  # the same field changed on both sides
    with endpoint.http("c") as c:  # Reading West's user pushes to a Bicester patient: refused
        reply = c.post(
            "/v1/push",
            json={"batch_id": str(uuid.uuid4()), "ops": [{
                "op_id": str(uuid.uuid4()), "entity": "patient", "id": str(pid),
                "kind": "update", "base_version": 1, "fields": {"phone": "01632 960003"},
            }]},
        )  # fmt: skip
        assert reply.json()["results"][0]["status"] == "rejected"
    body = httpx.get(f"{endpoint.url}/metrics").text
    # (once the endpoint has advertised it, a laptop's cycle is one request: /v1/cycle)
    pushes, pulls = (
        sum(_metric(body, name, route=route, **labels) for route in (path, "/v1/cycle"))
        for path, name, labels in (
            ("/v1/push", "int_desk_request_seconds_count", {"status": "200"}),
            ("/v1/pull", "int_desk_request_seconds_bucket", {"le": "+Inf"}),
        )
    )
    assert pushes >= 3 and pulls >= 4
    assert _metric(body, "int_desk_request_seconds_count", route="/v1/cycle") >= 2
    assert _metric(body, "int_desk_sync_cycles_total") >= 4
    assert _metric(body, "int_desk_pushed_ops_total", status="applied") >= 1
    assert _metric(body, "int_desk_conflicts_total") == 1
    assert _metric(body, "int_desk_rejected_ops_total", reason="forbidden") == 1
    # Nothing identifying in the metrics: routes are templates, never URLs with values.
    with demo_ws.session() as s:
        patient = s.get(m.Patient, pid)
        assert patient.nhs_number not in body and patient.family_name not in body


def test_not_ready_while_the_database_has_another_schema_or_is_gone(
    endpoint: Endpoint,
) -> None:
    engine = db.make_engine(endpoint.db_url, pool_size=1)
    try:
        with engine.begin() as conn:
            head = db.current_revision(conn)
            conn.execute(
                text("UPDATE srv_alembic_version SET version_num = 's0001_server_initial'")
            )
        answer = httpx.get(f"{endpoint.url}/v1/ready")
        assert answer.status_code == 503
        assert answer.json()["detail"] == "the database's schema is not this server's"
        assert httpx.get(f"{endpoint.url}/v1/health").status_code == 200  # alive, not ready
        with engine.begin() as conn:
            conn.execute(text("UPDATE srv_alembic_version SET version_num = :v"), {"v": head})
        assert httpx.get(f"{endpoint.url}/v1/ready").status_code == 200
    finally:
        engine.dispose()


def test_metrics_count_every_worker_process(pg_cluster, tmp_path) -> None:
    from int_desk.server import admin

    url = pg_cluster.new_database()
    engine, factory = db.open_db(url, pool_size=1)
    with factory.begin() as s:
        team = admin.add_team(s, "Metrics INT")
        admin.add_integration(s, "feed", [str(team.id)], "read")
        token = admin.issue_token(s, "feed")[1]
    engine.dispose()
    ep = start_endpoint(url, faults=False, workers=2)
    try:
        headers = {"Authorization": f"Bearer {token}", "X-IntDesk-Protocol": "1"}
        for _ in range(12):  # a connection each: the kernel spreads them over both workers
            assert httpx.get(f"{ep.url}/v1/verify", headers=headers).status_code == 200

        def counted() -> float:
            body = httpx.get(f"{ep.url}/metrics").text
            return _metric(body, "int_desk_request_seconds_count", route="/v1/verify")

        # Whichever worker answers, it reports all twelve.
        assert all(wait_for(lambda: counted() == 12, 10, "all verifies counted") for _ in range(4))
    finally:
        ep.stop()


def test_logs_are_json_lines_without_patient_data(
    endpoint: Endpoint, laptops, demo_ws: Workspace
) -> None:
    a = laptops(endpoint, "a")
    sync(a)
    with a.session() as s:
        pid = s.scalars(select(m.Patient.id).order_by(m.Patient.id)).first()
    _edit_phone(a, pid, "01632 960009")
    sync(a)
    httpx.get(f"{endpoint.url}/fhir/R4/Patient", params={"identifier": "9990000018"})

    def requests() -> list[dict]:
        log_text = endpoint.log_path.read_text()
        records = [json.loads(ln) for ln in log_text.splitlines() if ln.strip()]  # each is JSON
        return [r for r in records if r["msg"] == "request"]

    # A request's line is written once its answer has gone, so the last one may lag the reply.
    wait_for(lambda: any(r["route"] == "/fhir/R4/Patient" for r in requests()), 10, "FHIR line")
    fhir = [r for r in requests() if r["route"] == "/fhir/R4/Patient"]
    assert fhir[0]["status"] == 401 and fhir[0]["device"] is None  # no token: refused, logged
    pushes = [r for r in requests() if r["route"] in ("/v1/push", "/v1/cycle")]
    assert pushes and all(r["status"] == 200 and r["device"] and r["ms"] >= 0 for r in pushes)
    log_text = endpoint.log_path.read_text()
    assert "9990000018" not in log_text  # a FHIR search's query string is never logged
    with demo_ws.session() as s:
        for p in s.scalars(select(m.Patient)):
            assert p.nhs_number not in log_text
            assert f'"{p.family_name}' not in log_text and f" {p.family_name}" not in log_text
