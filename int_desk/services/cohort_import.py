"""Cohort import from a population health management (PHM) or GP-system extract.

    table = read_csv(path)                                # CSV/text/.xlsx/.ods: extract_reader
    mapping = auto_mapping(table.headers)                 # 'NHS Number', 'DOB', 'Forename'...
    preview = build_preview(session=s, actor=a, cohort_id=c, table=table, mapping=mapping)
    apply_import(session=s, actor=a, preview=preview, progress=..., cancelled=...)

The preview writes nothing; it classifies every row (new person, enrol existing person, update,
unchanged, skipped, rejected with reasons). ``apply_import`` writes the accepted rows in the
caller's single transaction: cancelling (``Interrupted``) or any error rolls everything back, so
nothing is half-written. Re-importing the same file finds every row unchanged and writes nothing
but the audit entry of the attempt.

Reasons name the line, the field and what is wrong; they repeat no NHS number, name or date of
birth (the report may be printed or logged).

Reading the file (encodings, workbooks, report preambles and footers, date styles) is
``extract_reader``'s; checking each row's cells is ``cohort_rows``'s (a pydantic type per
column); this module classifies the rows and writes them. Names arrive as GP systems
send them (``SMITH, John``, capitals, curly apostrophes) and are stored as a person writes
them (``person_names``); a full name is split only when the split is certain.
"""

from __future__ import annotations

import logging
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from int_desk.domain import person_names
from int_desk.domain.actor import Actor
from int_desk.domain.errors import Interrupted, ValidationError
from int_desk.domain.ids import new_id
from int_desk.domain.permissions import Permission
from int_desk.domain.uk_time import london_today
from int_desk.domain.vocab import AuditAction, Priority
from int_desk.domain.wording import noun_for
from int_desk.services import access, extract_reader, team_setup
from int_desk.services.cohort_fields import FIELDS as FIELDS
from int_desk.services.cohort_fields import IGNORE as IGNORE
from int_desk.services.cohort_rows import ParsedRow, parse_row
from int_desk.services.extract_reader import ExtractTable
from int_desk.store import audit, outbox
from int_desk.store.base import utcnow
from int_desk.store.models import Cohort, CohortMembership, Patient

log = logging.getLogger(__name__)

MAX_ROWS = extract_reader.MAX_ROWS
MAX_FILE_BYTES = extract_reader.MAX_FILE_BYTES
DEFAULT_REASON = "Identified in PHM extract"
WRITE_BATCH = 500  # rows written per executemany (and progress step)

REQUIRED = ("nhs_number", "date_of_birth")

# Usual PHM extract spellings, compared with case, spaces and punctuation removed.
_SYNONYMS: dict[str, tuple[str, ...]] = {
    "nhs_number": ("nhsnumber", "nhsno", "nhs", "nhsnum", "patientnhsnumber", "nhsnumbers"),
    "given_name": ("forename", "forenames", "givenname", "firstname", "first", "given"),
    "family_name": ("surname", "familyname", "lastname", "family"),
    "full_name": ("name", "patientname", "fullname"),
    "date_of_birth": ("dateofbirth", "dob", "birthdate", "dateofbirthddmmyyyy", "birthdt"),
    "postcode": ("postcode", "postalcode", "patientpostcode", "pcode"),
    "practice_code": (
        "practicecode", "practice", "gppracticecode", "odscode", "practiceodscode",
        "registeredpractice", "practiceods", "gpcode", "gppractice",
    ),
    "reason": ("reasonforinclusion", "reason", "inclusionreason", "cohortreason", "criteria"),
    "risk_score": ("riskscore", "risk", "score", "riskofadmission", "efiscore"),
    "sex": ("sex", "gender"),
    "imd_decile": (
        "imddecile", "imd2019decile", "imddecile2019", "imd2025decile", "imddecile2025",
        "indexofmultipledeprivationdecile", "indexofmultipledeprivationimddecile",
        "deprivationdecile", "decile", "imd",
    ),
    "imd_quintile": (
        "imdquintile", "imd2019quintile", "imdquintile2019", "imd2025quintile",
        "imdquintile2025", "indexofmultipledeprivationquintile", "deprivationquintile",
        "quintile",
    ),
}  # fmt: skip
_HEADER_LOOKUP = {syn: f for f, syns in _SYNONYMS.items() for syn in syns}


_norm_header = extract_reader.norm_header


# --- reading ---------------------------------------------------------------------------------

CsvTable = ExtractTable  # the name callers know


COLUMNS = extract_reader.Columns(_HEADER_LOOKUP)
header_score = COLUMNS.header_score
read_csv = COLUMNS.read
auto_mapping = COLUMNS.auto_mapping


def apply_overrides(
    mapping: dict[str, str], overrides: list[str] | dict[str, str]
) -> dict[str, str]:
    """Apply ``COLUMN=FIELD`` overrides (CLI --map or the dialog's choices)."""
    pairs: list[tuple[str, str]]
    if isinstance(overrides, dict):
        pairs = list(overrides.items())
    else:
        pairs = []
        for item in overrides:
            column, sep, fld = item.rpartition("=")
            if not sep or not column.strip():
                raise ValidationError(f"--map needs COLUMN=FIELD, not '{item}'.", field="map")
            pairs.append((column.strip(), fld.strip()))
    out = dict(mapping)
    by_norm = {_norm_header(h): h for h in out}
    for column, fld in pairs:
        header = column if column in out else by_norm.get(_norm_header(column))
        if header is None:
            raise ValidationError(f"The file has no column '{column}'.", field="map")
        if fld != IGNORE and fld not in FIELDS:
            raise ValidationError(
                f"Unknown field '{fld}'; use one of: {', '.join(FIELDS)}, {IGNORE}.", field="map"
            )
        if fld != IGNORE:
            for h, f in out.items():  # a field comes from one column only
                if f == fld:
                    out[h] = IGNORE
        out[header] = fld
    return out


def mapping_problems(mapping: dict[str, str]) -> list[str]:
    mapped = set(mapping.values())
    problems = [f"No column is mapped to {FIELDS[f].lower()}." for f in REQUIRED if f not in mapped]
    if not ({"given_name", "family_name"} <= mapped or "full_name" in mapped):
        problems.append("Map the given and family name columns (or one full-name column).")
    return problems


# --- parsing one row -------------------------------------------------------------------------


def deprivation_changes(patient: Patient | None, row: ParsedRow) -> dict[str, int | None]:
    """What the extract's IMD columns change on the person's record (empty: nothing).

    A decile is kept as it is; a quintile alone is kept as the quintile (a decile cannot be
    made from it). A quintile that agrees with the decile on record changes nothing.
    """
    if row.imd_decile is not None:
        want: dict[str, int | None] = {
            "deprivation_decile": row.imd_decile, "deprivation_quintile": None,
        }  # fmt: skip
    elif row.imd_quintile is not None:
        recorded = patient.deprivation_decile if patient is not None else None
        if recorded is not None and (recorded + 1) // 2 == row.imd_quintile:
            return {}
        want = {"deprivation_decile": None, "deprivation_quintile": row.imd_quintile}
    else:
        return {}
    if patient is None:
        return want
    return {k: v for k, v in want.items() if getattr(patient, k) != v}


NEW = "new"  # new person, enrolled
ENROL = "enrol"  # existing person, enrolled
UPDATE = "update"  # already enrolled, risk score / reason changed
UNCHANGED = "unchanged"
SKIPPED = "skipped"  # e.g. discharged from this cohort before: not re-enrolled silently
REJECTED = extract_reader.REJECTED
STATUS_LABELS = {
    NEW: "New person - will be added and enrolled",
    ENROL: "Existing person - will be enrolled",
    UPDATE: "Already enrolled - details will be updated",
    UNCHANGED: "Already enrolled - no change",
    SKIPPED: "Skipped",
    REJECTED: "Rejected",
}


@dataclass
class RowResult:
    line: int
    status: str
    problems: list[str] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    values: ParsedRow | None = None
    patient_id: uuid.UUID | None = None
    membership_id: uuid.UUID | None = None
    deprivation: dict[str, int | None] = field(default_factory=dict)  # record fields to set
    practice_id: uuid.UUID | None = None

    @property
    def accepted(self) -> bool:
        return self.status in (NEW, ENROL, UPDATE)


@dataclass
class ImportPreview(extract_reader.RowsPreview[RowResult]):
    cohort_id: uuid.UUID
    cohort_name: str
    mapping: dict[str, str]
    rows: list[RowResult]
    problems: list[str]  # file-level (mapping) problems: nothing can be imported
    source_name: str = ""
    findings: list[str] = field(default_factory=list)  # what the reader found, in order

    practice_codes: team_setup.PracticeCodes | None = None  # known, unknown, malformed

    @property
    def ok(self) -> bool:
        return not self.problems and not self.rejected

    def summary(self) -> str:
        if self.problems:
            return "Cannot import: " + " ".join(self.problems)
        parts = [
            f"{self.count(NEW)} new",
            f"{self.count(ENROL)} to enrol",
            f"{self.count(UPDATE)} to update",
            f"{self.count(UNCHANGED)} unchanged",
        ]
        if self.count(SKIPPED):
            parts.append(f"{self.count(SKIPPED)} skipped")
        parts.append(f"{self.count(REJECTED)} rejected")
        return f"{len(self.rows)} rows: " + ", ".join(parts) + "."

    @property
    def unknown_practices(self) -> dict[str, int]:
        """ODS codes not known here -> people with them (made practices awaiting a name)."""
        return dict(self.practice_codes.unknown) if self.practice_codes else {}

    def report_lines(self) -> list[str]:
        lines = [self.found()] if self.findings else []
        lines.append(self.summary())
        codes = self.practice_codes
        if codes is not None and codes.unknown and not self.problems:
            lines.append(codes.describe_unknown() + " (added as practices awaiting a name)")
        if codes is not None and codes.malformed and not self.problems:
            lines.append(codes.describe_malformed())
        for r in self.rows:
            if r.status == REJECTED:
                lines.append(f"  line {r.line}: rejected - {'; '.join(r.problems)}")
            elif r.notes:
                lines.append(
                    f"  line {r.line}: {STATUS_LABELS[r.status].lower()} - {'; '.join(r.notes)}"
                )
        return lines


# --- preview ---------------------------------------------------------------------------------


def _cohort(session: Session, actor: Actor, cohort_id: uuid.UUID) -> Cohort:
    doing = "import into another team's cohort"
    return access.get_team_row(session, actor, Cohort, cohort_id, "cohort", doing)


def _systmone_layout(table: CsvTable, rows: list[ParsedRow]) -> bool:
    """A plain CSV (no report lines to name its source) shaped as SystmOne writes one: every
    name one column of SURNAME, Forename and every date of birth dd/mm/yyyy. Said as a layout,
    not a source: EMIS and analysts' files can look the same."""
    if table.kind != "CSV file" or table.preamble_lines:
        return False
    named = [r for r in rows if r.name_style or r.given_name or r.family_name or r.full_name]
    dated = [r for r in rows if r.date_style]
    return (
        bool(named)
        and all(r.name_style for r in named)
        and bool(dated)
        and all(r.date_style == "dd/mm/yyyy" for r in dated)
    )


def build_preview(
    *,
    session: Session,
    actor: Actor,
    cohort_id: uuid.UUID,
    table: CsvTable,
    mapping: dict[str, str],
    today: date | None = None,
    progress: Callable[[int, int], None] | None = None,
) -> ImportPreview:
    """Classify every row against the store; writes nothing."""
    access.require(session, actor, Permission.IMPORT_COHORT)
    today = today or london_today()
    cohort = _cohort(session, actor, cohort_id)
    problems = mapping_problems(mapping)
    unknown_cols = [h for h in mapping if h not in table.headers]
    if unknown_cols:
        problems.append(f"The mapping names columns the file lacks: {', '.join(unknown_cols)}.")
    preview = ImportPreview(cohort.id, cohort.name, dict(mapping), [], problems, table.source_name)
    preview.findings = table.findings()
    if problems:
        preview.findings += table.closing_findings()
        return preview

    col_index = {f: table.headers.index(h) for h, f in mapping.items() if f != IGNORE}
    parsed: list[tuple[int, ParsedRow, list[str]]] = []
    for i, cells in enumerate(table.rows):
        if not cells:
            continue
        line = table.line_of(i)
        values = {f: (cells[j] if j < len(cells) else "") for f, j in col_index.items()}
        row, errs = parse_row(values, today)
        if len(cells) > len(table.headers) and any(c.strip() for c in cells[len(table.headers) :]):
            errs.append("the row has more cells than the header")
        parsed.append((line, row, errs))
    if col_index.get("date_of_birth") in table.date_columns:
        preview.findings.append("dates as spreadsheet dates")
    else:
        styles = (r.date_style for _, r, _ in parsed if r.date_style)
        preview.findings += [extract_reader.describe_styles(styles)] if parsed else []
    if any(r.name_style for _, r, _ in parsed):
        preview.findings.append("names as SURNAME, Forename")
        if _systmone_layout(table, [r for _, r, _ in parsed]):
            preview.findings[0] = f"{preview.findings[0]} in SystmOne's layout"
    preview.findings += table.closing_findings()

    # Duplicates within the file (same NHS number on several lines).
    lines_by_nhs: dict[str, list[int]] = {}
    for line, row, _ in parsed:
        if row.nhs_number:
            lines_by_nhs.setdefault(row.nhs_number, []).append(line)

    numbers = [r.nhs_number for _, r, _ in parsed if r.nhs_number]
    existing: dict[str, Patient] = {}
    for start in range(0, len(numbers), 900):
        for p in session.scalars(
            select(Patient).where(Patient.nhs_number.in_(numbers[start : start + 900]))
        ):
            existing[p.nhs_number] = p
    memberships: dict[uuid.UUID, list[CohortMembership]] = {}
    ids = [p.id for p in existing.values()]
    for start in range(0, len(ids), 900):
        for m in session.scalars(
            select(CohortMembership).where(
                CohortMembership.cohort_id == cohort.id,
                CohortMembership.patient_id.in_(ids[start : start + 900]),
                CohortMembership.deleted.is_(False),
            )
        ):
            memberships.setdefault(m.patient_id, []).append(m)
    # Practices this workspace has not seen never reject a person (go-live, issue 13).
    preview.practice_codes = team_setup.sort_practice_codes(
        session, (r.practice_code for _, r, _ in parsed)
    )
    practices = preview.practice_codes.known

    total = len(parsed)
    for n, (line, row, errs) in enumerate(parsed):
        if progress and n % 500 == 0:
            progress(n, total)
        result = RowResult(line, REJECTED, list(errs), list(row.notes), row)
        dup_lines = lines_by_nhs.get(row.nhs_number, [])
        if len(dup_lines) > 1:
            others = noun_for([x for x in dup_lines if x != line], "line")
            result.problems.append(f"duplicate: the same NHS number is also on {others}")
        if row.practice_code:
            result.practice_id = practices.get(row.practice_code)
            if result.practice_id is None:
                result.notes.append(team_setup.practice_note(row.practice_code))
        patient = existing.get(row.nhs_number) if row.nhs_number else None
        if patient is not None:
            result.patient_id = patient.id
            result.problems.extend(_conflicts(patient, row))
            if row.postcode and row.postcode != patient.postcode:
                result.notes.append("postcode differs from the record; the record is kept")
        elif row.full_name:
            result.problems.append(
                "the full name has more than two words, so which is the family name is a guess: "
                "map the given and family name columns (or send SURNAME, Forename)"
            )
        else:
            if not row.given_name or not row.family_name:
                result.problems.append("given and family name are needed for a new person")
            if not row.postcode:
                result.problems.append("postcode is needed for a new person")
            if not row.practice_code:
                result.notes.append("no practice code")
        if result.problems:
            preview.rows.append(result)
            continue
        current = memberships.get(patient.id, []) if patient else []
        active = [m for m in current if m.discharged_on is None]
        result.deprivation = deprivation_changes(patient, row)
        if patient is not None and result.deprivation:
            result.notes.append("deprivation (IMD) recorded from the extract")
        if patient is None:
            result.status = NEW
        elif active:
            m = active[0]
            result.membership_id = m.id
            changed = row.risk_score is not None and row.risk_score != m.risk_score
            result.status = UPDATE if changed or result.deprivation else UNCHANGED
            if changed:
                result.notes.append("risk score changes")
        elif current:
            result.status = SKIPPED
            last = max(m.discharged_on for m in current if m.discharged_on)
            result.notes.append(
                f"discharged from this cohort on {last:%d %b %Y}; enrol by hand if intended"
            )
            result.deprivation = {}
        else:
            result.status = ENROL
        preview.rows.append(result)
    if progress:
        progress(total, total)
    return preview


def _conflicts(patient: Patient, row: ParsedRow) -> list[str]:
    """Why a row cannot be this stored person (H-01: never merge two people into one).

    The NHS number matched; a different date of birth or name means a wrong number or a wrong
    person, so the row is refused for a person to check. Names compare case-, accent- and
    typography-insensitively (O’Brien = O'BRIEN), nothing looser.
    """
    out = []
    if row.date_of_birth and row.date_of_birth != patient.date_of_birth:
        out.append("conflicts with the existing record: date of birth differs")
    key = person_names.match_key
    if row.full_name:
        if key(row.full_name) != key(f"{patient.given_name} {patient.family_name}"):
            out.append("conflicts with the existing record: name differs")
        return out
    if row.family_name and key(row.family_name) != key(patient.family_name):
        out.append("conflicts with the existing record: family name differs")
    if row.given_name and key(row.given_name) != key(patient.given_name):
        out.append("conflicts with the existing record: given name differs")
    return out


# --- writing ---------------------------------------------------------------------------------


@dataclass(frozen=True)
class ImportResult:
    created_patients: int
    enrolled: int
    updated: int
    unchanged: int
    rejected: int


def _load(session: Session, model: Any, ids: list[uuid.UUID | None]) -> dict[uuid.UUID | None, Any]:
    """The rows with these ids, by id, a few queries in all (never one per row); a row gone
    since the preview stops the import."""
    found: dict[uuid.UUID | None, Any] = {}
    for start in range(0, len(ids), 900):
        found.update(
            (row.id, row)
            for row in session.scalars(select(model).where(model.id.in_(ids[start : start + 900])))
        )
    if len(found) < len(set(ids)):
        raise ValidationError("The workspace changed since the preview; preview again.")
    return found


def apply_import(
    *,
    session: Session,
    actor: Actor,
    preview: ImportPreview,
    progress: Callable[[int, int], None] | None = None,
    cancelled: Callable[[], bool] | None = None,
    priority: Priority = Priority.MEDIUM,
) -> ImportResult:
    """Write the accepted rows in the caller's transaction; raise Interrupted on cancel.

    The caller's unit of work (``ws.session()``) rolls back on Interrupted or any error, so a
    cancelled or failed import leaves nothing behind.
    """
    access.require(session, actor, Permission.IMPORT_COHORT)
    if preview.problems:
        raise ValidationError(" ".join(preview.problems))
    cohort = _cohort(session, actor, preview.cohort_id)
    work = preview.to_write
    created = enrolled = updated = 0
    awaiting = team_setup.add_awaiting_practices(
        session=session,
        actor=actor,
        codes={r.values.practice_code for r in work if r.values and r.practice_id is None}
        & preview.unknown_practices.keys(),
    )
    now = utcnow()
    today = london_today()
    new_numbers = [r.values.nhs_number for r in work if r.status == NEW and r.values]
    for start in range(0, len(new_numbers), 900):  # someone added one of them since the preview
        chunk = new_numbers[start : start + 900]
        if session.scalar(select(Patient.id).where(Patient.nhs_number.in_(chunk)).limit(1)):
            raise ValidationError("The workspace changed since the preview; preview again.")
    # People and memberships already stored that the import changes, loaded up front.
    people = _load(
        session, Patient, [r.patient_id for r in work if r.status != NEW and r.deprivation]
    )
    held = _load(session, CohortMembership, [r.membership_id for r in work if r.status == UPDATE])
    # Each batch of rows is written with a few executemany: new people and memberships as plain
    # rows with their outbox entries (outbox.insert_rows), changes to stored ones as ORM edits
    # flushed once, the audit entries chained in one run (audit.record_many). An ORM object,
    # a flush and an audit look-up per row made a 50,000-row import take minutes.
    for start in range(0, len(work), WRITE_BATCH):
        if progress:
            progress(start, len(work))
        new_people: list[dict[str, Any]] = []
        enrolments: list[dict[str, Any]] = []  # written once their people are
        entries: list[dict[str, Any]] = []  # IMD changes first, then memberships (as before)
        enrolled_entries: list[dict[str, Any]] = []
        for r in work[start : start + WRITE_BATCH]:
            if cancelled and cancelled():
                raise Interrupted("Import cancelled; nothing was imported.")
            v = r.values
            assert v is not None
            if r.status == NEW:
                assert v.date_of_birth is not None
                r_patient = new_id()
                new_people.append(dict(
                    id=r_patient, nhs_number=v.nhs_number, given_name=v.given_name,
                    family_name=v.family_name, date_of_birth=v.date_of_birth, sex=v.sex,
                    postcode=v.postcode,
                    practice_id=r.practice_id or awaiting.get(v.practice_code),
                    created_by=actor.member_id, updated_by=actor.member_id,
                    created_at=now, updated_at=now, **r.deprivation,
                ))  # fmt: skip
                created += 1
            else:
                assert r.patient_id is not None
                r_patient = r.patient_id
                if r.deprivation:
                    patient = people[r_patient]
                    for key, value in r.deprivation.items():
                        setattr(patient, key, value)
                    patient.updated_by = actor.member_id
                    entries.append(dict(
                        actor_id=actor.member_id, action=AuditAction.UPDATE,
                        entity_type="patient", entity_id=r_patient, patient_id=r_patient,
                        detail=f"source=phm_import fields={','.join(sorted(r.deprivation))}",
                    ))  # fmt: skip
            if r.status in (NEW, ENROL):
                membership_id = new_id()
                enrolments.append(dict(
                    id=membership_id, cohort_id=cohort.id, patient_id=r_patient,
                    enrolled_on=today, enrol_reason=v.reason or DEFAULT_REASON,
                    source="phm_import", risk_score=v.risk_score, priority=priority.value,
                    created_by=actor.member_id, updated_by=actor.member_id,
                ))  # fmt: skip
                enrolled += 1
                enrolled_entries.append(dict(
                    actor_id=actor.member_id, action=AuditAction.CREATE,
                    entity_type="cohort_membership", entity_id=membership_id, patient_id=r_patient,
                    detail=f"source=phm_import cohort={cohort.id} new_patient={int(r.status == NEW)}",
                ))  # fmt: skip
            elif r.status == UPDATE:
                updated += 1
                m = held[r.membership_id]
                if v.risk_score is None or m.risk_score == v.risk_score:
                    continue  # only the deprivation changed (written above)
                m.risk_score = v.risk_score
                m.updated_by = actor.member_id
                enrolled_entries.append(dict(
                    actor_id=actor.member_id, action=AuditAction.UPDATE,
                    entity_type="cohort_membership", entity_id=m.id, patient_id=r_patient,
                    detail="source=phm_import fields=risk_score",
                ))  # fmt: skip
        session.flush()  # the batch's changes to stored people and memberships
        outbox.insert_rows(session, Patient, new_people)  # the people first: memberships
        outbox.insert_rows(session, CohortMembership, enrolments)  # refer to them
        audit.record_many(session, entries + enrolled_entries)
    if cancelled and cancelled():
        raise Interrupted("Import cancelled; nothing was imported.")
    result = ImportResult(
        created, enrolled, updated, preview.count(UNCHANGED), preview.count(REJECTED)
    )
    audit.record_by(session, actor, AuditAction.EXECUTE, "cohort", cohort.id, detail=f"import rows={len(preview.rows)} created={created} enrolled={enrolled} "
                f"updated={updated} unchanged={result.unchanged} rejected={result.rejected}")  # fmt: skip
    if progress:
        progress(len(work), len(work))
    log.info("cohort import: %d enrolled, %d updated", enrolled, updated)
    return result
