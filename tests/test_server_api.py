"""The sync endpoint over HTTP on SQLite and PostgreSQL: scope, validation, replay, 410."""

from __future__ import annotations

import json
import uuid

import httpx
from sqlalchemy import func, select

from int_desk.server import admin
from int_desk.server.models import AppliedOp, Record, ServerUser
from int_desk.wire.protocol import PROTOCOL_HEADER
from tests.helpers.sync_env import Endpoint, full_download


def _patients_by_team(ep: Endpoint) -> dict[str, list[uuid.UUID]]:
    with ep.session() as s:
        out: dict[str, list[uuid.UUID]] = {}
        for scope, rid in s.execute(
            select(Record.scope, Record.id).where(Record.entity == "patient").order_by(Record.id)
        ):
            out.setdefault(scope, []).append(rid)
    return out


def _op(entity: str, rid: uuid.UUID, fields: dict, *, kind: str = "update", base: int | None = 1):
    return {
        "op_id": str(uuid.uuid4()),
        "entity": entity,
        "id": str(rid),
        "kind": kind,
        "base_version": base,
        "fields": fields,
    }


def test_a_user_sees_and_changes_only_their_teams_patients(endpoint: Endpoint) -> None:
    mine, theirs = endpoint.teams["Bicester INT"], endpoint.teams["Reading West INT"]
    by_team = _patients_by_team(endpoint)
    with endpoint.http("a") as a:
        rows, _cursor = full_download(a)
        seen = {uuid.UUID(r["id"]) for r in rows if r["e"] == "patient"}
        assert seen == set(by_team[mine])
        assert not seen & set(by_team[theirs])
        teams_seen = {r["id"] for r in rows if r["e"] == "team"}
        assert teams_seen == {mine}

        other = by_team[theirs][0]
        reply = a.post(
            "/v1/push",
            json={
                "batch_id": str(uuid.uuid4()),
                "ops": [
                    _op("patient", other, {"phone": "01632 999999"}),
                    _op(
                        "contact",
                        uuid.uuid4(),
                        {
                            "patient_id": str(other),
                            "kind": "note",
                            "occurred_at": "2026-11-20T10:00:00.000000+00:00",
                            "text": "x",
                            "clinical": True,
                            "created_at": "2026-11-20T10:00:00.000000+00:00",
                            "updated_at": "2026-11-20T10:00:00.000000+00:00",
                            "deleted": False,
                        },
                        kind="insert",
                        base=None,
                    ),
                ],
            },
        )
        assert reply.status_code == 200
        results = reply.json()["results"]
        assert [r["status"] for r in results] == ["rejected", "rejected"]
        assert all("row" not in r for r in results)  # nothing of team B leaks back
    with endpoint.session() as s:
        rec = s.get(Record, ("patient", other))
        assert json.loads(rec.data)["phone"] != "01632 999999"
        assert s.scalar(select(func.count()).select_from(AppliedOp)) == 2  # both refused
        assert (
            s.scalar(
                select(func.count()).where(
                    Record.entity == "contact", Record.scope == mine, Record.patient_id == other
                )
            )
            == 0
        )
    with endpoint.session() as s:
        member = s.scalar(select(ServerUser.member_id).where(ServerUser.name == "c"))
    with endpoint.http("c") as c:  # Reading West's user sees their patient, unchanged
        me = c.get("/v1/whoami").json()
        assert me["teams"] == [theirs] and me["member_id"] == str(member) != "None"
        theirs_rows = {r["id"]: r for r in full_download(c)[0] if r["e"] == "patient"}
        assert theirs_rows[str(other)]["data"]["phone"] != "01632 999999"


def test_malformed_oversized_and_wrong_typed_payloads_get_4xx_and_server_keeps_serving(
    endpoint: Endpoint,
) -> None:
    pid = _patients_by_team(endpoint)[endpoint.teams["Bicester INT"]][0]
    with endpoint.session() as s:
        version = s.get(Record, ("patient", pid)).version
    good = {
        "batch_id": str(uuid.uuid4()),
        "ops": [_op("patient", pid, {"phone": "01632 1"}, base=version)],
    }
    with endpoint.http("a") as a:
        cases = {
            "not json": a.post(
                "/v1/push", content=b"{not json", headers={"content-type": "application/json"}
            ),
            "ops not a list": a.post("/v1/push", json={"batch_id": str(uuid.uuid4()), "ops": "x"}),
            "version as text": a.post(
                "/v1/push", json={**good, "ops": [{**good["ops"][0], "base_version": "5"}]}
            ),
            "unknown entity": a.post(
                "/v1/push", json={**good, "ops": [{**good["ops"][0], "entity": "secrets"}]}
            ),
            "unknown field": a.post(
                "/v1/push", json={**good, "ops": [{**good["ops"][0], "fields": {"ssn": "1"}}]}
            ),
            "wrong field type": a.post(
                "/v1/push",
                json={**good, "ops": [{**good["ops"][0], "fields": {"date_of_birth": 12}}]},
            ),
            "too long": a.post(
                "/v1/push",
                json={**good, "ops": [{**good["ops"][0], "fields": {"phone": "1" * 500}}]},
            ),
            "extra key": a.post("/v1/push", json={**good, "admin": True}),
            "bad limit": a.post("/v1/pull", json={"full": True, "limit": 10**9}),
            "forged cursor": a.post("/v1/pull", json={"cursor": "eyJzIjp7fX0.deadbeef"}),
            "oversized": a.post(
                "/v1/push",
                content=b"x" * (9 * 1024 * 1024),
                headers={"content-type": "application/json"},
            ),
        }
        statuses = {name: r.status_code for name, r in cases.items()}
        assert all(400 <= code < 500 for code in statuses.values()), statuses
        assert statuses["oversized"] == 413
        assert statuses["forged cursor"] == 410
        # Problems are named, the values sent are never echoed back.
        assert "1" * 500 not in cases["too long"].text
        assert a.post("/v1/push", json=good).json()["results"][0]["status"] == "applied"
        assert a.get("/v1/health").json()["status"] == "ok"


def test_auth_and_protocol_mismatch(endpoint: Endpoint) -> None:
    assert httpx.get(f"{endpoint.url}/v1/verify", headers={PROTOCOL_HEADER: "1"}).status_code == 401
    with endpoint.http("a") as a:
        a.headers[PROTOCOL_HEADER] = "99"
        r = a.get("/v1/verify")
        assert r.status_code == 426
        assert "Update the app" in r.json()["detail"]
    with endpoint.session() as s:
        token_id = s.scalars(select(admin.DeviceToken.id)).first()
        for token, user in admin.list_tokens(s):
            if user == "a":
                token_id = token.id
        admin.revoke_token(s, token_id)
        assert all(len(t.token_hash) == 64 for t, _u in admin.list_tokens(s))
        assert endpoint.tokens["a"] not in {t.token_hash for t, _u in admin.list_tokens(s)}
    with endpoint.http("a") as a:
        assert a.get("/v1/verify").status_code == 401


def test_a_replayed_batch_is_answered_with_the_stored_results(endpoint: Endpoint) -> None:
    pid = _patients_by_team(endpoint)[endpoint.teams["Bicester INT"]][0]
    with endpoint.session() as s:
        version = s.get(Record, ("patient", pid)).version
    batch = {
        "batch_id": str(uuid.uuid4()),
        "ops": [_op("patient", pid, {"communication_needs": "Large print"}, base=version)],
    }
    with endpoint.http("a") as a:
        first = a.post("/v1/push", json=batch).json()["results"][0]
        second = a.post("/v1/push", json=batch).json()["results"][0]
    assert first["status"] == second["status"] == "applied"
    assert second["replayed"] is True
    assert second["version"] == first["version"]
    with endpoint.session() as s:
        assert s.scalar(select(func.count()).select_from(AppliedOp)) == 1
        assert s.get(Record, ("patient", pid)).version == first["version"]


def test_a_cursor_older_than_the_tombstone_window_gets_410(endpoint: Endpoint) -> None:
    pid = _patients_by_team(endpoint)[endpoint.teams["Bicester INT"]][0]
    with endpoint.http("a") as a:
        first = a.post("/v1/pull", json={"full": True, "limit": 5000})
        cursor = first.json()["cursor"]
        while first.json()["has_more"]:
            first = a.post(
                "/v1/pull", json={"full": True, "limit": 5000, "after": first.json()["after"]}
            )
        with endpoint.session() as s:
            flag = s.scalars(
                select(Record).where(Record.entity == "flag", Record.patient_id == pid)
            ).first()
            flag = flag or s.get(Record, ("patient", pid))
            target, version = (flag.entity, flag.id), flag.version
        r = a.post(
            "/v1/push",
            json={
                "batch_id": str(uuid.uuid4()),
                "ops": [_op(target[0], target[1], {"deleted": True}, base=version)],
            },
        )
        assert r.json()["results"][0]["status"] == "applied"
        assert a.post("/v1/pull", json={"cursor": cursor}).status_code == 200
        with endpoint.session() as s:
            assert admin.compact(s, older_than_days=0) == 1
        r = a.post("/v1/pull", json={"cursor": cursor})
        assert r.status_code == 410
        assert "Re-download" in r.json()["detail"]
