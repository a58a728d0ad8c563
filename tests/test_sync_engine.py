"""Clients against a real endpoint (uvicorn subprocess on 127.0.0.1): convergence, conflicts,
kill -9 mid-push, server failures, stale cursors, scope changes, protocol mismatch."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import uuid
from pathlib import Path

import keyring
import keyring.backends.fail
import pytest
from sqlalchemy import func, select

from int_desk.server import admin
from int_desk.server.models import AppliedOp, Record, ScopeSeq, ServerUser
from int_desk.services import sync_conflicts
from int_desk.services.identity import actor_for
from int_desk.store import models as m
from int_desk.store.models import AuditEvent
from int_desk.store.sync_tables import SyncOutbox, SyncState
from int_desk.store.workspace import Workspace
from int_desk.sync import credentials, local
from int_desk.wire import protocol as P
from tests.conftest import PASSPHRASE
from tests.helpers.sync_env import Endpoint, engine, laptop, sync, wait_for


@pytest.fixture
def laptops(tmp_path: Path):  # type: ignore[no-untyped-def]
    opened: list[Workspace] = []

    def make(ep: Endpoint, user: str) -> Workspace:
        ws = laptop(tmp_path / f"laptop-{user}-{len(opened)}", ep, user, PASSPHRASE)
        opened.append(ws)
        return ws

    yield make
    for ws in opened:
        ws.close()


def _first_patient(ws: Workspace) -> uuid.UUID:
    with ws.session() as s:
        return s.scalars(select(m.Patient.id).order_by(m.Patient.id)).first()


def _contacts(ws: Workspace, pid: uuid.UUID) -> set[str]:
    with ws.session() as s:
        return set(s.scalars(select(m.Contact.text).where(m.Contact.patient_id == pid)))


def _digest(ws: Workspace) -> dict:
    with ws.session() as s:
        return local.digest(s)


def _pending(ws: Workspace) -> int:
    with ws.session() as s:
        return local.pending_count(s)


def test_first_download_progress_has_an_end(sqlite_endpoint: Endpoint, laptops) -> None:  # type: ignore[no-untyped-def]
    seen: list[tuple[int, int]] = []
    a = laptops(sqlite_endpoint, "a")
    first = engine(a, progress=lambda stage, done, total: (
        seen.append((done, total)) if stage == "download" else None
    )).run()  # fmt: skip
    assert first.ok and seen
    assert {total for _done, total in seen} == {first.pulled}  # a bar with a known end
    assert seen[-1] == (first.pulled, first.pulled) and first.pulled > 0


def test_two_clients_edit_offline_and_converge(endpoint: Endpoint, laptops) -> None:  # type: ignore[no-untyped-def]
    a, b = laptops(endpoint, "a"), laptops(endpoint, "b")
    first = sync(a)
    assert first.redownloaded and first.verified
    sync(b)
    pid = _first_patient(a)
    with a.session() as s:  # both offline from here
        s.get(m.Patient, pid).phone = "01632 111111"
        s.add(m.Contact(patient_id=pid, kind="phone_call", text="A rang the carer"))
    with b.session() as s:
        s.get(m.Patient, pid).communication_needs = "Uses a hearing aid"
        s.add(m.Contact(patient_id=pid, kind="home_visit", text="B visited"))
        flag = s.scalars(select(m.Flag).where(m.Flag.deleted.is_(False))).first()
        flag.deleted = True
        flag_id = flag.id
    ra, rb, ra2 = sync(a), sync(b), sync(a)
    assert (ra.pushed, rb.pushed, ra.conflicts + rb.conflicts) == (2, 3, 0)
    assert rb.verified and ra2.verified
    for ws in (a, b):
        with ws.session() as s:
            p = s.get(m.Patient, pid)
            assert (p.phone, p.communication_needs) == ("01632 111111", "Uses a hearing aid")
            assert s.get(m.Flag, flag_id).deleted is True
        assert {"A rang the carer", "B visited"} <= _contacts(ws, pid)
        assert _pending(ws) == 0
    assert _digest(a) == _digest(b)


def test_same_field_edits_become_a_conflict_a_person_resolves(endpoint: Endpoint, laptops) -> None:  # type: ignore[no-untyped-def]
    a, b = laptops(endpoint, "a"), laptops(endpoint, "b")
    sync(a), sync(b)
    pid = _first_patient(a)
    with a.session() as s:
        s.get(m.Patient, pid).communication_needs = "Prefers phone calls in the morning"
    with b.session() as s:
        s.get(m.Patient, pid).communication_needs = "Prefers letters in large print"
        s.get(m.Patient, pid).phone = "01632 222222"  # a different field: merges
    sync(a)
    rb = sync(b)
    assert rb.conflicts == 1
    with endpoint.session() as srv:
        member_b = srv.scalar(select(ServerUser.member_id).where(ServerUser.name == "b"))
        member_a = srv.scalar(select(ServerUser.member_id).where(ServerUser.name == "a"))
    with b.session() as s:
        actor = actor_for(s, member_b)
        [c] = sync_conflicts.list_conflicts(session=s, actor=actor)
        assert (c.field, c.local_value, c.remote_value, c.remote_by) == (
            "communication_needs",
            "Prefers letters in large print",
            "Prefers phone calls in the morning",
            s.get(m.Member, member_a).name,  # the person, not their login
        )
        # Nothing silently overwritten: the record shows the server's value until decided.
        assert s.get(m.Patient, pid).communication_needs == "Prefers phone calls in the morning"
        assert s.get(m.Patient, pid).phone == "01632 222222"
        sync_conflicts.resolve_conflict(session=s, actor=actor, conflict_id=c.id, choice="local")
    with b.session() as s:
        assert sync_conflicts.open_count(session=s) == 0
        audit_row = s.scalars(
            select(AuditEvent).where(AuditEvent.entity_type == "sync_conflict")
        ).one()
        assert "keeping local" in audit_row.detail
    sync(b), sync(a)
    with a.session() as s:
        assert s.get(m.Patient, pid).communication_needs == "Prefers letters in large print"
    with endpoint.session() as srv:
        assert srv.scalar(select(func.count()).where(AppliedOp.resolves_conflict.is_not(None))) == 1


def test_a_client_killed_mid_push_resyncs_without_duplicates_or_loss(
    sqlite_endpoint: Endpoint, laptops, tmp_path: Path
) -> None:  # type: ignore[no-untyped-def]
    ep = sqlite_endpoint
    a = laptops(ep, "a")
    sync(a)
    pid = _first_patient(a)
    texts = {f"visit note {i}" for i in range(300)}
    with a.session() as s:
        for t in sorted(texts):
            s.add(m.Contact(patient_id=pid, kind="note", text=t))
    directory = a.directory
    a.close()
    # The first batch (250 ops) commits on the server, then its answer hangs: kill -9 then.
    ep.fault("/v1/push", "delay_after", seconds=60)
    env = {**os.environ, "INT_DESK_PASSPHRASE": PASSPHRASE}
    proc = subprocess.Popen(
        [sys.executable, "-m", "int_desk", "sync", "--workspace", str(directory),
         "--endpoint", ep.url, "--token", ep.tokens["a"], "--retries", "0"],
        env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
    )  # fmt: skip

    def batch_committed() -> bool:
        with ep.session() as srv:
            return srv.scalar(select(func.count()).select_from(AppliedOp)) == P.PUSH_BATCH

    wait_for(batch_committed, 60, "the first batch to commit on the server")
    os.kill(proc.pid, signal.SIGKILL)
    proc.wait()
    ws = Workspace.open(directory, PASSPHRASE)
    try:
        with ws.session() as s:  # acknowledgements never arrived: all 300 still queued
            assert local.pending_count(s) == 300
        result = engine(ws).run()
        assert result.ok and result.verified, result.error
        assert result.pushed == 300 and _pending(ws) == 0
        assert _contacts(ws, pid) >= texts
    finally:
        ws.close()
    with ep.session() as srv:
        server_texts = [
            r
            for (r,) in srv.execute(
                select(Record.data).where(Record.entity == "contact", Record.patient_id == pid)
            )
            if '"visit note ' in r
        ]
        assert len(server_texts) == 300  # each exactly once
        assert srv.scalar(select(func.count()).select_from(AppliedOp)) == 300


def test_server_failures_are_retried_and_nothing_is_lost_or_doubled(
    sqlite_endpoint: Endpoint, laptops
) -> None:  # type: ignore[no-untyped-def]
    ep = sqlite_endpoint
    a = laptops(ep, "a")
    sync(a)
    pid = _first_patient(a)
    faults = [
        ("/v1/push", "500_before", {}),
        ("/v1/push", "500_after", {}),
        ("/v1/push", "drop_after", {}),
        ("/v1/push", "delay_after", {"seconds": 3}),
        ("/v1/pull", "drop_after", {}),
        ("/v1/pull", "500_after", {}),
    ]
    for i, (path, fault, extra) in enumerate(faults):
        with a.session() as s:
            s.add(m.Contact(patient_id=pid, kind="note", text=f"after {fault} on {path} #{i}"))
            s.get(m.Patient, pid).phone = f"01632 30000{i}"
        ep.fault(path, fault, **extra)
        result = engine(a, timeout=1.0).run()
        assert result.ok, (fault, result.error)
        assert result.retries >= 1, fault
        assert _pending(a) == 0
    with ep.session() as srv:
        notes = [
            d
            for (d,) in srv.execute(
                select(Record.data).where(Record.entity == "contact", Record.patient_id == pid)
            )
            if '"after ' in d
        ]
        assert len(notes) == len(faults)
        assert '"01632 300005"' in srv.get(Record, ("patient", pid)).data
    assert sync(a).verified


def test_a_replayed_push_is_answered_from_its_result_and_never_applied_again(
    sqlite_endpoint: Endpoint, laptops
) -> None:  # type: ignore[no-untyped-def]
    """A's push is applied but the answer is lost; B then changes the same field. When A sends
    the same ops again they are answered from the stored result: no conflict for A, B's later
    value kept, the note stored once, the record's version untouched."""
    ep = sqlite_endpoint
    a, b = laptops(ep, "a"), laptops(ep, "b")
    sync(a), sync(b)
    pid = _first_patient(a)
    with a.session() as s:
        s.get(m.Patient, pid).phone = "01632 500001"
        s.add(m.Contact(patient_id=pid, kind="note", text="replayed note"))
    body = {"batch_id": str(uuid.uuid4()), "ops": local.next_batch(a, 50)}
    assert len(body["ops"]) == 2
    with ep.http("a") as client:
        first = client.post("/v1/push", json=body)
    assert first.status_code == 200, first.text
    assert [r["status"] for r in first.json()["results"]] == [P.APPLIED, P.APPLIED]
    sync(b)  # B sees A's change, then changes the phone again
    with b.session() as s:
        s.get(m.Patient, pid).phone = "01632 500002"
    rb = sync(b)
    assert (rb.pushed, rb.conflicts) == (1, 0)
    with ep.session() as srv:
        version = srv.get(Record, ("patient", pid)).version
    with ep.http("a") as client:
        again = client.post("/v1/push", json=body)
    assert again.status_code == 200, again.text
    replies = again.json()["results"]
    assert [(r["status"], r.get("replayed")) for r in replies] == [(P.APPLIED, True)] * 2
    assert not any(r.get("conflicts") for r in replies)
    with ep.session() as srv:
        patient = srv.get(Record, ("patient", pid))
        assert patient.version == version and '"01632 500002"' in patient.data
        notes = [
            d
            for (d,) in srv.execute(
                select(Record.data).where(Record.entity == "contact", Record.patient_id == pid)
            )
            if '"replayed note"' in d
        ]
        assert len(notes) == 1


def test_a_stale_cursor_redownloads_and_keeps_unsent_edits(endpoint: Endpoint, laptops) -> None:  # type: ignore[no-untyped-def]
    a, b = laptops(endpoint, "a"), laptops(endpoint, "b")
    sync(a), sync(b)
    with b.session() as s:
        flag = s.scalars(select(m.Flag).where(m.Flag.deleted.is_(False))).first()
        flag.deleted = True
        flag_id = flag.id
    sync(b)
    with endpoint.session() as srv:
        assert admin.compact(srv, older_than_days=0) == 1
    pid = _first_patient(a)
    with a.session() as s:
        s.get(m.Patient, pid).carer_needs = "Carer is unwell this month"
    pull_only = engine(a)
    try:
        pull_only._pull()  # the pull step on its own, with the edit still unsent
    finally:
        pull_only.http.close()
    assert pull_only.result.redownloaded
    with a.session() as s:
        assert s.get(m.Patient, pid).carer_needs == "Carer is unwell this month"
        assert s.get(m.Flag, flag_id) is None  # the tombstone is gone from the server too
        assert local.pending_count(s) == 1
    assert sync(a).verified
    with endpoint.session() as srv:
        assert "Carer is unwell this month" in srv.get(Record, ("patient", pid)).data


def _old_format_cursor(key: bytes, payload: dict) -> str:
    """A cursor as servers before itsdangerous signed it: base64 JSON, '.', 32 hex of HMAC-SHA256."""
    import base64
    import hashlib
    import hmac
    import json

    body = base64.urlsafe_b64encode(json.dumps(payload, separators=(",", ":")).encode()).decode()
    return f"{body}.{hmac.new(key, body.encode(), hashlib.sha256).hexdigest()[:32]}"


def test_a_cursor_in_the_old_format_redownloads_and_keeps_unsent_edits(
    sqlite_endpoint: Endpoint, laptops
) -> None:  # type: ignore[no-untyped-def]
    """A laptop last synced by a server that signed cursors by hand, holding an unsent edit: its
    old cursor does not verify (410), it downloads its scope again, and the edit is kept and sent."""
    from int_desk.server import db as server_db

    a = laptops(sqlite_endpoint, "a")
    sync(a)
    with sqlite_endpoint.session() as srv:
        key = server_db.secret(srv)
        position = {
            scope: last for scope, last in srv.execute(select(ScopeSeq.scope, ScopeSeq.last_seq))
        }
    pid = _first_patient(a)
    with a.session() as s:
        local.set_state(s, local.CURSOR, _old_format_cursor(key, {"s": position}))
        s.get(m.Patient, pid).carer_needs = "Carer needs respite before Friday"
    result = sync(a)
    assert result.ok and result.redownloaded and result.verified
    with a.session() as s:
        assert s.get(m.Patient, pid).carer_needs == "Carer needs respite before Friday"
        assert local.pending_count(s) == 0
        assert local.state(s, local.CURSOR) != _old_format_cursor(key, {"s": position})
    with sqlite_endpoint.session() as srv:
        assert "Carer needs respite before Friday" in srv.get(Record, ("patient", pid)).data
    assert not sync(a).redownloaded  # the new cursor serves from now on


def test_a_patient_leaving_the_team_is_purged_from_the_laptop(endpoint: Endpoint, laptops) -> None:  # type: ignore[no-untyped-def]
    a = laptops(endpoint, "a")
    sync(a)
    pid = _first_patient(a)
    assert _contacts(a, pid)
    with endpoint.session() as srv:
        moved = admin.move_patient(srv, pid, "Reading West INT")
    assert moved > 1
    # The incremental pull on its own removes them: no verify step, no re-download behind it.
    pull_only = engine(a, verify=False)
    try:
        pull_only._pull()
    finally:
        pull_only.http.close()
    assert pull_only.result.purged == 1 and not pull_only.result.redownloaded
    with a.session() as s:
        assert s.get(m.Patient, pid) is None
        for model in (m.Contact, m.Flag, m.CohortMembership, m.CarePlan, m.Task):
            assert not s.scalars(select(model).where(model.patient_id == pid)).first()
    result = sync(a)  # and the laptop agrees with the server afterwards
    assert result.verified and not result.redownloaded


def test_the_laptop_keeps_its_place_in_the_change_feed(sqlite_endpoint: Endpoint, laptops) -> None:  # type: ignore[no-untyped-def]
    """Each sync asks only for what changed since the last one: after pulling a change the
    laptop stores the new cursor, so the next sync receives nothing it already has."""
    a, b = laptops(sqlite_endpoint, "a"), laptops(sqlite_endpoint, "b")
    sync(a), sync(b)
    pid = _first_patient(a)
    for n in (1, 2):
        with b.session() as s:
            s.get(m.Patient, pid).phone = f"01632 40000{n}"
        sync(b)
        with a.session() as s:
            before = local.state(s, local.CURSOR)
        got = sync(a)
        assert (got.pulled, got.redownloaded) == (1, False), n
        with a.session() as s:
            assert s.get(m.Patient, pid).phone == f"01632 40000{n}"
            assert local.state(s, local.CURSOR) not in (None, before)
        again = sync(a)
        assert (again.pulled, again.redownloaded) == (0, False), n


def test_a_protocol_mismatch_tells_the_user_to_update(
    sqlite_endpoint: Endpoint, laptops, monkeypatch: pytest.MonkeyPatch
) -> None:  # type: ignore[no-untyped-def]
    a = laptops(sqlite_endpoint, "a")
    monkeypatch.setattr(P, "PROTOCOL_VERSION", 99)
    result = engine(a).run()
    assert not result.ok and result.error_kind == "protocol"
    assert "update the app" in result.error
    with a.session() as s:  # nothing was written
        assert s.scalar(select(func.count()).select_from(m.Patient)) == 0


def test_the_token_goes_to_the_keyring_or_else_inside_the_encrypted_store(
    tmp_path: Path,
) -> None:
    ws = Workspace.create(tmp_path / "k", PASSPHRASE, use_keyring=False)
    try:
        assert credentials.connect(ws, "http://127.0.0.1:9", "idt_secret1") == "keyring"
        assert keyring.get_password(credentials.KEYRING_SERVICE, ws.workspace_id) == "idt_secret1"
        with ws.session() as s:
            assert "idt_secret1" not in {v for (v,) in s.execute(select(SyncState.value))}
        keyring.set_keyring(keyring.backends.fail.Keyring())
        assert credentials.connect(ws, "http://127.0.0.1:9", "idt_secret2") == "store"
        assert credentials.load(ws).token == "idt_secret2"
        with ws.session() as s:
            assert s.scalar(select(func.count()).select_from(SyncOutbox)) == 0
    finally:
        ws.close()
    assert b"idt_secret2" not in (tmp_path / "k" / "store.db").read_bytes()  # encrypted at rest


@pytest.mark.parametrize(
    ("status", "retry_after"),
    [(503, "2"), (429, "2"), (503, "http-date")],
)
def test_a_busy_server_is_asked_again_after_the_retry_after_it_names(
    sqlite_endpoint: Endpoint, laptops, status: int, retry_after: str
) -> None:  # type: ignore[no-untyped-def]
    """The backoff of these tests is 0.02 s: only honouring Retry-After makes the cycle wait ~2 s."""
    import email.utils
    import time

    a = laptops(sqlite_endpoint, "a")
    sync(a)
    pid = _first_patient(a)
    with a.session() as s:
        s.get(m.Patient, pid).phone = "01632 400001"
    if retry_after.startswith("http-date"):  # whole seconds: 3 s ahead is 2 to 3 s from now
        # (GMT, or "-0000" as some servers write it: a date with no zone, read as GMT)
        retry_after = email.utils.formatdate(time.time() + 3, usegmt=retry_after == "http-date")
    sqlite_endpoint.fault("/v1/push", "busy", status=status, retry_after=retry_after)
    result = sync(a)
    assert result.ok and result.retries == 1 and _pending(a) == 0
    assert result.seconds >= 1.9
    with sqlite_endpoint.session() as srv:
        assert '"01632 400001"' in srv.get(Record, ("patient", pid)).data


def test_a_retry_after_longer_than_a_cycle_should_wait_ends_the_cycle_at_once(
    sqlite_endpoint: Endpoint, laptops
) -> None:  # type: ignore[no-untyped-def]
    a = laptops(sqlite_endpoint, "a")
    sync(a)
    with a.session() as s:
        s.get(m.Patient, _first_patient(a)).phone = "01632 400002"
    sqlite_endpoint.fault("/v1/push", "busy", status=503, retry_after="3600")
    result = engine(a).run()
    assert not result.ok and result.error_kind == "server" and result.retries == 0
    assert result.seconds < 30
    assert result.error == (  # what the user reads: when, and that nothing is needed of them
        "The sync server is busy (HTTP 503) and asks to wait 3600 s; sync will try again later."
    )
    assert _pending(a) == 1  # kept for the next cycle
    assert sync(a).ok and _pending(a) == 0


def test_a_cancel_cuts_a_retry_after_wait_short(sqlite_endpoint: Endpoint, laptops) -> None:  # type: ignore[no-untyped-def]
    import threading

    a = laptops(sqlite_endpoint, "a")
    sync(a)
    with a.session() as s:
        s.get(m.Patient, _first_patient(a)).phone = "01632 400003"
    sqlite_endpoint.fault("/v1/push", "busy", status=429, retry_after="50")
    cancel = threading.Event()
    timer = threading.Timer(1.0, cancel.set)
    timer.start()
    try:
        result = engine(a, cancel=cancel).run()
    finally:
        timer.cancel()
    assert result.error_kind == "interrupted" and result.seconds < 20
    assert _pending(a) == 1


def test_unreachable_server_is_retried_with_backoff_then_reported_offline(tmp_path: Path) -> None:
    from int_desk.sync.client import SyncEngine
    from tests.helpers.sync_env import free_port

    ws = Workspace.create(tmp_path / "w", PASSPHRASE, use_keyring=False)
    try:
        with ws.session() as s:
            s.add(m.Place(name="Somewhere"))  # one unsent edit
        url = f"http://127.0.0.1:{free_port()}"  # nothing listens here
        result = SyncEngine(ws, url, "idt_x", retries=2, backoff=0.01, timeout=2).run()
        assert not result.ok and result.error_kind == "network"
        assert result.retries == 2
        assert result.pending == 1  # kept for next time
    finally:
        ws.close()


def test_a_cancelled_sync_stops_and_keeps_everything(tmp_path: Path) -> None:
    import threading

    from int_desk.sync.client import SyncEngine
    from tests.helpers.sync_env import free_port

    ws = Workspace.create(tmp_path / "w", PASSPHRASE, use_keyring=False)
    try:
        with ws.session() as s:
            s.add(m.Place(name="Somewhere"))
        cancel = threading.Event()
        cancel.set()
        url = f"http://127.0.0.1:{free_port()}"
        result = SyncEngine(ws, url, "idt_x", cancel=cancel).run()
        assert not result.ok and result.error_kind == "interrupted"
        assert "cancelled" in result.error and result.pending == 1
    finally:
        ws.close()
