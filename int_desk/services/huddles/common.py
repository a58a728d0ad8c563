"""What every part of a huddle uses: day formats, the team lookup, the pending item."""

from __future__ import annotations

import uuid
from datetime import date, datetime, time
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from int_desk.domain.actor import Actor
from int_desk.domain.errors import NotFound
from int_desk.domain.uk_time import (
    day_text,
    london_wall,
)
from int_desk.domain.vocab import (
    HuddleItemStatus,
    Priority,
)
from int_desk.services import access
from int_desk.services.writes import stamp
from int_desk.store.models import (
    HuddleItem,
    Team,
)

MAX_OUTCOME = 10_000
_PRIORITY_RANK = {p.value: p.rank for p in Priority}
_RANK_PRIORITY = {p.rank: p.value for p in Priority}


# --- small helpers ---------------------------------------------------------------------------


WITHHELD = "(clinical content - not shown for your role)"


def fmt_day(d: date) -> str:
    return day_text(d)


def _days(n: int) -> str:
    return "1 day" if n == 1 else f"{n} days"


def _ago(on: date, d: date) -> str:
    n = (on - d).days
    if n == 0:
        return "today"
    if n < 0:
        return f"in {_days(-n)}"
    return f"{_days(n)} ago"


def local_datetime(on: date, at: time = time(9, 0)) -> datetime:
    """A wall-clock date and time in London (the team's clock, whatever this computer's zone)."""
    return london_wall(on, at)


def _add_pending_item(
    session: Session, actor: Actor, huddle_id: uuid.UUID, cand: Any, position: int
) -> None:
    """An agenda candidate as a not-yet-discussed item of the huddle."""
    item = HuddleItem(
        huddle_id=huddle_id,
        patient_id=cand.patient_id,
        position=position,
        reasons=cand.reason_texts,
        status=HuddleItemStatus.PENDING.value,
        outcome="",
        decisions="",
        seconds_spent=0,
        rolled_over_from_id=cand.rolled_over_from_id,
    )
    stamp(item, actor, new=True)
    session.add(item)


def _team(session: Session, actor: Actor, team_id: uuid.UUID) -> Team:
    return access.get_team_row(session, actor, Team, team_id, "team", "see another team's huddles")


def team_by_name(session: Session, name: str) -> Team:
    team = session.scalar(select(Team).where(Team.name == name, Team.deleted.is_(False)))
    if team is None:
        known = ", ".join(session.scalars(select(Team.name).order_by(Team.name)))
        raise NotFound(f"No team called '{name}'. Teams here: {known}.")
    return team
