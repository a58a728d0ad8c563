"""Checks of tagged PDF (PDF/UA-1) made with tools nobody here wrote: poppler's ``pdfinfo``
(structure tree with its text, ``-struct-text``) and ``pdftotext``, ``qpdf --check`` and pikepdf
(catalog, XMP metadata, the operators of every page's content stream).
"""

from __future__ import annotations

import re
import subprocess
from dataclasses import dataclass, field
from pathlib import Path

import pikepdf

# Operators that put marks on the page: text showing, path painting, images and shadings.
PAINTING = frozenset({"Tj", "TJ", "'", '"', "f", "F", "f*", "S", "s", "B", "B*", "b", "b*"})
PAINTING |= {"Do", "sh", "BI"}


@dataclass
class Node:
    """A structure element as pdfinfo prints it: its type, attributes and, in reading order,
    its text (strings) and child elements."""

    role: str
    attrs: dict[str, str] = field(default_factory=dict)
    items: list[str | Node] = field(default_factory=list)

    def walk(self) -> list[Node]:
        out = [self]
        for item in self.items:
            if isinstance(item, Node):
                out += item.walk()
        return out

    def strings(self) -> list[str]:
        """Every piece of marked text below this element, in reading order."""
        out: list[str] = []
        for item in self.items:
            out += item.strings() if isinstance(item, Node) else [item]
        return out

    def text(self) -> str:
        return " ".join(" ".join(self.strings()).split())

    def find(self, role: str) -> list[Node]:
        return [n for n in self.walk() if n.role == role]


def run(*args: str) -> str:
    return subprocess.run(args, capture_output=True, check=True, text=True).stdout


def struct_tree(path: Path) -> Node:
    """The logical structure tree with its text, read by ``pdfinfo -struct-text``."""
    root = Node("(root)")
    stack: list[tuple[int, Node]] = [(-1, root)]
    for line in run("pdfinfo", "-struct-text", str(path)).splitlines():
        body = line.lstrip(" ")
        if not body:
            continue
        indent = len(line) - len(body)
        while stack[-1][0] >= indent:
            stack.pop()
        parent = stack[-1][1]
        if body.startswith('"'):
            parent.items.append(body[1:-1] if body.endswith('"') else body[1:])
        elif body.startswith("/"):
            key, _, value = body[1:].partition(" ")
            parent.attrs[key] = value.strip()
        else:
            node = Node(body.split()[0].rstrip(":"))
            parent.items.append(node)
            stack.append((indent, node))
    (document,) = root.items
    assert isinstance(document, Node)
    return document


def headings(tree: Node) -> list[tuple[int, str]]:
    return [(int(n.role[1]), n.text()) for n in tree.walk() if re.fullmatch(r"H[1-6]", n.role)]


def untagged_marks(path: Path) -> list[str]:
    """Painting operators outside both marked content with an MCID and an artifact, and
    marked content with an MCID nested in another (each page's stream, parsed by pikepdf)."""
    problems = []
    with pikepdf.open(path) as pdf:
        for number, page in enumerate(pdf.pages, start=1):
            stack: list[tuple[str, bool]] = []
            for operands, operator in pikepdf.parse_content_stream(page):
                op = str(operator)
                if op in ("BDC", "BMC"):
                    props = operands[1] if op == "BDC" else None
                    has_mcid = isinstance(props, pikepdf.Dictionary) and "/MCID" in props
                    stack.append((str(operands[0]), has_mcid))
                    if has_mcid and any(m for _, m in stack[:-1]):
                        problems.append(f"page {number}: MCID nested in another")
                elif op == "EMC":
                    stack.pop()
                elif op in PAINTING and not any(t == "/Artifact" or m for t, m in stack):
                    problems.append(f"page {number}: {op} outside tags")
            if stack:
                problems.append(f"page {number}: marked content left open")
    return problems


def catalog_facts(path: Path) -> dict[str, object]:
    """What a reader and an assistive technology look for in the catalog and the metadata."""
    with pikepdf.open(path) as pdf:
        root = pdf.Root
        with pdf.open_metadata() as xmp:
            xmp_title = xmp.get("dc:title")
            pdfua_part = xmp.get("pdfuaid:part")
        return {
            "struct_tree_root": "/StructTreeRoot" in root,
            "marked": bool(root.get("/MarkInfo", {}).get("/Marked", False)),
            "lang": str(root.get("/Lang", "")),
            "display_doc_title": bool(
                root.get("/ViewerPreferences", {}).get("/DisplayDocTitle", False)
            ),
            "info_title": str(pdf.docinfo.get("/Title", "")),
            "xmp_title": xmp_title,
            "pdfua_part": pdfua_part,
            "metadata_stream": "/Metadata" in root,
            "pages_with_struct_parents": sum("/StructParents" in p.obj for p in pdf.pages),
            "pages": len(pdf.pages),
        }


def pdfinfo_tagged(path: Path) -> bool:
    return bool(re.search(r"^Tagged:\s+yes$", run("pdfinfo", str(path)), re.MULTILINE))


def qpdf_check(path: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(["qpdf", "--check", str(path)], capture_output=True, text=True)


def _squash(text: str) -> str:
    return " ".join(text.split())


def reading_order_gaps(path: Path, tree: Node) -> list[str]:
    """Tagged strings that pdftotext (which orders text by where it sits on the page) does
    not find in the same order: each string's opening words must come after the previous
    string's (two words: a wrapped cell's next line sits after its neighbours' first lines).
    An empty list means the reading order is the visual order."""
    visual = _squash(run("pdftotext", "-layout", str(path), "-"))
    position, missing = 0, []
    for text in tree.strings():
        words = _squash(text).split(" ")
        probe = " ".join(words[:2]).strip()
        if not probe or probe in {"•"}:
            continue
        found = visual.find(probe, position)
        if found < 0:
            missing.append(f"{probe!r} (after {visual[max(0, position - 40) : position]!r})")
        else:
            position = found + len(probe)
    return missing


def text_sizes(path: Path) -> set[float]:
    """The font sizes (pt) text is set in on every page. Only unscaled text is allowed: a
    ``cm`` or ``Tm`` that scales would make a Tf size differ from the printed size."""
    sizes: set[float] = set()
    with pikepdf.open(path) as pdf:
        for page in pdf.pages:
            for operands, operator in pikepdf.parse_content_stream(page):
                op = str(operator)
                if op == "Tf":
                    sizes.add(float(operands[1]))
                elif op in ("cm", "Tm"):
                    a, b, c, d = (float(x) for x in operands[:4])
                    assert (a, b, c, d) == (1, 0, 0, 1), f"scaled text ({op} {a} {b} {c} {d})"
    return sizes
