"""A real INT's first day, end to end, through public interfaces only (the ``int-desk`` commands
an IT administrator and team members run, and the app's huddle page), on PostgreSQL with no
demo data:

empty endpoint -> the administrator sets up the team, its GP practice and three members ->
the coordinator's laptop joins by invitation and imports an extract with unknown practices ->
the nurse's laptop joins and sees the caseload -> a huddle is planned and closed on the
coordinator's laptop, and its minutes and task are on the nurse's after sync -> the nurse's
laptop is revoked and its next sync is refused.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from PySide6.QtCore import QDate, QDeadlineTimer, Qt, QTimer
from PySide6.QtWidgets import QApplication, QDialogButtonBox, QMessageBox
from pytestqt.qtbot import QtBot

from int_desk.app.context import AppContext
from int_desk.app.events import Events
from int_desk.app.huddle_page import AGENDA, EMPTY, MINUTES, RUN, HuddlePage
from int_desk.app.main import settings
from int_desk.app.tasks import TaskRunner
from int_desk.cli import main as cli_main
from int_desk.services.identity import current_actor
from int_desk.store.workspace import Workspace
from tests.conftest import PASSPHRASE
from tests.helpers import sync_env

CTRL = Qt.KeyboardModifier.ControlModifier
SHIFT = Qt.KeyboardModifier.ShiftModifier
WAIT = 20_000
TEAM = "Testbury INT"
EXTRACT = (
    "NHS Number,Forename,Surname,Date of Birth,Postcode,Practice Code,Sex,Reason\n"
    "9990000018,Ada,Testperson,1941-03-02,OX26 1AA,K84001,female,eFI severe\n"
    "9990000026,Bob,Testperson,1938-07-12,OX26 1AB,K84002,male,eFI severe\n"
    "9990000034,Cy,Testperson,1940-01-22,OX26 1AC,K84002,male,eFI moderate\n"
    "9990000042,Di,Testperson,1936-11-30,OX26 1AD,K84003,female,eFI severe\n"
)


class Cli:
    """``int-desk`` as a person at a terminal runs it: arguments in, exit code and text out."""

    def __init__(self, capsys: pytest.CaptureFixture[str], db_url: str) -> None:
        self.capsys, self.db_url = capsys, db_url

    def __call__(self, *args: str, expect: int = 0) -> str:
        code = cli_main(list(args))
        out = self.capsys.readouterr()
        text = out.out + out.err
        assert code == expect, f"int-desk {' '.join(args[:2])} -> {code}:\n{text}"
        return text

    def admin(self, *args: str, expect: int = 0) -> str:
        return self("admin", "--db", self.db_url, *args, expect=expect)


@pytest.fixture
def empty_endpoint(pg_cluster: sync_env.PgCluster) -> Iterator[sync_env.Endpoint]:
    """A brand-new PostgreSQL database: no teams, no users, no records."""
    db_url = pg_cluster.new_database()
    ep = sync_env.Endpoint(url="", db_url=db_url)
    yield ep
    ep.stop()


def _code(text: str) -> str:
    found = re.search(r"\b([0-9A-Z]{4}-[0-9A-Z]{4}-[0-9A-Z]{4})\b", text)
    assert found, text
    return found.group(1)


def _ok(dialog: Any) -> None:
    dialog.buttons.button(QDialogButtonBox.StandardButton.Ok).click()


def _confirm_next(button_text: str) -> None:
    deadline = QDeadlineTimer(WAIT)  # a box that never opens must not leave this polling on

    def click() -> None:
        box = QApplication.activeModalWidget()
        if not isinstance(box, QMessageBox):
            if not deadline.hasExpired():
                QTimer.singleShot(20, click)
            return
        next(b for b in box.buttons() if b.text().replace("&", "") == button_text).click()

    QTimer.singleShot(0, click)


def _page(qtbot: QtBot, ws: Workspace) -> HuddlePage:
    with ws.session() as s:
        actor = current_actor(s)
    page = HuddlePage(AppContext(ws, actor, Events(), TaskRunner(), settings()))
    qtbot.addWidget(page)
    page.resize(1366, 768)
    page.show()
    page.activateWindow()
    return page


def _run_a_huddle(qtbot: QtBot, ws: Workspace, nurse_id: str) -> None:
    """Plan today's huddle, start it, discuss the first person with a task for the nurse, close."""
    page = _page(qtbot, ws)
    qtbot.waitUntil(lambda: bool(page.members) and page.stack.currentIndex() == EMPTY, timeout=WAIT)
    page.plan_dialog()
    dialog = page.dialog
    for i in range(dialog.attendees.count()):
        dialog.attendees.item(i).setCheckState(Qt.CheckState.Checked)
    with qtbot.waitSignal(page.loaded, timeout=WAIT):
        _ok(dialog)
    # Everyone just imported is on the agenda: newly enrolled, until discussed.
    qtbot.waitUntil(
        lambda: page.stack.currentIndex() == AGENDA and page.agenda_list.count() == 4,
        timeout=WAIT,
    )
    assert "Newly enrolled" in page.agenda_list.item(0).text()
    with qtbot.waitSignal(page.action_done, timeout=WAIT):
        page.start()
    qtbot.waitUntil(lambda: page.stack.currentIndex() == RUN and not page.busy, timeout=WAIT)
    page.outcome.setPlainText("Lives alone; daughter visits weekly. Falls last month.")
    page.decisions.setPlainText("Falls assessment at home.")
    page.action_dialog("task")
    task = page.dialog
    qtbot.keyClicks(task.text, "Falls risk assessment at home")
    task.owner.setCurrentIndex(task.owner.findData(nurse_id))
    task.due.setDate(QDate.currentDate().addDays(7))
    with qtbot.waitSignal(page.action_done, timeout=WAIT):
        _ok(task)
    qtbot.waitUntil(lambda: page.actions_list.count() == 1 and not page.busy, timeout=WAIT)
    with qtbot.waitSignal(page.action_done, timeout=WAIT):
        page.discussed()
    qtbot.waitUntil(lambda: not page.busy, timeout=WAIT)
    _confirm_next("Close huddle")
    with qtbot.waitSignal(page.action_done, timeout=WAIT):
        page.close_huddle()
    qtbot.waitUntil(lambda: page.stack.currentIndex() == MINUTES, timeout=WAIT)
    assert "Falls assessment at home." in page.minutes_text.toPlainText()
    page.close()
    page.ctx.tasks.wait()


@pytest.mark.postgres
def test_a_team_from_an_empty_endpoint_to_synced_laptops(
    qtbot: QtBot,
    empty_endpoint: sync_env.Endpoint,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("INT_DESK_PASSPHRASE", PASSPHRASE)
    cli = Cli(capsys, empty_endpoint.db_url)

    # --- the administrator sets up the team on the empty endpoint ----------------------------
    cli.admin("add-team", TEAM, "--place", "Testshire", "--neighbourhood", "Testbury PCN",
              "--phone", "01632 960 321", "--email", "testbury.int@nhs.example")  # fmt: skip
    cli.admin("add-practice", "K84001", "Testbury Health Centre")
    for name, role in (
        ("Cora Coordinator", "care_coordinator"),
        ("Nia Nurse", "district_nurse"),
        ("Gus Practitioner", "gp"),
    ):
        cli.admin("add-member", name, "--role", role, "--team", TEAM)
    members = cli.admin("list-members")
    nurse_id = next(line.split()[0] for line in members.splitlines() if "Nia Nurse" in line)
    assert "Cora Coordinator" in members and TEAM in members
    assert "Testbury Health Centre (K84001)" in cli.admin("list-practices")
    running = sync_env.start_endpoint(empty_endpoint.db_url)
    empty_endpoint.url, empty_endpoint.proc = running.url, running.proc
    empty_endpoint.log_path = running.log_path

    # --- the coordinator's laptop joins by invitation and imports the first extract ----------
    code = _code(cli.admin("invite", "Cora Coordinator"))
    laptop_a, laptop_b = tmp_path / "coordinator", tmp_path / "nurse"
    out = cli("join", "--workspace", str(laptop_a), "--endpoint", running.url, "--code", code,
              "--label", "coordinator-laptop", "--no-keyring")  # fmt: skip
    assert "You are signed in as Cora Coordinator" in out
    again = cli("join", "--workspace", str(tmp_path / "again"), "--endpoint", running.url,
                "--code", code, "--no-keyring", expect=2)  # fmt: skip
    assert "already used" in again  # a code works once
    extract = tmp_path / "phm.csv"
    extract.write_text(EXTRACT, encoding="utf-8")
    out = cli("import-cohort", "--workspace", str(laptop_a), "--cohort", "Frailty",
              "--new-cohort", "--add-practices", str(extract))  # fmt: skip
    assert "GP practices not known here: K84002, 2 people; K84003, 1 person" in out
    assert "4 new people, 4 enrolled" in out
    cli("sync", "--workspace", str(laptop_a))
    practices = cli.admin("list-practices")
    assert (
        "3 GP practices, 2 awaiting a name" in practices
        and "K84002 (name not yet given)" in practices
    )

    # --- the nurse's laptop joins and sees the caseload -------------------------------------
    code = _code(cli.admin("invite", "Nia Nurse", "--hours", "24"))
    out = cli("join", "--workspace", str(laptop_b), "--endpoint", running.url, "--code", code,
              "--label", "nurse-laptop", "--no-keyring")  # fmt: skip
    assert "You are signed in as Nia Nurse" in out
    rows = json.loads(cli("caseload", "--workspace", str(laptop_b), "--format", "json"))
    assert sorted(r["name"] for r in rows) == [
        "TESTPERSON, Ada", "TESTPERSON, Bob", "TESTPERSON, Cy", "TESTPERSON, Di",
    ]  # fmt: skip
    team = cli("teams", "--workspace", str(laptop_b))
    assert "01632 960 321" in team and "K84003 (name not yet given)" in team

    # --- a huddle on the coordinator's laptop; minutes and task on the nurse's ---------------
    with Workspace.open(laptop_a, PASSPHRASE) as ws:
        _run_a_huddle(qtbot, ws, nurse_id)
    cli("sync", "--workspace", str(laptop_a))
    cli("sync", "--workspace", str(laptop_b))
    with Workspace.open(laptop_b, PASSPHRASE) as ws:
        page = _page(qtbot, ws)
        qtbot.waitUntil(lambda: page.stack.currentIndex() == MINUTES, timeout=WAIT)
        minutes = page.minutes_text.toPlainText()
        assert "Lives alone; daughter visits weekly." in minutes
        assert "Task: Falls risk assessment at home (Nia Nurse, due" in minutes
        page.close()
        page.ctx.tasks.wait()
    tasks = json.loads(cli("caseload", "--workspace", str(laptop_b), "--format", "json"))
    assert sum(r["open_tasks"] for r in tasks) == 1

    # --- the nurse's laptop is revoked: its next sync is refused -----------------------------
    access = cli.admin("list-access")
    device = next(line.split()[1] for line in access.splitlines() if "nurse-laptop" in line)
    cli.admin("revoke-device", device)
    refused = cli("sync", "--workspace", str(laptop_b), expect=1)
    assert "revoked" in refused
    cli("sync", "--workspace", str(laptop_a))  # the others carry on
