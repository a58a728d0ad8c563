"""The sync client against the real endpoint served on a thread of the test's own process.

Real HTTP on 127.0.0.1, the real ``create_app`` over a real (SQLite) endpoint database seeded
from a small demo, real encrypted laptops: nothing is mocked. Served in-process, the client and
the endpoint's merge both run where mutmut switches its mutants on, so these tests judge
``sync/client.py`` and ``server/engine_ops.py`` for the broad mutation score
(tests/mutation/broad.py) at seconds per mutant. The behaviours already proved against an
endpoint subprocess (tests/test_sync_engine.py, test_sync_duplicate_patient.py) run again here
unchanged; the rest are the client's answers to what the endpoint says.
"""

from __future__ import annotations

import datetime as dt
import inspect
import json
import os
import shutil
import threading
import time
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
import uvicorn  # noqa: F401  (imported at collection: see below)
from sqlalchemy import delete, func, select, update

from int_desk import __version__
from int_desk.server import admin, backup, directory, tokens
from int_desk.server import app as _endpoint_app  # noqa: F401
from int_desk.server.models import DeviceToken, Record, ScopeDigest
from int_desk.store import keys
from int_desk.store import models as m
from int_desk.store.sync_tables import SyncConflict, SyncOutbox
from int_desk.store.workspace import Workspace
from int_desk.sync import client, local
from int_desk.sync.client import SyncEngine, sync_workspace
from int_desk.wire import protocol as P
from int_desk.wire import schema
from tests import test_server_read_scope as read_scope_tests
from tests import test_sync_cycle as cycle_tests
from tests import test_sync_duplicate_patient as duplicate_tests
from tests import test_sync_engine as engine_tests
from tests import test_sync_first_download as first_download_tests
from tests.conftest import DEMO_SEED, DEMO_TODAY, PASSPHRASE
from tests.helpers import sync_env
from tests.helpers.sync_env import Endpoint, engine, sync

SMALL_DEMO = 24  # patients: every team has people, flags, contacts and plans
# (uvicorn and the endpoint's app are imported above, though only serve_in_process uses them:
# a mutation run's fork server collects this module once, so each mutant's run starts with them.)


# A template built beforehand, shared by every test process of a mutation run (tests/mutation/
# broad.py builds it once with the unmutated code): each mutant's tests then start from the same
# endpoint database instead of seeding a demo again (about 3.5 s of CPU per mutant).
PREPARED = "INT_DESK_IN_PROCESS_TEMPLATE"


def build_template(folder: Path) -> Endpoint:
    """An endpoint database in ``folder`` seeded from a small demo (kept there too, in
    ``demo/``), with its users' tokens (written beside it, so another process can load it with
    ``load_template``)."""
    from int_desk.services.demo import build_demo

    saved = keys.DEFAULT_SCRYPT_N
    keys.DEFAULT_SCRYPT_N = 2**12  # (the module fixture runs before conftest lowers it)
    try:
        with Workspace.create(folder / "demo", PASSPHRASE, use_keyring=False) as ws:
            with ws.session() as s:
                build_demo(s, patients=SMALL_DEMO, seed=DEMO_SEED, today=DEMO_TODAY)
            with ws.session() as s:
                _refer_to_a_vcse_worker(s)
            template = Endpoint(url="", db_url=f"sqlite:///{folder / 'srv.db'}")
            sync_env.seed_demo(template, ws)
    finally:
        keys.DEFAULT_SCRYPT_N = saved
    (folder / "template.json").write_text(
        json.dumps({"tokens": template.tokens, "teams": template.teams})
    )
    return template


def _refer_to_a_vcse_worker(s: Any) -> None:
    """Two of a team's people referred to its VCSE worker (a demo this small has none), so
    the endpoint's reads for a referred-only role are judged here too."""
    worker, team = s.execute(
        select(m.Member.id, m.TeamMembership.team_id)
        .join(m.TeamMembership, m.TeamMembership.member_id == m.Member.id)
        .where(m.Member.role == "vcse_worker")
        .order_by(m.Member.name)
    ).first()
    people = s.scalars(
        select(m.CohortMembership.patient_id)
        .join(m.Cohort, m.Cohort.id == m.CohortMembership.cohort_id)
        .where(m.Cohort.team_id == team)
        .order_by(m.CohortMembership.patient_id)
        .distinct()
    ).all()
    s.add_all(
        m.Referral(
            patient_id=pid, service="vcse", reason="Befriending", referred_on=DEMO_TODAY,
            to_member_id=worker,
        )
        for pid in people[:2]
    )  # fmt: skip


def load_template(folder: Path) -> Endpoint:
    names = json.loads((folder / "template.json").read_text())
    return Endpoint(
        url="", db_url=f"sqlite:///{folder / 'srv.db'}", tokens=names["tokens"],
        teams=names["teams"],
    )  # fmt: skip


@pytest.fixture(scope="module")
def small_template(tmp_path_factory: pytest.TempPathFactory) -> Endpoint:
    """An endpoint database seeded from a small demo once per module; each test copies it."""
    prepared = os.environ.get(PREPARED)
    if prepared:
        return load_template(Path(prepared))
    return build_template(tmp_path_factory.mktemp("in-process"))


@pytest.fixture(scope="module")
def small_demo(
    small_template: Endpoint, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[Workspace]:
    """The demo workspace the endpoint was seeded from (a copy), for tests that pick people
    and roles from it (as tests elsewhere do from ``demo_ws``)."""
    folder = tmp_path_factory.mktemp("small-demo") / "demo"
    shutil.copytree(Path(small_template.db_url.removeprefix("sqlite:///")).parent / "demo", folder)
    ws = Workspace.open(folder, PASSPHRASE, use_keyring=False)
    yield ws
    ws.close()


@pytest.fixture
def ep(small_template: Endpoint, tmp_path: Path) -> Iterator[Endpoint]:
    """A running endpoint (this process, 127.0.0.1) over a fresh copy of the template."""
    path = tmp_path / "srv.db"
    shutil.copy(small_template.db_url.removeprefix("sqlite:///"), path)
    running = sync_env.serve_in_process(f"sqlite:///{path}")
    running.tokens, running.teams = dict(small_template.tokens), dict(small_template.teams)
    yield running
    running.stop()


SAME_AS_SUBPROCESS: list[Callable[..., None]] = [
    engine_tests.test_first_download_progress_has_an_end,
    engine_tests.test_two_clients_edit_offline_and_converge,
    engine_tests.test_same_field_edits_become_a_conflict_a_person_resolves,
    engine_tests.test_server_failures_are_retried_and_nothing_is_lost_or_doubled,
    engine_tests.test_a_replayed_push_is_answered_from_its_result_and_never_applied_again,
    engine_tests.test_a_stale_cursor_redownloads_and_keeps_unsent_edits,
    engine_tests.test_a_patient_leaving_the_team_is_purged_from_the_laptop,
    engine_tests.test_the_laptop_keeps_its_place_in_the_change_feed,
    engine_tests.test_a_cursor_in_the_old_format_redownloads_and_keeps_unsent_edits,
    engine_tests.test_a_retry_after_longer_than_a_cycle_should_wait_ends_the_cycle_at_once,
    engine_tests.test_a_cancel_cuts_a_retry_after_wait_short,
    duplicate_tests.test_the_same_person_enrolled_offline_on_two_laptops_becomes_one_record,
    read_scope_tests.test_a_vcse_laptop_holds_only_people_referred_to_them_and_nothing_clinical,
    cycle_tests.test_a_laptop_syncs_in_one_request_once_advertised_and_in_three_when_refused,
    cycle_tests.test_a_stale_cursor_in_a_one_request_cycle_keeps_the_edit_and_re_downloads,
]


@pytest.mark.slow  # the same behaviours as the slow subprocess tests: out of the inner loop
@pytest.mark.parametrize(
    "behaviour",
    SAME_AS_SUBPROCESS,
    ids=[t.__name__.removeprefix("test_") for t in SAME_AS_SUBPROCESS],
)
def test_the_sync_behaviours_hold_with_the_endpoint_in_process(
    behaviour: Callable[..., None], ep: Endpoint, request: pytest.FixtureRequest
) -> None:
    endpoints = {"endpoint", "sqlite_endpoint"}
    given = {"demo_ws": "small_demo"}  # the workspace ``ep`` was seeded from
    behaviour(**{
        name: ep if name in endpoints else request.getfixturevalue(given.get(name, name))
        for name in inspect.signature(behaviour).parameters
    })  # fmt: skip


@pytest.mark.parametrize(
    ("status", "retry_after"), [(503, "2"), (429, "http-date"), (503, "http-date -0000")]
)
def test_a_busy_server_is_asked_again_after_the_retry_after_it_names(
    ep: Endpoint, laptops, status: int, retry_after: str
) -> None:  # type: ignore[no-untyped-def]
    """test_sync_engine's, in process: the wait a 503 or 429 names, in seconds or as a date."""
    engine_tests.test_a_busy_server_is_asked_again_after_the_retry_after_it_names(
        ep, laptops, status, retry_after
    )


def _first_patient(ws: Workspace) -> uuid.UUID:
    with ws.session() as s:
        return s.scalars(select(m.Patient.id).order_by(m.Patient.id)).first()


def _add_notes(ws: Workspace, pid: uuid.UUID, text: str, n: int) -> set[str]:
    texts = {f"{text} {i}" for i in range(n)}
    with ws.session() as s:
        s.add_all(m.Contact(patient_id=pid, kind="note", text=t) for t in sorted(texts))
    return texts


def _pending(ws: Workspace) -> int:
    with ws.session() as s:
        return local.pending_count(s)


def _server_counts(ep: Endpoint, user: str) -> dict[str, int]:
    with ep.http(user) as http:
        entities = http.get("/v1/verify").json()["entities"]
    return {e: v["count"] for e, v in entities.items()}


def test_a_first_sync_brings_exactly_the_teams_records_and_says_so(
    ep: Endpoint, laptops, caplog: pytest.LogCaptureFixture
) -> None:  # type: ignore[no-untyped-def]
    a = laptops(ep, "a")
    with caplog.at_level("INFO", logger=client.__name__):
        first = sync(a)
    server = _server_counts(ep, "a")
    with a.session() as s:
        assert local.counts(s) == server
        assert local.state(s, local.LAST_SYNC_AT) == first.finished_at
        assert local.state(s, local.GENERATION)  # the endpoint's database, for restores
        assert local.state(s, local.CURSOR)
    # (what the status bar shows as the last sync: this sync's end, a moment ago)
    finished = dt.datetime.fromisoformat(first.finished_at)
    assert dt.timedelta(0) <= dt.datetime.now(dt.UTC) - finished < dt.timedelta(minutes=2)
    assert (first.pushed, first.pulled, first.pending) == (0, sum(server.values()), 0)
    assert first.verified is True and first.redownloaded and not first.error
    assert first.summary().startswith(f"Synced: sent 0, received {first.pulled}, re-downloaded")
    assert first.summary().endswith(f"0 waiting ({first.seconds:.1f} s).")
    assert (  # what support reads in the log: counts, never a record
        f"sync ok=True pushed=0 pulled={first.pulled} conflicts=0 rejected=0 pending=0 "
        f"{first.seconds:.2f}s"
    ) in [r.getMessage() for r in caplog.records]
    again = sync_workspace(a, timeout=5)  # as `int-desk sync` runs it: the stored connection
    assert (again.ok, again.pulled, again.redownloaded, again.verified) == (True, 0, False, True)
    assert again.summary().startswith("Synced: sent 0, received 0, 0 waiting")


def test_a_wrong_or_expired_token_stops_the_sync_with_a_sign_in_message(
    ep: Endpoint, laptops
) -> None:  # type: ignore[no-untyped-def]
    a = laptops(ep, "a")
    with a.session() as s:
        s.add(m.Place(name="A new place"))
    wrong = SyncEngine(a, ep.url, "idt_not_a_token", backoff=0.01).run()
    assert (wrong.ok, wrong.error_kind, wrong.retries) == (False, "auth", 0)
    assert wrong.error.startswith("Sign-in to the sync server failed")
    assert wrong.summary() == f"Sync failed: {wrong.error}"
    with ep.session() as s:
        s.execute(update(DeviceToken).values(expires_at="2000-01-01T00:00:00+00:00"))
    expired = engine(a).run()
    assert (expired.ok, expired.error_kind, expired.retries) == (False, "expired", 0)
    # The endpoint's own words: sign in again with a new code; unsent changes are kept.
    assert expired.error == tokens.EXPIRED.format(days=tokens.DEFAULT_DAYS)
    assert expired.pending == 1 == _pending(a)  # the edit waits for the next sign-in
    with a.session() as s:
        assert local.state(s, local.LAST_SYNC_AT) is None
        assert '"ok": false' in local.state(s, local.LAST_RESULT)


def _run_to_the_end(cycle: SyncEngine, within: float = 120.0) -> client.SyncResult:
    """Run a sync cycle that must end by itself: its waits between tries are short here
    (backoff 0.02 s), so one still going after ``within`` seconds never ends (a wait with no
    limit), and the test says so rather than hang."""
    done: list[client.SyncResult] = []
    worker = threading.Thread(target=lambda: done.append(cycle.run()), daemon=True)
    worker.start()
    worker.join(within)
    assert done, f"the sync cycle had not ended after {within:.0f} s"
    return done[0]


def test_a_server_that_keeps_failing_is_retried_then_reported_and_the_edit_kept(
    ep: Endpoint, laptops, caplog: pytest.LogCaptureFixture
) -> None:  # type: ignore[no-untyped-def]
    a = laptops(ep, "a")
    sync(a)
    with a.session() as s:
        s.get(m.Patient, _first_patient(a)).phone = "01632 700001"
    ep.fault("/v1/push", "500_before", times=4)
    with caplog.at_level("INFO", logger=client.__name__):
        failed = _run_to_the_end(engine(a, retries=2))
    assert (failed.ok, failed.error_kind, failed.retries) == (False, "server", 2)
    assert failed.error == "The sync server had a problem (HTTP 500)."
    retried = [r.getMessage() for r in caplog.records if r.getMessage().startswith("sync retry")]
    assert [line.rsplit(" in ", 1)[0] for line in retried] == [  # what support reads
        "sync retry 1 after server",
        "sync retry 2 after server",
    ]
    assert _pending(a) == 1
    recovered = engine(a, retries=2).run()  # the fourth 500 is retried, then it goes through
    assert recovered.ok and (recovered.retries, recovered.pushed, recovered.pending) == (1, 1, 0)


def test_an_upload_answered_with_a_bad_request_fails_the_sync_and_keeps_the_edit(
    ep: Endpoint, laptops
) -> None:  # type: ignore[no-untyped-def]
    """A 400 (say a proxy in front of the endpoint refusing the upload) is a refusal, never an
    acknowledgement: the cycle fails in the endpoint's words, the edit waits, and it is sent
    once the next cycle goes through."""
    a = laptops(ep, "a")
    sync(a)
    with a.session() as s:
        s.get(m.Patient, _first_patient(a)).phone = "01632 700002"
    for path in (P.CYCLE_PATH, "/v1/push"):  # the one-request cycle, then the push on its own
        ep.fault(path, "busy", status=400)
    refused = engine(a).run()
    assert (refused.ok, refused.error_kind, refused.pushed, refused.retries) == (
        False, "protocol", 0, 0,
    )  # fmt: skip
    assert refused.error == "The sync server refused the upload: busy"
    assert _pending(a) == 1
    sent = sync(a)
    assert (sent.pushed, sent.pending, sent.verified) == (1, 0, True)


def test_a_refusal_naming_edits_the_upload_does_not_hold_sets_nothing_aside(
    ep: Endpoint, laptops
) -> None:  # type: ignore[no-untyped-def]
    """A 422 names the refused edits by their place in the upload. One naming places the upload
    does not have (only a broken endpoint sends it) sets no edit aside: the sync fails in the
    endpoint's words, every edit waits, and the next cycle sends them."""
    a = laptops(ep, "a")
    sync(a)
    _add_notes(a, _first_patient(a), "Visited today", 2)
    refusal = [{"op": 5, "msg": "no such edit"}, {"op": -1, "msg": "?"}, {"op": "0", "msg": "?"}]
    for path in (P.CYCLE_PATH, "/v1/push"):  # the one-request cycle, then the push on its own
        ep.fault(path, "busy", status=422, detail=refusal)
    refused = engine(a).run()
    assert (refused.ok, refused.error_kind, refused.rejected, refused.pushed) == (
        False, "protocol", 0, 0,
    )  # fmt: skip
    assert refused.error == f"The sync server refused the upload: HTTP 422: {json.dumps(refusal)}"
    assert _pending(a) == 2
    sent = sync(a)
    assert (sent.pushed, sent.pending, sent.verified) == (2, 0, True)


def test_edits_the_endpoint_refuses_are_set_aside_and_the_rest_still_sent(
    ep: Endpoint, laptops
) -> None:  # type: ignore[no-untyped-def]
    a = laptops(ep, "a")
    sync(a)
    pid = _first_patient(a)
    with a.session() as s:
        s.add(m.Contact(patient_id=pid, kind="note", text="kept note"))
        s.add_all(
            m.Contact(patient_id=pid, kind="note", text=f"refused note {n}") for n in range(6)
        )
    with a.session() as s:  # ops the endpoint cannot accept (an entity it does not know)
        ops = s.scalars(select(SyncOutbox).where(SyncOutbox.status == "pending")).all()
        refused = [o for o in ops if "refused note" in str(o.fields)]
        for op in refused:
            op.entity = "no_such_thing"
    result = sync(a)
    assert (result.rejected, result.pushed, result.pending) == (6, 1, 0)
    assert "6 edits refused" in result.summary()
    with a.session() as s:
        row = s.get(SyncOutbox, refused[0].seq)
        assert row.status == "rejected" and "refused by the server" in row.reason
        # The endpoint's reasons as it gave them (one for each op), cut at 300 characters for
        # the list of refused edits.
        why = "refused by the server: HTTP 422: "
        assert row.reason.startswith(why + '[{"op": ') and len(row.reason) == len(why) + 300
    with ep.session() as s:
        texts = {r.data for r in s.scalars(select(Record).where(Record.entity == "contact"))}
    assert any('"kept note"' in t for t in texts)
    assert not any('"refused note"' in t for t in texts)


def test_a_laptop_missing_rows_the_server_holds_downloads_them_again(
    ep: Endpoint, laptops, caplog: pytest.LogCaptureFixture
) -> None:  # type: ignore[no-untyped-def]
    a = laptops(ep, "a")
    sync(a)
    pid = _first_patient(a)
    with local.apply_session(a) as s:  # lost locally, never as an edit (nothing to send)
        lost = s.scalars(select(m.Contact.id).where(m.Contact.patient_id == pid)).all()
        event = s.scalars(select(m.HealthEvent.id).order_by(m.HealthEvent.id)).first()
        assert lost and event
        s.execute(delete(m.Contact).where(m.Contact.patient_id == pid))
        s.execute(delete(m.HealthEvent))  # and every row of a 2nd table: none of that kind left
    with a.session() as s:  # ids last compared half an hour ago
        local.set_state(s, local.HASH_CHECKED_AT, str(time.time() - 1800))
    with caplog.at_level("INFO", logger=client.__name__):
        result = sync(a)
    assert result.redownloaded and result.verified is True  # checked again after the download
    assert result.notes == ["verify mismatch (contact, health_event): re-downloaded"]
    assert "verify mismatch in contact,health_event" in [r.getMessage() for r in caplog.records]
    with a.session() as s:  # the check after a re-download compares the ids too, at once
        assert float(local.state(s, local.HASH_CHECKED_AT)) > time.time() - 60
    with a.session() as s:
        assert set(s.scalars(select(m.Contact.id).where(m.Contact.patient_id == pid))) == set(lost)
        assert s.get(m.HealthEvent, event) is not None
    assert sync(a).verified is True


def test_the_id_check_runs_hourly_and_catches_a_swapped_row(ep: Endpoint, laptops) -> None:  # type: ignore[no-untyped-def]
    """Counts are compared every cycle, the ids hourly: a row swapped for another (same count)
    is caught by the next id check, which then restores what the server holds."""
    a = laptops(ep, "a")
    sync(a)
    pid = _first_patient(a)
    with local.apply_session(a) as s:
        gone = s.scalars(select(m.Contact).where(m.Contact.patient_id == pid)).first()
        gone_id = gone.id
        s.add(m.Contact(patient_id=pid, kind="note", text="stray", server_version=1))
        s.delete(gone)
    counted = sync(a)
    assert counted.verified is True and not counted.redownloaded  # counts agree
    with a.session() as s:
        local.set_state(s, local.HASH_CHECKED_AT, str(time.time() - client.HASH_EVERY - 5))
    hourly = sync(a)
    assert hourly.redownloaded and any("verify mismatch (contact)" in n for n in hourly.notes)
    with a.session() as s:
        assert s.get(m.Contact, gone_id) is not None
        assert float(local.state(s, local.HASH_CHECKED_AT)) > time.time() - 60
    assert sync(a, full_verify=True).verified is True
    with local.apply_session(a) as s:  # swapped again, within the hour: counts still agree
        gone = s.scalars(select(m.Contact).where(m.Contact.patient_id == pid)).first()
        gone_id = gone.id
        s.add(m.Contact(patient_id=pid, kind="note", text="stray again", server_version=1))
        s.delete(gone)
    assert sync(a).redownloaded is False  # (the hour has not passed)
    asked = sync(a, full_verify=True)  # the id check asked for: run at once
    assert asked.redownloaded and any("verify mismatch (contact)" in n for n in asked.notes)
    with a.session() as s:
        assert s.get(m.Contact, gone_id) is not None


def test_offline_is_reported_at_once_for_the_app_and_after_retries_otherwise(
    tmp_path: Path,
) -> None:
    ws = Workspace.create(tmp_path / "w", PASSPHRASE, use_keyring=False)
    try:
        url = f"http://127.0.0.1:{sync_env.free_port()}"  # nothing listens here
        quick = SyncEngine(ws, url, "idt_x", retries=3, backoff=0.01, quick_offline=True).run()
        assert (quick.ok, quick.error_kind, quick.retries) == (False, "network", 0)
        assert quick.error == "The sync server could not be reached (ConnectError)."
        slow = SyncEngine(ws, url, "idt_x", retries=3, backoff=0.01).run()
        assert (slow.error_kind, slow.retries) == ("network", 3)
    finally:
        ws.close()


def test_a_server_lost_half_way_through_an_app_cycle_is_tried_again_before_offline(
    ep: Endpoint, laptops, monkeypatch: pytest.MonkeyPatch
) -> None:  # type: ignore[no-untyped-def]
    """The app's cycle says "offline" at once only when nothing answered at all; a server that
    answered and then went away in the middle of the cycle (restarted, a network blip) is
    tried again, as many times as the cycle allows, before the cycle fails."""
    monkeypatch.setattr(P, "MAX_PULL_PAGE", 40)  # a first download of many pages
    a = laptops(ep, "a")

    def progress(stage: str, done: int, total: int) -> None:
        if stage == "download":
            ep.stop()  # after the first page: nothing listens from now on

    lost = _run_to_the_end(
        engine(a, quick_offline=True, retries=2, pull_page=40, progress=progress)
    )
    assert (lost.ok, lost.error_kind, lost.retries) == (False, "network", 2)
    assert lost.error.startswith("The sync server could not be reached (")
    with a.session() as s:  # the page that came is kept
        assert sum(local.counts(s).values()) >= 40


def test_a_workspace_never_connected_is_told_so(tmp_path: Path) -> None:
    from int_desk.domain.errors import SyncError

    ws = Workspace.create(tmp_path / "w", PASSPHRASE, use_keyring=False)
    try:
        told = "^This workspace is not connected to a sync endpoint.$"
        with pytest.raises(SyncError, match=told):
            sync_workspace(ws)
    finally:
        ws.close()


def test_cancelling_between_pages_keeps_what_arrived_and_the_next_sync_finishes(
    ep: Endpoint, laptops
) -> None:  # type: ignore[no-untyped-def]
    a, b = laptops(ep, "a"), laptops(ep, "b")
    sync(a), sync(b)
    pid = _first_patient(a)
    notes = _add_notes(b, pid, "paged note", 25)
    sync(b)
    cancel = threading.Event()
    seen: list[tuple[int, int]] = []

    def progress(stage: str, done: int, total: int) -> None:
        if stage == "pull":
            seen.append((done, total))  # (a pull's end is not known: 0, a bar with no end)
            cancel.set()  # after the first page

    stopped = engine(a, cancel=cancel, pull_page=10, verify=False, progress=progress).run()
    assert not stopped.ok and stopped.error_kind == "interrupted"
    assert stopped.error == "Sync was cancelled; everything received so far is kept."
    assert seen == [(10, 0)] and stopped.pulled == 10
    finished = sync(a, pull_page=10)
    assert (finished.pulled, finished.redownloaded, finished.verified) == (15, False, True)
    assert notes <= engine_tests._contacts(a, pid)


def test_an_app_too_old_for_the_endpoint_is_told_to_update_and_writes_nothing(
    ep: Endpoint, laptops
) -> None:  # type: ignore[no-untyped-def]
    a = laptops(ep, "a")
    old = engine(a)
    old.http.headers[P.PROTOCOL_HEADER] = str(P.PROTOCOL_VERSION - 1)  # what an older app sends
    result = old.run()
    assert (result.ok, result.error_kind, result.retries) == (False, "protocol", 0)
    assert result.error.startswith(client.UPDATE_APP)
    with a.session() as s:
        assert s.scalar(select(m.Patient.id)) is None
        assert local.state(s, local.CURSOR) is None


def test_a_huddle_planned_on_one_laptop_reaches_the_teams_other_laptop(
    ep: Endpoint, laptops
) -> None:  # type: ignore[no-untyped-def]
    """Team rows (a huddle, who attends it) and a patient's place on its agenda, all new in one
    batch, are stored by the endpoint in the team's scope and arrive whole on a colleague's
    laptop."""
    a, b = laptops(ep, "a"), laptops(ep, "b")
    sync(a), sync(b)
    team = uuid.UUID(ep.teams["Bicester INT"])
    pid = _first_patient(a)
    with a.session() as s:
        member = s.scalars(
            select(m.TeamMembership.member_id).where(m.TeamMembership.team_id == team)
        ).first()
        huddle = m.Huddle(team_id=team, scheduled_at=dt.datetime(2026, 12, 8, 9, 0, tzinfo=dt.UTC))
        s.add(huddle)
        s.flush()
        s.add(m.HuddleAttendee(huddle_id=huddle.id, member_id=member))
        s.add(m.HuddleItem(huddle_id=huddle.id, patient_id=pid, reasons=["new referral"]))
    sent = sync(a)
    assert (sent.pushed, sent.rejected, sent.pending) == (3, 0, 0)
    got = sync(b)
    assert (got.pulled, got.verified) == (3, True)
    with b.session() as s:
        assert s.get(m.Huddle, huddle.id).team_id == team
        assert s.scalars(
            select(m.HuddleAttendee.member_id).where(m.HuddleAttendee.huddle_id == huddle.id)
        ).all() == [member]
        [item] = s.scalars(select(m.HuddleItem).where(m.HuddleItem.huddle_id == huddle.id)).all()
        assert (item.patient_id, item.reasons) == (pid, ["new referral"])
    with a.session() as sa, b.session() as sb:
        assert local.digest(sa) == local.digest(sb)


def test_a_bad_row_arriving_with_a_later_change_is_set_aside_and_said_so(
    ep: Endpoint, laptops
) -> None:  # type: ignore[no-untyped-def]
    """A row the laptop cannot store (text that is not Unicode, written by an endpoint before it
    checked) arriving in an ordinary pull is set aside, counted and named in this sync's notes;
    the laptop keeps what it had and the next sync neither repeats the note nor re-downloads."""
    a, b = laptops(ep, "a"), laptops(ep, "b")
    sync(a), sync(b)
    pid = _first_patient(a)
    with b.session() as s:
        note = s.scalars(
            select(m.Contact).where(m.Contact.patient_id == pid).order_by(m.Contact.id)
        ).first()
        note_id, before = note.id, note.text
        note.text = "Visited, all well"
    sync(b)
    with ep.session() as s:
        rec = s.get(Record, ("contact", note_id))
        rec.data = json.dumps({**json.loads(rec.data), "text": "Visited \ud800 today"})
    got = sync(a)
    assert (got.quarantined, got.redownloaded, got.verified) == (1, False, True)
    assert got.notes == ["1 record set aside this time"]
    assert (
        ", 1 record from the server could not be stored and were set aside (ask your "
        "administrator to repair them), "
    ) in got.summary()
    with a.session() as s:
        assert s.get(m.Contact, note_id).text == before
        assert [(e, rid) for e, rid, _info in local.quarantined(s)] == [("contact", note_id.hex)]
    again = sync(a)
    assert (again.quarantined, again.redownloaded, again.notes) == (1, False, [])


def test_a_pull_over_several_pages_leaves_every_unsent_edit_alone_and_counts_them(
    ep: Endpoint, laptops
) -> None:  # type: ignore[no-untyped-def]
    """Rows this laptop has edited but not yet sent are not overwritten by the server's newer
    copies, on whichever page they arrive, and the pull says how many it left alone; the
    edits are then sent, and the same field changed on both sides becomes conflicts."""
    a, b = laptops(ep, "a"), laptops(ep, "b")
    sync(a), sync(b)
    with a.session() as s:
        people = s.scalars(select(m.Patient.id).order_by(m.Patient.id).limit(2)).all()
    for ws, phone in ((b, "01632 400101"), (a, "01632 400202")):
        with ws.session() as s:
            for pid in people:
                s.get(m.Patient, pid).phone = phone
    sync(b)
    pull_only = engine(a, pull_page=1, verify=False)
    try:
        pull_only._pull()  # the pull on its own: a's edits are still unsent
    finally:
        pull_only.http.close()
    assert (pull_only.result.pulled, pull_only.result.skipped) == (0, 2)
    with a.session() as s:
        assert {s.get(m.Patient, pid).phone for pid in people} == {"01632 400202"}
        assert local.pending_count(s) == 2
    sent = sync(a)
    assert (sent.pushed, sent.conflicts, sent.pending) == (2, 2, 0)
    assert sent.summary().startswith(
        "Synced: sent 2, received 0, 2 conflicts to resolve, 0 waiting"
    )


def test_a_goal_and_an_action_added_to_a_draft_plan_reach_the_teams_other_laptop(
    ep: Endpoint, laptops
) -> None:  # type: ignore[no-untyped-def]
    """New rows placed by their care plan (a goal, an action for it) are stored in the plan's
    team and person, and a colleague's laptop receives them."""
    a, b = laptops(ep, "a"), laptops(ep, "b")
    sync(a), sync(b)
    with a.session() as s:
        plan = s.scalars(
            select(m.CarePlan).where(m.CarePlan.status == "draft").order_by(m.CarePlan.id)
        ).first()
        assert plan is not None
        goal = m.Goal(care_plan_id=plan.id, description="Walk to the shop again")
        s.add(goal)
        s.flush()
        s.add(
            m.PlanAction(care_plan_id=plan.id, goal_id=goal.id, description="Physio twice a week")
        )
    sent = sync(a)
    assert (sent.pushed, sent.rejected, sent.pending) == (2, 0, 0)
    assert sync(b).verified is True
    with b.session() as s:
        assert s.get(m.Goal, goal.id).description == "Walk to the shop again"
        [action] = s.scalars(select(m.PlanAction).where(m.PlanAction.goal_id == goal.id)).all()
        assert (action.care_plan_id, action.description) == (plan.id, "Physio twice a week")


def test_a_new_row_for_another_team_is_refused_and_says_why(ep: Endpoint) -> None:
    """A laptop (or anything with its token) adding a huddle to a team it is not in is refused,
    with the reason the laptop shows; nothing is stored."""
    huddle, now = uuid.uuid4(), "2026-12-07T09:00:00.000000+00:00"
    op = {
        "op_id": str(uuid.uuid4()), "entity": "huddle", "id": str(huddle), "kind": "insert",
        "base_version": None,
        "fields": {
            "team_id": ep.teams["Reading West INT"], "scheduled_at": now, "kind": "daily",
            "status": "planned", "minutes": "", "created_at": now, "updated_at": now,
            "deleted": False,
        },
    }  # fmt: skip
    with ep.http("a") as http:
        reply = http.post("/v1/push", json={"batch_id": str(uuid.uuid4()), "ops": [op]})
    assert reply.status_code == 200, reply.text
    [result] = reply.json()["results"]
    assert (result["status"], result["reason"]) == ("rejected", "forbidden: not one of your teams")
    with ep.session() as s:
        assert s.get(Record, ("huddle", huddle)) is None


def test_a_team_set_up_centrally_is_stored_and_counted_in_its_own_scope(ep: Endpoint) -> None:
    """The first row of a new team's scope (the team itself, made by the administrator) is
    stored and counted there, so its members' laptops can verify what they receive."""
    with ep.session() as s:
        place = s.scalars(select(Record.id).where(Record.entity == "place")).first()
        team = directory.save(
            s, "team", None, {"name": "Banbury INT", "place_id": str(place)}, base_version=None,
            by=directory.Editor("int-desk admin"),
        ).id  # fmt: skip
    with ep.session() as s:
        assert json.loads(s.get(Record, ("team", team)).data)["name"] == "Banbury INT"
        counted = s.get(ScopeDigest, (str(team), "team"))
        assert counted is not None and counted.count == 1


def test_small_pages_and_batches_carry_everything(ep: Endpoint, laptops) -> None:  # type: ignore[no-untyped-def]
    a, b = laptops(ep, "a"), laptops(ep, "b")
    sync(a), sync(b)
    pid = _first_patient(a)
    notes = _add_notes(a, pid, "batched note", 23)
    bar: list[tuple[int, int]] = []

    def progress(stage: str, done: int, total: int) -> None:
        if stage == "push":
            bar.append((done, total))

    sent = sync(a, push_batch=5, progress=progress)
    assert (sent.pushed, sent.pending) == (23, 0)
    assert bar == [(0, 23), (5, 23), (10, 23), (15, 23), (20, 23)]  # the app's bar: of 23
    got = sync(b, pull_page=4)
    assert (got.pulled, got.redownloaded, got.verified) == (23, False, True)
    assert notes <= engine_tests._contacts(b, pid)
    with a.session() as sa, b.session() as sb:
        assert local.digest(sa) == local.digest(sb)


def test_every_request_says_which_version_of_the_app_sent_it(ep: Endpoint, laptops) -> None:  # type: ignore[no-untyped-def]
    """The operator's proxy and access logs see which version of INT Desk each laptop runs
    (the User-Agent), on every request of a sync, and no other agent."""
    a = laptops(ep, "a")
    cycle = engine(a)
    agents: list[list[str]] = []
    cycle.http.event_hooks["request"].append(
        lambda request: agents.append(request.headers.get_list("user-agent"))
    )
    assert cycle.run().ok
    assert len(agents) >= 3 and all(one == [f"INT-Desk/{__version__}"] for one in agents)


def _asked(ep: Endpoint) -> dict[str, float]:
    """How many requests the endpoint has answered on each sync route (its /metrics)."""
    routes = (P.CYCLE_PATH, "/v1/push", "/v1/pull", "/v1/verify")
    return {route: cycle_tests._requests(ep, route) for route in routes}


def _more(ep: Endpoint, before: dict[str, float]) -> dict[str, int]:
    return {route: int(n - before[route]) for route, n in _asked(ep).items() if n > before[route]}


def test_a_usual_sync_is_one_request_and_a_bigger_one_takes_what_it_needs(
    ep: Endpoint, laptops
) -> None:  # type: ignore[no-untyped-def]
    """Once the endpoint advertises it, a usual sync (the edits fit one upload, the colleague's
    changes one page) is one request: the edits sent, the changes received and the counts
    checked, nothing asked again. More changes than a page: the pages after the first are
    pulled and the counts asked again (the ones in the answer were counted before them). More
    edits than an upload: the three requests. Every edit and change arrives each time."""
    a, b = laptops(ep, "a"), laptops(ep, "b")
    sync(a), sync(b)
    pid = _first_patient(a)
    mine = _add_notes(a, pid, "coordinator note", 3)
    theirs = _add_notes(b, pid, "nurse note", 2)
    sync(b)
    before = _asked(ep)
    bar: list[tuple[str, int, int]] = []
    usual = sync(a, push_batch=3, progress=lambda *step: bar.append(step))
    assert _more(ep, before) == {P.CYCLE_PATH: 1}
    assert bar == [("push", 0, 3), ("pull", 5, 0)]  # what the app's progress bar shows
    assert (usual.pushed, usual.pulled, usual.verified, usual.pending) == (
        3,
        5,
        True,
        0,
    )  # (own 3 back)
    assert theirs <= engine_tests._contacts(a, pid)
    more = _add_notes(b, pid, "nurse visit", 7)
    sync(b)
    mine |= _add_notes(a, pid, "coordinator call", 1)
    before = _asked(ep)
    paged = sync(a, pull_page=3)
    assert _more(ep, before) == {P.CYCLE_PATH: 1, "/v1/pull": 2, "/v1/verify": 1}
    assert (paged.pushed, paged.pulled, paged.verified, paged.redownloaded) == (1, 8, True, False)
    assert more <= engine_tests._contacts(a, pid)
    mine |= _add_notes(a, pid, "coordinator letter", 4)
    before = _asked(ep)
    bigger = sync(a, push_batch=3)
    assert _more(ep, before) == {"/v1/push": 2, "/v1/pull": 1, "/v1/verify": 1}
    assert (bigger.pushed, bigger.pending, bigger.verified) == (4, 0, True)
    assert sync(b).verified and mine <= engine_tests._contacts(b, pid)


def _restore(ep: Endpoint, saved: Path) -> None:
    """Stop the endpoint, restore its database from ``saved`` and serve it again (same port)."""
    port = int(ep.url.rsplit(":", 1)[1])
    ep.stop()
    backup.restore(ep.db_url, saved)
    back = sync_env.serve_in_process(ep.db_url, port=port)
    ep.server, ep.thread = back.server, back.thread  # (stopped with the fixture)


def test_after_the_endpoint_is_restored_from_a_backup_the_laptop_sends_what_it_lost(
    ep: Endpoint,
    laptops,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    caplog: pytest.LogCaptureFixture,
) -> None:  # type: ignore[no-untyped-def]
    monkeypatch.setattr(P, "MAX_PULL_PAGE", 200)  # the restore is read over several pages
    a = laptops(ep, "a")
    sync(a)
    pid = _first_patient(a)
    backup.backup(ep.db_url, tmp_path / "endpoint.backup")
    lost = _add_notes(a, pid, "written after the backup", 2)
    with ep.session() as s:  # and a place added centrally, which the restore takes away
        place = directory.save(
            s, "place", None, {"name": "Kidlington"}, base_version=None,
            by=directory.Editor("int-desk admin"),
        ).id  # fmt: skip
    sync(a)
    with a.session() as s:
        assert s.get(m.Place, place) is not None
    _restore(ep, tmp_path / "endpoint.backup")
    cancel = threading.Event()
    caplog.clear()
    try:  # (a restore read that never ends is stopped, and fails the test)
        with caplog.at_level("INFO", logger=client.__name__):
            result = _run_to_the_end(engine(a, cancel=cancel, pull_page=200))
    finally:
        cancel.set()
    assert result.ok, result.error
    told = [r.getMessage() for r in caplog.records if r.name == client.__name__]
    assert told[0] == "the sync server was restored from a backup: sending again what it lost"
    assert (result.resent, result.verified) == (2, True)  # the two notes, nothing else
    with a.session() as s:  # the place is gone with the re-download, not after a verify mismatch
        assert s.get(m.Place, place) is None
    assert result.redownloaded  # then everything the restored endpoint holds, afresh
    # What support reads: the restore, and no stale cursor (the laptop re-downloads because it
    # was told of the restore, not because the endpoint then refused its old cursor).
    assert result.notes == [
        "the sync server was restored from a backup: 2 records it had lost sent again"
    ]
    assert "2 records the restored server had lost sent again" in result.summary()
    with ep.session() as s:
        texts = {r.data for r in s.scalars(select(Record).where(Record.entity == "contact"))}
    assert all(any(f'"{t}"' in d for d in texts) for t in lost)
    again = sync(a)
    assert (again.resent, again.pushed, again.redownloaded) == (0, 0, False)


def test_after_a_restore_a_change_the_laptop_was_only_behind_on_is_received_not_disputed(
    ep: Endpoint, laptops, tmp_path: Path
) -> None:  # type: ignore[no-untyped-def]
    """The endpoint is restored from a backup holding a colleague's change this laptop had not
    received yet. The laptop sends back what the endpoint lost (its two notes) and takes the
    colleague's change: it does not send its own older copy of that person back, which would
    put a conflict to someone about a change nobody made after the backup."""
    a, b = laptops(ep, "a"), laptops(ep, "b")
    sync(a), sync(b)
    pid = _first_patient(a)
    with b.session() as s:
        s.get(m.Patient, pid).phone = "01632 401111"
    sync(b)
    backup.backup(ep.db_url, tmp_path / "endpoint.backup")
    _add_notes(a, pid, "written after the backup", 2)
    upload = engine(a)
    try:
        upload._push()  # the notes reach the endpoint; this laptop's copy of the person is older
    finally:
        upload.http.close()
    with a.session() as s:
        assert s.get(m.Patient, pid).phone != "01632 401111"
    _restore(ep, tmp_path / "endpoint.backup")
    result = _run_to_the_end(engine(a), within=60)
    assert result.ok and (result.resent, result.conflicts, result.verified) == (2, 0, True)
    with a.session() as s:
        assert s.get(m.Patient, pid).phone == "01632 401111"
        assert s.scalar(select(func.count()).select_from(SyncConflict)) == 0


def test_a_login_the_endpoint_does_not_know_as_a_member_is_refused_with_its_reason(
    ep: Endpoint, laptops
) -> None:  # type: ignore[no-untyped-def]
    with ep.session() as s:
        admin.add_user(s, "stranger", [next(iter(ep.teams))], member_id=uuid.uuid4())
        ep.tokens["stranger"] = admin.issue_token(s, "stranger", "laptop")[1]
    quiet = laptops(ep, "stranger")
    download = engine(quiet).run()
    assert (download.ok, download.error_kind, download.retries) == (False, "protocol", 0)
    assert download.error.startswith("The sync server refused the download: ")
    assert "not linked to a team member" in download.error
    busy = laptops(ep, "stranger")
    with busy.session() as s:
        s.add(m.Place(name="A place of their own"))
    upload = engine(busy).run()
    assert (upload.ok, upload.error_kind, upload.pending) == (False, "auth", 1)
    assert upload.error.startswith("The sync server refused the upload: ")
    assert "not linked to a team member" in upload.error


def test_new_reference_data_from_a_laptop_is_refused_and_says_it_is_managed_centrally(
    ep: Endpoint, laptops
) -> None:  # type: ignore[no-untyped-def]
    a = laptops(ep, "a")
    sync(a)
    with a.session() as s:
        s.add(m.Place(name="A new community hall"))
    result = sync(a)
    assert (result.rejected, result.pushed, result.pending) == (1, 0, 0)
    with a.session() as s:
        [refused] = s.scalars(select(SyncOutbox).where(SyncOutbox.status == "rejected")).all()
        assert refused.entity == "place" and "managed centrally" in refused.reason
    with ep.session() as s:
        assert not [
            r
            for r in s.scalars(select(Record).where(Record.entity == "place"))
            if "community hall" in r.data
        ]


def test_a_first_download_over_many_pages_stopped_half_way_resumes_where_it_stopped(
    ep: Endpoint, laptops, monkeypatch: pytest.MonkeyPatch
) -> None:  # type: ignore[no-untyped-def]
    """A new laptop's first download (many pages) cut off after two pages (the laptop closed,
    the network gone) keeps those pages; the next sync asks only for the rest, and the laptop
    ends with exactly what the server holds, checked."""
    page = 40
    monkeypatch.setattr(P, "MAX_PULL_PAGE", page)  # (the app's pages are 5,000 rows)
    a = laptops(ep, "a")
    server = _server_counts(ep, "a")
    assert sum(server.values()) > 4 * page
    cancel = threading.Event()
    pages: list[int] = []

    every_index = first_download_tests._secondary(a)
    built: set[tuple[str, str]] = set()

    def progress(stage: str, done: int, total: int) -> None:
        if stage == "download":
            pages.append(done)
            if len(pages) == 2:
                built.update(first_download_tests._secondary(a))
                cancel.set()

    stopped = engine(a, pull_page=page, cancel=cancel, progress=progress).run()
    assert (stopped.ok, stopped.error_kind, stopped.pulled) == (False, "interrupted", 2 * page)
    with a.session() as s:
        assert sum(local.counts(s).values()) == 2 * page
        assert local.state(s, local.CURSOR) is None  # not finished: no place in the feed yet
        reached = max((e for e, n in local.counts(s).items() if n), key=schema.ORDER.index)
    # Half way, the tables whose rows were all in had their indexes back (each built once,
    # not kept up row by row); the rest were set aside until their rows were in.
    finished = set(schema.ORDER[: schema.ORDER.index(reached)])
    assert {(t, i) for t, i in every_index if t in finished} <= built
    assert any(t in finished for t, _i in every_index) and every_index - built
    resumed = _run_to_the_end(engine(a, pull_page=page), within=60)  # (a loop fails, not hangs)
    assert resumed.ok and resumed.pulled == sum(server.values()) - 2 * page  # the rest, once
    assert (resumed.redownloaded, resumed.verified) == (True, True)
    with a.session() as s:
        assert local.counts(s) == server
        assert local.state(s, local.CURSOR) and local.state(s, local.FULL_AFTER) is None
    again = sync(a, pull_page=page)
    assert (again.pulled, again.redownloaded, again.verified) == (0, False, True)


def test_a_redownload_stopped_half_way_resumes_where_it_stopped(
    ep: Endpoint, laptops, monkeypatch: pytest.MonkeyPatch
) -> None:  # type: ignore[no-untyped-def]
    """A laptop whose place in the change feed is too old downloads its team again; cut off
    after two pages, the next sync carries on from there (not from the beginning, and not
    from the old place), and the laptop ends with exactly what the server holds."""
    page = 40
    monkeypatch.setattr(P, "MAX_PULL_PAGE", page)
    a = laptops(ep, "a")
    sync(a)
    server = _server_counts(ep, "a")
    with a.session() as s:  # a place the endpoint cannot read (as one past its window)
        local.set_state(s, local.CURSOR, "eyJzIjp7fX0.beef")
    cancel = threading.Event()

    def progress(stage: str, done: int, total: int) -> None:
        if stage == "download" and done >= 2 * page:
            cancel.set()

    stopped = engine(a, pull_page=page, cancel=cancel, progress=progress).run()
    assert (stopped.ok, stopped.error_kind, stopped.pulled) == (False, "interrupted", 2 * page)
    resumed = _run_to_the_end(engine(a, pull_page=page), within=60)
    assert resumed.ok and resumed.pulled == sum(server.values()) - 2 * page, resumed.notes
    assert (resumed.redownloaded, resumed.verified, resumed.notes) == (True, True, [])
    with a.session() as s:
        assert local.counts(s) == server and local.state(s, local.REDOWNLOAD) is None


def test_a_redownload_leaves_every_unsent_edit_alone_and_counts_them(
    ep: Endpoint, laptops, caplog: pytest.LogCaptureFixture
) -> None:  # type: ignore[no-untyped-def]
    """A re-download (here after the endpoint refuses a place in its feed it cannot read, as it
    does one it no longer keeps) does not overwrite rows this laptop has edited and not yet
    sent, and says how many it left alone, and why it re-downloaded; the edits are then sent
    as they were."""
    a = laptops(ep, "a")
    sync(a)
    with a.session() as s:
        people = s.scalars(select(m.Patient.id).order_by(m.Patient.id).limit(3)).all()
        for pid in people:
            s.get(m.Patient, pid).phone = "01632 400303"
        local.set_state(s, local.CURSOR, "not-a-cursor-the-endpoint-made")
    pull_only = engine(a, verify=False)
    try:
        with caplog.at_level("INFO", logger=client.__name__):
            pull_only._pull()  # the pull on its own: the edits are still unsent
    finally:
        pull_only.http.close()
    assert pull_only.result.redownloaded and pull_only.result.skipped == 3
    assert pull_only.result.pulled == sum(_server_counts(ep, "a").values()) - 3
    assert pull_only.result.notes == ["cursor too old: re-downloaded"]
    assert "cursor is stale: re-downloading the scope, keeping the outbox" in [
        r.getMessage()
        for r in caplog.records  # what support reads
    ]
    with a.session() as s:
        assert {s.get(m.Patient, pid).phone for pid in people} == {"01632 400303"}
        assert local.pending_count(s) == 3
    sent = sync(a)
    assert (sent.pushed, sent.conflicts, sent.pending, sent.verified) == (3, 0, 0, True)


def test_a_redownload_over_several_pages_counts_every_unsent_edit_it_left_alone(
    ep: Endpoint, laptops, monkeypatch: pytest.MonkeyPatch
) -> None:  # type: ignore[no-untyped-def]
    """A re-download arriving over many pages, with people edited here and not yet sent on
    several of them, leaves each of them alone and reports how many it left alone in all (not
    just those on its last page)."""
    monkeypatch.setattr(P, "MAX_PULL_PAGE", 3)  # (the app's pages are 5,000 rows)
    a = laptops(ep, "a")
    sync(a)
    with a.session() as s:
        people = s.scalars(select(m.Patient.id)).all()
        for pid in people:
            s.get(m.Patient, pid).phone = "01632 400404"
        local.set_state(s, local.CURSOR, "not-a-cursor-the-endpoint-made")
    pull_only = engine(a, pull_page=3, verify=False)
    try:
        pull_only._pull()  # the pull on its own: the edits are still unsent
    finally:
        pull_only.http.close()
    assert len(people) > 2 * 3  # (on three pages at least)
    assert pull_only.result.redownloaded and pull_only.result.skipped == len(people)
    with a.session() as s:
        assert {s.get(m.Patient, pid).phone for pid in people} == {"01632 400404"}
        assert local.pending_count(s) == len(people)


def test_a_first_download_comes_in_the_column_form_in_far_fewer_bytes(
    ep: Endpoint, laptops
) -> None:  # type: ignore[no-untyped-def]
    """A new laptop asks for its first download in the column form (each table's column names
    once, rows as arrays): the same rows as a laptop reading the row form (as it does from an
    endpoint older than the form), in well under the bytes."""
    per_row: dict[bool, float] = {}
    held = []
    for columns in (True, False):
        ws = laptops(ep, "a")
        cycle = engine(ws)
        if not columns:
            cycle.columns = False  # (as after an older endpoint refused the form)
        pages: list[int] = []

        def size(response: Any, pages: list[int] = pages) -> None:
            if response.request.url.path == "/v1/pull":
                pages.append(len(response.read()))

        cycle.http.event_hooks["response"].append(size)
        result = cycle.run()
        assert result.ok and result.redownloaded and result.verified, result.error
        per_row[columns] = sum(pages) / result.pulled
        with ws.session() as s:
            held.append(local.digest(s))
    assert held[0] == held[1]
    assert per_row[True] < 0.8 * per_row[False], per_row


def test_a_stopped_download_whose_place_the_endpoint_cannot_read_starts_again(
    ep: Endpoint, laptops, monkeypatch: pytest.MonkeyPatch
) -> None:  # type: ignore[no-untyped-def]
    """A first download stopped half way resumes from its place; when the endpoint can no
    longer read that place (signed with a key it has since changed, or what the user may see
    changed meanwhile: HTTP 410), the download starts again from the start and ends with
    exactly what the server holds."""
    monkeypatch.setattr(P, "MAX_PULL_PAGE", 40)
    a = laptops(ep, "a")
    cancel = threading.Event()
    stopped = engine(
        a, pull_page=40, cancel=cancel, progress=lambda stage, _d, _t: cancel.set()
    ).run()
    assert (stopped.ok, stopped.error_kind) == (False, "interrupted")
    with a.session() as s:
        assert local.state(s, local.FULL_AFTER)
        local.set_state(s, local.FULL_AFTER, "a-place-signed-by-another-key")
    again = _run_to_the_end(engine(a, pull_page=40), within=60)  # (a loop fails, not hangs)
    server = _server_counts(ep, "a")
    assert (again.ok, again.redownloaded, again.verified) == (True, True, True)
    assert again.pulled == sum(server.values())  # from the start: every row
    with a.session() as s:
        assert local.counts(s) == server
        assert local.state(s, local.CURSOR) and local.state(s, local.FULL_AFTER) is None


def _without_the_cycle(cycle: SyncEngine) -> SyncEngine:
    """``cycle`` talking to what answers as an endpoint gone back to a version without the
    one-request cycle: its answers no longer advertise it."""

    def drop(response: Any) -> None:
        response.headers.pop(P.CYCLE_HEADER, None)

    cycle.http.event_hooks["response"].append(drop)
    return cycle


@pytest.mark.parametrize(("status", "given_up"), [(404, True), (405, True), (422, False)])
def test_a_cycle_refused_as_unknown_is_not_tried_again_and_other_refusals_keep_it(
    ep: Endpoint, laptops, status: int, given_up: bool, caplog: pytest.LogCaptureFixture
) -> None:  # type: ignore[no-untyped-def]
    """An endpoint that answers the one-request cycle with 404 or 405 no longer has it: the
    laptop's next syncs, after the app restarts too, use the three requests and never ask for
    the cycle again. Any other refusal (a 422) is about that request, not the route: the next
    sync tries the cycle again. The edit arrives either way."""
    a = laptops(ep, "a")
    sync(a), sync(a)  # the answers advertise the cycle
    with a.session() as s:
        assert local.state(s, local.CYCLE) == "1"
    ep.fault(P.CYCLE_PATH, "busy", status=status, retry_after="0")
    _add_notes(a, _first_patient(a), "coordinator note", 1)
    before = _asked(ep)
    with caplog.at_level("INFO", logger=client.__name__):
        refused = _without_the_cycle(engine(a)).run()
    assert refused.ok and refused.pushed == 1 and refused.pending == 0, refused
    told = "the sync server no longer answers a cycle in one request"  # (for support)
    assert (told in [r.getMessage() for r in caplog.records]) == given_up
    assert _more(ep, before).get("/v1/push") == 1
    with a.session() as s:
        assert (local.state(s, local.CYCLE) is None) == given_up
    before = _asked(ep)
    assert _without_the_cycle(engine(a)).run().ok  # the app restarted: a new engine
    assert (P.CYCLE_PATH not in _more(ep, before)) == given_up


def test_a_team_made_on_the_laptop_then_connected_takes_the_servers_and_sends_none_of_its_own(
    ep: Endpoint, tmp_path: Path
) -> None:
    """A workspace made on its own at go-live ("Bicester INT", its maker granted managing
    members) and then connected adopts the server's team of that name: the server's copy
    decides, so none of the laptop's own values of the team are sent or listed as a refused
    edit, and the team reads as the server's. (The stand-in's place, member and membership
    are refused as before: reference data and team members are managed centrally.)"""
    from int_desk.services.first_run import create_local_workspace
    from int_desk.sync import credentials

    ws = create_local_workspace(
        tmp_path / "ws", PASSPHRASE, member_name="Sam Tester", role="care_coordinator",
        team_name="Bicester INT",
    )  # fmt: skip
    try:
        credentials.connect(ws, ep.url, ep.tokens["a"])
        with ws.session() as s:
            own = s.scalars(select(m.Team).where(m.Team.name == "Bicester INT")).one().id
        team = uuid.UUID(ep.teams["Bicester INT"])
        with ep.session() as s:
            server = json.loads(s.get(Record, ("team", team)).data)
        for _ in range(2):  # the adoption, then a sync with it done
            assert engine(ws).run().ok
            with ws.session() as s:
                ops = s.scalars(select(SyncOutbox)).all()
                assert "team" not in {op.entity for op in ops}
                assert s.get(m.Team, own) is None
                assert s.get(m.Team, team).config == server.get("config")
        with ep.session() as s:
            assert json.loads(s.get(Record, ("team", team)).data) == server
    finally:
        ws.close()


def _stuck(ep: Endpoint, ws: Workspace, **kwargs: Any) -> client.SyncResult:
    """A sync of ``ws`` while the endpoint answers each request carrying its pull with that
    request's first answer again, whatever position it asks from (as an endpoint, or a cache
    before it, that ignores the position would): it stops with the clear error. The fault
    stays until ``_mended``."""
    ep.fault("/v1/pull", "stuck", times=10)
    cancel = threading.Event()
    try:
        stopped = _run_to_the_end(engine(ws, cancel=cancel, **kwargs), within=60)
    finally:
        cancel.set()
    assert (stopped.ok, stopped.error_kind, stopped.error) == (False, "server", client.STUCK)
    return stopped


def _mended(ep: Endpoint) -> None:
    httpx.post(f"{ep.url}/_test/faults", json={"clear": True}).raise_for_status()


def test_a_first_download_answered_with_the_same_page_again_stops_and_resumes_later(
    ep: Endpoint, laptops, monkeypatch: pytest.MonkeyPatch
) -> None:  # type: ignore[no-untyped-def]
    """A download that would never end (every page the first again) stops with a clear error
    after the second page, keeps the first, and the next sync, the endpoint mended, finishes
    it from there: a sync that spins for ever is a laptop that never syncs again."""
    monkeypatch.setattr(P, "MAX_PULL_PAGE", 50)  # a first download of several pages
    a = laptops(ep, "a")
    stopped = _stuck(ep, a, pull_page=50)
    assert stopped.pulled == 50  # the first page, once
    with a.session() as s:
        assert sum(local.counts(s).values()) == 50
        assert local.state(s, local.FULL_AFTER)  # where the next sync resumes
    _mended(ep)
    finished = sync(a, pull_page=50)
    assert (finished.redownloaded, finished.verified) == (True, True)
    with a.session() as s:
        assert local.counts(s) == _server_counts(ep, "a")
    assert finished.pulled == sum(_server_counts(ep, "a").values()) - 50


def test_changes_answered_with_the_same_page_again_stop_the_sync_and_nothing_is_lost(
    ep: Endpoint, laptops
) -> None:  # type: ignore[no-untyped-def]
    """The same for the changes since the last sync: the pull stops rather than asking for
    ever, what arrived is kept (and the edit it sent first stays sent), and the next sync
    brings the rest."""
    a, b = laptops(ep, "a"), laptops(ep, "b")
    sync(a), sync(b)
    pid = _first_patient(a)
    notes = _add_notes(b, pid, "paged note", 25)
    sync(b)
    mine = _add_notes(a, pid, "written before the pull", 1)
    stopped = _stuck(ep, a, pull_page=10)
    assert (stopped.pushed, stopped.pending) == (1, 0)
    assert 10 <= stopped.pulled < 25
    assert len(engine_tests._contacts(a, pid) & notes) == stopped.pulled
    _mended(ep)
    finished = sync(a, pull_page=10)
    assert (finished.pushed, finished.pending, finished.verified) == (0, 0, True)
    assert notes | mine <= engine_tests._contacts(a, pid)
    assert sync(b).verified and mine <= engine_tests._contacts(b, pid)


def test_a_restore_read_answered_with_the_same_page_again_stops_and_the_next_sync_recovers(
    ep: Endpoint, laptops, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:  # type: ignore[no-untyped-def]
    """The same for reading a restored endpoint: the read stops with the clear error, nothing
    is sent or applied, and the next sync (mended) still knows of the restore and sends what
    the endpoint lost."""
    monkeypatch.setattr(P, "MAX_PULL_PAGE", 200)  # the restore is read over several pages
    a = laptops(ep, "a")
    sync(a)
    pid = _first_patient(a)
    backup.backup(ep.db_url, tmp_path / "endpoint.backup")
    lost = _add_notes(a, pid, "written after the backup", 2)
    sync(a)
    _restore(ep, tmp_path / "endpoint.backup")
    stopped = _stuck(ep, a, pull_page=200)
    assert (stopped.resent, stopped.pulled) == (0, 0)
    _mended(ep)
    recovered = sync(a, pull_page=200)
    assert (recovered.resent, recovered.verified) == (2, True)
    with ep.session() as s:
        texts = {r.data for r in s.scalars(select(Record).where(Record.entity == "contact"))}
    assert all(any(f'"{t}"' in d for d in texts) for t in lost)


def test_a_first_download_over_several_pages_asks_for_each_page_once(
    ep: Endpoint, laptops, monkeypatch: pytest.MonkeyPatch
) -> None:  # type: ignore[no-untyped-def]
    """The next page is asked for while one is stored, and that answer is the one used: each
    page of a first download is asked for once (the endpoint's work, and the laptop's data on
    a phone's connection in a patient's home), then once for the changes made meanwhile."""
    monkeypatch.setattr(P, "MAX_PULL_PAGE", 50)
    a = laptops(ep, "a")
    before = _asked(ep)
    first = sync(a, pull_page=50)
    total = sum(_server_counts(ep, "a").values())
    assert first.pulled == total > 150
    assert _more(ep, before).get("/v1/pull") == -(-total // 50) + 1


def _indexes(ws: Workspace) -> set[str]:
    with ws.session() as s:
        found = s.connection().exec_driver_sql(
            "SELECT name FROM sqlite_master WHERE type = 'index' AND sql IS NOT NULL"
        )
        return {name for (name,) in found}


def test_a_re_download_keeps_the_laptops_indexes_while_it_runs(
    ep: Endpoint, laptops, monkeypatch: pytest.MonkeyPatch
) -> None:  # type: ignore[no-untyped-def]
    """Only a first download, onto an empty laptop, sets the indexes aside to build them at
    its end: a re-download (here after the id check finds a row missing) runs under a caseload
    someone may be reading, so every index stays in place, page by page."""
    monkeypatch.setattr(P, "MAX_PULL_PAGE", 50)  # several pages
    a = laptops(ep, "a")
    sync(a)
    kept = _indexes(a)
    with local.apply_session(a) as s:  # a row lost locally: the id check re-downloads
        s.execute(delete(m.Contact).where(m.Contact.id == s.scalars(select(m.Contact.id)).first()))
    seen: list[set[str]] = []

    def progress(stage: str, _done: int, _total: int) -> None:
        if stage == "download":
            seen.append(_indexes(a))

    again = sync(a, pull_page=50, full_verify=True, progress=progress)
    assert again.redownloaded and again.verified is True
    assert len(seen) > 3 and all(found == kept for found in seen)


def test_two_fields_disputed_in_one_edit_are_two_conflicts_to_resolve(
    ep: Endpoint, laptops
) -> None:  # type: ignore[no-untyped-def]
    """One edit of a person's record whose two fields a colleague changed first is two
    decisions for the person resolving them, and the sync's summary counts both."""
    from int_desk.services import sync_conflicts

    a, b = laptops(ep, "a"), laptops(ep, "b")
    sync(a), sync(b)
    pid = _first_patient(a)
    with a.session() as s:
        s.get(m.Patient, pid).communication_needs = "Prefers phone calls in the morning"
        s.get(m.Patient, pid).phone = "01632 333333"
    with b.session() as s:  # one edit of both fields
        s.get(m.Patient, pid).communication_needs = "Prefers letters in large print"
        s.get(m.Patient, pid).phone = "01632 444444"
    sync(a)
    rb = sync(b)
    assert rb.conflicts == 2 and "2 conflicts to resolve" in rb.summary()
    with b.session() as s:
        assert sync_conflicts.open_count(session=s) == 2


def test_a_pull_the_endpoint_refuses_fails_with_its_words_and_the_next_sync_goes_on(
    ep: Endpoint, laptops
) -> None:  # type: ignore[no-untyped-def]
    """A 422 for a pull that asked for nothing an older endpoint could refuse (only the column
    form is asked again, as rows) is the endpoint's answer: the sync fails in its words, asking
    nothing more, and the next sync, the endpoint mended, goes on."""
    a = laptops(ep, "a")
    sync(a)
    ep.fault("/v1/pull", "busy", status=422, detail="the cursor is not readable", times=3)
    failed = engine(a).run()
    assert (failed.ok, failed.error_kind) == (False, "protocol")
    assert failed.error == "The sync server refused the download: the cursor is not readable"
    _mended(ep)
    assert sync(a).verified is True


def test_counts_that_still_disagree_after_a_re_download_say_the_laptop_is_not_verified(
    ep: Endpoint, laptops
) -> None:  # type: ignore[no-untyped-def]
    """If the endpoint's own count is wrong (it says one contact more than it sends), the
    re-download cannot make the laptop agree: the sync keeps what it received and says the
    laptop is not verified, rather than re-downloading again or claiming nothing was checked."""
    a = laptops(ep, "a")
    sync(a)
    with ep.session() as s:
        counted = s.get(ScopeDigest, (ep.teams["Bicester INT"], "contact"))
        counted.count += 1
    result = engine(a, full_verify=True).run()
    assert (result.ok, result.redownloaded, result.verified) == (True, True, False)
    assert result.notes == [
        "verify mismatch (contact): re-downloaded",
        "verify mismatch (contact): still, after re-downloading",
    ]


def test_after_a_restore_a_row_changed_since_and_back_to_what_the_laptop_holds_is_not_sent(
    ep: Endpoint, laptops, tmp_path: Path
) -> None:  # type: ignore[no-untyped-def]
    """After a restore a colleague changes a person's phone number and then back: the endpoint
    holds a newer version with the very values this laptop holds, so the laptop has nothing
    the endpoint lost, sends nothing, and puts no conflict to anyone."""
    a, b = laptops(ep, "a"), laptops(ep, "b")
    sync(a), sync(b)
    pid = _first_patient(a)
    backup.backup(ep.db_url, tmp_path / "endpoint.backup")
    _restore(ep, tmp_path / "endpoint.backup")
    with b.session() as s:
        phone = s.get(m.Patient, pid).phone
    for number in ("01632 402222", phone):
        with b.session() as s:
            s.get(m.Patient, pid).phone = number
        sync(b)
    result = _run_to_the_end(engine(a), within=60)
    assert result.ok and (result.resent, result.pushed, result.conflicts) == (0, 0, 0), result
    assert result.verified is True
    with a.session() as s:
        assert s.get(m.Patient, pid).phone == phone


def test_after_a_restore_a_deletion_made_since_is_put_to_a_person_not_taken_silently(
    ep: Endpoint, laptops, tmp_path: Path
) -> None:  # type: ignore[no-untyped-def]
    """After a restore a colleague deletes a flag this laptop holds live. The laptop cannot
    tell whether the endpoint lost its copy's values or it is only behind, so (as for every
    field changed after the restore) its copy is sent with its own version as the base, and
    the endpoint puts the deletion to a person as a conflict, never applying it unseen."""
    a, b = laptops(ep, "a"), laptops(ep, "b")
    sync(a), sync(b)
    backup.backup(ep.db_url, tmp_path / "endpoint.backup")
    _restore(ep, tmp_path / "endpoint.backup")
    sync(b)  # (b learns of the restore; it had lost nothing)
    with b.session() as s:
        flag = s.scalars(select(m.Flag).where(m.Flag.deleted.is_(False))).first()
        flag.deleted, fid = True, flag.id
    sync(b)
    result = _run_to_the_end(engine(a), within=60)
    assert result.ok and (result.resent, result.conflicts) == (1, 1), result
    with a.session() as s:
        [c] = s.scalars(select(SyncConflict)).all()
        assert (c.entity, c.entity_id, c.field) == ("flag", fid, "deleted")
