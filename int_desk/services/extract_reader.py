"""Reading extracts as GP systems, analysts and spreadsheets write them: the file layer only.

    table = read_extract(path_or_bytes, header_score=..., sheet=None)
    table.headers, table.rows                 # cells as text, blank rows kept as []
    table.line_of(i)                          # the file line (or sheet row) of rows[i]
    table.findings()                          # ["EMIS Web report", "3 lines above the header skipped", ...]

It knows nothing of patients: the cohort import (and any other extract, e.g. admissions or a
deprivation column) validates the rows. What it handles:

* CSV or other delimited text (``,`` ``;`` tab ``|``) in UTF-8 (with or without BOM), UTF-16
  (Excel's "Unicode text"), or a single-byte encoding told apart by charset-normalizer. A file
  that is UTF-8 on some lines and something else on others is refused, naming the lines: read
  either way it would store garbled names (mojibake) without a word.
* ``.xlsx`` / ``.xls`` / ``.ods`` workbooks through calamine: the first sheet or a named one.
* Report preambles above the header row (EMIS Web's title, run date and population lines) found
  and skipped; footer lines ("Total: 3 patients") and blank lines at the end skipped. Both are
  reported, never silently dropped.
* UK dates as they come: ``10-Jan-1930``, ``10/01/1930``, ``10.01.1930``, ``1930-01-10``...
  (``parse_uk_date``), with the style named for the preview.

Errors are ``ValidationError`` with a message for a person; they name lines, never contents.
"""

from __future__ import annotations

import codecs
import csv
import io
import re
import zipfile
from collections import Counter
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import date, datetime, time
from pathlib import Path
from typing import Any, Generic, Protocol, TypeVar

from int_desk.domain.errors import ValidationError

MAX_ROWS = 200_000
MAX_FILE_BYTES = 100 * 1024 * 1024
HEADER_SEARCH_ROWS = 50  # a preamble longer than this is not a report header
DELIMITERS = (",", "\t", ";", "|")

# Single-byte encodings a UK GP system, Excel or an older analyst tool writes.
_WESTERN = ["cp1252", "latin_1", "iso8859_15", "cp850", "mac_roman"]
_ENCODING_NAMES = {
    "utf_8": "UTF-8", "utf-8": "UTF-8", "cp1252": "Windows-1252", "latin_1": "Latin-1",
    "iso8859_15": "Latin-9", "cp850": "DOS Latin-1", "mac_roman": "Mac Roman",
}  # fmt: skip

_FOOTER = re.compile(
    r"^\s*(grand\s+)?(total|totals|count|number of|population|end of|report (end|generated|run)"
    r"|generated|printed|page \d|\d[\d,]*\s+(patients?|records?|rows?|people)\b)",
    re.IGNORECASE,
)
_EMIS_PREAMBLE = re.compile(r"\bemis\b|population count|\bparent population\b", re.IGNORECASE)
_REPORT_PREAMBLE = re.compile(r"run date|search date|report date|date run", re.IGNORECASE)
_SYSTMONE_PREAMBLE = re.compile(r"systmone|\btpp\b", re.IGNORECASE)


IGNORE = "ignore"  # a column mapped to no field


def norm_header(text: str) -> str:
    """A column name as compared: lower case, letters and digits only."""
    return re.sub(r"[^a-z0-9]", "", text.lower())


@dataclass(frozen=True)
class Columns:
    """The column names an import recognises (``norm_header`` form -> field), and what follows
    from them: finding the header row, reading a file, the first mapping of its columns."""

    lookup: dict[str, str]

    def header_score(self, row: list[str]) -> int:
        """How many cells of a row are column names we recognise (finds the header under a
        preamble)."""
        return sum(1 for cell in row if norm_header(cell) in self.lookup)

    def read(
        self, source: Path | str | bytes, *, name: str = "", sheet: str | None = None
    ) -> ExtractTable:
        """Read an extract: delimited text in any usual encoding, or a workbook's sheet."""
        table = read_extract(source, name=name, sheet=sheet, header_score=self.header_score)
        if not any(table.headers):
            raise ValidationError("The file's first line has no column names.")
        return table

    def auto_mapping(self, headers: list[str]) -> dict[str, str]:
        """Column -> field for every header we recognise (each field once); others ignored."""
        mapping: dict[str, str] = {}
        used: set[str] = set()
        for h in headers:
            f = self.lookup.get(norm_header(h))
            if f and f not in used:
                mapping[h] = f
                used.add(f)
            else:
                mapping[h] = IGNORE
        return mapping


REJECTED = "rejected"  # a row's status when it cannot be imported


class _Row(Protocol):
    status: str

    @property
    def accepted(self) -> bool: ...


_R = TypeVar("_R", bound=_Row)


class RowsPreview(Generic[_R]):
    """What an import's preview says of its rows (each with a status, and whether it would be
    written), and of the file (``findings``); a file-level problem stops every row."""

    rows: list[_R]
    problems: list[str]
    findings: list[str]

    def count(self, status: str) -> int:
        return sum(1 for r in self.rows if r.status == status)

    @property
    def rejected(self) -> list[_R]:
        return [r for r in self.rows if r.status == REJECTED]

    @property
    def to_write(self) -> list[_R]:
        return [r for r in self.rows if r.accepted] if not self.problems else []

    def found(self) -> str:
        """'EMIS Web report: 3 lines above the header skipped, dates as dd-Mmm-yyyy, ...'."""
        if not self.findings:
            return ""
        head, *rest = self.findings
        return f"{head}: {', '.join(rest)}." if rest else f"{head}."


@dataclass
class ExtractTable:
    """Headers and raw rows of one extract, and what was found on the way."""

    headers: list[str]
    rows: list[list[str]]  # cells as text; a blank row is [] so line numbers stay true
    first_line: int = 2  # file line (sheet row) of rows[0]
    source_name: str = ""
    kind: str = "CSV file"
    encoding: str = ""  # "" for workbooks
    sheet: str = ""
    sheets: list[str] = field(default_factory=list)
    preamble_lines: int = 0
    footer_lines: list[int] = field(default_factory=list)  # file lines skipped as footers
    trailing_blank_lines: int = 0
    date_columns: set[int] = field(default_factory=set)  # workbook columns holding date cells

    def line_of(self, index: int) -> int:
        return self.first_line + index

    def shown(self, column: int, text: str) -> str:
        """A cell as the person's spreadsheet shows it: a workbook date cell in the UK form
        (10/01/1930), not the ISO text the reader keeps for parsing."""
        if column not in self.date_columns:
            return text
        try:
            value = datetime.fromisoformat(text)
        except ValueError:
            return text
        day = value.strftime("%d/%m/%Y")
        return day if value.time() == time(0) else f"{day} {value:%H:%M}"

    @property
    def data_rows(self) -> int:
        return sum(1 for r in self.rows if r)

    def findings(self) -> list[str]:
        """What the reader found, for the preview's first line."""
        out = [self.kind + (f", sheet '{self.sheet}'" if self.sheet else "")]
        if self.encoding and not self.encoding.startswith(("UTF-8", "UTF-16")):
            out.append(f"{self.encoding} text")
        if self.preamble_lines:
            n = self.preamble_lines
            out.append(f"{n} line{'s' if n != 1 else ''} above the header skipped")
        return out

    def closing_findings(self) -> list[str]:
        out = []
        if self.footer_lines:
            n = len(self.footer_lines)
            where = ", ".join(str(x) for x in self.footer_lines[:5])
            out.append(f"{n} footer line{'s' if n != 1 else ''} ignored (line {where})")
        if self.trailing_blank_lines:
            n = self.trailing_blank_lines
            out.append(f"{n} blank line{'s' if n != 1 else ''} at the end skipped")
        return out


# --- entry point -------------------------------------------------------------------------------


def read_extract(
    source: Path | str | bytes,
    *,
    name: str = "",
    sheet: str | None = None,
    header_score: Callable[[list[str]], int] | None = None,
) -> ExtractTable:
    """Read a delimited text file or a workbook (path, bytes, or already-decoded text).

    ``header_score`` counts the cells of a row that are known column names: the first row in
    the top ``HEADER_SEARCH_ROWS`` scoring 2 or more is the header. Without one (or when no
    row scores), the header is the first row as wide as most of the file's rows.
    """
    if isinstance(source, Path):
        try:
            size = source.stat().st_size
        except OSError as exc:
            raise ValidationError(f"Cannot read that file ({exc.strerror}).") from None
        if size > MAX_FILE_BYTES:
            raise ValidationError("That file is too large to import (over 100 MB).")
        data: bytes | str = source.read_bytes()
        name = name or source.name
    else:
        data = source
    if isinstance(data, bytes) and _is_workbook(data):
        grid, kind, sheet_name, sheets, date_cells = _read_workbook(data, sheet)
        table = _table(grid, header_score, kind=kind, encoding="")
        table.sheet, table.sheets = sheet_name, sheets
        # A column is a date column when most of its cells under the header are date cells.
        below = [(r, c) for r, c in date_cells if r >= table.first_line - 1]
        counts = Counter(c for _, c in below)
        table.date_columns = {c for c, n in counts.items() if n * 2 >= max(1, table.data_rows)}
    else:
        if sheet:
            raise ValidationError("Only a workbook (.xlsx, .xls, .ods) has sheets to choose.")
        if isinstance(data, bytes):
            text, encoding = decode_text(data)
        else:
            text, encoding = data.lstrip("\ufeff"), "UTF-8"
        grid = _parse_text(text)
        kind = "Unicode text (UTF-16)" if encoding.startswith("UTF-16") else "CSV file"
        table = _table(grid, header_score, kind=kind, encoding=encoding)
    table.source_name = name
    return table


# --- text --------------------------------------------------------------------------------------


def decode_text(data: bytes) -> tuple[str, str]:
    """The text of an extract and the name of its encoding; refuses mixed encodings."""
    if not data.strip(b"\x00\r\n\t \xef\xbb\xbf\xff\xfe"):
        raise ValidationError("The file is empty.")
    for bom, codec, label in (
        (codecs.BOM_UTF16_LE, "utf-16-le", "UTF-16"),
        (codecs.BOM_UTF16_BE, "utf-16-be", "UTF-16"),
    ):
        if data.startswith(bom):
            return _strict(data[len(bom) :], codec, label), label
    utf16 = _utf16_without_bom(data)
    if utf16:
        return _strict(data, utf16, "UTF-16"), "UTF-16"
    label = "UTF-8"
    if data.startswith(codecs.BOM_UTF8):
        data, label = data[3:], "UTF-8 with BOM"
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError:
        text, label = _single_byte(data)
    _refuse_binary(text)
    return text, label


def _strict(data: bytes, codec: str, label: str) -> str:
    try:
        text = data.decode(codec)
    except UnicodeDecodeError:
        raise ValidationError(
            f"The file starts as {label} text but is not {label} throughout; save it again "
            "from the program that made it."
        ) from None
    _refuse_binary(text)
    return text


def _utf16_without_bom(data: bytes) -> str | None:
    """Excel and some reporting tools write UTF-16 without a BOM: every other byte is 0."""
    sample = data[:4000]
    if len(sample) < 4:
        return None
    even, odd = sample[0::2], sample[1::2]
    if odd.count(0) > 0.7 * len(odd) and even.count(0) < 0.1 * len(even):
        return "utf-16-le"
    if even.count(0) > 0.7 * len(even) and odd.count(0) < 0.1 * len(odd):
        return "utf-16-be"
    return None


def _single_byte(data: bytes) -> tuple[str, str]:
    """Not UTF-8 throughout: refuse a mix, else let charset-normalizer tell the code page."""
    lines = data.split(b"\n")
    utf8_lines, other_lines = [], []
    for number, line in enumerate(lines, start=1):
        if line.isascii():
            continue
        try:
            line.decode("utf-8")
        except UnicodeDecodeError:
            other_lines.append(number)
        else:
            utf8_lines.append(number)
    if utf8_lines and other_lines:
        named = ", ".join(str(n) for n in other_lines[:10])
        more = f" and {len(other_lines) - 10} more" if len(other_lines) > 10 else ""
        raise ValidationError(
            f"The file mixes text encodings: line{'s' if len(other_lines) > 1 else ''} "
            f"{named}{more} {'are' if len(other_lines) > 1 else 'is'} not UTF-8, though the "
            "rest of the file is. Nothing was read: names would be stored garbled. Correct "
            "those lines, or save the whole file again as CSV UTF-8, and import it again."
        )
    from charset_normalizer import from_bytes  # imported when needed: most files are UTF-8

    best = from_bytes(data, cp_isolation=_WESTERN).best()
    encoding = best.encoding if best is not None else "cp1252"
    return data.decode(encoding, errors="replace"), _ENCODING_NAMES.get(encoding, encoding)


def _refuse_binary(text: str) -> None:
    sample = text[:4096]
    controls = sum(1 for c in sample if ord(c) < 32 and c not in "\r\n\t")
    if "\x00" in sample or controls > max(3, len(sample) // 100):
        raise ValidationError(
            "This is not a text extract or a spreadsheet INT Desk can read (CSV, text, .xlsx, "
            ".xls, .ods)."
        )


def _guess_delimiter(lines: list[str]) -> str:
    """The delimiter that splits most of the sample lines into the same number (>1) of cells."""
    best, best_score = ",", -1
    for delimiter in DELIMITERS:
        widths = [len(next(csv.reader([ln], delimiter=delimiter))) for ln in lines if ln.strip()]
        common = Counter(w for w in widths if w > 1).most_common(1)
        score = common[0][1] if common else 0
        if score > best_score:
            best, best_score = delimiter, score
    return best


def _parse_text(text: str) -> list[list[str]]:
    if not text.strip():
        raise ValidationError("The file is empty.")
    head = text[:65536].splitlines()[: HEADER_SEARCH_ROWS + 20]
    delimiter = _guess_delimiter(head)
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=delimiter)
    grid: list[list[str]] = []
    try:
        for row in reader:
            grid.append(row if any(c.strip() for c in row) else [])
            if len(grid) > MAX_ROWS + HEADER_SEARCH_ROWS:
                raise ValidationError(f"The file has more than {MAX_ROWS:,} rows.")
    except csv.Error as exc:
        raise ValidationError(
            f"The file is not valid CSV near line {reader.line_num} ({exc})."
        ) from None
    return grid


# --- workbooks ---------------------------------------------------------------------------------


def _is_workbook(data: bytes) -> bool:
    return data.startswith((b"PK\x03\x04", b"\xd0\xcf\x11\xe0"))


def _workbook_kind(data: bytes) -> str:
    if data.startswith(b"\xd0\xcf\x11\xe0"):
        return "Excel 97-2003 workbook"
    try:
        with zipfile.ZipFile(io.BytesIO(data)) as z:
            names = set(z.namelist())
            if "mimetype" in names and b"opendocument.spreadsheet" in z.read("mimetype"):
                return "OpenDocument spreadsheet"
            if any(n.startswith("xl/") for n in names):
                return "Excel workbook"
    except (zipfile.BadZipFile, OSError, ValueError, KeyError):
        pass
    raise ValidationError(
        "This is a compressed file, not a workbook INT Desk can read (.xlsx, .xls, .ods)."
    )


def _read_workbook(
    data: bytes, sheet: str | None
) -> tuple[list[list[str]], str, str, list[str], list[tuple[int, int]]]:
    kind = _workbook_kind(data)
    from python_calamine import CalamineWorkbook

    try:
        book = CalamineWorkbook.from_filelike(io.BytesIO(data))
        names = list(book.sheet_names)
        if not names:
            raise ValidationError("The workbook has no sheets.")
        if sheet is None:
            chosen = names[0]
        else:
            matches = [n for n in names if n.casefold() == sheet.strip().casefold()]
            if not matches:
                raise ValidationError(
                    f"The workbook has no sheet '{sheet}'; its sheets are: {', '.join(names)}."
                )
            chosen = matches[0]
        values = book.get_sheet_by_name(chosen).to_python(skip_empty_area=False)
    except ValidationError:
        raise
    except Exception as exc:  # calamine raises its own errors (and a few builtins) on damage
        raise ValidationError(
            f"The workbook cannot be read ({type(exc).__name__}); open it in the program that "
            "made it, save it again, and retry."
        ) from None
    if len(values) > MAX_ROWS + HEADER_SEARCH_ROWS:
        raise ValidationError(f"The sheet has more than {MAX_ROWS:,} rows.")
    grid = []
    date_cells = []  # (row index, column index) of cells the workbook holds as dates
    for i, row in enumerate(values):
        cells = [cell_text(v) for v in row]
        date_cells += [(i, j) for j, v in enumerate(row) if isinstance(v, date)]
        grid.append(cells if any(c.strip() for c in cells) else [])
    if not any(grid):
        others = [n for n in names if n != chosen]
        hint = f" Choose another sheet: {', '.join(others)}." if others else ""
        raise ValidationError(f"The sheet '{chosen}' is empty.{hint}")
    return grid, kind, chosen, names, date_cells


def cell_text(value: Any) -> str:
    """A workbook cell as the text a CSV export would hold (dates as ISO, whole numbers bare)."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return "TRUE" if value else "FALSE"
    if isinstance(value, float):
        if value.is_integer() and abs(value) < 1e15:
            return str(int(value))  # NHS numbers, counts: not 9994765914.0
        return repr(value)
    if isinstance(value, datetime):
        return value.date().isoformat() if value.time() == time(0) else value.isoformat()
    if isinstance(value, date):
        return value.isoformat()
    return str(value)


# --- header, preamble, footer ------------------------------------------------------------------


def _width(row: list[str]) -> int:
    """Cells up to the last non-empty one."""
    n = len(row)
    while n and not row[n - 1].strip():
        n -= 1
    return n


def _find_header(grid: list[list[str]], score: Callable[[list[str]], int] | None) -> int:
    top = grid[:HEADER_SEARCH_ROWS]
    if score is not None:
        for i, row in enumerate(top):
            if row and score(row) >= 2:
                return i
    sample = [_width(r) for r in grid[: HEADER_SEARCH_ROWS + 200] if r]
    common = Counter(w for w in sample if w > 1).most_common(1)
    if common:
        wide = common[0][0]
        for i, row in enumerate(top):
            if row and _width(row) >= wide:
                return i
    for i, row in enumerate(grid):
        if row:
            return i
    raise ValidationError("The file is empty.")


def _is_footer(row: list[str]) -> bool:
    filled = [c for c in row if c.strip()]
    return 0 < len(filled) <= 2 and bool(_FOOTER.match(filled[0]))


def _kind(preamble: list[list[str]], kind: str) -> str:
    text = " ".join(c for row in preamble for c in row)
    if not text.strip():
        return kind
    if _SYSTMONE_PREAMBLE.search(text):
        return "SystmOne report"
    if _EMIS_PREAMBLE.search(text):
        return "EMIS Web report"
    if _REPORT_PREAMBLE.search(text):
        return f"Report ({kind})"
    return kind


def _table(
    grid: list[list[str]],
    score: Callable[[list[str]], int] | None,
    *,
    kind: str,
    encoding: str,
) -> ExtractTable:
    if not any(grid):
        raise ValidationError("The file is empty.")
    h = _find_header(grid, score)
    headers = [c.strip() for c in grid[h]][: max(1, _width(grid[h]))]
    if not any(headers):
        raise ValidationError("The file's header row has no column names.")
    rows = grid[h + 1 :]
    first_line = h + 2
    footers: list[int] = []
    blanks = 0
    while rows and (not rows[-1] or _is_footer(rows[-1])):
        if rows[-1]:
            footers.append(first_line + len(rows) - 1)
        elif not footers:
            blanks += 1
        rows.pop()
    if len(rows) > MAX_ROWS:
        raise ValidationError(f"The file has more than {MAX_ROWS:,} rows.")
    table = ExtractTable(headers, rows, first_line, kind=_kind(grid[:h], kind), encoding=encoding)
    table.preamble_lines = h
    table.footer_lines = sorted(footers)
    table.trailing_blank_lines = blanks
    return table


# --- dates ---------------------------------------------------------------------------------------

_MONTHS = {
    m: i
    for i, names in enumerate(
        (("jan", "january"), ("feb", "february"), ("mar", "march"), ("apr", "april"),
         ("may",), ("jun", "june"), ("jul", "july"), ("aug", "august"),
         ("sep", "sept", "september"), ("oct", "october"), ("nov", "november"),
         ("dec", "december")),
        start=1,
    )
    for m in names
}  # fmt: skip
_DMY = re.compile(r"^(\d{1,2})([-/. ])(\d{1,2}|[A-Za-z]{3,9})\2(\d{2,4})$")
_ISO = re.compile(r"^(\d{4})-(\d{1,2})-(\d{1,2})$")
_COMPACT = re.compile(r"^(\d{4})(\d{2})(\d{2})$")
_TIME_PART = re.compile(r"(T|\s+)\d{1,2}:\d{2}(:\d{2}(\.\d+)?)?(Z|[+-]\d{2}:?\d{2})?$")


def parse_uk_date(raw: str) -> tuple[date, str]:
    """A date as UK systems write it and the style it was in (e.g. ``dd-Mmm-yyyy``).

    Day before month always (``03/04/1936`` is 3 April). A two-digit year is refused: for a
    date of birth the century cannot be told. Raises ValueError saying what is wrong.
    """
    text = _TIME_PART.sub("", raw.strip())
    m = _DMY.match(text)
    if m:
        day, sep, month, year = m.groups()
        if len(year) != 4:
            raise ValueError("date has a two-digit year (write it in full, e.g. 1940)")
        if month.isdigit():
            style = {"-": "dd-mm-yyyy", "/": "dd/mm/yyyy", ".": "dd.mm.yyyy", " ": "dd mm yyyy"}
            number = int(month)
        else:
            number = _MONTHS.get(month.lower(), 0)
            if not number:
                raise ValueError("date has an unknown month name")
            style = {"-": "dd-Mmm-yyyy", "/": "dd/Mmm/yyyy", ".": "dd.Mmm.yyyy", " ": "dd Mmm yyyy"}
        return date(int(year), number, int(day)), style[sep]
    m = _ISO.match(text)
    if m:
        return date(int(m[1]), int(m[2]), int(m[3])), "yyyy-mm-dd"
    m = _COMPACT.match(text)
    if m:
        return date(int(m[1]), int(m[2]), int(m[3])), "yyyymmdd"
    raise ValueError("not a date (use e.g. 31/12/1940, 31-Dec-1940 or 1940-12-31)")


def describe_styles(styles: Iterable[str]) -> str:
    """``dates as dd-Mmm-yyyy`` (the most common first when a file mixes styles)."""
    counts = Counter(styles)
    if not counts:
        return ""
    ordered = [s for s, _ in counts.most_common()]
    if len(ordered) == 1:
        return f"dates as {ordered[0]}"
    return f"dates as {ordered[0]} (also {', '.join(ordered[1:3])})"
