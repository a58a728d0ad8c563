"""A brand-new workspace is a normal state: every page opens without an error and says what to
do next (import a cohort, connect to the team, plan a huddle)."""

from __future__ import annotations

import uuid
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from PySide6.QtWidgets import QApplication, QLabel, QMessageBox
from pytestqt.qtbot import QtBot

from int_desk.app.main import make_context
from int_desk.app.main_window import MainWindow
from int_desk.app.pages import PAGES
from int_desk.domain.actor import Actor
from int_desk.domain.permissions import Permission, allowed
from int_desk.domain.vocab import Role
from int_desk.services.first_run import create_local_workspace
from int_desk.store.workspace import Workspace
from tests.conftest import PASSPHRASE


def _can(role: Role, permission: Permission) -> bool:
    return allowed(Actor(uuid.uuid4(), role), permission)


# What each page of an empty workspace must say, for the signed-in role. A page added to PAGES
# without an entry here fails test_every_page_has_an_empty_state.
EMPTY_TEXT: dict[str, Callable[[Role], str]] = {
    "CaseloadPage": lambda role: (
        "Import your team's cohort list"
        if _can(role, Permission.IMPORT_COHORT)
        else "Ask your care coordinator or clinical lead to import"
    ),
    "MyTasksPage": lambda role: (
        "No open tasks for you" if _can(role, Permission.MANAGE_TASKS) else "is not given tasks"
    ),
    "OverviewPage": lambda role: "no one on the caseload yet",
    "AuditPage": lambda role: (
        "1 entry"  # the workspace's own creation, audited
        if _can(role, Permission.VIEW_AUDIT)
        else "cannot view the audit trail"
    ),
    "HuddlePage": lambda role: "No huddle yet for this team",
    "ScorecardPage": lambda role: "there is nothing to count yet",
    "ConflictsPage": lambda role: "No conflicts",
    # Whoever sets up a standalone workspace administers it (tests/test_administration_page.py
    # has the role that may not).
    "AdministrationPage": lambda role: "Add your team's GP practices",
}


def _expected(page: str, role: Role) -> str:
    return EMPTY_TEXT[page](role)


def test_every_page_has_an_empty_state() -> None:
    assert {spec.partition(":")[2] for spec in PAGES} <= set(EMPTY_TEXT)


@pytest.fixture
def new_workspace(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Workspace]:
    ws = create_local_workspace(
        tmp_path / "ws",
        PASSPHRASE,
        member_name="Alex Example",
        role=request.param,
        team_name="Testbury INT",
        neighbourhood="Testbury PCN",
    )
    yield ws
    ws.close()


def _error_boxes() -> list[str]:
    return [
        w.text()
        for w in QApplication.topLevelWidgets()
        if isinstance(w, QMessageBox) and w.isVisible()
    ]


def _visible_text(page: object) -> str:
    labels = page.findChildren(QLabel)  # type: ignore[attr-defined]
    return "\n".join(label.text() for label in labels if label.isVisibleTo(page))  # type: ignore[arg-type]


@pytest.mark.parametrize(
    "new_workspace",
    [Role.CARE_COORDINATOR, Role.DISTRICT_NURSE, Role.ADMIN],
    indirect=True,
    ids=lambda r: r.value,
)
def test_every_page_of_a_new_workspace_opens_and_says_what_next(
    qtbot: QtBot, new_workspace: Workspace
) -> None:
    role = Role(make_context(new_workspace).actor.role)
    window = MainWindow(make_context(new_workspace))
    qtbot.addWidget(window)
    window.resize(1280, 760)
    window.show()
    for key in list(window.pages.keys()):
        page = window.show_page(key)
        expected = _expected(key, role)
        qtbot.waitUntil(
            lambda page=page, expected=expected: (
                expected in _visible_text(page) or bool(_error_boxes())
            ),
            timeout=10_000,
        )
        assert _error_boxes() == [], f"{key} showed an error"
        assert expected in _visible_text(page), key
    assert getattr(window.pages["CaseloadPage"], "last_error", None) is None
    window.close()
