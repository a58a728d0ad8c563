"""What every write in a service does besides its own work, in one place: check the permission
(``access.require``: an audited denial), stamp the row with who changed it and when, and record
the audit entry in the same transaction (``audit.record``: ids and field names only)."""

from __future__ import annotations

import uuid
from typing import Any

from sqlalchemy.orm import Session

from int_desk.domain.actor import Actor
from int_desk.domain.vocab import AuditAction
from int_desk.services.access import require as require
from int_desk.store import audit
from int_desk.store.base import utcnow


def stamp(row: Any, actor: Actor, *, new: bool = False) -> None:
    """Who changed the row and when (and who created it, for a new row)."""
    if new:
        row.created_by = actor.member_id
    row.updated_by = actor.member_id
    row.updated_at = utcnow()


audit_event = audit.record_by  # (the name services know it by)


def record_write(
    session: Session,
    actor: Actor,
    row: Any,
    action: AuditAction,
    entity_type: str,
    *,
    patient_id: uuid.UUID | None = None,
    detail: str = "",
) -> None:
    """One service write's bookkeeping: stamp the row (a CREATE adds it as new), flush it so
    its constraints are checked now, and audit it in the same transaction."""
    new = action is AuditAction.CREATE
    stamp(row, actor, new=new)
    if new:
        session.add(row)
    session.flush()
    audit_event(session, actor, action, entity_type, row.id, patient_id=patient_id, detail=detail)
