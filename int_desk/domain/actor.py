"""Who is acting: the signed-in team member, their role and teams."""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field

from int_desk.domain.vocab import Role


@dataclass(frozen=True)
class Actor:
    member_id: uuid.UUID
    role: Role
    team_ids: frozenset[uuid.UUID] = field(default_factory=frozenset)
    name: str = ""  # staff name, for "printed by"; never a patient's
