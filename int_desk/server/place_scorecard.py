"""The INT scorecard at Place level: every team's, from the endpoint's own records.

The endpoint keeps each synced row as JSON (``srv_record``). Rather than a second set of
definitions written against that JSON (in two SQL dialects), the rows the measures read are
copied into a private in-memory SQLite database with the desktop's own schema, and the very
same SQL (int_desk/services/scorecard.py) runs on it. The copy lives in memory only and is gone
when the function returns; what leaves is aggregates, with counts under 5 suppressed.
"""

from __future__ import annotations

import json
import logging
import uuid
from collections.abc import Sequence
from datetime import date
from typing import Any

from sqlalchemy import Engine, create_engine, event, select
from sqlalchemy.orm import Session
from sqlalchemy.pool import StaticPool

from int_desk.domain.errors import NotFound
from int_desk.domain.scorecard import Scorecard, ScorecardQuery
from int_desk.server.admin import find_team
from int_desk.server.models import GLOBAL_SCOPE, Record, ServerTeam
from int_desk.services import scorecard as service
from int_desk.store.base import Base
from int_desk.wire import schema

log = logging.getLogger(__name__)

# What the measures read (patients' and huddles' rows, and the teams, places and practices).
ENTITIES = (
    "place", "organisation", "team", "cohort", "patient", "cohort_membership", "care_plan",
    "health_event", "huddle", "huddle_item", "task", "escalation",
)  # fmt: skip
BATCH = 5000


def _memory_session() -> Session:
    engine = create_engine("sqlite://", poolclass=StaticPool)

    @event.listens_for(engine, "connect")
    def _pragmas(dbapi_conn: Any, _record: object) -> None:
        cur = dbapi_conn.cursor()
        cur.execute("PRAGMA temp_store = MEMORY")
        cur.close()

    tables = [Base.metadata.tables[name] for name in ENTITIES]
    Base.metadata.create_all(engine, tables=tables)
    return Session(engine)


def _copy(server: Session, local: Session, scopes: list[str]) -> dict[str, int]:
    """Live rows of ``scopes`` (and the global reference rows) into the local copy."""
    counts: dict[str, int] = {}
    conn = local.connection()
    for name in ENTITIES:
        entity = schema.ENTITIES[name]
        columns = list(entity.columns.values())
        sql = (
            f"INSERT INTO {name} (id, {', '.join(c.name for c in columns)}) "
            f"VALUES ({', '.join('?' for _ in range(len(columns) + 1))})"
        )
        wanted = scopes + [GLOBAL_SCOPE] if name in schema.GLOBAL_ENTITIES else scopes
        rows = server.execute(
            select(Record.id, Record.data).where(
                Record.entity == name, Record.deleted.is_(False), Record.scope.in_(wanted)
            )
        )
        batch: list[tuple[object, ...]] = []
        n = 0
        for rid, data in rows:
            values = json.loads(data)
            batch.append(
                (rid.hex, *(schema.wire_to_storage(c.kind, values.get(c.name)) for c in columns))
            )
            if len(batch) >= BATCH:
                conn.exec_driver_sql(sql, batch)
                n += len(batch)
                batch = []
        if batch:
            conn.exec_driver_sql(sql, batch)
            n += len(batch)
        counts[name] = n
    return counts


def place_scorecard(
    server: Session,
    *,
    teams: Sequence[str] = (),
    query: ScorecardQuery,
    today: date | None = None,
    suppress: bool = True,
) -> Scorecard:
    """The scorecard of the named teams (all the endpoint's teams when none are named)."""
    if teams:
        team_ids = [find_team(server, t).id for t in teams]
    else:
        team_ids = list(server.scalars(select(ServerTeam.id).order_by(ServerTeam.name)))
    if not team_ids:
        raise NotFound("This endpoint has no teams yet.")
    scopes = [str(t) for t in team_ids]
    local = _memory_session()
    try:
        counts = _copy(server, local, scopes)
        present = set(local.scalars(select(Base.metadata.tables["team"].c.id)))
        missing = [t for t in team_ids if t not in present]
        if missing:
            raise NotFound("A team on this endpoint has no records yet (seed or sync it first).")
        card = service.compute(
            local,
            team_ids=[uuid.UUID(str(t)) for t in team_ids],
            query=query,
            today=today,
            suppress=suppress,
        )
    finally:
        local.close()
        engine = local.get_bind()
        if isinstance(engine, Engine):  # (always: the in-memory session is bound to one)
            engine.dispose()
    log.info("place scorecard: %d teams, %d rows read", len(team_ids), sum(counts.values()))
    return card
