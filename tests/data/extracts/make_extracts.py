"""Writes the sample extracts in this folder, as EMIS Web, SystmOne, Excel and analysts write them.

    .venv/bin/python -m tests.data.extracts.make_extracts

Synthetic people only (NHS numbers from the 999 test range). The files are committed; this
script says exactly how each was made (BOM, line endings, encoding, sheets), so a reviewer can
see what the tests read without a hex editor.
"""

from __future__ import annotations

import io
import zipfile
from datetime import date
from pathlib import Path
from xml.sax.saxutils import escape

HERE = Path(__file__).resolve().parent

# EMIS Web population report, exported to CSV: title, run date and population lines above the
# header, every cell quoted, UTF-8 with BOM, CRLF, dd-Mmm-yyyy dates, a total at the foot.
EMIS = [
    '"Frailty - moderate and severe (synthetic test report)"',
    '"Run Date: 10-Jan-2026 09:15"',
    '"Population Count: 3 (Parent Population: Registered patients)"',
    '"NHS Number","Surname","Forename","Date of Birth","Postcode","Practice Code","Risk Score"',
    '"999 987 0007","O\'Brien","Siobhán","10-Jan-1930","OX16 1AA","Y90001","0.82"',
    '"999 987 0015","McDonald","Hamish","03-Apr-1936","OX16 2BB","Y90001","0.64"',
    '"999 987 0023","Lefèvre","Amélie","21-Dec-1941","OX16 3CC","Y90002",""',
    '"Total: 3 patients"',
    "",
]

# SystmOne report: one "Patient Name" column as SURNAME, Forename; dd/mm/yyyy; UTF-8, CRLF.
SYSTMONE = [
    "Patient Name,NHS Number,Date of Birth,Gender,Postcode,Registered Practice",
    '"MCDONALD, Hamish",9999870015,03/04/1936,M,OX16 2BB,Y90001',
    '"O\'BRIEN, Siobhán",9999870007,10/01/1930,F,OX16 1AA,Y90001',
    '"NÍ BHRIAIN, Aoife",9999870031,17/03/1944,F,OX16 4DD,Y90001',
    '"VAN DER BERG, Jan",9999870058,02/11/1939,M,OX16 5EE,Y90002',
    '"SMITH-JONES, Mary",9999870066,29/02/1940,F,OX16 6FF,Y90002',
    "",
]

# Excel "Unicode Text" (File > Save As): UTF-16 LE with BOM, tab-separated, CRLF.
UNICODE_TEXT = [
    "NHS number\tFirst name\tLast name\tDOB\tPost code\tGP practice",
    "9999870074\tŁukasz\tNowak\t10/01/1930\tOX16 7GG\tY90001",
    "9999870082\tZoë\tAdeyemi\t05/06/1948\tOX16 8HH\tY90002",
    "",
]

# An analyst's CSV saved by older Excel: Windows-1252, semicolons, dd.mm.yyyy, a placeholder NHS
# number typed where the number was unknown.
ANALYST_CP1252 = [
    "NHS No.;Forename;Surname;DOB;Postcode;Practice",
    "999 987 0090;Zoë;Lefèvre;10.01.1930;OX16 9JJ;Y90001",
    "1111111111;Unknown;Person;01.01.1950;OX16 9JJ;Y90001",
    "",
]

# UTF-8 on every line but one, which an editor saved as Windows-1252: must be refused.
MIXED = [
    ("NHS Number,Forename,Surname,Date of Birth,Postcode,Practice Code", "utf-8"),
    ("9999870104,Łukasz,Kowalski,10/01/1930,OX16 1AA,Y90001", "utf-8"),
    ("9999870112,Zoë,Brennan,05/06/1948,OX16 2BB,Y90001", "cp1252"),
    ("9999870120,Ana,Núñez,07/07/1947,OX16 3CC,Y90001", "utf-8"),
]

# Workbook rows: a title and a blank row above the header, Excel dates and numeric NHS
# numbers, a full name column (two ambiguous), a curly apostrophe, a footer.
WORKBOOK_HEADER = ["NHS Number", "Patient Name", "Date of Birth", "Postcode", "Practice Code"]
WORKBOOK_ROWS = [
    [9999870139, "Jan van der Berg", date(1939, 11, 2), "OX16 1AB", "Y90001"],
    [9999870147, "Mary Ann Smith", date(1950, 5, 5), "OX16 2AB", "Y90001"],
    [9999870155, "Siobhán O\u2019Neill", date(1945, 8, 30), "OX16 3AB", "Y90002"],
    [9999870163, "Priya Raman", date(1952, 1, 31), "OX16 4AB", "Y90002"],
]


def _write_text(name: str, lines: list[str], encoding: str, newline: str = "\r\n") -> None:
    (HERE / name).write_bytes(newline.join(lines).encode(encoding))


def make_xlsx() -> bytes:
    from openpyxl import Workbook

    book = Workbook()
    sheet = book.active
    assert sheet is not None
    sheet.title = "Cohort"
    sheet.append(["Frailty cohort for the INT (synthetic)"])
    sheet.append([])
    sheet.append(WORKBOOK_HEADER)
    for row in WORKBOOK_ROWS:
        sheet.append(row)
        sheet.cell(sheet.max_row, 3).number_format = "dd/mm/yyyy"
    sheet.append([])
    sheet.append(["Total: 4 patients"])
    summary = book.create_sheet("Summary")
    summary.append(["Practice", "Patients"])
    summary.append(["Y90001", 2])
    buffer = io.BytesIO()
    book.save(buffer)
    return buffer.getvalue()


def _ods_cell(value: object) -> str:
    if value is None or value == "":
        return "<table:table-cell/>"
    if isinstance(value, date):
        return (
            f'<table:table-cell office:value-type="date" office:date-value="{value.isoformat()}">'
            f"<text:p>{value:%d/%m/%Y}</text:p></table:table-cell>"
        )
    if isinstance(value, int):
        return (
            f'<table:table-cell office:value-type="float" office:value="{value}">'
            f"<text:p>{value}</text:p></table:table-cell>"
        )
    return f'<table:table-cell office:value-type="string"><text:p>{escape(str(value))}</text:p></table:table-cell>'


def _ods_sheet(name: str, rows: list[list[object]]) -> str:
    body = "".join(
        "<table:table-row>" + "".join(_ods_cell(v) for v in row) + "</table:table-row>"
        for row in rows
    )
    return f'<table:table table:name="{escape(name)}">{body}</table:table>'


def make_ods() -> bytes:
    """A LibreOffice Calc workbook (hand-written XML: the few elements a reader needs)."""
    sheets = _ods_sheet("Read me", [["This workbook lists the frailty cohort on the next sheet."]])
    sheets += _ods_sheet("Frailty", [WORKBOOK_HEADER, *WORKBOOK_ROWS])
    content = (
        '<?xml version="1.0" encoding="UTF-8"?>'
        '<office:document-content xmlns:office="urn:oasis:names:tc:opendocument:xmlns:office:1.0" '
        'xmlns:table="urn:oasis:names:tc:opendocument:xmlns:table:1.0" '
        'xmlns:text="urn:oasis:names:tc:opendocument:xmlns:text:1.0" office:version="1.2">'
        f"<office:body><office:spreadsheet>{sheets}</office:spreadsheet></office:body>"
        "</office:document-content>"
    )
    manifest = (
        '<?xml version="1.0" encoding="UTF-8"?>'
        '<manifest:manifest xmlns:manifest="urn:oasis:names:tc:opendocument:xmlns:manifest:1.0" '
        'manifest:version="1.2">'
        '<manifest:file-entry manifest:full-path="/" manifest:version="1.2" '
        'manifest:media-type="application/vnd.oasis.opendocument.spreadsheet"/>'
        '<manifest:file-entry manifest:full-path="content.xml" manifest:media-type="text/xml"/>'
        "</manifest:manifest>"
    )
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as z:
        fixed = (2026, 1, 10, 9, 15, 0)  # the same bytes on every run
        mimetype = zipfile.ZipInfo("mimetype", fixed)  # first and stored, as the format asks
        z.writestr(mimetype, "application/vnd.oasis.opendocument.spreadsheet")
        for name, text in (("content.xml", content), ("META-INF/manifest.xml", manifest)):
            info = zipfile.ZipInfo(name, fixed)
            info.compress_type = zipfile.ZIP_DEFLATED
            z.writestr(info, text)
    return buffer.getvalue()


def main() -> None:
    _write_text("emis_web_report.csv", EMIS, "utf-8-sig")
    _write_text("systmone_report.csv", SYSTMONE, "utf-8")
    _write_text("excel_unicode_text.txt", UNICODE_TEXT, "utf-16")  # Python writes the LE BOM
    _write_text("analyst_windows1252.csv", ANALYST_CP1252, "cp1252")
    (HERE / "mixed_encodings.csv").write_bytes(
        b"\r\n".join(line.encode(enc) for line, enc in MIXED) + b"\r\n"
    )
    (HERE / "analyst_workbook.xlsx").write_bytes(make_xlsx())
    (HERE / "analyst_workbook.ods").write_bytes(make_ods())


if __name__ == "__main__":
    main()
