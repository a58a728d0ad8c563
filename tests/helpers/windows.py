"""The main window on a demo workspace at 1366 x 768, signed in as a role, caseload loaded;
waiting until a window has settled."""

from __future__ import annotations

from pathlib import Path

from pytestqt.qtbot import QtBot

from int_desk.app.caseload_page import CaseloadPage
from int_desk.app.main import make_context
from int_desk.app.main_window import MainWindow
from int_desk.domain.vocab import Role
from int_desk.services.identity import set_current_member
from int_desk.store.workspace import Workspace
from tests.conftest import PASSPHRASE
from tests.helpers.actors import actor_of_role

WAIT = 30_000  # only when to give up: the waits are for conditions


def window_as(
    qtbot: QtBot, directory: Path, role: Role | None = None
) -> tuple[MainWindow, CaseloadPage]:
    ws = Workspace.open(directory, PASSPHRASE)
    if role is not None:
        with ws.session() as s:
            set_current_member(s, actor_of_role(s, role).member_id)
    window = MainWindow(make_context(ws))
    qtbot.addWidget(window)
    window.resize(1366, 768)
    window.show()
    page = window.pages["CaseloadPage"]
    qtbot.waitUntil(lambda: page.model.rowCount() > 0, timeout=WAIT)
    return window, page


def settle(qtbot: QtBot, window: MainWindow, quiet_checks: int = 3) -> None:
    """Wait until every query the window started has reported and no new one started for a few
    event-loop turns (a page's results often start its next query, e.g. a count after a list)."""
    quiet: list[bool] = []

    def settled() -> bool:
        if not window.ctx.tasks.idle():
            quiet.clear()
            return False
        quiet.append(True)
        return len(quiet) >= quiet_checks

    qtbot.waitUntil(settled, timeout=WAIT)
