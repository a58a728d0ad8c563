"""The endpoint's copy of each team's set-up, which it owns once laptops are connected: places,
teams (with the phone and email care plans print), GP practices and partner organisations,
members and team membership. Laptops receive these rows by sync like any other; they are
changed only here, by the Administration page (``/v1/admin/...``) or ``int-desk admin``.

    rec = save(session, "team", team_id, {"phone": "01869 ..."}, base_version=12, by=who)
    practices(session) / members(session) / teams(session)      # for lists

Every change is validated with the workspace's own rules (``int_desk.domain.reference``),
audited (``srv_audit``: ids and field names, never values) and versioned in its scope's change
log. A change made against an older version than the stored one (two administrators editing one
team) is refused with ``StaleEdit`` naming who changed it and when; nothing is overwritten.
"""

from __future__ import annotations

import json
import uuid
from dataclasses import dataclass
from typing import Any

from sqlalchemy import delete, select
from sqlalchemy.orm import Session

from int_desk.domain import reference as ref
from int_desk.domain.errors import ConflictError, NotFound, ValidationError
from int_desk.domain.vocab import HuddleKind, OrganisationKind
from int_desk.server import audit
from int_desk.server.engine_ops import _Digests, _Seqs, lock_scopes
from int_desk.server.models import (
    GLOBAL_SCOPE,
    DeviceToken,
    Record,
    ServerTeam,
    ServerTeamUser,
    ServerUser,
    utcnow_text,
)
from int_desk.wire import schema, values

ENTITIES = ("place", "organisation", "member", "team", "team_membership")
REFERENCE_CHANGED = "reference_changed"
STALE_REFUSED = "stale_edit_refused"
ADMIN_STAMP = "admin"  # the "device" of a change made on the endpoint itself


class StaleEdit(ConflictError):
    """The row changed since the editor read it (HTTP 409)."""

    def __init__(self, message: str, current: dict[str, Any], version: int) -> None:
        super().__init__(message)
        self.current = current
        self.version = version


@dataclass(frozen=True)
class Editor:
    """Who makes a change: a login (the Administration page) or the endpoint's own CLI."""

    name: str  # shown to the other administrator: a member's name or 'int-desk admin'
    user_id: uuid.UUID | None = None
    device_id: uuid.UUID | None = None
    member_id: uuid.UUID | None = None


CLI = Editor("int-desk admin (on the endpoint)")


# --- reading ----------------------------------------------------------------------------------


def rows(
    session: Session, entity: str, *, live: bool = True
) -> list[tuple[Record, dict[str, Any]]]:
    q = select(Record).where(Record.entity == entity)
    if live:
        q = q.where(Record.deleted.is_(False))
    return [(r, json.loads(r.data)) for r in session.scalars(q)]


def get(session: Session, entity: str, record_id: uuid.UUID) -> tuple[Record, dict[str, Any]]:
    rec = session.get(Record, (entity, record_id))
    if rec is None:
        raise NotFound(f"No such {entity.replace('_', ' ')} on this endpoint.")
    return rec, json.loads(rec.data)


def find_practice(session: Session, code: str) -> tuple[Record, dict[str, Any]] | None:
    """The organisation with this ODS code (live or not)."""
    canonical = ref.normalise_ods(code)
    for rec, data in _by_code(session, canonical):
        return rec, data
    return None


def _by_code(session: Session, code: str) -> list[tuple[Record, dict[str, Any]]]:
    found = []
    for rec in session.scalars(
        select(Record).where(
            Record.entity == "organisation", Record.data.contains(f'"code": "{code}"')
        )
    ):
        data = json.loads(rec.data)
        if data.get("code") == code:
            found.append((rec, data))
    return found


# --- writing ----------------------------------------------------------------------------------


def _defaults(entity: str) -> dict[str, Any]:
    """Every column of a new row as the client's model would fill it in (a pull needs all)."""
    ent = schema.ENTITIES[entity]
    out: dict[str, Any] = {}
    for name, col in ent.columns.items():
        value = None if name in schema.META_FIELDS else col.default_value()
        out[name] = schema.to_wire(col.kind, value)
    return out


def _validate(session: Session, entity: str, data: dict[str, Any], rid: uuid.UUID | None) -> None:
    """The workspace's rules on the whole new row, then the wire schema's."""
    if entity == "place":
        data["name"] = ref.name(data.get("name") or "", "place's name", limit=120)
        for rec, other in rows(session, "place"):
            if other.get("name") == data["name"] and rec.id != rid:
                raise ValidationError(f"There is already a place called '{data['name']}'.", "name")
    elif entity == "team":
        data["name"] = ref.name(data.get("name") or "", "team's name")
        data["neighbourhood"] = ref.name(data.get("neighbourhood") or data["name"], "neighbourhood")
        data["phone"], data["email"] = ref.phone(data.get("phone")), ref.email(data.get("email"))
        data["huddle_kind"] = HuddleKind(data.get("huddle_kind") or HuddleKind.DAILY).value
        _must_exist(session, "place", data.get("place_id"), "place")
        clash = session.scalar(select(ServerTeam).where(ServerTeam.name == data["name"]))
        if clash is not None and clash.id != rid:
            raise ValidationError(f"There is already a team called '{data['name']}'.", "name")
    elif entity == "organisation":
        kind = ref.organisation_kind(str(data.get("kind") or ""))
        data["kind"] = kind.value
        data["code"] = ref.organisation_code(data.get("code"), kind)
        awaiting = kind == OrganisationKind.GP_PRACTICE and not (data.get("name") or "").strip()
        data["name"] = "" if awaiting else ref.name(data.get("name") or "", "organisation's name")
        if data["code"]:
            for rec, other in _by_code(session, data["code"]):
                if rec.id != rid:
                    raise ValidationError(
                        f"{data['code']} is already the code of "
                        f"{ref.practice_label(other.get('code'), other.get('name') or '')}; one "
                        "ODS code is one organisation. Edit that one instead.",
                        "code",
                    )
        if data.get("place_id"):
            _must_exist(session, "place", data["place_id"], "place")
    elif entity == "member":
        data["name"] = ref.name(data.get("name") or "", "person's name")
        data["role"] = ref.role(str(data.get("role") or "")).value
        data["email"] = ref.email(data.get("email"))
        data["active"] = bool(data.get("active", True))
        if data.get("organisation_id"):
            _must_exist(session, "organisation", data["organisation_id"], "organisation")
    elif entity == "team_membership":
        _must_exist(session, "team", data.get("team_id"), "team")
        _must_exist(session, "member", data.get("member_id"), "team member")
    ent = schema.ENTITIES[entity]
    for name in list(data):
        try:
            data[name] = values.check_value(ent, name, data[name])
        except values.InvalidValue as exc:
            raise ValidationError(str(exc), name) from None


def _must_exist(session: Session, entity: str, value: Any, what: str) -> None:
    try:
        rec = session.get(Record, (entity, uuid.UUID(str(value))))
    except ValueError:
        rec = None
    if rec is None or rec.deleted:
        raise ValidationError(f"Choose a {what} that exists on this endpoint.", entity)


def _scope(entity: str, rid: uuid.UUID, data: dict[str, Any]) -> str:
    if entity == "team":
        return str(rid)
    if entity == "team_membership":
        return str(data["team_id"])
    return GLOBAL_SCOPE


def save(
    session: Session,
    entity: str,
    record_id: uuid.UUID | None,
    fields: dict[str, Any],
    *,
    base_version: int | None,
    by: Editor,
) -> Record:
    """Create (``record_id`` None or unknown) or change one reference row; audited.

    ``base_version`` is the version the editor read (None: no check, e.g. the CLI); if the row
    has moved on, StaleEdit names who changed it and nothing is written.
    """
    if entity not in ENTITIES:
        raise ValidationError(f"{entity!r} is not part of a team's set-up.", "entity")
    ent = schema.ENTITIES[entity]
    unknown = set(fields) - set(ent.columns) - {"id"}
    if unknown:
        raise ValidationError(f"{entity} has no field {sorted(unknown)[0][:40]!r}.", "fields")
    now = utcnow_text()
    rec = session.get(Record, (entity, record_id)) if record_id is not None else None
    if rec is None:
        rid = record_id or _new_id(entity, fields)
        data = {**_defaults(entity), **fields, "created_at": now, "updated_at": now}
        data["created_by"] = data["updated_by"] = str(by.member_id) if by.member_id else None
        data["deleted"] = bool(fields.get("deleted", False))
        _validate(session, entity, data, record_id)  # a new row clashes with every other
        if session.get(Record, (entity, rid)) is not None:
            raise ValidationError(f"That {entity.replace('_', ' ')} already exists.", "id")
        scope = _scope(entity, rid, data)
        lock_scopes(session, (scope,))
        version = _Seqs(session).next(scope)
        stamp = [version, ADMIN_STAMP, by.name, now]
        rec = Record(
            entity=entity, id=rid, scope=scope, patient_id=None, version=version,
            deleted=data["deleted"], data=json.dumps(data),
            field_meta=json.dumps({f: stamp for f in data}), updated_at=now,
        )  # fmt: skip
        session.add(rec)
        if not rec.deleted:
            _Digests(session).toggle(scope, entity, rid, +1)
        changed = sorted(fields)
        action = "create"
    else:
        lock_scopes(session, (rec.scope,))
        data = json.loads(rec.data)
        if base_version is not None and rec.version != base_version:
            # Like sync: other fields changed meanwhile merge; the same field is refused.
            meta = json.loads(rec.field_meta)
            clashing = sorted(
                k for k, v in fields.items()
                if k in meta and meta[k][0] > base_version and data.get(k) != v
            )  # fmt: skip
            if clashing:
                _refuse_stale(session, rec, data, by, clashing)
        new = {**data, **fields}
        _validate(session, entity, new, rec.id)
        changed = sorted(k for k in new if new[k] != data.get(k) and k not in schema.META_FIELDS)
        if not changed:
            return rec
        version = _Seqs(session).next(rec.scope)
        stamp = [version, ADMIN_STAMP, by.name, now]
        new["updated_at"] = now
        new["updated_by"] = str(by.member_id) if by.member_id else data.get("updated_by")
        meta = json.loads(rec.field_meta)
        for k in [*changed, "updated_at", "updated_by"]:
            meta[k] = stamp
        was_deleted = rec.deleted
        rec.data, rec.field_meta, rec.version = json.dumps(new), json.dumps(meta), version
        rec.deleted, rec.updated_at = bool(new.get("deleted", False)), now
        if rec.deleted != was_deleted:
            _Digests(session).toggle(rec.scope, entity, rec.id, -1 if rec.deleted else +1)
        data = new
        action = "update"
    _after(session, entity, rec, data)
    session.flush()
    audit.record(
        session, REFERENCE_CHANGED, user_id=by.user_id, device_id=by.device_id, entity=entity,
        record_id=rec.id, detail=f"{action} fields={','.join(changed)[:300]} by={by.name[:60]}",
    )  # fmt: skip
    return rec


def _new_id(entity: str, fields: dict[str, Any]) -> uuid.UUID:
    from int_desk.domain.ids import new_id

    if entity == "organisation" and fields.get("kind") == OrganisationKind.GP_PRACTICE.value:
        try:
            return ref.practice_id(str(fields.get("code") or ""))
        except ValidationError:
            pass  # validation names the problem
    return new_id()


def _refuse_stale(
    session: Session, rec: Record, data: dict[str, Any], by: Editor, clashing: list[str]
) -> None:
    meta = json.loads(rec.field_meta)
    last = max((meta[k] for k in clashing), key=lambda m: m[0])
    who, when = last[2] or "someone", str(last[3])[:16].replace("T", " ")
    audit.record(
        session, STALE_REFUSED, user_id=by.user_id, device_id=by.device_id, entity=rec.entity,
        record_id=rec.id,
        detail=f"stored version {rec.version} fields={','.join(clashing)[:200]} by={by.name[:60]}",
    )  # fmt: skip
    session.commit()  # keep the audit entry; the change itself is refused
    what = " and ".join(c.replace("_id", "").replace("_", " ") for c in clashing)
    raise StaleEdit(
        f"{who} changed the {what} of this {rec.entity.replace('_', ' ')} at {when} UTC, after "
        "you opened it. Your changes were not saved: they are still in the form.",
        {k: data.get(k) for k in clashing},
        rec.version,
    )


def _after(session: Session, entity: str, rec: Record, data: dict[str, Any]) -> None:
    """Keep the endpoint's own tables in step: team names, who may sync which team."""
    if entity == "team":
        team = session.get(ServerTeam, rec.id)
        if team is None:
            session.add(ServerTeam(id=rec.id, name=data["name"]))
        else:
            team.name = data["name"]
    elif entity == "team_membership":
        member = uuid.UUID(str(data["member_id"]))
        team_id = uuid.UUID(str(data["team_id"]))
        users = session.scalars(select(ServerUser.id).where(ServerUser.member_id == member))
        for user_id in list(users):
            link = session.get(ServerTeamUser, (team_id, user_id))
            if rec.deleted and link is not None:
                session.delete(link)
            elif not rec.deleted and link is None:
                session.add(ServerTeamUser(team_id=team_id, user_id=user_id))
    elif entity == "member" and not data.get("active", True):
        retire_member(session, rec.id)


def retire_member(session: Session, member_id: uuid.UUID) -> int:
    """A removed member's logins stop and their devices are revoked (their next sync: 401)."""
    now = utcnow_text()
    users = list(session.scalars(select(ServerUser).where(ServerUser.member_id == member_id)))
    revoked = 0
    for user in users:
        user.active = False
        for token in session.scalars(
            select(DeviceToken).where(
                DeviceToken.user_id == user.id, DeviceToken.revoked_at.is_(None)
            )
        ):
            token.revoked_at = now
            revoked += 1
        session.execute(delete(ServerTeamUser).where(ServerTeamUser.user_id == user.id))
    return revoked


def link_user_to_teams(session: Session, user: ServerUser) -> None:
    """A member's login may sync exactly the teams their live memberships name."""
    if user.member_id is None:
        return
    wanted = {
        uuid.UUID(str(d["team_id"]))
        for _rec, d in rows(session, "team_membership")
        if d.get("member_id") == str(user.member_id)
    }
    have = set(
        session.scalars(select(ServerTeamUser.team_id).where(ServerTeamUser.user_id == user.id))
    )
    for team_id in wanted - have:
        session.add(ServerTeamUser(team_id=team_id, user_id=user.id))
    for team_id in have - wanted:
        session.execute(
            delete(ServerTeamUser).where(
                ServerTeamUser.user_id == user.id, ServerTeamUser.team_id == team_id
            )
        )


def membership(
    session: Session,
    team_id: uuid.UUID,
    member_id: uuid.UUID,
    *,
    member: bool,
    by: Editor,
    visiting: bool = False,
) -> Record | None:
    """Put a member in a team or take them out (one row per pair, revived when they return)."""
    for rec, data in rows(session, "team_membership", live=False):
        if data.get("team_id") == str(team_id) and data.get("member_id") == str(member_id):
            change: dict[str, Any] = {"deleted": not member}
            if member:
                change["visiting"] = visiting
            return save(session, "team_membership", rec.id, change, base_version=None, by=by)
    if not member:
        return None
    return save(
        session, "team_membership", None,
        {"team_id": str(team_id), "member_id": str(member_id), "visiting": visiting},
        base_version=None, by=by,
    )  # fmt: skip


def user_teams(session: Session, user_id: uuid.UUID) -> list[uuid.UUID]:
    return sorted(
        session.scalars(select(ServerTeamUser.team_id).where(ServerTeamUser.user_id == user_id))
    )


# --- the CLI's helpers: by name, for scripts ------------------------------------------------------


def find(session: Session, entity: str, name_or_id: str) -> tuple[Record, dict[str, Any]]:
    """A live row by its id, its exact name, or (organisations) its ODS code; members only
    while active (``find_any`` for a removed one)."""
    rec, data = find_any(session, entity, name_or_id)
    if entity == "member" and not data.get("active", True):
        raise NotFound(f"{data.get('name')} has been removed (int-desk admin restore-member).")
    return rec, data


def find_any(session: Session, entity: str, name_or_id: str) -> tuple[Record, dict[str, Any]]:
    text = name_or_id.strip()
    try:
        rec = session.get(Record, (entity, uuid.UUID(text)))
        if rec is not None and not rec.deleted:
            return rec, json.loads(rec.data)
    except ValueError:
        pass
    found = [
        (r, d)
        for r, d in rows(session, entity)
        if d.get("name") == text or (entity == "organisation" and d.get("code") == text.upper())
    ]
    if len(found) == 1:
        return found[0]
    what = entity.replace("_", " ")
    if not found:
        raise NotFound(f"No {what} called {text!r} on this endpoint.")
    raise ValidationError(f"More than one {what} is called {text!r}: use its id.")


def place_named(session: Session, name: str, by: Editor) -> uuid.UUID:
    """The place of that name, made when there is none."""
    try:
        return find(session, "place", name)[0].id
    except NotFound:
        return save(session, "place", None, {"name": name}, base_version=None, by=by).id


def team_rows(session: Session) -> list[dict[str, Any]]:
    """Every live team with its place's name, sorted by name."""
    places = {str(r.id): d.get("name", "") for r, d in rows(session, "place")}
    out = [{**d, "id": str(r.id), "version": r.version, "place": places.get(d.get("place_id") or "", "")}
           for r, d in rows(session, "team")]  # fmt: skip
    return sorted(out, key=lambda t: str(t.get("name", "")).casefold())


def member_rows(session: Session) -> list[dict[str, Any]]:
    """Every member with their teams' and organisation's names."""
    teams = {str(r.id): d.get("name", "") for r, d in rows(session, "team")}
    orgs = {str(r.id): d.get("name", "") for r, d in rows(session, "organisation")}
    team_of: dict[str, list[str]] = {}
    for _r, d in rows(session, "team_membership"):
        team_of.setdefault(str(d.get("member_id")), []).append(
            teams.get(d.get("team_id") or "", "?")
        )
    out = [
        {**d, "id": str(r.id), "version": r.version, "teams": sorted(team_of.get(str(r.id), [])),
         "organisation": orgs.get(d.get("organisation_id") or "", "")}
        for r, d in rows(session, "member")
    ]  # fmt: skip
    return sorted(out, key=lambda m: (not m.get("active", True), str(m.get("name")).casefold()))
