"""The caseload table model: ordered row keys from the store, rows rendered lazily.

The model holds only the ordered keys of the current result (ints) and a cache of rendered rows.
``data()`` is O(1): a cached row, or one batch fetch of the rows around it (the visible window)
from the store, then cached. Sorting is done by the store: ``sort()`` only emits
``sort_requested`` and the page re-runs the query (no proxy model, no Python sort).

Overdue and high-priority rows are marked by colour *and* by an icon plus text, never colour
alone: the name column carries the icon, Priority says "▲ High", Care plan says "Overdue", the
review date carries "!" and the task count says how many are late ("2 (1 late)"), with the
words in their tooltip and accessible text. Every row shows the full name, NHS number and date
of birth (with the age), so two people with the same family name are never told apart by a
cut-off name alone.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import date
from typing import Any

from PySide6.QtCore import QAbstractTableModel, QModelIndex, QPersistentModelIndex, Qt, Signal
from PySide6.QtGui import QBrush, QColor, QFont, QIcon, QPainter, QPixmap

from int_desk.app import colours
from int_desk.domain.uk_time import london_date, london_today
from int_desk.services.caseload import COLUMN_DESCRIPTIONS, COLUMNS, SORT_KEYS, CaseloadRow, Col

log = logging.getLogger(__name__)

PatientIdRole = Qt.ItemDataRole.UserRole + 1
RowRole = Qt.ItemDataRole.UserRole + 2
BATCH_BEFORE = 30
BATCH_AFTER = 90
CACHE_LIMIT = 6000

OVERDUE_BG = QColor(colours.OVERDUE_BG)  # pale red
HIGH_BG = QColor(colours.HIGH_BG)  # pale amber
DISCHARGED_FG = QColor(colours.MUTED["light"])  # the delegate paints the scheme's muted grey

Index = QModelIndex | QPersistentModelIndex
_DISPLAY = int(Qt.ItemDataRole.DisplayRole)
_BACKGROUND = int(Qt.ItemDataRole.BackgroundRole)
_FOREGROUND = int(Qt.ItemDataRole.ForegroundRole)
_DECORATION = int(Qt.ItemDataRole.DecorationRole)
_FONT = int(Qt.ItemDataRole.FontRole)
_ALIGN = int(Qt.ItemDataRole.TextAlignmentRole)
_ACCESSIBLE = int(Qt.ItemDataRole.AccessibleTextRole)
_TOOLTIP = int(Qt.ItemDataRole.ToolTipRole)
_PATIENT_ID = int(PatientIdRole)
_ROW = int(RowRole)
_RIGHT = int(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter)
RIGHT_ALIGNED = frozenset({Col.TASKS})
# What the header shows: long labels on two lines, so no header is cut to "Co…" at 1366 px.
HEADERS = tuple(
    {
        Col.NHS: "NHS\nnumber",
        Col.AGE: "Born (age)",
        Col.LAST_CONTACT: "Last\ncontact",
        Col.NEXT_REVIEW: "Review\ndue",
        Col.PLAN: "Care\nplan",
    }.get(col, label)
    for col, (_key, label) in enumerate(COLUMNS)
)
DESCRIPTIONS = tuple(
    {Col.AGE: "Date of birth (age)"}.get(col, text) for col, text in enumerate(COLUMN_DESCRIPTIONS)
)
_TITLES = frozenset({"dr", "mr", "mrs", "ms", "miss", "mx", "prof", "professor", "sister"})


def short_name(full: str) -> str:
    """A colleague's name in a narrow column: "Femi Fairbank" -> "F Fairbank" (the family name
    tells leads apart, where "Femi…" did not); a title stays: "Dr P Ramanathan"."""
    parts = full.split()
    title = [parts.pop(0)] if len(parts) > 2 and parts[0].rstrip(".").lower() in _TITLES else []
    if len(parts) < 2:
        return full
    return " ".join([*title, *(p[0] for p in parts[:-1]), parts[-1]])


_ENABLED = Qt.ItemFlag.ItemIsEnabled | Qt.ItemFlag.ItemIsSelectable
_DISABLED = Qt.ItemFlag.NoItemFlags


# A screen reader says which review is overdue.
SPOKEN_ALERTS = {"review overdue": "care plan review overdue"}


@dataclass(frozen=True, slots=True)
class RenderedRow:
    """A row as the view shows it, computed once when the row is fetched."""

    row: CaseloadRow
    texts: tuple[str, ...]
    background: QBrush | None
    foreground: QBrush | None
    icon: QIcon | None
    bold: frozenset[int]


def _badge(colour: str, text: str) -> QIcon:
    pix = QPixmap(18, 18)
    pix.fill(Qt.GlobalColor.transparent)
    p = QPainter(pix)
    p.setRenderHint(QPainter.RenderHint.Antialiasing)
    p.setBrush(QColor(colour))
    p.setPen(Qt.PenStyle.NoPen)
    p.drawEllipse(1, 1, 16, 16)
    p.setPen(QColor("#ffffff"))
    font = QFont()
    font.setBold(True)
    font.setPixelSize(12)
    p.setFont(font)
    p.drawText(pix.rect(), Qt.AlignmentFlag.AlignCenter, text)
    p.end()
    return QIcon(pix)


_ICONS: dict[str, QIcon] = {}


def icon(kind: str) -> QIcon:
    """'overdue' (red !), 'high' (amber ▲) or 'escalated' (purple E); built once, lazily."""
    if not _ICONS:
        _ICONS["overdue"] = _badge("#d5281b", "!")
        _ICONS["high"] = _badge("#b35c00", "▲")
        _ICONS["escalated"] = _badge("#330072", "E")
    return _ICONS[kind]


def _fmt_date(d: date | None) -> str:
    return d.strftime("%d %b %y") if d else ""  # short: the table must fit at 1366 x 768


class CaseloadModel(QAbstractTableModel):
    """Signals: ``sort_requested(str, bool)`` (sort key, descending) when a header is clicked."""

    sort_requested = Signal(str, bool)

    def __init__(
        self,
        fetch: Callable[[Sequence[int]], dict[int, CaseloadRow]],
        today: Callable[[], date] = london_today,
        parent: Any = None,
    ) -> None:
        super().__init__(parent)
        self._fetch = fetch
        self._today = today
        self._keys: list[int] = []
        self._cache: dict[int, RenderedRow] = {}
        self._raw: dict[int, CaseloadRow] = {}
        self._day = today()
        self._overdue_bg = QBrush(OVERDUE_BG)
        self._high_bg = QBrush(HIGH_BG)
        self._discharged_fg = QBrush(DISCHARGED_FG)
        self._failed: set[int] = set()
        self._bold = QFont()
        self._bold.setBold(True)

    # --- contents -----------------------------------------------------------------------------

    def set_keys(self, keys: list[int], rows: dict[int, CaseloadRow] | None = None) -> None:
        """A new result; ``rows`` may carry the first rows, fetched with the keys."""
        self.beginResetModel()
        self._day = self._today()  # 'overdue' is judged against today's date
        self._keys = keys
        self._cache.clear()
        self._failed.clear()
        self._raw = dict(rows or {})  # rendered on first display
        self.endResetModel()

    def invalidate(self) -> None:
        """Forget rendered rows (after a change); keys stay until the next query."""
        self._cache.clear()
        self._raw.clear()
        self._failed.clear()
        if self._keys:
            self.dataChanged.emit(
                self.index(0, 0), self.index(len(self._keys) - 1, len(COLUMNS) - 1)
            )

    @property
    def keys(self) -> list[int]:
        return self._keys

    def rendered(self, row: int) -> RenderedRow | None:
        """The row as shown (fetching the rows around it first if needed); None if it failed."""
        if not 0 <= row < len(self._keys):
            return None
        key = self._keys[row]
        c = self._cache.get(key)
        if c is not None:
            return c
        raw = self._raw.pop(key, None)
        if raw is None:
            if key in self._failed:
                return None
            self._load_around(row)
            raw = self._raw.pop(key, None)
            if raw is None:
                return None
        c = self._cache[key] = self._render(raw)
        return c

    def row_at(self, row: int) -> CaseloadRow | None:
        if not 0 <= row < len(self._keys):
            return None
        found = self.rendered(row)
        return found.row if found is not None else None

    def row_of_key(self, key: int) -> int:
        try:
            return self._keys.index(key)
        except ValueError:
            return -1

    def _load_around(self, row: int) -> None:
        lo = max(0, row - BATCH_BEFORE)
        hi = min(len(self._keys), row + BATCH_AFTER)
        wanted = [k for k in self._keys[lo:hi] if k not in self._cache and k not in self._raw]
        if len(self._cache) + len(self._raw) + len(wanted) > CACHE_LIMIT:
            self._cache.clear()
            self._raw.clear()
        try:
            got = self._fetch(wanted)
        except Exception as exc:  # locked store, etc.: render the rows empty, never raise
            log.warning("caseload rows could not be fetched: %s", type(exc).__name__)
            got = {}
        self._raw.update(got)  # rendered when first displayed
        self._failed.update(k for k in wanted if k not in got)

    # --- Qt model API -------------------------------------------------------------------------

    def rowCount(self, parent: Index = QModelIndex()) -> int:  # noqa: N802, B008
        return 0 if parent.isValid() else len(self._keys)

    def columnCount(self, parent: Index = QModelIndex()) -> int:  # noqa: N802, B008
        return 0 if parent.isValid() else len(COLUMNS)

    def headerData(  # noqa: N802
        self, section: int, orientation: Qt.Orientation, role: int = Qt.ItemDataRole.DisplayRole
    ) -> Any:
        if orientation == Qt.Orientation.Horizontal and 0 <= section < len(COLUMNS):
            if role == Qt.ItemDataRole.DisplayRole:
                return HEADERS[section]
            if role == Qt.ItemDataRole.ToolTipRole:
                return f"{DESCRIPTIONS[section]} (click to sort)"
            if role == Qt.ItemDataRole.AccessibleTextRole:
                return DESCRIPTIONS[section]
        if orientation == Qt.Orientation.Vertical and role == Qt.ItemDataRole.DisplayRole:
            return section + 1
        return None

    def flags(self, index: Index) -> Qt.ItemFlag:
        row = index.row()
        if row < 0 or row >= len(self._keys):
            return _DISABLED
        if self._failed and self._keys[row] in self._failed:
            return _DISABLED  # a row that failed to load renders disabled
        return _ENABLED

    def sort(self, column: int, order: Qt.SortOrder = Qt.SortOrder.AscendingOrder) -> None:
        if 0 <= column < len(SORT_KEYS):
            self.sort_requested.emit(SORT_KEYS[column], order == Qt.SortOrder.DescendingOrder)

    def data(self, index: Index, role: int = _DISPLAY) -> Any:
        # The view paints through CaseloadDelegate (one lookup per cell, not one call per role);
        # data() serves accessibility, tooltips, selection code and tests.
        row = index.row()
        if row < 0 or row >= len(self._keys):
            return None
        role = int(role)
        c = self._cache.get(self._keys[row]) or self.rendered(row)
        if c is None:
            return "…" if role == _DISPLAY and index.column() == 0 else None
        col = index.column()
        if role == _DISPLAY:
            return c.texts[col]
        if role == _BACKGROUND:
            return c.background
        if role == _FOREGROUND:
            return c.foreground
        if role == _DECORATION:
            return c.icon if col == 0 else None
        if role == _FONT:
            return self._bold if col in c.bold else None
        if role == _ALIGN:
            return _RIGHT if col in RIGHT_ALIGNED else None
        if role == _ACCESSIBLE:
            return self._accessible(c.row, col, self._day)
        if role == _TOOLTIP:
            return self._tooltip(c.row, col, self._day)
        if role == _PATIENT_ID:
            return c.row.patient_id
        if role == _ROW:
            return c.row
        return None

    def _render(self, r: CaseloadRow) -> RenderedRow:
        today = self._day
        overdue = r.review_overdue(today) or r.tasks_overdue(today)
        high = r.priority.value == "high"
        bold = set()
        if high:
            bold.add(Col.PRIORITY)
        if r.review_overdue(today):
            bold.add(Col.NEXT_REVIEW)
        if overdue:
            badge = icon("overdue")
        elif high:
            badge = icon("high")
        elif r.open_escalations:
            badge = icon("escalated")
        else:
            badge = None
        return RenderedRow(
            row=r,
            texts=tuple(self._text(r, col, today) for col in range(len(COLUMNS))),
            background=self._overdue_bg if overdue else (self._high_bg if high else None),
            foreground=None if r.active else self._discharged_fg,
            icon=badge,
            bold=frozenset(bold),
        )

    @staticmethod
    def _text(r: CaseloadRow, col: int, today: date) -> str:
        if col == Col.NAME:
            return r.display_name
        if col == Col.NHS:
            return r.nhs_display
        if col == Col.AGE:
            return f"{r.date_of_birth:%d %b %Y} ({r.age(today)})"
        if col == Col.COHORTS:
            if not r.active and r.discharged_on:
                return f"{r.cohorts} (discharged {_fmt_date(r.discharged_on)})"
            return r.cohorts
        if col == Col.PRIORITY:
            return {"high": "▲ High", "medium": "Medium", "low": "Low"}[r.priority.value]
        if col == Col.LEAD:
            return short_name(r.lead_name) if r.lead_name else "Not named"
        if col == Col.LAST_CONTACT:
            return _fmt_date(london_date(r.last_contact)) if r.last_contact else "None yet"
        if col == Col.NEXT_REVIEW:
            if r.review_overdue(today):  # "!" here; the Care plan column says it in words
                return f"! {_fmt_date(r.next_review)}"
            return _fmt_date(r.next_review)
        if col == Col.PLAN:  # "Overdue": the review date beside it says since when
            return "Overdue" if r.review_overdue(today) else r.plan_label(today)
        if col == Col.TASKS:
            if r.tasks_overdue(today):
                late = max(r.overdue_tasks, 1)
                return f"{late} late" if late >= r.open_tasks else f"{r.open_tasks} ({late} late)"
            return str(r.open_tasks) if r.open_tasks else ""
        if col == Col.FLAGS:
            return r.flag_labels()
        return ""

    def _accessible(self, r: CaseloadRow, col: int, today: date) -> str:
        text = self._text(r, col, today).lstrip("!▲ ")
        if col == Col.AGE:
            text = f"{r.date_of_birth:%d %B %Y}, aged {r.age(today)}"
        elif col == Col.LEAD and r.lead_name:
            text = r.lead_name
        elif col == Col.PLAN and r.review_overdue(today):
            text = "review overdue"
        elif col == Col.TASKS and r.tasks_overdue(today):
            late = max(r.overdue_tasks, 1)
            return f"Open tasks: {r.open_tasks}, {late} overdue"
        if col == Col.NAME:
            notes = [SPOKEN_ALERTS.get(a, a) for a in r.alerts(today)]
            if r.open_escalations:
                notes.append("open escalation")
            return f"{text}, {', '.join(notes)}" if notes else text
        if col == Col.NEXT_REVIEW and r.review_overdue(today):
            text += ", overdue"
        return f"{DESCRIPTIONS[col]}: {text or 'none'}"

    @staticmethod
    def _tooltip(r: CaseloadRow, col: int, today: date) -> str | None:
        notes = []
        if col == Col.LEAD and r.lead_name:
            notes.append(f"Named lead professional: {r.lead_name}")
        if r.priority.value == "high":
            notes.append("High priority")
        if r.review_overdue(today):
            notes.append(f"Care plan review overdue since {_fmt_date(r.next_review)}")
        if r.tasks_overdue(today):
            late = max(r.overdue_tasks, 1)
            notes.append(
                f"{late} of {r.open_tasks} open tasks overdue (the oldest due "
                f"{_fmt_date(r.next_task_due)})"
                if r.open_tasks > 1
                else f"The open task was due {_fmt_date(r.next_task_due)}: overdue"
            )
        if r.open_escalations:
            n = r.open_escalations
            notes.append(f"{n} open escalation{'s' if n != 1 else ''}")
        if not r.active and r.discharged_on:
            notes.append(f"Discharged {_fmt_date(r.discharged_on)}")
        return "\n".join(notes) or None
