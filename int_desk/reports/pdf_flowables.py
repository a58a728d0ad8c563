"""The PDF layer's own flowables, tagged for screen readers: ``TextBlock`` (plain text drawn as one
string when it fits, a Paragraph only when it must wrap) and ``BulletList`` (a list tagged
L > LI > Lbl + LBody that splits between items or inside a tall one). ``pdf_base`` builds
documents from them (``para``, ``section``, ``bullet_list``).
"""

from __future__ import annotations

from collections.abc import Sequence
from xml.sax.saxutils import escape

from reportlab.lib.styles import ParagraphStyle
from reportlab.pdfbase import pdfmetrics
from reportlab.pdfgen.canvas import Canvas
from reportlab.platypus import (
    Flowable,
    Paragraph,
)

from int_desk.reports import pdf_tags
from int_desk.reports.pdf_tags import Para, Tagged


def text_markup(text: str) -> str:
    """Plain text as Paragraph markup: escaped, line breaks kept."""
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
            self._para = Para(text_markup(self.text), self.style)
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


class ListItem:
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
        items: Sequence[ListItem],
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
            head = [ListItem(parts[0], first.bullet, first.li)]
            rest = [ListItem(p, False, first.li) for p in parts[1:]] + rest[1:]
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
