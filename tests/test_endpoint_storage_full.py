"""A full disk under the endpoint answers 503 with Retry-After, stores nothing of the request,
and the laptop keeps its edits for a later cycle (int_desk/server/storage_full.py).

SQLite is really filled: every connection the endpoint takes from its pool gets
``PRAGMA max_page_count`` at the database's size, so the push's first new page fails with
SQLite's own "database or disk is full". PostgreSQL's disk cannot be filled here without root,
so a trigger on the endpoint's records raises PostgreSQL's own disk_full error (SQLSTATE 53100)
inside the push's transaction, as a full disk would."""

from __future__ import annotations

import errno
import sqlite3
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import httpx
import pytest
from sqlalchemy import event, inspect, text
from sqlalchemy.pool import Pool

from int_desk.server import storage_full
from int_desk.store import models as m
from tests.helpers import sync_env
from tests.helpers.sync_env import Endpoint, engine, sync
from tests.helpers.sync_fixtures import _copy
from tests.test_sync_in_process import _first_patient, _pending, _server_counts

NOTES = 300  # with their text, far more than the pages a full database has free


@pytest.fixture
def running(request: pytest.FixtureRequest, backend: str, tmp_path: Path) -> Iterator[Endpoint]:
    """The endpoint over a seeded copy, served on a thread of this process (so its pool's
    connections can be limited here)."""
    ep = _copy(request, backend, tmp_path)
    up = sync_env.serve_in_process(ep.db_url, faults=False)
    up.tokens, up.teams = ep.tokens, ep.teams
    yield up
    up.stop()


@pytest.fixture
def disk(running: Endpoint, backend: str) -> Iterator[Any]:
    """``with disk("full"):`` the endpoint's storage is full while it lasts; ``disk("broken")``
    fails its writes in a way that is not a full disk."""
    if backend == "sqlite":
        path = str(Path(running.db_url.removeprefix("sqlite:///")).resolve())
        state = {"full": False}

        def checkout(dbapi_conn: Any, _record: Any, _proxy: Any) -> None:
            if dbapi_conn.execute("PRAGMA database_list").fetchone()[2] != path:
                return  # (another pool: a laptop's store)
            (pages,) = dbapi_conn.execute("PRAGMA page_count").fetchone()
            dbapi_conn.execute(f"PRAGMA max_page_count = {pages if state['full'] else 2**32 - 2}")

        event.listen(Pool, "checkout", checkout)  # (each request takes its connection anew)

    @contextmanager
    def as_(what: str) -> Iterator[None]:
        if backend == "sqlite" and what == "full":
            state["full"] = True
            try:
                yield
            finally:
                state["full"] = False
            return
        failing = {
            "full": "RAISE EXCEPTION 'could not extend file: No space left on device' "
            "USING ERRCODE = 'disk_full'",
            "broken": "RAISE EXCEPTION 'could not read block' USING ERRCODE = 'data_corrupted'",
        }
        with _trigger(running, backend, failing[what]):
            yield

    yield as_
    if backend == "sqlite":
        event.remove(Pool, "checkout", checkout)


@contextmanager
def _trigger(ep: Endpoint, backend: str, plpgsql: str) -> Iterator[None]:
    """A trigger failing every insert into the endpoint's records while this lasts (on SQLite
    only "broken": an aborted write, not a full disk)."""
    if backend == "sqlite":
        made = [
            "CREATE TRIGGER test_fails BEFORE INSERT ON srv_record "
            "BEGIN SELECT RAISE(ABORT, 'cannot write'); END"
        ]
        gone = ["DROP TRIGGER test_fails"]
    else:
        made = [
            "CREATE FUNCTION test_fails() RETURNS trigger LANGUAGE plpgsql AS "
            f"$$ BEGIN {plpgsql}; END $$",
            "CREATE TRIGGER test_fails BEFORE INSERT ON srv_record "
            "FOR EACH STATEMENT EXECUTE FUNCTION test_fails()",
        ]
        gone = ["DROP TRIGGER test_fails ON srv_record", "DROP FUNCTION test_fails()"]
    _execute(ep, made)
    try:
        yield
    finally:
        _execute(ep, gone)


def _execute(ep: Endpoint, statements: list[str]) -> None:
    with ep.session() as s:
        for statement in statements:
            s.execute(text(statement))


def _rows(ep: Endpoint) -> dict[str, int]:
    """How many rows each of the endpoint's tables holds."""
    with ep.session() as s:
        names = inspect(s.connection()).get_table_names()
        return {n: s.execute(text(f'SELECT count(*) FROM "{n}"')).scalar_one() for n in names}


@pytest.fixture
def a(running: Endpoint, laptops) -> Any:  # type: ignore[no-untyped-def]
    """User a's laptop, synced, then with ``NOTES`` new notes not yet sent."""
    ws = laptops(running, "a")
    sync(ws)
    pid = _first_patient(ws)
    with ws.session() as s:
        s.add_all(
            m.Contact(patient_id=pid, kind="note", text=f"Visit {i}: " + "seen at home. " * 40)
            for i in range(NOTES)
        )
    return ws


def _watched(cycle: Any) -> list[httpx.Response]:
    """The answers the laptop's sync cycle gets, as it got them."""
    answers: list[httpx.Response] = []

    def seen(resp: httpx.Response) -> None:
        resp.read()
        answers.append(resp)

    cycle.http.event_hooks["response"].append(seen)
    return answers


def test_a_full_disk_answers_503_stores_nothing_and_the_laptop_sends_later(
    running: Endpoint, disk: Any, a: Any
) -> None:
    notes_before = _server_counts(running, "a")["contact"]  # (a read: in the audit trail)
    before = _rows(running)
    cycle = engine(a)
    answers = _watched(cycle)
    with disk("full"):
        failed = cycle.run()

    refused = [r for r in answers if r.status_code >= 400]
    assert [r.status_code for r in refused] == [503]  # not a 500, and asked once
    assert refused[0].headers["Retry-After"] == str(storage_full.RETRY_AFTER_SECONDS)
    assert refused[0].json() == {"detail": storage_full.DETAIL}
    # The laptop ends the cycle at once, says it will try later, and keeps every note.
    assert (failed.ok, failed.error_kind, failed.retries) == (False, "server", 0)
    assert "sync will try again later" in (failed.error or "")
    assert _pending(a) == NOTES
    assert _rows(running) == before  # nothing of the push stored, not even its audit entry

    done = sync(a)  # room again: the same edits go through, once
    assert (done.pushed, _pending(a)) == (NOTES, 0)
    assert _server_counts(running, "a")["contact"] == notes_before + NOTES


def test_only_a_full_disk_is_taken_for_one() -> None:
    """What counts as full: SQLite's SQLITE_FULL, PostgreSQL's 53100, ENOSPC and EDQUOT."""
    from sqlalchemy.exc import IntegrityError, OperationalError

    with sqlite3.connect(":memory:") as conn:
        conn.execute("CREATE TABLE t (x)")
        conn.execute("PRAGMA max_page_count = 2")  # (the schema's page and the table's)
        with pytest.raises(sqlite3.OperationalError) as full:
            conn.executemany("INSERT INTO t VALUES (?)", [("x" * 4000,)] * 10)
        with pytest.raises(sqlite3.OperationalError) as other:
            conn.execute("SELECT * FROM missing")
    assert storage_full.is_storage_full(OperationalError("INSERT", {}, full.value))
    assert not storage_full.is_storage_full(OperationalError("SELECT", {}, other.value))
    assert not storage_full.is_storage_full(IntegrityError("INSERT", {}, sqlite3.IntegrityError()))
    assert storage_full.is_storage_full(OSError(errno.ENOSPC, "No space left on device"))
    assert storage_full.is_storage_full(OSError(errno.EDQUOT, "Disk quota exceeded"))
    assert not storage_full.is_storage_full(OSError(errno.EACCES, "Permission denied"))
    if Path("/dev/full").exists():  # (Linux: a real "No space left on device")
        with pytest.raises(OSError) as written:
            Path("/dev/full").write_bytes(b"x")
        assert storage_full.is_storage_full(written.value)


def test_a_failed_write_that_is_not_a_full_disk_stays_a_500(disk: Any, a: Any) -> None:
    cycle = engine(a, retries=0)
    answers = _watched(cycle)
    with disk("broken"):
        failed = cycle.run()
    assert [r.status_code for r in answers if r.status_code >= 400] == [500]
    assert "retry-after" not in answers[-1].headers
    assert (failed.ok, failed.error) == (False, "The sync server had a problem (HTTP 500).")
    assert _pending(a) == NOTES
