"""A team's set-up in a workspace: places, teams, GP practices, organisations, members and who is
in which team. Read by ``int-desk teams``/``info`` and the Administration page; written here
only for a standalone workspace (a connected one's set-up belongs to its endpoint, which the
Administration page edits over HTTP: ``int_desk.sync.admin_client``).

    d = directory(session)                                   # everything, for lists
    save_team(session=s, actor=a, team_id=None, name=..., place_id=..., phone=..., email=...)
    add_awaiting_practices(session=s, actor=a, codes=["K84001"])   # a first import
    cohort_id = ensure_cohort(session=s, actor=a, team_id=t, name="Frailty")

Every change needs MANAGE_MEMBERS (IMPORT_COHORT for what an import adds), is validated by
``int_desk.domain.reference`` and is audited in the same transaction (ids and field names only).
"""

from __future__ import annotations

import uuid
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from int_desk.domain import reference as ref
from int_desk.domain.actor import Actor
from int_desk.domain.errors import NotFound, ValidationError
from int_desk.domain.permissions import Permission
from int_desk.domain.vocab import AuditAction, OrganisationKind, Role
from int_desk.services.access import require
from int_desk.store import audit
from int_desk.store.models import (
    Cohort,
    Member,
    Organisation,
    Place,
    Team,
    TeamMembership,
    WorkspaceMeta,
)

P = Permission


# --- reading ----------------------------------------------------------------------------------


@dataclass(frozen=True)
class PlaceInfo:
    id: uuid.UUID
    name: str


@dataclass(frozen=True)
class TeamInfo:
    id: uuid.UUID
    name: str
    place_id: uuid.UUID
    place: str
    neighbourhood: str
    phone: str
    email: str
    version: int | None  # the endpoint's version of the row (None: never synced)


@dataclass(frozen=True)
class OrganisationInfo:
    id: uuid.UUID
    name: str
    kind: OrganisationKind
    code: str | None
    version: int | None

    @property
    def awaiting_name(self) -> bool:
        return self.kind == OrganisationKind.GP_PRACTICE and not self.name

    @property
    def label(self) -> str:
        if self.kind == OrganisationKind.GP_PRACTICE:
            return ref.practice_label(self.code, self.name)
        return f"{self.name} ({ref.ORGANISATION_KIND_LABELS[self.kind]})"


@dataclass(frozen=True)
class MemberInfo:
    id: uuid.UUID
    name: str
    role: Role
    email: str
    organisation_id: uuid.UUID | None
    organisation: str
    active: bool
    team_ids: frozenset[uuid.UUID]
    version: int | None


@dataclass
class Directory:
    places: list[PlaceInfo] = field(default_factory=list)
    teams: list[TeamInfo] = field(default_factory=list)
    organisations: list[OrganisationInfo] = field(default_factory=list)
    members: list[MemberInfo] = field(default_factory=list)
    signed_in: uuid.UUID | None = None

    @property
    def practices(self) -> list[OrganisationInfo]:
        return [o for o in self.organisations if o.kind == OrganisationKind.GP_PRACTICE]

    @property
    def awaiting_names(self) -> list[OrganisationInfo]:
        return [o for o in self.practices if o.awaiting_name]

    def team_members(self, team_id: uuid.UUID) -> list[MemberInfo]:
        return [m for m in self.members if team_id in m.team_ids]

    def member(self, member_id: uuid.UUID | None) -> MemberInfo | None:
        return next((m for m in self.members if m.id == member_id), None)


def directory(session: Session) -> Directory:
    """The workspace's whole set-up (no patient data), sorted for display."""
    from int_desk.services.identity import CURRENT_MEMBER_KEY

    d = Directory()
    places = {p.id: p for p in session.scalars(select(Place).where(Place.deleted.is_(False)))}
    d.places = sorted((PlaceInfo(p.id, p.name) for p in places.values()), key=lambda p: p.name)
    for t in session.scalars(select(Team).where(Team.deleted.is_(False)).order_by(Team.name)):
        place = places.get(t.place_id)
        d.teams.append(
            TeamInfo(
                t.id, t.name, t.place_id, place.name if place else "", t.neighbourhood,
                t.phone or "", t.email or "", t.server_version,
            )
        )  # fmt: skip
    orgs = list(session.scalars(select(Organisation).where(Organisation.deleted.is_(False))))
    for o in orgs:
        try:
            kind = OrganisationKind(o.kind)
        except ValueError:
            kind = OrganisationKind.OTHER
        d.organisations.append(OrganisationInfo(o.id, o.name, kind, o.code, o.server_version))
    d.organisations.sort(key=lambda o: (o.kind.value, o.name == "", o.name.casefold(), o.code))
    org_names = {o.id: o.label for o in d.organisations}
    teams_of: dict[uuid.UUID, set[uuid.UUID]] = {}
    for tm in session.scalars(select(TeamMembership).where(TeamMembership.deleted.is_(False))):
        teams_of.setdefault(tm.member_id, set()).add(tm.team_id)
    for m in session.scalars(select(Member).where(Member.deleted.is_(False))):
        try:
            role = Role(m.role)
        except ValueError:
            continue  # a role this version does not know: not listed, never guessed at
        d.members.append(
            MemberInfo(
                m.id, m.name, role, m.email or "", m.organisation_id,
                org_names.get(m.organisation_id, "") if m.organisation_id else "",
                bool(m.active), frozenset(teams_of.get(m.id, ())), m.server_version,
            )
        )  # fmt: skip
    d.members.sort(key=lambda m: (not m.active, m.name.casefold()))
    current = session.get(WorkspaceMeta, CURRENT_MEMBER_KEY)
    d.signed_in = uuid.UUID(current.value) if current is not None and current.value else None
    return d


# --- writing (standalone workspaces) ------------------------------------------------------------


def _audit(
    session: Session,
    actor: Actor,
    action: AuditAction,
    entity: str,
    entity_id: uuid.UUID,
    *fields: str,
) -> None:
    detail = f"fields={','.join(sorted(fields))}" if fields else ""
    audit.record_by(session, actor, action, entity, entity_id, detail=detail)


def _apply(obj: object, values: dict[str, object]) -> list[str]:
    changed = [k for k, v in values.items() if getattr(obj, k) != v]
    for k in changed:
        setattr(obj, k, values[k])
    return changed


def _get(session: Session, model: type, row_id: uuid.UUID, what: str) -> object:
    row = session.get(model, row_id)
    if row is None or getattr(row, "deleted", False):
        raise NotFound(f"That {what} is not in this workspace (it may have been removed).")
    return row


def _save(
    session: Session,
    actor: Actor,
    model: type,
    row_id: uuid.UUID | None,
    values: dict[str, object],
    what: str,
    new_id: uuid.UUID | None = None,
) -> uuid.UUID:
    """Create the row (``row_id`` None) or change the fields that differ; audited either way."""
    entity = model.__tablename__  # type: ignore[attr-defined]
    if row_id is None:
        row = model(**values, created_by=actor.member_id, updated_by=actor.member_id)
        if new_id is not None:
            row.id = new_id
        session.add(row)
        session.flush()
        _audit(session, actor, AuditAction.CREATE, entity, row.id, *values)
        return row.id
    row = _get(session, model, row_id, what)
    changed = _apply(row, values)
    if changed:
        row.updated_by = actor.member_id  # type: ignore[attr-defined]
        session.flush()
        _audit(session, actor, AuditAction.UPDATE, entity, row_id, *changed)
    return row_id


def save_place(
    *, session: Session, actor: Actor, place_id: uuid.UUID | None, name: str
) -> uuid.UUID:
    require(session, actor, P.MANAGE_MEMBERS)
    text = ref.name(name, "place's name", limit=120)
    clash = session.scalar(select(Place).where(Place.name == text, Place.deleted.is_(False)))
    if clash is not None and clash.id != place_id:
        raise ValidationError(f"There is already a place called '{text}'.", "name")
    return _save(session, actor, Place, place_id, {"name": text}, "place")


def team_values(
    *, name: str, place_id: uuid.UUID, neighbourhood: str, phone: str | None, email: str | None
) -> dict[str, object]:
    """Validated team fields (shared with the connected Administration page)."""
    return {
        "name": ref.name(name, "team's name"),
        "place_id": place_id,
        "neighbourhood": ref.name(neighbourhood or name, "neighbourhood"),
        "phone": ref.phone(phone),
        "email": ref.email(email),
    }


def save_team(
    *,
    session: Session,
    actor: Actor,
    team_id: uuid.UUID | None,
    name: str,
    place_id: uuid.UUID,
    neighbourhood: str = "",
    phone: str | None = None,
    email: str | None = None,
) -> uuid.UUID:
    require(session, actor, P.MANAGE_MEMBERS)
    values = team_values(
        name=name, place_id=place_id, neighbourhood=neighbourhood, phone=phone, email=email
    )
    _get(session, Place, place_id, "place")
    clash = session.scalar(select(Team).where(Team.name == values["name"], Team.deleted.is_(False)))
    if clash is not None and clash.id != team_id:
        raise ValidationError(f"There is already a team called '{values['name']}'.", "name")
    return _save(session, actor, Team, team_id, values, "team")


def save_organisation(
    *,
    session: Session,
    actor: Actor,
    organisation_id: uuid.UUID | None,
    name: str,
    kind: OrganisationKind | str,
    code: str | None = None,
    place_id: uuid.UUID | None = None,
) -> uuid.UUID:
    """A GP practice (by ODS code) or a partner organisation (council, VCSE, pharmacy...)."""
    require(session, actor, P.MANAGE_MEMBERS)
    kind = OrganisationKind(kind)
    canonical = ref.organisation_code(code, kind)
    text = ref.name(name, "organisation's name")
    if canonical is not None:
        clash = session.scalar(select(Organisation).where(Organisation.code == canonical))
        if clash is not None and clash.id != organisation_id:
            raise ValidationError(
                f"{canonical} is already the code of {ref.practice_label(clash.code, clash.name)}; "
                "one ODS code is one organisation. Edit that one instead.",
                "code",
            )
    values = {"name": text, "kind": kind.value, "code": canonical, "place_id": place_id}
    # A practice's id comes from its ODS code (see int_desk.domain.reference.practice_id).
    new_id = ref.practice_id(canonical) if kind == OrganisationKind.GP_PRACTICE else None
    return _save(session, actor, Organisation, organisation_id, values, "organisation", new_id)


def save_member(
    *,
    session: Session,
    actor: Actor,
    member_id: uuid.UUID | None,
    name: str,
    role: Role | str,
    organisation_id: uuid.UUID | None = None,
    email: str | None = None,
    active: bool = True,
) -> uuid.UUID:
    require(session, actor, P.MANAGE_MEMBERS)
    values: dict[str, object] = {
        "name": ref.name(name, "person's name"),
        "role": (role if isinstance(role, Role) else ref.role(role)).value,
        "organisation_id": organisation_id,
        "email": ref.email(email),
        "active": bool(active),
    }
    if organisation_id is not None:
        _get(session, Organisation, organisation_id, "organisation")
    if member_id is not None and member_id == actor.member_id and not active:
        raise ValidationError("You cannot remove yourself; ask another administrator.", "active")
    return _save(session, actor, Member, member_id, values, "team member")


def save(
    *,
    session: Session,
    actor: Actor,
    entity: str,
    row_id: uuid.UUID | None,
    fields: dict[str, object],
) -> uuid.UUID:
    """One form's change, by entity name: the Administration page's single way in (the same
    entity names and fields as the endpoint's ``/v1/admin/reference``)."""
    f: dict[str, Any] = dict(fields)
    if entity == "place":
        return save_place(session=session, actor=actor, place_id=row_id, name=str(f["name"]))
    if entity == "team":
        return save_team(session=session, actor=actor, team_id=row_id, **f)
    if entity == "organisation":
        return save_organisation(session=session, actor=actor, organisation_id=row_id, **f)
    if entity == "member":
        return save_member(session=session, actor=actor, member_id=row_id, **f)
    raise ValidationError(f"{entity!r} is not part of a team's set-up.", "entity")


def set_membership(
    *,
    session: Session,
    actor: Actor,
    team_id: uuid.UUID,
    member_id: uuid.UUID,
    member: bool,
    visiting: bool = False,
) -> None:
    """Put a member in a team (``member=True``) or take them out (a tombstone, audited)."""
    require(session, actor, P.MANAGE_MEMBERS)
    _get(session, Team, team_id, "team")
    _get(session, Member, member_id, "team member")
    row = session.scalar(
        select(TeamMembership).where(
            TeamMembership.team_id == team_id, TeamMembership.member_id == member_id
        )
    )
    if member:
        if row is None:
            row = TeamMembership(
                team_id=team_id, member_id=member_id, visiting=visiting,
                created_by=actor.member_id, updated_by=actor.member_id,
            )  # fmt: skip
            session.add(row)
            session.flush()
            _audit(session, actor, AuditAction.CREATE, "team_membership", row.id, "team_id")
        elif row.deleted or row.visiting != visiting:
            row.deleted, row.visiting, row.updated_by = False, visiting, actor.member_id
            session.flush()
            _audit(session, actor, AuditAction.UPDATE, "team_membership", row.id, "deleted")
    elif row is not None and not row.deleted:
        if member_id == actor.member_id:
            raise ValidationError("You cannot take yourself out of a team here.", "member")
        row.deleted, row.updated_by = True, actor.member_id
        session.flush()
        _audit(session, actor, AuditAction.DELETE, "team_membership", row.id)


# --- a first import: practices and cohorts ------------------------------------------------------


@dataclass(frozen=True)
class PracticeCodes:
    """The practice codes of an extract, sorted out against this workspace."""

    known: dict[str, uuid.UUID]  # code -> practice id
    unknown: dict[str, int]  # well-formed ODS code not known here -> people with it
    malformed: dict[str, int]  # not an ODS practice code at all -> people with it

    def describe_unknown(self) -> str:
        """'GP practices not known here: K84001, 4 people; K84002, 1 person'."""
        return "GP practices not known here: " + "; ".join(
            f"{code}, {n} {'person' if n == 1 else 'people'}"
            for code, n in sorted(self.unknown.items())
        )

    def describe_malformed(self) -> str:
        return "Not GP practice codes (practice left blank): " + "; ".join(
            f"'{code}', {n} {'person' if n == 1 else 'people'}"
            for code, n in sorted(self.malformed.items())
        )


def practice_note(code: str) -> str:
    """What an import row says about a practice code the workspace does not know."""
    if ref.is_practice_code(code):
        return f"practice {ref.normalise_ods(code)} not known here: added awaiting a name"
    return f"'{code[:10]}' is not a GP practice code: practice left blank"


def sort_practice_codes(session: Session, codes: Iterable[str]) -> PracticeCodes:
    """Which of an extract's practice codes this workspace knows (by ODS code)."""
    known_here = {
        code: pid
        for code, pid in session.execute(
            select(Organisation.code, Organisation.id).where(
                Organisation.code.is_not(None),
                Organisation.kind == OrganisationKind.GP_PRACTICE.value,
                Organisation.deleted.is_(False),
            )
        )
    }
    known: dict[str, uuid.UUID] = {}
    unknown: dict[str, int] = {}
    malformed: dict[str, int] = {}
    for raw in codes:
        code = ref.normalise_ods(raw)
        if not code:
            continue
        if code in known_here:
            known[code] = known_here[code]
        elif ref.is_practice_code(code):
            unknown[code] = unknown.get(code, 0) + 1
        else:
            malformed[code[:10]] = malformed.get(code[:10], 0) + 1
    return PracticeCodes(known, unknown, malformed)


def add_awaiting_practices(
    *, session: Session, actor: Actor, codes: Iterable[str]
) -> dict[str, uuid.UUID]:
    """Create practices known only by their ODS code (named later by an administrator).

    Their ids come from the code, so another laptop adding the same code offline makes the same
    practice; a code already here (even deleted) is reused, never duplicated.
    """
    require(session, actor, P.IMPORT_COHORT)
    made: dict[str, uuid.UUID] = {}
    for raw in sorted(set(codes)):
        code = ref.practice_code(raw)
        existing = session.scalar(select(Organisation).where(Organisation.code == code))
        if existing is not None:
            if existing.deleted:
                existing.deleted = False
            made[code] = existing.id
            continue
        org = Organisation(
            id=ref.practice_id(code), name=ref.AWAITING_NAME,
            kind=OrganisationKind.GP_PRACTICE.value, code=code,
            created_by=actor.member_id, updated_by=actor.member_id,
        )  # fmt: skip
        session.add(org)
        session.flush()
        audit.record_by(
            session,
            actor,
            AuditAction.CREATE,
            "organisation",
            org.id,
            detail="via=import awaiting_name=1",
        )
        made[code] = org.id
    return made


def ensure_cohort(*, session: Session, actor: Actor, team_id: uuid.UUID, name: str) -> uuid.UUID:
    """The team's cohort of that name, created (audited) when it has none yet."""
    require(session, actor, P.IMPORT_COHORT)
    if team_id not in actor.team_ids:
        raise ValidationError("You can only add a cohort to one of your own teams.", "team")
    text = ref.name(name, "cohort's name", limit=120)
    for cohort in session.scalars(select(Cohort).where(Cohort.team_id == team_id)):
        if cohort.name.casefold() == text.casefold():
            if cohort.deleted:
                cohort.deleted = False
            return cohort.id
    cohort = Cohort(
        team_id=team_id, name=text, created_by=actor.member_id, updated_by=actor.member_id
    )
    session.add(cohort)
    session.flush()
    audit.record_by(
        session, actor, AuditAction.CREATE, "cohort", cohort.id, detail=f"team_id={team_id}"
    )
    return cohort.id
