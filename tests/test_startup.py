"""Start-up: what is prepared while the passphrase is typed, and the main window's first page
painting before the other pages are built."""

from __future__ import annotations

import sys
import threading
from pathlib import Path

import pytest
from PySide6.QtCore import Qt
from pytestqt.qtbot import QtBot

from int_desk.app.caseload_page import CaseloadPage
from int_desk.app.main import make_context, show_main_window
from int_desk.app.main_window import MainWindow, _page_class, entry_from_source, page_entry
from int_desk.app.pages import PAGES
from int_desk.app.startup import DEMO_ENDPOINT_MODULES, QT_FREE_MODULES, WarmUp, warm_modules
from int_desk.app.unlock_dialog import UnlockDialog
from int_desk.store.workspace import Workspace
from tests.conftest import PASSPHRASE

WAIT = 15_000


def test_warm_up_imports_every_module_the_window_needs(qtbot: QtBot) -> None:
    background = [*QT_FREE_MODULES, *DEMO_ENDPOINT_MODULES]
    warm = WarmUp(background=background)
    with qtbot.waitSignal(warm.finished, timeout=WAIT):
        warm.start()
    assert warm.done and warm.failed == []
    pages = [spec.partition(":")[0] for spec in PAGES]
    assert set(pages) <= set(warm_modules())
    assert all(name in sys.modules for name in [*warm_modules(), *background])
    # The background thread imports only Qt-free modules (the layering rule's promise).
    assert not any(name.startswith("int_desk.app") for name in background)


def test_warm_up_closed_before_its_imports_finish_reports_nothing(
    qtbot: QtBot, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Cancel pressed at once: the dialog and its warm-up are deleted while the background
    thread still imports. Its "done" then has nobody to go to, which is not a crash (before,
    the thread raised and the crash handler wrote a crash report)."""
    import shiboken6

    (tmp_path / "int_desk_slow_import.py").write_text("import time\ntime.sleep(0.5)\n")
    monkeypatch.syspath_prepend(str(tmp_path))
    raised: list[threading.ExceptHookArgs] = []
    monkeypatch.setattr(threading, "excepthook", raised.append)
    warm = WarmUp(modules=[], background=["int_desk_slow_import"])
    warm.start()
    thread = warm._thread
    assert thread is not None
    shiboken6.delete(warm)
    thread.join(10)
    assert not thread.is_alive() and raised == []


def test_passphrase_in_the_unlock_dialog_opens_the_caseload(qtbot: QtBot, demo_dir: Path) -> None:
    dialog = UnlockDialog(demo_dir)
    qtbot.addWidget(dialog)
    dialog.form.keyringCheck.setChecked(False)
    warm = WarmUp(dialog)
    dialog.show()
    warm.start()
    qtbot.keyClicks(dialog.form.passphraseEdit, "not the passphrase")
    dialog.unlock_button.click()
    qtbot.waitUntil(dialog.form.errorLabel.isVisible, timeout=WAIT)
    assert dialog.workspace is None
    dialog.form.passphraseEdit.setText(PASSPHRASE)
    with qtbot.waitSignal(dialog.accepted, timeout=WAIT):
        qtbot.keyClick(dialog.form.passphraseEdit, Qt.Key.Key_Return)
    window = show_main_window(dialog.workspace)
    qtbot.addWidget(window)
    page = window.form.pageStack.widget(0)
    assert isinstance(page, CaseloadPage)
    qtbot.waitUntil(lambda: page.model.rowCount() > 0, timeout=WAIT)
    window.close()


def test_the_caseload_paints_first_and_the_other_pages_follow(qtbot: QtBot, demo_dir: Path) -> None:
    window = MainWindow(make_context(Workspace.open(demo_dir, PASSPHRASE)))
    qtbot.addWidget(window)
    window.show()
    titles = [_page_class(spec).title for spec in PAGES]
    nav = window.form.navList
    assert [nav.item(r).text() for r in range(nav.count())] == titles  # all listed at once
    first = window.form.pageStack.widget(0)
    assert isinstance(first, CaseloadPage)
    assert len(window._pending) == len(PAGES) - 1  # not built yet: the caseload goes first
    qtbot.waitUntil(lambda: first.model.rowCount() > 0, timeout=WAIT)
    qtbot.waitUntil(lambda: not window._pending, timeout=WAIT)
    built = [type(window.form.pageStack.widget(i)).__name__ for i in range(len(PAGES))]
    assert built == [spec.partition(":")[2] for spec in PAGES]
    assert list(window.pages) == built
    window.close()


def test_a_page_not_built_yet_opens_when_asked_for(qtbot: QtBot, demo_dir: Path) -> None:
    window = MainWindow(make_context(Workspace.open(demo_dir, PASSPHRASE)))
    qtbot.addWidget(window)
    window.show()
    assert window._pending  # nothing has run the event loop yet
    window.form.navList.setCurrentRow(1)  # what clicking "My tasks" (or Ctrl+2) does
    shown = window.form.pageStack.currentWidget()
    assert type(shown).__name__ == PAGES[1].partition(":")[2]
    assert window.form.navList.currentRow() == 1
    # Looking a page up builds it too (tests and the lock screen do).
    last = PAGES[-1].partition(":")[2]
    assert type(window.pages[last]).__name__ == last and not window._pending
    window.close()


def test_navigation_titles_read_from_source_match_the_page_classes() -> None:
    for spec in PAGES:
        cls = _page_class(spec)
        assert entry_from_source(spec) == (cls.title, cls.shortcut), spec
        assert page_entry(spec) == (cls.title, cls.shortcut)
