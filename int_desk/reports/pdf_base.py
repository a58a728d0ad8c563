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
from datetime import UTC, date, datetime
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
    Paragraph,
    Spacer,
    Table,
    TableStyle,
)

from int_desk import paths
from int_desk.reports import pdf_tags
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


# --- styles and building blocks --------------------------------------------------------------


@cache
def styles() -> SimpleNamespace:
    """Paragraph styles: title, h2, h3, body, small, muted, cell, cell_bold, label."""
    register_fonts()
    body = ParagraphStyle(
        "body", fontName=FONT, fontSize=9.5, leading=13.2, textColor=INK, alignment=TA_LEFT
    )
    return SimpleNamespace(
        title=ParagraphStyle(
            "title", parent=body, fontName=FONT_BOLD, fontSize=15, leading=19, spaceAfter=4
        ),
        h2=ParagraphStyle(
            "h2",
            parent=body,
            fontName=FONT_BOLD,
            fontSize=11.5,
            leading=15,
            textColor=ACCENT,
            spaceBefore=9,
            spaceAfter=3,
        ),
        h3=ParagraphStyle(
            "h3", parent=body, fontName=FONT_BOLD, fontSize=10, leading=13.5, keepWithNext=True
        ),
        body=body,
        small=ParagraphStyle("small", parent=body, fontSize=8, leading=10.5),
        muted=ParagraphStyle("muted", parent=body, textColor=MUTED),
        cell=ParagraphStyle("cell", parent=body, fontSize=8.8, leading=11.5),
        cell_bold=ParagraphStyle(
            "cell_bold", parent=body, fontName=FONT_BOLD, fontSize=8.8, leading=11.5
        ),
        label=ParagraphStyle(
            "label", parent=body, fontName=FONT_BOLD, fontSize=8.8, leading=11.5, textColor=MUTED
        ),
    )


def _markup(text: str) -> str:
    return escape(text).replace("\n", "<br/>")


def _role(style: ParagraphStyle) -> str:
    """H1-H3 for the heading styles (and styles derived from them), else P."""
    parents = []
    parent = style.parent
    while parent is not None:
        parents.append(parent.name)
        parent = getattr(parent, "parent", None)
    return pdf_tags.role_for(style.name, parents)


class TextBlock(Flowable):
    """Plain text that is drawn as one string when it fits the width it is given, and laid out
    as a Paragraph (wrapping, splitting across pages) only when it does not. Most headings and
    short answers fit, and Paragraph layout is the bulk of rendering time.

    Tagged as one structure element (``role``; by default H1-H3 for the heading styles, else
    P), also when it is split across pages."""

    tags_itself = True

    def __init__(self, text: str, style: ParagraphStyle, *, role: str | None = None) -> None:
        super().__init__()
        self.text = text
        self.style = style
        self.role = role or _role(style)
        self.slot = pdf_tags.Slot()
        self._width = (
            float("inf")
            if "\n" in text
            else pdfmetrics.stringWidth(text, style.fontName, style.fontSize)
        )
        self._para: Paragraph | None = None

    def _paragraph(self) -> Paragraph:
        if self._para is None:
            self._para = Para(_markup(self.text), self.style)
        return self._para

    def _fits(self, avail_width: float) -> bool:
        return self._para is None and self._width <= avail_width

    def wrap(self, avail_width: float, avail_height: float) -> tuple[float, float]:
        if self._fits(avail_width):
            self.width, self.height = avail_width, self.style.leading
            return self.width, self.height
        return self._paragraph().wrap(avail_width, avail_height)

    def split(self, avail_width: float, avail_height: float) -> list[Flowable]:
        if self._fits(avail_width):
            return []
        parts = self._paragraph().split(avail_width, avail_height)
        return [Tagged(p, self.role, self.slot) for p in parts]

    def getSpaceBefore(self) -> float:  # noqa: N802 - reportlab's name
        return float(self.style.spaceBefore)

    def getSpaceAfter(self) -> float:  # noqa: N802 - reportlab's name
        return float(self.style.spaceAfter)

    def drawOn(self, canvas: Canvas, x: float, y: float, _sW: float = 0) -> None:  # noqa: N802, N803
        tags = pdf_tags.tagger(canvas)
        if tags is not None:
            tags.begin(canvas, tags.element(self.slot, self.role))
        if self._para is not None:
            self._para.drawOn(canvas, x, y, _sW)
        else:
            canvas.saveState()
            canvas.setFont(self.style.fontName, self.style.fontSize)
            canvas.setFillColor(self.style.textColor)
            canvas.drawString(x, y + self.height - self.style.fontSize, self.text)
            canvas.restoreState()
        if tags is not None:
            tags.end(canvas)


def para(text: str, style: ParagraphStyle | None = None, *, empty: str = "") -> TextBlock:
    """Plain text (no markup; line breaks kept) in ``style``. ``empty`` shows when blank."""
    st = styles()
    if not text.strip() and empty:
        return TextBlock(empty, st.muted)
    return TextBlock(text, style or st.body)


def section(title: str, flowables: Sequence[Flowable]) -> list[Flowable]:
    """A heading kept with the start of its content."""
    st = styles()
    # A conditional break, not keepWithNext: keepWithNext would carry a long table whole to
    # the next page and leave a gap; this only moves a heading that would sit at a page foot.
    return [CondPageBreak(SECTION_MIN_SPACE), TextBlock(title, st.h2), *flowables]


Cell = str | Sequence[str]  # a table cell: text, or items shown as a bulleted list


def _cell(text: Cell, style: ParagraphStyle, room: float) -> str | Flowable:
    """A plain string when the text fits on one line (tables draw those cheaply), else a
    wrapping Paragraph; a list of strings becomes a bulleted list. Rendering 1,000 plans is
    dominated by paragraph layout."""
    if not isinstance(text, str):
        return bullet_list(text, style) if text else "-"
    if "\n" not in text and pdfmetrics.stringWidth(text, style.fontName, style.fontSize) <= room:
        return text
    return Para(_markup(text), style)


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


class _ListItem:
    """One item (or the part of one continued overleaf) of a BulletList."""

    __slots__ = ("block", "bullet", "li")

    def __init__(self, block: Flowable, bullet: bool, li: pdf_tags.Slot) -> None:
        self.block = block
        self.bullet = bullet  # False for the part of an item continued from the page before
        self.li = li


class BulletList(Flowable):
    """Items each after a bullet, tagged as a list (L > LI > Lbl + LBody) so a screen reader
    announces "list of 3 items". Splits between items, or inside an item that is taller
    than the room left; the parts stay one list."""

    tags_itself = True
    BULLET = "\u2022"

    def __init__(
        self,
        items: Sequence[_ListItem],
        style: ParagraphStyle,
        slot: pdf_tags.Slot | None = None,
    ) -> None:
        super().__init__()
        self.items = list(items)
        self.style = style
        self.slot = slot or pdf_tags.Slot()
        self.indent = style.fontSize * 1.1
        self._heights: list[float] = []

    def wrap(self, avail_width: float, avail_height: float) -> tuple[float, float]:
        room = avail_width - self.indent
        self._heights = [i.block.wrap(room, avail_height)[1] for i in self.items]
        self.width, self.height = avail_width, sum(self._heights)
        return self.width, self.height

    def split(self, avail_width: float, avail_height: float) -> list[Flowable]:
        self.wrap(avail_width, avail_height)
        used, fit = 0.0, 0
        for h in self._heights:
            if used + h > avail_height:
                break
            used, fit = used + h, fit + 1
        if fit == len(self.items):
            return []
        rest = self.items[fit:]
        if fit == 0:  # the first item alone is taller than the room: split its text
            first = rest[0]
            parts = first.block.split(avail_width - self.indent, avail_height)
            if len(parts) < 2:
                return []
            head = [_ListItem(parts[0], first.bullet, first.li)]
            rest = [_ListItem(p, False, first.li) for p in parts[1:]] + rest[1:]
        else:
            head = self.items[:fit]
        return [BulletList(head, self.style, self.slot), BulletList(rest, self.style, self.slot)]

    def drawOn(self, canvas: Canvas, x: float, y: float, _sW: float = 0) -> None:  # noqa: N802, N803
        tags = pdf_tags.tagger(canvas)
        if tags is not None:
            tags.push(tags.element(self.slot, "L", {"O": "List", "ListNumbering": "Disc"}))
        top = y + self.height
        for item, height in zip(self.items, self._heights, strict=True):
            top -= height
            li = tags.element(item.li, "LI") if tags is not None else None
            if li is not None:
                tags.push(li)  # type: ignore[union-attr]
            if item.bullet:
                with pdf_tags.content(canvas, "Lbl"):
                    canvas.saveState()
                    canvas.setFont(self.style.fontName, self.style.fontSize)
                    canvas.setFillColor(self.style.textColor)
                    canvas.drawString(x, top + height - self.style.fontSize, self.BULLET + " ")
                    canvas.restoreState()
            item.block.drawOn(canvas, x + self.indent, top)
            if li is not None:
                tags.pop(li)  # type: ignore[union-attr]
        if tags is not None:
            tags.pop(self.slot.elem)  # type: ignore[arg-type]


def bullet_list(items: Sequence[str], style: ParagraphStyle | None = None) -> BulletList:
    """A bulleted list of plain-text items (in a story or in a table cell)."""
    style = style or styles().body
    return BulletList(
        [_ListItem(TextBlock(text, style, role="LBody"), True, pdf_tags.Slot()) for text in items],
        style,
    )


def callout(title: str, body: Sequence[Flowable]) -> Table:
    """A boxed, tinted panel for what a reader must act on (e.g. a contingency plan)."""
    st = styles()
    inner: list[Flowable] = [TextBlock(title, st.h3), Spacer(1, 2), *body]
    table = Table(
        [[inner]], colWidths=[CONTENT_WIDTH], hAlign="LEFT", renderCB=TableTags(layout=True)
    )
    table.setStyle(
        TableStyle(
            [
                ("FONTNAME", (0, 0), (-1, -1), FONT),
                ("BACKGROUND", (0, 0), (-1, -1), CALLOUT_FILL),
                ("BOX", (0, 0), (-1, -1), 1.2, CALLOUT_EDGE),
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
    return f"{value.day} {value:%b %Y}" if value else empty


def fmt_datetime(value: datetime | None, empty: str = "") -> str:
    """Local wall-clock time with its zone, e.g. 22 Nov 2026 14:03 GMT."""
    if value is None:
        return empty
    if value.tzinfo is None:
        value = value.replace(tzinfo=UTC)
    local = value.astimezone()
    return f"{local.day} {local:%b %Y %H:%M} {local.tzname() or ''}".rstrip()


# --- page furniture --------------------------------------------------------------------------


def _fit(canvas: Canvas, text: str, font: str, size: float, width: float) -> str:
    if canvas.stringWidth(text, font, size) <= width:
        return text
    while text and canvas.stringWidth(text + "…", font, size) > width:
        text = text[:-1]
    return text + "…"


def _field_lines(canvas: Canvas, fields: Sequence[tuple[str, str]], width: float) -> list[list]:
    """Greedy layout of label/value pairs into at most two header lines."""
    lines: list[list[tuple[str, str]]] = [[]]
    used = 0.0
    gap = 5 * mm
    for label, value in fields:
        w = canvas.stringWidth(f"{label} ", FONT, 7.5) + canvas.stringWidth(value, FONT_BOLD, 8.5)
        if lines[-1] and used + gap + w > width and len(lines) < 2:
            lines.append([])
            used = 0.0
        used += (gap if lines[-1] else 0) + w
        lines[-1].append((label, value))
    return lines


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
    if f.watermark:
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

    canvas.saveState()
    left, right = MARGIN_X, PAGE_WIDTH - MARGIN_X
    top = PAGE_HEIGHT - 10 * mm
    # Document title top left; sensitivity marking, boxed, top right (read in that order).
    sens_w = canvas.stringWidth(f.sensitivity, FONT_BOLD, 8)
    with part("H1"):
        canvas.setFillColor(ACCENT)
        canvas.setFont(FONT_BOLD, 9)
        title = _fit(canvas, f.title, FONT_BOLD, 9, right - left - sens_w - 20)
        canvas.drawString(left, top, title)
    with decoration():
        canvas.setStrokeColor(INK)
        canvas.setLineWidth(0.8)
        canvas.rect(right - sens_w - 6, top - 3, sens_w + 6, 11, stroke=1, fill=0)
    with part("P"):
        canvas.setFont(FONT_BOLD, 8)
        canvas.setFillColor(INK)
        canvas.drawRightString(right - 3, top, f.sensitivity)
    # Primary line (the person's name) and fields.
    with part("P"):
        canvas.setFillColor(INK)
        canvas.setFont(FONT_BOLD, 13)
        canvas.drawString(left, top - 7 * mm, _fit(canvas, f.primary, FONT_BOLD, 13, right - left))
    y = top - 12.5 * mm
    for line in _field_lines(canvas, f.fields, right - left):
        x = left
        for label, value in line:
            with part("P"):
                canvas.setFont(FONT, 7.5)
                canvas.setFillColor(MUTED)
                # The space is drawn too, so text read from the tags says "NHS number 999...".
                canvas.drawString(x, y, label + " ")
                x += canvas.stringWidth(label + " ", FONT, 7.5)
                canvas.setFont(FONT_BOLD, 8.5)
                canvas.setFillColor(INK)
                value = _fit(canvas, value, FONT_BOLD, 8.5, right - x)
                canvas.drawString(x, y, value)
                x += canvas.stringWidth(value, FONT_BOLD, 8.5) + 5 * mm
        y -= 4.2 * mm
    with decoration():
        canvas.setStrokeColor(ACCENT)
        canvas.setLineWidth(1.2)
        rule_y = y + 4.2 * mm - 3 * mm
        canvas.line(left, rule_y, right, rule_y)
    canvas.restoreState()


def _draw_footer(canvas: Canvas, f: PageFurniture) -> None:
    """Printed by / page count (drawn at save), then the note and the sensitivity marking."""
    canvas.saveState()
    left, right = MARGIN_X, PAGE_WIDTH - MARGIN_X
    canvas.setStrokeColor(RULE)
    canvas.setLineWidth(0.5)
    canvas.line(left, FOOTER_HEIGHT - 4 * mm, right, FOOTER_HEIGHT - 4 * mm)
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
                    self.setFont(FONT_BOLD, 7.5)
                    self.setFillColor(INK)
                    self.drawRightString(
                        PAGE_WIDTH - MARGIN_X, FOOTER_HEIGHT - 8 * mm, f"Page {number} of {total}"
                    )
                Canvas.showPage(self)
            self.tags.write(
                self, title=f.title, author=f.author, subject=f.subject, keywords=f.keywords
            )
            Canvas.save(self)

    return NumberedCanvas


def render(story: Sequence[Flowable], furniture: PageFurniture) -> bytes:
    """Lay out ``story`` on A4 pages with the furniture and return the PDF bytes."""
    register_fonts()
    buffer = io.BytesIO()
    doc = BaseDocTemplate(
        buffer,
        pagesize=A4,
        leftMargin=MARGIN_X,
        rightMargin=MARGIN_X,
        topMargin=HEADER_HEIGHT,
        bottomMargin=FOOTER_HEIGHT,
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
        FOOTER_HEIGHT,
        CONTENT_WIDTH,
        PAGE_HEIGHT - HEADER_HEIGHT - FOOTER_HEIGHT,
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
