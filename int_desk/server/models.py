"""The central endpoint's own tables (its own metadata and Alembic chain, not the client's).

Every synced row is one ``Record``: its data as the protocol's JSON, the team scope it belongs
to, the per-scope sequence number of its last change (its version) and, per field, which
version and device last wrote it (what conflict detection needs).
"""

from __future__ import annotations

import json
import uuid
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import BigInteger, ForeignKey, Index, MetaData, String, Text, event, types
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

NAMING = {
    "ix": "ix_%(table_name)s_%(column_0_N_name)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}
GLOBAL_SCOPE = "global"


def utcnow() -> datetime:
    return datetime.now(UTC)


def utcnow_text() -> str:
    return utcnow().isoformat(timespec="microseconds")


class ServerBase(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING)


class ServerTeam(ServerBase):
    """A team; its id is the client's ``team.id`` so seeded data and scopes line up."""

    __tablename__ = "srv_team"
    id: Mapped[uuid.UUID] = mapped_column(types.Uuid, primary_key=True)
    name: Mapped[str] = mapped_column(String(200), unique=True)
    created_at: Mapped[str] = mapped_column(String(32), default=utcnow_text)


class ServerUser(ServerBase):
    __tablename__ = "srv_user"
    id: Mapped[uuid.UUID] = mapped_column(types.Uuid, primary_key=True, default=uuid.uuid4)
    name: Mapped[str] = mapped_column(String(200), unique=True)  # a login name, staff only
    member_id: Mapped[uuid.UUID | None] = mapped_column(types.Uuid)  # the client Member row
    active: Mapped[bool] = mapped_column(default=True)
    created_at: Mapped[str] = mapped_column(String(32), default=utcnow_text)
    # "person" (a team member: role from member_id), "integration" (declared scope below) or
    # "practice" (a GP practice's system: scope gp_notifications, ods_code); see principal.py.
    # A person without a member, or with an unknown role, has no access.
    kind: Mapped[str] = mapped_column(String(16), default="person")
    scope: Mapped[str | None] = mapped_column(String(40))  # an integration's or practice's scope
    ods_code: Mapped[str | None] = mapped_column(String(16))  # a practice login's ODS code


class ServerTeamUser(ServerBase):
    __tablename__ = "srv_team_user"
    team_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("srv_team.id"), primary_key=True)
    user_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("srv_user.id"), primary_key=True)


class DeviceToken(ServerBase):
    """A bearer token for one device; only its SHA-256 is stored."""

    __tablename__ = "srv_device_token"
    id: Mapped[uuid.UUID] = mapped_column(types.Uuid, primary_key=True, default=uuid.uuid4)
    user_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("srv_user.id"), index=True)
    label: Mapped[str] = mapped_column(String(120), default="")
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    created_at: Mapped[str] = mapped_column(String(32), default=utcnow_text)
    revoked_at: Mapped[str | None] = mapped_column(String(32))
    # Expiry (ISO UTC text); each sync pushes it forward, so only an unused token expires.
    expires_at: Mapped[str | None] = mapped_column(String(32))
    last_used_at: Mapped[str | None] = mapped_column(String(32))


class ScopeSeq(ServerBase):
    """The change sequence of one scope (a team id, or ``global``)."""

    __tablename__ = "srv_scope_seq"
    scope: Mapped[str] = mapped_column(String(36), primary_key=True)
    last_seq: Mapped[int] = mapped_column(BigInteger, default=0)
    # Cursors older than this cannot be served (tombstones before it were compacted): 410.
    min_seq: Mapped[int] = mapped_column(BigInteger, default=0)


class Record(ServerBase):
    __tablename__ = "srv_record"
    __table_args__ = (
        Index("ix_srv_record_scope_version", "scope", "version"),
        Index("ix_srv_record_scope_entity_id", "scope", "entity", "id"),
        Index("ix_srv_record_patient", "patient_id"),
        Index("ix_srv_record_nhs_number", "nhs_number"),
    )
    entity: Mapped[str] = mapped_column(String(40), primary_key=True)
    id: Mapped[uuid.UUID] = mapped_column(types.Uuid, primary_key=True)
    scope: Mapped[str] = mapped_column(String(36))
    patient_id: Mapped[uuid.UUID | None] = mapped_column(types.Uuid)
    version: Mapped[int] = mapped_column(BigInteger)
    deleted: Mapped[bool] = mapped_column(default=False)
    data: Mapped[str] = mapped_column(Text)  # protocol JSON of every data field
    # {field: [version, device_id, user_name, at]} of the last write of each field
    field_meta: Mapped[str] = mapped_column(Text, default="{}")
    updated_at: Mapped[str] = mapped_column(String(32), default=utcnow_text)
    # A patient row's NHS number, kept from ``data`` on every write (``record_keys``), so a FHIR
    # search by identifier is one keyed look-up; None on every other row.
    nhs_number: Mapped[str | None] = mapped_column(String(10))


def record_nhs_number(entity: str, data: str | None) -> str | None:
    """What ``Record.nhs_number`` holds for a row of ``entity`` with this JSON ``data``."""
    if entity != "patient" or not data:
        return None
    number = json.loads(data).get("nhs_number")
    return str(number)[:10] if number else None


@event.listens_for(Record, "before_insert")
@event.listens_for(Record, "before_update")
def record_keys(_mapper: Any, _connection: Any, target: Record) -> None:
    target.nhs_number = record_nhs_number(target.entity, target.data)


class ScopeDigest(ServerBase):
    """Live rows per (scope, entity) and the XOR of their ids' low 64 bits, kept on every write."""

    __tablename__ = "srv_scope_digest"
    scope: Mapped[str] = mapped_column(String(36), primary_key=True)
    entity: Mapped[str] = mapped_column(String(40), primary_key=True)
    count: Mapped[int] = mapped_column(BigInteger, default=0)
    xor: Mapped[str] = mapped_column(String(16), default="0" * 16)


class ScopeExit(ServerBase):
    """A patient left this scope at ``seq``: clients of the scope purge the patient's rows."""

    __tablename__ = "srv_scope_exit"
    scope: Mapped[str] = mapped_column(String(36), primary_key=True)
    seq: Mapped[int] = mapped_column(BigInteger, primary_key=True)
    patient_id: Mapped[uuid.UUID] = mapped_column(types.Uuid)


class AppliedOp(ServerBase):
    """Every op applied, with its stored result: a replayed op id gets this result back."""

    __tablename__ = "srv_applied_op"
    op_id: Mapped[uuid.UUID] = mapped_column(types.Uuid, primary_key=True)
    # The team it was applied in (its row's, else the caller's first team): a replay is looked
    # up within the caller's teams, so every query of a push names the team it touches.
    scope: Mapped[str | None] = mapped_column(String(36))
    device_id: Mapped[uuid.UUID] = mapped_column(types.Uuid, index=True)
    user_id: Mapped[uuid.UUID] = mapped_column(types.Uuid)
    entity: Mapped[str] = mapped_column(String(40))
    record_id: Mapped[uuid.UUID] = mapped_column(types.Uuid)
    result: Mapped[str] = mapped_column(Text)  # JSON, ids/field names/versions only
    resolves_conflict: Mapped[uuid.UUID | None] = mapped_column(types.Uuid)
    applied_at: Mapped[str] = mapped_column(String(32), default=utcnow_text)


class ServerSetting(ServerBase):
    __tablename__ = "srv_setting"
    key: Mapped[str] = mapped_column(String(64), primary_key=True)
    value: Mapped[str] = mapped_column(Text)


class Invitation(ServerBase):
    """A one-time code a team member exchanges for a device token (``invitations.py``).

    Only the code's SHA-256 is kept; it works once, until ``expires_at`` (default 72 hours).
    """

    __tablename__ = "srv_invitation"
    id: Mapped[uuid.UUID] = mapped_column(types.Uuid, primary_key=True, default=uuid.uuid4)
    user_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("srv_user.id"), index=True)
    code_hash: Mapped[str] = mapped_column(String(64), unique=True)
    label: Mapped[str] = mapped_column(String(120), default="")
    created_by: Mapped[str] = mapped_column(String(200), default="")
    created_at: Mapped[str] = mapped_column(String(32), default=utcnow_text)
    expires_at: Mapped[str] = mapped_column(String(32))
    used_at: Mapped[str | None] = mapped_column(String(32))
    cancelled_at: Mapped[str | None] = mapped_column(String(32))
    device_id: Mapped[uuid.UUID | None] = mapped_column(types.Uuid)  # the token it became


class ServerAudit(ServerBase):
    """What the endpoint refused or repaired, and for whom: ids, entity and field names, reasons.

    Never values: a refused push's fields are not kept, only which rule refused them.
    """

    __tablename__ = "srv_audit"
    __table_args__ = (Index("ix_srv_audit_at", "at"),)
    seq: Mapped[int] = mapped_column(
        BigInteger().with_variant(types.Integer, "sqlite"), primary_key=True, autoincrement=True
    )
    at: Mapped[str] = mapped_column(String(32), default=utcnow_text)
    action: Mapped[str] = mapped_column(
        String(32)
    )  # write_denied | login_refused | row_repaired ...
    user_id: Mapped[uuid.UUID | None] = mapped_column(types.Uuid)
    device_id: Mapped[uuid.UUID | None] = mapped_column(types.Uuid)
    entity: Mapped[str] = mapped_column(String(40), default="")
    record_id: Mapped[uuid.UUID | None] = mapped_column(types.Uuid)
    detail: Mapped[str] = mapped_column(Text, default="")


class ServerAuditEvent(ServerBase):
    """Append-only: every read through the FHIR API (and who was refused), one row per person
    read. Holds ids, resource types and outcomes, never names, NHS numbers or free text."""

    __tablename__ = "srv_audit_event"
    seq: Mapped[int] = mapped_column(
        BigInteger().with_variant(types.Integer, "sqlite"), primary_key=True, autoincrement=True
    )
    recorded_at: Mapped[str] = mapped_column(String(32), default=utcnow_text, index=True)
    user_id: Mapped[uuid.UUID | None] = mapped_column(types.Uuid)  # the login (staff or practice)
    # a practice login's token (its device token's id), else None
    practice_token_id: Mapped[uuid.UUID | None] = mapped_column(types.Uuid)
    action: Mapped[str] = mapped_column(String(2))  # FHIR AuditEvent.action: R (read), E
    resource_type: Mapped[str] = mapped_column(String(40))
    resource_id: Mapped[uuid.UUID | None] = mapped_column(types.Uuid)
    patient_id: Mapped[uuid.UUID | None] = mapped_column(types.Uuid, index=True)
    outcome: Mapped[int] = mapped_column(default=200)  # the HTTP status answered
    detail: Mapped[str] = mapped_column(String(200), default="")  # interaction, counts


class AuditLogEntry(ServerBase):
    """The endpoint's chained audit trail (``sync_audit``): every read and write through it.

    One chain per team (``chain``: the team id, or ``global`` for callers of no team), numbered
    1, 2, ... under the chain's head row lock; each entry's ``hash`` covers the previous entry's
    hash and every column below, so an edited, removed or reordered entry breaks ``verify``.
    Ids, kinds, field names, counts and outcomes only: never a value that was sent or read.
    """

    __tablename__ = "srv_audit_log"
    __table_args__ = (
        Index("ix_srv_audit_log_at", "at"),
        Index("ix_srv_audit_log_patient_id", "patient_id"),
    )
    chain: Mapped[str] = mapped_column(String(36), primary_key=True)
    no: Mapped[int] = mapped_column(BigInteger, primary_key=True, autoincrement=False)
    at: Mapped[str] = mapped_column(String(32))
    kind: Mapped[str] = mapped_column(String(32))  # push | pull | verify | fhir_read | ...
    outcome: Mapped[str] = mapped_column(String(32), default="")  # applied, rejected, 200 ...
    user_id: Mapped[uuid.UUID | None] = mapped_column(types.Uuid)  # the login
    member_id: Mapped[uuid.UUID | None] = mapped_column(types.Uuid)  # the team member it is
    device_id: Mapped[uuid.UUID | None] = mapped_column(types.Uuid)  # the device token
    entity: Mapped[str] = mapped_column(String(40), default="")
    record_id: Mapped[uuid.UUID | None] = mapped_column(types.Uuid)
    patient_id: Mapped[uuid.UUID | None] = mapped_column(types.Uuid)  # one person (a write)
    # Several people (a pull page, a FHIR search): their ids as 32 hex digits, sorted, ","-joined.
    patients: Mapped[str] = mapped_column(Text, default="")
    detail: Mapped[str] = mapped_column(Text, default="")  # op kind, field names, counts
    prev_hash: Mapped[str] = mapped_column(String(64))
    hash: Mapped[str] = mapped_column(String(64))


class AuditChainHead(ServerBase):
    """The last entry of each audit chain: its row is the chain's lock (held to the commit)."""

    __tablename__ = "srv_audit_head"
    chain: Mapped[str] = mapped_column(String(36), primary_key=True)
    last_no: Mapped[int] = mapped_column(BigInteger, default=0)
    last_hash: Mapped[str] = mapped_column(String(64))
