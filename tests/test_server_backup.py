"""Backup and restore drill: the endpoint is put back to an older backup while laptops kept
working; they notice it went back in time (its database generation changed), send again what
it lost, and everyone converges with nothing lost and no edit silently overwritten."""

from __future__ import annotations

import json
import subprocess
import sys
import uuid
from pathlib import Path

import httpx
from sqlalchemy import select

from int_desk.server import admin
from int_desk.server.models import Record
from int_desk.store import models as m
from int_desk.store.sync_tables import SyncConflict
from int_desk.store.workspace import Workspace
from int_desk.wire import protocol as P
from tests.helpers.sync_env import ROOT, Endpoint, start_endpoint, sync

X1, X2, X3 = "01632 960101", "01632 960102", "01632 960103"


def _admin(db_url: str, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "int_desk", "admin", "--db", db_url, *args],
        cwd=ROOT, capture_output=True, text=True, timeout=300,
    )  # fmt: skip


def _phone(ws: Workspace, pid: uuid.UUID) -> str | None:
    with ws.session() as s:
        return s.get(m.Patient, pid).phone


def _set_phone(ws: Workspace, pid: uuid.UUID, phone: str) -> None:
    with ws.session() as s:
        s.get(m.Patient, pid).phone = phone


def _server_row(ep: Endpoint, entity: str, rid: uuid.UUID) -> dict | None:
    """The endpoint's values of a row (None: it has no such row)."""
    with ep.session() as s:
        data = s.scalar(select(Record.data).where(Record.entity == entity, Record.id == rid))
    return None if data is None else json.loads(data)


def test_restore_drill_laptops_resend_what_the_endpoint_lost(
    endpoint: Endpoint, laptops, tmp_path: Path
) -> None:
    with endpoint.session() as s:  # a second laptop of user a: its own device
        endpoint.tokens["a2"] = admin.issue_token(s, "a", "laptop-a2")[1]
    a, b, d = laptops(endpoint, "a"), laptops(endpoint, "b"), laptops(endpoint, "a2")
    for ws in (a, b, d):
        sync(ws)
    with a.session() as s:
        p1, p2 = s.scalars(select(m.Patient.id).order_by(m.Patient.id).limit(2)).all()
    backup_file = tmp_path / "endpoint.backup"
    made = _admin(endpoint.db_url, "backup", str(backup_file))
    assert made.returncode == 0, made.stderr
    assert backup_file.stat().st_size > 0 and "patient data" in made.stdout

    # After the backup: a edits P1 and writes a note, b edits P2; both laptops hold it all.
    _set_phone(a, p1, X1)
    note = uuid.uuid4()
    with a.session() as s:
        s.add(m.Contact(id=note, patient_id=p1, kind="phone_call", text="Rang after the backup"))
    sync(a), sync(b)
    _set_phone(b, p2, X2)
    sync(b), sync(a)
    assert _phone(a, p2) == X2 and _phone(b, p1) == X1

    # The endpoint is put back to the backup: those three changes are gone from it.
    port = int(endpoint.url.rsplit(":", 1)[1])
    endpoint.stop()
    refused = _admin(endpoint.db_url, "restore", str(backup_file))  # no --yes, no terminal
    assert refused.returncode == 2 and "--yes" in refused.stderr
    restored = _admin(endpoint.db_url, "restore", str(backup_file), "--yes")
    assert restored.returncode == 0, restored.stderr
    assert _server_row(endpoint, "contact", note) is None
    assert _server_row(endpoint, "patient", p2)["phone"] != X2
    ep = start_endpoint(endpoint.db_url, port=port)
    endpoint.proc = ep.proc  # (stopped with the fixture)

    # d synced only before the backup: nothing of it was lost, so it sends nothing again.
    first = sync(d)
    assert first.resent == 0 and first.redownloaded and first.verified
    _set_phone(d, p1, X3)  # an edit on the restored endpoint before a comes back
    sync(d)

    again_a = sync(a)
    assert again_a.resent >= 3 and again_a.verified  # P1, P2 and the note
    assert "restored from a backup" in " ".join(again_a.notes)
    again_b = sync(b)
    assert again_b.verified
    for ws in (a, b, d):
        sync(ws)

    # Nothing lost: the note and b's edit are back on the endpoint and on every laptop.
    assert _server_row(endpoint, "contact", note) is not None
    assert _server_row(endpoint, "patient", p2)["phone"] == X2
    for ws in (a, b, d):
        assert _phone(ws, p2) == X2
        with ws.session() as s:
            assert s.get(m.Contact, note).text == "Rang after the backup"
    # Nothing silently overwritten: d's edit made after the restore stands, and a's lost value
    # of the same field waits on a's laptop as a conflict for a person to decide.
    assert _server_row(endpoint, "patient", p1)["phone"] == X3
    assert all(_phone(ws, p1) == X3 for ws in (a, b, d))
    with a.session() as s:
        open_ = s.scalars(select(SyncConflict).where(SyncConflict.status == "open")).all()
        assert [(c.entity_id, c.field, c.local_value) for c in open_] == [(p1, "phone", X1)]


def test_an_old_generation_is_refused_before_anything_is_applied(endpoint: Endpoint) -> None:
    with endpoint.http("a") as c:
        current = c.get("/v1/verify").headers[P.GENERATION_HEADER]
        stale = c.post(
            "/v1/push",
            json={"batch_id": str(uuid.uuid4()), "ops": []},
            headers={P.GENERATION_HEADER: str(uuid.uuid4())},
        )
    assert stale.status_code == 409
    assert stale.headers[P.GENERATION_HEADER] == current
    assert int(stale.headers[P.RESTORED_SINCE_HEADER]) == 0  # never restored
    assert httpx.get(f"{endpoint.url}/v1/health").headers[P.GENERATION_HEADER] == current


def test_restore_refuses_while_an_endpoint_uses_the_database(pg_cluster, tmp_path: Path) -> None:
    url = pg_cluster.new_database()
    ep = start_endpoint(url, faults=False)
    try:
        backup_file = tmp_path / "b.dump"
        assert _admin(url, "backup", str(backup_file)).returncode == 0
        assert _admin(url, "backup", str(backup_file)).returncode != 0  # never overwrites
        refused = _admin(url, "restore", str(backup_file), "--yes")
        assert refused.returncode != 0
        assert "stop every endpoint first" in refused.stdout + refused.stderr
        assert httpx.get(f"{ep.url}/v1/ready").status_code == 200  # untouched, still serving
    finally:
        ep.stop()
