"""The shared PDF layer: A4 page furniture, fonts, styles, tables and atomic writing.

Every INT Desk document (care plan, carer copy, huddle agenda and minutes) is built the same way::

    from int_desk.reports import pdf_base as pdf

    furniture = pdf.PageFurniture(
        title="Huddle agenda",                       # metadata title and top-left of every page
        primary="Bicester INT",                      # large line in the header (a name, a team)
        fields=(("Date", "22 Nov 2026"), ("Chair", "Dana Carrow")),   # label/value pairs
        printed_by="Dana Carrow (Care coordinator)",
        printed_at=datetime.now(UTC),
    )
    st = pdf.styles()
    story = [*pdf.section("Patients to discuss", [pdf.data_table(["#", "Name"], rows, [10, 60])])]
    data = pdf.render(story, furniture)             # bytes of a complete PDF
    pdf.write_atomic(path, data)                     # temp file in the same folder, then os.replace

What every page gets: the header (title, sensitivity marking, primary line, fields), a footer with
"Printed by ... on ...", the sensitivity marking again and "Page X of Y" (drawn once the page
count is known, in one build), and an optional diagonal watermark (e.g. "DRAFT"). Text is set in
the embedded DejaVu Sans, so names such as Zoë Ó'Brien-Łukasz render and stay extractable.

Public API: ``PageFurniture``, ``SENSITIVITY``, ``render``, ``write_atomic``, ``styles``,
``para``, ``section``, ``key_value_table``, ``data_table``, ``bullet_list``, ``callout``,
``fmt_date``,
``fmt_datetime``, ``register_fonts``, ``FONT``, ``FONT_BOLD``, ``CONTENT_WIDTH``.
"""

from __future__ import annotations

import io
import os
import tempfile
from collections.abc import Callable, Sequence
from contextlib import AbstractContextManager, nullcontext
from dataclasses import dataclass
from datetime import date, datetime
from functools import cache
from pathlib import Path
from types import SimpleNamespace
from typing import Any
from xml.sax.saxutils import escape

from reportlab.lib import colors
from reportlab.lib.enums import TA_LEFT
from reportlab.lib.pagesizes import A4
from reportlab.lib.styles import ParagraphStyle
from reportlab.lib.units import mm
from reportlab.pdfbase import pdfmetrics
from reportlab.pdfbase.ttfonts import TTFont
from reportlab.pdfgen.canvas import Canvas
from reportlab.platypus import (
    BaseDocTemplate,
    CondPageBreak,
    Flowable,
    Frame,
    PageTemplate,
    Spacer,
    Table,
    TableStyle,
)

from int_desk import paths
from int_desk.domain.uk_time import day_text, in_london
from int_desk.reports import pdf_tags
from int_desk.reports.pdf_flowables import BulletList, ListItem, TextBlock, text_markup
from int_desk.reports.pdf_tags import Para, TableTags, Tagged

FONT = "DejaVuSans"
FONT_BOLD = "DejaVuSans-Bold"
SENSITIVITY = "OFFICIAL-SENSITIVE: personal"

PAGE_WIDTH, PAGE_HEIGHT = A4
MARGIN_X = 16 * mm
HEADER_HEIGHT = 31 * mm
FOOTER_HEIGHT = 17 * mm
CONTENT_WIDTH = PAGE_WIDTH - 2 * MARGIN_X
SECTION_MIN_SPACE = 28 * mm  # a section heading starts a new page when less room is left

INK = colors.HexColor("#1d2733")
MUTED = colors.HexColor("#4c5966")
ACCENT = colors.HexColor("#005eb8")  # headings and rules
RULE = colors.HexColor("#aab4be")
HEAD_FILL = colors.HexColor("#e4ebf2")
ZEBRA = colors.HexColor("#f5f7f9")
CALLOUT_FILL = colors.HexColor("#fff7e0")
CALLOUT_EDGE = colors.HexColor("#c98a00")


@cache
def register_fonts() -> tuple[str, str]:
    """Register (once per process) and return the regular and bold embedded font names."""
    pdfmetrics.registerFont(TTFont(FONT, str(paths.font_path("DejaVuSans.ttf"))))
    pdfmetrics.registerFont(TTFont(FONT_BOLD, str(paths.font_path("DejaVuSans-Bold.ttf"))))
    pdfmetrics.registerFontFamily(
        FONT, normal=FONT, bold=FONT_BOLD, italic=FONT, boldItalic=FONT_BOLD
    )
    return FONT, FONT_BOLD


@dataclass(frozen=True)
class PageFurniture:
    """What is printed around the content on every page, plus the PDF metadata."""

    title: str
    primary: str
    printed_by: str
    printed_at: datetime
    fields: Sequence[tuple[str, str]] = ()
    subject: str = ""
    author: str = "INT Desk"
    sensitivity: str = SENSITIVITY
    footer_note: str = ""
    watermark: str | None = None
    keywords: str = ""
    # Large print (>= 16 pt everywhere, simple layout): the watermark becomes a header line,
    # and "printed by" and the footer note move from the footer to the end of the document.
    large_print: bool = False

    @property
    def geometry(self) -> Geometry:
        return LARGE_PRINT if self.large_print else STANDARD


@dataclass(frozen=True)
class Geometry:
    """Type sizes (pt) and distances of the page furniture."""

    top: float  # title baseline below the top edge
    title: float
    marking: float
    primary: float
    primary_gap: float  # title baseline to name baseline
    label: float
    value: float
    fields_gap: float  # name baseline to the first line of fields
    field_step: float
    field_lines: int  # at most
    footer_height: float
    footer: float
    page_number: float
    page_number_y: float  # baseline above the bottom edge


STANDARD = Geometry(
    top=10 * mm, title=9, marking=8, primary=13, primary_gap=7 * mm, label=7.5, value=8.5,
    fields_gap=5.5 * mm, field_step=4.2 * mm, field_lines=2, footer_height=FOOTER_HEIGHT,
    footer=7, page_number=7.5, page_number_y=FOOTER_HEIGHT - 8 * mm,
)  # fmt: skip
LARGE_PRINT = Geometry(
    top=14 * mm, title=18, marking=16, primary=20, primary_gap=10 * mm, label=16, value=16,
    fields_gap=9 * mm, field_step=7.5 * mm, field_lines=4, footer_height=22 * mm,
    footer=16, page_number=16, page_number_y=8 * mm,
)  # fmt: skip
# --- styles and building blocks --------------------------------------------------------------


# (size, leading) per style: the standard set, and large print with nothing under 16 pt (RNIB
# clear print: 16-18 pt body for large print).
_SIZES: dict[bool, dict[str, tuple[float, float]]] = {
    False: {"body": (9.5, 13.2), "title": (15, 19), "h2": (11.5, 15), "h3": (10, 13.5),
            "small": (8, 10.5), "cell": (8.8, 11.5), "space": (9, 3)},
    True: {"body": (16, 22), "title": (22, 28), "h2": (20, 26), "h3": (17.5, 23),
           "small": (16, 22), "cell": (16, 22), "space": (16, 6)},
}  # fmt: skip


@cache
def styles(large: bool = False) -> SimpleNamespace:
    """Paragraph styles: title, h2, h3, body, small, muted, cell, cell_bold, label.
    ``large``: the large-print set."""
    register_fonts()
    z = _SIZES[large]

    def sized(name: str, key: str, **kw: Any) -> ParagraphStyle:
        size, leading = z[key]
        return ParagraphStyle(name, parent=body, fontSize=size, leading=leading, **kw)

    body = ParagraphStyle(
        "body",
        fontName=FONT,
        fontSize=z["body"][0],
        leading=z["body"][1],
        textColor=INK,
        alignment=TA_LEFT,
    )
    before, after = z["space"]
    return SimpleNamespace(
        title=sized("title", "title", fontName=FONT_BOLD, spaceAfter=4),
        h2=sized(
            "h2", "h2", fontName=FONT_BOLD, textColor=ACCENT, spaceBefore=before, spaceAfter=after
        ),
        h3=sized("h3", "h3", fontName=FONT_BOLD, keepWithNext=True),
        body=body,
        small=sized("small", "small"),
        muted=sized("muted", "body", textColor=MUTED),
        cell=sized("cell", "cell"),
        cell_bold=sized("cell_bold", "cell", fontName=FONT_BOLD),
        label=sized("label", "cell", fontName=FONT_BOLD, textColor=MUTED),
    )


def para(
    text: str, style: ParagraphStyle | None = None, *, empty: str = "", large: bool = False
) -> TextBlock:
    """Plain text (no markup; line breaks kept) in ``style``. ``empty`` shows when blank.
    ``large``: large-print body text."""
    st = styles(large)
    if not text.strip() and empty:
        return TextBlock(empty, st.muted)
    return TextBlock(text, style or st.body)


def section(title: str, flowables: Sequence[Flowable], *, large: bool = False) -> list[Flowable]:
    """A heading kept with the start of its content."""
    st = styles(large)
    # A conditional break, not keepWithNext: keepWithNext would carry a long table whole to
    # the next page and leave a gap; this only moves a heading that would sit at a page foot.
    room = SECTION_MIN_SPACE * (1.6 if large else 1)
    return [CondPageBreak(room), TextBlock(title, st.h2), *flowables]


def labelled(label: str, value: str, *, large: bool = False) -> Flowable:
    """'Label: value' as one paragraph with the label in bold: the simple layout large print
    uses instead of two-column tables."""
    st = styles(large)
    markup = f"<b>{escape(label)}:</b> {text_markup(value or '-')}"
    return Tagged(Para(markup, st.body), "P")


Cell = str | Sequence[str]  # a table cell: text, or items shown as a bulleted list


def _cell(text: Cell, style: ParagraphStyle, room: float) -> str | Flowable:
    """A plain string when the text fits on one line (tables draw those cheaply), else a
    wrapping Paragraph; a list of strings becomes a bulleted list. Rendering 1,000 plans is
    dominated by paragraph layout."""
    if not isinstance(text, str):
        return bullet_list(text, style) if text else "-"
    if "\n" not in text and pdfmetrics.stringWidth(text, style.fontName, style.fontSize) <= room:
        return text
    return Para(text_markup(text), style)


def _plain_cell_style(style: ParagraphStyle) -> list[tuple[Any, ...]]:
    """Table commands that make plain-string cells look like ``style`` paragraphs."""
    return [
        ("FONTNAME", (0, 0), (-1, -1), FONT),  # also stops tables referencing Helvetica
        ("FONTSIZE", (0, 0), (-1, -1), style.fontSize),
        ("LEADING", (0, 0), (-1, -1), style.leading),
        ("TEXTCOLOR", (0, 0), (-1, -1), style.textColor),
    ]


def key_value_table(rows: Sequence[tuple[str, Cell]], *, label_width: float = 46 * mm) -> Table:
    """Two columns: bold grey labels (row headers), wrapped values (text or a list)."""
    st = styles()
    value_width = CONTENT_WIDTH - label_width
    data = [
        [_cell(k, st.label, label_width - 6), _cell(v or "-", st.cell, value_width - 6)]
        for k, v in rows
    ]
    table = Table(
        data,
        colWidths=[label_width, value_width],
        hAlign="LEFT",
        renderCB=TableTags(header_cols=1),  # each label heads its row
    )
    table.setStyle(
        TableStyle(
            [
                *_plain_cell_style(st.cell),
                ("FONTNAME", (0, 0), (0, -1), FONT_BOLD),
                ("TEXTCOLOR", (0, 0), (0, -1), MUTED),
                ("VALIGN", (0, 0), (-1, -1), "TOP"),
                ("LEFTPADDING", (0, 0), (-1, -1), 0),
                ("RIGHTPADDING", (0, 0), (-1, -1), 6),
                ("TOPPADDING", (0, 0), (-1, -1), 1.5),
                ("BOTTOMPADDING", (0, 0), (-1, -1), 1.5),
            ]
        )
    )
    return table


def data_table(
    header: Sequence[str],
    rows: Sequence[Sequence[Cell]],
    widths_mm: Sequence[float],
) -> Table:
    """A ruled table whose header row repeats on every page it spans; rows never split inside.
    A cell is text, or a list of strings shown as a bulleted list.

    ``widths_mm`` are relative: they are scaled to the content width.
    """
    st = styles()
    scale = CONTENT_WIDTH / sum(widths_mm)
    widths = [w * scale for w in widths_mm]
    room = [w - 8 for w in widths]  # less the cell padding
    data: list[list[Any]] = [[_cell(h, st.cell_bold, r) for h, r in zip(header, room, strict=True)]]
    data += [[_cell(c, st.cell, r) for c, r in zip(row, room, strict=True)] for row in rows]
    table = Table(
        data,
        colWidths=widths,
        repeatRows=1,
        splitByRow=1,
        hAlign="LEFT",
        renderCB=TableTags(header_rows=1),
    )
    commands: list[tuple[Any, ...]] = [
        *_plain_cell_style(st.cell),
        ("FONTNAME", (0, 0), (-1, 0), FONT_BOLD),
        ("VALIGN", (0, 0), (-1, -1), "TOP"),
        ("BACKGROUND", (0, 0), (-1, 0), HEAD_FILL),
        ("LINEBELOW", (0, 0), (-1, 0), 0.8, ACCENT),
        ("LINEBELOW", (0, 1), (-1, -1), 0.3, RULE),
        ("LEFTPADDING", (0, 0), (-1, -1), 4),
        ("RIGHTPADDING", (0, 0), (-1, -1), 4),
        ("TOPPADDING", (0, 0), (-1, -1), 3),
        ("BOTTOMPADDING", (0, 0), (-1, -1), 3.5),
    ]
    for i in range(2, len(data), 2):
        commands.append(("BACKGROUND", (0, i), (-1, i), ZEBRA))
    table.setStyle(TableStyle(commands))
    return table


def bullet_list(
    items: Sequence[str], style: ParagraphStyle | None = None, *, large: bool = False
) -> BulletList:
    """A bulleted list of plain-text items (in a story or in a table cell)."""
    style = style or styles(large).body
    return BulletList(
        [ListItem(TextBlock(text, style, role="LBody"), True, pdf_tags.Slot()) for text in items],
        style,
    )


def callout(title: str, body: Sequence[Flowable], *, large: bool = False, level: int = 3) -> Table:
    """A boxed, tinted panel for what a reader must act on (e.g. a contingency plan).
    ``level``: its title's heading level (2 for a panel before the first section)."""
    st = styles(large)
    heading = TextBlock(title, st.h3, role=f"H{level}")
    inner: list[Flowable] = [heading, Spacer(1, 4 if large else 2), *body]
    table = Table(
        [[inner]], colWidths=[CONTENT_WIDTH], hAlign="LEFT", renderCB=TableTags(layout=True)
    )
    table.setStyle(
        TableStyle(
            [
                ("FONTNAME", (0, 0), (-1, -1), FONT),
                ("BACKGROUND", (0, 0), (-1, -1), CALLOUT_FILL),
                ("BOX", (0, 0), (-1, -1), 2 if large else 1.2, CALLOUT_EDGE),
                ("LEFTPADDING", (0, 0), (-1, -1), 7),
                ("RIGHTPADDING", (0, 0), (-1, -1), 7),
                ("TOPPADDING", (0, 0), (-1, -1), 5),
                ("BOTTOMPADDING", (0, 0), (-1, -1), 6),
            ]
        )
    )
    return table


def fmt_date(value: date | None, empty: str = "not set") -> str:
    """UK style, unambiguous: 3 Mar 1941."""
    return day_text(value) if value else empty


def fmt_datetime(value: datetime | None, empty: str = "") -> str:
    """London wall-clock time with its zone, e.g. 22 Nov 2026 14:03 GMT (whatever the
    computer's own zone: a plan printed at 00:30 BST is dated that day, not the one before)."""
    if value is None:
        return empty
    local = in_london(value)
    return f"{local.day} {local:%b %Y %H:%M} {local.tzname() or ''}".rstrip()


# --- page furniture --------------------------------------------------------------------------


def _fit(canvas: Canvas, text: str, font: str, size: float, width: float) -> str:
    if canvas.stringWidth(text, font, size) <= width:
        return text
    while text and canvas.stringWidth(text + "…", font, size) > width:
        text = text[:-1]
    return text + "…"


def _field_lines(fields: Sequence[tuple[str, str]], width: float, g: Geometry) -> list[list]:
    """Greedy layout of label/value pairs into at most ``g.field_lines`` header lines."""
    lines: list[list[tuple[str, str]]] = [[]]
    used = 0.0
    gap = 5 * mm
    for label, value in fields:
        w = pdfmetrics.stringWidth(f"{label} ", FONT, g.label)
        w += pdfmetrics.stringWidth(value, FONT_BOLD, g.value)
        if lines[-1] and used + gap + w > width and len(lines) < g.field_lines:
            lines.append([])
            used = 0.0
        used += (gap if lines[-1] else 0) + w
        lines[-1].append((label, value))
    return lines


def header_height(f: PageFurniture) -> float:
    """Room the header takes at the top of each page (fixed for the standard layout)."""
    if not f.large_print:
        return HEADER_HEIGHT
    g = f.geometry
    lines = len(_field_lines(f.fields, PAGE_WIDTH - 2 * MARGIN_X, g))
    lines += 1 if f.watermark else 0
    return g.top + g.primary_gap + g.fields_gap + g.field_step * (lines - 1) + 3 * mm + 5 * mm


def _draw_furniture(canvas: Canvas, f: PageFurniture) -> None:
    # Page 1's header opens the document: its title (H1), marking, name and fields are tagged
    # content. On later pages the same header repeats, so there it is a pagination artifact.
    if canvas.getPageNumber() == 1:
        _draw_header(canvas, f, tagged=True)
    else:
        with pdf_tags.artifact(canvas, "Pagination", "Header"):
            _draw_header(canvas, f, tagged=False)
    with pdf_tags.artifact(canvas, "Pagination", "Footer"):
        _draw_footer(canvas, f)
    if f.watermark and not f.large_print:  # large print: a header line instead (simple layout)
        with pdf_tags.artifact(canvas, "Pagination", "Watermark"):
            canvas.saveState()
            canvas.setFont(FONT_BOLD, 54)
            canvas.setFillColor(colors.Color(0.75, 0.1, 0.1, alpha=0.12))
            canvas.translate(PAGE_WIDTH / 2, PAGE_HEIGHT / 2)
            canvas.rotate(35)
            canvas.drawCentredString(0, 0, f.watermark)
            canvas.restoreState()


def _draw_header(canvas: Canvas, f: PageFurniture, *, tagged: bool) -> None:
    def part(role: str) -> AbstractContextManager[None]:
        return pdf_tags.content(canvas, role) if tagged else nullcontext()

    def decoration() -> AbstractContextManager[None]:
        return pdf_tags.artifact(canvas) if tagged else nullcontext()

    g = f.geometry
    canvas.saveState()
    left, right = MARGIN_X, PAGE_WIDTH - MARGIN_X
    top = PAGE_HEIGHT - g.top
    # Document title top left; sensitivity marking, boxed, top right (read in that order).
    # Large print has no room for both on one line: its marking is in the footer instead.
    sens_w = 0 if f.large_print else canvas.stringWidth(f.sensitivity, FONT_BOLD, g.marking)
    with part("H1"):
        canvas.setFillColor(ACCENT)
        canvas.setFont(FONT_BOLD, g.title)
        title = _fit(
            canvas, f.title, FONT_BOLD, g.title, right - left - (sens_w + 20 if sens_w else 0)
        )
        canvas.drawString(left, top, title)
    if not f.large_print:
        with decoration():
            canvas.setStrokeColor(INK)
            canvas.setLineWidth(0.8)
            canvas.rect(right - sens_w - 6, top - 3, sens_w + 6, 11, stroke=1, fill=0)
        with part("P"):
            canvas.setFont(FONT_BOLD, g.marking)
            canvas.setFillColor(INK)
            canvas.drawRightString(right - 3, top, f.sensitivity)
    # Primary line (the person's name) and fields.
    with part("P"):
        canvas.setFillColor(INK)
        canvas.setFont(FONT_BOLD, g.primary)
        primary = _fit(canvas, f.primary, FONT_BOLD, g.primary, right - left)
        canvas.drawString(left, top - g.primary_gap, primary)
    y = top - g.primary_gap - g.fields_gap
    for line in _field_lines(f.fields, right - left, g):
        x = left
        for label, value in line:
            with part("P"):
                canvas.setFont(FONT, g.label)
                canvas.setFillColor(MUTED)
                # The space is drawn too, so text read from the tags says "NHS number 999...".
                canvas.drawString(x, y, label + " ")
                x += canvas.stringWidth(label + " ", FONT, g.label)
                canvas.setFont(FONT_BOLD, g.value)
                canvas.setFillColor(INK)
                value = _fit(canvas, value, FONT_BOLD, g.value, right - x)
                canvas.drawString(x, y, value)
                x += canvas.stringWidth(value, FONT_BOLD, g.value) + 5 * mm
        y -= g.field_step
    if f.watermark and f.large_print:
        with part("P"):
            canvas.setFont(FONT_BOLD, g.value)
            canvas.setFillColor(colors.HexColor("#a3120f"))
            canvas.drawString(left, y, f.watermark)
        y -= g.field_step
    with decoration():
        canvas.setStrokeColor(ACCENT)
        canvas.setLineWidth(1.2)
        rule_y = y + g.field_step - 3 * mm
        canvas.line(left, rule_y, right, rule_y)
    canvas.restoreState()


def _draw_footer(canvas: Canvas, f: PageFurniture) -> None:
    """Printed by / page count (drawn at save), then the note and the sensitivity marking.
    Large print: the page count and the marking only (the rest ends the document)."""
    g = f.geometry
    canvas.saveState()
    left, right = MARGIN_X, PAGE_WIDTH - MARGIN_X
    canvas.setStrokeColor(RULE)
    canvas.setLineWidth(0.5)
    canvas.line(left, g.footer_height - 4 * mm, right, g.footer_height - 4 * mm)
    if f.large_print:
        canvas.setFont(FONT_BOLD, g.footer)
        canvas.setFillColor(INK)
        canvas.drawString(left, g.page_number_y, f.sensitivity)
        canvas.restoreState()
        return
    canvas.setFont(FONT, 7)
    canvas.setFillColor(MUTED)
    printed = f"Printed by {f.printed_by} on {fmt_datetime(f.printed_at)}"
    canvas.drawString(left, FOOTER_HEIGHT - 8 * mm, _fit(canvas, printed, FONT, 7, 140 * mm))
    canvas.setFont(FONT_BOLD, 7)
    canvas.setFillColor(INK)
    sens_w = canvas.stringWidth(f.sensitivity, FONT_BOLD, 7)
    canvas.drawRightString(right, FOOTER_HEIGHT - 11.5 * mm, f.sensitivity)
    if f.footer_note:
        canvas.setFont(FONT, 7)
        canvas.setFillColor(MUTED)
        note = _fit(canvas, f.footer_note, FONT, 7, right - left - sens_w - 6 * mm)
        canvas.drawString(left, FOOTER_HEIGHT - 11.5 * mm, note)
    canvas.restoreState()


def _large_print_ending(f: PageFurniture) -> list[Flowable]:
    """What the standard footer says, at the end of a large-print document."""
    lines = [para(f"Printed by {f.printed_by} on {fmt_datetime(f.printed_at)}.", large=True)]
    if f.footer_note:
        lines.append(para(f.footer_note, large=True))
    return section("About this copy", lines, large=True)


def _numbered_canvas(f: PageFurniture) -> Callable[..., Canvas]:
    """A tagging canvas that holds its pages until save() so each can say 'Page X of Y' in one
    build, and writes the structure tree and accessibility metadata when saved."""

    class NumberedCanvas(Canvas):
        def __init__(self, *args: Any, **kwargs: Any) -> None:
            super().__init__(*args, **kwargs)
            self._pages: list[dict[str, Any]] = []
            self.tags = pdf_tags.Tagger()

        def showPage(self) -> None:  # noqa: N802 - reportlab's name
            self._pages.append(dict(self.__dict__))
            self._startPage()
            self.tags.next_page()

        def save(self) -> None:
            total = len(self._pages)
            for number, state in enumerate(self._pages, start=1):
                self.__dict__.update(state)
                with pdf_tags.artifact(self, "Pagination", "Footer"):
                    g = f.geometry
                    self.setFont(FONT_BOLD, g.page_number)
                    self.setFillColor(INK)
                    self.drawRightString(
                        PAGE_WIDTH - MARGIN_X, g.page_number_y, f"Page {number} of {total}"
                    )
                Canvas.showPage(self)
            self.tags.write(
                self, title=f.title, author=f.author, subject=f.subject, keywords=f.keywords
            )
            Canvas.save(self)

    return NumberedCanvas


def render(story: Sequence[Flowable], furniture: PageFurniture) -> bytes:
    """Lay out ``story`` on A4 pages with the furniture and return the PDF bytes (tagged
    PDF/UA-1: see ``pdf_tags``)."""
    register_fonts()
    buffer = io.BytesIO()
    top, bottom = header_height(furniture), furniture.geometry.footer_height
    if furniture.large_print:
        story = [*story, *_large_print_ending(furniture)]
    doc = BaseDocTemplate(
        buffer,
        pagesize=A4,
        leftMargin=MARGIN_X,
        rightMargin=MARGIN_X,
        topMargin=top,
        bottomMargin=bottom,
        title=furniture.title,
        author=furniture.author,
        subject=furniture.subject,
        creator="INT Desk",
        keywords=furniture.keywords,
        initialFontName=FONT,  # else every page references (unembedded) Helvetica
        lang=pdf_tags.LANG,
    )
    frame = Frame(
        MARGIN_X,
        bottom,
        CONTENT_WIDTH,
        PAGE_HEIGHT - top - bottom,
        leftPadding=0,
        rightPadding=0,
        topPadding=2 * mm,
        bottomPadding=2 * mm,
        id="content",
    )
    doc.addPageTemplates(
        [
            PageTemplate(
                id="page", frames=[frame], onPage=lambda c, _d: _draw_furniture(c, furniture)
            )
        ]
    )
    doc.build(list(story), canvasmaker=_numbered_canvas(furniture))
    return buffer.getvalue()


def write_atomic(path: Path, data: bytes) -> Path:
    """Write ``data`` to ``path`` so that no partial file ever exists there.

    The bytes go to a hidden temp file in the same folder (same file system), are flushed to
    disk, made readable by this user only, then renamed over ``path`` in one step.
    """
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".part", dir=path.parent)
    try:
        with os.fdopen(fd, "wb") as fh:
            fh.write(data)
            fh.flush()
            os.fsync(fh.fileno())
        if os.name == "posix":
            os.chmod(tmp, 0o600)
        os.replace(tmp, path)
    except BaseException:
        try:
            os.unlink(tmp)
        except FileNotFoundError:
            pass
        raise
    return path
