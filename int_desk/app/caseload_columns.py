"""Default widths of the caseload columns, measured in the table's font.

Each column has three widths, measured from sample text: *floor* (as narrow as it may be
squeezed: long text is elided, with the whole of it in the tooltip), *least* (its usual content
fits) and *comfortable* (long content fits too). At 1366 x 768 the least widths fit the table
beside the record pane; a wider table grows the columns in ``GROW_ORDER`` to comfortable, then
the name column up to ``NAME_MAX``, and the last column (Flags) stretches into what is left. A
narrower one squeezes the elidable columns (Flags, Lead, Cohort, then Name and Care plan) towards
their floors. Fixed-format columns (NHS number, age, dates, priority) are never squeezed.
"""

from __future__ import annotations

import math
from collections.abc import Callable

from int_desk.services.caseload import COLUMNS, Col

Measure = Callable[[str, bool], float]  # (text, bold) -> width in pixels

MARGIN = 3  # text padding either side of a cell (the delegate's)
ICON = 16  # the name column's badge
NAME_MAX = 260
_MONTHS = ("Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec")

C = Col
# column: (floor text, least text, comfortable text, bold); None floor = never squeezed
SAMPLES: dict[int, tuple[str | None, str, str, bool]] = {
    C.NAME: ("SMITH, Mar", "SMITH, Margaret", "O'SULLIVAN, Christopher", False),
    C.NHS: (None, "999 999 9999", "999 999 9999", False),
    C.AGE: (None, "100", "100", False),
    C.COHORTS: ("Frail…", "Frailty", "Frailty, Multimorbidity", False),
    C.PRIORITY: (None, "Medium", "Medium", False),  # wider than a bold "▲ High"
    C.LEAD: ("Dr P…", "Not named", "Dr Priya Ramanathan", False),
    C.LAST_CONTACT: (None, "{date}", "None yet", False),
    C.NEXT_REVIEW: (None, "! {bold date}", "! {bold date}", True),
    C.PLAN: ("Review…", "Review overdue", "Review overdue", False),
    C.TASKS: (None, "! 99", "! 99", True),
    C.FLAGS: ("Lives…", "Lives alone", "Lives alone, Safeguarding", False),
}
HEADER_FITS = frozenset({C.NHS, C.AGE, C.PRIORITY, C.TASKS})  # short labels: never cut to "A…"
HEADER_PADDING = 8  # style.qss: QHeaderView::section { padding: 4px }
# When the least widths do not fit, these give way first (long text, elided with a tooltip).
SQUEEZE_ORDER = (C.FLAGS, C.LEAD, C.COHORTS, C.NAME, C.PLAN)
GROW_ORDER = (C.NAME, C.LEAD, C.COHORTS, C.FLAGS)


def column_limits(measure: Measure) -> list[tuple[int, int, int]]:
    """(floor, least, comfortable) width of every column in the measured font."""
    dates = {bold: max(measure(f"28 {m} 26", bold) for m in _MONTHS) for bold in (False, True)}

    def width(text: str, bold: bool, col: int) -> int:
        pixels = measure(text.replace("{date}", "").replace("{bold date}", ""), bold)
        pixels += dates[False] if "{date}" in text else dates[True] if "{bold date}" in text else 0
        extra = ICON + MARGIN if col == C.NAME else 0
        return math.ceil(pixels) + 2 * MARGIN + 1 + extra  # +1: elision is decided in floats

    out = []
    for col, (_key, label) in enumerate(COLUMNS):
        floor_text, least_text, comfortable_text, bold = SAMPLES[col]
        least = width(least_text, bold, col)
        if col in HEADER_FITS:
            least = max(least, math.ceil(measure(label, True)) + HEADER_PADDING + 1)
        comfortable = max(least, width(comfortable_text, bold, col))
        floor = least if floor_text is None else min(least, width(floor_text, bold, col))
        out.append((floor, least, comfortable))
    return out


def default_column_widths(
    available: int, measure: Measure, hidden: frozenset[int] = frozenset()
) -> list[int]:
    """Widths for a table ``available`` pixels wide; hidden columns keep their least width."""
    limits = column_limits(measure)
    widths = [least for _floor, least, _comfortable in limits]
    shown = [c for c in range(len(widths)) if c not in hidden]
    spare = available - sum(widths[c] for c in shown)
    if spare < 0:  # squeeze the elidable columns, in SQUEEZE_ORDER, towards their floors
        for col in SQUEEZE_ORDER:
            if col in hidden or spare >= 0:
                continue
            take = min(-spare, widths[col] - limits[col][0])
            widths[col] -= take
            spare += take
        return widths
    for col in GROW_ORDER:
        if col in hidden:
            continue
        add = min(spare, limits[col][2] - widths[col])
        widths[col] += add
        spare -= add
    if C.NAME not in hidden:
        widths[C.NAME] += max(0, min(spare, NAME_MAX - widths[C.NAME]))
    return widths
