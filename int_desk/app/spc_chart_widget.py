"""An SPC chart painted with QPainter from the shared layout (int_desk/reports/spc_chart.py).

Pointing at a point shows its tooltip (the period, value, numerator and denominator, limits and
any special cause); the keyboard moves a highlighted point along the series with Left/Right and
announces it in the tooltip too, so the values are not for mouse users only.
"""

from __future__ import annotations

from PySide6.QtCore import QPoint, QPointF, QRectF, QSize, Qt
from PySide6.QtGui import (
    QColor,
    QFocusEvent,
    QFontMetricsF,
    QKeyEvent,
    QMouseEvent,
    QPainter,
    QPaintEvent,
    QPen,
    QPolygonF,
)
from PySide6.QtWidgets import QSizePolicy, QToolTip, QWidget

from int_desk.reports import spc_chart
from int_desk.reports.spc_chart import ChartData, ChartLayout


class SpcChartWidget(QWidget):
    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.data: ChartData | None = None
        self._layout: ChartLayout | None = None
        self.current: int | None = None  # keyboard-highlighted point (index into points)
        self.setMouseTracking(True)
        self.setFocusPolicy(Qt.FocusPolicy.StrongFocus)
        self.setAccessibleName("Chart: no values to draw yet")
        self.setMinimumSize(320, 190)
        self.setSizePolicy(QSizePolicy.Policy.Expanding, QSizePolicy.Policy.Preferred)

    def sizeHint(self) -> QSize:  # noqa: N802 - Qt's name
        return QSize(560, 230)

    def set_data(self, data: ChartData | None) -> None:
        self.data = data
        self._layout = None
        self.current = None
        if data is not None:
            c = data.chart
            self.setAccessibleName(f"Chart: {data.title}")
            self.setAccessibleDescription(
                f"{c.variation.label}. {c.assurance.label}. Use Left and Right to read each point."
            )
        else:  # Tab still stops here: say why it is empty
            self.setAccessibleName("Chart: no values to draw yet")
            self.setAccessibleDescription("")
        self.update()

    def chart_layout(self) -> ChartLayout | None:
        if self.data is None:
            return None
        if self._layout is None or (self._layout.width, self._layout.height) != (
            self.width(),
            self.height(),
        ):
            fm = QFontMetricsF(self.font())
            self._layout = spc_chart.layout(
                self.data,
                self.width(),
                self.height(),
                char_width=fm.averageCharWidth(),
                line_height=fm.height(),
            )
        return self._layout

    # --- painting -----------------------------------------------------------------------------

    def paintEvent(self, event: QPaintEvent) -> None:  # noqa: N802 - Qt's name
        lay = self.chart_layout()
        p = QPainter(self)
        p.setRenderHint(QPainter.RenderHint.Antialiasing)
        p.fillRect(self.rect(), self.palette().base())
        if lay is None:
            p.end()
            return
        fm = QFontMetricsF(self.font())
        muted = QColor(spc_chart.MUTED)
        p.setPen(QPen(QColor(spc_chart.GRID), 1))
        p.drawRect(QRectF(lay.left, lay.top, lay.right - lay.left, lay.bottom - lay.top))
        for y, label in lay.y_ticks:
            p.setPen(QPen(QColor(spc_chart.GRID), 1))
            p.drawLine(QPointF(lay.left, y), QPointF(lay.right, y))
            p.setPen(muted)
            w = fm.horizontalAdvance(label)
            p.drawText(QPointF(lay.left - w - 4, y + fm.ascent() / 2 - 1), label)
        for x, label in lay.x_ticks:
            p.setPen(muted)
            w = fm.horizontalAdvance(label)
            p.drawText(QPointF(x - w / 2, lay.bottom + fm.ascent() + 3), label)
        if lay.empty_text:
            p.setPen(muted)
            p.drawText(self.rect(), Qt.AlignmentFlag.AlignCenter, lay.empty_text)
            p.end()
            return
        dashed = QPen(QColor(spc_chart.LIMIT), 1.2, Qt.PenStyle.DashLine)
        for x1, x2, y in lay.limits:
            p.setPen(dashed)
            p.drawLine(QPointF(x1, y), QPointF(x2, y))
        p.setPen(QPen(QColor(spc_chart.INK), 1.3))
        for x1, x2, y in lay.means:
            p.drawLine(QPointF(x1, y), QPointF(x2, y))
        if lay.target is not None:
            p.setPen(QPen(QColor(spc_chart.TARGET), 1.4, Qt.PenStyle.DashDotLine))
            p.drawLine(QPointF(lay.left, lay.target), QPointF(lay.right, lay.target))
        p.setPen(QPen(QColor(spc_chart.LINE), 1.5))
        for run in lay.lines:
            p.drawPolyline(QPolygonF([QPointF(x, y) for x, y in run]))
        for n, pt in enumerate(lay.points):
            colour = QColor(pt.colour)
            p.setPen(QPen(colour, 1))
            p.setBrush(colour)
            r = 4.0 if pt.special else 3.0
            p.drawEllipse(QPointF(pt.x, pt.y), r, r)
            if n == self.current:
                p.setBrush(Qt.BrushStyle.NoBrush)
                p.setPen(QPen(self.palette().highlight().color(), 2))
                p.drawEllipse(QPointF(pt.x, pt.y), r + 4, r + 4)
        p.end()

    # --- values in tooltips -------------------------------------------------------------------

    def tooltip_at(self, pos: QPointF) -> str:
        lay = self.chart_layout()
        point = lay.nearest(pos.x(), pos.y()) if lay else None
        if point is None and lay is not None and lay.points:
            # Anywhere in a period's column of the plot reads that period.
            inside = lay.left <= pos.x() <= lay.right and lay.top <= pos.y() <= lay.bottom
            if inside:
                point = min(lay.points, key=lambda p: abs(p.x - pos.x()))
        return point.tooltip if point else ""

    def mouseMoveEvent(self, event: QMouseEvent) -> None:  # noqa: N802 - Qt's name
        text = self.tooltip_at(event.position())
        if text:
            QToolTip.showText(event.globalPosition().toPoint(), text, self)
        else:
            QToolTip.hideText()
        super().mouseMoveEvent(event)

    def keyPressEvent(self, event: QKeyEvent) -> None:  # noqa: N802 - Qt's name
        lay = self.chart_layout()
        if lay is None or not lay.points:
            super().keyPressEvent(event)
            return
        last = len(lay.points) - 1
        key = event.key()
        if key in (Qt.Key.Key_Left, Qt.Key.Key_Right, Qt.Key.Key_Home, Qt.Key.Key_End):
            cur = last if self.current is None else self.current
            cur = {
                Qt.Key.Key_Left: max(0, cur - 1),
                Qt.Key.Key_Right: min(last, cur + 1) if self.current is not None else last,
                Qt.Key.Key_Home: 0,
                Qt.Key.Key_End: last,
            }[Qt.Key(key)]
            self.current = cur
            pt = lay.points[cur]
            self.setAccessibleDescription(pt.tooltip)
            QToolTip.showText(self.mapToGlobal(QPoint(int(pt.x), int(pt.y))), pt.tooltip, self)
            self.update()
            return
        super().keyPressEvent(event)

    def focusOutEvent(self, event: QFocusEvent) -> None:  # noqa: N802 - Qt's name
        self.current = None
        self.update()
        super().focusOutEvent(event)
