"""The caseload desk: filter bar, search, the caseload table and the patient record pane.

Keyboard: Ctrl+F search, Alt+Down / Alt+Up next / previous patient, Ctrl+Shift+C add contact,
Ctrl+Shift+T allocate task, Ctrl+Shift+R refer, Ctrl+Shift+E escalate, Ctrl+Shift+H add to next
huddle, Ctrl+Shift+G flags, Ctrl+Shift+L lead professional, Ctrl+Shift+P open care plan,
Ctrl+Shift+I import a cohort.

Every query runs on the store worker; the newest request wins (a keystroke while a query runs
queues exactly one follow-up). Settings keep the column layout, splitter and last view name;
never search text or anything about a patient.
"""

from __future__ import annotations

import html
import importlib
import logging
import uuid
from collections.abc import Callable
from dataclasses import replace
from datetime import date, timedelta
from pathlib import Path
from typing import Any

import shiboken6
from PySide6.QtCore import QByteArray, QEvent, Qt, QTimer, Signal
from PySide6.QtGui import QAction, QFont, QFontMetricsF, QKeySequence, QShortcut
from PySide6.QtWidgets import (
    QAbstractItemView,
    QCheckBox,
    QComboBox,
    QFileDialog,
    QGridLayout,
    QHBoxLayout,
    QHeaderView,
    QInputDialog,
    QLabel,
    QLineEdit,
    QMainWindow,
    QMenu,
    QPushButton,
    QSplitter,
    QTableView,
    QTextBrowser,
    QVBoxLayout,
    QWidget,
)

from int_desk.app import colours
from int_desk.app.caseload_columns import default_column_widths
from int_desk.app.caseload_delegate import CaseloadDelegate
from int_desk.app.caseload_model import HEADERS, CaseloadModel, PatientIdRole
from int_desk.app.context import AppContext
from int_desk.app.empty_state import EmptyState, no_caseload_text
from int_desk.app.messages import confirm, show_error
from int_desk.app.patient_dialogs import ActionDialog, Field
from int_desk.domain import information_needs
from int_desk.domain.information_needs import InformationNeed
from int_desk.domain.permissions import ACTION_LABELS, Permission, allowed
from int_desk.domain.uk_time import in_london, london_today
from int_desk.domain.vocab import (
    ContactKind,
    FlagCode,
    HealthEventKind,
    Priority,
    ReferralService,
    ReferralStatus,
    Role,
    TaskKind,
)
from int_desk.services import caseload as cl
from int_desk.services import caseload_export, caseload_views
from int_desk.services import patient_actions as pa
from int_desk.services import patient_record as pr
from int_desk.services.accessible_information import set_information_needs

log = logging.getLogger(__name__)

SETTINGS_HEADER = "caseload/header_state_v3"  # v3: date of birth, two-line headers
SETTINGS_USER_SIZED = "caseload/columns_user_sized"
SETTINGS_SPLITTER = "caseload/splitter_state_v2"  # v2: a narrower record pane
SETTINGS_VIEW = "caseload/last_view"
DEFAULT_VIEW = "Whole caseload"
BUTTONS_A_ROW = 3
PANE_WIDTH = 300  # the record pane beside the table at 1366 px (three buttons a row)
XLSX_FILES = "Excel workbook (*.xlsx)"
CSV_FILES = "CSV, UTF-8 for Excel (*.csv)"
PREFETCH = 40  # rows fetched with every result: the first screenful paints without a query
CARE_PLAN_MODULE = "int_desk.app.care_plan_editor"
_FULL_NAMES = {
    "contact": "Add contact", "task": "Allocate task", "refer": "Refer to a service",
    "escalate": "Escalate to the clinical lead", "huddle": "Add to next huddle",
    "flags": "Raise or clear flags", "lead": "Set the named lead professional",
    "plan": "Open care plan", "complete": "Complete a task",
    "outcome": "Record a referral outcome", "resolve": "Resolve an escalation",
    "enrol": "Enrol into or discharge from a cohort",
    "needs": "Record information and communication needs",
    "hospital": "Record a hospital admission or discharge",
}  # fmt: skip


def _e(text: Any) -> str:
    return html.escape(str(text or ""))


def _d(value: date | None) -> str:
    return value.strftime("%d %b %Y") if value else ""


def plural(n: int, noun: str) -> str:
    """ "1 task", "2 tasks": never "task(s)"."""
    return f"{n} {noun}{'' if n == 1 else 's'}"


class CaseloadPage(QWidget):
    """Signals: ``refreshed()`` after the table shows a new result; ``record_shown(object)``
    (patient UUID) after the record pane shows a person; ``exported(int)`` (rows written)
    after Export caseload list… wrote its file."""

    title = "Caseload"
    shortcut = "Ctrl+1"
    refreshed = Signal()
    record_shown = Signal(object)
    exported = Signal(int)

    def __init__(self, ctx: AppContext, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.ctx = ctx
        self.setAccessibleName("Caseload")
        self.filters = cl.CaseloadFilter()
        self.view_name = str(ctx.settings.value(SETTINGS_VIEW, DEFAULT_VIEW) or DEFAULT_VIEW)
        self._gen = 0
        self._busy = False
        self._applying = False
        self._pending_select: uuid.UUID | None = None
        self.current_patient: uuid.UUID | None = None
        self.record: pr.PatientRecord | None = None
        self.choices: cl.FilterChoices | None = None
        self.last_error: BaseException | None = None
        self.columns_user_sized = False  # True once the user resizes a column (then remembered)
        self.longest_names: list[str] = []
        self._fitting = False

        self.model = CaseloadModel(self._fetch_rows, parent=self)
        self.model.sort_requested.connect(self._sort_requested)
        self._build_filter_bar()
        self._build_table()
        self.pane = PatientPane(ctx, self)
        self.splitter = QSplitter(Qt.Orientation.Horizontal)
        self.splitter.setChildrenCollapsible(False)
        left = QWidget()
        left_layout = QVBoxLayout(left)
        left_layout.setContentsMargins(0, 0, 0, 0)
        left_layout.addWidget(self.table)
        self.splitter.addWidget(left)
        self.splitter.addWidget(self.pane)
        self.splitter.setStretchFactor(0, 1)  # a wider window widens the table, not the pane
        self.splitter.setStretchFactor(1, 0)
        self.splitter.setSizes([870, PANE_WIDTH])  # the table's least column widths fit at 1366 px

        self.splitter.setHandleWidth(4)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(4, 6, 4, 4)
        layout.addLayout(self.filter_grid)
        layout.addWidget(self.splitter, 1)
        self._shortcuts()
        self._restore_layout()

        self._save_timer = QTimer(self)
        self._save_timer.setSingleShot(True)
        self._save_timer.setInterval(500)
        self._save_timer.timeout.connect(self.save_layout)
        self.table.horizontalHeader().sectionResized.connect(self._section_resized)
        self.table.horizontalHeader().sectionMoved.connect(lambda *_: self._save_timer.start())
        self.splitter.splitterMoved.connect(lambda *_: self._save_timer.start())

        ctx.events.data_changed.connect(self._data_changed)
        ctx.events.patient_changed.connect(self._patient_changed)
        ctx.events.unlocked.connect(self.reload)
        self.reload()

    # --- building -----------------------------------------------------------------------------

    def _combo(self, name: str, tip: str) -> QComboBox:
        box = QComboBox()
        box.setAccessibleName(name)
        box.setToolTip(tip)
        box.setSizeAdjustPolicy(QComboBox.SizeAdjustPolicy.AdjustToContents)
        box.setMinimumContentsLength(8)
        box.currentIndexChanged.connect(self._filters_edited)
        return box

    def _build_filter_bar(self) -> None:
        self.view_combo = QComboBox()
        self.view_combo.setAccessibleName("Saved view")
        self.view_combo.setToolTip("Saved views: built-in and your own")
        self.view_combo.setMinimumContentsLength(16)
        self.view_combo.activated.connect(self._view_chosen)
        self.save_view_button = QPushButton("Save view…")
        self.save_view_button.setAccessibleName("Save the current filters as a view")
        self.save_view_button.clicked.connect(self.save_view_dialog)
        self.delete_view_button = QPushButton("Delete view")
        self.delete_view_button.setAccessibleName("Delete this saved view")
        self.delete_view_button.clicked.connect(self.delete_current_view)
        # The role decides now; the worker's answer (with team grants) follows with the views.
        self._set_can_save_views(allowed(self.ctx.actor, caseload_views.VIEW_SAVING))
        self.search = QLineEdit()
        self.search.setPlaceholderText("Search name, NHS number or postcode (Ctrl+F)")
        self.search.setAccessibleName("Search caseload")
        self.search.setClearButtonEnabled(True)
        self.search.setMinimumWidth(300)
        self.search.textChanged.connect(self._search_changed)
        self.search.returnPressed.connect(self._search_enter)
        self.count_label = QLabel("Loading…")
        self.count_label.setAccessibleName("Number of people shown")
        # A fixed width: a changing count must not re-layout the window on every keystroke.
        self.count_label.setMinimumWidth(
            self.count_label.fontMetrics().horizontalAdvance("000,000 people") + 8
        )
        self.count_label.setAlignment(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter)
        self.import_button = QPushButton("Import cohort…")
        self.import_button.setAccessibleName("Import a cohort from a PHM extract")
        self.import_button.setToolTip("Import a cohort from a PHM extract (Ctrl+Shift+I)")
        self.import_button.clicked.connect(self.open_import)
        self.import_button.setVisible(allowed(self.ctx.actor, Permission.IMPORT_COHORT))

        self.team_combo = self._combo("Team filter", "Show one of your teams")
        self.cohort_combo = self._combo("Cohort filter", "Show one cohort")
        self.place_combo = self._combo("Place filter", "Show one Place / neighbourhood")
        self.lead_combo = self._combo("Lead professional filter", "Named lead professional")
        self.priority_combo = self._combo("Priority filter", "Priority")
        self.flag_combo = self._combo("Flag filter", "People with this flag")
        self.plan_combo = self._combo("Care plan filter", "Care-plan status")
        self.membership_combo = self._combo(
            "Caseload membership filter", "On the caseload now, or recently discharged"
        )
        self.overdue_check = QCheckBox("Review overdue")
        self.overdue_check.setAccessibleName("Only care-plan reviews overdue")
        self.overdue_check.toggled.connect(self._filters_edited)
        self.clear_button = QPushButton("Clear filters")
        self.clear_button.setAccessibleName("Clear all filters")
        self.clear_button.clicked.connect(self.clear_filters)

        for box, items in (
            (self.priority_combo, [(None, "Any priority")] + [(p.value, p.value.capitalize()) for p in Priority]),
            (self.flag_combo, [(None, "Any flag")] + [(f.value, f.label) for f in FlagCode]),
            (self.plan_combo, [(None, "Any care plan")] + [(s, cl.PLAN_STATUS_LABELS[s]) for s in cl.PLAN_STATUSES]),
            (self.membership_combo, [("active", "On caseload"), ("recently_discharged", "Recently discharged"), ("all", "Incl. discharged")]),
        ):  # fmt: skip
            box.blockSignals(True)
            for value, label in items:
                box.addItem(label, value)
            box.blockSignals(False)

        grid = QGridLayout()
        grid.setHorizontalSpacing(6)
        grid.setVerticalSpacing(4)
        top = QHBoxLayout()
        view_label = QLabel("&View")
        view_label.setBuddy(self.view_combo)
        top.addWidget(view_label)
        top.addWidget(self.view_combo)
        top.addWidget(self.save_view_button)
        top.addWidget(self.delete_view_button)
        top.addSpacing(12)
        top.addWidget(self.search, 1)
        top.addWidget(self.count_label)
        top.addWidget(self.import_button)
        bottom = QHBoxLayout()
        for w in (
            self.team_combo, self.cohort_combo, self.place_combo, self.lead_combo,
            self.priority_combo, self.flag_combo, self.plan_combo, self.membership_combo,
            self.overdue_check,
        ):  # fmt: skip
            bottom.addWidget(w)
        bottom.addStretch(1)
        bottom.addWidget(self.clear_button)
        grid.addLayout(top, 0, 0)
        grid.addLayout(bottom, 1, 0)
        self.filter_grid = grid

    def _build_table(self) -> None:
        t = QTableView()
        t.setObjectName("caseloadTable")
        t.setAccessibleName("Caseload table")
        t.setTabKeyNavigation(False)  # Tab leaves the table; arrows move in it
        t.setModel(self.model)
        t.setItemDelegate(CaseloadDelegate(self.model, t))  # one lookup per cell, cached text
        # Always shown: a result that fits on one screen must not change the table's width.
        t.setVerticalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOn)
        t.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        t.setSelectionMode(QAbstractItemView.SelectionMode.SingleSelection)
        t.setAlternatingRowColors(False)
        t.setWordWrap(False)
        t.verticalHeader().hide()
        t.verticalHeader().setDefaultSectionSize(26)
        t.verticalHeader().setSectionResizeMode(QHeaderView.ResizeMode.Fixed)
        h = t.horizontalHeader()
        h.setSectionsMovable(True)
        h.setHighlightSections(False)
        h.setStretchLastSection(True)
        h.setSortIndicatorShown(True)
        h.setSortIndicator(0, Qt.SortOrder.AscendingOrder)
        h.setContextMenuPolicy(Qt.ContextMenuPolicy.CustomContextMenu)
        h.customContextMenuRequested.connect(self._header_menu)
        h.setMinimumSectionSize(30)
        # Columns are never narrower than their labels (two lines for long ones); eliding
        # would treat a two-line label as one long line and cut it.
        h.setTextElideMode(Qt.TextElideMode.ElideNone)
        h.setDefaultAlignment(Qt.AlignmentFlag.AlignLeft | Qt.AlignmentFlag.AlignVCenter)
        for col, width in enumerate(default_column_widths(860, self._measure, HEADERS)):
            t.setColumnWidth(col, width)  # until the first fit to the real width
        t.viewport().installEventFilter(self)  # fit the columns when the table is resized
        t.setSortingEnabled(True)
        t.selectionModel().currentRowChanged.connect(self._current_changed)
        t.doubleClicked.connect(lambda _i: self.pane.browser.setFocus())
        self.table = t
        h.sortIndicatorChanged.connect(self._sort_indicator_moved)
        self.empty_state = EmptyState(t)  # what to do next when no one is shown

    def _shortcuts(self) -> None:
        def add(seq: str, slot: Any, name: str) -> None:
            sc = QShortcut(QKeySequence(seq), self, activated=slot)
            sc.setContext(Qt.ShortcutContext.WidgetWithChildrenShortcut)
            sc.setObjectName(name)

        add("Ctrl+F", self.focus_search, "searchShortcut")
        add("Alt+Down", self.next_patient, "nextPatientShortcut")
        add("Alt+Up", self.previous_patient, "previousPatientShortcut")
        add("Ctrl+Shift+I", self.open_import, "importShortcut")
        for seq, slot in self.pane.shortcut_map().items():
            add(seq, slot, f"action{seq}")

    # --- settings -----------------------------------------------------------------------------

    def _restore_layout(self) -> None:
        header = self.ctx.settings.value(SETTINGS_HEADER)
        if isinstance(header, QByteArray | bytes):
            sized = self.ctx.settings.value(SETTINGS_USER_SIZED, False)
            self.columns_user_sized = sized in (True, "true", 1, "1")  # first: no refit
            self.table.horizontalHeader().restoreState(QByteArray(header))
        splitter = self.ctx.settings.value(SETTINGS_SPLITTER)
        if isinstance(splitter, QByteArray | bytes):
            self.splitter.restoreState(QByteArray(splitter))

    def save_layout(self) -> None:
        self.ctx.settings.setValue(SETTINGS_HEADER, self.table.horizontalHeader().saveState())
        self.ctx.settings.setValue(SETTINGS_USER_SIZED, self.columns_user_sized)
        self.ctx.settings.setValue(SETTINGS_SPLITTER, self.splitter.saveState())
        self.ctx.settings.setValue(SETTINGS_VIEW, self.view_name)

    def eventFilter(self, watched: Any, event: Any) -> bool:  # noqa: N802 - Qt override
        if event.type() == QEvent.Type.Resize and watched is self.table.viewport():
            if not self.columns_user_sized:
                self.fit_columns()
        return False

    def fit_columns(self) -> None:
        """Default widths for the table's current width (until the user sizes a column)."""
        h = self.table.horizontalHeader()
        hidden = frozenset(c for c in range(h.count()) if h.isSectionHidden(c))
        sort = h.sortIndicatorSection() if h.isSortIndicatorShown() else -1
        widths = default_column_widths(
            self.table.viewport().width(), self._measure, HEADERS, hidden, sort, self.longest_names
        )
        self._fitting = True
        try:
            for col, width in enumerate(widths):
                if col not in hidden and h.sectionSize(col) != width:
                    h.resizeSection(col, width)
        finally:
            self._fitting = False

    def _sort_indicator_moved(self, *_: Any) -> None:
        if not self.columns_user_sized:
            self.fit_columns()  # the sorted column's header needs room for its arrow

    def _measure(self, text: str, bold: bool) -> float:
        font = QFont(self.font())  # the table's (it sets none of its own)
        font.setBold(bold)
        return QFontMetricsF(font).horizontalAdvance(text)

    def _section_resized(self, col: int, _old: int, _new: int) -> None:
        h = self.table.horizontalHeader()
        last = max(
            (c for c in range(h.count()) if not h.isSectionHidden(c)),
            key=h.visualIndex,
            default=-1,
        )
        if self._fitting or col == last:  # ours, or the stretching last section following
            return
        self.columns_user_sized = True  # the user dragged (or double-clicked) a divider
        self._save_timer.start()

    def reset_columns(self) -> None:
        """Back to the default widths that fit the window (header menu)."""
        self.columns_user_sized = False
        self.fit_columns()
        self.save_layout()

    def hideEvent(self, event: Any) -> None:  # noqa: N802 - Qt override
        self.save_layout()
        super().hideEvent(event)

    def _header_menu(self, pos: Any) -> None:
        h = self.table.horizontalHeader()
        menu = QMenu(self)
        menu.setAccessibleName("Columns")
        for col, (_key, label) in enumerate(cl.COLUMNS):
            act = QAction(label, menu, checkable=True)
            act.setChecked(not h.isSectionHidden(col))
            act.setEnabled(col != 0)  # the name column always shows
            act.toggled.connect(lambda on, c=col: self._show_column(c, on))
            menu.addAction(act)
        menu.addSeparator()
        fit = QAction("Fit columns to the window", menu)
        fit.setEnabled(self.columns_user_sized)
        fit.triggered.connect(self.reset_columns)
        menu.addAction(fit)
        self.header_menu = menu
        menu.exec(h.mapToGlobal(pos))

    def _show_column(self, col: int, on: bool) -> None:
        self.table.horizontalHeader().setSectionHidden(col, not on)
        if not self.columns_user_sized:
            self.fit_columns()  # the room a hidden column leaves goes to the others
        self.save_layout()

    # --- loading ------------------------------------------------------------------------------

    def _gone(self) -> bool:
        """The window closed and its widgets were deleted while a query ran (the result of a
        query queued before the close still arrives): nothing is left to show it on."""
        return not (shiboken6.isValid(self) and shiboken6.isValid(self.count_label))

    def _query(
        self,
        op: Callable[[Any], Any],
        done: Callable[[Any], None] | None = None,
        failed: Callable[[BaseException], None] | None = None,
    ) -> None:
        """``ctx.query`` whose answers are dropped once the page is gone."""

        def on_done(result: Any) -> None:
            if done is not None and not self._gone():
                done(result)

        def on_failed(exc: BaseException) -> None:
            if self._gone():
                log.info("caseload query ended after the window closed: %s", type(exc).__name__)
            elif failed is not None:
                failed(exc)

        self.ctx.query(op, on_done, on_failed)

    def reload(self) -> None:
        """Filter choices, views and the remembered view's result, in one worker round trip."""
        view = self.view_name
        actor = self.ctx.actor

        def op(s: Any) -> tuple[Any, ...]:
            choices = cl.filter_choices(session=s, actor=actor)
            views = caseload_views.list_views(session=s, actor=actor)
            try:
                f = caseload_views.load_view(session=s, actor=actor, name=view)
            except Exception:
                f = cl.CaseloadFilter()
            keys = cl.query_keys(session=s, actor=actor, filters=f)
            rows = cl.fetch_rows(session=s, keys=keys[:PREFETCH])
            can_save = caseload_views.can_save_views(session=s, actor=actor)
            return choices, views, f, keys, rows, can_save, cl.longest_names(session=s)

        self._gen += 1
        gen = self._gen
        self._busy = True
        self._query(op, lambda res: self._loaded(gen, res), self._failed)

    def _loaded(self, gen: int, res: tuple[Any, ...]) -> None:
        choices, views, f, keys, rows, can_save, longest = res
        self._busy = False
        if longest != self.longest_names:
            self.longest_names = longest  # the name column is sized to show them in full
            if not self.columns_user_sized:
                self.fit_columns()
        self.choices = choices
        self._set_can_save_views(can_save)
        names = [v.name for v in views]
        if self.view_name not in names:
            self.view_name = DEFAULT_VIEW
        self._fill_choices(choices, views)
        f = replace(f, search=self.search.text())  # typed while loading: keep it
        self._apply_filters_to_widgets(f)
        self.filters = f
        if gen != self._gen:
            self.refresh()
            return
        self._show_keys((keys, rows, None), known=False)

    def _fill_choices(
        self, choices: cl.FilterChoices, views: list[caseload_views.ViewInfo]
    ) -> None:
        self._applying = True
        try:
            self.view_combo.clear()
            for v in views:
                label = v.name if v.built_in else f"{v.name} (mine)"
                self.view_combo.addItem(label, v.name)
            self.view_combo.setCurrentIndex(max(0, self.view_combo.findData(self.view_name)))
            for box, first, items in (
                (self.team_combo, "All my teams", choices.teams),
                (self.cohort_combo, "Any cohort", choices.cohorts),
                (self.place_combo, "Any Place", choices.places),
            ):
                box.clear()
                box.addItem(first, None)
                for c in items:
                    box.addItem(c.label, c.id)
            self.place_combo.setVisible(len(choices.places) > 1)
            self.team_combo.setVisible(len(choices.teams) > 1)
            self.lead_combo.clear()
            self.lead_combo.addItem("Any lead", None)
            self.lead_combo.addItem("Me", "me")
            for c in choices.leads:
                if c.id != self.ctx.actor.member_id.hex:
                    self.lead_combo.addItem(c.label, c.id)
            self._update_delete_button()
        finally:
            self._applying = False

    def _set_can_save_views(self, can: bool) -> None:
        self.can_save_views = can
        self.save_view_button.setEnabled(can)
        if can:
            self.save_view_button.setToolTip("Save the current filters as a view of your own")
        else:
            role = self.ctx.actor.role.label
            self.save_view_button.setToolTip(
                f"Not available to a {role}: saving views needs permission to "
                f"{ACTION_LABELS[caseload_views.VIEW_SAVING]}. The built-in views still work."
            )
        self._update_delete_button()

    def _update_delete_button(self) -> None:
        mine = self.view_name not in caseload_views.BUILT_IN_VIEWS
        self.delete_view_button.setEnabled(mine and self.can_save_views)

    def _apply_filters_to_widgets(self, f: cl.CaseloadFilter) -> None:
        self._applying = True
        try:
            for box, values in (
                (self.team_combo, f.team_ids), (self.cohort_combo, f.cohort_ids),
                (self.place_combo, f.place_ids), (self.lead_combo, f.lead_member_ids),
                (self.priority_combo, f.priorities), (self.flag_combo, f.flags),
                (self.plan_combo, f.plan_status),
            ):  # fmt: skip
                box.setCurrentIndex(max(0, box.findData(values[0]) if values else 0))
            self.membership_combo.setCurrentIndex(
                max(0, self.membership_combo.findData(f.membership))
            )
            self.overdue_check.setChecked(f.review_overdue)
            col = cl.SORT_KEYS.index(f.sort)
            order = Qt.SortOrder.DescendingOrder if f.descending else Qt.SortOrder.AscendingOrder
            self.table.horizontalHeader().setSortIndicator(col, order)
        finally:
            self._applying = False

    def _filters_from_widgets(self) -> cl.CaseloadFilter:
        def one(box: QComboBox) -> list[str]:
            value = box.currentData()
            return [value] if value else []

        return replace(
            self.filters,
            team_ids=one(self.team_combo),
            cohort_ids=one(self.cohort_combo),
            place_ids=one(self.place_combo),
            lead_member_ids=one(self.lead_combo),
            priorities=one(self.priority_combo),
            flags=one(self.flag_combo),
            plan_status=one(self.plan_combo),
            membership=self.membership_combo.currentData() or "active",
            review_overdue=self.overdue_check.isChecked(),
            search=self.search.text(),
        )

    def refresh(self) -> None:
        """Re-run the query for the current filters; the newest request wins."""
        self._gen += 1
        if self._busy:
            return  # the running query's completion starts the newest one
        self._start_query()

    def _start_query(self) -> None:
        gen = self._gen
        f = replace(self.filters)
        actor = self.ctx.actor
        self._busy = True

        keep = self._pending_select or self.current_patient

        def op(s: Any) -> tuple[list[int], dict[int, cl.CaseloadRow], int | None]:
            keys = cl.query_keys(session=s, actor=actor, filters=f)
            rows = cl.fetch_rows(session=s, keys=keys[:PREFETCH])  # the first screenful
            return keys, rows, cl.find_key(s, keep, keys) if keep else None

        self._query(op, lambda res: self._queried(gen, res), self._failed)

    def _queried(self, gen: int, result: tuple[Any, ...]) -> None:
        self._busy = False
        if gen != self._gen:
            self._start_query()
            return
        self._show_keys(result)

    def _failed(self, exc: BaseException) -> None:
        self._busy = False
        self.last_error = exc
        self.count_label.setText("Could not load the caseload")
        show_error(self, exc)

    def _show_keys(self, result: tuple[Any, ...], known: bool = True) -> None:
        """Show a result; ``known``: the result says whether the person in the record pane is
        in it (a refresh asks; the first load does not)."""
        keys, rows, keep_key = result
        keep = self._pending_select or self.current_patient
        self._pending_select = None
        self.model.set_keys(keys, rows)
        # Lay the table out now, so the reset is painted once, not again by the deferred layout.
        self.table.executeDelayedItemsLayout()
        n = len(keys)
        self.count_label.setText(f"{n:,} {'person' if n == 1 else 'people'}")
        if n == 0:
            self._explain_empty()
        if keep_key is not None:
            row = self.model.row_of_key(keep_key)
            if row >= 0:
                self.table.selectRow(row)
                self.table.scrollTo(self.model.index(row, 0))
        elif keep is not None:
            self._select_patient(keep)
        if known:  # the record beside a list that does not hold them says so
            self.pane.set_in_list(keep is None or keep_key is not None)
        self.refreshed.emit()

    def _explain_empty(self) -> None:
        """Nobody shown: say why (these filters, or an empty caseload) and what to do next."""
        actor = self.ctx.actor

        def facts(s: Any) -> tuple[bool, bool]:
            from int_desk.services import overview, sync_link

            return overview.anyone_enrolled(s), sync_link.endpoint_url(s) is not None

        search = self.filters.search.strip()
        gen = self._gen
        self.empty_state.set_text("")  # the last reason must not show while this one is found

        def explain(result: tuple[bool, bool]) -> None:
            if gen != self._gen:
                return  # a newer result is coming; it explains itself
            anyone, connected = result
            if anyone and search:
                text = (
                    f"No one matches the search “{search}”. Search finds a name (punctuation "
                    "and accents ignored: obrien finds O'Brien), an NHS number, a postcode or a "
                    "date of birth (10/01/1930 or 10-Jan-1930). Press Clear filters to see "
                    "everyone."
                )
            elif anyone:
                text = "No one matches these filters. Press Clear filters to see everyone."
            else:
                text = no_caseload_text(actor, connected)
            self.empty_state.set_text(text)

        self._query(facts, explain)

    def _fetch_rows(self, keys: Any) -> dict[int, cl.CaseloadRow]:
        with self.ctx.workspace.session() as s:
            return cl.fetch_rows(session=s, keys=keys)

    # --- filter events ------------------------------------------------------------------------

    def _filters_edited(self, *_: Any) -> None:
        if self._applying:
            return
        self.filters = self._filters_from_widgets()
        self.refresh()

    def _search_changed(self, text: str) -> None:
        if self._applying:
            return
        self.filters = replace(self.filters, search=text)
        self.refresh()

    def _search_enter(self) -> None:
        if self.model.rowCount() > 0:
            self.table.selectRow(0)
            self.table.setFocus()

    def _sort_requested(self, key: str, descending: bool) -> None:
        if self._applying or (self.filters.sort, self.filters.descending) == (key, descending):
            return
        self.filters = replace(self.filters, sort=key, descending=descending)
        self.refresh()

    def clear_filters(self) -> None:
        self._set_filters(
            cl.CaseloadFilter(sort=self.filters.sort, descending=self.filters.descending)
        )
        self.refresh()

    # --- views --------------------------------------------------------------------------------

    def _view_chosen(self, index: int) -> None:
        name = self.view_combo.itemData(index)
        if name:
            self.apply_view(name)

    def apply_view(self, name: str) -> None:
        actor = self.ctx.actor

        def done(f: cl.CaseloadFilter) -> None:
            self.view_name = name
            self._update_delete_button()
            self.view_combo.setCurrentIndex(max(0, self.view_combo.findData(name)))
            f = replace(f, search=self.search.text())
            self._apply_filters_to_widgets(f)
            self.filters = f
            self.ctx.settings.setValue(SETTINGS_VIEW, name)
            self.refresh()

        self._query(
            lambda s: caseload_views.load_view(session=s, actor=actor, name=name),
            done,
            self._failed,
        )

    def save_view_dialog(self) -> None:
        if not self.can_save_views:
            return
        default = "" if self.view_name in caseload_views.BUILT_IN_VIEWS else self.view_name
        name, ok = QInputDialog.getText(self, "Save view", "Name for this view:", text=default)
        if ok and name.strip():
            self.save_view(name.strip())

    def save_view(self, name: str) -> None:
        actor = self.ctx.actor
        f = replace(self.filters)

        def done(_v: Any) -> None:
            self.view_name = name
            self.ctx.settings.setValue(SETTINGS_VIEW, name)
            self.reload()

        self._query(
            lambda s: caseload_views.save_view(session=s, actor=actor, name=name, filters=f),
            done,
            self._failed,
        )

    def delete_current_view(self) -> None:
        name = self.view_name
        if name in caseload_views.BUILT_IN_VIEWS:
            return
        if not confirm(self, "Delete view", f"Delete your saved view “{name}”?", "Delete"):
            return
        actor = self.ctx.actor

        def done(_r: Any) -> None:
            self.view_name = DEFAULT_VIEW
            self.ctx.settings.setValue(SETTINGS_VIEW, DEFAULT_VIEW)
            self.reload()

        self._query(
            lambda s: caseload_views.delete_view(session=s, actor=actor, name=name),
            done,
            self._failed,
        )

    # --- selection and navigation -------------------------------------------------------------

    def focus_target(self) -> QWidget:
        """Where Ctrl+1 puts the focus: the list when it shows anyone, else the search."""
        return self.table if self.model.rowCount() else self.search

    def focus_search(self) -> None:
        self.search.setFocus()
        self.search.selectAll()

    def _move(self, step: int) -> None:
        n = self.model.rowCount()
        if not n:
            return
        row = self.table.currentIndex().row()
        row = 0 if row < 0 else max(0, min(n - 1, row + step))
        self.table.selectRow(row)
        self.table.scrollTo(self.model.index(row, 0))

    def next_patient(self) -> None:
        self._move(1)

    def previous_patient(self) -> None:
        self._move(-1)

    def _select_patient(self, patient_id: uuid.UUID) -> None:
        for row in range(min(self.model.rowCount(), PREFETCH)):  # rows already fetched
            idx = self.model.index(row, 0)
            if self.model.data(idx, PatientIdRole) == patient_id:
                self.table.selectRow(row)
                self.table.scrollTo(idx)
                return

    def select_patient(self, patient_id: uuid.UUID) -> None:
        """Open a person from another page (My tasks, huddle, audit trail, conflicts): the
        record pane shows them and the table selects them. A search or filter that hides them
        is cleared first (and discharged people are included when they are discharged), so
        the list and the record are always about the same person."""
        self._pending_select = patient_id
        self._select_patient(patient_id)
        if self.current_patient != patient_id:
            self.open_patient(patient_id)
        shown = replace(self.filters)
        everyone = cl.CaseloadFilter(sort=shown.sort, descending=shown.descending)
        actor = self.ctx.actor

        def op(s: Any) -> cl.CaseloadFilter | None:
            for f in (shown, everyone, replace(everyone, membership="all")):
                keys = cl.query_keys(session=s, actor=actor, filters=f)
                if cl.find_key(s, patient_id, keys) is not None:
                    return f
            return None  # not on any caseload this member sees

        def done(found: cl.CaseloadFilter | None) -> None:
            if self._pending_select != patient_id and self.current_patient != patient_id:
                return  # the user has moved on
            if found is not None and found != self.filters:
                self._set_filters(found)
            self._pending_select = patient_id
            self.refresh()

        self._query(op, done, self._failed)

    def _set_filters(self, f: cl.CaseloadFilter) -> None:
        """Show ``f`` in the filter bar and search box (without a query per widget)."""
        self._applying = True
        try:
            self.search.setText(f.search)
        finally:
            self._applying = False
        self._apply_filters_to_widgets(f)
        self.filters = f

    def _current_changed(self, current: Any, _previous: Any) -> None:
        pid = self.model.data(self.model.index(current.row(), 0), PatientIdRole)
        if pid is not None:
            self.pane.set_in_list(True)  # chosen from the list: in it
        if pid is not None and pid != self.current_patient:
            self.open_patient(pid)

    def open_patient(self, patient_id: uuid.UUID) -> None:
        self.current_patient = patient_id
        self.ctx.events.patient_selected.emit(patient_id)
        actor = self.ctx.actor

        def shown(record: pr.PatientRecord) -> None:
            if record.patient_id != self.current_patient:
                return  # the user has moved on
            self.record = record
            self.pane.show_record(record)
            self.record_shown.emit(record.patient_id)

        self._query(
            lambda s: pr.patient_record(session=s, actor=actor, patient_id=patient_id),
            shown,
            self._failed,
        )

    # --- changes ------------------------------------------------------------------------------

    def _data_changed(self, _table: str) -> None:
        self.refresh()
        if self.current_patient is not None:
            self.open_patient(self.current_patient)

    def _patient_changed(self, patient_id: Any) -> None:
        self.refresh()
        if patient_id == self.current_patient:
            self.open_patient(patient_id)

    def open_import(self) -> None:
        from int_desk.app.cohort_import_dialog import CohortImportDialog

        dialog = CohortImportDialog(self.ctx, self)
        self.import_dialog = dialog
        dialog.show()

    def export_list(self, path: Path | None = None) -> None:
        """File > Export caseload list…: the list as filtered, searched and sorted now, as an
        Excel workbook or a CSV (UTF-8 with BOM, so Excel reads the names right), by the file
        type chosen. The same columns as ``int-desk caseload --format csv|xlsx``."""
        if path is None:
            from int_desk.settings_schema import Preferences

            folder = Preferences(self.ctx.settings).pdf_folder()
            suggested = folder / f"caseload-{london_today():%Y-%m-%d}.xlsx"
            chosen, kind = QFileDialog.getSaveFileName(
                self, "Export the caseload list", str(suggested), f"{XLSX_FILES};;{CSV_FILES}"
            )
            if not chosen:
                return
            path = Path(chosen)
            if path.suffix.lower() not in (".csv", ".xlsx"):
                path = path.with_name(path.name + (".csv" if kind == CSV_FILES else ".xlsx"))
        filters = replace(self.filters)
        actor = self.ctx.actor

        def op(s: Any) -> int:
            return caseload_export.export_list(session=s, actor=actor, filters=filters, path=path)

        def done(n: int) -> None:
            text = f"Exported {n:,} {'person' if n == 1 else 'people'} to {path.name}"
            window = self.window()
            if isinstance(window, QMainWindow):
                window.statusBar().showMessage(text, 10_000)
            self.exported.emit(n)

        self._query(op, done, lambda exc: show_error(self, exc))


class PatientPane(QWidget):
    """The selected person's record and the actions on it."""

    def __init__(self, ctx: AppContext, page: CaseloadPage) -> None:
        super().__init__(page)
        self.ctx = ctx
        self.page = page
        self.dialog: ActionDialog | None = None
        self.setAccessibleName("Patient record")
        self.setMinimumWidth(PANE_WIDTH)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(4, 0, 0, 0)
        self.heading = QLabel("No one selected")
        self.heading.setObjectName("patientHeading")
        # The palette's text colour, so the banner reads in light and dark alike.
        self.heading.setTextFormat(Qt.TextFormat.RichText)
        self.heading.setAccessibleName("Selected patient")
        self.heading.setWordWrap(True)
        self.heading.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        layout.addWidget(self.heading)
        self.outside_note = QLabel(
            "⚠ Not in the list beside: the search or filters hide this person."
        )
        self.outside_note.setObjectName("warningText")
        self.outside_note.setWordWrap(True)
        self.outside_note.setAccessibleName("Not in the list")
        self.outside_note.hide()
        layout.addWidget(self.outside_note)
        grid = QGridLayout()
        grid.setHorizontalSpacing(4)
        grid.setVerticalSpacing(4)
        self.buttons: dict[str, QPushButton] = {}
        actions = self._actions()
        for i, (key, (label, seq, slot, perm)) in enumerate(actions.items()):
            b = QPushButton(label)
            full = _FULL_NAMES.get(key, label.replace("…", ""))
            b.setAccessibleName(full)
            b.setToolTip(f"{full} ({seq})" if seq else full)
            b.clicked.connect(slot)
            b.setEnabled(False)
            b.setProperty("permission", perm.value if perm else "")
            grid.addWidget(b, i // BUTTONS_A_ROW, i % BUTTONS_A_ROW)
            self.buttons[key] = b
        layout.addLayout(grid)
        self.setStyleSheet("QPushButton { padding: 4px 4px; }")
        self.browser = QTextBrowser()
        self.browser.setObjectName("patientRecord")
        self.browser.setAccessibleName("Patient record details and timeline")
        self.browser.setOpenLinks(False)
        self.browser.setHtml("<p>Select a person in the caseload to see their record.</p>")
        layout.addWidget(self.browser, 1)

    def _actions(self) -> dict[str, tuple[str, str, Any, Permission | None]]:
        P = Permission
        return {
            "contact": ("+ Contact…", "Ctrl+Shift+C", self.add_contact, P.ADD_CONTACT),
            "task": ("+ Task…", "Ctrl+Shift+T", self.allocate_task, P.MANAGE_TASKS),
            "refer": ("Refer…", "Ctrl+Shift+R", self.refer, P.REFER),
            "escalate": ("Escalate…", "Ctrl+Shift+E", self.escalate, P.ESCALATE),
            "huddle": ("To huddle…", "Ctrl+Shift+H", self.add_to_huddle, P.ESCALATE),
            "flags": ("Flags…", "Ctrl+Shift+G", self.set_flag, P.EDIT_PATIENT),
            "lead": ("Lead…", "Ctrl+Shift+L", self.set_lead, P.EDIT_PATIENT),
            "plan": ("Care plan", "Ctrl+Shift+P", self.open_care_plan, P.VIEW_CASELOAD),
            "complete": ("Task done…", "", self.complete_task, P.MANAGE_TASKS),
            "outcome": ("Outcome…", "", self.referral_outcome, P.REFER),
            "resolve": ("Resolve…", "", self.resolve, P.RESOLVE_ESCALATION),
            "enrol": ("Cohorts…", "", self.enrol_or_discharge, P.EDIT_PATIENT),
            "needs": ("Needs…", "", self.set_information_needs, P.EDIT_PATIENT),
            "hospital": ("Hospital…", "", self.record_hospital, P.EDIT_PATIENT),
        }

    def shortcut_map(self) -> dict[str, Any]:
        return {seq: slot for _l, seq, slot, _p in self._actions().values() if seq}

    # --- showing ------------------------------------------------------------------------------

    def set_in_list(self, in_list: bool) -> None:
        self.outside_note.setVisible(not in_list and self.page.current_patient is not None)

    def show_record(self, r: pr.PatientRecord) -> None:
        today = london_today()
        self.heading.setText(
            f"<b style='font-size:12pt'>{_e(r.display_name)}</b><br>"
            f"Born {_d(r.date_of_birth)} ({r.age(today)}) &nbsp;·&nbsp; NHS {r.nhs_display}"
        )
        self.heading.setAccessibleDescription(
            f"{r.display_name}, born {r.date_of_birth:%d %B %Y}, NHS number {r.nhs_display}"
        )
        actor = self.ctx.actor
        for key, b in self.buttons.items():
            perm = b.property("permission")
            ok = not perm or allowed(actor, Permission(perm))
            if key == "complete":
                ok = ok and bool(r.open_tasks)
            elif key == "outcome":
                ok = ok and bool(r.open_referrals)
            elif key == "resolve":
                ok = ok and bool(r.open_escalations)
            elif key == "plan":
                ok = ok and self._care_plan_editor() is not None
                b.setToolTip(
                    "Open the care plan (Ctrl+Shift+P)"
                    if ok
                    else "The care-plan editor is not available in this build"
                )
            b.setEnabled(ok)
        self.browser.setHtml(record_html(r, today))

    def clear(self) -> None:
        self.heading.setText("No one selected")
        self.browser.setHtml("<p>Select a person in the caseload to see their record.</p>")
        for b in self.buttons.values():
            b.setEnabled(False)

    # --- actions ------------------------------------------------------------------------------

    def _record(self) -> pr.PatientRecord | None:
        r = self.page.record
        if r is None or r.patient_id != self.page.current_patient:
            return None
        return r

    def _open(self, title: str, intro: str, fields: list[Field], call: Any, ok: str) -> None:
        r = self._record()
        if r is None:
            return
        actor = self.ctx.actor
        pid = r.patient_id

        def submit(s: Any, v: dict[str, Any]) -> Any:
            return call(s, actor, pid, v)

        dialog = ActionDialog(self.ctx, title, intro, fields, submit, ok_text=ok, parent=self)
        dialog.done.connect(lambda _res: self.ctx.events.patient_changed.emit(pid))
        self.dialog = dialog
        dialog.show()

    def add_contact(self) -> None:
        r = self._record()
        if r is None:
            return
        kinds = [(k.value, k.label) for k in ContactKind if k is not ContactKind.HUDDLE_DISCUSSION]
        self._open(
            "Add contact", f"Record a contact with or about {r.display_name}.",
            [Field("kind", "Type", "choice", kinds),
             Field("occurred_at", "When", "datetime"),
             Field("text", "What happened *", "text", aliases=("text",))],
            lambda s, a, pid, v: pa.add_contact(session=s, actor=a, patient_id=pid, **v),
            "Save contact",
        )  # fmt: skip

    def _member_choices(self, lead: uuid.UUID | None = None) -> list[tuple[Any, str]]:
        """Team members to choose from; the person's named lead professional says so."""
        choices = self.page.choices
        leads = choices.leads if choices else []
        lead_hex = lead.hex if lead else None
        return [
            (c.id, f"{c.label} (named lead professional)" if c.id == lead_hex else c.label)
            for c in leads
        ]

    def _lead(self) -> uuid.UUID | None:
        """The named lead professional of the person shown (their first active cohort's)."""
        r = self._record()
        leads = [m.lead_member_id for m in (r.active_memberships if r else []) if m.lead_member_id]
        return leads[0] if leads else None

    def allocate_task(self) -> None:
        choices = self.page.choices
        teams = [(t.id, t.label) for t in (choices.teams if choices else [])]
        lead = self._lead()
        self._open(
            "Allocate task", "Allocate to a team, a role and/or a named person, with a due date. "
            "Nobody is chosen for you" + (", except the named lead professional." if lead else "."),
            [Field("description", "Task *", "line"),
             Field("due_on", "Due *", "date", default=london_today() + timedelta(days=7),
                   min_date=london_today()),
             Field("owner_team_id", "Team", "choice", [(None, "—")] + teams),
             Field("owner_role", "Role", "choice", [(None, "—")] + [(x.value, x.label) for x in Role]),
             Field("owner_member_id", "Person", "choice", [(None, "—")] + self._member_choices(lead),
                   default=lead.hex if lead else None, aliases=("owner",)),
             Field("kind", "Kind", "choice", [(TaskKind.TASK.value, "Task"),
                                              (TaskKind.HOME_VISIT.value, "Planned home visit")])],
            lambda s, a, pid, v: pa.allocate_task(session=s, actor=a, patient_id=pid, **v),
            "Allocate",
        )  # fmt: skip

    def refer(self) -> None:
        self._open(
            "Refer", "Refer to one of the four pillars or a partner service.",
            [Field("service", "Service *", "choice",
                   [(None, "Choose a service…")] + [(x.value, x.label) for x in ReferralService],
                   required=True),
             Field("reason", "Reason *", "text"),
             Field("to_member_id", "To (optional)", "choice", [(None, "—")] + self._member_choices())],
            lambda s, a, pid, v: pa.refer(session=s, actor=a, patient_id=pid, **v),
            "Send referral",
        )  # fmt: skip

    def referral_outcome(self) -> None:
        r = self._record()
        if r is None or not r.open_referrals:
            return
        self._open(
            "Referral outcome", "Record what happened to the referral.",
            [Field("referral_id", "Referral", "choice",
                   [(o.id.hex, f"{o.label} ({o.detail})") for o in r.open_referrals]),
             Field("status", "Status", "choice",
                   [(x.value, x.value.capitalize()) for x in ReferralStatus if x is not ReferralStatus.SENT]),
             Field("outcome", "Outcome", "text")],
            lambda s, a, pid, v: pa.record_referral_outcome(session=s, actor=a, **v),
            "Save outcome",
        )  # fmt: skip

    def escalate(self) -> None:
        self._open(
            "Escalate to the clinical lead", "Say what worries you; the INT clinical lead is told.",
            [Field("reason", "Reason *", "text")],
            lambda s, a, pid, v: pa.escalate(session=s, actor=a, patient_id=pid, **v),
            "Escalate",
        )  # fmt: skip

    def resolve(self) -> None:
        r = self._record()
        if r is None or not r.open_escalations:
            return
        self._open(
            "Resolve escalation", "",
            [Field("escalation_id", "Escalation", "choice",
                   [(o.id.hex, o.detail) for o in r.open_escalations]),
             Field("resolution", "Resolution *", "text")],
            lambda s, a, pid, v: pa.resolve_escalation(session=s, actor=a, **v),
            "Resolve",
        )  # fmt: skip

    def add_to_huddle(self) -> None:
        self._open(
            "Add to next huddle", "The person goes on the agenda of the team's next huddle.",
            [Field("note", "Why (optional)", "line")],
            lambda s, a, pid, v: pa.add_to_next_huddle(session=s, actor=a, patient_id=pid, **v),
            "Add to huddle",
        )  # fmt: skip

    def set_flag(self) -> None:
        r = self._record()
        if r is None:
            return
        raised = {code for code, _ in r.flags}
        self._open(
            "Flags", "Raise or clear a flag. Currently: "
            + (", ".join(c.label for c in raised) or "none") + ".",
            [Field("code", "Flag", "choice", [(f.value, f.label) for f in FlagCode]),
             Field("active", "Raised", "check", default=True,
                   help="Untick to clear the flag"),
             Field("note", "Note (optional)", "line")],
            lambda s, a, pid, v: pa.set_flag(session=s, actor=a, patient_id=pid, **v),
            "Save flag",
        )  # fmt: skip

    def set_information_needs(self) -> None:
        """Accessible Information Standard needs; large print makes the carer copy large."""
        r = self._record()
        if r is None:
            return
        recorded = set(r.information_needs)
        fields = [Field(n.value, n.label, "check", default=n in recorded) for n in InformationNeed]
        self._open(
            "Information and communication needs",
            f"The formats and support {r.display_name} needs (Accessible Information "
            "Standard). Large print makes their care plan's carer copy large print.",
            fields,
            lambda s, a, pid, v: set_information_needs(
                session=s, actor=a, patient_id=pid, chosen=[k for k, on in v.items() if on]
            ),
            "Save needs",
        )

    def record_hospital(self) -> None:
        """An admission, discharge or ED attendance on the record (counted by the scorecard
        as an imported one; a discharge brings the person to the huddle agenda)."""
        from int_desk.services.admissions_import import record_hospital_event

        r = self._record()
        if r is None:
            return
        kinds = [HealthEventKind.EMERGENCY_ADMISSION, HealthEventKind.ADMISSION,
                 HealthEventKind.DISCHARGE, HealthEventKind.ED_ATTENDANCE]  # fmt: skip
        self._open(
            "Hospital admission or discharge",
            f"Record {r.display_name}'s hospital admission, discharge or ED attendance.",
            [Field("kind", "What", "choice", [(k.value, k.label) for k in kinds]),
             Field("on", "Date *", "date", default=london_today()),
             Field("provider", "Hospital", "line", help="e.g. John Radcliffe Hospital")],
            lambda s, a, pid, v: record_hospital_event(
                session=s, actor=a, patient_id=pid, kind=HealthEventKind(v["kind"]),
                on=v["on"], provider=v.get("provider") or ""),
            "Record",
        )  # fmt: skip

    def set_lead(self) -> None:
        r = self._record()
        if r is None:
            return
        active = r.active_memberships
        if not active:
            return
        self._open(
            "Named lead professional", "Name the lead professional for a cohort.",
            [Field("membership_id", "Cohort", "choice",
                   [(m.id.hex, f"{m.cohort} (lead: {m.lead or 'not named'})") for m in active]),
             Field("member_id", "Lead professional", "choice",
                   [(None, "Not named")] + self._member_choices())],
            lambda s, a, pid, v: pa.set_lead_professional(session=s, actor=a, **v),
            "Save",
        )  # fmt: skip

    def enrol_or_discharge(self) -> None:
        r = self._record()
        if r is None:
            return
        choices = self.page.choices
        enrolled = {m.cohort_id.hex for m in r.active_memberships}
        cohorts = [
            (c.id, c.label) for c in (choices.cohorts if choices else []) if c.id not in enrolled
        ]
        options: list[tuple[Any, str]] = [(("discharge", m.id.hex), f"Discharge from {m.cohort}")
                                          for m in r.active_memberships]  # fmt: skip
        options += [(("enrol", cid), f"Enrol into {label}") for cid, label in cohorts]

        def call(s: Any, a: Any, pid: uuid.UUID, v: dict[str, Any]) -> Any:
            what, ident = v["change"]
            if what == "discharge":
                return pa.discharge_from_cohort(
                    session=s, actor=a, membership_id=uuid.UUID(ident), reason=v["reason"]
                )
            return pa.enrol(
                session=s, actor=a, patient_id=pid, cohort_id=uuid.UUID(ident),
                reason=v["reason"], priority=v["priority"],
            )  # fmt: skip

        self._open(
            "Enrol or discharge", "Cohort changes keep their history; give the reason.",
            [Field("change", "Change", "choice", options),
             Field("reason", "Reason *", "text"),
             Field("priority", "Priority (enrol)", "choice",
                   [(p.value, p.value.capitalize()) for p in Priority], default="medium")],
            call, "Save",
        )  # fmt: skip

    def complete_task(self) -> None:
        r = self._record()
        if r is None or not r.open_tasks:
            return
        self._open(
            "Complete task", "Mark a task as done.",
            [Field("task_id", "Task", "choice",
                   [(t.id.hex, f"{t.description} (due {_d(t.due_on)})") for t in r.open_tasks])],
            lambda s, a, pid, v: pa.complete_task(session=s, actor=a, **v),
            "Mark complete",
        )  # fmt: skip

    def _care_plan_editor(self) -> Any:
        try:
            module = importlib.import_module(CARE_PLAN_MODULE)
        except ImportError:
            return None
        return getattr(module, "CarePlanEditor", None)

    def open_care_plan(self) -> None:
        r = self._record()
        editor = self._care_plan_editor()
        if r is None or editor is None:
            return
        try:
            editor.open_for(self.ctx, r.patient_id, self)
        except Exception as exc:  # the editor reports its own errors; never lose the page
            show_error(self, exc)


def record_html(r: pr.PatientRecord, today: date) -> str:
    """The record pane's content. Plain, high-contrast HTML a screen reader reads in order."""
    out: list[str] = []
    alerts = []
    for m in r.active_memberships:
        if m.priority.value == "high":
            alerts.append(f"▲ High priority ({_e(m.cohort)})")
    if r.plan and r.plan.status == "active" and r.plan.review_date and r.plan.review_date < today:
        alerts.append(f"! Care plan review overdue since {_d(r.plan.review_date)}")
    overdue = [t for t in r.open_tasks if t.overdue(today)]
    if overdue:
        alerts.append("! " + plural(len(overdue), "task") + " overdue")
    if r.open_escalations:
        alerts.append("! " + plural(len(r.open_escalations), "open escalation"))
    if alerts:  # dark red on pale red in light and dark appearance alike (7.6:1)
        out.append(
            f"<p style='background:{colours.OVERDUE_BG};color:{colours.ALERT_TEXT};padding:4px'><b>"
            + " &nbsp;·&nbsp; ".join(alerts)
            + "</b></p>"
        )
    if r.flags:
        out.append(
            "<p><b>Flags:</b> "
            + ", ".join(f"{_e(c.label)}" + (f" ({_e(n)})" if n else "") for c, n in r.flags)
            + "</p>"
        )
    out.append("<h3>About</h3><table cellspacing='2'>")
    rows = [
        ("Born", f"{_d(r.date_of_birth)} ({r.age(today)})"),
        ("Sex", r.sex.capitalize()),
        ("Address", f"{r.address}, {r.postcode}" if r.address else r.postcode),
        ("Phone", r.phone),
        ("Practice", r.practice),
        ("Communication", r.communication_needs or "No needs recorded"),
        ("Information needs", information_needs.labels(r.information_needs) or "None recorded"),
    ]
    if r.clinical_visible and r.long_term_conditions:
        rows.append(("Conditions", r.long_term_conditions))
    out += [f"<tr><td><b>{k}</b>&nbsp;</td><td>{_e(v)}</td></tr>" for k, v in rows]
    out.append("</table>")
    out.append("<h3>Unpaid carer</h3>")
    if r.carer_name:
        carer = f"{_e(r.carer_name)}"
        if r.carer_relationship:
            carer += f" ({_e(r.carer_relationship)})"
        if r.carer_phone:
            carer += f" · {_e(r.carer_phone)}"
        out.append(f"<p>{carer}" + (f"<br>{_e(r.carer_needs)}" if r.carer_needs else "") + "</p>")
    else:
        out.append("<p>No unpaid carer recorded.</p>")
    out.append("<h3>Team around the person</h3><ul>")
    out += [
        f"<li><b>{_e(p.role)}:</b> {_e(p.name)}"
        + (f" – {_e(p.detail)}" if p.detail else "")
        + "</li>"
        for p in r.team
    ] or ["<li>No one named yet.</li>"]
    out.append("</ul><h3>Cohorts</h3><ul>")
    for m in r.memberships:
        state = (
            f"since {_d(m.enrolled_on)}, {m.priority.value} priority"
            if m.active
            else f"discharged {_d(m.discharged_on)} – {_e(m.discharge_reason)}"
        )
        out.append(f"<li><b>{_e(m.cohort)}</b> ({_e(m.team)}): {state}</li>")
    out.append("</ul><h3>Care plan</h3>")
    if r.plan:
        p = r.plan
        review = f", review {_d(p.review_date)}" if p.review_date else ""
        out.append(f"<p>Version {p.version}, {_e(p.status)}{review}.</p>")
        if p.what_matters:
            out.append(f"<p><b>What matters to me:</b> {_e(p.what_matters)}</p>")
        if p.goals:
            out.append("<ul>" + "".join(f"<li>{_e(g)}</li>" for g in p.goals) + "</ul>")
        if p.contingency_plan:
            out.append(f"<p><b>If things change:</b> {_e(p.contingency_plan)}</p>")
    else:
        out.append("<p><b>No care plan yet.</b></p>")
    out.append("<h3>Open tasks</h3>")
    if r.open_tasks:
        out.append("<ul>")
        for t in r.open_tasks:
            flag = " <b>! OVERDUE</b>" if t.overdue(today) else ""
            out.append(f"<li>{_e(t.description)} – due {_d(t.due_on)}{flag} – {_e(t.owner)}</li>")
        out.append("</ul>")
    else:
        out.append("<p>None.</p>")
    if r.open_referrals:
        out.append("<h3>Open referrals</h3><ul>")
        out += [f"<li>{_e(o.label)} – {_e(o.detail)}</li>" for o in r.open_referrals]
        out.append("</ul>")
    out.append("<h3>Timeline</h3>")
    if not r.timeline:
        out.append("<p>Nothing recorded yet.</p>")
    for e in r.timeline:
        when = (
            in_london(e.when).strftime("%d %b %Y %H:%M")
            if e.kind in ("contact", "escalation", "gp_notification")
            else in_london(e.when).strftime("%d %b %Y")  # a task's day is London's too
        )
        status = f" [{_e(e.status)}]" if e.status else ""
        who = f" – {_e(e.who)}" if e.who else ""
        out.append(f"<p><b>{when}</b> · <b>{_e(e.label)}</b>{status}{who}<br>{_e(e.text)}</p>")
    return "\n".join(out)
