"""The scorecard as a PDF: per measure its icons, the SPC chart (vector) and its table beside it,
then the breakdown; aggregate figures only, never a person.

    data = render_scorecard(card, printed_by="Dana Carrow (Care coordinator)", printed_at=now)
"""

from __future__ import annotations

from datetime import datetime

from reportlab.lib.units import mm
from reportlab.platypus import Flowable, KeepTogether, Spacer, Table, TableStyle

from int_desk.domain import scorecard as sc
from int_desk.domain.scorecard import MeasureResult, Scorecard
from int_desk.domain.spc import RULE_LABELS
from int_desk.reports import pdf_base as pdf
from int_desk.reports import spc_chart

CHART_SHARE = 0.62
TABLE_ROWS = 26  # beside the chart: the latest periods (the CSV has every one)
CHART_HEIGHT = 58 * mm
ICON_SIZE = 8 * mm
SUPPRESSED = "*"


def cell_text(measure: sc.Measure, cell: sc.Cell) -> str:
    return SUPPRESSED if cell.suppressed else measure.fmt(cell.value)


def count_text(value: float | None, cell: sc.Cell, decimals: int = 0) -> str:
    if cell.suppressed:
        return SUPPRESSED
    if value is None:
        return "-"
    return f"{value:,.{decimals}f}"


def tooltips(mr: MeasureResult, periods: list[sc.Period]) -> list[str]:
    """What a point says when pointed at (the window) - the same facts as the table."""
    m = mr.measure
    out = []
    for period, cell, point in zip(periods, mr.overall.series, mr.chart.points, strict=True):
        if cell.suppressed:
            out.append(f"{period.label}: fewer than {sc.SUPPRESS_BELOW} (suppressed)")
            continue
        lines = [
            f"{period.label}{'' if period.complete else ' (so far)'}: {m.fmt_with_unit(cell.value)}"
        ]
        lines.append(_fraction(mr, cell))
        if point.mean is not None:
            lines.append(
                f"Mean {m.fmt(point.mean)}, process limits {m.fmt(point.lower)} to {m.fmt(point.upper)}"
            )
        for rule in sorted(point.flags):
            lines.append(f"Special cause: {spc_rule_label(rule)}")
        out.append("\n".join(lines))
    return out


def spc_rule_label(rule: str) -> str:
    return RULE_LABELS.get(rule, rule)


def _fraction(mr: MeasureResult, cell: sc.Cell) -> str:
    m = mr.measure
    if m.key == "escalation_days":
        return f"{count_text(cell.denominator, cell)} {m.denominator}"
    decimals = 1 if m.key in ("emergency_admissions", "people_discussed") else 0
    return (
        f"{count_text(cell.numerator, cell)} {m.numerator} / "
        f"{count_text(cell.denominator, cell, decimals)} {m.denominator}"
    )


def chart_data(mr: MeasureResult, periods: list[sc.Period]) -> spc_chart.ChartData:
    return spc_chart.ChartData(
        title=mr.measure.title,
        labels=[_short_label(p) for p in periods],
        values=[c.value for c in mr.overall.series],
        chart=mr.chart,
        fmt=mr.measure.fmt,
        tooltips=tooltips(mr, periods),
    )


def _short_label(p: sc.Period) -> str:
    return f"{p.key:%b %y}" if p.grain is sc.Grain.MONTH else f"{p.key.day} {p.key:%b}"


def headline(mr: MeasureResult) -> str:
    m = mr.measure
    total = mr.overall.total
    when = "on the last day" if m.snapshot else "over the period"
    text = f"{cell_text(m, total)}{'' if m.unit == '%' else ' ' + m.unit} {when}"
    if mr.target is not None:
        text += f"; target {m.fmt_with_unit(mr.target)}"
    return text


def _series_table(mr: MeasureResult, periods: list[sc.Period], width: float) -> Table:
    m = mr.measure
    head = ["Period", "Value", "Num.", "Den."] if m.key != "escalation_days" else [
        "Period", "Median", "", "Resolved"]  # fmt: skip
    rows = []
    first = max(0, len(periods) - TABLE_ROWS)
    for i in range(first, len(periods)):
        p, cell = periods[i], mr.overall.series[i]
        flag = " ◆" if mr.chart.points[i].special else ""
        num = "" if m.key == "escalation_days" else count_text(cell.numerator, cell)
        dec = 1 if m.key in ("emergency_admissions", "people_discussed") else 0
        rows.append([_short_label(p) + ("*" if not p.complete else ""), cell_text(m, cell) + flag,
                     num, count_text(cell.denominator, cell, dec)])  # fmt: skip
    table = Table([head, *rows], colWidths=[width * f for f in (0.3, 0.26, 0.2, 0.24)],
                  repeatRows=1)  # fmt: skip
    table.setStyle(
        TableStyle(
            [
                ("FONTNAME", (0, 0), (-1, -1), pdf.FONT),
                ("FONTNAME", (0, 0), (-1, 0), pdf.FONT_BOLD),
                ("FONTSIZE", (0, 0), (-1, -1), 6.4),
                ("LEADING", (0, 0), (-1, -1), 7.4),
                ("ALIGN", (1, 0), (-1, -1), "RIGHT"),
                ("TOPPADDING", (0, 0), (-1, -1), 0.6),
                ("BOTTOMPADDING", (0, 0), (-1, -1), 0.6),
                ("LEFTPADDING", (0, 0), (-1, -1), 2),
                ("RIGHTPADDING", (0, 0), (-1, -1), 2),
                ("LINEBELOW", (0, 0), (-1, 0), 0.6, pdf.ACCENT),
                ("BACKGROUND", (0, 0), (-1, 0), pdf.HEAD_FILL),
            ]
        )
    )
    return table


def _icons_row(mr: MeasureResult) -> Table:
    st = pdf.styles()
    cells: list[object] = []
    for icon in spc_chart.icons(mr.chart):
        cells.append(spc_chart.icon_drawing(icon, ICON_SIZE, font_bold=pdf.FONT_BOLD))
        cells.append(pdf.para(icon.label, st.small))
    cells.append(pdf.para(headline(mr), st.cell_bold))
    n_icons = (len(cells) - 1) // 2
    widths = [ICON_SIZE + 2 * mm, 38 * mm] * n_icons
    widths.append(pdf.CONTENT_WIDTH - sum(widths))
    table = Table([cells], colWidths=widths, hAlign="LEFT")
    table.setStyle(
        TableStyle(
            [
                ("VALIGN", (0, 0), (-1, -1), "MIDDLE"),
                ("LEFTPADDING", (0, 0), (-1, -1), 0),
                ("RIGHTPADDING", (0, 0), (-1, -1), 3),
                ("TOPPADDING", (0, 0), (-1, -1), 0),
                ("BOTTOMPADDING", (0, 0), (-1, -1), 1),
            ]
        )
    )
    return table


def _breakdown_table(card: Scorecard) -> list[Flowable]:
    if card.query.by is None or not card.measures or not card.measures[0].groups:
        return []
    labels = [g.label for g in card.measures[0].groups]
    header = [card.query.by.label, *[mr.measure.short for mr in card.measures]]
    rows = [["All", *[cell_text(mr.measure, mr.overall.total) for mr in card.measures]]]
    for i, label in enumerate(labels):
        rows.append([label, *[cell_text(mr.measure, mr.groups[i].total) for mr in card.measures]])
    widths = [34.0] + [20.0] * len(card.measures)
    return pdf.section(
        f"By {card.query.by.label.lower()} (whole period; care plans on the last day)",
        [pdf.data_table(header, rows, widths)],
    )


def render_scorecard(card: Scorecard, *, printed_by: str, printed_at: datetime) -> bytes:
    pdf.register_fonts()
    st = pdf.styles()
    first, last = card.periods[0], card.periods[-1]
    fields = [
        ("Period", f"{pdf.fmt_date(first.start)} to {pdf.fmt_date(last.end)}"),
        ("By", "week" if card.query.grain is sc.Grain.WEEK else "month"),
        ("Cohorts", ", ".join(card.cohort_names) or "all"),
        ("People now", f"{card.people_now:,}"),
    ]
    if card.query.by is not None:
        fields.append(("Breakdown", card.query.by.label))
    if card.query.rebase_from is not None:
        fields.append(("Limits re-based from", pdf.fmt_date(card.query.rebase_from)))
    furniture = pdf.PageFurniture(
        title="INT scorecard",
        primary=", ".join(card.team_names),
        printed_by=printed_by,
        printed_at=printed_at,
        fields=fields,
        subject="INT scorecard: care plans, admissions, huddle work (aggregate figures only)",
        sensitivity="OFFICIAL" if card.suppressed else "OFFICIAL-SENSITIVE",
        footer_note="Aggregate figures only. Definitions: docs/scorecard.md",
        keywords="INT scorecard, SPC, Making Data Count",
    )
    story: list[Flowable] = []
    intro = (
        "Each chart is an XmR chart (NHS England, Making Data Count): the line joins the values, "
        "the solid line is the mean, dashed lines the process limits (mean ± 2.66 × the mean "
        "moving range), and the red dash-dot line the target. Coloured points are special "
        "causes (blue improvement, orange concern, purple neither); ◆ marks them in the tables; "
        "* after a period: so far."
    )
    story.append(pdf.para(intro, st.small))
    for note in card.notes:
        story.append(pdf.para(note, st.small))
    chart_w = pdf.CONTENT_WIDTH * CHART_SHARE
    table_w = pdf.CONTENT_WIDTH - chart_w - 4 * mm
    for mr in card.measures:
        data = chart_data(mr, card.periods)
        chart = spc_chart.drawing(data, chart_w, CHART_HEIGHT, font=pdf.FONT,
                                  font_bold=pdf.FONT_BOLD)  # fmt: skip
        side = Table([[chart, _series_table(mr, card.periods, table_w)]],
                     colWidths=[chart_w + 4 * mm, table_w])  # fmt: skip
        side.setStyle(
            TableStyle(
                [
                    ("VALIGN", (0, 0), (-1, -1), "TOP"),
                    ("LEFTPADDING", (0, 0), (-1, -1), 0),
                    ("RIGHTPADDING", (0, 0), (-1, -1), 0),
                ]
            )
        )
        notes = [pdf.para(n, st.small) for n in mr.chart.notes()]
        block: list[Flowable] = [
            pdf.para(mr.measure.title, st.h2),
            _icons_row(mr),
            Spacer(1, 1.5 * mm),
            side,
            *notes,
            Spacer(1, 3 * mm),
        ]
        story.append(KeepTogether(block))
    story.extend(_breakdown_table(card))
    return pdf.render(story, furniture)
