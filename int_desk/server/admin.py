"""Administration of the endpoint: teams, users, device tokens, seeding, scope moves, compaction.

Tokens are shown once when issued and kept only as SHA-256 hashes.
"""

from __future__ import annotations

import hashlib
import json
import logging
import secrets
import uuid
from collections.abc import Iterable, Mapping
from datetime import UTC, datetime, timedelta
from typing import Any, Protocol, cast

from sqlalchemy import CursorResult, Table, delete, func, select
from sqlalchemy.orm import Session

from int_desk.domain.errors import IntDeskError, NotFound
from int_desk.server import tokens
from int_desk.server.engine_ops import _Digests, _Seqs, lock_scopes
from int_desk.server.models import (
    GLOBAL_SCOPE,
    DeviceToken,
    Record,
    ScopeExit,
    ScopeSeq,
    ServerTeam,
    ServerTeamUser,
    ServerUser,
    utcnow_text,
)
from int_desk.server.principal import INTEGRATION, INTEGRATION_SCOPES, PERSON
from int_desk.wire import schema

log = logging.getLogger(__name__)
TOKEN_PREFIX = "idt_"


def hash_token(token: str) -> str:
    return hashlib.sha256(token.encode("utf-8")).hexdigest()


def find_team(session: Session, name_or_id: str) -> ServerTeam:
    team = session.scalar(select(ServerTeam).where(ServerTeam.name == name_or_id))
    if team is None:
        try:
            team = session.get(ServerTeam, uuid.UUID(name_or_id))
        except ValueError:
            team = None
    if team is None:
        raise NotFound(f"No team {name_or_id!r} on this server.")
    return team


def find_user(session: Session, name: str) -> ServerUser:
    user = session.scalar(select(ServerUser).where(ServerUser.name == name))
    if user is None:
        raise NotFound(f"No user {name!r} on this server.")
    return user


def add_team(session: Session, name: str, team_id: uuid.UUID | None = None) -> ServerTeam:
    if session.scalar(select(ServerTeam).where(ServerTeam.name == name)) is not None:
        raise IntDeskError(f"A team named {name!r} already exists.")
    team = ServerTeam(id=team_id or uuid.uuid4(), name=name)
    session.add(team)
    session.flush()
    return team


def add_user(
    session: Session, name: str, teams: Iterable[str], member_id: uuid.UUID | None = None
) -> ServerUser:
    """A person's login: the team member it is (their role decides what it may do)."""
    if member_id is None:
        raise IntDeskError(
            "A person's login needs --member-id (the team member it is). For a system feed, "
            "use add-integration with a declared --scope."
        )
    return new_login(session, name, teams, member_id=member_id, kind=PERSON)


def add_integration(session: Session, name: str, teams: Iterable[str], scope: str) -> ServerUser:
    """An integration account (a PHM feed, a reporting extract): no member, a declared scope."""
    if scope not in INTEGRATION_SCOPES:
        raise IntDeskError(
            f"Unknown integration scope {scope!r}; choose one of {sorted(INTEGRATION_SCOPES)}."
        )
    user = new_login(session, name, teams, kind=INTEGRATION, scope=scope)
    log.info("created integration account %s with scope %s", user.id, scope)
    return user


def new_login(session: Session, name: str, teams: Iterable[str], **columns: object) -> ServerUser:
    """A login of the kind ``columns`` name (``kind``, ``member_id``, ``scope``, ``ods_code``)."""
    if session.scalar(select(ServerUser).where(ServerUser.name == name)) is not None:
        raise IntDeskError(f"A user named {name!r} already exists.")
    user = ServerUser(id=uuid.uuid4(), name=name, active=True, **columns)
    session.add(user)
    session.flush()
    for t in teams:
        session.add(ServerTeamUser(team_id=find_team(session, t).id, user_id=user.id))
    session.flush()
    return user


def list_users(session: Session) -> list[tuple[ServerUser, list[str]]]:
    """Every login with its team names, persons and integration accounts alike."""
    teams: dict[uuid.UUID, list[str]] = {}
    for user_id, team in session.execute(
        select(ServerTeamUser.user_id, ServerTeam.name).join(ServerTeam).order_by(ServerTeam.name)
    ):
        teams.setdefault(user_id, []).append(team)
    users = session.scalars(select(ServerUser).order_by(ServerUser.kind, ServerUser.name))
    return [(u, teams.get(u.id, [])) for u in users]


def add_to_team(session: Session, user_name: str, team: str) -> None:
    user, t = find_user(session, user_name), find_team(session, team)
    if session.get(ServerTeamUser, (t.id, user.id)) is None:
        session.add(ServerTeamUser(team_id=t.id, user_id=user.id))


def issue_token(session: Session, user_name: str, label: str = "") -> tuple[uuid.UUID, str]:
    """A new device token for the user: (token id, the token, shown only now)."""
    user = find_user(session, user_name)
    token = TOKEN_PREFIX + secrets.token_urlsafe(32)
    row = DeviceToken(
        id=uuid.uuid4(),
        user_id=user.id,
        label=label,
        token_hash=hash_token(token),
        expires_at=tokens.expiry(tokens.lifetime_days(session)),
    )
    session.add(row)
    session.flush()
    log.info("issued device token %s for user %s", row.id, user.id)
    return row.id, token


def revoke_token(session: Session, token_id: uuid.UUID) -> None:
    row = session.get(DeviceToken, token_id)
    if row is None:
        raise NotFound("No such device token.")
    row.revoked_at = row.revoked_at or utcnow_text()
    log.info("revoked device token %s", token_id)


def list_tokens(session: Session) -> list[tuple[DeviceToken, str]]:
    rows = session.execute(
        select(DeviceToken, ServerUser.name).join(ServerUser).order_by(DeviceToken.created_at)
    )
    return [(t, n) for t, n in rows]


# --- seeding from a workspace -----------------------------------------------------------------


class SeedSource(Protocol):
    """A workspace's rows as seeding reads them (the desktop side is
    ``int_desk.sync.seed_source.WorkspaceRows``; the endpoint never opens a workspace itself)."""

    def pairs(
        self, entity: str, first: str, second: str, order_by: str | None = None
    ) -> list[tuple[Any, Any]]:
        """Two columns of every row of an entity, in ``order_by`` order when given."""
        ...

    def rows(self, entity: str) -> Iterable[Mapping[str, Any]]:
        """Every row of an entity, all its columns (as the ORM reads them) by name."""
        ...


def seed_from_workspace(
    session: Session, source: SeedSource, teams: Iterable[str] = ()
) -> dict[str, int]:
    """Load a workspace's rows into the server (teams created with the workspace's ids).

    Only the named teams' patients are loaded (all teams when none are named). Rows already on
    the server are left as they are, so seeding twice adds nothing.
    """
    team_rows = source.pairs("team", "id", "name")
    wanted = set(teams)
    chosen = {tid for tid, name in team_rows if not wanted or name in wanted or str(tid) in wanted}
    if wanted and not chosen:
        raise NotFound("None of the named teams is in that workspace.")
    for tid, name in team_rows:
        if tid in chosen and session.get(ServerTeam, tid) is None:
            session.add(ServerTeam(id=tid, name=name))
    session.flush()
    lock_scopes(session, tuple(sorted(str(t) for t in chosen)))
    cohort_team = dict(source.pairs("cohort", "id", "team_id"))
    patient_team: dict[uuid.UUID, uuid.UUID] = {}
    for pid, cid in source.pairs("cohort_membership", "patient_id", "cohort_id", "enrolled_on"):
        patient_team.setdefault(pid, cohort_team[cid])
    plan_patient = dict(source.pairs("care_plan", "id", "patient_id"))
    huddle_team = dict(source.pairs("huddle", "id", "team_id"))
    existing = {(e, i) for e, i in session.execute(select(Record.entity, Record.id))}
    seqs, digests = _Seqs(session), _Digests(session)
    counts: dict[str, int] = {}
    now = utcnow_text()
    for name in schema.ORDER:
        ent = schema.ENTITIES[name]
        batch: list[dict[str, object]] = []
        for row in source.rows(name):
            rid = row["id"]
            if (name, rid) in existing:
                continue
            patient = None
            if name in schema.GLOBAL_ENTITIES:
                scope = GLOBAL_SCOPE
            elif name == "team":
                scope = str(rid)
            elif name in ("cohort", "huddle", "team_membership"):
                scope = str(row["team_id"])
            elif name == "patient":
                patient = rid
                team = patient_team.get(rid)
                scope = str(team) if team else ""
            elif name in ("goal", "plan_action"):
                patient = plan_patient.get(row["care_plan_id"])
                team = patient_team.get(patient) if patient else None
                scope = str(team) if team else ""
            elif name == "huddle_attendee":
                scope = str(huddle_team.get(row["huddle_id"], ""))
            elif "patient_id" in row:
                patient = row["patient_id"]
                team = patient_team.get(patient)
                scope = str(team) if team else ""
            else:  # saved views and anything unscoped: the first chosen team
                scope = str(min(chosen)) if chosen else ""
            if scope != GLOBAL_SCOPE and (not scope or uuid.UUID(scope) not in chosen):
                continue
            data = schema.row_to_wire(ent, row)
            version = seqs.next(scope)
            meta = json.dumps({f: [version, "seed", "seed", now] for f in data})
            batch.append(
                {
                    "entity": name,
                    "id": rid,
                    "scope": scope,
                    "patient_id": patient,
                    "version": version,
                    "deleted": bool(row["deleted"]),
                    "data": json.dumps(data),
                    "field_meta": meta,
                    "updated_at": now,
                    "nhs_number": data.get("nhs_number") if name == "patient" else None,
                }
            )
            if not row["deleted"]:
                digests.toggle(scope, name, rid, +1)
        for start in range(0, len(batch), 5000):
            session.execute(cast(Table, Record.__table__).insert(), batch[start : start + 5000])
        counts[name] = len(batch)
    session.flush()
    log.info("seeded %d rows into %d teams", sum(counts.values()), len(chosen))
    return counts


def seed_users_for_members(session: Session, source: SeedSource) -> list[ServerUser]:
    """One server user per workspace member of a seeded team (login ``member-<id>``)."""
    users = []
    rows = source.pairs("team_membership", "member_id", "team_id")
    by_member: dict[uuid.UUID, list[uuid.UUID]] = {}
    for mid, tid in rows:
        if session.get(ServerTeam, tid) is not None:
            by_member.setdefault(mid, []).append(tid)
    for mid, tids in by_member.items():
        name = member_login(mid)
        user = session.scalar(select(ServerUser).where(ServerUser.name == name))
        if user is None:
            user = add_user(session, name, [str(t) for t in tids], member_id=mid)
        users.append(user)
    return users


def member_login(member_id: uuid.UUID) -> str:
    return f"member-{str(member_id)[:8]}"


# --- scope moves and compaction ---------------------------------------------------------------


def move_patient(session: Session, patient_id: uuid.UUID, team: str) -> int:
    """Move a patient and every row about them to another team; the old team's devices purge."""
    target = str(find_team(session, team).id)
    patient = session.get(Record, ("patient", patient_id))
    if patient is None:
        raise NotFound("No such patient on this server.")
    old = patient.scope
    if old == target:
        return 0
    lock_scopes(session, tuple(sorted({old, target})))
    seqs, digests = _Seqs(session), _Digests(session)
    rows = list(session.scalars(select(Record).where(Record.patient_id == patient_id)))
    for rec in rows:
        if not rec.deleted:
            digests.toggle(old, rec.entity, rec.id, -1)
            digests.toggle(target, rec.entity, rec.id, +1)
        rec.scope = target
        rec.version = seqs.next(target)
    session.add(ScopeExit(scope=old, seq=seqs.next(old), patient_id=patient_id))
    session.flush()
    log.info("moved patient %s with %d rows between teams", patient_id, len(rows))
    return len(rows)


def compact(session: Session, older_than_days: float = 90) -> int:
    """Forget tombstones older than the window; cursors from before them then get 410."""
    cutoff = (datetime.now(UTC) - timedelta(days=older_than_days)).isoformat(
        timespec="microseconds"
    )
    removed = 0
    for scope, top in session.execute(
        select(Record.scope, func.max(Record.version))
        .where(Record.deleted.is_(True), Record.updated_at <= cutoff)
        .group_by(Record.scope)
    ).all():
        lock_scopes(session, (scope,))
        seq = session.get(ScopeSeq, scope)
        if seq is not None:
            seq.min_seq = max(seq.min_seq, top)
        done = session.execute(
            delete(Record).where(
                Record.scope == scope,
                Record.deleted.is_(True),
                Record.version <= top,
                Record.updated_at <= cutoff,
            )
        )
        removed += cast(CursorResult[Any], done).rowcount
    log.info("compacted %d tombstones", removed)
    return removed
