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
from collections.abc import Callable
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from int_desk.domain.actor import Actor
from int_desk.server import write_rules
from int_desk.server.models import Record, ServerUser
from int_desk.server.principal import NO_MEMBER, Principal, principal, record_data
from int_desk.server.read_scope import ReadScope, scope_of


def caller_actor(session: Session, user_id: uuid.UUID, teams: tuple[str, ...]) -> Actor | None:
    """The caller as the desktop's Actor (None for an integration account or nobody)."""
    who = principal(session, user_id, teams)
    return who.actor if who is not None else None


def author_name(
    session: Session,
    user_id: uuid.UUID,
    teams: tuple[str, ...],
    who: Principal | None = None,
    login_name: str | None = None,
) -> str:
    """The caller's name as their team knows it (their member record), else their login's
    (``login_name`` when the caller has it already: no query)."""
    who = who or principal(session, user_id, teams)
    member = record_data(session, "member", who.member_id) if who and who.member_id else None
    if member and member.get("name"):
        return str(member["name"])[:200]
    if login_name is not None:
        return login_name
    return str(session.scalar(select(ServerUser.name).where(ServerUser.id == user_id)) or "")


def patient_of(
    entity: str,
    record_id: uuid.UUID,
    fields: dict[str, Any],
    stored_patient: uuid.UUID | None,
    plan_patient: Callable[[uuid.UUID], uuid.UUID | None],
) -> uuid.UUID | None:
    """The person an op is about: the stored row's, the patient's own id, the op's patient_id,
    or (a new goal or action) its care plan's (``plan_patient``)."""
    if stored_patient is not None:
        return stored_patient
    if entity == "patient":
        return record_id
    try:
        value = fields.get("patient_id")
        if value:
            return uuid.UUID(str(value))
        if entity in ("goal", "plan_action") and fields.get("care_plan_id"):
            return plan_patient(uuid.UUID(str(fields["care_plan_id"])))
    except ValueError:
        return None
    return None


def _stored(session: Session, entity: str, record_id: uuid.UUID) -> Record | None:
    """The stored row (deleted too: undeleting is a write to it), or None for a new one."""
    for obj in session.new:  # added earlier in this batch
        if isinstance(obj, Record) and obj.entity == entity and obj.id == record_id:
            return obj
    return session.get(Record, (entity, record_id))


def check_op(
    session: Session,
    who: Principal | None,
    *,
    entity: str,
    record_id: uuid.UUID,
    fields: dict[str, Any],
) -> write_rules.Verdict:
    """The write rules' verdict on one op, with the caller's read scope for old and new row."""
    rec = _stored(session, entity, record_id)

    def plan_patient(plan_id: uuid.UUID) -> uuid.UUID | None:
        plan = session.get(Record, ("care_plan", plan_id))
        return plan.patient_id if plan is not None else None

    return verdict(
        who,
        scope_of(session, who) if who is not None else None,
        entity=entity,
        record_id=record_id,
        fields=fields,
        old=json.loads(rec.data) if rec is not None else None,
        patient=patient_of(
            entity, record_id, fields, rec.patient_id if rec else None, plan_patient
        ),
    )


def verdict(
    who: Principal | None,
    reader: ReadScope | None,
    *,
    entity: str,
    record_id: uuid.UUID,
    fields: dict[str, Any],
    old: dict[str, Any] | None,
    patient: uuid.UUID | None,
) -> write_rules.Verdict:
    """``check_op`` on rows already read: ``old`` the stored row (None: new), ``patient`` whom
    the op is about (``patient_of``). The batch push reads every row of a batch at once."""
    if who is None or reader is None:
        return write_rules.Verdict(f"forbidden: {NO_MEMBER}")
    pid = str(patient) if patient is not None else None
    if reader.referred_only and entity != "saved_view" and pid is None:
        return write_rules.Verdict("forbidden: only people referred to you, and your own rows")

    def readable(row: write_rules.Row) -> bool:
        return reader.row(entity, pid, dict(row)) is not None

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
