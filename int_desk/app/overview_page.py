"""The first page: the workspace's teams, their cohorts and caseload counts."""

from __future__ import annotations

from PySide6.QtCore import Qt
from PySide6.QtWidgets import (
    QHeaderView,
    QLabel,
    QTableWidget,
    QTableWidgetItem,
    QVBoxLayout,
    QWidget,
)

from int_desk.app.context import AppContext
from int_desk.services.overview import TeamRow, load_team_rows


class OverviewPage(QWidget):
    title = "Teams"
    shortcut = "Ctrl+0"

    def __init__(self, ctx: AppContext, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.ctx = ctx
        self.heading = QLabel("Your teams")
        self.heading.setObjectName("pageTitle")
        self.summary = QLabel("Loading…")
        self.summary.setAccessibleName("Caseload summary")
        self.table = QTableWidget(0, 5)
        self.table.setAccessibleName("Teams and caseload counts")
        self.table.setTabKeyNavigation(False)  # Tab leaves the table; arrows move in it
        self.table.setHorizontalHeaderLabels(
            ["Team", "Place", "Neighbourhood", "Cohorts", "Caseload"]
        )
        self.table.horizontalHeader().setSectionResizeMode(QHeaderView.ResizeMode.ResizeToContents)
        self.table.horizontalHeader().setSectionResizeMode(3, QHeaderView.ResizeMode.Stretch)
        self.table.setEditTriggers(QTableWidget.EditTrigger.NoEditTriggers)
        self.table.verticalHeader().hide()
        layout = QVBoxLayout(self)
        layout.addWidget(self.heading)
        layout.addWidget(self.summary)
        layout.addWidget(self.table)
        ctx.events.changed.connect(lambda c: self.refresh() if c.touches_records() else None)
        self.refresh()

    def refresh(self) -> None:
        self.ctx.query(load_team_rows, self._show)

    def _show(self, rows: list[TeamRow]) -> None:
        self.table.setRowCount(len(rows))
        for r, row in enumerate(rows):
            values = (row.team, row.place, row.neighbourhood, row.cohorts, f"{row.caseload:,}")
            for c, value in enumerate(values):
                item = QTableWidgetItem(value)
                if c == 4:
                    item.setTextAlignment(
                        Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter
                    )
                self.table.setItem(r, c, item)
        total = sum(r.caseload for r in rows)
        teams = f"{len(rows)} team{'' if len(rows) == 1 else 's'}"
        if not rows:
            self.summary.setText(
                "You are not in any team yet. Ask your INT administrator to add you to your "
                "team; its records arrive here at the next sync."
            )
        elif total == 0:
            self.summary.setText(
                f"{teams} · no one on the caseload yet: import the cohort list on the Caseload "
                "page (Import cohort…), or connect to your team's endpoint to receive it."
            )
        else:
            self.summary.setText(f"{teams} · {total:,} people on the caseload")
