"""A laptop's first download against a real endpoint (uvicorn subprocess on 127.0.0.1): its
secondary indexes and the caseload index's triggers are set aside while the rows go in and
built once at the end, and a crash (kill -9) or a cancel half way loses nothing."""

from __future__ import annotations

import signal
import subprocess
import sys
import textwrap
import threading
import uuid
from pathlib import Path

import pytest
from sqlalchemy import select

from int_desk.store import caseload_index
from int_desk.store import models as m
from int_desk.store.wire_entities import SYNCED_TABLES
from int_desk.store.workspace import Workspace
from int_desk.sync import local
from int_desk.wire import protocol as P
from tests.conftest import PASSPHRASE
from tests.helpers.sync_env import Endpoint, engine, sync

PAGE = 300  # rows per download page here, so the demo team's download takes many pages


def _indexes(ws: Workspace) -> set[str]:
    with ws.engine.connect() as c:
        return {
            n
            for (n,) in c.exec_driver_sql(
                "SELECT name FROM sqlite_master WHERE type = 'index' AND sql IS NOT NULL"
            )
        }


def _secondary(ws: Workspace) -> set[tuple[str, str]]:
    """The synced tables' indexes other than unique ones: (table, index)."""
    tables = ", ".join(f"'{name}'" for name in SYNCED_TABLES)
    with ws.engine.connect() as c:
        return {
            (table, name)
            for table, name in c.exec_driver_sql(
                "SELECT tbl_name, name FROM sqlite_master WHERE type = 'index' "
                f"AND sql IS NOT NULL AND sql NOT LIKE 'CREATE UNIQUE%' AND tbl_name IN ({tables})"
            )
        }


def _triggers(ws: Workspace) -> set[str]:
    with ws.engine.connect() as c:
        return {
            n for (n,) in c.exec_driver_sql("SELECT name FROM sqlite_master WHERE type = 'trigger'")
        }


def _deferred(ws: Workspace) -> str | None:
    with ws.session() as s:
        return local.state(s, local.DEFERRED_INDEXES)


def _caseload_people(ws: Workspace) -> set[str]:
    """The people the caseload index lists, after the refresh every caseload query runs."""
    with ws.session() as s:
        caseload_index.refresh_index(s)
        return {
            p for (p,) in s.connection().exec_driver_sql("SELECT patient_id FROM caseload_index")
        }


def _people_in_cohorts(ws: Workspace) -> set[str]:
    with ws.session() as s:
        return {
            p.hex
            for p in s.scalars(
                select(m.CohortMembership.patient_id).where(m.CohortMembership.deleted.is_(False))
            )
        }


@pytest.fixture
def small_pages(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(P, "MAX_PULL_PAGE", PAGE)


def test_a_first_download_builds_each_tables_indexes_once_and_the_caseload_is_right(
    sqlite_endpoint: Endpoint, laptops, small_pages: None
) -> None:  # type: ignore[no-untyped-def]
    a = laptops(sqlite_endpoint, "a")
    assert _caseload_people(a) == set()  # the app shows the empty caseload: triggers made
    every_index, triggers = _indexes(a), _triggers(a)
    assert triggers
    assert len(_secondary(a)) > 20
    seen: list[tuple[set[str], set[str]]] = []

    def progress(stage: str, _done: int, _total: int) -> None:
        if stage == "download":  # after each page
            seen.append(({t for t, _i in _secondary(a)}, _triggers(a)))

    first = engine(a, pull_page=PAGE, progress=progress).run()
    assert first.ok and first.verified and first.pulled > 3 * PAGE, first
    # While a table's rows went in, its secondary indexes were away (and the caseload
    # triggers); each table's were built once its rows were all in, before the download ended.
    big = {"contact", "health_event", "task", "goal", "plan_action"}  # more rows than a page
    assert not seen[0][0] & big and not seen[0][1]
    assert any("patient" in tables and "task" not in tables for tables, _t in seen)
    assert _indexes(a) == every_index and _deferred(a) is None
    people = _caseload_people(a)
    assert people and people == _people_in_cohorts(a)
    assert _triggers(a) == triggers  # rebuilt with the index
    with a.session() as s:  # and it follows edits again
        patient = s.scalars(select(m.Patient).where(m.Patient.id.in_(_ids(people)))).first()
        patient.family_name = "Zzyzx-Hollow"
        pid = patient.id.hex
    with a.session() as s:
        caseload_index.refresh_index(s)
        names = s.connection().exec_driver_sql(
            "SELECT family_name FROM caseload_index WHERE patient_id = ?", (pid,)
        )
        assert {n for (n,) in names} == {"Zzyzx-Hollow"}
    assert not engine(a, pull_page=PAGE).run().redownloaded  # an incremental pull keeps them
    assert _indexes(a) == every_index


def _ids(hexes: set[str]) -> list[uuid.UUID]:
    return [uuid.UUID(h) for h in sorted(hexes)[:5]]


def _killed_download(ep: Endpoint, directory: Path, when: str) -> None:
    """A first download in another process, killed (kill -9) once its second page is committed
    (``when="mid"``) or once its last page is (``"end"``, before anything after it runs)."""
    script = textwrap.dedent(
        f"""
        import os, signal, sys
        from pathlib import Path
        from int_desk.wire import protocol as P
        P.MAX_PULL_PAGE = {PAGE}
        from int_desk.store.workspace import Workspace
        from int_desk.sync.client import SyncEngine
        ws = Workspace.open(Path(sys.argv[1]), {PASSPHRASE!r}, use_keyring=False)
        from int_desk.sync import local
        def finished():
            with ws.session() as s:
                return local.state(s, local.CURSOR) is not None
        def progress(stage, done, total):
            if stage == "download" and (finished() if {when!r} == "end" else done >= {2 * PAGE}):
                os.kill(os.getpid(), signal.SIGKILL)
        SyncEngine(ws, sys.argv[2], sys.argv[3], pull_page={PAGE}, progress=progress).run()
        """
    )
    proc = subprocess.run(
        [sys.executable, "-c", script, str(directory), ep.url, ep.tokens["a"]],
        stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, timeout=300,
    )  # fmt: skip
    assert proc.returncode == -signal.SIGKILL, proc.stderr.decode()[-2000:]


@pytest.fixture
def killed(sqlite_endpoint: Endpoint, laptops, small_pages: None):  # type: ignore[no-untyped-def]
    """``killed(when)``: user a's new laptop whose first download was killed (``_killed_download``),
    opened again (closed after the test), and every index a laptop has before any download."""
    opened: list[Workspace] = []

    def kill(when: str) -> tuple[Workspace, set[str]]:
        a = laptops(sqlite_endpoint, "a")
        every_index, directory = _indexes(a), a.directory
        a.close()
        _killed_download(sqlite_endpoint, directory, when)
        opened.append(Workspace.open(directory, PASSPHRASE, use_keyring=False))
        return opened[-1], every_index

    yield kill
    for ws in opened:
        ws.close()


def test_a_laptop_killed_mid_first_download_resumes_and_gets_its_indexes_back(killed) -> None:  # type: ignore[no-untyped-def]
    ws, every_index = killed("mid")
    with ws.session() as s:  # the pages committed before the crash are kept, with the place
        kept = sum(local.counts(s).values())
        assert kept == 2 * PAGE and local.state(s, local.FULL_AFTER)
    assert _deferred(ws) and not {t for t, _i in _secondary(ws)} & {"contact", "task"}
    result = engine(ws, pull_page=PAGE).run()
    assert result.ok and result.verified and result.pulled > 0, result.error
    assert _indexes(ws) == every_index and _deferred(ws) is None
    assert _caseload_people(ws) == _people_in_cohorts(ws)


def test_a_laptop_killed_just_after_its_last_page_has_its_indexes(killed) -> None:  # type: ignore[no-untyped-def]
    ws, every_index = killed("end")
    # The last page's transaction built them: no download is left to resume.
    assert _indexes(ws) == every_index and _deferred(ws) is None
    with ws.session() as s:
        assert local.state(s, local.CURSOR) and local.state(s, local.FULL_AFTER) is None
    again = engine(ws, pull_page=PAGE).run()
    assert again.ok and again.verified and not again.redownloaded


def test_a_cancelled_first_download_gets_its_indexes_back_at_once(
    sqlite_endpoint: Endpoint, laptops, small_pages: None
) -> None:  # type: ignore[no-untyped-def]
    a = laptops(sqlite_endpoint, "a")
    every_index = _indexes(a)
    cancel = threading.Event()

    def progress(stage: str, _done: int, _total: int) -> None:
        if stage == "download":
            cancel.set()

    stopped = engine(a, pull_page=PAGE, cancel=cancel, progress=progress).run()
    assert not stopped.ok and stopped.error_kind == "interrupted" and stopped.pulled == PAGE
    assert _indexes(a) == every_index and _deferred(a) is None  # the app goes on with them
    finished = sync(a, pull_page=PAGE)
    assert finished.verified and _indexes(a) == every_index


def test_a_download_over_synced_rows_keeps_its_indexes(
    sqlite_endpoint: Endpoint, laptops, small_pages: None
) -> None:  # type: ignore[no-untyped-def]
    a = laptops(sqlite_endpoint, "a")
    sync(a, pull_page=PAGE)
    every_index = _indexes(a)
    seen: list[set[str]] = []
    with a.session() as s:  # a verify mismatch or a stale cursor re-downloads over them
        local.set_state(s, local.REDOWNLOAD, "1")

    def progress(stage: str, _done: int, _total: int) -> None:
        if stage == "download":
            seen.append(_indexes(a))

    again = engine(a, pull_page=PAGE, progress=progress).run()
    assert again.ok and again.redownloaded and again.verified
    assert seen and all(found == every_index for found in seen)
