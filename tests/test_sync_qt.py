"""Sync in the app: the status bar follows real cycles against a real endpoint, and a person
resolves a conflict in the Conflicts inbox."""

from __future__ import annotations

import uuid
from pathlib import Path

from PySide6.QtCore import QSettings
from PySide6.QtWidgets import QMainWindow
from sqlalchemy import select

from int_desk.app.conflicts_page import ConflictsPage
from int_desk.app.context import AppContext
from int_desk.app.events import Events
from int_desk.app.sync_status import install_sync
from int_desk.app.tasks import TaskRunner
from int_desk.domain.actor import Actor
from int_desk.domain.vocab import Role
from int_desk.server.models import ServerUser
from int_desk.services.identity import actor_for, set_current_member
from int_desk.store import models as m
from int_desk.store.workspace import Workspace
from tests.conftest import PASSPHRASE
from tests.helpers.sync_env import Endpoint, laptop, sync


def _ctx(ws: Workspace, ep: Endpoint, user: str, tmp_path: Path) -> AppContext:
    with ep.session() as srv:
        member = srv.scalar(select(ServerUser.member_id).where(ServerUser.name == user))
    with ws.session() as s:
        if s.get(m.Member, member) is None:  # a new laptop before its first sync
            actor = Actor(member, Role.CARE_COORDINATOR)
        else:
            set_current_member(s, member)
            actor = actor_for(s, member)
    settings = QSettings(str(tmp_path / f"{user}.ini"), QSettings.Format.IniFormat)
    return AppContext(ws, actor, Events(), TaskRunner(), settings)


def test_status_bar_shows_up_to_date_pending_and_offline(
    qtbot, sqlite_endpoint: Endpoint, tmp_path: Path
) -> None:  # type: ignore[no-untyped-def]
    ws = laptop(tmp_path / "a", sqlite_endpoint, "a", PASSPHRASE)
    ctx = _ctx(ws, sqlite_endpoint, "a", tmp_path)
    window = QMainWindow()
    qtbot.addWidget(window)
    with qtbot.waitSignal(ctx.events.sync_finished, timeout=30_000) as first:
        controller = install_sync(window, ctx, debounce_ms=50)
    assert first.args[0].ok and first.args[0].redownloaded
    qtbot.waitUntil(lambda: controller.label.text().startswith("Up to date"))
    assert "0 waiting" in controller.label.text()
    assert controller.button.isVisible() or not window.isVisible()

    with ws.session() as s:  # an edit: debounced sync sends it
        pid = s.scalars(select(m.Patient.id).order_by(m.Patient.id)).first()
        s.get(m.Patient, pid).phone = "01632 444444"
    with qtbot.waitSignal(ctx.events.sync_finished, timeout=30_000) as after_edit:
        ctx.events.patient_changed.emit(pid)
    assert after_edit.args[0].pushed == 1
    qtbot.waitUntil(lambda: "0 waiting" in controller.label.text())

    sqlite_endpoint.stop()  # the server goes away: the next cycle reports offline
    with ws.session() as s:
        s.get(m.Patient, pid).phone = "01632 555555"
    controller.cancel.clear()
    with qtbot.waitSignal(ctx.events.sync_finished, timeout=60_000) as offline:
        controller.button.click()
    assert not offline.args[0].ok
    qtbot.waitUntil(lambda: controller.label.text().startswith("Offline"))
    assert "1 waiting" in controller.label.text()
    controller.stop()
    ctx.tasks.wait()
    ws.close()


def test_a_person_resolves_a_conflict_in_the_inbox(
    qtbot, sqlite_endpoint: Endpoint, tmp_path: Path
) -> None:  # type: ignore[no-untyped-def]
    ep = sqlite_endpoint
    a = laptop(tmp_path / "a", ep, "a", PASSPHRASE)
    b = laptop(tmp_path / "b", ep, "b", PASSPHRASE)
    sync(a), sync(b)
    with a.session() as s:
        pid = s.scalars(select(m.Patient.id).order_by(m.Patient.id)).first()
        s.get(m.Patient, pid).carer_needs = "Carer needs respite (from A)"
    with b.session() as s:
        s.get(m.Patient, pid).carer_needs = "Carer works nights (from B)"
    sync(a)
    assert sync(b).conflicts == 1

    ctx = _ctx(b, ep, "b", tmp_path)
    page = ConflictsPage(ctx)
    qtbot.addWidget(page)
    qtbot.waitUntil(lambda: page.table.rowCount() == 1, timeout=10_000)
    cells = [page.table.item(0, c).text() for c in range(page.table.columnCount())]
    assert "Carer works nights (from B)" in cells and "Carer needs respite (from A)" in cells
    assert "Nothing has been overwritten" in page.summary.text()
    assert page.keep_mine.isEnabled()
    with qtbot.waitSignal(ctx.events.patient_changed, timeout=10_000) as changed:
        page.keep_mine.click()
    assert changed.args[0] == pid
    qtbot.waitUntil(lambda: page.table.rowCount() == 0, timeout=10_000)
    assert page.summary.text() == "No conflicts."
    assert not page.keep_mine.isEnabled()
    ctx.tasks.wait()
    sync(b), sync(a)
    with a.session() as s:
        assert s.get(m.Patient, pid).carer_needs == "Carer works nights (from B)"
    assert uuid.UUID(str(pid))
    a.close()
    b.close()
