"""The caseload list as a file people open in Excel: the same rows and columns from the CLI
(``int-desk caseload --format csv|xlsx``) and the window (File > Export caseload list…).

    records = caseload_records(rows, today)          # one dict per row, dates as date objects
    n = export_list(session=s, actor=a, filters=f, path=Path("caseload.xlsx"))

CSV is UTF-8 with a byte-order mark (Excel reads LEFÈVRE right) and dates in the UK form; the
workbook has real date cells shown dd/mm/yyyy. The caseload's own gate applies (whoever may see
the list may export it); the export is audited with the row count only, never the file's path.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Sequence
from datetime import date
from pathlib import Path
from typing import Any

from sqlalchemy.orm import Session

from int_desk.domain.actor import Actor
from int_desk.domain.errors import ValidationError
from int_desk.domain.uk_time import london_date, london_today, uk_date
from int_desk.services import access, table_export
from int_desk.services import caseload as cl

COLUMNS = [
    ("name", "Name"), ("nhs_number", "NHS number"), ("date_of_birth", "Date of birth"),
    ("age", "Age"), ("cohorts", "Cohorts"), ("priority", "Priority"),
    ("lead_professional", "Lead professional"), ("last_contact", "Last contact"),
    ("next_review_due", "Review due"), ("care_plan", "Care plan"), ("open_tasks", "Open tasks"),
    ("flags", "Flags"), ("attention", "Attention"),
]  # fmt: skip
CSV_COLUMNS = [(key, key) for key, _ in COLUMNS]  # a CSV's header row names the fields
FORMATS = ("csv", "xlsx")


def record(
    r: cl.CaseloadRow, today: date, day: Callable[[date], str] = uk_date
) -> dict[str, object]:
    """One row; dates as ``date`` objects (written per format), ``day`` formats those in text."""
    return {
        "name": r.display_name,
        "nhs_number": r.nhs_display,
        "date_of_birth": r.date_of_birth,  # name + DOB: never an ambiguous row
        "age": r.age(today),
        "cohorts": r.cohorts,
        "priority": r.priority.value,
        "lead_professional": r.lead_name,
        # The day of the last contact in London: 00:30 BST is that day, not the UTC day before.
        "last_contact": london_date(r.last_contact) if r.last_contact else None,
        "next_review_due": r.next_review,
        "care_plan": r.plan_label(today),
        "open_tasks": r.open_tasks,
        "flags": r.flag_labels(),
        "attention": attention(r, today, day),
    }


def attention(r: cl.CaseloadRow, today: date, day: Callable[[date], str] = uk_date) -> str:
    out = [alert.upper() for alert in r.alerts(today)]
    if not r.active and r.discharged_on:
        out.append(f"DISCHARGED {day(r.discharged_on)}")
    return " ".join(out)


def caseload_records(
    rows: Sequence[cl.CaseloadRow], today: date, day: Callable[[date], str] = uk_date
) -> list[dict[str, object]]:
    return [record(r, today, day) for r in rows]


def write_csv_file(path: Path, records: list[dict[str, Any]], *, bom: bool = True) -> None:
    """Written beside its destination and renamed into place, user-only where the OS supports
    modes: a failed export leaves no partial file and the old one intact."""
    path = Path(path)
    if not path.parent.is_dir():
        raise ValidationError("Choose a folder that exists for the export.", "output")
    partial = path.with_name(path.name + ".part")
    fd = os.open(partial, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    try:
        with os.fdopen(fd, "w", encoding="utf-8", newline="") as fh:
            table_export.write_csv(fh, CSV_COLUMNS, records, bom=bom)
        os.replace(partial, path)
    except BaseException:
        partial.unlink(missing_ok=True)
        raise


def export_list(
    *,
    session: Session,
    actor: Actor,
    filters: cl.CaseloadFilter,
    path: Path,
    fmt: str | None = None,
    bom: bool = True,
    limit: int | None = None,
) -> int:
    """Write the caseload as ``filters`` select it (search and sort included) to ``path``;
    ``fmt`` csv or xlsx (default: from the file's suffix). Returns the number of rows."""
    path = Path(path)
    fmt = fmt or ("xlsx" if path.suffix.lower() == ".xlsx" else "csv")
    if fmt not in FORMATS:
        raise ValidationError("Export as CSV (.csv) or an Excel workbook (.xlsx).", "format")
    today = london_today()
    rows = cl.caseload(session=session, actor=actor, filters=filters, today=today, limit=limit)
    records = caseload_records(rows, today)
    if fmt == "xlsx":
        table_export.write_xlsx(path, COLUMNS, records, sheet="Caseload")
    else:
        write_csv_file(path, records, bom=bom)
    access.record_export(
        session, actor, entity_type="caseload_export", detail=f"rows={len(records)} format={fmt}"
    )
    return len(records)
