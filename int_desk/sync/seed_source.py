"""A workspace's rows for seeding an endpoint (``int-desk admin seed``, the demo's local endpoint).

The endpoint never imports the desktop store; it reads through this (its ``SeedSource``).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any, cast

from sqlalchemy import select
from sqlalchemy.orm import Session

from int_desk.store.wire_entities import SYNCED_TABLES


class WorkspaceRows:
    """The synced tables of an open workspace session, read with Core selects."""

    def __init__(self, session: Session) -> None:
        self.session = session

    def pairs(
        self, entity: str, first: str, second: str, order_by: str | None = None
    ) -> list[tuple[Any, Any]]:
        table = SYNCED_TABLES[entity]
        query = select(table.c[first], table.c[second])
        if order_by is not None:
            query = query.order_by(table.c[order_by])
        return [(a, b) for a, b in self.session.execute(query)]

    def rows(self, entity: str) -> Iterable[Mapping[str, Any]]:
        return cast(
            Iterable[Mapping[str, Any]],
            self.session.execute(select(SYNCED_TABLES[entity])).mappings(),
        )
