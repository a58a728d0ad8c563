"""Cohort import from FHIR: a Bundle or NDJSON of Patients, with their Flags and Conditions.

    parsed = read_file(path)                                            # int_desk.fhir.reading
    preview = build_preview(session=s, actor=a, cohort_id=c, parsed=parsed)
    apply_import(session=s, actor=a, preview=preview)

It goes through the CSV import's own row validation, preview and write
(``services/cohort_import.py``): each Patient becomes one row of cells (NHS number, names, date
of birth, postcode, practice code, sex) at its entry number or NDJSON line, so the same rules
classify it (new, enrol, unchanged, skipped, rejected with reasons). FHIR-level problems (no
NHS number identifier, a Flag from an unknown code system, ...) reject the person's row too.
The write happens in the caller's one transaction: the people, their enrolment, and then their
flags and conditions, so an error anywhere leaves nothing behind.
"""

from __future__ import annotations

import re
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date
from pathlib import Path

from sqlalchemy import select
from sqlalchemy.orm import Session

from int_desk.domain.actor import Actor
from int_desk.domain.errors import ValidationError
from int_desk.domain.uk_time import london_today
from int_desk.domain.vocab import AuditAction, FlagCode
from int_desk.fhir import reading
from int_desk.services import cohort_import as ci
from int_desk.services.writes import record_write
from int_desk.store import audit
from int_desk.store.models import Flag, Patient

COLUMNS = [
    "nhs_number",
    "given_name",
    "family_name",
    "full_name",
    "date_of_birth",
    "postcode",
    "practice_code",
    "sex",
]


def read_file(path: Path) -> reading.ParsedFhir:
    return reading.read_path(path)


def is_fhir(path: Path) -> bool:
    """A FHIR Bundle (.json), NDJSON, or a Bulk Data export folder (its manifest)."""
    path = Path(path)
    return path.is_dir() or path.suffix.lower() in (".json", ".ndjson")


@dataclass
class FhirPreview:
    rows: ci.ImportPreview
    parsed: reading.ParsedFhir
    entries: dict[int, reading.PatientEntry]  # by position (= RowResult.line)

    @property
    def problems(self) -> list[str]:
        return self.rows.problems

    def report_lines(self) -> list[str]:
        word = self.parsed.position_word
        lines = [re.sub(r"^  line ", f"  {word} ", line) for line in self.rows.report_lines()]
        if self.parsed.ignored:
            kinds = ", ".join(f"{n} {t}" for t, n in sorted(self.parsed.ignored.items()))
            lines.append(f"  not imported (INT Desk reads Patients, Flags, Conditions): {kinds}")
        return lines


def as_table(parsed: reading.ParsedFhir) -> ci.CsvTable:
    """The Patients as the CSV import's table; blank rows keep positions true."""
    rows: list[list[str]] = [[] for _ in range(parsed.size)]
    for entry in parsed.entries:
        cells = [entry.cells.get(c, "") for c in COLUMNS]
        rows[entry.position - 1] = cells if any(cells) else ["", "", "", "", "", "", "", "?"]
    table = ci.CsvTable(list(COLUMNS), rows, first_line=1, source_name=parsed.source_name)
    table.kind = "FHIR Bundle" if parsed.kind == "bundle" else "FHIR NDJSON"
    return table


def _mapping(parsed: reading.ParsedFhir) -> dict[str, str]:
    """Identity mapping; a file of text names only maps the full name (never both kinds)."""
    has_parts = any("family_name" in e.cells or "given_name" in e.cells for e in parsed.entries)
    out = {c: c for c in COLUMNS}
    if has_parts:
        out["full_name"] = ci.IGNORE
    else:
        out["given_name"] = out["family_name"] = ci.IGNORE
    return out


def build_preview(
    *,
    session: Session,
    actor: Actor,
    cohort_id: uuid.UUID,
    parsed: reading.ParsedFhir,
    today: date | None = None,
) -> FhirPreview:
    """Classify every Patient as the CSV import does, plus the FHIR-level problems; no writes."""
    table = as_table(parsed)
    rows = ci.build_preview(
        session=session,
        actor=actor,
        cohort_id=cohort_id,
        table=table,
        mapping=_mapping(parsed),
        today=today,
    )
    rows.problems.extend(parsed.problems)
    entries = {e.position: e for e in parsed.entries}
    existing = _existing_extras(session, [r.patient_id for r in rows.rows if r.patient_id])
    for r in rows.rows:
        entry = entries.get(r.line)
        if entry is None:
            continue
        if entry.problems:
            r.problems = entry.problems + [p for p in r.problems if p not in entry.problems]
            r.status = ci.REJECTED
        r.notes.extend(entry.notes)
        stored = existing.get(r.patient_id) if r.patient_id else None
        flags, conditions = _additions(entry, stored)
        if flags:
            r.notes.append("flags to add: " + ", ".join(FlagCode(f).label.lower() for f in flags))
        if conditions:
            r.notes.append(f"long-term conditions to add: {len(conditions)}")
    return FhirPreview(rows, parsed, entries)


def _existing_extras(
    session: Session, patient_ids: list[uuid.UUID]
) -> dict[uuid.UUID, tuple[set[str], set[str]]]:
    """Per existing patient: active flag codes, and condition labels (lower case)."""
    out: dict[uuid.UUID, tuple[set[str], set[str]]] = {}
    for start in range(0, len(patient_ids), 900):
        ids = patient_ids[start : start + 900]
        for pid, conditions in session.execute(
            select(Patient.id, Patient.long_term_conditions).where(Patient.id.in_(ids))
        ):
            labels = {c.strip().lower() for c in (conditions or "").split(",") if c.strip()}
            out[pid] = (set(), labels)
        for pid, code in session.execute(
            select(Flag.patient_id, Flag.code).where(
                Flag.patient_id.in_(ids), Flag.active.is_(True), Flag.deleted.is_(False)
            )
        ):
            out.setdefault(pid, (set(), set()))[0].add(code)
    return out


def _additions(
    entry: reading.PatientEntry, existing: tuple[set[str], set[str]] | None
) -> tuple[list[str], list[str]]:
    flags_now, labels_now = existing or (set(), set())
    flags = [f for f in entry.flags if f not in flags_now]
    conditions = [c for c in entry.conditions if c.lower() not in labels_now]
    return flags, conditions


@dataclass(frozen=True)
class FhirImportResult:
    created_patients: int
    enrolled: int
    updated: int
    unchanged: int
    rejected: int
    flags: int
    conditions: int


def apply_import(
    *,
    session: Session,
    actor: Actor,
    preview: FhirPreview,
    progress: Callable[[int, int], None] | None = None,
    cancelled: Callable[[], bool] | None = None,
) -> FhirImportResult:
    """Write the accepted people (the CSV import's write, with its progress and cancel), then
    their flags and conditions, all in the caller's transaction."""
    if preview.problems:
        raise ValidationError("Cannot import: " + " ".join(preview.problems))
    result = ci.apply_import(
        session=session, actor=actor, preview=preview.rows, progress=progress, cancelled=cancelled
    )
    wanted = [r for r in preview.rows.rows if r.accepted or r.status == ci.UNCHANGED]
    numbers = [r.values.nhs_number for r in wanted if r.values]
    ids: dict[str, uuid.UUID] = {}
    for start in range(0, len(numbers), 900):
        ids.update(
            session.execute(
                select(Patient.nhs_number, Patient.id).where(
                    Patient.nhs_number.in_(numbers[start : start + 900])
                )
            ).all()
        )
    existing = _existing_extras(session, list(ids.values()))
    flags_added = conditions_added = 0
    for r in wanted:
        entry = preview.entries.get(r.line)
        pid = ids.get(r.values.nhs_number) if r.values else None
        if entry is None or pid is None:
            continue
        flags, conditions = _additions(entry, existing.get(pid))
        for code in flags:
            row = Flag(
                patient_id=pid, code=code, active=True, since=london_today(),
                note="From a FHIR import",
            )  # fmt: skip
            record_write(
                session,
                actor,
                row,
                AuditAction.CREATE,
                "flag",
                patient_id=pid,
                detail=f"source=fhir_import code={code}",
            )
            flags_added += 1
        if conditions:
            patient = session.get(Patient, pid)
            assert patient is not None
            current = [c.strip() for c in patient.long_term_conditions.split(",") if c.strip()]
            patient.long_term_conditions = ", ".join(current + conditions)
            patient.updated_by = actor.member_id
            session.flush()
            audit.record_by(
                session,
                actor,
                AuditAction.UPDATE,
                "patient",
                pid,
                patient_id=pid,
                detail=f"source=fhir_import fields=long_term_conditions added={len(conditions)}",
            )
            conditions_added += len(conditions)
    return FhirImportResult(
        result.created_patients,
        result.enrolled,
        result.updated,
        result.unchanged,
        result.rejected,
        flags_added,
        conditions_added,
    )
