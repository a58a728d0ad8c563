"""Joining a team by invitation: an administrator makes a short one-time code for a member; the
member's laptop exchanges it (``POST /v1/join``, over TLS) for its own device token. Nobody types
or pastes a long token, and a code that leaks is worth nothing once used or expired.

    invitation, code = create(session, member_id, by=editor, hours=72)    # code shown once
    token, user = redeem(session, code, label="Dee's laptop")              # JoinRefused if not

Codes are 12 characters of Crockford's base32 (``K7Q4-M9XH-2PDA``: 60 bits, no I/L/O/U to
misread); only their SHA-256 is kept. Typing is forgiving: case, spaces and dashes do not matter,
and O/I/L read as 0/1/1.
"""

from __future__ import annotations

import hashlib
import logging
import secrets
import uuid
from datetime import UTC, datetime, timedelta

from sqlalchemy import select
from sqlalchemy.orm import Session

from int_desk.domain.errors import IntDeskError, NotFound, ValidationError
from int_desk.server import audit, directory, tokens
from int_desk.server.models import DeviceToken, Invitation, ServerUser, utcnow_text

log = logging.getLogger(__name__)

ALPHABET = "0123456789ABCDEFGHJKMNPQRSTVWXYZ"  # Crockford's base32
CODE_LENGTH = 12
DEFAULT_HOURS = 72
MAX_HOURS = 24 * 14
INVITED = "invitation_made"
JOINED = "device_joined"
JOIN_REFUSED = "join_refused"
CANCELLED = "invitation_cancelled"
DEVICE_REVOKED = "device_revoked"


class JoinRefused(IntDeskError):
    """The code cannot be used (unknown, used, expired, withdrawn): HTTP 400 with this text."""


def new_code() -> str:
    raw = "".join(secrets.choice(ALPHABET) for _ in range(CODE_LENGTH))
    return "-".join(raw[i : i + 4] for i in range(0, CODE_LENGTH, 4))


def normalise(code: str) -> str:
    text = "".join(c for c in code.upper() if c.isalnum())
    return text.translate(str.maketrans("OIL", "011"))


def code_hash(code: str) -> str:
    return hashlib.sha256(normalise(code).encode("ascii", "replace")).hexdigest()


def _when(iso: str) -> str:
    return iso[:16].replace("T", " ") + " UTC"


def login_for_member(session: Session, member_id: uuid.UUID) -> ServerUser:
    """The member's login on this endpoint, made (and put in their teams) when they have none."""
    _rec, member = directory.get(session, "member", member_id)
    if not member.get("active", True):
        raise ValidationError("That team member has been removed; add them again first.")
    user = session.scalar(
        select(ServerUser).where(ServerUser.member_id == member_id).order_by(ServerUser.created_at)
    )
    if user is None:
        # The whole id: v7 ids made in the same second share their first characters.
        user = ServerUser(id=uuid.uuid4(), name=f"member-{member_id}", member_id=member_id)
        if hasattr(ServerUser, "kind"):
            user.kind = "person"
        session.add(user)
        session.flush()
    user.active = True
    directory.link_user_to_teams(session, user)
    return user


def create(
    session: Session,
    member_id: uuid.UUID,
    *,
    by: directory.Editor,
    hours: float = DEFAULT_HOURS,
    label: str = "",
) -> tuple[Invitation, str]:
    """A new invitation for the member; returns it and its code (shown only now)."""
    if not 0 < hours <= MAX_HOURS:
        raise ValidationError(f"An invitation lasts between 1 hour and {MAX_HOURS // 24} days.")
    user = login_for_member(session, member_id)
    code = new_code()
    expires = (datetime.now(UTC) + timedelta(hours=hours)).isoformat(timespec="microseconds")
    invitation = Invitation(
        id=uuid.uuid4(), user_id=user.id, code_hash=code_hash(code), label=label[:120],
        created_by=by.name[:200], created_at=utcnow_text(), expires_at=expires,
    )  # fmt: skip
    session.add(invitation)
    session.flush()
    audit.record(
        session, INVITED, user_id=by.user_id, device_id=by.device_id, entity="invitation",
        record_id=invitation.id, detail=f"for_user={user.id} hours={hours:g}",
    )  # fmt: skip
    log.info("invitation %s made for user %s", invitation.id, user.id)
    return invitation, code


def redeem(
    session: Session, code: str, *, label: str = "", client: str = ""
) -> tuple[str, ServerUser, DeviceToken]:
    """Exchange a code for a new device token (shown once); JoinRefused says why not.

    A refusal is audited and committed (the caller's transaction may roll back on the raise).
    """
    from int_desk.server.admin import TOKEN_PREFIX, hash_token

    now = utcnow_text()
    invitation = session.scalar(
        select(Invitation).where(Invitation.code_hash == code_hash(code)).with_for_update()
    )
    problem = ""
    if len(normalise(code)) != CODE_LENGTH or invitation is None:
        problem = (
            "This invitation code is not known here. Check it with your administrator: a code "
            "is 12 letters and digits, like K7Q4-M9XH-2PDA."
        )
    elif invitation.used_at is not None:
        problem = (
            f"This invitation code was already used ({_when(invitation.used_at)}). Each code "
            "works once: ask your administrator for a new one."
        )
    elif invitation.cancelled_at is not None:
        problem = "This invitation was withdrawn by your administrator. Ask them for a new one."
    elif invitation.expires_at <= now:
        problem = (
            f"This invitation code expired at {_when(invitation.expires_at)}. Ask your "
            "administrator for a new one."
        )
    user = session.get(ServerUser, invitation.user_id) if invitation is not None else None
    if not problem and (user is None or not user.active):
        problem = "The team member this invitation was for has been removed from the team."
    if problem:
        audit.record(
            session, JOIN_REFUSED, user_id=user.id if user else None, entity="invitation",
            record_id=invitation.id if invitation else None,
            detail=f"{problem.split('.')[0][:120]} client={client[:60]}",
        )  # fmt: skip
        session.commit()
        raise JoinRefused(problem)
    assert invitation is not None and user is not None
    token = TOKEN_PREFIX + secrets.token_urlsafe(32)
    device = DeviceToken(
        id=uuid.uuid4(), user_id=user.id, label=(label or invitation.label)[:120],
        token_hash=hash_token(token),
    )  # fmt: skip
    session.add(device)
    invitation.used_at = now
    invitation.device_id = device.id
    directory.link_user_to_teams(session, user)
    session.flush()
    audit.record(
        session, JOINED, user_id=user.id, device_id=device.id, entity="invitation",
        record_id=invitation.id, detail=f"client={client[:60]}",
    )  # fmt: skip
    log.info("invitation %s redeemed: device %s", invitation.id, device.id)
    return token, user, device


def cancel(session: Session, invitation_id: uuid.UUID, *, by: directory.Editor) -> None:
    invitation = session.get(Invitation, invitation_id)
    if invitation is None:
        raise NotFound("No such invitation.")
    if invitation.used_at is None and invitation.cancelled_at is None:
        invitation.cancelled_at = utcnow_text()
        audit.record(
            session, CANCELLED, user_id=by.user_id, device_id=by.device_id,
            entity="invitation", record_id=invitation.id, detail=f"by={by.name[:60]}",
        )  # fmt: skip


def revoke_device(session: Session, device_id: uuid.UUID, *, by: directory.Editor) -> None:
    """The device's next sync is refused (401); what the laptop keeps is docs/go-live.md's."""
    device = session.get(DeviceToken, device_id)
    if device is None:
        raise NotFound("No such device.")
    if device.revoked_at is None:
        device.revoked_at = utcnow_text()
        audit.record(
            session, DEVICE_REVOKED, user_id=by.user_id, device_id=by.device_id,
            entity="device", record_id=device.id, detail=f"by={by.name[:60]}",
        )  # fmt: skip


def state(invitation: Invitation, now: str | None = None) -> str:
    now = now or utcnow_text()
    if invitation.used_at:
        return "used"
    if invitation.cancelled_at:
        return "withdrawn"
    return "expired" if invitation.expires_at <= now else "waiting"


def listing(session: Session) -> list[dict[str, object]]:
    """Invitations and devices with the member each belongs to (no codes, no tokens)."""
    users = {u.id: u for u in session.scalars(select(ServerUser))}
    members = {
        str(rec.id): data.get("name", "")
        for rec, data in directory.rows(session, "member", live=False)
    }

    def who(user_id: uuid.UUID) -> dict[str, object]:
        user = users.get(user_id)
        member = str(user.member_id) if user and user.member_id else None
        return {
            "member_id": member,
            "member": members.get(member or "", user.name if user else ""),
        }

    out: list[dict[str, object]] = []
    now = utcnow_text()
    for inv in session.scalars(select(Invitation).order_by(Invitation.created_at.desc())):
        out.append(
            {
                "kind": "invitation", "id": str(inv.id), **who(inv.user_id), "label": inv.label,
                "created_at": inv.created_at, "expires_at": inv.expires_at,
                "state": state(inv, now), "created_by": inv.created_by,
            }
        )  # fmt: skip
    for dev in session.scalars(select(DeviceToken).order_by(DeviceToken.created_at.desc())):
        out.append(
            {
                "kind": "device", "id": str(dev.id), **who(dev.user_id), "label": dev.label,
                "created_at": dev.created_at,
                # noted when sync renews the token (at most daily); unrenewed: the day it was made
                "last_used_at": dev.last_used_at or dev.created_at,
                "state": "revoked" if dev.revoked_at
                else "expired" if tokens.expired(dev.expires_at) else "active",
                "revoked_at": dev.revoked_at,
            }
        )  # fmt: skip
    return out
