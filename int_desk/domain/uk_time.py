"""Instants shown as the team sees them: in Europe/London, whatever the computer's time zone.

The store keeps instants in UTC. A contact at 00:30 BST on 1 June is 23:30 UTC on 31 May: taking
the UTC date (or the laptop's own zone, set to UTC on many managed machines) shows it a day
early. Every date *of an instant* shown or exported goes through ``london_date``; "today" for
comparisons with such dates is ``london_today``.

    london_date(contact.occurred_at)  -> date in London
    uk_date(d)                        -> "01/06/2026" (CSV and the CLI's table; JSON keeps ISO)
    london_hhmm(huddle.started_at)    -> "09:04"
    london_wall(day, time(9))         -> 09:00 in London that day (a form's or a rule's wall clock)

Never ``astimezone()`` without a zone, ``datetime.now()`` or ``date.today()`` for what a user
sees: those follow the computer's zone.
"""

from __future__ import annotations

from datetime import UTC, date, datetime, time
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


def london_now() -> datetime:
    return datetime.now(UTC).astimezone(LONDON)


def london_wall(on: date, at: time = time(0)) -> datetime:
    """A wall-clock date and time in London as an aware instant (in a clock change's repeated
    hour, the first; in its skipped hour, the time an hour on, as zoneinfo reads it)."""
    return datetime.combine(on, at, tzinfo=LONDON)


def from_london_wall(value: datetime) -> datetime:
    """A form's naive date and time read as London's wall clock; an aware value is unchanged."""
    return value.replace(tzinfo=LONDON) if value.tzinfo is None else value


def london_hhmm(instant: datetime | None) -> str:
    """The time ("14:05") in London; '' for None."""
    return in_london(instant).strftime("%H:%M") if instant else ""


def day_text(value: date) -> str:
    """A day as people read it, unambiguous: 3 Mar 1941 (agendas, PDFs, the scorecard)."""
    return f"{value.day} {value:%b %Y}"


def uk_date(value: date | datetime | None) -> str:
    """dd/mm/yyyy (a datetime is taken in London first); '' for None."""
    if value is None:
        return ""
    if isinstance(value, datetime):
        value = london_date(value)
    return value.strftime("%d/%m/%Y")
