"""Accessibility of the whole app (issue 21): every control on every page and dialog has an
accessible name (QAccessible, as a screen reader sees it), Tab follows the layout, and every
text colour the app uses reaches WCAG AA contrast (4.5:1) in the light and dark appearance.
Not by colour alone: the caseload (test_caseload_window), My tasks and the sync status carry
marks and words beside their colours (asserted here and there)."""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator
from datetime import timedelta
from pathlib import Path

import pytest
from PySide6.QtGui import QPalette
from PySide6.QtWidgets import QApplication, QWidget
from pytestqt.qtbot import QtBot

from int_desk import paths
from int_desk.app import colours
from int_desk.app.accessibility import (
    AA_TEXT,
    contrast_ratio,
    tab_order_problems,
    unnamed_controls,
)
from int_desk.app.main import make_context
from int_desk.app.main_window import MainWindow
from int_desk.app.settings_dialog import apply_appearance
from int_desk.domain.uk_time import london_today
from int_desk.domain.vocab import Role
from int_desk.services.identity import current_actor
from int_desk.store.models import Task
from int_desk.store.workspace import Workspace
from tests.conftest import PASSPHRASE
from tests.helpers.actors import patient_in_scope
from tests.helpers.windows import window_as

WAIT = 15_000
R = QPalette.ColorRole


@pytest.fixture(params=["light", "dark"])
def scheme(request: pytest.FixtureRequest, qapp: QApplication) -> Iterator[str]:
    apply_appearance(qapp, request.param)
    yield request.param
    apply_appearance(qapp, "light")


# --- contrast ---------------------------------------------------------------------------------


def _rules(scheme: str) -> dict[str, dict[str, str]]:
    """Selector -> {color, background} from the style sheets in effect (dark after light)."""
    sheets = [paths.resources_dir() / "style.qss"]
    if scheme == "dark":
        sheets.append(paths.resources_dir() / "style-dark.qss")
    rules: dict[str, dict[str, str]] = {}
    for sheet in sheets:
        text = re.sub(r"/\*.*?\*/", "", sheet.read_text(encoding="utf-8"), flags=re.S)
        for selectors, body in re.findall(r"([^{}]+)\{([^}]*)\}", text):
            decls = dict(
                (k.strip(), v.strip())
                for k, v in (d.split(":", 1) for d in body.split(";") if ":" in d)
            )
            for selector in selectors.split(","):
                found = rules.setdefault(selector.strip(), {})
                for key in ("color", "background", "selection-color", "selection-background-color"):
                    if key in decls and decls[key].startswith("#"):
                        found[key] = decls[key]
    return rules


def _pairs(palette: QPalette, scheme: str) -> list[tuple[str, str, str]]:
    """(what, text colour, background colour) for every text the app paints."""
    c = palette.color
    pairs = [
        ("window text", c(R.WindowText).name(), c(R.Window).name()),
        ("text in fields and tables", c(R.Text).name(), c(R.Base).name()),
        ("text on alternate rows", c(R.Text).name(), c(R.AlternateBase).name()),
        ("button text", c(R.ButtonText).name(), c(R.Button).name()),
        ("selected text", c(R.HighlightedText).name(), c(R.Highlight).name()),
        ("placeholder text", c(R.PlaceholderText).name(), c(R.Base).name()),
        ("tooltips", c(R.ToolTipText).name(), c(R.ToolTipBase).name()),
        ("links", c(R.Link).name(), c(R.Base).name()),
        ("overdue row", colours.TEXT_ON_TINT, colours.OVERDUE_BG),
        ("high-priority row", colours.TEXT_ON_TINT, colours.HIGH_BG),
        ("discharged row on a tint", colours.MUTED_ON_TINT, colours.OVERDUE_BG),
        ("discharged row on a tint", colours.MUTED_ON_TINT, colours.HIGH_BG),
        ("discharged row", colours.MUTED[scheme], c(R.Base).name()),
        ("record alert line", colours.ALERT_TEXT, colours.OVERDUE_BG),
    ]
    for selector, rule in _rules(scheme).items():
        if selector.endswith(":disabled"):
            continue  # WCAG 1.4.3 exempts inactive controls
        lists = selector.startswith(("QTableView", "QListWidget", "QHeaderView"))
        fg = rule.get("color") or c(R.Text if lists else R.WindowText).name()
        bg = rule.get("background") or c(R.Base if lists else R.Window).name()
        if "color" in rule or "background" in rule:
            pairs.append((selector, fg, bg))
        if "selection-background-color" in rule:
            selected = rule.get("selection-color") or c(R.HighlightedText).name()
            pairs.append((f"{selector} selection", selected, rule["selection-background-color"]))
    return pairs


def test_every_text_colour_reaches_4_5_to_1(qapp: QApplication, scheme: str) -> None:
    failures = [
        f"{what}: {fg} on {bg} is {contrast_ratio(fg, bg):.2f}:1"
        for what, fg, bg in _pairs(qapp.palette(), scheme)
        if contrast_ratio(fg, bg) < AA_TEXT
    ]
    assert failures == [], scheme


# --- names and tab order of every page and dialog --------------------------------------------


def _check(window: QWidget, what: str, problems: list[str]) -> None:
    problems += [f"{what}: no accessible name: {c}" for c in unnamed_controls(window)]
    problems += [f"{what}: tab order: {p}" for p in tab_order_problems(window)]


def _dialogs(window: MainWindow, qtbot: QtBot) -> Iterator[tuple[str, Callable[[], QWidget]]]:
    ctx = window.ctx
    page = window.pages["CaseloadPage"]
    page.table.selectRow(0)
    qtbot.waitUntil(lambda: page.pane.buttons["contact"].isEnabled(), timeout=WAIT)
    for key, button in page.pane.buttons.items():
        if key == "plan" or not button.isEnabled():
            continue

        def open_action(b=button) -> QWidget:  # noqa: ANN001
            b.click()
            return page.pane.dialog

        yield f"record pane: {key}", open_action
    from int_desk.app.about import AboutDialog
    from int_desk.app.care_plan_batch_export import CohortExportDialog
    from int_desk.app.cohort_import_dialog import CohortImportDialog
    from int_desk.app.first_run import FirstRunDialog
    from int_desk.app.huddle_dialogs import ActionDialog, AddPersonDialog, PlanDialog
    from int_desk.app.main import settings
    from int_desk.app.settings_dialog import SettingsDialog
    from int_desk.app.unlock_dialog import UnlockDialog
    from int_desk.app.waiting_dialog import WaitingDialog
    from int_desk.settings_schema import Preferences

    huddle = window.pages["HuddlePage"]
    qtbot.waitUntil(lambda: bool(huddle.members), timeout=WAIT)
    members = huddle.members
    yield "settings", lambda: SettingsDialog(Preferences(settings()), window)
    yield "about", lambda: AboutDialog(window)
    yield "unlock", lambda: UnlockDialog(ctx.workspace.directory, parent=window)
    yield "export care plans", lambda: CohortExportDialog(ctx, window)
    yield "waiting to send", lambda: WaitingDialog(ctx, window)
    yield "import a cohort", lambda: CohortImportDialog(ctx, window)
    yield "plan a huddle", lambda: PlanDialog(members, me=ctx.actor.member_id, kind="daily")
    for kind in ("task", "home_visit", "escalation", "referral"):
        yield f"huddle {kind}", lambda k=kind: ActionDialog(k, members, patient="Rose Abbott")
    yield "add to the agenda", lambda: AddPersonDialog(huddle)
    from int_desk.app.care_plan_editor import CarePlanEditor
    from int_desk.app.crash import CrashDialog
    from int_desk.app.lock import LockScreen

    def care_plan() -> QWidget:
        opened: list[QWidget] = []
        CarePlanEditor.open_for(ctx, page.record.patient_id, window, on_open=opened.append)
        qtbot.waitUntil(lambda: bool(opened), timeout=WAIT)
        return opened[0]

    yield "care plan editor", care_plan
    yield "lock screen", lambda: LockScreen("Sam Carter (District nurse)", True)
    yield "crash report", lambda: CrashDialog("Traceback (most recent call last): …", window)
    for n, name in enumerate(("welcome", "create", "connect", "sync")):

        def first_run(n: int = n) -> QWidget:
            dialog = FirstRunDialog(Preferences(settings()))
            dialog.show_page(n)
            return dialog

        yield f"first run: {name}", first_run


def test_every_page_and_dialog_names_its_controls_and_tabs_in_layout_order(
    qtbot: QtBot, qapp: QApplication, demo_dir: Path
) -> None:
    apply_appearance(qapp, "light")  # as the app starts (Fusion lays out its button boxes)
    # The role that sees the most: every page and action.
    window, _page = window_as(qtbot, demo_dir, Role.CLINICAL_LEAD)
    problems: list[str] = []
    for key in list(window.pages):
        window.show_page(key)
        window.ctx.tasks.wait()
        QApplication.processEvents()
        _check(window, key, problems)
    window.show_page("CaseloadPage")
    for what, open_dialog in _dialogs(window, qtbot):
        dialog = open_dialog()
        qtbot.addWidget(dialog)
        dialog.show()
        window.ctx.tasks.wait()
        QApplication.processEvents()
        _check(dialog, what, problems)
        dialog.close()
    assert problems == [], "\n".join(problems)
    window.close()


def test_my_tasks_overdue_is_marked_by_words_and_a_mark_not_colour_alone(
    qtbot: QtBot, demo_dir: Path
) -> None:
    from PySide6.QtCore import Qt

    ws = Workspace.open(demo_dir, PASSPHRASE)
    with ws.session() as s:  # one task of the signed-in member's, due yesterday
        me = current_actor(s)
        pid = patient_in_scope(s, me)
        s.add(
            Task(patient_id=pid, description="Check the dressing", owner_member_id=me.member_id,
                 due_on=london_today() - timedelta(days=1))
        )  # fmt: skip
    window = MainWindow(make_context(ws))
    qtbot.addWidget(window)
    window.show()
    tasks = window.show_page("MyTasksPage")
    qtbot.waitUntil(lambda: tasks.model.rowCount() > 0, timeout=WAIT)
    m = tasks.model
    late = [r for r in range(m.rowCount()) if m.tasks[r].overdue(london_today())]
    assert late
    for r in late:
        due = m.index(r, 0)
        assert "overdue" in m.data(due) and m.data(due).startswith("! ")
        assert m.data(due, Qt.ItemDataRole.DecorationRole) is not None
    window.close()
