"""Hostile input to the routes for joining a team and for the Administration page, as
tests/test_fuzz_sync.py does for sync: schemathesis cases from the endpoint's own OpenAPI
schema, sent with an administrator's token, a team member's (403), forged and missing ones.

No request may get a 5xx; a refused request (4xx) changes no record, login, device or
invitation. 300 requests by default (INT_DESK_FUZZ_SCALE multiplies).
"""

from __future__ import annotations

import json
import os
from typing import Any

import httpx
import requests
import schemathesis
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from schemathesis import GenerationMode
from sqlalchemy import create_engine, func, select

from int_desk.server import admin
from int_desk.server.models import DeviceToken, Invitation, Record, ScopeSeq, ServerUser
from int_desk.wire.protocol import PROTOCOL_HEADER, PROTOCOL_VERSION
from tests.helpers.sync_env import Endpoint

SCALE = max(1, int(os.environ.get("INT_DESK_FUZZ_SCALE", "1")))
BUDGET = {
    "/v1/join": 50,
    "/v1/admin/access": 20,
    "/v1/admin/audit": 20,
    "/v1/admin/invitations": 50,
    "/v1/admin/invitations/{invitation_id}/cancel": 25,
    "/v1/admin/devices/{device_id}/revoke": 25,
    "/v1/admin/reference": 90,
    "/v1/admin/membership": 40,
}


def _fingerprint(engine: Any) -> tuple[Any, ...]:
    with engine.connect() as conn:
        return (
            conn.scalar(select(func.count()).select_from(Record)),
            conn.scalar(select(func.coalesce(func.sum(ScopeSeq.last_seq), 0))),
            conn.scalar(select(func.count()).select_from(ServerUser)),
            conn.scalar(select(func.count()).select_from(Invitation)),
            conn.scalar(select(func.count()).select_from(DeviceToken)),
            conn.scalar(select(func.count()).where(DeviceToken.revoked_at.is_not(None))),
        )


def _admin_token(ep: Endpoint) -> str:
    """A login for one of the demo team's administrators."""
    with ep.session() as s:
        members = s.scalars(select(Record).where(Record.entity == "member"))
        admin_member = next(r.id for r in members if json.loads(r.data)["role"] == "admin")
        admin.add_user(s, "fuzz-admin", list(ep.teams.values()), member_id=admin_member)
        return admin.issue_token(s, "fuzz-admin", "fuzz")[1]


def test_fuzz_join_and_admin_routes_no_5xx_no_write_on_refusal(sqlite_endpoint: Endpoint) -> None:
    ep = sqlite_endpoint
    spec = httpx.get(f"{ep.url}/openapi.json", timeout=10).json()
    schema = schemathesis.openapi.from_dict(spec)
    operations = {
        op.ok().path: op.ok()
        for op in schema.get_all_operations()
        if op.ok().path.startswith(("/v1/admin/", "/v1/join"))
    }
    assert set(operations) == set(BUDGET), "a new route needs a fuzz budget here"
    protocol = {PROTOCOL_HEADER: str(PROTOCOL_VERSION)}
    boss = {"Authorization": f"Bearer {_admin_token(ep)}", **protocol}
    credentials = st.sampled_from(
        [
            boss,
            boss,
            boss,
            {"Authorization": f"Bearer {ep.tokens['a']}", **protocol},  # a coordinator: 403
            protocol,
            {"Authorization": "Bearer forged-token", **protocol},
            {**boss, PROTOCOL_HEADER: "0"},
        ]
    )
    engine = create_engine(ep.db_url)
    http = requests.Session()
    statuses: dict[int, int] = {}
    sent = 0
    try:
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
                before = _fingerprint(engine) if case.method.upper() == "POST" else None
                try:
                    response = case.call(base_url=ep.url, session=http, headers=headers, timeout=10)
                except (requests.exceptions.InvalidHeader, ValueError, UnicodeError):
                    return  # the client library refused to send it; nothing reached the server
                sent += 1
                code = response.status_code
                statuses[code] = statuses.get(code, 0) + 1
                assert code < 500, (case.operation.path, code, response.text[:300])
                if before is not None and code >= 400:
                    assert _fingerprint(engine) == before, (
                        f"refused {case.operation.path} changed the store"
                    )

            run()
    finally:
        http.close()
        engine.dispose()
    assert sent >= 0.9 * sum(BUDGET.values()) * SCALE
    assert statuses.get(200, 0) > 5 and sum(v for k, v in statuses.items() if k >= 400) > 100
    assert httpx.get(f"{ep.url}/v1/health", timeout=5).status_code == 200
