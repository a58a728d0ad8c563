"""Device-token lifetime: a token expires after ``token_days`` (default 90) without a sync.

Each authenticated lookup (once per connection, so once per sync cycle) pushes the expiry
forward when it is more than a day old, so a laptop in use never expires; one left unused for
the lifetime does, and gets a 401 that the app shows as "Sign in again" (its unsent edits stay).
The lifetime is a server setting shared by every process: ``int-desk admin set-token-lifetime``.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from sqlalchemy import select
from sqlalchemy.orm import Session

from int_desk.domain.errors import ValidationError
from int_desk.server.models import ServerSetting

DEFAULT_DAYS = 90.0
SETTING = "token_days"
RENEW_EVERY = timedelta(days=1)  # at most one write per token per day
EXPIRED = (
    "Your sign-in on this computer has expired (device tokens end after {days:g} days without "
    "a sync). Sign in again with a new invitation code from your administrator; your unsent "
    "changes are kept on this computer."
)
WWW_AUTHENTICATE = 'Bearer error="invalid_token", error_description="expired"'


LIFETIME_SETTING = select(ServerSetting.value).where(ServerSetting.key == SETTING).scalar_subquery()
"""The lifetime setting as a column of another query (the token lookup reads it with the token)."""


def lifetime_days(session: Session) -> float:
    return days_from(session.scalar(select(LIFETIME_SETTING)))


def days_from(value: str | None) -> float:
    try:
        return float(value) if value is not None else DEFAULT_DAYS
    except ValueError:
        return DEFAULT_DAYS


def set_lifetime_days(session: Session, days: float) -> None:
    if not 1 <= days <= 3650:
        raise ValidationError("A device token's lifetime is 1 to 3650 days.", field="days")
    row = session.get(ServerSetting, SETTING)
    if row is None:
        session.add(ServerSetting(key=SETTING, value=f"{days:g}"))
    else:
        row.value = f"{days:g}"


def now() -> datetime:
    return datetime.now(UTC)


def expiry(days: float, at: datetime | None = None) -> str:
    return ((at or now()) + timedelta(days=days)).isoformat(timespec="microseconds")


def expired(expires_at: str | None, at: datetime | None = None) -> bool:
    return expires_at is not None and datetime.fromisoformat(expires_at) <= (at or now())


def due_for_renewal(expires_at: str | None, days: float, at: datetime | None = None) -> bool:
    """True when the expiry is more than RENEW_EVERY behind a fresh one (or missing)."""
    if expires_at is None:
        return True
    fresh = (at or now()) + timedelta(days=days)
    return datetime.fromisoformat(expires_at) < fresh - RENEW_EVERY
