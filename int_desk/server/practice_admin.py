"""GP practice tokens: what a practice's system uses to read its GP notifications.

A practice token names one ODS code and reads nothing else (server/gp_notify_api.py); it is
not a device token, so the sync routes never accept it. Only its SHA-256 is stored.
"""

from __future__ import annotations

import logging
import secrets
import uuid

from sqlalchemy import select
from sqlalchemy.orm import Session

from int_desk.domain.errors import NotFound, ValidationError
from int_desk.fhir import ukcore
from int_desk.server.admin import hash_token
from int_desk.server.models import PracticeToken, utcnow_text

log = logging.getLogger(__name__)
TOKEN_PREFIX = "idp_"


def issue(session: Session, ods_code: str, label: str = "") -> tuple[uuid.UUID, str]:
    """A new token for the practice: (token id, the token, shown only now)."""
    code = ods_code.strip().upper()
    problem = ukcore.ods_problem(code, practice=True)
    if problem:
        raise ValidationError(f"That is not a GP practice ODS code: {problem}.", field="ods")
    token = TOKEN_PREFIX + secrets.token_urlsafe(32)
    row = PracticeToken(ods_code=code, label=label[:120], token_hash=hash_token(token))
    session.add(row)
    session.flush()
    log.info("issued practice token %s", row.id)
    return row.id, token


def revoke(session: Session, token_id: uuid.UUID) -> None:
    row = session.get(PracticeToken, token_id)
    if row is None:
        raise NotFound("No such practice token.")
    row.revoked_at = row.revoked_at or utcnow_text()
    log.info("revoked practice token %s", token_id)


def listing(session: Session) -> list[PracticeToken]:
    return list(session.scalars(select(PracticeToken).order_by(PracticeToken.created_at)))
