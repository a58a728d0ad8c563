"""Sync conflicts: list them for the Conflicts inbox and let a person resolve one.

A conflict is the same field changed on this device and on the server before either saw the
other. Both values, who and when are kept (``SyncConflict``); nothing is overwritten until a
person chooses. The choice is written to the row like any edit (so it goes out through the outbox
and syncs), and the resolution is audited. Messages and audit details name fields, not values.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

from sqlalchemy import func, select, update
from sqlalchemy.orm import Session

from int_desk.domain.actor import Actor
from int_desk.domain.errors import NotFound, ValidationError
from int_desk.domain.permissions import WRITE_PERMISSIONS, Permission
from int_desk.domain.vocab import AuditAction
from int_desk.services import access
from int_desk.store import audit
from int_desk.store.base import utcnow
from int_desk.store.models import Member, Patient
from int_desk.store.sync_tables import SyncConflict, SyncOutbox
from int_desk.store.wire_entities import SYNCED_BY_NAME
from int_desk.wire import schema, values

CHOICES = ("local", "remote", "custom")


@dataclass(frozen=True)
class ConflictView:
    id: uuid.UUID
    entity: str
    entity_id: uuid.UUID
    patient_id: uuid.UUID | None
    patient_name: str
    field: str
    field_label: str
    local_value: Any
    local_by: str
    local_at: datetime
    remote_value: Any
    remote_by: str
    remote_at: str
    status: str
    resolution: str | None
    patient_born: date | None = None  # with the name, so the person is never in doubt
    local_text: str = ""  # how each side reads, when the raw value does not say it
    remote_text: str = ""

    @property
    def patient_label(self) -> str:
        """Name and date of birth: "Aoife Kowalczyk, born 15 Apr 1944"."""
        if not self.patient_name or self.patient_born is None:
            return self.patient_name
        return f"{self.patient_name}, born {self.patient_born:%d %b %Y}"

    @property
    def what(self) -> str:
        return f"{self.entity.replace('_', ' ').capitalize()}: {self.field_label}"


def _label(field: str) -> str:
    return "Deleted" if field == "deleted" else field.replace("_", " ").capitalize()


def open_count(*, session: Session) -> int:
    return session.scalar(select(func.count()).where(SyncConflict.status == "open")) or 0


def list_conflicts(
    *, session: Session, actor: Actor, include_resolved: bool = False
) -> list[ConflictView]:
    """Open conflicts, oldest first (resolved ones too when asked)."""
    access.require_patient_view(session, actor)  # a VCSE worker too: their own edits' conflicts
    q = select(SyncConflict).order_by(SyncConflict.detected_at, SyncConflict.field)
    if not include_resolved:
        q = q.where(SyncConflict.status == "open")
    rows = list(session.scalars(q))
    members = {
        mid: name
        for mid, name in session.execute(
            select(Member.id, Member.name).where(
                Member.id.in_({r.local_by for r in rows if r.local_by})
            )
        )
    }
    patients = {
        pid: (f"{g} {f}", born)
        for pid, g, f, born in session.execute(
            select(
                Patient.id, Patient.given_name, Patient.family_name, Patient.date_of_birth
            ).where(Patient.id.in_({r.patient_id for r in rows if r.patient_id}))
        )
    }
    return [
        ConflictView(
            id=r.id,
            entity=r.entity,
            entity_id=r.entity_id,
            patient_id=r.patient_id,
            patient_name=patients.get(r.patient_id, ("", None))[0] if r.patient_id else "",
            patient_born=patients.get(r.patient_id, ("", None))[1] if r.patient_id else None,
            field=r.field,
            field_label=_label(r.field),
            local_value=r.local_value,
            local_by=members.get(r.local_by, "this device") if r.local_by else "this device",
            local_at=r.local_at,
            remote_value=r.remote_value,
            remote_by=r.remote_by or "another device",
            remote_at=r.remote_at,
            status=r.status,
            resolution=r.resolution,
            **_sides(r),
        )
        for r in rows
    ]


def _edit_of_deleted(value: Any) -> dict[str, Any] | None:
    """The edits of a "your edit met a delete" conflict (see sync.local._local_side)."""
    if isinstance(value, dict) and isinstance(value.get("edit"), dict):
        return value["edit"]
    return None


def _sides(r: SyncConflict) -> dict[str, str]:
    edits = _edit_of_deleted(r.local_value) if r.field == "deleted" else None
    if edits is None:
        return {}
    changed = "; ".join(f"{_label(k)}: {v}" for k, v in edits.items()) or "no content"
    return {
        "local_text": f"Keep it, with your change ({changed})",
        "remote_text": "Deleted",
    }


def resolve_conflict(
    *,
    session: Session,
    actor: Actor,
    conflict_id: uuid.UUID,
    choice: str,
    value: Any = None,
) -> None:
    """Keep this device's value (``local``), the server's (``remote``) or a new one (``custom``).

    The chosen value is written to the row through the ORM, so it is queued in the outbox and
    synced; the resolution is audited in the same transaction.
    """
    if choice not in CHOICES:
        raise ValidationError("Choose local, remote or a new value.", "choice")
    conflict = session.get(SyncConflict, conflict_id)
    if conflict is None:
        raise NotFound("That conflict no longer exists.")
    if conflict.status != "open":
        raise ValidationError("That conflict was already resolved.", "choice")
    access.require(  # the permission the endpoint asks of the same write
        session,
        actor,
        WRITE_PERMISSIONS.get(conflict.entity, Permission.EDIT_PATIENT),
        patient_id=conflict.patient_id,
    )
    entity = schema.ENTITIES.get(conflict.entity)
    if entity is None:
        raise NotFound("That kind of record is not known to this version of INT Desk.")
    row = session.get(SYNCED_BY_NAME[entity.name], conflict.entity_id)
    if row is None:
        raise NotFound("The record in conflict is no longer on this device.")
    edits = _edit_of_deleted(conflict.local_value) if conflict.field == "deleted" else None
    if edits is not None:
        if choice == "custom":
            raise ValidationError("Keep the record with your change, or keep it deleted.", "choice")
        if choice == "local":  # restore the row, with the edit the delete met
            for name, wire in edits.items():
                if name in entity.columns:
                    try:
                        checked = values.check_value(entity, name, wire)
                    except values.InvalidValue as exc:
                        raise ValidationError(str(exc), name) from None
                    setattr(row, name, schema.wire_to_python(entity.columns[name].kind, checked))
        chosen: Any = choice != "local"  # deleted: as theirs, or restored
    else:
        chosen = {"local": conflict.local_value, "remote": conflict.remote_value}.get(choice, value)
    try:
        wire = values.check_value(entity, conflict.field, chosen)
    except values.InvalidValue as exc:
        raise ValidationError(str(exc), conflict.field) from None
    kind = entity.columns[conflict.field].kind
    setattr(row, conflict.field, schema.wire_to_python(kind, wire))
    if hasattr(row, "updated_by"):
        row.updated_by = actor.member_id
    conflict.status = "resolved"
    conflict.resolution = choice
    conflict.resolved_by = actor.member_id
    conflict.resolved_at = utcnow()
    session.flush()  # the outbox op for the row is written here
    session.execute(
        update(SyncOutbox)
        .where(
            SyncOutbox.entity == conflict.entity,
            SyncOutbox.entity_id == conflict.entity_id,
            SyncOutbox.status == "pending",
            SyncOutbox.sent_at.is_(None),
        )
        .values(resolves_conflict=conflict.id)
    )
    audit.record_by(
        session,
        actor,
        AuditAction.UPDATE,
        "sync_conflict",
        conflict.id,
        patient_id=conflict.patient_id,
        detail=f"resolved {conflict.entity}.{conflict.field} keeping {choice}",
    )
