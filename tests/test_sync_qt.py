"""Sync in the app: the status bar follows real cycles against a real endpoint, and a person
resolves a conflict in the Conflicts inbox."""

from __future__ import annotations

import re
import uuid
from pathlib import Path

from PySide6.QtCore import QSettings
from PySide6.QtWidgets import QMainWindow, QToolButton
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
    window.show()
    qtbot.waitExposed(window)
    with qtbot.waitSignal(ctx.events.sync_finished, timeout=30_000) as first:
        controller = install_sync(window, ctx, debounce_ms=50)
    assert first.args[0].ok and first.args[0].redownloaded
    qtbot.waitUntil(lambda: controller.label.text().startswith("Up to date"))
    assert "Last synced" in controller.label.text()
    assert "Nothing waiting to send" in controller.label.text()
    assert controller.mark.text() == "✓" and controller.label.property("syncState") == "ok"
    assert controller.label.isVisible() and controller.button.isVisible()  # "Sync now"

    with ws.session() as s:
        pid = s.scalars(select(m.Patient.id).order_by(m.Patient.id)).first()
    # An edit, by whichever code: the store announces it and the debounced sync sends it.
    with qtbot.waitSignal(ctx.events.sync_finished, timeout=30_000) as after_edit:
        with ws.session() as s:
            s.get(m.Patient, pid).phone = "01632 444444"
    assert after_edit.args[0].pushed == 1
    qtbot.waitUntil(lambda: "Nothing waiting to send" in controller.label.text())

    sqlite_endpoint.stop()  # the server goes away: the next cycle reports offline
    with ws.session() as s:
        s.get(m.Patient, pid).phone = "01632 555555"
    controller.cancel.clear()
    with qtbot.waitSignal(ctx.events.sync_finished, timeout=60_000) as offline:
        controller.button.click()
    assert not offline.args[0].ok
    qtbot.waitUntil(lambda: controller.label.text().startswith("Offline"))
    text = controller.label.text()
    assert "1 change waiting to send" in text and "kept here" in text
    assert "Error" not in text and "(" not in text  # no exception class names
    assert "sent automatically" in controller.label.toolTip()
    assert controller.label.accessibleDescription() == controller.label.toolTip()
    # Fail fast: nothing answers, so no minute of retries behind "Syncing…".
    assert offline.args[0].retries == 0 and offline.args[0].error_kind == "network"
    # Offline looks different from online, not by colour alone: a mark and a framed label.
    assert controller.mark.text() == "⚠ OFFLINE"
    assert controller.label.property("syncState") == "offline"
    # What is waiting: what, whose record, when.
    assert controller.waiting_button.isVisibleTo(window)
    with ws.session() as s:  # signed in as the app would be after the first download
        ctx.actor = actor_for(s, ctx.actor.member_id)
    controller.waiting_button.click()
    dialog = window.waiting_dialog
    with qtbot.waitSignal(dialog.loaded, timeout=10_000) as listed:
        pass
    assert listed.args == [1]
    with ws.session() as s:
        p = s.get(m.Patient, pid)
        whose = f"{p.family_name.upper()}, {p.given_name} (born {p.date_of_birth:%d %b %Y})"
    row = [dialog.table.item(0, c).text() for c in range(3)]
    assert row[0].startswith("Today ") and row[1] == "Patient details changed" and row[2] == whose
    dialog.close()
    controller.stop()
    ctx.tasks.wait()
    ws.close()


def _same_field_edited_on_two_laptops(ep: Endpoint, tmp_path: Path) -> tuple:
    """Laptops A and B change one patient's carer needs offline; A has synced, B not yet."""
    a = laptop(tmp_path / "a", ep, "a", PASSPHRASE)
    b = laptop(tmp_path / "b", ep, "b", PASSPHRASE)
    sync(a), sync(b)
    with a.session() as s:
        pid = s.scalars(select(m.Patient.id).order_by(m.Patient.id)).first()
        s.get(m.Patient, pid).carer_needs = "Carer needs respite (from A)"
    with b.session() as s:
        s.get(m.Patient, pid).carer_needs = "Carer works nights (from B)"
    sync(a)
    return a, b, pid


def test_a_person_resolves_a_conflict_in_the_inbox(
    qtbot, sqlite_endpoint: Endpoint, tmp_path: Path
) -> None:  # type: ignore[no-untyped-def]
    ep = sqlite_endpoint
    a, b, pid = _same_field_edited_on_two_laptops(ep, tmp_path)
    assert sync(b).conflicts == 1

    ctx = _ctx(b, ep, "b", tmp_path)
    page = ConflictsPage(ctx)
    qtbot.addWidget(page)
    page.show()
    qtbot.waitExposed(page)
    qtbot.waitUntil(lambda: page.table.rowCount() == 1, timeout=10_000)
    cells = [page.table.item(0, c).text() for c in range(page.table.columnCount())]
    assert "Carer works nights (from B)" in cells and "Carer needs respite (from A)" in cells
    assert "Nothing has been overwritten" in page.summary.text()
    assert "1 change needs a decision" in page.summary.text()  # not "1 change(s)"
    for col in (3, 5):  # both sides' times read the same way, e.g. "22 Nov 14:05"
        assert re.search(r", \d{1,2} [A-Z][a-z]{2} \d\d:\d\d$", page.table.item(0, col).text())
    assert page.keep_mine.isEnabled()
    with qtbot.waitSignal(
        ctx.events.changed, timeout=10_000, check_params_cb=lambda c: c.touches_patient(pid)
    ) as changed:
        page.keep_mine.click()
    assert changed.args[0].local_edit  # the chosen value is an edit to send
    qtbot.waitUntil(lambda: page.table.rowCount() == 0, timeout=10_000)
    assert page.summary.text().startswith("No conflicts.")
    assert "Carer needs now has your value" in page.outcome.text()
    assert page.outcome.isVisible()  # the person sees what happened to their choice
    assert not page.keep_mine.isEnabled()
    ctx.tasks.wait()
    sync(b), sync(a)
    with a.session() as s:
        assert s.get(m.Patient, pid).carer_needs == "Carer works nights (from B)"
    assert uuid.UUID(str(pid))
    a.close()
    b.close()


def test_status_bar_and_navigation_point_to_an_open_conflict(
    qtbot, sqlite_endpoint: Endpoint, tmp_path: Path
) -> None:  # type: ignore[no-untyped-def]
    from int_desk.app.main_window import MainWindow

    ep = sqlite_endpoint
    a, b, pid = _same_field_edited_on_two_laptops(ep, tmp_path)

    ctx = _ctx(b, ep, "b", tmp_path)
    window = MainWindow(ctx)  # its first sync finds the conflict
    qtbot.addWidget(window)
    window.show()
    button = window.sync.conflicts_button
    nav = window.form.navList
    conflicts_row = window.form.pageStack.indexOf(window.pages["ConflictsPage"])
    qtbot.waitUntil(button.isVisible, timeout=30_000)
    assert button.text() == "1 conflict to resolve"
    assert nav.item(conflicts_row).text() == "Conflicts (1)"

    button.click()  # the status bar takes you to the inbox
    assert nav.currentRow() == conflicts_row
    page = window.pages["ConflictsPage"]
    qtbot.waitUntil(lambda: page.table.rowCount() == 1, timeout=10_000)
    page.keep_theirs.click()
    qtbot.waitUntil(lambda: not button.isVisible(), timeout=10_000)
    assert nav.item(conflicts_row).text() == "Conflicts"
    window.sync.stop()
    ctx.tasks.wait()
    window.close()
    a.close()


def test_a_refused_device_token_says_who_to_ask(
    qtbot, sqlite_endpoint: Endpoint, tmp_path: Path
) -> None:  # type: ignore[no-untyped-def]
    from int_desk.server import admin

    ws = laptop(tmp_path / "a", sqlite_endpoint, "a", PASSPHRASE)
    sync(ws)
    with sqlite_endpoint.session() as srv:  # the administrator withdraws the laptop's token
        for token, user in admin.list_tokens(srv):
            if user == "a":
                admin.revoke_token(srv, token.id)
    ctx = _ctx(ws, sqlite_endpoint, "a", tmp_path)
    window = QMainWindow()
    qtbot.addWidget(window)
    with qtbot.waitSignal(ctx.events.sync_finished, timeout=30_000) as refused:
        controller = install_sync(window, ctx)
    assert refused.args[0].error_kind == "auth"
    qtbot.waitUntil(lambda: controller.label.text().startswith("Sync stopped"))
    assert "ask your administrator for a new invitation code" in controller.label.text()
    assert not window.findChild(QToolButton, "syncSignInButton").isHidden()  # enter a new code
    assert "Settings > Team endpoint" in controller.label.toolTip()
    assert "Details for your administrator" in controller.label.toolTip()
    assert controller.button.isEnabled()  # they can try again once they have a new token
    controller.stop()
    ctx.tasks.wait()
    ws.close()
