"""Cohort export from the app: the progress bar moves, every plan lands, Cancel leaves nothing."""

from __future__ import annotations

import time
import uuid
from pathlib import Path
from typing import Any

import pytest
from PySide6.QtWidgets import QPushButton
from pytestqt.qtbot import QtBot
from sqlalchemy import func, select

from int_desk.app.care_plan_batch_export import CohortExport
from int_desk.app.context import AppContext
from int_desk.app.events import Events
from int_desk.app.main import settings
from int_desk.app.tasks import TaskRunner
from int_desk.domain.errors import Interrupted
from int_desk.services import care_plan_export
from int_desk.services.identity import current_actor
from int_desk.store.models import AuditEvent
from int_desk.store.workspace import Workspace
from tests.conftest import PASSPHRASE
from tests.helpers.care_plan_cohort import cohort_with_shareable_plans

WAIT = 60_000


def _setup(ws: Workspace) -> tuple[AppContext, uuid.UUID, int]:
    cohort_id, expected = cohort_with_shareable_plans(ws)
    with ws.session() as s:
        actor = current_actor(s)
    return AppContext(ws, actor, Events(), TaskRunner(), settings()), cohort_id, expected


def test_cohort_export_shows_progress_and_writes_every_plan(
    qtbot: QtBot, demo_ws: Workspace, tmp_path: Path
) -> None:
    ctx, cohort_id, expected = _setup(demo_ws)
    out = tmp_path / "plans"
    job = CohortExport(ctx, cohort_id, out)
    values: list[int] = []
    job._relay.progressed.connect(lambda done, _total: values.append(done))
    with qtbot.waitSignal(job.finished, timeout=WAIT) as finished:
        job.start()
    result = finished.args[0]
    assert len(list(out.glob("*.pdf"))) == len(result.written) == expected
    assert values[-1] == expected and values == sorted(values)
    assert f"Wrote {expected} care plans" in job.dialog.labelText()
    assert [b.text() for b in job.dialog.findChildren(QPushButton)] == ["Close"]
    job.dialog.close()
    ctx.tasks.wait()


def test_cancel_leaves_no_files(
    qtbot: QtBot, demo_ws: Workspace, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    ctx, cohort_id, expected = _setup(demo_ws)
    render = care_plan_export.render_care_plan

    def slow_render(*args: Any, **kwargs: Any) -> bytes:
        time.sleep(0.05)  # so Cancel surely arrives while plans remain
        return render(*args, **kwargs)

    monkeypatch.setattr(care_plan_export, "render_care_plan", slow_render)
    out = tmp_path / "plans"
    job = CohortExport(ctx, cohort_id, out)

    def cancel_after_three(done: int, _total: int) -> None:
        if done == 3:
            job.dialog.findChild(QPushButton).click()  # the Cancel button

    job._relay.progressed.connect(cancel_after_three)
    with qtbot.waitSignal(job.failed, timeout=WAIT) as failed:
        job.start()
    assert isinstance(failed.args[0], Interrupted)
    assert list(out.iterdir()) == []
    with demo_ws.session() as s:
        assert not s.scalar(
            select(func.count())
            .select_from(AuditEvent)
            .where(AuditEvent.detail.like("export %batch=%"))
        )
    assert expected > 3
    ctx.tasks.wait()


def test_cohort_export_from_the_file_menu(qtbot: QtBot, demo_dir: Path, tmp_path: Path) -> None:
    from int_desk.app.main import make_context
    from int_desk.app.main_window import MainWindow

    ws = Workspace.open(demo_dir, PASSPHRASE)
    cohort_id, expected = cohort_with_shareable_plans(ws)
    window = MainWindow(make_context(ws))
    qtbot.addWidget(window)
    window.show()
    action = window.export_action
    assert action in window.form.fileMenu.actions() and action.isVisible()
    assert action.shortcut().toString() == "Ctrl+Shift+X"
    action.trigger()
    dialog = window.export_dialog
    qtbot.waitUntil(lambda: dialog.cohort.count() > 1, timeout=WAIT)
    dialog.export_button.click()  # nothing chosen for the user: refused inline
    assert dialog.isVisible() and "cohort" in dialog.error.text().lower()
    dialog.cohort.setCurrentIndex(dialog.cohort.findData(cohort_id.hex))
    out = tmp_path / "exported"
    dialog.folder.setText(str(out))
    with qtbot.waitSignal(dialog.started, timeout=WAIT) as started:
        dialog.export_button.click()
    with qtbot.waitSignal(started.args[0].finished, timeout=WAIT):
        pass
    assert len(list(out.glob("*.pdf"))) == expected
    started.args[0].dialog.close()
    window.close()
