"""The main window: a navigation list of pages (see pages.py), a status bar, lock/unlock."""

from __future__ import annotations

import ast
import importlib
import importlib.util
import logging
import sys
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

from PySide6.QtCore import QRect, QSize, Qt, QTimer
from PySide6.QtGui import QAction, QCloseEvent, QGuiApplication, QKeySequence
from PySide6.QtWidgets import QLabel, QListWidgetItem, QMainWindow, QWidget

from int_desk.app.context import AppContext
from int_desk.app.forms.main_window import Ui_MainWindow
from int_desk.app.lock import LockController  # auto-lock, Ctrl+L, OS lock/suspend
from int_desk.app.pages import PAGES
from int_desk.domain.permissions import Permission, allowed

log = logging.getLogger(__name__)
PENDING_PAGES_AT_LATEST_MS = 3000  # if the first page never reports a result
PREFERRED_SIZE = QSize(1280, 760)
# Room the window manager's frame takes around the window (title bar, borders): not known
# before the first show, so a generous allowance.
FRAME_ALLOWANCE = QSize(16, 40)


def fits_on_screen(available: QRect, size: QSize = PREFERRED_SIZE) -> bool:
    """Whether a window of ``size`` with its frame fits the screen's available area."""
    return (
        size.width() + FRAME_ALLOWANCE.width() <= available.width()
        and size.height() + FRAME_ALLOWANCE.height() <= available.height()
    )


class _Pages(dict[str, QWidget]):
    """The window's pages by class name. Looking up a page not built yet (or listing them)
    first builds the pending pages, so code that reads a page (tests, the lock screen's
    drafts) always finds it."""

    def __init__(self, build_pending: Callable[[], None]) -> None:
        super().__init__()
        self._build_pending = build_pending

    def __getitem__(self, key: str) -> QWidget:
        if not super().__contains__(key):
            self._build_pending()
        return super().__getitem__(key)

    def get(self, key: str, default: Any = None) -> Any:
        if not super().__contains__(key):
            self._build_pending()
        return super().get(key, default)

    def __contains__(self, key: object) -> bool:
        if not super().__contains__(key):
            self._build_pending()
        return super().__contains__(key)

    def __iter__(self) -> Iterator[str]:
        self._build_pending()
        return super().__iter__()

    def __len__(self) -> int:
        self._build_pending()
        return super().__len__()

    def keys(self) -> Any:
        self._build_pending()
        return super().keys()

    def values(self) -> Any:
        self._build_pending()
        return super().values()

    def items(self) -> Any:
        self._build_pending()
        return super().items()


def _page_class(spec: str) -> type[QWidget]:
    module, _, name = spec.partition(":")
    return getattr(importlib.import_module(module), name)


def page_entry(spec: str) -> tuple[str, str | None]:
    """(title, shortcut) of a page, without importing its module when it is not imported yet,
    so the navigation lists every page while their modules wait until after the first paint
    (a page's imports, e.g. reportlab, can take longer than the rest of start-up)."""
    module, _, name = spec.partition(":")
    if module not in sys.modules:
        found = entry_from_source(spec)
        if found is not None:
            return found
    cls = _page_class(spec)
    return getattr(cls, "title", name), getattr(cls, "shortcut", None)


def entry_from_source(spec: str) -> tuple[str, str | None] | None:
    """The class's literal ``title = "..."`` and ``shortcut = "..."`` read from its source;
    None when the source is not at hand (a frozen build) or the title is not a literal."""
    module, _, name = spec.partition(":")
    try:
        found = importlib.util.find_spec(module)
        origin = found.origin if found else None
        if not origin or not origin.endswith(".py"):
            return None
        tree = ast.parse(Path(origin).read_text(encoding="utf-8"))
    except (OSError, SyntaxError, ValueError, ImportError):
        return None
    for node in tree.body:
        if isinstance(node, ast.ClassDef) and node.name == name:
            values = {
                target.id: stmt.value.value
                for stmt in node.body
                if isinstance(stmt, ast.Assign) and isinstance(stmt.value, ast.Constant)
                for target in stmt.targets
                if isinstance(target, ast.Name)
            }
            title, shortcut = values.get("title"), values.get("shortcut")
            if isinstance(title, str):
                return title, shortcut if isinstance(shortcut, str) else None
    return None


class MainWindow(QMainWindow):
    def __init__(self, ctx: AppContext) -> None:
        super().__init__()
        self.ctx = ctx
        self.form = Ui_MainWindow()
        self.form.setupUi(self)
        self.setWindowTitle("INT Desk")
        self.pages: dict[str, QWidget] = _Pages(self.build_pending_pages)
        self._entries: dict[str, tuple[int, str]] = {}  # page key -> (navigation row, title)
        self._pending: list[tuple[str, QWidget]] = []  # ("module:Class", placeholder)
        self._building = False
        self.identity_label = QLabel(f"Signed in: {ctx.actor.name} ({ctx.actor.role.label})")
        self.identity_label.setAccessibleName("Signed-in team member")
        self.form.statusBar.addWidget(self.identity_label)
        # The first page is built now; the others once it has shown its first result (or on
        # first use), so the first page paints without waiting for them or their queries.
        for i, spec in enumerate(PAGES):
            if i == 0:
                self._install(_page_class(spec)(ctx, self))
            else:
                placeholder = QWidget()
                title, shortcut = page_entry(spec)
                self._add_entry(spec.partition(":")[2], title, shortcut, placeholder)
                self._pending.append((spec, placeholder))
        self.form.navList.currentRowChanged.connect(self._row_changed)
        # Enter (or a double click) on a section moves into it; arrows stay in the list.
        self.form.navList.itemActivated.connect(
            lambda item: self.show_page_index(self.form.navList.row(item), focus=True)
        )
        self.form.navList.setCurrentRow(0)
        first = self.form.pageStack.widget(0)
        ready = getattr(first, "refreshed", None)
        if ready is not None and self._pending:
            ready.connect(self._first_page_ready, Qt.ConnectionType.SingleShotConnection)
        QTimer.singleShot(PENDING_PAGES_AT_LATEST_MS, self, self._build_rest)
        self.form.quitAction.triggered.connect(self.close)
        self.lock_controller = LockController(self, ctx)
        self.form.lockAction.triggered.connect(self.lock_controller.lock)
        self.form.aboutAction.triggered.connect(self._about)
        from int_desk.app.settings_dialog import install_settings_action
        from int_desk.settings_schema import Preferences

        self.settings_action = install_settings_action(self, Preferences(ctx.settings))
        from int_desk.app.sync_status import install_sync

        self.sync = install_sync(self, ctx)  # on start, after edits, periodic, Sync now
        self.export_action = self._install_export_action()
        self.list_export_action = self._install_list_export_action()
        self._restore_geometry()

    # --- pages --------------------------------------------------------------------------------

    def add_page(self, page: QWidget) -> None:
        self.build_pending_pages()  # keep the order: pages added later go after PAGES
        self._install(page)

    def _install(self, page: QWidget) -> None:
        key = type(page).__name__
        dict.__setitem__(self.pages, key, page)
        self._add_entry(key, getattr(page, "title", key), getattr(page, "shortcut", None), page)
        self._status_bar_last(page)

    def _add_entry(self, key: str, title: str, shortcut: str | None, widget: QWidget) -> None:
        item = QListWidgetItem(title)
        item.setToolTip(f"{title} ({shortcut})" if shortcut else title)
        self.form.navList.addItem(item)
        self.form.pageStack.addWidget(widget)
        index = self.form.pageStack.count() - 1
        self._entries[key] = (index, title)
        if shortcut:
            action = QAction(title, self)
            action.setShortcut(QKeySequence(shortcut))
            action.triggered.connect(lambda: self.show_page_index(index, focus=True))
            self.addAction(action)

    def _first_page_ready(self, *_args: object) -> None:
        QTimer.singleShot(0, self, self._build_next_page)  # after the first page's paint

    def _build_next_page(self) -> None:
        """One pending page per event-loop turn, so input is handled between them."""
        if self._pending and not self._building and self.isVisible():
            self._build(*self._pending.pop(0))
            if self._pending:
                QTimer.singleShot(0, self, self._build_next_page)

    def _build_rest(self) -> None:
        if self.isVisible():  # not for a window closed meanwhile (its store is closed)
            self.build_pending_pages()

    def build_pending_pages(self) -> None:
        """Build every page not built yet (reading ``pages`` or opening one does this)."""
        while self._pending and not self._building:
            self._build(*self._pending.pop(0))

    def _build(self, spec: str, placeholder: QWidget) -> None:
        self._building = True
        try:
            page = _page_class(spec)(self.ctx, self)
        finally:
            self._building = False
        stack = self.form.pageStack
        index = stack.indexOf(placeholder)
        current = stack.currentWidget() is placeholder
        stack.insertWidget(index, page)
        stack.removeWidget(placeholder)
        placeholder.deleteLater()
        dict.__setitem__(self.pages, type(page).__name__, page)
        self._status_bar_last(page)
        if current:
            stack.setCurrentIndex(index)

    def _status_bar_last(self, page: QWidget | None = None) -> None:
        """Tab goes navigation, page, status bar. Pages are built when first wanted, after the
        status bar, so Qt's own order put the status bar between the navigation and a page:
        the status bar's controls (in their own order, left to right: sync_status.py) follow
        the page's last control again."""
        controls = getattr(getattr(self, "sync", None), "tab_order", [])
        if page is None or not controls:
            return
        last, w = None, page.nextInFocusChain()
        while page.isAncestorOf(w):  # a page's controls are together in the chain
            if w.focusPolicy() & Qt.FocusPolicy.TabFocus:
                last = w
            w = w.nextInFocusChain()
        if last is not None:
            for first, second in zip([last, *controls], controls, strict=False):
                QWidget.setTabOrder(first, second)

    def _row_changed(self, row: int) -> None:
        if self._pending and row > 0:
            self.build_pending_pages()
        self.form.pageStack.setCurrentIndex(row)

    def show_page_index(self, index: int, focus: bool = False) -> None:
        """Show a page; ``focus`` moves the keyboard focus into it (Ctrl+1..n, Enter in the
        navigation), so the page's own shortcuts (e.g. Ctrl+N on the huddle) work at once."""
        self.form.navList.setCurrentRow(index)
        if focus:
            self.focus_page(self.form.pageStack.widget(index))

    def focus_page(self, page: QWidget | None) -> None:
        """Focus the page's main control (its ``focus_target()``), else its first control."""
        if page is None:
            return
        chooser = getattr(page, "focus_target", None)
        target = chooser() if callable(chooser) else None
        if target is None or not target.isVisible() or not target.isEnabled():
            target = page.nextInFocusChain()  # the first control in tab order
            while target is not page and not (
                page.isAncestorOf(target)
                and target.focusPolicy() & Qt.FocusPolicy.TabFocus
                and target.isVisible()
                and target.isEnabled()
            ):
                target = target.nextInFocusChain()
        target.setFocus(Qt.FocusReason.ShortcutFocusReason)

    def show_page(self, key: str) -> QWidget:
        page = self.pages[key]
        self.show_page_index(self.form.pageStack.indexOf(page))
        return page

    def open_patient(self, patient_id: Any) -> None:
        """Open a person from any page (My tasks, huddle, audit trail, conflicts): the caseload
        shows them selected in its list and their record beside it, never one person in the
        list and another in the record."""
        page = self.show_page("CaseloadPage")
        page.select_patient(patient_id)  # type: ignore[attr-defined]
        page.table.setFocus()  # type: ignore[attr-defined]

    def set_page_badge(self, key: str, badge: str) -> None:
        """Show a count beside a page's name in the navigation, e.g. "Conflicts (2)"."""
        entry = self._entries.get(key)  # a page still to be built has its entry already
        if entry is None:
            return
        row, title = entry
        self.form.navList.item(row).setText(f"{title} ({badge})" if badge else title)

    # --- misc ---------------------------------------------------------------------------------

    def _install_export_action(self) -> QAction:
        """File > Export care plans for a cohort… (Ctrl+Shift+X), for roles that may export;
        the dialog (and reportlab) load when it is first used."""
        action = QAction("E&xport care plans for a cohort…", self)
        action.setObjectName("exportCohortPlansAction")
        action.setShortcut(QKeySequence("Ctrl+Shift+X"))
        action.setVisible(allowed(self.ctx.actor, Permission.EXPORT_PLAN))
        action.triggered.connect(self.open_cohort_export)
        menu = self.form.fileMenu
        first = menu.actions()[0] if menu.actions() else None
        menu.insertAction(first, action)
        menu.insertSeparator(first)
        return action

    def _install_list_export_action(self) -> QAction:
        """File > Export caseload list… (CSV for Excel or .xlsx), for whoever may see the list;
        the caseload as it is filtered and searched now."""
        action = QAction("Export caseload &list…", self)
        action.setObjectName("exportCaseloadListAction")
        action.setVisible(
            any(allowed(self.ctx.actor, p) for p in (Permission.VIEW_CASELOAD,
                                                     Permission.VIEW_REFERRED))
        )  # fmt: skip
        action.triggered.connect(lambda: self.show_page("CaseloadPage").export_list())  # type: ignore[attr-defined]
        menu = self.form.fileMenu
        actions = menu.actions()
        after = actions.index(self.export_action) + 1 if self.export_action in actions else 0
        before = actions[after] if after < len(actions) else None
        menu.insertAction(before, action)
        return action

    def open_cohort_export(self) -> None:
        from int_desk.app.care_plan_batch_export import CohortExportDialog

        self.export_dialog = CohortExportDialog(self.ctx, self)
        self.export_dialog.open()

    def _about(self) -> None:
        from int_desk.app.about import show_about

        show_about(self)

    def _restore_geometry(self) -> None:
        geometry = self.ctx.settings.value("window/geometry")
        self.geometry_restored = geometry is not None and self.restoreGeometry(geometry)

    def show_fitted(self) -> None:
        """Show the window where it was last, else at its preferred size if that fits the
        screen with its frame, else maximised: on a 1366 x 768 laptop a 1280 x 760 window plus
        its title bar ran off the screen and hid the status bar."""
        if self.geometry_restored:
            self.show()
            return
        screen = self.screen() or QGuiApplication.primaryScreen()
        available = screen.availableGeometry()
        if fits_on_screen(available):
            self.resize(PREFERRED_SIZE)
            frame = QRect(0, 0, PREFERRED_SIZE.width(), PREFERRED_SIZE.height())
            frame.moveCenter(available.center())
            self.move(frame.topLeft())
            self.show()
        else:
            self.resize(available.size() - FRAME_ALLOWANCE)  # the size it returns to
            self.showMaximized()

    def closeEvent(self, event: QCloseEvent) -> None:  # noqa: N802 - Qt override
        self.ctx.settings.setValue("window/geometry", self.saveGeometry())
        self.ctx.tasks.wait()
        self.ctx.workspace.close()
        super().closeEvent(event)

    def keyPressEvent(self, event) -> None:  # noqa: N802, ANN001 - Qt override
        if event.key() == Qt.Key.Key_F1:
            self._about()
            return
        super().keyPressEvent(event)
