"""Tagged PDF (PDF/UA-1, ISO 14289-1) for the shared PDF layer: marked content on reportlab's
canvas and the logical structure tree built from it.

reportlab writes no tags, so ``pdf_base`` draws through this module:

* every piece of real content is drawn between ``tags.begin(canvas, elem)`` and
  ``tags.end(canvas)``: a marked-content sequence ``/P <</MCID n>> BDC ... EMC`` whose MCID
  points at a structure element (``Elem``: P, H1-H3, Table/TR/TH/TD, L/LI/Lbl/LBody, Div);
* everything else (rules, tints, boxes, running headers and footers, page numbers, the
  watermark) is drawn between ``tags.begin_artifact(...)`` and ``tags.end(canvas)``;
* elements are created in the order they are drawn. The layer lays out one column, top to
  bottom, page after page, so that order is the visual order, and it becomes the reading order;
* when the canvas is saved, ``write`` adds the structure tree, the parent tree, ``/MarkInfo``,
  ``/Lang``, ``/ViewerPreferences /DisplayDocTitle`` and XMP metadata with the PDF/UA
  identifier to the catalog, and ``/StructParents`` and ``/Tabs /S`` to each page.

Elements are kept as small Python objects while the document is laid out and turned into PDF
objects only once, at save; a 2-page care plan has about 150 of them.
"""

from __future__ import annotations

import copy
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from typing import Any
from xml.sax.saxutils import escape

from reportlab.pdfbase.pdfdoc import (
    XMP,
    PDFDictionary,
    PDFDocument,
    PDFName,
    PDFObject,
    PDFString,
)
from reportlab.pdfbase.pdfdoc import format as pdf_format
from reportlab.pdfgen.canvas import Canvas
from reportlab.platypus import Flowable, Paragraph
from reportlab.platypus.tables import Table, TableRenderCB

LANG = "en-GB"
PDFUA_PART = 1

MCR = tuple[int, int]  # (page index, MCID): one marked-content sequence on one page


class Elem:
    """A structure element: its standard type (``role``), children in reading order (elements
    and marked-content references), and optional attributes (``/A``) or alternative text."""

    __slots__ = ("role", "parent", "kids", "attrs", "alt", "_obj")

    def __init__(
        self,
        role: str,
        parent: Elem | None,
        attrs: dict[str, str] | None = None,
        alt: str | None = None,
    ) -> None:
        self.role = role
        self.parent = parent
        self.kids: list[Elem | MCR] = []
        self.attrs = attrs  # e.g. {"O": "Table", "Scope": "Column"}: values are PDF names
        self.alt = alt
        self._obj: _StructElemObject | None = None
        if parent is not None:
            parent.kids.append(self)

    def text_kids(self) -> list[MCR]:
        return [k for k in self.kids if isinstance(k, tuple)]


class Slot:
    """Holds the element of a flowable that may be split across pages, so every part of it
    adds its marked content to one element (a paragraph continued overleaf stays one P)."""

    __slots__ = ("elem",)

    def __init__(self) -> None:
        self.elem: Elem | None = None


class Tagger:
    """Builds the structure tree while a document is drawn (one per rendered document)."""

    def __init__(self) -> None:
        self.root = Elem("Document", None)
        self._stack: list[Elem] = [self.root]
        self._owners: list[list[Elem]] = [[]]  # per page: the element owning each MCID
        self.wrote = False

    # --- the tree ---

    @property
    def page(self) -> int:
        return len(self._owners) - 1

    def add(self, role: str, attrs: dict[str, str] | None = None, alt: str | None = None) -> Elem:
        """A new element under the current container."""
        return Elem(role, self._stack[-1], attrs, alt)

    def element(self, slot: Slot, role: str, attrs: dict[str, str] | None = None) -> Elem:
        """The slot's element, created under the current container when first drawn."""
        if slot.elem is None:
            slot.elem = self.add(role, attrs)
        return slot.elem

    def push(self, elem: Elem) -> None:
        """Make ``elem`` the container of elements added from now on."""
        self._stack.append(elem)

    def pop(self, elem: Elem) -> None:
        if self._stack[-1] is not elem:
            raise RuntimeError(f"tag nesting broken: closing {elem.role}")
        self._stack.pop()

    # --- marked content on the canvas ---

    def begin(self, canvas: Canvas, elem: Elem) -> None:
        owners = self._owners[-1]
        mcid = len(owners)
        owners.append(elem)
        elem.kids.append((self.page, mcid))
        canvas._code.append(f"/{elem.role} <</MCID {mcid}>> BDC")

    def begin_artifact(self, canvas: Canvas, kind: str = "Layout", subtype: str = "") -> None:
        """Decoration or page furniture that a screen reader skips (kind: Layout, Pagination)."""
        sub = f" /Subtype /{subtype}" if subtype else ""
        canvas._code.append(f"/Artifact <</Type /{kind}{sub}>> BDC")

    def end(self, canvas: Canvas) -> None:
        canvas._code.append("EMC")

    def next_page(self) -> None:
        self._owners.append([])

    def check_closed(self) -> None:
        if len(self._stack) != 1:
            raise RuntimeError(f"tags left open: {[e.role for e in self._stack[1:]]}")

    # --- writing the tree into the PDF ---

    def write(
        self, canvas: Canvas, *, title: str, author: str, subject: str, keywords: str
    ) -> None:
        """Add the structure tree, the catalog entries and XMP metadata; call after the last
        page was added to the document and before it is saved."""
        doc: PDFDocument = canvas._doc
        pages = doc.Pages.pages
        self.check_closed()
        # The page begun after the last showPage is never added; it has no content.
        while len(self._owners) > len(pages) and not self._owners[-1]:
            self._owners.pop()
        if len(pages) != len(self._owners):
            raise RuntimeError(f"{len(pages)} pages but tags for {len(self._owners)}")
        page_names = [doc.Reference(page).name for page in pages]
        root = _StructTreeRootObject()
        root.doc_elem = _register(doc, self.root, doc.Reference(root).name, page_names)
        root.parents = [[e._obj for e in owners] for owners in self._owners]  # type: ignore[misc]
        for index, page in enumerate(pages):
            page.StructParents = index
            page.Tabs = PDFName("S")
            page.__NoDefault__ = [*page.__NoDefault__, "StructParents", "Tabs"]
        catalog = doc.Catalog
        catalog.StructTreeRoot = root
        catalog.MarkInfo = PDFDictionary({"Marked": "true"})
        catalog.Lang = PDFString(LANG)
        canvas.setViewerPreference("DisplayDocTitle", "true")
        xmp = XMP(
            creator=lambda _doc: _xmp(
                title=title, author=author, subject=subject, keywords=keywords
            ).encode("utf-8")
        )
        xmp.filters = []  # metadata stays readable by tools that do not inflate streams
        catalog.Metadata = xmp
        doc._pdfVersion = max(doc._pdfVersion, (1, 7))  # PDF/UA-1 is built on PDF 1.7
        self.wrote = True


# --- PDF objects ---------------------------------------------------------------------------------


def _ref(document: PDFDocument, name: str) -> bytes:
    """``n 0 R`` of an object registered under ``name`` (formatting hundreds of references
    through reportlab's generic path was a third of the tagging cost)."""
    return b"%d %d R" % document.idToObjectNumberAndVersion[name]


class _StructTreeRootObject(PDFObject):
    __RefOnly__ = 1

    def __init__(self) -> None:
        self.doc_elem: _StructElemObject | None = None
        self.parents: list[list[_StructElemObject]] = []  # per page: the element of each MCID

    def format(self, document: PDFDocument) -> bytes:
        nums = []
        for index, owners in enumerate(self.parents):
            refs = b" ".join(_ref(document, o.name) for o in owners)
            nums.append(b"%d [%s]" % (index, refs))
        tree = _Raw(b"<< /Nums [" + b"\n".join(nums) + b"] >>")
        return (
            b"<< /Type /StructTreeRoot /K "
            + _ref(document, self.doc_elem.name)  # type: ignore[union-attr]
            + b" /ParentTree "
            + pdf_format(tree, document)
            + b" /ParentTreeNextKey %d >>" % len(self.parents)
        )


class _Raw(PDFObject):
    """Pre-formatted bytes as an indirect object."""

    __RefOnly__ = 1

    def __init__(self, data: bytes) -> None:
        self.data = data

    def format(self, document: PDFDocument) -> bytes:
        return self.data


class _StructElemObject(PDFObject):
    __RefOnly__ = 1

    def __init__(self, elem: Elem, parent: str, pages: list[str]) -> None:
        self.elem = elem
        self.parent = parent  # object names, registered with the document by ``write``
        self.pages = pages
        self.name = ""

    def format(self, document: PDFDocument) -> bytes:
        e = self.elem
        out = [b"<< /Type /StructElem /S /", e.role.encode(), b" /P ", _ref(document, self.parent)]
        mcrs = e.text_kids()
        page = mcrs[0][0] if mcrs else None
        if page is not None:
            out += [b" /Pg ", _ref(document, self.pages[page])]
        if e.attrs:
            a = b" ".join(b"/%s /%s" % (k.encode(), v.encode()) for k, v in e.attrs.items())
            out += [b" /A << ", a, b" >>"]
        if e.alt is not None:
            out += [b" /Alt ", pdf_format(PDFString(e.alt), document)]
        kids = []
        for kid in e.kids:
            if isinstance(kid, Elem):
                kids.append(_ref(document, kid._obj.name))  # type: ignore[union-attr]
            elif kid[0] == page:
                kids.append(b"%d" % kid[1])
            else:
                pg = _ref(document, self.pages[kid[0]])
                kids.append(b"<< /Type /MCR /Pg " + pg + b" /MCID %d >>" % kid[1])
        out += [b" /K [", b" ".join(kids), b"] >>"]
        return b"".join(out)


def _register(doc: PDFDocument, elem: Elem, parent: str, pages: list[str]) -> _StructElemObject:
    """PDF objects for ``elem`` and everything below it, registered in reading order."""
    obj = elem._obj = _StructElemObject(elem, parent, pages)
    obj.name = doc.Reference(obj).name
    for kid in elem.kids:
        if isinstance(kid, Elem):
            _register(doc, kid, obj.name, pages)
    return obj


def _xmp(*, title: str, author: str, subject: str, keywords: str) -> str:
    def alt(text: str) -> str:
        return f'<rdf:Alt><rdf:li xml:lang="x-default">{escape(text)}</rdf:li></rdf:Alt>'

    return f"""<?xpacket begin="\ufeff" id="W5M0MpCehiHzreSzNTczkc9d"?>
<x:xmpmeta xmlns:x="adobe:ns:meta/">
<rdf:RDF xmlns:rdf="http://www.w3.org/1999/02/22-rdf-syntax-ns#">
<rdf:Description rdf:about=""
 xmlns:dc="http://purl.org/dc/elements/1.1/"
 xmlns:pdf="http://ns.adobe.com/pdf/1.3/"
 xmlns:xmp="http://ns.adobe.com/xap/1.0/"
 xmlns:pdfuaid="http://www.aiim.org/pdfua/ns/id/">
<dc:format>application/pdf</dc:format>
<dc:title>{alt(title)}</dc:title>
<dc:creator><rdf:Seq><rdf:li>{escape(author)}</rdf:li></rdf:Seq></dc:creator>
<dc:description>{alt(subject)}</dc:description>
<dc:language><rdf:Bag><rdf:li>{LANG}</rdf:li></rdf:Bag></dc:language>
<pdf:Keywords>{escape(keywords)}</pdf:Keywords>
<xmp:CreatorTool>INT Desk</xmp:CreatorTool>
<pdfuaid:part>{PDFUA_PART}</pdfuaid:part>
</rdf:Description>
</rdf:RDF>
</x:xmpmeta>
<?xpacket end="w"?>"""


# --- drawing helpers used by pdf_base ------------------------------------------------------------


@contextmanager
def content(canvas: Canvas, role: str) -> Iterator[None]:
    """Draw real content (a heading, a paragraph) as a new element under the container."""
    tags = tagger(canvas)
    if tags is None:
        yield
        return
    tags.begin(canvas, tags.add(role))
    try:
        yield
    finally:
        tags.end(canvas)


@contextmanager
def artifact(canvas: Canvas, kind: str = "Layout", subtype: str = "") -> Iterator[None]:
    """Draw decoration or running furniture that is not part of the content."""
    tags = tagger(canvas)
    if tags is None:
        yield
        return
    tags.begin_artifact(canvas, kind, subtype)
    try:
        yield
    finally:
        tags.end(canvas)


class Para(Paragraph):
    """A Paragraph whose wrapped lines end with the space the line break replaced.

    Text read through the structure tree (by a screen reader, or poppler's struct text) is the
    marked content's strings joined as they are; without that space the last word of a line
    runs into the first of the next ("Ifchest pain"). Layout is untouched: the space is added
    only when the lines are drawn, at the end of a left-aligned line."""

    _continues = False  # a part that goes on overleaf: its last line breaks a sentence too

    def split(self, avail_width: float, avail_height: float) -> list[Flowable]:
        parts = super().split(avail_width, avail_height)
        for part in parts[:-1]:
            part._continues = True
        return parts

    def drawPara(self, debug: int = 0) -> None:  # noqa: N802 - reportlab's name
        bl = self.blPara
        lines = bl.lines
        broken = lines if self._continues else lines[:-1]
        if not broken:
            super().drawPara(debug)
            return
        if bl.kind == 0:
            spaced = [(extra, [*words, ""]) for extra, words in broken]
        else:
            spaced = [_with_trailing_space(line) for line in broken]
        bl.lines = spaced + lines[len(broken) :]
        try:
            super().drawPara(debug)
        finally:
            bl.lines = lines


def _with_trailing_space(line: Any) -> Any:
    if not getattr(line, "words", None):
        return line
    line = copy.copy(line)
    last = copy.copy(line.words[-1])
    if not getattr(last, "text", " ").endswith(" "):
        last.text = last.text + " "
    line.words = [*line.words[:-1], last]
    return line


class Tagged(Flowable):
    """Draws ``inner`` (a Paragraph, or a part of one) as marked content of one element; the
    parts it splits into share that element through the slot."""

    tags_itself = True

    def __init__(self, inner: Flowable, role: str, slot: Slot | None = None) -> None:
        super().__init__()
        self.inner = inner
        self.role = role
        self.slot = slot or Slot()
        self.style = getattr(inner, "style", None)

    def wrap(self, avail_width: float, avail_height: float) -> tuple[float, float]:
        self.width, self.height = self.inner.wrap(avail_width, avail_height)
        return self.width, self.height

    def split(self, avail_width: float, avail_height: float) -> list[Flowable]:
        return [
            Tagged(p, self.role, self.slot) for p in self.inner.split(avail_width, avail_height)
        ]

    def getSpaceBefore(self) -> float:  # noqa: N802 - reportlab's name
        return float(self.inner.getSpaceBefore())

    def getSpaceAfter(self) -> float:  # noqa: N802 - reportlab's name
        return float(self.inner.getSpaceAfter())

    def drawOn(self, canvas: Canvas, x: float, y: float, _sW: float = 0) -> None:  # noqa: N802, N803
        tags = tagger(canvas)
        if tags is None:
            self.inner.drawOn(canvas, x, y, _sW)
            return
        tags.begin(canvas, tags.element(self.slot, self.role))
        self.inner.drawOn(canvas, x, y, _sW)
        tags.end(canvas)


class TableTags(TableRenderCB):
    """Tags a reportlab Table while it draws (pass it as the table's ``renderCB``).

    A data table becomes Table > TR > TH/TD: the first ``header_rows`` rows are column headers
    (``/Scope /Column``), the first ``header_cols`` columns row headers (``/Scope /Row``). A
    ``layout`` table (a tinted box around other flowables) becomes a Div whose contents tag
    themselves. Tints and rules are artifacts. The parts a table splits into share this
    object, so a table over three pages is one Table element, and the header rows repeated at
    the top of later pages are pagination artifacts rather than extra rows.
    """

    def __init__(self, *, header_rows: int = 0, header_cols: int = 0, layout: bool = False):
        self.header_rows = header_rows
        self.header_cols = header_cols
        self.layout = layout
        self.slot = Slot()
        self.parts = 0
        self._tags: Tagger | None = None
        self._row: Elem | None = None
        self._repeated = False
        self._cell: tuple[str, Elem | None] = ("", None)

    def startTable(self, T: Table) -> None:  # noqa: N802, N803 - reportlab's names
        self._tags = tagger(T.canv)
        if self._tags is None:
            return
        self.parts += 1
        self._tags.push(self._tags.element(self.slot, "Div" if self.layout else "Table"))

    def endTable(self, T: Table) -> None:  # noqa: N802, N803
        if self._tags is not None:
            self._tags.pop(self.slot.elem)  # type: ignore[arg-type]

    def startBG(self, T: Table) -> None:  # noqa: N802, N803
        if self._tags is not None:
            self._tags.begin_artifact(T.canv)

    def endBG(self, T: Table) -> None:  # noqa: N802, N803
        if self._tags is not None:
            self._tags.end(T.canv)

    startLines = startBG  # noqa: N815
    endLines = endBG  # noqa: N815

    def startRow(self, T: Table, row: int) -> None:  # noqa: N802, N803
        tags = self._tags
        self._repeated = self.parts > 1 and row < self.header_rows
        if tags is None or self.layout or self._repeated:
            self._row = None
            return
        self._row = tags.add("TR")
        tags.push(self._row)

    def endRow(self, T: Table) -> None:  # noqa: N802, N803
        if self._tags is not None and self._row is not None:
            self._tags.pop(self._row)

    def startCell(  # noqa: N802
        self,
        T: Table,
        row: int,
        col: int,
        value: Any,
        style: Any,
        pos: Any,
        size: Any,  # noqa: N803
    ) -> None:
        tags = self._tags
        if tags is None:
            return
        leaf = not _tags_itself(value)
        if self._repeated:
            tags.begin_artifact(T.canv, "Pagination")
            self._cell = ("artifact", None)
            return
        if self.layout:
            if leaf:
                tags.begin(T.canv, tags.add("P"))
                self._cell = ("leaf", None)
            else:
                self._cell = ("", None)
            return
        if row < self.header_rows:
            cell = tags.add("TH", {"O": "Table", "Scope": "Column"})
        elif col < self.header_cols:
            cell = tags.add("TH", {"O": "Table", "Scope": "Row"})
        else:
            cell = tags.add("TD")
        if leaf:
            tags.begin(T.canv, cell)
            self._cell = ("leaf", cell)
        else:
            tags.push(cell)
            self._cell = ("container", cell)

    def endCell(self, T: Table) -> None:  # noqa: N802, N803
        tags = self._tags
        mode, cell = self._cell
        if tags is None or not mode:
            return
        if mode == "container":
            tags.pop(cell)  # type: ignore[arg-type]
        else:
            tags.end(T.canv)


def _tags_itself(value: Any) -> bool:
    """Whether a table cell's content adds its own elements (else the cell marks it)."""
    if isinstance(value, list | tuple):
        return any(_tags_itself(v) for v in value)
    return bool(getattr(value, "tags_itself", False))


def tagger(canvas: Any) -> Tagger | None:
    """The canvas's tagger; None for a canvas that does not tag (a flowable drawn elsewhere)."""
    return getattr(canvas, "tags", None)


def role_for(style_name: str, parents: Sequence[str]) -> str:
    """The structure type of text in a paragraph style: headings by the style they derive from."""
    for name in (style_name, *parents):
        if name in _HEADING_STYLES:
            return _HEADING_STYLES[name]
    return "P"


_HEADING_STYLES = {"title": "H1", "h2": "H2", "h3": "H3"}
