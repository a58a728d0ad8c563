"""GP practice logins: what a practice's system uses to read its GP notifications.

A practice is an explicit kind of login (``srv_user.kind = "practice"``) with its declared scope
(``gp_notifications``) and one ODS code, made only here (``int-desk admin issue-practice-token``).
Its tokens are device tokens of that login: hashed, expiring and renewed by use like any other.
It is nobody to the sync routes (no principal: 403) and to the staff FHIR routes, and reads only
the notifications addressed to its ODS code (server/gp_notify_api.py).
"""

from __future__ import annotations

import logging
import uuid
from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.orm import Session

from int_desk.domain.errors import NotFound, ValidationError
from int_desk.fhir import ukcore
from int_desk.server import admin
from int_desk.server.models import DeviceToken, ServerUser, utcnow_text
from int_desk.server.principal import PRACTICE, PRACTICE_SCOPE

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class PracticeTokenRow:
    id: uuid.UUID
    ods_code: str
    label: str
    login: str
    revoked_at: str | None
    expires_at: str | None


def login_name(ods_code: str) -> str:
    return f"practice-{ods_code}"


def practice_login(session: Session, ods_code: str) -> ServerUser:
    """The practice's login, made the first time one of its tokens is issued."""
    code = ods_code.strip().upper()
    problem = ukcore.ods_problem(code, practice=True)
    if problem:
        raise ValidationError(f"That is not a GP practice ODS code: {problem}.", field="ods")
    user = session.scalar(
        select(ServerUser).where(ServerUser.kind == PRACTICE, ServerUser.ods_code == code)
    )
    if user is None:
        user = admin.new_login(
            session, login_name(code), (), kind=PRACTICE, scope=PRACTICE_SCOPE, ods_code=code
        )
        log.info("created practice login %s", user.id)
    return user


def issue(session: Session, ods_code: str, label: str = "") -> tuple[uuid.UUID, str]:
    """A new token for the practice: (token id, the token, shown only now)."""
    user = practice_login(session, ods_code)
    return admin.issue_token(session, user.name, label[:120])


def revoke(session: Session, token_id: uuid.UUID) -> None:
    row = session.execute(
        select(DeviceToken)
        .join(ServerUser, ServerUser.id == DeviceToken.user_id)
        .where(DeviceToken.id == token_id, ServerUser.kind == PRACTICE)
    ).scalar()
    if row is None:
        raise NotFound("No such practice token.")
    row.revoked_at = row.revoked_at or utcnow_text()
    log.info("revoked practice token %s", token_id)


def listing(session: Session) -> list[PracticeTokenRow]:
    rows = session.execute(
        select(DeviceToken, ServerUser.ods_code, ServerUser.name)
        .join(ServerUser, ServerUser.id == DeviceToken.user_id)
        .where(ServerUser.kind == PRACTICE)
        .order_by(DeviceToken.created_at)
    )
    return [
        PracticeTokenRow(t.id, ods or "", t.label, name, t.revoked_at, t.expires_at)
        for t, ods, name in rows
    ]
