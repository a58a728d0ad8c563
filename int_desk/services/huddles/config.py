"""A team's agenda configuration: which rules run and their parameters (team.config)."""

from __future__ import annotations

import uuid
from collections.abc import Mapping
from typing import Any

from sqlalchemy.orm import Session

from int_desk.domain import huddle_agenda as rules_config
from int_desk.domain.actor import Actor
from int_desk.domain.errors import NotFound
from int_desk.domain.huddle_agenda import CONFIG_KEY, AgendaConfig
from int_desk.domain.permissions import Permission
from int_desk.domain.vocab import (
    AuditAction,
)
from int_desk.services import access
from int_desk.services.huddles.common import _team
from int_desk.services.writes import record_write
from int_desk.store.models import (
    Team,
)


def agenda_config(session: Session, team_id: uuid.UUID) -> AgendaConfig:
    """The team's agenda rules: its stored configuration merged over the defaults."""
    team = session.get(Team, team_id)
    if team is None:
        raise NotFound("That team is not in this workspace.")
    return rules_config.resolve((team.config or {}).get(CONFIG_KEY))


def set_agenda_config(
    *, session: Session, actor: Actor, team_id: uuid.UUID, config: Mapping[str, Any]
) -> AgendaConfig:
    """Validate and store a team's agenda configuration (partial: the rest stays default)."""
    access.require(session, actor, Permission.RUN_HUDDLE)
    team = _team(session, actor, team_id)
    resolved = rules_config.resolve(config)  # raises ValidationError naming the field
    team.config = {**(team.config or {}), CONFIG_KEY: dict(config)}
    record_write(
        session, actor, team, AuditAction.UPDATE, "team", detail=f"fields=config.{CONFIG_KEY}"
    )
    return resolved
