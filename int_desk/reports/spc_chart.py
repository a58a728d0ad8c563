"""An SPC (XmR) chart as geometry, drawn twice: by Qt in the window, by reportlab in the PDF.

``layout`` turns a series and its ``XmrChart`` into lines, points, ticks and icons in a box of
the given size (origin top left, y down, as Qt paints). ``drawing`` renders that layout as a
reportlab ``Drawing`` - vector graphics in the PDF, not a picture of the screen. The window's
widget (int_desk/app/spc_chart_widget.py) paints the same layout with QPainter, so the two can
never disagree about what a chart shows.

Why not QtCharts: it lives in PySide6-Addons, a second Qt wheel of several hundred megabytes
(the pyside6 meta-package is 673 MB against 246 MB for Essentials alone) for one page of line
charts; and it would still need a second renderer for the PDF. Colours follow NHS England's
Making Data Count: grey common cause, blue improvement, orange concern, purple neither.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field

from reportlab.graphics.shapes import Circle, Drawing, Line, PolyLine, Rect, String
from reportlab.lib import colors

from int_desk.domain import spc

GREY = "#7f7f7f"
BLUE = "#289de0"  # improvement
ORANGE = "#e98a00"  # concern
PURPLE = "#7b2f8e"  # neither improvement nor concern
INK = "#1d2733"
MUTED = "#5c6670"
GRID = "#e3e7eb"
LIMIT = "#8a96a3"
TARGET = "#c8102e"
LINE = "#4c5966"

TONE_COLOURS = {
    "improving": BLUE,
    "concerning": ORANGE,
    "neither": PURPLE,
    "common": GREY,
    "none": "#c0c6cc",
}


@dataclass(frozen=True)
class ChartData:
    title: str
    labels: Sequence[str]  # one per period
    values: Sequence[float | None]
    chart: spc.XmrChart
    fmt: Callable[[float | None], str]  # a value as the axis and tooltips show it
    tooltips: Sequence[str] = ()  # per point; empty: label and value only


@dataclass(frozen=True)
class ChartPoint:
    index: int
    x: float
    y: float
    colour: str
    special: bool
    tooltip: str


@dataclass(frozen=True)
class Icon:
    kind: str  # "variation" or "assurance"
    colour: str
    letter: str  # "H", "L", "P", "F", "?" or "~"
    label: str


@dataclass
class ChartLayout:
    width: float
    height: float
    left: float
    top: float
    right: float
    bottom: float
    y_ticks: list[tuple[float, str]] = field(default_factory=list)
    x_ticks: list[tuple[float, str]] = field(default_factory=list)
    lines: list[list[tuple[float, float]]] = field(default_factory=list)  # the data, by gap
    means: list[tuple[float, float, float]] = field(default_factory=list)  # x1, x2, y
    limits: list[tuple[float, float, float]] = field(default_factory=list)
    target: float | None = None  # y of the target line
    points: list[ChartPoint] = field(default_factory=list)
    icons: list[Icon] = field(default_factory=list)
    empty_text: str = ""

    def nearest(self, x: float, y: float, radius: float = 12.0) -> ChartPoint | None:
        """The point under the pointer (for tooltips), if any is within ``radius``."""
        best = min(self.points, key=lambda p: (p.x - x) ** 2 + (p.y - y) ** 2, default=None)
        if best is None or math.hypot(best.x - x, best.y - y) > radius:
            return None
        return best


def _nice_step(span: float, ticks: int) -> float:
    raw = span / max(1, ticks)
    power = 10 ** math.floor(math.log10(raw)) if raw > 0 else 1
    for mult in (1, 2, 2.5, 5, 10):
        if raw <= mult * power:
            return mult * power
    return 10 * power


def point_colour(point: spc.SpcPoint, improvement: spc.Improvement) -> str:
    if not point.special:
        return GREY
    if improvement is spc.Improvement.NEITHER:
        return PURPLE
    good = (point.side == "H") == (improvement is spc.Improvement.UP)
    return BLUE if good else ORANGE


def icons(chart: spc.XmrChart) -> list[Icon]:
    v = chart.variation
    letter = v.side or ("~" if v is spc.Variation.COMMON_CAUSE else "")
    out = [Icon("variation", TONE_COLOURS[v.tone], letter, v.label)]
    a = chart.assurance
    if a is not spc.Assurance.NO_TARGET:
        colour = {"pass": BLUE, "fail": ORANGE}.get(a.value, GREY)
        letter = {"pass": "P", "fail": "F"}.get(a.value, "?")
        out.append(Icon("assurance", colour, letter, a.label))
    return out


def layout(
    data: ChartData,
    width: float,
    height: float,
    *,
    char_width: float = 6.0,
    line_height: float = 12.0,
) -> ChartLayout:
    """Place everything in a ``width`` x ``height`` box (y grows downwards)."""
    chart = data.chart
    values = [p.value for p in chart.points]
    present = [v for v in values if v is not None]
    extra = [
        y
        for p in chart.points
        for y in (p.mean, p.upper, p.lower)
        if y is not None and p.value is not None
    ]
    if chart.target is not None:
        extra.append(chart.target)
    y_label_width = char_width * 7
    lay = ChartLayout(width, height, y_label_width + 6, 6, width - 8, height - line_height - 8)
    lay.icons = icons(chart)
    if not present:
        lay.empty_text = "No data for this period and selection."
        return lay
    lo, hi = min(present + extra), max(present + extra)
    if hi == lo:
        hi, lo = hi + 1, max(0.0, lo - 1) if lo >= 0 else lo - 1
    step = _nice_step(hi - lo, max(2, int((lay.bottom - lay.top) / (line_height * 2.5))))
    lo = math.floor(lo / step) * step
    hi = math.ceil(hi / step) * step
    n = len(values)
    plot_w = lay.right - lay.left

    def x_of(i: int) -> float:
        return lay.left + (plot_w * (i + 0.5) / n if n else 0)

    def y_of(v: float) -> float:
        return lay.bottom - (v - lo) / (hi - lo) * (lay.bottom - lay.top)

    tick = lo
    while tick <= hi + step / 2:
        lay.y_ticks.append((y_of(tick), data.fmt(tick)))
        tick += step
    widest = max((len(label) for label in data.labels), default=1) * char_width + 8
    every = max(1, math.ceil(widest / max(1.0, plot_w / max(1, n))))
    lay.x_ticks = [(x_of(i), data.labels[i]) for i in range(0, n, every)]
    run: list[tuple[float, float]] = []
    for i, v in enumerate(values):
        if v is None:
            if run:
                lay.lines.append(run)
            run = []
            continue
        run.append((x_of(i), y_of(v)))
    if run:
        lay.lines.append(run)
    half = plot_w / max(1, n) / 2
    for seg in chart.segments:
        if seg.mean is None:
            continue
        x1, x2 = x_of(seg.start) - half, x_of(seg.end) + half
        lay.means.append((x1, x2, y_of(seg.mean)))
        for limit in (seg.upper, seg.lower):
            if limit is not None:
                lay.limits.append((x1, x2, y_of(limit)))
    if chart.target is not None:
        lay.target = y_of(chart.target)
    for p in chart.points:
        if p.value is None:
            continue
        tip = data.tooltips[p.index] if p.index < len(data.tooltips) else ""
        tip = tip or f"{data.labels[p.index]}: {data.fmt(p.value)}"
        lay.points.append(
            ChartPoint(
                p.index,
                x_of(p.index),
                y_of(p.value),
                point_colour(p, chart.improvement),
                p.special,
                tip,
            )
        )
    return lay


# --- reportlab --------------------------------------------------------------------------------


def drawing(data: ChartData, width: float, height: float, *, font: str, font_bold: str) -> Drawing:
    """The chart as a reportlab Drawing (points; vector graphics in the PDF)."""
    size = 7.0
    lay = layout(data, width, height, char_width=size * 0.55, line_height=size + 2)
    d = Drawing(width, height)

    def y(v: float) -> float:  # reportlab's y grows upwards
        return height - v

    c = colors.HexColor
    d.add(Rect(lay.left, y(lay.bottom), lay.right - lay.left, lay.bottom - lay.top,
               fillColor=None, strokeColor=c(GRID), strokeWidth=0.5))  # fmt: skip
    for ty, label in lay.y_ticks:
        d.add(Line(lay.left, y(ty), lay.right, y(ty), strokeColor=c(GRID), strokeWidth=0.4))
        d.add(String(lay.left - 3, y(ty) - size / 3, label, fontName=font, fontSize=size,
                     fillColor=c(MUTED), textAnchor="end"))  # fmt: skip
    for tx, label in lay.x_ticks:
        d.add(String(tx, y(lay.bottom) - size - 3, label, fontName=font, fontSize=size,
                     fillColor=c(MUTED), textAnchor="middle"))  # fmt: skip
    if lay.empty_text:
        d.add(String(width / 2, height / 2, lay.empty_text, fontName=font, fontSize=size + 1,
                     fillColor=c(MUTED), textAnchor="middle"))  # fmt: skip
        return d
    for x1, x2, ly in lay.limits:
        d.add(Line(x1, y(ly), x2, y(ly), strokeColor=c(LIMIT), strokeWidth=0.8,
                   strokeDashArray=[3, 2]))  # fmt: skip
    for x1, x2, my in lay.means:
        d.add(Line(x1, y(my), x2, y(my), strokeColor=c(INK), strokeWidth=0.8))
    if lay.target is not None:
        d.add(Line(lay.left, y(lay.target), lay.right, y(lay.target), strokeColor=c(TARGET),
                   strokeWidth=0.9, strokeDashArray=[6, 2, 1, 2]))  # fmt: skip
    for run in lay.lines:
        d.add(PolyLine([v for px, py in run for v in (px, y(py))], strokeColor=c(LINE),
                       strokeWidth=0.9))  # fmt: skip
    for p in lay.points:
        r = 2.4 if p.special else 1.9
        d.add(Circle(p.x, y(p.y), r, fillColor=c(p.colour), strokeColor=c(p.colour),
                     strokeWidth=0.3))  # fmt: skip
    return d


def icon_drawing(icon: Icon, size: float, *, font_bold: str) -> Drawing:
    """An MDC-style round icon: coloured ring with its letter (H, L, P, F, ? or ~)."""
    d = Drawing(size, size)
    colour = colors.HexColor(icon.colour)
    d.add(Circle(size / 2, size / 2, size / 2 - 1, fillColor=colors.white, strokeColor=colour,
                 strokeWidth=2))  # fmt: skip
    d.add(String(size / 2, size / 2 - size * 0.17, icon.letter, fontName=font_bold,
                 fontSize=size * 0.48, fillColor=colour, textAnchor="middle"))  # fmt: skip
    return d
