"""The main window: a navigation list of pages (see pages.py), a status bar, lock/unlock."""

from __future__ import annotations

import importlib
import logging

from PySide6.QtCore import Qt
from PySide6.QtGui import QAction, QCloseEvent, QKeySequence
from PySide6.QtWidgets import QLabel, QListWidgetItem, QMainWindow, QWidget

from int_desk.app.context import AppContext
from int_desk.app.forms.main_window import Ui_MainWindow
from int_desk.app.lock import LockController  # auto-lock, Ctrl+L, OS lock/suspend
from int_desk.app.pages import PAGES

log = logging.getLogger(__name__)


def _page_class(spec: str) -> type[QWidget]:
    module, _, name = spec.partition(":")
    return getattr(importlib.import_module(module), name)  # type: ignore[no-any-return]


class MainWindow(QMainWindow):
    def __init__(self, ctx: AppContext) -> None:
        super().__init__()
        self.ctx = ctx
        self.form = Ui_MainWindow()
        self.form.setupUi(self)
        self.setWindowTitle("INT Desk")
        self.pages: dict[str, QWidget] = {}
        self.identity_label = QLabel(f"Signed in: {ctx.actor.name} ({ctx.actor.role.label})")
        self.identity_label.setAccessibleName("Signed-in team member")
        self.form.statusBar.addWidget(self.identity_label)
        for spec in PAGES:
            self.add_page(_page_class(spec)(ctx, self))
        self.form.navList.currentRowChanged.connect(self.form.pageStack.setCurrentIndex)
        self.form.navList.setCurrentRow(0)
        self.form.quitAction.triggered.connect(self.close)
        self.lock_controller = LockController(self, ctx)
        self.form.lockAction.triggered.connect(self.lock_controller.lock)
        self.form.aboutAction.triggered.connect(self._about)
        from int_desk.app.settings_dialog import install_settings_action
        from int_desk.settings_schema import Preferences

        self.settings_action = install_settings_action(self, Preferences(ctx.settings))
        from int_desk.app.sync_status import install_sync

        self.sync = install_sync(self, ctx)  # on start, after edits, periodic, Sync now
        self._restore_geometry()

    # --- pages --------------------------------------------------------------------------------

    def add_page(self, page: QWidget) -> None:
        title = getattr(page, "title", type(page).__name__)
        shortcut = getattr(page, "shortcut", None)
        key = type(page).__name__
        self.pages[key] = page
        item = QListWidgetItem(title)
        item.setToolTip(f"{title} ({shortcut})" if shortcut else title)
        self.form.navList.addItem(item)
        self.form.pageStack.addWidget(page)
        if shortcut:
            action = QAction(title, self)
            action.setShortcut(QKeySequence(shortcut))
            index = self.form.pageStack.count() - 1
            action.triggered.connect(lambda: self.show_page_index(index))
            self.addAction(action)

    def show_page_index(self, index: int) -> None:
        self.form.navList.setCurrentRow(index)

    def show_page(self, key: str) -> QWidget:
        page = self.pages[key]
        self.show_page_index(self.form.pageStack.indexOf(page))
        return page

    def set_page_badge(self, key: str, badge: str) -> None:
        """Show a count beside a page's name in the navigation, e.g. "Conflicts (2)"."""
        page = self.pages.get(key)
        if page is None:
            return
        item = self.form.navList.item(self.form.pageStack.indexOf(page))
        title = getattr(page, "title", key)
        item.setText(f"{title} ({badge})" if badge else title)

    # --- misc ---------------------------------------------------------------------------------

    def _about(self) -> None:
        from int_desk.app.about import show_about

        show_about(self)

    def _restore_geometry(self) -> None:
        geometry = self.ctx.settings.value("window/geometry")
        if geometry is not None:
            self.restoreGeometry(geometry)

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
