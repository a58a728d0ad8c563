"""Instants shown as the team sees them: in Europe/London, whatever the computer's time zone.

The store keeps instants in UTC. A contact at 00:30 BST on 1 June is 23:30 UTC on 31 May: taking
the UTC date (or the laptop's own zone, set to UTC on many managed machines) shows it a day
early. Every date *of an instant* shown or exported goes through ``london_date``; "today" for
comparisons with such dates is ``london_today``.

    london_date(contact.occurred_at)  -> date in London
    uk_date(d)                        -> "01/06/2026" (CSV and the CLI's table; JSON keeps ISO)
"""

from __future__ import annotations

from datetime import UTC, date, datetime
from zoneinfo import ZoneInfo

LONDON = ZoneInfo("Europe/London")  # Windows has no tz database: the tzdata package supplies it


def in_london(instant: datetime) -> datetime:
    """An instant in London time (a naive value is taken as UTC, as the store writes it)."""
    if instant.tzinfo is None:
        instant = instant.replace(tzinfo=UTC)
    return instant.astimezone(LONDON)


def london_date(instant: datetime) -> date:
    return in_london(instant).date()


def london_today(now: datetime | None = None) -> date:
    return in_london(now or datetime.now(UTC)).date()


def uk_date(value: date | datetime | None) -> str:
    """dd/mm/yyyy (a datetime is taken in London first); '' for None."""
    if value is None:
        return ""
    if isinstance(value, datetime):
        value = london_date(value)
    return value.strftime("%d/%m/%Y")
