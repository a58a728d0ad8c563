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

import logging
import uuid
from collections.abc import Callable
from dataclasses import replace
from pathlib import Path
from typing import Any

import shiboken6
from PySide6.QtCore import QByteArray, Qt, QTimer, Signal
from PySide6.QtGui import QKeySequence, QShortcut
from PySide6.QtWidgets import (
    QCheckBox,
    QComboBox,
    QFileDialog,
    QGridLayout,
    QHBoxLayout,
    QInputDialog,
    QLabel,
    QLineEdit,
    QMainWindow,
    QPushButton,
    QSplitter,
    QVBoxLayout,
    QWidget,
)

from int_desk.app.caseload_model import CaseloadModel, PatientIdRole
from int_desk.app.caseload_table import ColumnFit, make_table
from int_desk.app.context import AppContext
from int_desk.app.empty_state import EmptyState, no_caseload_text
from int_desk.app.messages import confirm, show_error
from int_desk.app.patient_pane import PANE_WIDTH, PatientPane
from int_desk.domain.permissions import ACTION_LABELS, Permission, allowed
from int_desk.domain.uk_time import london_today
from int_desk.domain.vocab import (
    FlagCode,
    Priority,
)
from int_desk.services import caseload as cl
from int_desk.services import caseload_export, caseload_views
from int_desk.services import patient_record as pr
from int_desk.store.changes import Changes

log = logging.getLogger(__name__)

SETTINGS_HEADER = "caseload/header_state_v3"  # v3: date of birth, two-line headers
SETTINGS_USER_SIZED = "caseload/columns_user_sized"
SETTINGS_SPLITTER = "caseload/splitter_state_v2"  # v2: a narrower record pane
SETTINGS_VIEW = "caseload/last_view"
DEFAULT_VIEW = "Whole caseload"
XLSX_FILES = "Excel workbook (*.xlsx)"
CSV_FILES = "CSV, UTF-8 for Excel (*.csv)"
# What a caseload row shows (the caseload index's sources) and whose team sees it.
LIST_TABLES = (
    "patient", "cohort", "cohort_membership", "contact", "task", "care_plan", "flag",
    "escalation", "referral", "member", "team_membership",
)  # fmt: skip
PREFETCH = 40  # rows fetched with every result: the first screenful paints without a query


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
        self.columns.sized_by_user.connect(self._save_timer.start)
        self.columns.layout_changed.connect(self.save_layout)
        self.table.horizontalHeader().sectionResized.connect(self.columns.section_resized)
        self.table.horizontalHeader().sectionMoved.connect(lambda *_: self._save_timer.start())
        self.splitter.splitterMoved.connect(lambda *_: self._save_timer.start())

        ctx.events.changed.connect(self._on_changes)
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
        t = make_table(self.model)
        self.columns = ColumnFit(t, self)
        h = t.horizontalHeader()
        h.customContextMenuRequested.connect(self.columns.show_menu)
        self.columns.set_default_widths(860)
        t.viewport().installEventFilter(self.columns)  # fit the columns when it is resized
        t.setSortingEnabled(True)
        t.selectionModel().currentRowChanged.connect(self._current_changed)
        t.doubleClicked.connect(lambda _i: self.pane.browser.setFocus())
        self.table = t
        h.sortIndicatorChanged.connect(self.columns.sort_indicator_moved)
        self.empty_state = EmptyState(t)  # what to do next when no one is shown

    def _shortcuts(self) -> None:
        def add(seq: str, slot: Any, name: str) -> None:
            sc = QShortcut(QKeySequence(seq), self)
            sc.activated.connect(slot)
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
            self.columns.user_sized = sized in (True, "true", 1, "1")  # first: no refit
            self.table.horizontalHeader().restoreState(QByteArray(header))
        splitter = self.ctx.settings.value(SETTINGS_SPLITTER)
        if isinstance(splitter, QByteArray | bytes):
            self.splitter.restoreState(QByteArray(splitter))

    def save_layout(self) -> None:
        self.ctx.settings.setValue(SETTINGS_HEADER, self.table.horizontalHeader().saveState())
        self.ctx.settings.setValue(SETTINGS_USER_SIZED, self.columns.user_sized)
        self.ctx.settings.setValue(SETTINGS_SPLITTER, self.splitter.saveState())
        self.ctx.settings.setValue(SETTINGS_VIEW, self.view_name)

    def hideEvent(self, event: Any) -> None:  # noqa: N802 - Qt override
        self.save_layout()
        super().hideEvent(event)

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
        self.columns.show_longest_names(longest)  # the name column shows them in full
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

        self._change_views(
            lambda s: caseload_views.save_view(session=s, actor=actor, name=name, filters=f), name
        )

    def delete_current_view(self) -> None:
        name = self.view_name
        if name in caseload_views.BUILT_IN_VIEWS:
            return
        if not confirm(self, "Delete view", f"Delete your saved view “{name}”?", "Delete"):
            return
        actor = self.ctx.actor

        self._change_views(
            lambda s: caseload_views.delete_view(session=s, actor=actor, name=name), DEFAULT_VIEW
        )

    def _change_views(self, work: Callable[[Any], Any], then: str) -> None:
        """Save or delete a view on the store worker, then show view ``then`` (here and at the
        next start) with the list of views reloaded."""

        def done(_r: Any) -> None:
            self.view_name = then
            self.ctx.settings.setValue(SETTINGS_VIEW, then)
            self.reload()

        self._query(work, done, self._failed)

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

    def _on_changes(self, changes: Changes) -> None:
        """Whoever committed (a dialog, the huddle, sync, an import): the list re-reads when a
        table it shows was written, the open record when that person's rows were."""
        if changes.touches(*LIST_TABLES):
            self.refresh()
        if self.current_patient is not None and changes.touches_patient(self.current_patient):
            self.open_patient(self.current_patient)

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
