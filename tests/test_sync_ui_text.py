"""What a nurse reads about sync: plain words for each state, what to do next, no jargon, and a
first download that cannot be broken by pressing Esc."""

from __future__ import annotations

from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

from PySide6.QtCore import QSettings, Qt
from PySide6.QtWidgets import QMainWindow
from pytestqt.qtbot import QtBot

from int_desk.app import sync_status as st
from int_desk.app.context import AppContext
from int_desk.app.events import Events
from int_desk.app.sync_status import install_sync, last_synced, waiting
from int_desk.app.tasks import TaskRunner
from int_desk.services.identity import current_actor
from int_desk.settings_schema import SYNC_INTERVAL
from int_desk.store.workspace import Workspace
from int_desk.sync.client import SyncResult
from tests.conftest import PASSPHRASE
from tests.helpers.sync_env import Endpoint


def test_last_synced_names_the_day_when_it_was_not_today() -> None:
    now = datetime(2026, 11, 20, 16, 0).astimezone()
    at = now.replace(hour=9, minute=5)
    assert last_synced(at.isoformat(), now) == "Last synced 09:05"
    assert last_synced((at - timedelta(days=1)).isoformat(), now) == "Last synced yesterday 09:05"
    assert last_synced((at - timedelta(days=6)).isoformat(), now) == "Last synced 14 Nov 09:05"
    assert last_synced(None, now) == "Not synced yet"


def test_waiting_counts_changes_in_words() -> None:
    assert waiting(0) == "Nothing waiting to send"
    assert waiting(1) == "1 change waiting to send"
    assert waiting(1200) == "1,200 changes waiting to send"


def _window(
    qtbot: QtBot, ws: Workspace, tmp_path: Path, interval: int | None = None
) -> tuple[QMainWindow, st.SyncController]:
    with ws.session() as s:
        actor = current_actor(s)
    settings = QSettings(str(tmp_path / "s.ini"), QSettings.Format.IniFormat)
    if interval is not None:
        settings.setValue(SYNC_INTERVAL, interval)
    ctx = AppContext(ws, actor, Events(), TaskRunner(), settings)
    window = QMainWindow()
    qtbot.addWidget(window)
    controller = install_sync(window, ctx)
    return window, controller


def test_not_connected_says_where_to_connect(
    qtbot: QtBot, demo_ws: Workspace, tmp_path: Path
) -> None:
    _window_, controller = _window(qtbot, demo_ws, tmp_path)
    qtbot.waitUntil(lambda: controller.state == st.NOT_CONNECTED)
    assert controller.label.text() == "Not syncing: this computer is not connected to your team"
    assert "Edit > Settings > Team endpoint" in controller.label.toolTip()
    assert not controller.button.isVisible()
    controller.ctx.tasks.wait()


def test_a_failed_cycle_reads_as_words_and_keeps_the_detail_for_the_administrator(
    qtbot: QtBot, demo_ws: Workspace, tmp_path: Path
) -> None:
    _window_, controller = _window(qtbot, demo_ws, tmp_path)
    qtbot.waitUntil(lambda: controller.state == st.NOT_CONNECTED)
    controller.ctx.tasks.wait()
    server = SyncResult(error="The sync server had a problem (HTTP 500).", error_kind="server")
    controller._done(server)  # the result a cycle hands back when the server answers 500
    text = controller.label.text()
    assert text.startswith("Sync failed: your team's server had a problem; INT Desk will try again")
    assert "HTTP" not in text and "(" not in text
    assert "HTTP 500" in controller.label.toolTip()
    assert "tries again every 5 minutes" in controller.label.toolTip()

    controller._pending_read(3)  # an edit while failed: the words and the detail stay
    assert controller.label.text().startswith("Sync failed")
    assert "3 changes waiting to send" in controller.label.text()
    assert "HTTP 500" in controller.label.toolTip()

    old_app = SyncResult(error="The sync server needs a different version", error_kind="protocol")
    controller._done(old_app)
    assert controller.label.text().startswith("Sync stopped: INT Desk needs updating")
    controller.ctx.tasks.wait()


def test_the_progress_bar_speaks_in_words(qtbot: QtBot, demo_ws: Workspace, tmp_path: Path) -> None:
    _window_, controller = _window(qtbot, demo_ws, tmp_path)
    controller.ctx.tasks.wait()
    controller.progress.emit("push", 3, 10)
    qtbot.waitUntil(lambda: controller.bar.value() == 3)
    assert controller.bar.text() == "3 of 10"
    assert controller.bar.toolTip() == "Sending changes made on this computer: 3 of 10"
    assert controller.bar.accessibleName() == "Sync progress"
    controller.progress.emit("pull", 250, 0)
    qtbot.waitUntil(lambda: controller.bar.toolTip() == "Receiving your team's records…")
    assert "pull" not in controller.bar.text()


def _first_download_under_way(qtbot: QtBot, sqlite_endpoint: Endpoint, tmp_path: Path) -> Any:
    """First run's connect path up to its first download, whose first page is slow (2 s)."""
    from int_desk.app.first_run import FirstRunDialog
    from int_desk.app.main import settings
    from int_desk.settings_schema import Preferences

    dialog = FirstRunDialog(Preferences(settings()))
    qtbot.addWidget(dialog)
    dialog.show()
    f = dialog.form
    f.connectButton.click()
    f.endpointEdit.setText(sqlite_endpoint.url)
    f.tokenEdit.setText(sqlite_endpoint.tokens["c"])
    f.checkButton.click()
    qtbot.waitUntil(f.connectNextButton.isEnabled, timeout=10_000)
    f.connectNextButton.click()
    f.locationEdit.setText(str(tmp_path / "new-laptop"))
    f.passphraseEdit.setText(PASSPHRASE + " strong 42")
    f.confirmEdit.setText(PASSPHRASE + " strong 42")
    sqlite_endpoint.fault("/v1/pull", "delay_after", seconds=2)  # a slow first page
    f.createWorkspaceButton.click()
    qtbot.waitUntil(lambda: dialog.current_page() == FirstRunDialog.SYNC, timeout=30_000)
    return dialog


def test_esc_during_the_first_download_does_not_break_it(
    qtbot: QtBot, sqlite_endpoint: Endpoint, tmp_path: Path
) -> None:
    dialog = _first_download_under_way(qtbot, sqlite_endpoint, tmp_path)
    f = dialog.form
    assert not f.finishButton.isEnabled()

    qtbot.keyClick(dialog, Qt.Key.Key_Escape)
    assert dialog.isVisible()
    assert dialog.workspace is not None and dialog.workspace.is_open
    assert "wait for the download" in f.syncStatusLabel.text()
    qtbot.waitUntil(f.finishButton.isEnabled, timeout=60_000)
    assert not f.syncErrorLabel.isVisible(), f.syncErrorLabel.text()
    assert "Downloaded" in f.syncStatusLabel.text()


def test_the_first_download_can_be_stopped_and_retried(
    qtbot: QtBot, sqlite_endpoint: Endpoint, tmp_path: Path
) -> None:
    dialog = _first_download_under_way(qtbot, sqlite_endpoint, tmp_path)
    f = dialog.form
    assert f.syncStopButton.isVisible() and f.syncStopButton.isEnabled()
    f.syncStopButton.click()
    assert not f.syncStopButton.isEnabled()
    qtbot.waitUntil(f.syncErrorLabel.isVisible, timeout=30_000)
    assert "Download stopped" in f.syncErrorLabel.text()
    assert "kept" in f.syncErrorLabel.text()
    assert f.syncRetryButton.isVisible() and not f.finishButton.isEnabled()
    assert not f.syncStopButton.isVisible()
    f.syncRetryButton.click()  # continues, and this time finishes
    qtbot.waitUntil(f.finishButton.isEnabled, timeout=60_000)
    assert not f.syncErrorLabel.isVisible(), f.syncErrorLabel.text()
    assert "Downloaded" in f.syncStatusLabel.text()


def test_the_sync_every_setting_is_used_from_the_start(
    qtbot: QtBot, demo_ws: Workspace, tmp_path: Path
) -> None:
    _window_, controller = _window(qtbot, demo_ws, tmp_path, interval=30)
    controller.ctx.tasks.wait()
    assert controller.periodic.interval() == 30 * 60_000
    controller._done(
        SyncResult(error="The sync server had a problem (HTTP 503).", error_kind="server")
    )
    assert "tries again every 30 minutes" in controller.label.toolTip()


def test_changes_waiting_are_not_called_up_to_date(
    qtbot: QtBot, demo_ws: Workspace, tmp_path: Path
) -> None:
    _window_, controller = _window(qtbot, demo_ws, tmp_path)
    controller.ctx.tasks.wait()
    controller._done(SyncResult(ok=True, finished_at=datetime.now().astimezone().isoformat()))
    assert controller.label.text().startswith("Up to date")
    controller._pending_read(1)  # an edit, not sent yet
    assert controller.label.text().startswith("Sending shortly")
    assert "1 change waiting to send" in controller.label.text()
    assert "Sync now" in controller.label.toolTip()
