"""Hospital activity in: an admissions extract (SUS/HES-style spells) into people's health events.

    table = read_admissions(path)                          # the shared extract reader
    mapping = auto_mapping(table.headers)                  # 'NHS Number', 'ADMIDATE', 'ADMIMETH'...
    preview = build_preview(session=s, actor=a, table=table, mapping=mapping)
    apply_import(session=s, actor=a, preview=preview)      # accepted rows, one transaction

Each row is one hospital stay: NHS number, admission date, admission method, and when known the
discharge date and provider. Admission methods 21-28 (and 2A-2D) are emergencies and become an
"emergency admission" event; the others (11-13 elective, 31-32 maternity, 81-83 other) a
"hospital admission"; a discharge date becomes a "discharge" event. These are the same events a
team member records on a person's record, and the scorecard counts them the same.

As with the cohort import: the preview writes nothing and classifies every row (new, a discharge
to add to a stay already known, already recorded, rejected with reasons); the write is one
transaction, so a failure or cancel leaves nothing; importing the same file again finds every
row already recorded. Only people on the importing member's team caseload are touched: anyone
else's row is rejected without saying who they are. Reasons name lines and fields, never an NHS
number, name or date.
"""

from __future__ import annotations

import logging
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date

from sqlalchemy import select
from sqlalchemy.orm import Session

from int_desk.domain.actor import Actor
from int_desk.domain.errors import Interrupted, ValidationError
from int_desk.domain.permissions import Permission
from int_desk.domain.uk_time import london_today
from int_desk.domain.vocab import AuditAction, HealthEventKind
from int_desk.services import access, extract_reader
from int_desk.services.admission_rows import DEFAULT_PROVIDER, parse_stay
from int_desk.services.extract_reader import ExtractTable
from int_desk.store import audit
from int_desk.store.base import utcnow
from int_desk.store.models import HealthEvent, Patient

log = logging.getLogger(__name__)

SOURCE = "admissions_import"  # in the audit entry of each event written
PERMISSION = Permission.EDIT_PATIENT  # health events are written under the patient's record
FIELDS: dict[str, str] = {
    "nhs_number": "NHS number",
    "admission_date": "Admission date",
    "admission_method": "Admission method",
    "discharge_date": "Discharge date",
    "provider": "Provider",
}
IGNORE = "ignore"
REQUIRED = ("nhs_number", "admission_date", "admission_method")

# Usual spellings (SUS, HES, trust extracts), compared with case, spaces and punctuation removed.
_SYNONYMS: dict[str, tuple[str, ...]] = {
    "nhs_number": ("nhsnumber", "nhsno", "nhs", "nhsnum", "patientnhsnumber", "newnhsno"),
    "admission_date": (
        "admissiondate", "admidate", "dateofadmission", "admitted", "admissiondt", "admdate",
        "spellstartdate", "startdateofspell", "startdatehospitalprovider",
    ),
    "admission_method": (
        "admissionmethod", "admimeth", "admissionmethodcode", "admmethod", "method",
        "admissionmethodhospitalproviderspell", "admissiontype",
    ),
    "discharge_date": (
        "dischargedate", "disdate", "dateofdischarge", "discharged", "dischdate",
        "spellenddate", "enddateofspell", "dischargedatehospitalproviderspell",
    ),
    "provider": (
        "provider", "providername", "procode", "providercode", "hospital", "trust", "site",
        "sitename", "organisationname",
    ),
}  # fmt: skip
_HEADER_LOOKUP = {syn: f for f, syns in _SYNONYMS.items() for syn in syns}

_norm = extract_reader.norm_header


COLUMNS = extract_reader.Columns(_HEADER_LOOKUP)
header_score = COLUMNS.header_score
read_admissions = COLUMNS.read
auto_mapping = COLUMNS.auto_mapping


def apply_overrides(mapping: dict[str, str], overrides: list[str]) -> dict[str, str]:
    """``COLUMN=FIELD`` choices (the CLI's --map)."""
    out = dict(mapping)
    by_norm = {_norm(h): h for h in out}
    for item in overrides:
        column, sep, fld = item.rpartition("=")
        header = column if column in out else by_norm.get(_norm(column))
        if not sep or header is None:
            raise ValidationError(f"--map needs COLUMN=FIELD with a column of the file: '{item}'.")
        if fld != IGNORE and fld not in FIELDS:
            raise ValidationError(
                f"Unknown field '{fld}'; use one of: {', '.join(FIELDS)}, {IGNORE}.", field="map"
            )
        if fld != IGNORE:
            for h, f in out.items():
                if f == fld:
                    out[h] = IGNORE
        out[header] = fld
    return out


def mapping_problems(mapping: dict[str, str]) -> list[str]:
    mapped = set(mapping.values())
    return [f"No column is mapped to {FIELDS[f].lower()}." for f in REQUIRED if f not in mapped]


# --- preview ---------------------------------------------------------------------------------

NEW = "new"  # a stay not recorded yet
DISCHARGE = "discharge"  # a stay already recorded; its discharge is new
UNCHANGED = "unchanged"  # already recorded (by an earlier import or on the record)
REJECTED = extract_reader.REJECTED
STATUS_LABELS = {
    NEW: "New hospital stay - will be recorded",
    DISCHARGE: "Stay already recorded - the discharge will be added",
    UNCHANGED: "Already recorded - no change",
    REJECTED: "Rejected",
}


@dataclass
class StayRow:
    line: int
    status: str = REJECTED
    problems: list[str] = field(default_factory=list)
    nhs_number: str = ""
    patient_id: uuid.UUID | None = None
    kind: HealthEventKind | None = None
    admitted: date | None = None
    discharged: date | None = None
    provider: str = ""
    add_admission: bool = False
    add_discharge: bool = False

    @property
    def accepted(self) -> bool:
        return self.status in (NEW, DISCHARGE)


@dataclass
class AdmissionsPreview(extract_reader.RowsPreview[StayRow]):
    mapping: dict[str, str]
    rows: list[StayRow]
    problems: list[str]
    source_name: str = ""
    findings: list[str] = field(default_factory=list)

    @property
    def emergencies(self) -> int:
        return sum(1 for r in self.to_write if r.add_admission and r.kind is _EMERGENCY)

    def summary(self) -> str:
        if self.problems:
            return "Cannot import: " + " ".join(self.problems)
        return (
            f"{len(self.rows)} rows: {self.count(NEW)} new stays ({self.emergencies} emergency), "
            f"{self.count(DISCHARGE)} discharges to add, {self.count(UNCHANGED)} already "
            f"recorded, {self.count(REJECTED)} rejected."
        )

    def report_lines(self) -> list[str]:
        lines = [self.found()] if self.findings else []
        lines.append(self.summary())
        for r in self.rows:
            if r.status == REJECTED:
                lines.append(f"  line {r.line}: rejected - {'; '.join(r.problems)}")
        return lines


_EMERGENCY = HealthEventKind.EMERGENCY_ADMISSION


def _parse(cells: dict[str, str], line: int, today: date) -> StayRow:
    stay, problems = parse_stay(cells, today)
    return StayRow(
        line, problems=problems, nhs_number=stay.nhs_number, kind=stay.kind,
        admitted=stay.admitted, discharged=stay.discharged, provider=stay.provider,
    )  # fmt: skip


def build_preview(
    *,
    session: Session,
    actor: Actor,
    table: ExtractTable,
    mapping: dict[str, str],
    today: date | None = None,
) -> AdmissionsPreview:
    """Classify every row against the store; writes nothing."""
    access.require(session, actor, PERMISSION)
    today = today or london_today()
    problems = mapping_problems(mapping)
    missing = [h for h in mapping if h not in table.headers]
    if missing:
        problems.append(f"The mapping names columns the file lacks: {', '.join(missing)}.")
    preview = AdmissionsPreview(dict(mapping), [], problems, table.source_name)
    preview.findings = table.findings()
    if problems:
        return preview
    col = {f: table.headers.index(h) for h, f in mapping.items() if f != IGNORE}
    rows: list[StayRow] = []
    for i, cells in enumerate(table.rows):
        if cells:
            values = {f: (cells[j] if j < len(cells) else "") for f, j in col.items()}
            rows.append(_parse(values, table.line_of(i), today))
    preview.findings += table.closing_findings()

    numbers = sorted({r.nhs_number for r in rows if r.nhs_number})
    people: dict[str, uuid.UUID] = {}
    for start in range(0, len(numbers), 900):
        people.update(
            session.execute(
                select(Patient.nhs_number, Patient.id).where(
                    Patient.nhs_number.in_(numbers[start : start + 900]),
                    Patient.deleted.is_(False),
                    access.visible_patient_filter(actor),
                )
            ).all()
        )
    known: dict[tuple[uuid.UUID, str, date], None] = {}
    ids = sorted(set(people.values()))
    for start in range(0, len(ids), 900):
        for pid, kind, on in session.execute(
            select(HealthEvent.patient_id, HealthEvent.kind, HealthEvent.occurred_on).where(
                HealthEvent.patient_id.in_(ids[start : start + 900]),
                HealthEvent.deleted.is_(False),
            )
        ):
            known[(pid, kind, on)] = None
    seen: dict[tuple[str, date], int] = {}
    for r in rows:
        if r.nhs_number and r.admitted:
            first = seen.setdefault((r.nhs_number, r.admitted), r.line)
            if first != r.line:
                r.problems.append(f"duplicate: the same stay is also on line {first}")
        if not r.problems and r.nhs_number not in people:
            # Not said whether the person exists elsewhere in the workspace: scope is scope.
            r.problems.append("no one with this NHS number is on your teams' caseload")
        if r.problems:
            preview.rows.append(r)
            continue
        assert r.kind is not None and r.admitted is not None
        r.patient_id = people[r.nhs_number]
        r.add_admission = (r.patient_id, r.kind.value, r.admitted) not in known
        r.add_discharge = bool(r.discharged) and (
            (r.patient_id, HealthEventKind.DISCHARGE.value, r.discharged) not in known
        )
        if r.add_admission:
            r.status = NEW
        elif r.add_discharge:
            r.status = DISCHARGE
        else:
            r.status = UNCHANGED
        preview.rows.append(r)
    return preview


# --- writing ---------------------------------------------------------------------------------


@dataclass(frozen=True)
class AdmissionsResult:
    admissions: int
    emergency: int
    discharges: int
    unchanged: int
    rejected: int


def record_hospital_event(
    *,
    session: Session,
    actor: Actor,
    patient_id: uuid.UUID,
    kind: HealthEventKind,
    on: date,
    provider: str = "",
) -> HealthEvent:
    """An admission or discharge recorded on a person's record; the scorecard counts it as it
    counts an imported one."""
    access.require(session, actor, PERMISSION, patient_id=patient_id)
    access.get_patient(session, actor, patient_id)  # in scope, or an audited refusal
    if on > london_today():
        raise ValidationError("A hospital admission or discharge cannot be in the future.")
    return _add_event(session, actor, patient_id, kind, on, provider, "record")


def _add_event(
    session: Session,
    actor: Actor,
    patient_id: uuid.UUID,
    kind: HealthEventKind,
    on: date,
    provider: str,
    source: str,
) -> HealthEvent:
    now = utcnow()
    event = HealthEvent(
        patient_id=patient_id, kind=kind.value, occurred_on=on,
        source=(provider or DEFAULT_PROVIDER)[:120], created_by=actor.member_id,
        updated_by=actor.member_id, created_at=now, updated_at=now,
    )  # fmt: skip
    session.add(event)
    session.flush()
    audit.record_by(
        session,
        actor,
        AuditAction.CREATE,
        "health_event",
        event.id,
        patient_id=patient_id,
        detail=f"kind={kind.value} source={source}",
    )
    return event


def apply_import(
    *,
    session: Session,
    actor: Actor,
    preview: AdmissionsPreview,
    progress: Callable[[int, int], None] | None = None,
    cancelled: Callable[[], bool] | None = None,
) -> AdmissionsResult:
    """Write the accepted rows in the caller's transaction; raise Interrupted on cancel."""
    access.require(session, actor, PERMISSION)
    if preview.problems:
        raise ValidationError(" ".join(preview.problems))
    work = preview.to_write
    admissions = emergency = discharges = 0
    for n, r in enumerate(work):
        if cancelled and cancelled():
            raise Interrupted("Import cancelled; nothing was imported.")
        if progress and n % 200 == 0:
            progress(n, len(work))
        assert r.patient_id is not None and r.kind is not None and r.admitted is not None
        if r.add_admission:
            _add_event(session, actor, r.patient_id, r.kind, r.admitted, r.provider, SOURCE)
            admissions += 1
            emergency += r.kind is _EMERGENCY
        if r.add_discharge and r.discharged is not None:
            _add_event(session, actor, r.patient_id, HealthEventKind.DISCHARGE, r.discharged,
                       r.provider, SOURCE)  # fmt: skip
            discharges += 1
    if cancelled and cancelled():
        raise Interrupted("Import cancelled; nothing was imported.")
    result = AdmissionsResult(
        admissions, emergency, discharges, preview.count(UNCHANGED), preview.count(REJECTED)
    )
    audit.record_by(session, actor, AuditAction.EXECUTE, "health_event", None, detail=f"admissions import rows={len(preview.rows)} admissions={admissions} "
                f"emergency={emergency} discharges={discharges} unchanged={result.unchanged} "
                f"rejected={result.rejected}")  # fmt: skip
    if progress:
        progress(len(work), len(work))
    log.info("admissions import: %d admissions, %d discharges", admissions, discharges)
    return result
