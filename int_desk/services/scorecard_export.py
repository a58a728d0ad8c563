"""The scorecard out of the app: CSV (every period, group and SPC line), JSON, and the PDF.

Every file is aggregate figures only. Exports are audited (EXECUTE, entity "scorecard", with
counts and the breakdown, never a person) and written atomically.
"""

from __future__ import annotations

import csv
import io
import json
from datetime import datetime
from pathlib import Path
from typing import Any

from sqlalchemy.orm import Session

from int_desk.domain.actor import Actor
from int_desk.domain.errors import ValidationError
from int_desk.domain.scorecard import ALL, Cell, MeasureResult, Scorecard
from int_desk.domain.spc import SpcPoint
from int_desk.domain.vocab import AuditAction
from int_desk.reports import pdf_base as pdf
from int_desk.reports.scorecard_pdf import SUPPRESSED, render_scorecard
from int_desk.store import audit
from int_desk.store.base import utcnow

CSV_FIELDS = (
    "measure", "title", "unit", "group", "period", "period_start", "period_end",
    "complete", "numerator", "denominator", "value", "mean", "upper_limit", "lower_limit",
    "special_cause", "target", "variation", "assurance",
)  # fmt: skip


def _num(value: float | None, digits: int = 4) -> str:
    if value is None:
        return ""
    return f"{round(value, digits):g}" if digits else str(int(round(value)))


def _cell(cell: Cell) -> dict[str, str]:
    if cell.suppressed:
        return {"numerator": SUPPRESSED, "denominator": SUPPRESSED, "value": SUPPRESSED}
    return {
        "numerator": _num(cell.numerator),
        "denominator": _num(cell.denominator),
        "value": _num(cell.value),
    }


def _spc(point: SpcPoint | None) -> dict[str, str]:
    if point is None:
        return {"mean": "", "upper_limit": "", "lower_limit": "", "special_cause": ""}
    return {
        "mean": _num(point.mean),
        "upper_limit": _num(point.upper),
        "lower_limit": _num(point.lower),
        "special_cause": ";".join(sorted(point.flags)),
    }


def csv_rows(card: Scorecard) -> list[dict[str, str]]:
    """One row per measure, group and period, then one per measure and group for the whole
    range (period 'total'); SPC columns on the whole cohort's rows."""
    rows = []
    for mr in card.measures:
        m = mr.measure
        common = {
            "measure": m.key, "title": m.title, "unit": m.unit,
            "target": _num(mr.target), "variation": mr.chart.variation.value,
            "assurance": mr.chart.assurance.value,
        }  # fmt: skip
        for g in [mr.overall, *mr.groups]:
            for i, (p, cell) in enumerate(zip(card.periods, g.series, strict=True)):
                point = mr.chart.points[i] if g is mr.overall else None
                rows.append({**common, "group": g.label, "period": p.label,
                             "period_start": p.start.isoformat(), "period_end": p.end.isoformat(),
                             "complete": "yes" if p.complete else "no",
                             **_cell(cell), **_spc(point)})  # fmt: skip
            rows.append({**common, "group": g.label, "period": "total",
                         "period_start": card.periods[0].start.isoformat(),
                         "period_end": card.periods[-1].end.isoformat(), "complete": "",
                         **_cell(g.total), **_spc(None)})  # fmt: skip
    return rows


def csv_text(card: Scorecard) -> str:
    out = io.StringIO()
    writer = csv.DictWriter(out, fieldnames=CSV_FIELDS, lineterminator="\n")
    writer.writeheader()
    writer.writerows(csv_rows(card))
    return out.getvalue()


def _json_cell(cell: Cell) -> dict[str, Any]:
    if cell.suppressed:
        return {"suppressed": True}
    return {"numerator": cell.numerator, "denominator": cell.denominator, "value": cell.value}


def _json_measure(mr: MeasureResult, card: Scorecard) -> dict[str, Any]:
    return {
        "measure": mr.key,
        "title": mr.measure.title,
        "unit": mr.measure.unit,
        "improvement": mr.measure.improvement.value,
        "target": mr.target,
        "variation": mr.chart.variation.value,
        "assurance": mr.chart.assurance.value,
        "total": _json_cell(mr.overall.total),
        "series": [
            {
                "period": p.label,
                "start": p.start.isoformat(),
                "end": p.end.isoformat(),
                **_json_cell(c),
                "mean": pt.mean,
                "upper_limit": pt.upper,
                "lower_limit": pt.lower,
                "special_cause": sorted(pt.flags),
            }
            for p, c, pt in zip(card.periods, mr.overall.series, mr.chart.points, strict=True)
        ],  # fmt: skip
        "groups": [{"group": g.label, "total": _json_cell(g.total)} for g in mr.groups],
    }


def json_text(card: Scorecard) -> str:
    doc = {
        "teams": card.team_names,
        "cohorts": card.cohort_names or ["all"],
        "from": card.periods[0].start.isoformat(),
        "to": card.periods[-1].end.isoformat(),
        "grain": card.query.grain.value,
        "by": card.query.by.value if card.query.by else None,
        "people_now": card.people_now,
        "open_escalations": card.open_escalations,
        "suppressed_under": 5 if card.suppressed else None,
        "measures": [_json_measure(mr, card) for mr in card.measures],
    }
    return json.dumps(doc, indent=1, ensure_ascii=False)


def table_lines(card: Scorecard) -> list[str]:
    """The scorecard as text for a terminal: one line per measure, then the breakdown."""
    lines = [
        f"INT scorecard: {card.scope_label}",
        f"{pdf.fmt_date(card.periods[0].start)} to {pdf.fmt_date(card.periods[-1].end)}, "
        f"by {card.query.grain.value}; {card.people_now:,} people in the cohort now",
        "",
    ]
    width = max(len(mr.measure.title) for mr in card.measures)
    for mr in card.measures:
        total = mr.overall.total
        value = SUPPRESSED if total.suppressed else mr.measure.fmt_with_unit(total.value)
        target = f"  target {mr.measure.fmt(mr.target)}" if mr.target is not None else ""
        lines.append(
            f"{mr.measure.title:<{width}}  {value:<28} {mr.chart.variation.label}"
            f"{'; ' + mr.chart.assurance.label if mr.target is not None else ''}{target}"
        )
    if card.query.by is not None and card.measures and card.measures[0].groups:
        lines += ["", f"By {card.query.by.label[0].lower()}{card.query.by.label[1:]}:"]
        keys = [mr.measure for mr in card.measures]
        head = f"{'':<28}" + "".join(f"{m.short:>16}" for m in keys)
        lines.append(head)
        labels = [ALL] + [g.label for g in card.measures[0].groups]
        for i, label in enumerate(labels):
            cells = [
                (mr.overall.total if i == 0 else mr.groups[i - 1].total) for mr in card.measures
            ]
            text = "".join(
                f"{(SUPPRESSED if c.suppressed else m.fmt(c.value)):>16}"
                for m, c in zip(keys, cells, strict=True)
            )
            lines.append(f"{label[:28]:<28}{text}")
    for note in card.notes:
        lines.append(note)
    return lines


# --- files ------------------------------------------------------------------------------------


def _audit(session: Session, actor: Actor, card: Scorecard, kind: str) -> None:
    audit.record_by(session, actor, AuditAction.EXECUTE, "scorecard", None, detail=f"export {kind} teams={len(card.team_names)} periods={len(card.periods)} "
                f"by={card.query.by.value if card.query.by else 'none'}")  # fmt: skip


def printed_by(actor: Actor) -> str:
    return f"{actor.name or 'team member'} ({actor.role.label})"


def export_csv(*, session: Session, actor: Actor, card: Scorecard, path: Path) -> Path:
    if path.suffix.lower() != ".csv":
        raise ValidationError("Save the CSV as a .csv file.", field="path")
    # UTF-8 with a BOM so Excel opens it with the right characters (team names, ±).
    pdf.write_atomic(path, ("\ufeff" + csv_text(card)).encode("utf-8"))
    _audit(session, actor, card, "csv")
    return path


def pdf_bytes(card: Scorecard, actor: Actor, at: datetime | None = None) -> bytes:
    return render_scorecard(card, printed_by=printed_by(actor), printed_at=at or utcnow())


def export_pdf(*, session: Session, actor: Actor, card: Scorecard, path: Path) -> Path:
    if path.suffix.lower() != ".pdf":
        raise ValidationError("Save the PDF as a .pdf file.", field="path")
    pdf.write_atomic(path, pdf_bytes(card, actor))
    _audit(session, actor, card, "pdf")
    return path
