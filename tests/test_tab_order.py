"""Tab moves through each main page as it is laid out (issue 21), pressed for real with pytest-qt:

* it goes round: no control keeps the focus (a table's Tab moves on, not from cell to cell;
  a date field's Tab passes its day, month and year, then moves on);
* it reaches every control of the page, each named for a screen reader;
* it finishes one part of the page before the next (the toolbar, the filters, the list, the
  record pane), and the parts come in reading order: what is above, or left on the same band,
  comes first. Compared within the part they share, so a scrolled panel is judged as laid out.
"""

from __future__ import annotations

from datetime import time
from pathlib import Path

from PySide6.QtCore import QRect, Qt
from PySide6.QtGui import QAccessible
from PySide6.QtWidgets import QApplication, QWidget
from pytestqt.qtbot import QtBot

from int_desk.app.accessibility import tab_chain
from int_desk.app.huddle_page import AGENDA, RUN
from int_desk.app.main_window import MainWindow
from int_desk.domain.uk_time import london_today
from int_desk.domain.vocab import Role
from int_desk.services import huddles as h
from int_desk.services.identity import current_actor, set_current_member
from int_desk.store.workspace import Workspace
from tests.conftest import PASSPHRASE
from tests.helpers.actors import actor_of_role
from tests.helpers.windows import WAIT, window_as

PRESSES = 250  # enough for the fullest page and back round
STUCK = 6  # presses one control may keep the focus (a date field's sections)


def _name(w: QWidget) -> str:
    text = getattr(w, "text", None)
    label = w.accessibleName() or (text() if callable(text) else "") or w.objectName()
    return f"{type(w).__name__}({label})"


def _spoken(w: QWidget) -> str:
    """The name a screen reader says for ``w`` (a button's comes from its text)."""
    iface = QAccessible.queryAccessibleInterface(w)
    return iface.text(QAccessible.Text.Name).strip() if iface is not None else ""


def _walk(window: MainWindow, qtbot: QtBot) -> tuple[list[QWidget], list[str]]:
    """The controls Tab visits, once round the window from where the focus is."""
    visited: list[QWidget] = []
    problems: list[str] = []
    held = 0
    for _ in range(PRESSES):
        qtbot.keyClick(QApplication.focusWidget() or window, Qt.Key.Key_Tab)
        focus = QApplication.focusWidget()
        if visited and focus is visited[-1]:
            held += 1
            if held == STUCK:
                if len(tab_chain(window)) > 1:  # (alone, a control keeps the focus rightly)
                    problems.append(f"Tab does not leave {_name(focus)}")
                break
            continue
        held = 0
        if focus in visited:
            return visited, problems  # round once
        visited.append(focus)
    else:
        problems.append(f"Tab did not come round in {PRESSES} presses")
    return visited, problems


def _part_of(ancestor: QWidget, w: QWidget) -> QWidget:
    """The child of ``ancestor`` that holds ``w`` (``w`` itself when it is a child)."""
    while w.parentWidget() is not ancestor:
        w = w.parentWidget()
    return w


def _common(a: QWidget, b: QWidget) -> QWidget:
    w = a.parentWidget()
    while not w.isAncestorOf(b):
        w = w.parentWidget()
    return w


def _reads_before(a: QRect, b: QRect) -> bool:
    """``a`` comes before ``b`` in reading order: wholly above it, or on the same band and
    wholly to its left."""
    if a.bottom() < b.top():
        return True
    same_band = not (b.bottom() < a.top())
    return same_band and a.right() < b.left()


def _order_problems(page: QWidget, visited: list[QWidget]) -> list[str]:
    inside = [w for w in visited if page.isAncestorOf(w)]
    problems = []
    # One run on the page: Tab does not leave it and come back within one round.
    runs = sum(
        1 for i, w in enumerate(visited) if page.isAncestorOf(w) and (
            i == 0 or not page.isAncestorOf(visited[i - 1])
        )
    )  # fmt: skip
    if runs > 1 and not (page.isAncestorOf(visited[0]) and page.isAncestorOf(visited[-1])):
        problems.append(f"Tab leaves the page and comes back {runs - 1} times")
    # (a date field's or a tab widget's inner control hands its focus to the field or tab bar)
    missing = [w for w in tab_chain(page) if w not in inside and w.focusProxy() is None]
    # Across the window: from the navigation into the page, then the status bar (the walk
    # starts in the navigation).
    bar = page.window().statusBar()
    in_bar = [i for i, w in enumerate(visited) if bar.isAncestorOf(w)]
    in_page = [i for i, w in enumerate(visited) if page.isAncestorOf(w)]
    if in_bar and in_page and min(in_bar) < max(in_page):
        problems.append(
            f"the status bar's {_name(visited[min(in_bar)])} is reached before the page"
        )
    problems += [f"Tab never reaches {_name(w)}" for w in missing]
    problems += [f"no accessible name: {_name(w)}" for w in inside if not _spoken(w)]
    for i, a in enumerate(inside):
        for b in inside[i + 1 :]:  # a is reached before b
            common = _common(a, b)
            part_a, part_b = _part_of(common, a), _part_of(common, b)
            if _reads_before(part_b.geometry(), part_a.geometry()):
                problems.append(
                    f"{_name(a)} is reached before {_name(b)}, laid out before it "
                    f"(in {type(common).__name__}#{common.objectName()})"
                )
    return problems


def _check_every_page(window: MainWindow, qtbot: QtBot, who: str) -> list[str]:
    problems: list[str] = []
    for key in list(window.pages):
        page = window.show_page(key)
        window.ctx.tasks.wait()
        QApplication.processEvents()
        window.form.navList.setFocus()  # start from the navigation, as after Ctrl+1..n
        visited, stuck = _walk(window, qtbot)
        problems += [f"{who} {key}: {p}" for p in stuck + _order_problems(page, visited)]
    return problems


def test_tab_walks_every_main_page_in_layout_order(qtbot: QtBot, demo_dir: Path) -> None:
    window, page = window_as(qtbot, demo_dir, Role.CLINICAL_LEAD)
    window.activateWindow()
    page.table.selectRow(0)  # the record pane's actions are in the round too
    qtbot.waitUntil(lambda: page.pane.buttons["contact"].isEnabled(), timeout=WAIT)
    problems = _check_every_page(window, qtbot, "clinical lead")
    assert problems == [], "\n".join(problems)
    window.close()


def test_tab_walks_the_administration_pages_in_layout_order(qtbot: QtBot, demo_dir: Path) -> None:
    window, _page = window_as(qtbot, demo_dir, Role.ADMIN)
    window.activateWindow()
    problems = _check_every_page(window, qtbot, "administrator")
    assert problems == [], "\n".join(problems)
    window.close()


def test_tab_walks_a_huddle_in_layout_order_before_and_while_it_runs(
    qtbot: QtBot, demo_dir: Path
) -> None:
    with Workspace.open(demo_dir, PASSPHRASE) as ws, ws.session() as s:
        set_current_member(s, actor_of_role(s, Role.CLINICAL_LEAD).member_id)
        me = current_actor(s)
        team = sorted(me.team_ids)[0]
        hid = h.plan_huddle(
            session=s, actor=me, team_id=team,
            scheduled_at=h.local_datetime(london_today(), time(9, 0)),
        ).id  # fmt: skip
    window, _page = window_as(qtbot, demo_dir)
    window.activateWindow()
    huddle = window.show_page("HuddlePage")
    problems: list[str] = []
    for stage in (AGENDA, RUN):
        if stage == RUN:
            with window.ctx.workspace.session() as s:
                h.start_huddle(session=s, actor=current_actor(s), huddle_id=hid)
        huddle.reload(hid)
        qtbot.waitUntil(lambda st=stage: huddle.stack.currentIndex() == st, timeout=WAIT)
        window.ctx.tasks.wait()
        QApplication.processEvents()
        window.form.navList.setFocus()
        visited, stuck = _walk(window, qtbot)
        problems += [f"huddle {stage}: {p}" for p in stuck + _order_problems(huddle, visited)]
    assert problems == [], "\n".join(problems)
    window.close()
