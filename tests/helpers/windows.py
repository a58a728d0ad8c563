"""The main window on a demo workspace at 1366 x 768, signed in as a role, caseload loaded."""

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

WAIT = 15_000


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
