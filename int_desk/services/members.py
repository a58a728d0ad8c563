"""Managing team members (MANAGE_MEMBERS: administrators): add, change role, deactivate.

Administrators manage people, not clinical content: they hold no VIEW_CLINICAL, and no team
configuration can grant it to them (``permissions.NEVER_GRANTABLE``).
"""

from __future__ import annotations

import uuid

from sqlalchemy import select
from sqlalchemy.orm import Session

from int_desk.domain.actor import Actor
from int_desk.domain.errors import NotFound, ValidationError
from int_desk.domain.ids import new_id
from int_desk.domain.permissions import Permission
from int_desk.domain.vocab import AuditAction, Role
from int_desk.services import access
from int_desk.store import audit
from int_desk.store.models import Member, Team, TeamMembership

MAX_NAME = 200


def _role(value: Role | str) -> Role:
    try:
        return Role(value)
    except ValueError:
        raise ValidationError("Choose a role from the list.", "role") from None


def add_member(
    *, session: Session, actor: Actor, name: str, role: Role | str, team_id: uuid.UUID
) -> Member:
    access.require(session, actor, Permission.MANAGE_MEMBERS)
    name = (name or "").strip()
    if not name:
        raise ValidationError("A name is required.", "name")
    if len(name) > MAX_NAME or any(ord(ch) < 32 for ch in name):
        raise ValidationError("That name is too long or has control characters.", "name")
    team = session.get(Team, team_id) if isinstance(team_id, uuid.UUID) else None
    if team is None or team.deleted:
        raise NotFound("That team is not in this workspace.")
    if actor.team_ids and team.id not in actor.team_ids:
        raise access.deny(
            session, actor, "manage another team's members", permission=Permission.MANAGE_MEMBERS
        )
    member = Member(id=new_id(), name=name, role=_role(role).value)
    session.add(member)
    session.flush()
    session.add(TeamMembership(id=new_id(), team_id=team.id, member_id=member.id))
    audit.record_by(
        session,
        actor,
        AuditAction.CREATE,
        "member",
        member.id,
        detail=f"role={member.role} team={team.id}",
    )
    return member


def set_role(*, session: Session, actor: Actor, member_id: uuid.UUID, role: Role | str) -> Member:
    access.require(session, actor, Permission.MANAGE_MEMBERS)
    member = session.get(Member, member_id) if isinstance(member_id, uuid.UUID) else None
    if member is None or member.deleted:
        raise NotFound("That team member is not in this workspace.")
    new_role = _role(role)
    old = member.role
    member.role = new_role.value
    audit.record_by(
        session,
        actor,
        AuditAction.UPDATE,
        "member",
        member.id,
        detail=f"role={old}->{new_role.value}",
    )
    return member


def deactivate(*, session: Session, actor: Actor, member_id: uuid.UUID) -> Member:
    access.require(session, actor, Permission.MANAGE_MEMBERS)
    member = session.get(Member, member_id) if isinstance(member_id, uuid.UUID) else None
    if member is None or member.deleted:
        raise NotFound("That team member is not in this workspace.")
    if member.id == actor.member_id:
        raise ValidationError("You cannot deactivate yourself.", "member_id")
    member.active = False
    audit.record_by(session, actor, AuditAction.UPDATE, "member", member.id, detail="active=false")
    return member


def members_of(*, session: Session, actor: Actor, team_id: uuid.UUID) -> list[Member]:
    access.require(session, actor, Permission.VIEW_CASELOAD)
    return list(
        session.scalars(
            select(Member)
            .join(TeamMembership, TeamMembership.member_id == Member.id)
            .where(TeamMembership.team_id == team_id, TeamMembership.deleted.is_(False))
            .order_by(Member.name)
        )
    )
