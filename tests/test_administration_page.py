"""The Administration page on a standalone workspace: the team's phone and email, GP practices
(naming one an import added), members and their team, each change audited; bad input shown
beside the form with nothing saved; other roles see who to ask."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from PySide6.QtCore import Qt
from pytestqt.qtbot import QtBot
from sqlalchemy import func, select

from int_desk.app.administration_page import AdministrationPage
from int_desk.app.main import make_context
from int_desk.app.main_window import MainWindow
from int_desk.domain.vocab import Role
from int_desk.services import team_setup as ts
from int_desk.services.first_run import create_local_workspace
from int_desk.services.identity import current_actor
from int_desk.store.models import AuditEvent, Organisation
from int_desk.store.workspace import Workspace
from tests.conftest import PASSPHRASE

WAIT = 15_000


@pytest.fixture
def page(qtbot: QtBot, tmp_path: Path) -> Iterator[AdministrationPage]:
    ws = create_local_workspace(
        tmp_path / "ws", PASSPHRASE, member_name="Ann Example", role=Role.CARE_COORDINATOR,
        team_name="Testbury INT",
    )  # fmt: skip
    with ws.session() as s:  # a first import left a practice awaiting its name
        ts.add_awaiting_practices(session=s, actor=current_actor(s), codes=["K84001"])
    window = MainWindow(make_context(ws))
    qtbot.addWidget(window)
    window.show()
    admin = window.show_page("AdministrationPage")
    qtbot.waitUntil(
        lambda: admin.tabs.isVisible() and admin.teams.table.rowCount() == 1, timeout=WAIT
    )
    yield admin
    window.close()


def _select(table, row: int = 0) -> None:  # type: ignore[no-untyped-def]
    table.selectRow(row)


def _audit_count(ws: Workspace, entity: str) -> int:
    with ws.session() as s:
        return int(
            s.scalar(
                select(func.count()).select_from(AuditEvent).where(AuditEvent.entity_type == entity)
            )
        )


def test_team_phone_and_email_saved_and_audited(qtbot: QtBot, page: AdministrationPage) -> None:
    assert "Name 1 GP practice an import added: K84001" in page.next_steps.text()
    _select(page.teams.table)
    assert page.team_name.text() == "Testbury INT"
    page.team_phone.setText("01632 960 777")
    page.team_email.setText("not an address")
    page.teams.save_button.click()
    assert "email address" in page.teams.error.text()  # nothing saved, form kept
    assert page.team_email.text() == "not an address"
    page.team_email.setText("testbury.int@nhs.example")
    with qtbot.waitSignal(page.saved, timeout=WAIT):
        page.teams.save_button.click()
    qtbot.waitUntil(lambda: page.teams.table.item(0, 3).text() == "01632 960 777", timeout=WAIT)
    assert page.teams.table.item(0, 4).text() == "testbury.int@nhs.example"
    assert _audit_count(page.ctx.workspace, "team") == 1


def test_naming_a_practice_and_refusing_a_second_with_its_code(
    qtbot: QtBot, page: AdministrationPage
) -> None:
    page.tabs.setCurrentWidget(page.practices)
    assert page.practices.table.item(0, 2).text() == "awaiting a name"
    _select(page.practices.table)
    page.practice_name.setText("Testbury Health Centre")
    with qtbot.waitSignal(page.saved, timeout=WAIT):
        page.practices.save_button.click()
    qtbot.waitUntil(
        lambda: page.practices.table.item(0, 1).text() == "Testbury Health Centre", timeout=WAIT
    )
    assert "GP practice" not in page.next_steps.text().split("Next:")[-1].split(".")[0]

    page.practices.new_button.click()
    page.practice_code.setText("k84001")
    page.practice_name.setText("Another Surgery")
    page.practices.save_button.click()
    assert (
        "K84001 is already the code of Testbury Health Centre (K84001)"
        in page.practices.error.text()
    )
    with page.ctx.workspace.session() as s:
        assert s.scalar(select(func.count()).select_from(Organisation)) == 1


def test_a_new_member_joins_the_team(qtbot: QtBot, page: AdministrationPage) -> None:
    page.tabs.setCurrentWidget(page.members)
    page.members.new_button.click()
    page.member_name.setText("Dee Nurse")
    page.member_role.setCurrentIndex(page.member_role.findData(Role.DISTRICT_NURSE.value))
    page.member_teams.item(0).setCheckState(Qt.CheckState.Checked)
    with qtbot.waitSignal(page.saved, timeout=WAIT):
        page.members.save_button.click()
    qtbot.waitUntil(lambda: page.members.table.rowCount() == 2, timeout=WAIT)
    qtbot.waitUntil(lambda: _audit_count(page.ctx.workspace, "team_membership") == 1, timeout=WAIT)
    with page.ctx.workspace.session() as s:
        d = ts.directory(s)
    assert sorted(m.name for m in d.team_members(d.teams[0].id)) == ["Ann Example", "Dee Nurse"]


def test_other_roles_are_told_who_to_ask(qtbot: QtBot, tmp_path: Path) -> None:
    ws = create_local_workspace(
        tmp_path / "ws", PASSPHRASE, member_name="Ann Example", role=Role.CARE_COORDINATOR,
        team_name="Testbury INT",
    )  # fmt: skip
    with ws.session() as s:
        admin = current_actor(s)
        team = ts.directory(s).teams[0]
        nurse = ts.save_member(session=s, actor=admin, member_id=None, name="Dee", role="gp")
        ts.set_membership(session=s, actor=admin, team_id=team.id, member_id=nurse, member=True)
        from int_desk.services.identity import set_current_member

        set_current_member(s, nurse)
    window = MainWindow(make_context(ws))
    qtbot.addWidget(window)
    window.show()
    page = window.show_page("AdministrationPage")
    qtbot.waitUntil(lambda: "Only an INT administrator" in page.next_steps.text(), timeout=WAIT)
    assert not page.tabs.isVisible()
    window.close()


def test_a_place_is_renamed_and_its_teams_listed(qtbot: QtBot, page: AdministrationPage) -> None:
    page.tabs.setCurrentWidget(page.places)
    assert page.places.table.item(0, 1).text() == "Testbury INT"
    _select(page.places.table)
    page.place_name.setText("Testshire")
    with qtbot.waitSignal(page.saved, timeout=WAIT):
        page.places.save_button.click()
    qtbot.waitUntil(lambda: page.places.table.item(0, 0).text() == "Testshire", timeout=WAIT)
    qtbot.waitUntil(lambda: page.teams.table.item(0, 1).text() == "Testshire", timeout=WAIT)
    assert _audit_count(page.ctx.workspace, "place") == 1
