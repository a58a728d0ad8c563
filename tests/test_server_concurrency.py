"""Concurrent pushes never make a concurrent puller skip a change (sequence order = commit
order: per-team advisory locks on PostgreSQL, BEGIN IMMEDIATE on SQLite); PostgreSQL tests fail
rather than skip when CI requires them."""

from __future__ import annotations

import threading
import uuid
from pathlib import Path

import pytest
from sqlalchemy import select

from int_desk.server.models import Record
from tests.helpers import sync_env
from tests.helpers.sync_env import Endpoint

NOW = "2026-11-21T09:00:00.000000+00:00"


def _contact(pid: uuid.UUID, text: str) -> dict:
    return {
        "op_id": str(uuid.uuid4()),
        "entity": "contact",
        "id": str(uuid.uuid4()),
        "kind": "insert",
        "base_version": None,
        "fields": {
            "patient_id": str(pid), "kind": "note", "occurred_at": NOW, "author_id": None,
            "text": text, "clinical": True, "created_at": NOW, "created_by": None,
            "updated_at": NOW, "updated_by": None, "deleted": False,
        },
    }  # fmt: skip


def test_a_puller_sees_every_change_made_by_concurrent_pushers(endpoint: Endpoint) -> None:
    with endpoint.session() as s:
        patients = list(
            s.scalars(
                select(Record.id).where(
                    Record.entity == "patient", Record.scope == endpoint.teams["Bicester INT"]
                )
            )
        )[:6]
    with endpoint.http("a") as c:
        page = c.post("/v1/pull", json={"full": True, "limit": 5000}).json()
        while page["has_more"]:
            page = c.post(
                "/v1/pull", json={"full": True, "limit": 5000, "after": page["after"]}
            ).json()
        cursor = page["cursor"]
    pushed: set[str] = set()
    lock = threading.Lock()
    done = threading.Event()
    errors: list[str] = []

    def pusher(n: int, user: str) -> None:
        with endpoint.http(user) as c:
            for i in range(15):
                op = _contact(patients[n], f"note {n}-{i}")
                r = c.post("/v1/push", json={"batch_id": str(uuid.uuid4()), "ops": [op]})
                if r.status_code != 200 or r.json()["results"][0]["status"] != "applied":
                    errors.append(f"{r.status_code}")
                with lock:
                    pushed.add(op["id"])

    seen: set[str] = set()

    def puller() -> None:
        nonlocal cursor
        with endpoint.http("b") as c:
            while True:
                finished = done.is_set()
                page = c.post("/v1/pull", json={"cursor": cursor, "limit": 7}).json()
                seen.update(ch["id"] for ch in page["changes"] if ch["e"] == "contact")
                cursor = page["cursor"]
                if finished and not page["has_more"]:
                    return

    threads = [threading.Thread(target=pusher, args=(n, "ab"[n % 2])) for n in range(6)]
    reader = threading.Thread(target=puller)
    reader.start()
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    done.set()
    reader.join(60)
    assert not errors
    assert len(pushed) == 90
    assert pushed <= seen  # nothing skipped


def test_missing_postgres_fails_when_ci_requires_it(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.setattr(sync_env, "PG_BIN", tmp_path / "no-postgres")
    monkeypatch.setenv(sync_env.REQUIRE_PG, "1")
    with pytest.raises(pytest.fail.Exception, match="PostgreSQL binaries missing"):
        sync_env.start_pg_or_skip()
    monkeypatch.delenv(sync_env.REQUIRE_PG)
    with pytest.raises(pytest.skip.Exception):
        sync_env.start_pg_or_skip()
