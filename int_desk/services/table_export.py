"""Tables written where people open them: CSV that Excel reads right, and .xlsx.

    write_csv(stream, columns, records)            # UTF-8 with BOM by default (Excel needs it)
    write_xlsx(path, columns, records, sheet=...)  # real date cells shown dd/mm/yyyy

``columns`` is a list of ``(key, heading)``. Values are written as given, except dates: the CSV
gets the UK form (``10/01/1930``), the workbook a date cell. Without the BOM, Excel on Windows
reads a UTF-8 CSV as Windows-1252 and shows ``LEFÃˆVRE`` for LEFÈVRE.

A workbook is written beside its destination and renamed into place, user-only where the OS
supports modes, so a failed export leaves no partial file.
"""

from __future__ import annotations

import csv
import os
from collections.abc import Iterable, Sequence
from datetime import date, datetime
from pathlib import Path
from typing import IO, Any

from int_desk.domain.errors import ValidationError
from int_desk.domain.uk_time import in_london, uk_date

BOM = "\ufeff"
Columns = Sequence[tuple[str, str]]


def _csv_value(value: Any) -> Any:
    if isinstance(value, date | datetime):
        return uk_date(value)
    return value


def write_csv(
    stream: IO[str], columns: Columns, records: Iterable[dict[str, Any]], *, bom: bool = True
) -> None:
    if bom:
        stream.write(BOM)
    writer = csv.writer(stream, lineterminator="\r\n")
    writer.writerow([heading for _, heading in columns])
    for r in records:
        writer.writerow([_csv_value(r.get(key, "")) for key, _ in columns])


def write_xlsx(
    path: Path, columns: Columns, records: Iterable[dict[str, Any]], *, sheet: str = "Export"
) -> int:
    """Write an .xlsx workbook; returns the number of rows written."""
    from openpyxl import Workbook  # only when a workbook is asked for
    from openpyxl.cell import WriteOnlyCell

    path = Path(path)
    if not path.parent.is_dir():
        raise ValidationError("Choose a folder that exists for the export.", "output")
    book = Workbook(write_only=True)
    ws = book.create_sheet(sheet[:31])
    ws.append([heading for _, heading in columns])
    n = 0
    for r in records:
        row = []
        for key, _ in columns:
            value = r.get(key, "")
            if isinstance(value, datetime):
                value = in_london(value).replace(tzinfo=None)  # Excel has no time zones
            if isinstance(value, date):
                cell = WriteOnlyCell(ws, value)
                cell.number_format = (
                    "dd/mm/yyyy" if not isinstance(value, datetime) else ("dd/mm/yyyy hh:mm")
                )
                row.append(cell)
            else:
                row.append(value)
        ws.append(row)
        n += 1
    partial = path.with_name(path.name + ".part")
    fd = os.open(partial, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    try:
        with os.fdopen(fd, "wb") as fh:
            book.save(fh)
        os.replace(partial, path)
    except BaseException:
        partial.unlink(missing_ok=True)
        raise
    return n
