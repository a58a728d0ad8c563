"""Hostile input to every sync endpoint: schemathesis generates valid and invalid requests from
the server's own OpenAPI schema and sends them to a real endpoint (uvicorn on 127.0.0.1 over a
seeded store), with good, missing, forged and wrong-protocol credentials.

No request may get a 5xx, and a rejected request (4xx, or a push whose every op was rejected)
must change nothing on the server. 600 requests by default (INT_DESK_FUZZ_SCALE multiplies).
"""

from __future__ import annotations

import os
import uuid
from typing import Any

import httpx
import requests
import schemathesis
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from schemathesis import GenerationMode
from sqlalchemy import create_engine, func, select

from int_desk.server.models import AppliedOp, Record, ScopeSeq
from int_desk.wire.protocol import PROTOCOL_HEADER, PROTOCOL_VERSION
from tests.helpers.sync_env import Endpoint

SCALE = max(1, int(os.environ.get("INT_DESK_FUZZ_SCALE", "1")))
ADMIN_PREFIXES = ("/v1/admin/", "/v1/join")
BUDGET = {"/v1/push": 250, "/v1/pull": 180, "/v1/verify": 70, "/v1/whoami": 50, "/v1/health": 50,
          "/v1/cycle": 150}  # fmt: skip


def _fingerprint(engine: Any) -> tuple[int, ...]:
    with engine.connect() as conn:
        return (
            conn.scalar(select(func.count()).select_from(Record)),
            conn.scalar(select(func.coalesce(func.sum(ScopeSeq.last_seq), 0))),
            conn.scalar(select(func.count()).select_from(AppliedOp)),
        )


def test_fuzz_every_sync_endpoint_no_5xx_no_write_on_rejection(
    sqlite_endpoint: Endpoint,
) -> None:
    ep = sqlite_endpoint
    spec = httpx.get(f"{ep.url}/openapi.json", timeout=10).json()
    schema = schemathesis.openapi.from_dict(spec)
    operations = {
        op.ok().path: op.ok()
        for op in schema.get_all_operations()
        if not op.ok().path.startswith(ADMIN_PREFIXES)  # tests/test_fuzz_admin.py, as an admin
    }
    assert set(operations) == set(BUDGET), "a new endpoint needs a fuzz budget here"
    good = {"Authorization": f"Bearer {ep.tokens['a']}", PROTOCOL_HEADER: str(PROTOCOL_VERSION)}
    credentials = st.sampled_from(
        [
            good,
            good,
            good,
            {PROTOCOL_HEADER: str(PROTOCOL_VERSION)},
            {"Authorization": "Bearer forged-token", PROTOCOL_HEADER: str(PROTOCOL_VERSION)},
            {"Authorization": f"Bearer {ep.tokens['a']}", PROTOCOL_HEADER: "0"},
            {"Authorization": "Basic YTpi", PROTOCOL_HEADER: "x" * 300},
        ]
    )
    engine = create_engine(ep.db_url)
    http = requests.Session()
    statuses: dict[int, int] = {}
    sent = 0
    try:
        # Always sent, not left to the draws: a well-formed push naming an entity the endpoint
        # does not know is refused, not a 5xx, and changes nothing.
        before = _fingerprint(engine)
        op = {"op_id": str(uuid.uuid4()), "entity": "no_such_entity", "id": str(uuid.uuid4()),
              "kind": "insert", "fields": {}}  # fmt: skip
        reply = http.post(f"{ep.url}/v1/push", headers=good, timeout=10,
                          json={"batch_id": str(uuid.uuid4()), "ops": [op]})  # fmt: skip
        assert reply.status_code < 500, reply.text[:300]
        if reply.status_code == 200:
            assert [r["status"] for r in reply.json()["results"]] == ["rejected"], reply.text
        assert _fingerprint(engine) == before
        for path, operation in operations.items():
            cases = st.one_of(
                operation.as_strategy(GenerationMode.POSITIVE),
                operation.as_strategy(GenerationMode.NEGATIVE),
            )

            @settings(
                max_examples=BUDGET[path] * SCALE,
                deadline=None,
                derandomize=True,
                database=None,
                suppress_health_check=list(HealthCheck),
            )
            @given(case=cases, headers=credentials)
            def run(case: Any, headers: dict[str, str]) -> None:
                nonlocal sent
                path = case.operation.path
                before = _fingerprint(engine) if case.method.upper() == "POST" else None
                try:
                    response = case.call(base_url=ep.url, session=http, headers=headers, timeout=10)
                except (requests.exceptions.InvalidHeader, ValueError, UnicodeError):
                    return  # the client library refused to send it; nothing reached the server
                sent += 1
                code = response.status_code
                statuses[code] = statuses.get(code, 0) + 1
                assert code < 500, (path, code, response.text[:300])
                rejected = code >= 400
                if code == 200 and path == "/v1/push":
                    results = response.json().get("results", [])
                    rejected = all(r.get("status") == "rejected" for r in results)
                if code == 200 and path == "/v1/cycle":  # a page and counts store nothing
                    results = (response.json().get("push") or {}).get("results", [])
                    rejected = all(r.get("status") == "rejected" for r in results)
                if before is not None and rejected:
                    assert _fingerprint(engine) == before, f"rejected {path} changed the store"

            run()
    finally:
        http.close()
        engine.dispose()
    assert sent >= 0.9 * sum(BUDGET.values()) * SCALE
    assert statuses.get(200, 0) > 50 and sum(v for k, v in statuses.items() if k >= 400) > 150
    assert httpx.get(f"{ep.url}/v1/health", timeout=5).status_code == 200
