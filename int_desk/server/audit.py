"""The endpoint's own audit trail: what it refused or repaired, for whom (``ServerAudit``).

Ids, entity and field names and the rule's reason only, never the values sent: a refused
push's content is not kept. ``int-desk admin audit --refusals`` lists it. Each entry is also
appended to the chained trail (``sync_audit``, the ``global`` chain) when its transaction commits.
"""

from __future__ import annotations

import uuid

from sqlalchemy import select
from sqlalchemy.orm import Session

from int_desk.server import sync_audit
from int_desk.server.models import ServerAudit

WRITE_DENIED = "write_denied"
LOGIN_REFUSED = "login_refused"
ROW_REPAIRED = "row_repaired"


def record(
    session: Session,
    action: str,
    *,
    user_id: uuid.UUID | None = None,
    device_id: uuid.UUID | None = None,
    entity: str = "",
    record_id: uuid.UUID | None = None,
    detail: str = "",
    chained: bool = True,
) -> None:
    """``chained=False``: the caller chains its own fuller entry (a refused push op)."""
    if chained:
        sync_audit.add(
            session, action, outcome="refused" if _refusal(action) else "", user_id=user_id,
            device_id=device_id, entity=entity, record_id=record_id, detail=detail,
        )  # fmt: skip
    session.add(
        ServerAudit(
            action=action,
            user_id=user_id,
            device_id=device_id,
            entity=entity[:40],
            record_id=record_id,
            detail=detail[:500],
        )
    )


def _refusal(action: str) -> bool:
    return action.endswith(("_denied", "_refused"))


def recent(session: Session, limit: int = 100, action: str | None = None) -> list[ServerAudit]:
    q = select(ServerAudit).order_by(ServerAudit.seq.desc()).limit(limit)
    if action:
        q = q.where(ServerAudit.action == action)
    return list(session.scalars(q))
