"""Two endpoint processes (two ports on this machine, as two hosts would be) share one
PostgreSQL with no sticky sessions: laptops spread over both, syncing at the same time, converge
with nothing lost or doubled, and a device revoked through one host is refused by the other at
once on a new connection and within ``AUTH_CACHE_SECONDS`` on a kept-alive one."""

from __future__ import annotations

import json
import threading
import time
import uuid
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from sqlalchemy import func, select

from int_desk.server import admin
from int_desk.server.auth_cache import AUTH_CACHE_SECONDS
from int_desk.server.models import DeviceToken, Record
from int_desk.store import models as m
from int_desk.store.workspace import Workspace
from int_desk.sync import local
from int_desk.wire.protocol import PROTOCOL_HEADER, PROTOCOL_VERSION
from tests.helpers.sync_env import Endpoint, start_endpoint, sync
from tests.helpers.sync_fixtures import _copy

ROUNDS = 4


@pytest.fixture
def two_hosts(
    request: pytest.FixtureRequest, tmp_path: Path
) -> Iterator[tuple[Endpoint, Endpoint]]:
    seeded = _copy(request, "postgres", tmp_path)
    with seeded.session() as s:  # a second laptop of user a (its own device) and an administrator
        seeded.tokens["a2"] = admin.issue_token(s, "a", "laptop-a2")[1]
        members = s.scalars(select(Record).where(Record.entity == "member"))
        boss = next(r.id for r in members if json.loads(r.data)["role"] == "admin")
        admin.add_user(s, "boss", list(seeded.teams.values()), member_id=boss)
        seeded.tokens["boss"] = admin.issue_token(s, "boss", "boss")[1]
    hosts = []
    try:
        for _ in range(2):
            ep = start_endpoint(seeded.db_url, faults=False)
            ep.tokens, ep.teams = seeded.tokens, seeded.teams
            hosts.append(ep)
        yield hosts[0], hosts[1]
    finally:
        for ep in hosts:
            ep.stop()


def _contacts(ws: Workspace) -> set[str]:
    with ws.session() as s:
        return {c.text for c in s.scalars(select(m.Contact)) if c.text.startswith("host test")}


def test_laptops_spread_over_two_hosts_converge_nothing_lost_or_doubled(
    two_hosts: tuple[Endpoint, Endpoint], laptops
) -> None:
    one, two = two_hosts
    spread = {"a": one, "b": two, "a2": two, "c": one}  # c: another team (Reading West)
    ws = {user: laptops(ep, user) for user, ep in spread.items()}
    for w in ws.values():
        sync(w)
    mine: dict[str, uuid.UUID] = {}
    with ws["a"].session() as s:
        bicester = s.scalars(select(m.Patient.id).order_by(m.Patient.id).limit(4)).all()
    with ws["c"].session() as s:
        reading = s.scalars(select(m.Patient.id).order_by(m.Patient.id).limit(1)).all()
    mine = {"a": bicester[0], "b": bicester[1], "a2": bicester[2], "c": reading[0]}
    shared = bicester[3]  # everyone in Bicester writes notes about this person
    errors: list[str] = []

    def work(user: str) -> None:
        w = ws[user]
        try:
            for r in range(ROUNDS):
                with w.session() as s:
                    s.get(m.Patient, mine[user]).phone = f"01632 96{r:02d}{len(user):02d}"
                    pid = reading[0] if user == "c" else shared
                    s.add(m.Contact(patient_id=pid, kind="note", text=f"host test {user} {r}"))
                result = sync(w)
                if result.rejected:
                    errors.append(f"{user}: {result.rejected} rejected")
        except Exception as exc:  # reported below, in the test's thread
            errors.append(f"{user}: {exc!r}")

    threads = [threading.Thread(target=work, args=(u,)) for u in ws]
    for t in threads:
        t.start()
    for t in threads:
        t.join(300)
    assert not errors
    for _ in range(2):  # everyone once more, so each has what the others sent last
        for w in ws.values():
            assert sync(w).verified is not False

    bicester_notes = {f"host test {u} {r}" for u in ("a", "b", "a2") for r in range(ROUNDS)}
    reading_notes = {f"host test c {r}" for r in range(ROUNDS)}
    for user in ("a", "b", "a2"):
        assert _contacts(ws[user]) == bicester_notes  # all of them, and only their team's
    assert _contacts(ws["c"]) == reading_notes
    with one.session() as s:
        texts = [
            json.loads(d)["text"]
            for d in s.scalars(select(Record.data).where(Record.entity == "contact"))
        ]
    ours = [t for t in texts if t.startswith("host test")]
    assert sorted(ours) == sorted(bicester_notes | reading_notes)  # none lost, none doubled
    last = {u: f"01632 96{ROUNDS - 1:02d}{len(u):02d}" for u in mine}
    for user, w in ws.items():
        with w.session() as s:
            for owner, pid in mine.items():
                if (owner == "c") == (user == "c"):  # each sees its own team's patients
                    assert s.get(m.Patient, pid).phone == last[owner]
            assert local.pending_count(s) == 0


def test_a_device_revoked_through_one_host_is_refused_by_the_other(
    two_hosts: tuple[Endpoint, Endpoint],
) -> None:
    one, two = two_hosts
    with one.session() as s:
        device = s.scalar(select(DeviceToken.id).where(DeviceToken.label == "laptop-b"))
    headers = {"Authorization": f"Bearer {two.tokens['b']}", PROTOCOL_HEADER: str(PROTOCOL_VERSION)}
    with httpx.Client(base_url=two.url, headers=headers, timeout=10) as kept_alive:
        assert kept_alive.get("/v1/verify").status_code == 200
        with one.http("boss") as boss:
            assert boss.post(f"/v1/admin/devices/{device}/revoke").status_code == 200
        revoked_at = time.monotonic()
        # A new connection to the other host is refused at once.
        assert httpx.get(f"{two.url}/v1/verify", headers=headers).status_code == 401
        # The kept-alive one within the documented window (docs/deployment.md).
        while kept_alive.get("/v1/verify").status_code != 401:
            assert time.monotonic() - revoked_at < AUTH_CACHE_SECONDS + 1.0
            time.sleep(0.1)
    with one.session() as s:
        assert s.scalar(select(func.count()).where(DeviceToken.revoked_at.is_not(None))) == 1
