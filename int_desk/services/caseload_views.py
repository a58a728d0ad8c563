"""Saved caseload views: the built-in ones and each member's own (a name and a filter).

The query they feed is ``int_desk.services.caseload``; a view saves the filters, never the
search text.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass, replace

from sqlalchemy import select
from sqlalchemy.orm import Session

from int_desk.domain.actor import Actor
from int_desk.domain.errors import NotFound, ValidationError
from int_desk.domain.permissions import Permission
from int_desk.domain.vocab import AuditAction
from int_desk.services import access
from int_desk.services.caseload import CaseloadFilter
from int_desk.services.patient_actions import clean_text
from int_desk.store import audit
from int_desk.store.models import SavedView

BUILT_IN_VIEWS: dict[str, CaseloadFilter] = {
    "My caseload": CaseloadFilter(lead_member_ids=["me"]),
    "Reviews overdue": CaseloadFilter(review_overdue=True, sort="next_review"),
    "Recently discharged": CaseloadFilter(membership="recently_discharged"),
    "No care plan": CaseloadFilter(plan_status=["none"]),
    "Whole caseload": CaseloadFilter(),
}


VIEW_SAVING = Permission.VIEW_CASELOAD
"""What saving or deleting one's own views needs (a VCSE worker, with only VIEW_REFERRED, may
use the built-in views but not save any)."""


def can_save_views(*, session: Session, actor: Actor) -> bool:
    """Whether ``save_view`` / ``delete_view`` would be allowed (role and team grants); for
    enabling the window's buttons. Does not audit."""
    return access.can(session, actor, VIEW_SAVING)


@dataclass(frozen=True)
class ViewInfo:
    name: str
    built_in: bool
    id: uuid.UUID | None = None


def list_views(*, session: Session, actor: Actor) -> list[ViewInfo]:
    access.require_patient_view(session, actor)  # VCSE: referred people only
    views = [ViewInfo(name, True) for name in BUILT_IN_VIEWS]
    for v in session.scalars(
        select(SavedView)
        .where(
            (SavedView.member_id == actor.member_id) | SavedView.member_id.is_(None),
            SavedView.deleted.is_(False),
        )
        .order_by(SavedView.name)
    ):
        if v.name not in BUILT_IN_VIEWS:
            views.append(ViewInfo(v.name, v.member_id is None, v.id))
    return views


def load_view(*, session: Session, actor: Actor, name: str) -> CaseloadFilter:
    access.require_patient_view(session, actor)
    for built_in, f in BUILT_IN_VIEWS.items():
        if built_in.casefold() == name.strip().casefold():
            return replace(f, team_ids=list(f.team_ids))
    for v in session.scalars(
        select(SavedView).where(
            (SavedView.member_id == actor.member_id) | SavedView.member_id.is_(None),
            SavedView.deleted.is_(False),
        )
    ):
        if v.name.casefold() == name.strip().casefold():
            return CaseloadFilter.from_json(v.filters)
    raise NotFound(f"No saved view called '{name}'.")


def save_view(*, session: Session, actor: Actor, name: str, filters: CaseloadFilter) -> SavedView:
    """Save (or overwrite) one of the actor's own views. Search text is not saved."""
    access.require(session, actor, VIEW_SAVING)
    name = clean_text(name, "name", label="View name", max_len=120)
    if name.casefold() in {n.casefold() for n in BUILT_IN_VIEWS}:
        raise ValidationError("That name belongs to a built-in view.", field="name")
    filters.validate()
    data = replace(filters, search="").to_json()
    view = next(
        (
            v
            for v in session.scalars(
                select(SavedView).where(
                    SavedView.member_id == actor.member_id, SavedView.deleted.is_(False)
                )
            )
            if v.name.casefold() == name.casefold()
        ),
        None,
    )
    if view is None:
        view = SavedView(member_id=actor.member_id, name=name, filters=data)
        view.created_by = actor.member_id
        session.add(view)
        action = AuditAction.CREATE
    else:
        view.filters = data
        action = AuditAction.UPDATE
    view.updated_by = actor.member_id
    session.flush()
    audit.record_by(session, actor, action, "saved_view", view.id, detail="fields=name,filters")
    return view


def delete_view(*, session: Session, actor: Actor, name: str) -> None:
    access.require(session, actor, VIEW_SAVING)
    for v in session.scalars(
        select(SavedView).where(
            SavedView.member_id == actor.member_id, SavedView.deleted.is_(False)
        )
    ):
        if v.name.casefold() == name.strip().casefold():
            v.deleted = True
            v.updated_by = actor.member_id
            session.flush()
            audit.record_by(session, actor, AuditAction.DELETE, "saved_view", v.id, detail="")
            return
    raise NotFound(f"No saved view of yours called '{name}'.")
