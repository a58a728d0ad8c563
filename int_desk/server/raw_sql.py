"""The sync cycle's hottest PostgreSQL statements run straight on psycopg.

A sync cycle sends about fifteen statements; for each, SQLAlchemy's execution context, parameter
processing and result set-up cost about as much of the endpoint's CPU as psycopg's own work
(docs/sync-protocol.md, "Endpoint CPU per cycle"). The statements here are of fixed text, run
every cycle, and need nothing of SQLAlchemy but the text: each is written once as SQLAlchemy
``text()`` (its ``:name`` parameters), turned into psycopg's form once, and executed on the
session's own DBAPI connection, so it is part of the session's transaction, prepared once per
connection (``prepare=True``). A database error is raised as SQLAlchemy raises it
(``IntegrityError``, ``OperationalError``), so callers retrying on those are unchanged.

PostgreSQL only: SQLite keeps the SQLAlchemy statements.
"""

from __future__ import annotations

from typing import Any

import psycopg
from sqlalchemy import exc
from sqlalchemy.engine import Connection, make_url
from sqlalchemy.sql.elements import TextClause

_DIALECT = make_url("postgresql+psycopg://").get_dialect()()  # (psycopg's placeholders)


class Statement:
    """One fixed statement, run on psycopg with the session connection's transaction."""

    def __init__(self, statement: TextClause) -> None:
        self.sql = str(statement.compile(dialect=_DIALECT))

    def rows(self, connection: Connection, params: dict[str, Any]) -> list[tuple[Any, ...]]:
        """Run it on ``connection`` (a session's, in its transaction): the rows it returns."""
        raw = connection.connection.driver_connection
        assert raw is not None, "the session's connection is closed"
        try:
            with raw.cursor() as cursor:
                cursor.execute(self.sql, params, prepare=True)
                return cursor.fetchall() if cursor.description is not None else []
        except psycopg.Error as error:
            raise exc.DBAPIError.instance(
                self.sql, params, error, psycopg.Error, dialect=_DIALECT
            ) from error
