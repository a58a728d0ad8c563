"""A whole sync cycle in one request (``POST /v1/cycle``): the same answers as push, pull and
verify, the same refusals, nothing stored by a refused request, and the laptop's use of it
(once advertised, with the three requests behind it when it is refused)."""

from __future__ import annotations

import re
import uuid
from typing import Any

import httpx
from sqlalchemy import func, select

from int_desk.server import admin
from int_desk.server.models import AppliedOp, Record, ScopeSeq
from int_desk.store import models as m
from int_desk.store.workspace import Workspace
from int_desk.sync import local
from int_desk.wire import protocol as P
from tests.helpers.sync_env import Endpoint, full_download, sync


def _op(rid: str, version: int, fields: dict[str, Any]) -> dict[str, Any]:
    return {
        "op_id": str(uuid.uuid4()),
        "entity": "patient",
        "id": rid,
        "kind": "update",
        "base_version": version,
        "fields": fields,
    }


def _push(rid: str, version: int, phone: str) -> dict[str, Any]:
    """An upload of one phone number change to a person."""
    return {"batch_id": str(uuid.uuid4()), "ops": [_op(rid, version, {"phone": phone})]}


def _stored(ep: Endpoint) -> tuple[int, int, int]:
    """What a request could have stored: records, the sequences' sum, ops applied."""
    with ep.session() as s:
        return (
            s.scalar(select(func.count()).select_from(Record)) or 0,
            s.scalar(select(func.coalesce(func.sum(ScopeSeq.last_seq), 0))) or 0,
            s.scalar(select(func.count()).select_from(AppliedOp)) or 0,
        )


def test_a_cycle_in_one_request_answers_as_push_pull_and_verify_would(endpoint: Endpoint) -> None:
    with endpoint.http("a") as a:
        rows, cursor = full_download(a)
        patient = next(r for r in rows if r["e"] == "patient")
        push = _push(patient["id"], patient["v"], "01632 700001")
        reply = a.post(
            P.CYCLE_PATH, json={"push": push, "pull": {"cursor": cursor}, "verify": True}
        )
        assert reply.status_code == 200, reply.text
        assert reply.headers[P.CYCLE_HEADER] == P.CYCLE_PATH  # advertised
        answer = reply.json()
        (result,) = answer["push"]["results"]
        assert result["status"] == "applied" and answer["push"]["batch_id"] == push["batch_id"]
        page = answer["pull"]
        edited = [c for c in page["changes"] if c["id"] == patient["id"]]
        assert edited and edited[-1]["data"]["phone"] == "01632 700001"
        assert not page["has_more"]
        assert answer["verify"] == a.get("/v1/verify").json()  # the same counts and digests
        # The page's cursor is a pull cursor like any other; the same cycle again is a replay.
        assert a.post("/v1/pull", json={"cursor": page["cursor"]}).json()["changes"] == []
        again = a.post(P.CYCLE_PATH, json={"push": push, "pull": {"cursor": page["cursor"]}})
        assert again.json()["push"]["results"][0]["replayed"] is True
        assert again.json()["verify"] is None  # (not asked)
        # Nothing to push: a page and the counts only.
        idle = a.post(P.CYCLE_PATH, json={"pull": {"cursor": page["cursor"]}, "verify": True})
        assert idle.json()["push"] is None and idle.json()["pull"]["changes"] == []
    with endpoint.session() as s:
        assert s.scalar(select(func.count()).select_from(AppliedOp)) == 1
    with endpoint.http("c") as c:  # another team's login: refused rows, nothing of team a
        _rows, theirs = full_download(c)
        push = _push(patient["id"], result["version"], "01632 700002")
        answer = c.post(P.CYCLE_PATH, json={"push": push, "pull": {"cursor": theirs}}).json()
        assert answer["push"]["results"][0]["status"] == "rejected"
        assert all(ch["id"] != patient["id"] for ch in answer["pull"]["changes"])
    with endpoint.session() as s:
        phone = s.get(Record, ("patient", uuid.UUID(patient["id"]))).data
        assert "01632 700002" not in str(phone)


def test_hostile_cycles_are_refused_by_name_and_store_nothing(endpoint: Endpoint) -> None:
    with endpoint.http("a") as a:
        rows, cursor = full_download(a)
        patient = next(r for r in rows if r["e"] == "patient")
        good = _push(patient["id"], patient["v"], "01632 700003")
        before = _stored(endpoint)
        cases = {
            "not json": a.post(
                P.CYCLE_PATH, content=b"{not", headers={"content-type": "application/json"}
            ),
            "no pull": a.post(P.CYCLE_PATH, json={"push": good, "verify": True}),
            "a full download": a.post(
                P.CYCLE_PATH, json={"push": good, "pull": {"cursor": cursor, "full": True}}
            ),
            "empty cursor": a.post(P.CYCLE_PATH, json={"push": good, "pull": {"cursor": ""}}),
            "verify as text": a.post(
                P.CYCLE_PATH, json={"push": good, "pull": {"cursor": cursor}, "verify": "yes"}
            ),
            "extra key": a.post(
                P.CYCLE_PATH, json={"push": good, "pull": {"cursor": cursor}, "admin": True}
            ),
            "bad limit": a.post(
                P.CYCLE_PATH, json={"push": good, "pull": {"cursor": cursor, "limit": 10**9}}
            ),
            "an unknown field": a.post(
                P.CYCLE_PATH,
                json={
                    "push": {**good, "ops": [{**good["ops"][0], "fields": {"ssn": "1"}}]},
                    "pull": {"cursor": cursor},
                },
            ),
            "too long": a.post(
                P.CYCLE_PATH,
                json={
                    "push": {**good, "ops": [{**good["ops"][0], "fields": {"phone": "7" * 500}}]},
                    "pull": {"cursor": cursor},
                },
            ),
            "oversized": a.post(
                P.CYCLE_PATH,
                content=b"x" * (P.MAX_BODY_BYTES + 1),
                headers={"content-type": "application/json"},
            ),
            "forged cursor": a.post(P.CYCLE_PATH, json={"pull": {"cursor": "eyJzIjp7fX0.beef"}}),
        }
        statuses = {name: r.status_code for name, r in cases.items()}
        assert statuses == {
            **{name: 422 for name in cases},
            "oversized": 413,
            "forged cursor": 410,
        }, statuses
        assert "7" * 500 not in cases["too long"].text  # named, never echoed
        assert cases["an unknown field"].json()["detail"][0]["op"] == 0
        assert _stored(endpoint) == before
        # A stale cursor beside a good push: the push is stored (once), its results answered
        # with no page, and the reason.
        gone = a.post(P.CYCLE_PATH, json={"push": good, "pull": {"cursor": "eyJzIjp7fX0.beef"}})
        assert gone.status_code == 200 and gone.json()["pull"] is None
        assert gone.json()["push"]["results"][0]["status"] == "applied"
        assert "Re-download" in gone.json()["gone"]
        assert _stored(endpoint)[2] == before[2] + 1
        # The checks before anything else: protocol, restored generation, token.
        a.headers[P.PROTOCOL_HEADER] = "99"
        assert a.post(P.CYCLE_PATH, json={"pull": {"cursor": cursor}}).status_code == 426
        a.headers[P.PROTOCOL_HEADER] = str(P.PROTOCOL_VERSION)
        a.headers[P.GENERATION_HEADER] = "an-older-generation"
        assert a.post(P.CYCLE_PATH, json={"pull": {"cursor": cursor}}).status_code == 409
    anonymous = httpx.post(
        f"{endpoint.url}{P.CYCLE_PATH}",
        json={"pull": {"cursor": cursor}},
        headers={P.PROTOCOL_HEADER: str(P.PROTOCOL_VERSION)},
    )
    assert anonymous.status_code == 401
    with endpoint.session() as s:  # a revoked token
        for token, user in admin.list_tokens(s):
            if user == "a":
                admin.revoke_token(s, token.id)
    with endpoint.http("a") as a:
        assert (
            a.post(P.CYCLE_PATH, json={"push": good, "pull": {"cursor": cursor}}).status_code == 401
        )
    assert _stored(endpoint)[2] == before[2] + 1


def _requests(ep: Endpoint, route: str) -> float:
    """How many requests the endpoint has answered on ``route`` (its /metrics)."""
    body = httpx.get(f"{ep.url}/metrics", timeout=10).text
    total = 0.0
    for line in body.splitlines():
        match = re.match(r"int_desk_request_seconds_count\{([^}]*)\} ([0-9.e+-]+)$", line)
        if match and f'route="{route}"' in match.group(1):
            total += float(match.group(2))
    return total


def _edit(ws: Workspace, phone: str) -> uuid.UUID:
    with ws.session() as s:
        patient = s.scalars(select(m.Patient).order_by(m.Patient.id)).first()
        patient.phone = phone
        return patient.id


def test_a_laptop_syncs_in_one_request_once_advertised_and_in_three_when_refused(
    sqlite_endpoint: Endpoint, laptops
) -> None:  # type: ignore[no-untyped-def]
    ep = sqlite_endpoint
    a, b = laptops(ep, "a"), laptops(ep, "a")
    assert sync(a).ok and sync(b).ok  # first downloads: the answers advertise the cycle
    with a.session() as s:
        assert local.state(s, local.CYCLE) == "1"
    cycles, pushes = _requests(ep, P.CYCLE_PATH), _requests(ep, "/v1/push")
    pid = _edit(a, "01632 700010")
    result = sync(a)
    assert result.ok and result.pushed == 1 and result.verified, result
    assert _requests(ep, P.CYCLE_PATH) == cycles + 1 and _requests(ep, "/v1/push") == pushes
    assert sync(b).pulled >= 1
    with b.session() as s:
        assert s.get(m.Patient, pid).phone == "01632 700010"
    # Refused there (a 404, as an endpoint gone back to a version without the route answers):
    # the three requests make the cycle, the edit stored once.
    ep.fault(P.CYCLE_PATH, "busy", status=404, retry_after="0")
    _edit(a, "01632 700011")
    result = sync(a)
    assert result.ok and result.pushed == 1 and result.retries == 0, result
    assert _requests(ep, "/v1/push") == pushes + 1
    # The answer lost after the endpoint stored the push: the cycle sent again is a replay.
    ep.fault(P.CYCLE_PATH, "500_after")
    _edit(a, "01632 700012")
    applied = _stored(ep)[2]
    result = sync(a)
    assert result.ok and result.pushed == 1 and result.retries == 1, result
    assert _stored(ep)[2] == applied + 1
    with a.session() as s:
        assert local.pending_count(s) == 0
    assert sync(b).ok
    with b.session() as s:
        assert s.get(m.Patient, pid).phone == "01632 700012"


def test_a_stale_cursor_in_a_one_request_cycle_keeps_the_edit_and_re_downloads(
    sqlite_endpoint: Endpoint, laptops
) -> None:  # type: ignore[no-untyped-def]
    ep = sqlite_endpoint
    a = laptops(ep, "a")
    assert sync(a).ok
    with a.session() as s:  # a cursor the endpoint cannot read (as one past its window)
        local.set_state(s, local.CURSOR, "eyJzIjp7fX0.beef")
    pid = _edit(a, "01632 700020")
    applied = _stored(ep)[2]
    result = sync(a)
    assert result.ok and result.pushed == 1 and result.redownloaded and result.verified, result
    assert "cursor too old: re-downloaded" in result.notes
    assert _stored(ep)[2] == applied + 1
    with a.session() as s:
        assert s.get(m.Patient, pid).phone == "01632 700020"
        assert local.pending_count(s) == 0
