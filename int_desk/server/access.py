"""Role permissions on the central endpoint: what a pushed op needs, from the same role data
(``int_desk.domain.permissions``) the desktop services use, so a modified or scripted client
cannot do over sync what the app would refuse.

    reason = write_denied(session, caller, op, fields)   # "" when allowed

The caller's role comes from the member record linked to their server user; team grants from
their teams' configuration (never beyond NEVER_GRANTABLE). A VCSE worker may write only for
people referred to them. A server user with no linked member (an integration account, e.g. a
PHM feed) is limited by team scope alone.
"""

from __future__ import annotations

import json
import uuid
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from int_desk.domain.actor import Actor
from int_desk.domain.gp_notification import ENDPOINT_ONLY_FIELDS, TRIGGER_PERMISSIONS
from int_desk.domain.permissions import (
    ACTION_LABELS,
    REFERRED_ONLY_ROLES,
    WRITE_PERMISSIONS,
    Permission,
    allowed,
    grants_from_configs,
)
from int_desk.domain.vocab import CarePlanStatus, EscalationStatus, Role
from int_desk.server.models import Record, ServerUser

P = Permission


def needed(entity: str, fields: dict[str, Any], current: dict[str, Any] | None) -> Permission:
    """The permission this change needs: the entity's, or a stronger one for sign-off etc."""
    if entity == "care_plan":
        becomes_active = fields.get("status") == CarePlanStatus.ACTIVE.value and (
            current is None or current.get("status") != CarePlanStatus.ACTIVE.value
        )
        if becomes_active or fields.get("signed_off_by") or fields.get("signed_off_at"):
            return P.SIGN_OFF_PLAN
        declined = current is not None and current.get("consent_decision") == "deny"
        if declined and "consent_decision" in fields and fields["consent_decision"] != "deny":
            return P.OVERRIDE_CONSENT
    if entity == "escalation" and fields.get("status") == EscalationStatus.RESOLVED.value:
        return P.RESOLVE_ESCALATION
    if entity == "gp_notification":  # only a role that may take the action may tell the GP
        trigger = fields.get("trigger") or (current or {}).get("trigger")
        return TRIGGER_PERMISSIONS.get(str(trigger), P.MANAGE_MEMBERS)
    return WRITE_PERMISSIONS.get(entity, P.MANAGE_MEMBERS)


def _record_data(session: Session, entity: str, record_id: Any) -> dict[str, Any] | None:
    try:
        rid = record_id if isinstance(record_id, uuid.UUID) else uuid.UUID(str(record_id))
    except ValueError:
        return None
    rec = session.get(Record, (entity, rid))
    return json.loads(rec.data) if rec is not None else None


def caller_actor(session: Session, user_id: uuid.UUID, teams: tuple[str, ...]) -> Actor | None:
    """The caller as an Actor (role from their member record), cached per session."""
    cache = session.info.setdefault("int_desk_actor", {})
    if user_id in cache:
        return cache[user_id]  # type: ignore[no-any-return]
    member_id = session.scalar(select(ServerUser.member_id).where(ServerUser.id == user_id))
    actor = None
    member = _record_data(session, "member", member_id) if member_id else None
    if member_id and member:
        try:
            role = Role(member.get("role"))
        except ValueError:
            role = None
        if role is not None:
            actor = Actor(member_id, role, frozenset(uuid.UUID(t) for t in teams))
    cache[user_id] = actor
    return actor


def author_name(session: Session, user_id: uuid.UUID, teams: tuple[str, ...]) -> str:
    """The caller's name as their team knows it (their member record), else their login."""
    actor = caller_actor(session, user_id, teams)
    member = _record_data(session, "member", actor.member_id) if actor is not None else None
    if member and member.get("name"):
        return str(member["name"])[:200]
    return str(session.scalar(select(ServerUser.name).where(ServerUser.id == user_id)) or "")


def team_grants(session: Session, actor: Actor) -> frozenset[str]:
    configs = [_record_data(session, "team", t) or {} for t in actor.team_ids]
    return grants_from_configs([c.get("config") or {} for c in configs], actor.role)


def _patient_of(
    session: Session, entity: str, record_id: uuid.UUID, fields: dict[str, Any]
) -> uuid.UUID | None:
    rec = session.get(Record, (entity, record_id))
    if rec is not None and rec.patient_id is not None:
        return rec.patient_id
    if entity == "patient":
        return record_id
    value = fields.get("patient_id")
    if value:
        return uuid.UUID(str(value))
    if entity in ("goal", "plan_action") and fields.get("care_plan_id"):
        plan = session.get(Record, ("care_plan", uuid.UUID(str(fields["care_plan_id"]))))
        return plan.patient_id if plan is not None else None
    return None


def _referred(session: Session, actor: Actor, patient_id: uuid.UUID) -> bool:
    for data in session.scalars(
        select(Record.data).where(
            Record.entity == "referral",
            Record.patient_id == patient_id,
            Record.deleted.is_(False),
        )
    ):
        if json.loads(data).get("to_member_id") == str(actor.member_id):
            return True
    return False


def write_denied(
    session: Session,
    *,
    user_id: uuid.UUID,
    teams: tuple[str, ...],
    entity: str,
    record_id: uuid.UUID,
    fields: dict[str, Any],
) -> str:
    """Why this op may not be applied for the caller's role ("" when it may)."""
    actor = caller_actor(session, user_id, teams)
    if actor is None:
        return ""
    current = _record_data(session, entity, record_id)
    permission = needed(entity, fields, current)
    if not allowed(actor, permission, team_grants(session, actor)):
        return (
            f"forbidden: the role '{actor.role.label}' may not "
            f"{ACTION_LABELS.get(permission, permission.value)}"
        )
    if entity == "gp_notification" and any(fields.get(f) is not None for f in ENDPOINT_ONLY_FIELDS):
        return "forbidden: only the practice's reading marks a notification read"
    if (
        entity == "contact"
        and fields.get("clinical")
        and not allowed(actor, P.VIEW_CLINICAL, team_grants(session, actor))
    ):
        return f"forbidden: the role '{actor.role.label}' may not write clinical notes"
    if actor.role in REFERRED_ONLY_ROLES and entity != "saved_view":
        patient = _patient_of(session, entity, record_id, fields)
        if patient is None or not _referred(session, actor, patient):
            return "forbidden: only people referred to you"
    return ""
