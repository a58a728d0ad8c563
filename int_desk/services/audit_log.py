"""Reading and exporting the audit trail (who viewed, changed, exported or signed off what).

Needs VIEW_AUDIT (clinical lead, admin, or a team grant). Looking at the trail and exporting it
are themselves audited. Exports go only to the path the user chose.
"""

from __future__ import annotations

import csv
import os
import uuid
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

from sqlalchemy import select
from sqlalchemy.orm import Session

from int_desk.domain.actor import Actor
from int_desk.domain.errors import ValidationError
from int_desk.domain.nhs_number import format_nhs, normalise
from int_desk.domain.permissions import Permission
from int_desk.domain.uk_time import in_london
from int_desk.domain.vocab import AuditAction, Role, role_label
from int_desk.services import access
from int_desk.store import audit
from int_desk.store.models import AuditEvent, Member, Patient

DEFAULT_LIMIT = 5000
CSV_COLUMNS = (
    "seq",
    "recorded_at_utc",
    "action",
    "entity_type",
    "entity_id",
    "patient_id",
    "patient_nhs_number",
    "actor_id",
    "actor_name",
    "actor_role",
    "detail",
    "hash",
)


@dataclass(frozen=True)
class AuditFilter:
    patient_id: uuid.UUID | None = None
    member_id: uuid.UUID | None = None
    action: AuditAction | None = None
    since: datetime | None = None
    until: datetime | None = None


@dataclass(frozen=True)
class AuditRow:
    seq: int
    recorded_at: datetime
    action: AuditAction
    entity_type: str
    entity_id: uuid.UUID | None
    patient_id: uuid.UUID | None
    patient_nhs_number: str  # formatted, "" when none
    actor_id: uuid.UUID | None
    actor_name: str
    actor_role: str
    detail: str
    hash: str
    patient_label: str = ""  # "KOWALCZYK, Aoife, born 15 Apr 1944 (999 758 6506)" on screen

    @property
    def action_label(self) -> str:
        return self.action.label


def patient_id_for_nhs_number(*, session: Session, actor: Actor, nhs_number: str) -> uuid.UUID:
    """Resolve an NHS number typed into the patient filter (ValidationError if unknown)."""
    access.require(session, actor, Permission.VIEW_AUDIT)
    digits = normalise(nhs_number)
    pid = session.scalar(select(Patient.id).where(Patient.nhs_number == digits))
    if pid is None:
        raise ValidationError("No patient with that NHS number in this workspace.", "nhs_number")
    return pid


def people(*, session: Session, actor: Actor) -> list[tuple[uuid.UUID, str]]:
    """Team members to filter by: (id, "Name (Role)")."""
    access.require(session, actor, Permission.VIEW_AUDIT)
    out = []
    for m in session.scalars(select(Member).order_by(Member.name)):
        try:
            label = Role(m.role).label
        except ValueError:
            label = m.role
        out.append((m.id, f"{m.name} ({label})"))
    return out


def _query(session: Session, flt: AuditFilter, limit: int | None) -> list[AuditRow]:
    q = (
        select(
            AuditEvent,
            Member.name,
            Member.role,
            Patient.nhs_number,
            Patient.family_name,
            Patient.given_name,
            Patient.date_of_birth,
        )
        .outerjoin(Member, Member.id == AuditEvent.actor_id)
        .outerjoin(Patient, Patient.id == AuditEvent.patient_id)
        .order_by(AuditEvent.seq.desc())
    )
    if flt.patient_id is not None:
        q = q.where(AuditEvent.patient_id == flt.patient_id)
    if flt.member_id is not None:
        q = q.where(AuditEvent.actor_id == flt.member_id)
    if flt.action is not None:
        q = q.where(AuditEvent.action == flt.action.value)
    if flt.since is not None:
        q = q.where(AuditEvent.recorded_at >= flt.since)
    if flt.until is not None:
        q = q.where(AuditEvent.recorded_at < flt.until)
    if limit is not None:
        q = q.limit(limit)
    rows = []
    for e, name, role, nhs, family, given, born in session.execute(q):
        try:
            action = AuditAction(e.action)
        except ValueError:
            action = AuditAction.EXECUTE
        rows.append(
            AuditRow(
                seq=e.seq,
                recorded_at=e.recorded_at,
                action=action,
                entity_type=e.entity_type,
                entity_id=e.entity_id,
                patient_id=e.patient_id,
                patient_nhs_number=format_nhs(nhs) if nhs else "",
                actor_id=e.actor_id,
                actor_name=name or "",
                actor_role=role_label(role),
                detail=e.detail,
                hash=e.hash,
                patient_label=(
                    f"{family.upper()}, {given}, born {born:%d %b %Y} ({format_nhs(nhs)})"
                    if nhs
                    else ""
                ),
            )
        )
    return rows


def list_events(
    *,
    session: Session,
    actor: Actor,
    filters: AuditFilter = AuditFilter(),
    limit: int | None = DEFAULT_LIMIT,
) -> list[AuditRow]:
    """Newest first. Looking is audited (entity "audit_event", with the filter's patient)."""
    access.require(session, actor, Permission.VIEW_AUDIT, patient_id=filters.patient_id)
    rows = _query(session, filters, limit)
    audit.record_by(
        session,
        actor,
        AuditAction.READ,
        "audit_event",
        None,
        patient_id=filters.patient_id,
        detail=f"rows={len(rows)}",
    )
    return rows


def export_csv(
    *, session: Session, actor: Actor, path: Path, filters: AuditFilter = AuditFilter()
) -> int:
    """Write the filtered trail (all matching rows, oldest first) to ``path``; returns the count.

    The file is written beside its destination and renamed into place, user-only where the OS
    supports modes; nothing is written anywhere else.
    """
    access.require(session, actor, Permission.VIEW_AUDIT, patient_id=filters.patient_id)
    path = Path(path)
    if not path.parent.is_dir():
        raise ValidationError("Choose a folder that exists for the export.", "path")
    rows = list(reversed(_query(session, filters, None)))
    partial = path.with_name(path.name + ".part")
    fd = os.open(partial, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    try:
        # UTF-8 with BOM: Excel reads it right (without, it shows LEFÃˆVRE for LEFÈVRE).
        with os.fdopen(fd, "w", encoding="utf-8-sig", newline="") as fh:
            writer = csv.writer(fh)
            writer.writerow(CSV_COLUMNS)
            for r in rows:
                writer.writerow(
                    [
                        r.seq,
                        in_london(r.recorded_at).isoformat(timespec="seconds"),
                        r.action.label,
                        r.entity_type,
                        r.entity_id or "",
                        r.patient_id or "",
                        r.patient_nhs_number,
                        r.actor_id or "",
                        r.actor_name,
                        r.actor_role,
                        r.detail,
                        r.hash,
                    ]
                )
        os.replace(partial, path)
    except BaseException:
        partial.unlink(missing_ok=True)
        raise
    access.record_export(
        session,
        actor,
        entity_type="audit_export",
        patient_id=filters.patient_id,
        detail=f"rows={len(rows)}",
    )
    return len(rows)


def verify_chain(*, session: Session, actor: Actor) -> audit.ChainReport:
    access.require(session, actor, Permission.VIEW_AUDIT)
    return audit.verify(session)
