"""Audit trail page: who viewed, changed, exported or signed off what, and when.

Filter by patient (NHS number), person and action; export the filtered trail as CSV for an
information-governance request (to the file the user chooses); the chain check runs on load and
on demand. Roles without VIEW_AUDIT see an explanation, not the trail.
"""

from __future__ import annotations

import logging
import uuid
from pathlib import Path
from typing import Any

from PySide6.QtCore import QAbstractTableModel, QModelIndex, QPersistentModelIndex, Qt, Signal
from PySide6.QtWidgets import (
    QAbstractItemView,
    QComboBox,
    QFileDialog,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QLineEdit,
    QPushButton,
    QTableView,
    QVBoxLayout,
    QWidget,
)

from int_desk.app.context import AppContext
from int_desk.app.messages import describe
from int_desk.app.navigation import open_in_caseload
from int_desk.domain.errors import IntDeskError
from int_desk.domain.permissions import Permission
from int_desk.domain.uk_time import in_london
from int_desk.domain.vocab import AuditAction
from int_desk.services import access, audit_log

log = logging.getLogger(__name__)

Index = QModelIndex | QPersistentModelIndex
COLUMNS = ("When (UTC)", "Who", "Action", "Record", "Record id", "Patient", "Detail")


class AuditTableModel(QAbstractTableModel):
    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.rows: list[audit_log.AuditRow] = []

    def set_rows(self, rows: list[audit_log.AuditRow]) -> None:
        self.beginResetModel()
        self.rows = rows
        self.endResetModel()

    def rowCount(self, parent: Index = QModelIndex()) -> int:  # noqa: N802, B008
        return 0 if parent.isValid() else len(self.rows)

    def columnCount(self, parent: Index = QModelIndex()) -> int:  # noqa: N802, B008
        return 0 if parent.isValid() else len(COLUMNS)

    def headerData(  # noqa: N802
        self, section: int, orientation: Qt.Orientation, role: int = Qt.ItemDataRole.DisplayRole
    ) -> Any:
        if role == Qt.ItemDataRole.DisplayRole and orientation == Qt.Orientation.Horizontal:
            return COLUMNS[section] if 0 <= section < len(COLUMNS) else None
        return None

    def data(self, index: Index, role: int = Qt.ItemDataRole.DisplayRole) -> Any:
        if not index.isValid() or not 0 <= index.row() < len(self.rows):
            return None
        r = self.rows[index.row()]
        if role == Qt.ItemDataRole.DisplayRole:
            return (
                in_london(r.recorded_at).strftime("%Y-%m-%d %H:%M:%S"),
                f"{r.actor_name} ({r.actor_role})" if r.actor_name else "INT Desk (system)",
                r.action_label,
                r.entity_type,
                str(r.entity_id) if r.entity_id else "",
                r.patient_label or r.patient_nhs_number,
                r.detail,
            )[index.column()]
        if role == Qt.ItemDataRole.ToolTipRole and index.column() == 4:
            return f"entry {r.seq}, hash {r.hash[:16]}…"
        return None


class AuditPage(QWidget):
    """Signals: ``loaded(int)`` (rows shown), ``exported(int)`` (rows written),
    ``verified(object)`` (ChainReport)."""

    title = "Audit trail"
    shortcut = "Ctrl+9"
    loaded = Signal(int)
    exported = Signal(int)
    verified = Signal(object)

    def __init__(self, ctx: AppContext, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.ctx = ctx
        self._loaded_once = False
        self.patient_edit = QLineEdit()
        self.patient_edit.setPlaceholderText("NHS number")
        self.patient_edit.setAccessibleName("Filter by patient NHS number")
        self.person_combo = QComboBox()
        self.person_combo.setAccessibleName("Filter by person")
        self.person_combo.addItem("Everyone", None)
        self.action_combo = QComboBox()
        self.action_combo.setAccessibleName("Filter by action")
        self.action_combo.addItem("All actions", None)
        for action in AuditAction:
            self.action_combo.addItem(action.label.capitalize(), action.value)
        self.refresh_button = QPushButton("&Show")
        self.export_button = QPushButton("&Export CSV…")
        self.export_button.setToolTip("Export the filtered trail for an IG request")
        self.verify_button = QPushButton("&Verify chain")
        self.open_button = QPushButton("&Open patient")
        self.open_button.setToolTip("Open the selected entry's patient in the caseload (Enter)")
        self.open_button.setEnabled(False)
        self.chain_label = QLabel("Chain not checked yet.")
        self.chain_label.setAccessibleName("Audit chain status")
        self.status_label = QLabel()
        self.error_label = QLabel()
        self.error_label.setObjectName("errorText")
        self.error_label.hide()
        self.model = AuditTableModel(self)
        self.table = QTableView()
        self.table.setModel(self.model)
        self.table.setAccessibleName("Audit entries")
        self.table.setTabKeyNavigation(False)  # Tab leaves the table; arrows move in it
        self.table.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        self.table.setAlternatingRowColors(True)
        self.table.horizontalHeader().setSectionResizeMode(QHeaderView.ResizeMode.Interactive)
        self.table.horizontalHeader().setStretchLastSection(True)
        self.table.verticalHeader().hide()

        self.filter_bar = QWidget()  # hidden, with the chain row, for a role without the trail
        filters = QHBoxLayout(self.filter_bar)
        filters.setContentsMargins(0, 0, 0, 0)
        for label, w in (
            ("&Patient:", self.patient_edit),
            ("P&erson:", self.person_combo),
            ("&Action:", self.action_combo),
        ):
            lab = QLabel(label)
            lab.setBuddy(w)
            filters.addWidget(lab)
            filters.addWidget(w)
        filters.addWidget(self.refresh_button)
        filters.addStretch(1)
        filters.addWidget(self.open_button)
        filters.addWidget(self.export_button)
        self.chain_bar = QWidget()
        chain = QHBoxLayout(self.chain_bar)
        chain.setContentsMargins(0, 0, 0, 0)
        chain.addWidget(self.chain_label, 1)
        chain.addWidget(self.verify_button)
        layout = QVBoxLayout(self)
        title = QLabel("Audit trail")
        title.setObjectName("pageTitle")
        layout.addWidget(title)
        layout.addWidget(self.filter_bar)
        layout.addWidget(self.error_label)
        layout.addWidget(self.table, 1)
        layout.addWidget(self.status_label)
        layout.addWidget(self.chain_bar)
        self.page_layout = layout

        self.refresh_button.clicked.connect(self.refresh)
        self.patient_edit.returnPressed.connect(self.refresh)
        self.person_combo.activated.connect(lambda _i: self.refresh())
        self.action_combo.activated.connect(lambda _i: self.refresh())
        self.export_button.clicked.connect(self._choose_export_path)
        self.verify_button.clicked.connect(self.verify)
        self.open_button.clicked.connect(self.open_patient)
        self.table.doubleClicked.connect(lambda _i: self.open_patient())
        self.table.activated.connect(lambda _i: self.open_patient())  # Enter on a row
        self.table.selectionModel().currentRowChanged.connect(lambda *_: self._update_open())
        ctx.events.unlocked.connect(self._on_unlocked)
        ctx.events.locked.connect(lambda: self.model.set_rows([]))
        self.allowed = True

    # --- loading ------------------------------------------------------------------------------

    def showEvent(self, event: Any) -> None:  # noqa: N802 - Qt override
        super().showEvent(event)
        if not self._loaded_once:
            self._loaded_once = True
            self.start()

    def _on_unlocked(self) -> None:
        if self._loaded_once and self.isVisible():
            self.refresh()

    def start(self) -> None:
        """Check the role, fill the person list, load the newest entries, verify the chain."""
        actor = self.ctx.actor

        def op(s: Any) -> Any:
            if not access.can(s, actor, Permission.VIEW_AUDIT):
                return None
            return audit_log.people(session=s, actor=actor)

        self.ctx.query(op, self._on_people, self._on_error)

    def _on_people(self, people: list[tuple[Any, str]] | None) -> None:
        if people is None:
            self.allowed = False
            # The explanation takes the table's place (the page keeps its shape): no filters,
            # buttons or chain line that do nothing.
            for w in (self.table, self.filter_bar, self.chain_bar):
                w.hide()
            for w in (self.export_button, self.verify_button, self.refresh_button):
                w.setEnabled(False)
            self.status_label.setWordWrap(True)
            self.status_label.setAlignment(Qt.AlignmentFlag.AlignTop | Qt.AlignmentFlag.AlignLeft)
            self.page_layout.setStretchFactor(self.status_label, 1)
            self.status_label.setText(
                f"The role '{self.ctx.actor.role.label}' cannot view the audit trail. "
                "Ask your INT clinical lead or administrator."
            )
            self.loaded.emit(0)
            return
        for member_id, label in people:
            self.person_combo.addItem(label, str(member_id))
        self.refresh()
        self.verify()

    def _filter_op(self) -> Any:
        """Read the filter widgets now (GUI thread); resolve them later on the store worker."""
        text = self.patient_edit.text().strip()
        member = self.person_combo.currentData()
        member_id = uuid.UUID(member) if member else None
        action_code = self.action_combo.currentData()
        action = AuditAction(action_code) if action_code else None
        actor = self.ctx.actor

        def resolve(s: Any) -> audit_log.AuditFilter:
            patient_id = (
                audit_log.patient_id_for_nhs_number(session=s, actor=actor, nhs_number=text)
                if text
                else None
            )
            return audit_log.AuditFilter(patient_id=patient_id, member_id=member_id, action=action)

        return resolve

    def refresh(self) -> None:
        if not self.allowed:
            return
        self.error_label.hide()
        actor = self.ctx.actor

        filters = self._filter_op()

        def op(s: Any) -> list[audit_log.AuditRow]:
            return audit_log.list_events(session=s, actor=actor, filters=filters(s))

        self.ctx.query(op, self._on_rows, self._on_error)

    def selected_patient(self) -> uuid.UUID | None:
        row = self.table.currentIndex().row()
        return self.model.rows[row].patient_id if 0 <= row < len(self.model.rows) else None

    def _update_open(self) -> None:
        self.open_button.setEnabled(self.selected_patient() is not None)

    def open_patient(self) -> None:
        """The selected entry's patient, in the caseload (list and record in step)."""
        open_in_caseload(self, self.selected_patient())

    def _on_rows(self, rows: list[audit_log.AuditRow]) -> None:
        self.model.set_rows(rows)
        self._update_open()
        more = (
            " (newest shown; narrow the filters or export for all)"
            if len(rows) >= (audit_log.DEFAULT_LIMIT)
            else ""
        )
        self.status_label.setText(
            f"{len(rows):,} {'entry' if len(rows) == 1 else 'entries'}{more}."
        )
        self.table.resizeColumnsToContents()
        self.loaded.emit(len(rows))

    def _on_error(self, exc: BaseException) -> None:
        if not isinstance(exc, IntDeskError):
            log.error("audit page: %s", type(exc).__name__)
        self.error_label.setText(describe(exc))
        self.error_label.show()

    # --- export and verification ------------------------------------------------------------

    def _choose_export_path(self) -> None:
        path, _ = QFileDialog.getSaveFileName(
            self, "Export audit trail", "audit-trail.csv", "CSV files (*.csv)"
        )
        if path:
            self.export_to(Path(path))

    def export_to(self, path: Path) -> None:
        actor = self.ctx.actor

        filters = self._filter_op()

        def op(s: Any) -> int:
            return audit_log.export_csv(session=s, actor=actor, path=path, filters=filters(s))

        self.ctx.query(op, self._on_exported, self._on_error)

    def _on_exported(self, count: int) -> None:
        self.status_label.setText(f"Exported {count:,} entries.")
        self.exported.emit(count)

    def verify(self) -> None:
        actor = self.ctx.actor
        self.chain_label.setText("Checking the audit chain…")
        self.ctx.query(
            lambda s: audit_log.verify_chain(session=s, actor=actor),
            self._on_verified,
            self._on_error,
        )

    def _on_verified(self, report: Any) -> None:
        self.chain_label.setText(report.describe())
        self.chain_label.setObjectName("" if report.intact else "errorText")
        self.chain_label.setStyleSheet("" if report.intact else "font-weight: bold;")
        self.verified.emit(report)
