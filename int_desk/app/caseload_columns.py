"""Default widths of the caseload columns, measured in the table's font.

Each column has three widths, measured from sample text: *floor* (as narrow as it may be
squeezed: long text is elided, with the whole of it in the tooltip), *least* (its usual content
fits) and *comfortable* (long content fits too). No column is ever narrower than its header
(long headers are on two lines, see caseload_model.HEADERS), and the columns that identify a
person (name, NHS number, date of birth) and fixed-format ones (dates, priority, tasks) are
never squeezed: a person must never be told apart by a cut-off name. At 1366 x 768 the least
widths fit the table beside the record pane; a wider table grows the columns in ``GROW_ORDER``
to comfortable, then the name column up to ``NAME_MAX``, and the last column (Flags) stretches
into what is left. A narrower one squeezes Flags, Cohort, Lead and Care plan towards their
floors, and past that the table scrolls sideways rather than cut a name.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence

from int_desk.services.caseload import COLUMNS, Col

Measure = Callable[[str, bool], float]  # (text, bold) -> width in pixels

MARGIN = 3  # text padding either side of a cell (the delegate's)
ICON = 16  # the name column's badge
NAME_MAX = 260
_MONTHS = ("Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec")

C = Col
# column: (floor text, least text, comfortable text, bold); None floor = never squeezed.
# The name's least width holds a long family name with a long given name (most names fit);
# the date of birth shows with the age ("15 Apr 1944 (82)"), the lead as "F Fairbank".
SAMPLES: dict[int, tuple[str | None, str, str, bool]] = {
    C.NAME: (None, "KOWALCZYK, Margaret", "Ó'BRIEN-ŁUKASZ, Małgorzata", False),
    C.NHS: (None, "999 999 9999", "999 999 9999", False),
    C.AGE: (None, "{date4} (100)", "{date4} (100)", False),
    C.COHORTS: ("Frail…", "Frailty", "Frailty, Multimorbidity", False),
    C.PRIORITY: (None, "Medium", "Medium", False),  # wider than a bold "▲ High"
    C.LEAD: ("A Ash…", "A Ashdown", "Dr P Ramanathan", False),
    C.LAST_CONTACT: (None, "{date}", "None yet", False),
    C.NEXT_REVIEW: (None, "! {bold date}", "! {bold date}", True),
    C.PLAN: (None, "Overdue", "Overdue", False),
    C.TASKS: (None, "9 (9 late)", "99 (99 late)", False),
    C.FLAGS: ("Lives…", "Lives alone", "Lives alone, Safeguarding", False),
}
HEADER_PADDING = 8  # style.qss: QHeaderView::section { padding: 4px }
SORT_ARROW = 14  # the sorted column's header draws its arrow beside the label
# When the least widths do not fit, these give way first (long text, elided with a tooltip).
SQUEEZE_ORDER = (C.FLAGS, C.COHORTS, C.LEAD)
GROW_ORDER = (C.NAME, C.LEAD, C.COHORTS, C.FLAGS)


def column_limits(
    measure: Measure,
    headers: Sequence[str],
    sorted_column: int = -1,
    names: Sequence[str] = (),
) -> list[tuple[int, int, int]]:
    """(floor, least, comfortable) width of every column in the measured font; ``headers``
    are the labels the header shows (a long one on two lines), ``sorted_column`` the one
    with the sort arrow, ``names`` the longest names on the caseload (the name column's least
    width shows them in full, up to ``NAME_MAX``)."""
    dates = {bold: max(measure(f"28 {m} 26", bold) for m in _MONTHS) for bold in (False, True)}
    year_dates = max(measure(f"28 {m} 1944", False) for m in _MONTHS)
    fields = {"{date}": dates[False], "{bold date}": dates[True], "{date4}": year_dates}

    def width(text: str, bold: bool, col: int) -> int:
        pixels = measure(text, bold) if "{" not in text else 0.0
        for name, advance in fields.items():
            if name in text:
                pixels = measure(text.replace(name, ""), bold) + advance
        extra = ICON + MARGIN if col == C.NAME else 0
        return math.ceil(pixels) + 2 * MARGIN + 1 + extra  # +1: elision is decided in floats

    out = []
    for col in range(len(COLUMNS)):
        floor_text, least_text, comfortable_text, bold = SAMPLES[col]
        header = max(measure(line, True) for line in headers[col].split("\n"))
        header_width = math.ceil(header) + HEADER_PADDING + 1  # a header is never cut to "Co…"
        if col == sorted_column:
            header_width += SORT_ARROW
        least = max(width(least_text, bold, col), header_width)
        if col == C.NAME and names:
            least = max(least, min(NAME_MAX, max(width(n, False, col) for n in names)))
        comfortable = max(least, width(comfortable_text, bold, col))
        floor = least if floor_text is None else max(header_width, width(floor_text, bold, col))
        out.append((min(floor, least), least, comfortable))
    return out


def default_column_widths(
    available: int,
    measure: Measure,
    headers: Sequence[str],
    hidden: frozenset[int] = frozenset(),
    sorted_column: int = -1,
    names: Sequence[str] = (),
) -> list[int]:
    """Widths for a table ``available`` pixels wide; hidden columns keep their least width."""
    limits = column_limits(measure, headers, sorted_column, names)
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
