"""Role permissions on the central endpoint: whether a pushed op may be applied, by the write
rules (``write_rules.RULES``, one per field) and the caller's read scope, so a modified or
scripted client cannot do over sync what the app would refuse.

    reason = write_denied(session, user_id=..., teams=..., entity=..., record_id=..., fields=...)

The caller is a ``Principal`` (``principal.py``): a team member with a known role, or a declared
integration account. Anybody else gets nothing (the routes answer 403 before reaching here, and
``write_denied`` refuses too). Refusals are audited by the caller (``audit.refused``).
"""

from __future__ import annotations

import json
import uuid
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from int_desk.domain.actor import Actor
from int_desk.server import write_rules
from int_desk.server.models import Record, ServerUser
from int_desk.server.principal import NO_MEMBER, Principal, principal, record_data
from int_desk.server.read_scope import scope_of


def caller_actor(session: Session, user_id: uuid.UUID, teams: tuple[str, ...]) -> Actor | None:
    """The caller as the desktop's Actor (None for an integration account or nobody)."""
    who = principal(session, user_id, teams)
    return who.actor if who is not None else None


def author_name(session: Session, user_id: uuid.UUID, teams: tuple[str, ...]) -> str:
    """The caller's name as their team knows it (their member record), else their login."""
    who = principal(session, user_id, teams)
    member = record_data(session, "member", who.member_id) if who and who.member_id else None
    if member and member.get("name"):
        return str(member["name"])[:200]
    return str(session.scalar(select(ServerUser.name).where(ServerUser.id == user_id)) or "")


def _patient_of(
    session: Session, entity: str, record_id: uuid.UUID, fields: dict[str, Any]
) -> uuid.UUID | None:
    rec = session.get(Record, (entity, record_id))
    if rec is not None and rec.patient_id is not None:
        return rec.patient_id
    if entity == "patient":
        return record_id
    try:
        value = fields.get("patient_id")
        if value:
            return uuid.UUID(str(value))
        if entity in ("goal", "plan_action") and fields.get("care_plan_id"):
            plan = session.get(Record, ("care_plan", uuid.UUID(str(fields["care_plan_id"]))))
            return plan.patient_id if plan is not None else None
    except ValueError:
        return None
    return None


def _stored(session: Session, entity: str, record_id: uuid.UUID) -> dict[str, Any] | None:
    """The stored row (deleted too: undeleting is a write to it), or None for a new one."""
    for obj in session.new:  # added earlier in this batch
        if isinstance(obj, Record) and obj.entity == entity and obj.id == record_id:
            stored: dict[str, Any] = json.loads(obj.data)
            return stored
    rec = session.get(Record, (entity, record_id))
    return json.loads(rec.data) if rec is not None else None


def check_op(
    session: Session,
    who: Principal | None,
    *,
    entity: str,
    record_id: uuid.UUID,
    fields: dict[str, Any],
) -> write_rules.Verdict:
    """The write rules' verdict on one op, with the caller's read scope for old and new row."""
    if who is None:
        return write_rules.Verdict(f"forbidden: {NO_MEMBER}")
    reader = scope_of(session, who)
    patient = _patient_of(session, entity, record_id, fields)
    pid = str(patient) if patient is not None else None
    if reader.referred_only and entity != "saved_view" and pid is None:
        return write_rules.Verdict("forbidden: only people referred to you, and your own rows")

    def readable(row: write_rules.Row) -> bool:
        return reader.row(entity, pid, dict(row)) is not None

    old = _stored(session, entity, record_id)
    return write_rules.check(who, entity, old, fields, readable)


def write_denied(
    session: Session,
    *,
    user_id: uuid.UUID,
    teams: tuple[str, ...],
    entity: str,
    record_id: uuid.UUID,
    fields: dict[str, Any],
) -> str:
    """Why this op may not be applied for the caller ("" when it may)."""
    who = principal(session, user_id, teams)
    return check_op(session, who, entity=entity, record_id=record_id, fields=fields).reason
