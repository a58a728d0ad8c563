"""Access control for services: who may do what, to which patients, and seeing which fields.

Use these in every service (the GUI, CLI and sync all go through services):

    from int_desk.services import access
    access.require(session, actor, Permission.SIGN_OFF_PLAN, patient_id=pid)   # audited denial
    patient = access.get_patient(session, actor, pid)      # NotFound / audited PermissionDenied
    access.record_view(session, actor, pid)                 # a "view" audit entry (reads too)
    q = select(Patient).where(access.visible_patient_filter(actor))
    q = select(Contact).where(access.visible_contact_filter(session, actor))
    row = access.redact(session, actor, plan)               # dict, clinical fields blanked

Rules (data in ``int_desk.domain.permissions``):
- Permission by role, plus team grants from ``Team.config["role_permissions"]``, never beyond
  ``NEVER_GRANTABLE`` (no clinical content for VCSE/admin whatever a team configures).
- Scope: a team member sees patients in a cohort of one of their teams; a VCSE worker sees only
  patients referred to them, their contingency plan and their own tasks.
- Without VIEW_CLINICAL, clinical contacts and the plan's clinical summary/medicines are hidden.
- A denial writes an audit entry (action E, entity "permission", detail = the permission) and
  raises PermissionDenied whose message names the action and role, never the patient.
"""

from __future__ import annotations

import uuid
from typing import Any, TypeVar

from sqlalchemy import ColumnElement, and_, event, exists, false, inspect, or_, select
from sqlalchemy.orm import Session

from int_desk.domain.actor import Actor
from int_desk.domain.errors import NotFound, PermissionDenied
from int_desk.domain.permissions import (
    ACTION_LABELS,
    CLINICAL_FIELDS,
    REFERRED_ONLY_ROLES,
    Permission,
    allowed,
    grants_from_configs,
)
from int_desk.domain.vocab import AuditAction
from int_desk.store import audit
from int_desk.store.models import (
    CarePlan,
    Cohort,
    CohortMembership,
    Contact,
    Patient,
    Referral,
    Task,
    Team,
)

DENIED_ENTITY = "permission"
"""``AuditEvent.entity_type`` of a denied attempt (its ``detail`` is ``denied:<permission>``)."""

REDACTED_FIELDS = CLINICAL_FIELDS
"""Clinical fields per table, blanked by ``redact`` for actors without VIEW_CLINICAL."""
REDACTED_TEXT = ""
_Row = TypeVar("_Row", Team, Cohort)


# --- permissions -------------------------------------------------------------------------------


def granted_permissions(session: Session, actor: Actor) -> frozenset[str]:
    """Extra permissions the actor's teams grant to the actor's role (Team.config)."""
    return grants_from_configs(team_configs(session, actor), actor.role)


def team_configs(session: Session, actor: Actor) -> list[dict[str, Any]]:
    """The configuration of each of the actor's teams (idle lock, quick unlock, grants)."""
    if not actor.team_ids:
        return []
    configs = session.scalars(select(Team.config).where(Team.id.in_(actor.team_ids)))
    return [dict(c or {}) for c in configs]


def can(session: Session, actor: Actor, permission: Permission) -> bool:
    """Non-raising, non-auditing check (for enabling buttons and choosing what to show)."""
    return allowed(actor, permission, granted_permissions(session, actor))


def _has_uncommitted_writes(session: Session) -> bool:
    """True when the caller's connection holds written, uncommitted rows (a write lock)."""
    if not session.in_transaction():
        return False
    dbapi = session.connection().connection.dbapi_connection
    return bool(getattr(dbapi, "in_transaction", False))


def _write_denial(bind: Any, entry: dict[str, Any]) -> None:
    with Session(bind) as own, own.begin():
        audit.record(own, **entry)


def _after_rollback(session: Session) -> None:
    pending = session.info.pop(_PENDING, None)
    for entry in pending or ():
        _write_denial(session.get_bind(), entry)


def _after_commit(session: Session) -> None:
    session.info.pop(_PENDING, None)


_PENDING = "int_desk_pending_denials"


def deny(
    session: Session,
    actor: Actor,
    what: str,
    *,
    permission: Permission | None = None,
    patient_id: uuid.UUID | None = None,
) -> PermissionDenied:
    """Audit a denied attempt and return the error to raise.

    The entry survives whatever the caller does next: with nothing written yet in ``session``
    it is committed at once on its own connection; otherwise it joins the caller's transaction
    and, should that roll back (the usual fate of a raised PermissionDenied), is written again
    right after the rollback. The caller's own work is never rolled back or committed here.
    """
    entry: dict[str, Any] = dict(
        actor_id=actor.member_id,
        action=AuditAction.EXECUTE,
        entity_type=DENIED_ENTITY,
        patient_id=patient_id,
        detail=f"denied:{permission.value if permission else 'scope'}",
    )
    if _has_uncommitted_writes(session):
        audit.record(session, **entry)
        if not event.contains(session, "after_rollback", _after_rollback):
            event.listen(session, "after_rollback", _after_rollback)
            event.listen(session, "after_commit", _after_commit)
        session.info.setdefault(_PENDING, []).append(entry)
    else:
        _write_denial(session.get_bind(), entry)
    return PermissionDenied(what, actor.role.label)


def require(
    session: Session,
    actor: Actor,
    permission: Permission,
    *,
    patient_id: uuid.UUID | None = None,
) -> None:
    """Raise an audited PermissionDenied unless the actor's role or team grants allow it."""
    require_any(session, actor, permission, patient_id=patient_id)


require_with_audit = require  # the name the issue uses

PATIENT_VIEW = (Permission.VIEW_CASELOAD, Permission.VIEW_REFERRED)
"""Either lets an actor open a patient in their scope (VIEW_REFERRED: VCSE workers)."""


def require_any(
    session: Session,
    actor: Actor,
    *permissions: Permission,
    patient_id: uuid.UUID | None = None,
) -> None:
    """Like ``require``, satisfied by any one of ``permissions``."""
    if not any(can(session, actor, p) for p in permissions):
        first = permissions[0]
        raise deny(
            session,
            actor,
            ACTION_LABELS.get(first, first.value),
            permission=first,
            patient_id=patient_id,
        )


def require_patient_view(
    session: Session, actor: Actor, *, patient_id: uuid.UUID | None = None
) -> None:
    """For services showing individual people within the actor's scope (record, own caseload
    list): the team caseload, or for VCSE workers the people referred to them."""
    require_any(session, actor, *PATIENT_VIEW, patient_id=patient_id)


# --- data scope --------------------------------------------------------------------------------


def _team_patients(actor: Actor) -> Any:
    return (
        select(CohortMembership.patient_id)
        .join(Cohort, Cohort.id == CohortMembership.cohort_id)
        .where(
            Cohort.team_id.in_(actor.team_ids),
            CohortMembership.deleted.is_(False),
            Cohort.deleted.is_(False),
        )
    )


def _referred_patients(actor: Actor) -> Any:
    return select(Referral.patient_id).where(
        Referral.to_member_id == actor.member_id, Referral.deleted.is_(False)
    )


def visible_patient_filter(actor: Actor, patient_id_column: Any = None) -> ColumnElement[bool]:
    """SQL condition on a patient id column (default Patient.id) limiting rows to the actor's
    scope: their teams' cohorts, or for VCSE workers only patients referred to them."""
    column = Patient.id if patient_id_column is None else patient_id_column
    if actor.role in REFERRED_ONLY_ROLES:
        return column.in_(_referred_patients(actor))
    if not actor.team_ids:
        return false()
    return column.in_(_team_patients(actor))


def in_scope(session: Session, actor: Actor, patient_id: uuid.UUID) -> bool:
    return bool(
        session.scalar(
            select(exists().where(Patient.id == patient_id, visible_patient_filter(actor)))
        )
    )


def get_team_row(
    session: Session, actor: Actor, model: type[_Row], row_id: uuid.UUID, noun: str, doing: str
) -> _Row:
    """A live team or cohort (a row with ``team_id``) of one of the actor's teams: NotFound
    ("That <noun> is not in this workspace.") or PermissionDenied ("<doing>") otherwise."""
    row = session.get(model, row_id)
    if row is None or row.deleted:
        raise NotFound(f"That {noun} is not in this workspace.")
    if (row.id if isinstance(row, Team) else row.team_id) not in actor.team_ids:
        raise PermissionDenied(doing, actor.role.label)
    return row


def get_patient(
    session: Session, actor: Actor, patient_id: uuid.UUID, *, view: bool = False
) -> Patient:
    """The patient if it exists and is in scope; ``view=True`` also records a view."""
    patient = session.get(Patient, patient_id) if isinstance(patient_id, uuid.UUID) else None
    if patient is None or patient.deleted:
        raise NotFound("That patient is not in this workspace.")
    may_view = any(can(session, actor, p) for p in PATIENT_VIEW)
    if not may_view or not in_scope(session, actor, patient.id):
        raise deny(
            session,
            actor,
            "open a patient outside your caseload",
            permission=Permission.VIEW_CASELOAD,
            patient_id=patient_id,
        )
    if view:
        record_view(session, actor, patient.id)
    return patient


def visible_contact_filter(session: Session, actor: Actor) -> ColumnElement[bool]:
    """Contacts the actor may read: in scope, and non-clinical ones only without VIEW_CLINICAL."""
    scope = visible_patient_filter(actor, Contact.patient_id)
    if can(session, actor, Permission.VIEW_CLINICAL):
        return scope
    return and_(scope, Contact.clinical.is_(False))


def visible_task_filter(actor: Actor) -> ColumnElement[bool]:
    """Tasks the actor may see: a VCSE worker only their own; others their teams' patients'."""
    if actor.role in REFERRED_ONLY_ROLES:
        return Task.owner_member_id == actor.member_id
    if not actor.team_ids:
        return false()
    return or_(
        Task.patient_id.in_(_team_patients(actor)),
        Task.owner_member_id == actor.member_id,
    )


def visible_plan_filter(actor: Actor) -> ColumnElement[bool]:
    return visible_patient_filter(actor, CarePlan.patient_id)


def shows_clinical(session: Session, actor: Actor) -> bool:
    return can(session, actor, Permission.VIEW_CLINICAL)


def redact(
    session: Session, actor: Actor, row: Any, *, clinical: bool | None = None
) -> dict[str, Any]:
    """A plain dict of the ORM row's columns, clinical fields blanked for non-clinical actors.

    Never mutates ``row`` (a changed ORM object would be written back). The dict carries
    ``_redacted``: the names of the fields blanked. A contact marked non-clinical keeps its text.
    """
    mapper = inspect(type(row))
    data = {c.key: getattr(row, c.key) for c in mapper.column_attrs}
    if clinical is None:
        clinical = shows_clinical(session, actor)
    hidden: list[str] = []
    if not clinical:
        table = mapper.local_table.name
        for name in REDACTED_FIELDS.get(table, ()):
            if table == "contact" and not data.get("clinical", True):
                continue
            if data.get(name):
                data[name] = REDACTED_TEXT
                hidden.append(name)
    data["_redacted"] = tuple(hidden)
    return data


# --- audit of reads ----------------------------------------------------------------------------


def record_view(
    session: Session,
    actor: Actor,
    patient_id: uuid.UUID,
    *,
    entity_type: str = "patient",
    entity_id: uuid.UUID | None = None,
) -> None:
    """Audit that the actor opened a patient's record (FHIR AuditEvent action R)."""
    audit.record_by(
        session,
        actor,
        AuditAction.READ,
        entity_type,
        entity_id or patient_id,
        patient_id=patient_id,
    )


def record_export(
    session: Session,
    actor: Actor,
    *,
    entity_type: str,
    entity_id: uuid.UUID | None = None,
    patient_id: uuid.UUID | None = None,
    detail: str = "",
) -> None:
    """Audit an export/print (action E). ``detail`` holds ids or counts only, never paths."""
    audit.record_by(
        session,
        actor,
        AuditAction.EXECUTE,
        entity_type,
        entity_id,
        patient_id=patient_id,
        detail=detail,
    )


__all__ = [
    "can",
    "deny",
    "get_patient",
    "granted_permissions",
    "in_scope",
    "record_export",
    "record_view",
    "redact",
    "require",
    "require_any",
    "require_patient_view",
    "require_with_audit",
    "shows_clinical",
    "visible_contact_filter",
    "visible_patient_filter",
    "visible_plan_filter",
    "visible_task_filter",
]
