"""Who is calling the endpoint, failing closed: a team member with a known role, or a declared
integration account. Anything else is nobody (the routes answer 403).

    who = principal(session, user_id, teams)   # None: no access at all
    who.may(Permission.EDIT_PATIENT)

A person's permissions are their role's plus what their teams' configuration grants the role
(never beyond ``NEVER_GRANTABLE``). An integration account (a PHM feed, a reporting extract) is
a login of kind ``integration`` made by ``int-desk admin add-integration`` with one of the
scopes below; it never comes from a login that merely lacks a member record. A GP practice's
login (kind ``practice``, scope ``gp_notifications``, one ODS code) is nobody here: it reads its
notifications through the FHIR API only.
"""

from __future__ import annotations

import json
import uuid
from dataclasses import dataclass
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from int_desk.domain.actor import Actor
from int_desk.domain.permissions import (
    REFERRED_ONLY_ROLES,
    ROLE_PERMISSIONS,
    Permission,
    allowed,
    grants_from_configs,
)
from int_desk.domain.vocab import Role
from int_desk.server.models import GLOBAL_SCOPE, Record, ServerUser

P = Permission
PERSON = "person"
INTEGRATION = "integration"
# A GP practice's system: reads the notifications addressed to its ODS code (FHIR Communication)
# and nothing else; never a principal of the sync routes (server/practice_admin.py).
PRACTICE = "practice"
PRACTICE_SCOPE = "gp_notifications"
LOGIN_KINDS = (PERSON, INTEGRATION, PRACTICE)

INTEGRATION_SCOPES: dict[str, frozenset[Permission]] = {
    # Reads the teams' whole record, writes nothing (reporting, extracts).
    "read": frozenset({P.VIEW_CASELOAD, P.VIEW_CLINICAL}),
    # A population-health feed: cohorts, enrolments and demographics, no clinical content.
    "phm_feed": frozenset({P.VIEW_CASELOAD, P.IMPORT_COHORT, P.EDIT_PATIENT}),
    # A clinical system writing as a clinician would (no sign-off, no consent override).
    "clinical_system": ROLE_PERMISSIONS[Role.DISTRICT_NURSE],
}
"""What each kind of integration account may do (declared when the account is made)."""

PRACTICE_ONLY = (
    "This is a GP practice's token: it reads the practice's notifications through the FHIR API "
    "(/fhir/R4/Communication) and nothing else."
)

NO_MEMBER = (
    "This login is not linked to a team member with a role this server knows, so it has no "
    "access. Ask your INT Desk administrator to link it (int-desk admin add-user --member-id)."
)


@dataclass(frozen=True)
class Principal:
    user_id: uuid.UUID
    permissions: frozenset[Permission]
    member_id: uuid.UUID | None = None  # None only for integration accounts
    role: Role | None = None  # None only for integration accounts
    integration_scope: str | None = None
    team_ids: frozenset[uuid.UUID] = frozenset()

    def may(self, permission: Permission) -> bool:
        return permission in self.permissions

    @property
    def clinical(self) -> bool:
        return P.VIEW_CLINICAL in self.permissions

    @property
    def referred_only(self) -> bool:
        return self.role in REFERRED_ONLY_ROLES

    @property
    def label(self) -> str:
        if self.role is not None:
            return self.role.label
        return f"integration ({self.integration_scope})"

    @property
    def actor(self) -> Actor | None:
        """The desktop's Actor for a person (None for an integration account)."""
        if self.role is None or self.member_id is None:
            return None
        return Actor(self.member_id, self.role, self.team_ids)


def record_data(session: Session, entity: str, record_id: object) -> dict[str, Any] | None:
    """A live member's or team's stored data, read by its scope (reference data is ``global``,
    a team row is its own team's), as every endpoint query names its team."""
    try:
        rid = record_id if isinstance(record_id, uuid.UUID) else uuid.UUID(str(record_id))
    except ValueError:
        return None
    scope = str(rid) if entity == "team" else GLOBAL_SCOPE
    once: dict[tuple[str, uuid.UUID], dict[str, Any] | None] | None = session.info.get(
        "int_desk_read_once"
    )  # a read-only lookup's own memory
    if once is not None and (entity, rid) in once:
        return once[(entity, rid)]
    row = session.execute(
        select(Record.data, Record.deleted).where(
            Record.scope == scope, Record.entity == entity, Record.id == rid
        )
    ).first()
    data: dict[str, Any] | None = (
        json.loads(row.data) if row is not None and not row.deleted else None
    )
    if once is not None:
        once[(entity, rid)] = data
    return data


def _person_permissions(
    session: Session, role: Role, teams: frozenset[uuid.UUID]
) -> frozenset[Permission]:
    configs = [(record_data(session, "team", t) or {}).get("config") or {} for t in teams]
    grants = grants_from_configs(configs, role)
    probe = Actor(uuid.UUID(int=0), role, teams)
    return frozenset(p for p in Permission if allowed(probe, p, grants))


def principal(session: Session, user_id: uuid.UUID, teams: tuple[str, ...]) -> Principal | None:
    """The caller, or None when they have no access (no member, unknown role, unknown scope).

    Cached per session (``session.info``), since a push asks for it once per op.
    """
    cache: dict[uuid.UUID, Principal | None] = session.info.setdefault("int_desk_principal", {})
    if user_id in cache:
        return cache[user_id]
    row = session.execute(
        select(ServerUser.member_id, ServerUser.kind, ServerUser.scope, ServerUser.active).where(
            ServerUser.id == user_id
        )
    ).first()
    found = None
    if row is not None and row.active:
        found = login_principal(session, user_id, row.member_id, row.kind, row.scope, teams)
    cache[user_id] = found
    return found


def login_principal(
    session: Session,
    user_id: uuid.UUID,
    member_id: uuid.UUID | None,
    kind: str,
    scope: str | None,
    teams: tuple[str, ...],
) -> Principal | None:
    """Who an active login is, from its columns (the auth lookup reads them in its own query)."""
    team_ids = frozenset(uuid.UUID(t) for t in teams)
    if kind == INTEGRATION:
        perms = INTEGRATION_SCOPES.get(scope or "")
        if perms is None:
            return None
        return Principal(user_id, perms, integration_scope=scope, team_ids=team_ids)
    if kind != PERSON or member_id is None:
        return None
    member = record_data(session, "member", member_id)
    try:
        role = Role(member.get("role") or "") if member else None
    except ValueError:
        role = None
    if role is None or not (member or {}).get("active", True):
        return None
    return Principal(
        user_id,
        _person_permissions(session, role, team_ids),
        member_id=member_id,
        role=role,
        team_ids=team_ids,
    )
