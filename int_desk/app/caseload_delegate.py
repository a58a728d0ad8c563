"""Paints caseload cells straight from the model's rendered rows.

QStyledItemDelegate asks the model for seven roles per cell (seven Python calls) and lays the
text out afresh every paint; with ~250 visible cells that was most of a search keystroke's
time. This delegate makes one lookup per cell (the row rendered when it was fetched) and draws
pre-elided QStaticText, cached by text and width, so a repaint is a few milliseconds.

It draws what the style did: the row background (or the selection), the name column's badge,
bold where the model says bold, right-aligned numbers, discharged rows in grey, disabled text
for a row that failed to load, and the focus frame on the current cell. Tooltips, accessible
text and column sizing still come from the model's roles (QStyledItemDelegate's own code),
except that a cell whose text is elided shows the whole text in its tooltip.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from PySide6.QtCore import QEvent, QModelIndex, QObject, QPersistentModelIndex, Qt
from PySide6.QtGui import (
    QBrush,
    QColor,
    QFont,
    QFontMetrics,
    QHelpEvent,
    QPainter,
    QPalette,
    QStaticText,
)
from PySide6.QtWidgets import (
    QAbstractItemView,
    QStyle,
    QStyledItemDelegate,
    QStyleOptionFocusRect,
    QToolTip,
    QWidget,
)

from int_desk.app import colours
from int_desk.app.caseload_columns import ICON, MARGIN
from int_desk.app.caseload_model import RIGHT_ALIGNED, CaseloadModel
from int_desk.services.caseload import Col

TEXT_ON_TINT = QColor(colours.TEXT_ON_TINT)  # dark text on the pale overdue / high-priority tints
MUTED_ON_TINT = QColor(colours.MUTED_ON_TINT)
STATIC_TEXT_LIMIT = 4000  # cached laid-out strings (a few screens' worth)

_SELECTED = QStyle.StateFlag.State_Selected.value
_ENABLED = QStyle.StateFlag.State_Enabled.value
_ACTIVE = QStyle.StateFlag.State_Active.value
_FOCUS = QStyle.StateFlag.State_HasFocus.value
_ACTIVE_GROUP, _INACTIVE, _DISABLED = 0, 1, 2
_GROUPS = {
    _ACTIVE_GROUP: QPalette.ColorGroup.Active,
    _INACTIVE: QPalette.ColorGroup.Inactive,
    _DISABLED: QPalette.ColorGroup.Disabled,
}
_LOOK_EVENTS = frozenset(
    {QEvent.Type.FontChange, QEvent.Type.PaletteChange, QEvent.Type.StyleChange}
)
_ELIDE = Qt.TextElideMode.ElideRight
_PLAIN = Qt.TextFormat.PlainText


class CaseloadDelegate(QStyledItemDelegate):
    def __init__(self, model: CaseloadModel, view: QWidget) -> None:
        super().__init__(view)
        self._model = model
        self._view = view
        self._texts: dict[tuple[str, int, bool], QStaticText] = {}
        self._look: _Look | None = None  # fonts and colours, until the view's change
        view.installEventFilter(self)

    def eventFilter(self, watched: QObject, event: QEvent) -> bool:  # noqa: N802 - Qt override
        if event.type() in _LOOK_EVENTS:
            self._look = None  # font, palette (light/dark) or style changed: rebuild on paint
            self._texts.clear()
        return False

    def _static(self, text: str, width: int, bold: bool, metrics: QFontMetrics) -> QStaticText:
        key = (text, width, bold)
        found = self._texts.get(key)
        if found is None:
            if len(self._texts) >= STATIC_TEXT_LIMIT:
                self._texts.clear()
            found = QStaticText(metrics.elidedText(text, _ELIDE, width))
            found.setTextFormat(_PLAIN)
            self._texts[key] = found
        return found

    def paint(
        self, painter: QPainter, option: Any, index: QModelIndex | QPersistentModelIndex
    ) -> None:
        # Hot path (~250 cells a repaint): plain ints and cached objects, one model lookup.
        look = self._look or self._make_look(option)
        row = index.row()
        col = index.column()
        c = self._model.rendered(row)
        x, y, w, h = option.rect.getRect()
        state = option.state.value
        group = (
            _DISABLED if not state & _ENABLED else (_ACTIVE_GROUP if state & _ACTIVE else _INACTIVE)
        )
        if state & _SELECTED:
            painter.fillRect(x, y, w, h, look.highlight[group])
            pen = look.highlighted_text[group]
        elif c is None:
            pen = look.text[group]
        elif c.background is not None:
            painter.fillRect(x, y, w, h, c.background)
            pen = TEXT_ON_TINT if c.foreground is None else MUTED_ON_TINT
        elif c.foreground is not None and group != _DISABLED:
            pen = look.muted  # a discharged person: grey that reads in light and dark
        else:
            pen = look.text[group]
        if c is None:
            text, bold = ("…" if col == 0 else ""), False
        else:
            text, bold = c.texts[col], col in c.bold
        left = x + MARGIN
        if col == Col.NAME and c is not None and c.icon is not None:
            c.icon.paint(painter, left, y + (h - ICON) // 2, ICON, ICON)
            left += ICON + MARGIN
        width = x + w - MARGIN - left
        if text and width > 0:
            metrics = look.bold_metrics if bold else look.metrics
            static = self._static(text, width, bold, metrics)
            if col in RIGHT_ALIGNED:
                left += width - int(static.size().width())
            painter.setFont(look.bold_font if bold else look.font)
            painter.setPen(pen)
            painter.drawStaticText(left, y + (h - metrics.height()) // 2, static)
        if state & _FOCUS:
            self._focus_frame(painter, option, state & _SELECTED, look, group)

    def full_text_if_elided(
        self, index: QModelIndex | QPersistentModelIndex, width: int
    ) -> str | None:
        """The cell's whole text when a cell ``width`` pixels wide cuts it short."""
        c = self._model.rendered(index.row())
        if c is None or self._look is None:
            return None
        col = index.column()
        text = c.texts[col]
        room = width - 2 * MARGIN - (ICON + MARGIN if col == Col.NAME and c.icon else 0)
        metrics = self._look.bold_metrics if col in c.bold else self._look.metrics
        return text if text and metrics.horizontalAdvance(text) > room else None

    def helpEvent(  # noqa: N802 - Qt override
        self,
        event: QHelpEvent,
        view: QAbstractItemView,
        option: Any,
        index: QModelIndex | QPersistentModelIndex,
    ) -> bool:
        if event.type() == QEvent.Type.ToolTip and index.isValid():
            full = self.full_text_if_elided(index, option.rect.width())
            if full is not None:  # an elided cell: its whole text, then the row's notes
                notes = index.data(Qt.ItemDataRole.ToolTipRole)
                QToolTip.showText(event.globalPos(), f"{full}\n{notes}" if notes else full, view)
                return True
        return super().helpEvent(event, view, option, index)

    def _make_look(self, option: Any) -> _Look:
        font = QFont(option.font)
        bold = QFont(font)
        bold.setBold(True)
        palette: QPalette = option.palette
        groups = (_ACTIVE_GROUP, _INACTIVE, _DISABLED)
        role = QPalette.ColorRole
        self._look = _Look(
            font=font,
            bold_font=bold,
            metrics=QFontMetrics(font),
            bold_metrics=QFontMetrics(bold),
            highlight={g: palette.brush(_GROUPS[g], role.Highlight) for g in groups},
            highlighted_text={g: palette.color(_GROUPS[g], role.HighlightedText) for g in groups},
            text={g: palette.color(_GROUPS[g], role.Text) for g in groups},
            base={g: palette.color(_GROUPS[g], role.Base) for g in groups},
            muted=colours.muted(palette),
        )
        return self._look

    def _focus_frame(
        self, painter: QPainter, option: Any, selected: int, look: _Look, group: int
    ) -> None:
        focus = QStyleOptionFocusRect()
        focus.initFrom(self._view)
        focus.rect = option.rect
        focus.state = option.state
        focus.backgroundColor = look.highlight[group].color() if selected else look.base[group]
        self._view.style().drawPrimitive(
            QStyle.PrimitiveElement.PE_FrameFocusRect, focus, painter, self._view
        )


@dataclass(frozen=True, slots=True)
class _Look:
    font: QFont
    bold_font: QFont
    metrics: QFontMetrics
    bold_metrics: QFontMetrics
    highlight: dict[int, QBrush]
    highlighted_text: dict[int, QColor]
    text: dict[int, QColor]
    base: dict[int, QColor]
    muted: QColor
