"""Shared fixtures: isolated paths, an in-memory keyring, real encrypted demo workspaces."""

from __future__ import annotations

import gc
import itertools
import logging
import os
import shutil
import sys
from collections.abc import Iterator
from datetime import date
from pathlib import Path

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

import keyring  # noqa: E402
import pytest  # noqa: E402

from int_desk.services.demo import build_demo  # noqa: E402
from int_desk.store import keys  # noqa: E402
from int_desk.store.workspace import Workspace  # noqa: E402
from tests.helpers import sync_env  # noqa: E402
from tests.helpers.memory_keyring import MemoryKeyring  # noqa: E402

if os.environ.get("INT_DESK_MUTANT_RUN") == "1":
    # Under a declared mutant (tests/mutation/declared.py) only whether a test fails counts:
    # a fuzzer need not shrink its failing example to the smallest one (minutes).
    from hypothesis import Phase, settings

    settings.register_profile("mutant", phases=[Phase.explicit, Phase.reuse, Phase.generate])
    settings.load_profile("mutant")

# Real sync endpoints (SQLite and a throwaway PostgreSQL cluster) for tests/test_sync_*; a
# watchdog that closes a modal dialog no test answers (tests/helpers/qt_guards.py).
pytest_plugins = ["tests.helpers.sync_fixtures", "tests.helpers.qt_guards"]

PASSPHRASE = "correct horse battery staple"
DEMO_PATIENTS = 300
DEMO_SEED = 7
DEMO_TODAY = date(2026, 11, 20)


def skips_fail() -> bool:
    """In CI (``CI=true``, or .ci/run's INT_DESK_REQUIRE_POSTGRES=1, or INT_DESK_NO_SKIPS=1) a
    skipped test is a failure: a missing tool or service must never pass quietly there."""
    return (
        os.environ.get("CI", "").lower() in ("1", "true", "yes")
        or os.environ.get("INT_DESK_REQUIRE_POSTGRES") == "1"
        or os.environ.get("INT_DESK_NO_SKIPS") == "1"
    )


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item: pytest.Item, call: pytest.CallInfo[None]) -> Iterator[None]:
    outcome = yield
    report = outcome.get_result()  # type: ignore[attr-defined]
    if report.skipped and not hasattr(report, "wasxfail") and skips_fail():
        reason = report.longrepr[2] if isinstance(report.longrepr, tuple) else report.longrepr
        report.outcome = "failed"
        report.longrepr = f"skipped in CI, which counts as a failure here: {reason}"


@pytest.hookimpl(hookwrapper=True)
def pytest_make_collect_report(collector: pytest.Collector) -> Iterator[None]:
    """A whole module skipped (pytest.importorskip, a module-level skip) fails in CI too."""
    outcome = yield
    report = outcome.get_result()  # type: ignore[attr-defined]
    if report.skipped and skips_fail():
        reason = report.longrepr[2] if isinstance(report.longrepr, tuple) else report.longrepr
        report.outcome = "failed"
        report.longrepr = f"skipped in CI, which counts as a failure here: {reason}"


# The inner loop's fast tier is `pytest -m "not slow"` (CONTRIBUTING.md): tests that start a
# sync endpoint process or a PostgreSQL cluster, fuzz thousands of inputs, or build/boot
# something heavy are "slow". A test can also mark itself.
SLOW_FIXTURES = {"endpoint", "sqlite_endpoint", "pg_cluster", "backend"}
SLOW_MODULES = {
    "test_fuzz_import_cli.py", "test_fuzz_sync.py", "test_packaging.py",
    "test_keyring_production.py", "test_server_concurrency.py", "test_sync_standalone_connect.py",
    "test_sync_demo_endpoint.py", "test_first_run.py", "test_first_import.py",
    "test_sync_ui_text.py", "test_fhir_api.py", "test_server_auth_cache.py",
    "test_pdf_accessibility.py", "test_fhir_export_import.py", "test_care_plan_batch_dialog.py",
    "test_startup.py", "test_demo.py",
    "test_invitations.py",  # its `team` fixture starts an endpoint process for every test
    # A PostgreSQL cluster and endpoint processes through request.getfixturevalue:
    "test_server_two_hosts.py", "test_server_team_keyed_sql.py",
    # The endpoint's merge and feed, served in this process, attacked edge by edge (82 tests,
    # ~63 s CPU, a third of the fast tier's): the sync client's own in-process tests stay fast.
    "test_endpoint_merge.py", "test_endpoint_merge_edges.py", "test_sync_in_process.py",
}  # fmt: skip


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    for item in items:
        fixtures = set(getattr(item, "fixturenames", ()))
        if {"qtbot", "qapp"} & fixtures:
            item.add_marker(pytest.mark.gui)
        if SLOW_FIXTURES & fixtures or item.path.name in SLOW_MODULES:
            item.add_marker(pytest.mark.slow)


def pytest_collection_finish(session: pytest.Session) -> None:
    """Move everything collection imported (Qt, SQLAlchemy, the app's modules) out of the
    collector's sight (see ``_gc_on_gui_thread``)."""
    gc.collect()
    gc.freeze()


@pytest.hookimpl(tryfirst=True)
def pytest_runtest_setup(item: pytest.Item) -> None:
    sync_env.fast_test = None if item.get_closest_marker("slow") else item.nodeid


@pytest.hookimpl(hookwrapper=True, tryfirst=True)
def pytest_runtest_teardown(item: pytest.Item, nextitem: pytest.Item | None) -> Iterator[None]:
    yield
    sync_env.fast_test = None
    if "PySide6.QtWidgets" in sys.modules:
        _delete_widgets()


def _delete_widgets() -> None:
    """Delete every window a test left behind, once the test and its fixtures are done.

    pytest-qt closes the widgets a test registered and calls deleteLater(), but deferred
    deletes wait for an event loop to run them: closed main windows (each holding its pages,
    models and timers) piled up and made every later restyle, event and repaint slower (a dark
    appearance switch took 7 s CPU late in the suite and 0.03 s on its own)."""
    from PySide6.QtCore import QCoreApplication, QEvent
    from PySide6.QtWidgets import QApplication

    app = QApplication.instance()
    if not isinstance(app, QApplication):
        return
    for widget in app.topLevelWidgets():
        widget.deleteLater()
    QCoreApplication.sendPostedEvents(None, QEvent.Type.DeferredDelete)


_QT_TESTS_ENDED = itertools.count(1)


@pytest.fixture(autouse=True)
def _gc_on_gui_thread(request: pytest.FixtureRequest) -> Iterator[None]:
    """A Qt test collects garbage on the GUI thread only, as the app does (int_desk/app/gc_pin.py):
    a collection on a worker thread destroying the GUI's objects once hung CI for 90 minutes."""
    if not {"qtbot", "qapp"} & set(request.fixturenames):
        yield
        return
    from int_desk.app import gc_pin

    gc_pin.pin_to_gui_thread(request.getfixturevalue("qapp"))
    yield
    gc_pin.unpin()
    # What outlived the test and its full collection is put out of the next collections' sight:
    # each Qt test's collection then walks only what that test made (0.3 s CPU each otherwise,
    # a fifth of the inner loop). Every 25th test looks at everything again, so cycles that die
    # after being frozen are freed (they would add ~60 MB per hundred Qt tests).
    if next(_QT_TESTS_ENDED) % 25 == 0:
        gc.unfreeze()
        gc.collect()
    gc.freeze()


@pytest.fixture(autouse=True)
def _isolate(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[MemoryKeyring]:
    """Every test gets its own INT_DESK_HOME, a private keyring and a cheap KDF."""
    home = tmp_path / "int-desk-home"
    monkeypatch.setenv("INT_DESK_HOME", str(home))
    monkeypatch.delenv("INT_DESK_PASSPHRASE", raising=False)
    monkeypatch.setattr(keys, "DEFAULT_SCRYPT_N", 2**12)
    previous = keyring.get_keyring()
    ring = MemoryKeyring()
    keyring.set_keyring(ring)
    yield ring
    keyring.set_keyring(previous)
    # Drop handlers int_desk.logs added (they point at this test's log dir and stderr).
    root = logging.getLogger()
    for handler in [h for h in root.handlers if getattr(h, "_int_desk", False)]:
        root.removeHandler(handler)
        handler.close()


@pytest.fixture(scope="session")
def demo_template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """One demo workspace built per test session (passphrase only); tests copy it."""
    directory = tmp_path_factory.mktemp("demo-template") / "ws"
    saved = keys.DEFAULT_SCRYPT_N
    keys.DEFAULT_SCRYPT_N = 2**12
    try:
        with Workspace.create(directory, PASSPHRASE, use_keyring=False) as ws:
            with ws.session() as s:
                build_demo(s, patients=DEMO_PATIENTS, seed=DEMO_SEED, today=DEMO_TODAY)
            assert ws.engine is not None
            with ws.engine.connect() as conn:
                conn.exec_driver_sql("PRAGMA wal_checkpoint(TRUNCATE)")
    finally:
        keys.DEFAULT_SCRYPT_N = saved
    return directory


@pytest.fixture
def demo_dir(demo_template: Path, tmp_path: Path) -> Path:
    """A private copy of the demo workspace directory (still locked)."""
    target = tmp_path / "demo-ws"
    shutil.copytree(demo_template, target)
    return target


@pytest.fixture
def demo_ws(demo_dir: Path) -> Iterator[Workspace]:
    """The demo workspace, unlocked with its passphrase."""
    ws = Workspace.open(demo_dir, PASSPHRASE)
    yield ws
    ws.close()
