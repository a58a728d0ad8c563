"""The signed-in team member of a workspace."""

from __future__ import annotations

import uuid

from sqlalchemy import select
from sqlalchemy.orm import Session

from int_desk.domain.actor import Actor
from int_desk.domain.errors import WorkspaceError
from int_desk.domain.vocab import Role
from int_desk.store.models import Member, TeamMembership, WorkspaceMeta

CURRENT_MEMBER_KEY = "current_member_id"


def actor_for(session: Session, member_id: uuid.UUID) -> Actor:
    member = session.get(Member, member_id)
    if member is None or member.deleted:
        raise WorkspaceError("The signed-in team member is not in this workspace.")
    teams = session.scalars(
        select(TeamMembership.team_id).where(
            TeamMembership.member_id == member_id, TeamMembership.deleted.is_(False)
        )
    )
    return Actor(member.id, Role(member.role), frozenset(teams), member.name)


def current_actor(session: Session) -> Actor:
    value = session.scalar(
        select(WorkspaceMeta.value).where(WorkspaceMeta.key == CURRENT_MEMBER_KEY)
    )
    if not value:
        raise WorkspaceError("No team member is signed in to this workspace.")
    return actor_for(session, uuid.UUID(value))


def set_current_member(session: Session, member_id: uuid.UUID) -> None:
    session.merge(WorkspaceMeta(key=CURRENT_MEMBER_KEY, value=str(member_id)))
