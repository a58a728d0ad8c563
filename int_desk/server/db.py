"""Server database: engine for SQLite (embedded default) or PostgreSQL (psycopg 3), migrations."""

from __future__ import annotations

import logging
import os
import secrets
from pathlib import Path
from typing import Any

from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import Engine, create_engine, event, select
from sqlalchemy.engine import make_url
from sqlalchemy.orm import Session, sessionmaker

from int_desk.domain.errors import IntDeskError
from int_desk.server import backup
from int_desk.server.models import ServerSetting

log = logging.getLogger(__name__)

MIGRATIONS = Path(__file__).resolve().parent / "migrations"


def normalise_url(url: str) -> str:
    """Accept plain ``postgresql://`` and file paths; always use psycopg 3 for PostgreSQL."""
    if "://" not in url:
        return f"sqlite:///{Path(url).resolve()}"
    u = make_url(url)
    if u.drivername in ("postgresql", "postgres"):
        u = u.set(drivername="postgresql+psycopg")
    return u.render_as_string(hide_password=False)


def is_postgres(engine: Engine) -> bool:
    return engine.dialect.name == "postgresql"


def _owner_only(path: Path) -> None:
    """The endpoint's SQLite file and its WAL/SHM hold identifiers: owner read/write only.

    SQLite gives the -wal and -shm files the database file's permissions; they are set here
    too in case they were made before. (On Windows, file ACLs of the service account apply.)
    """
    if os.name == "nt":
        return
    if not path.exists():
        os.close(os.open(path, os.O_CREAT | os.O_WRONLY, 0o600))
    for p in (path, path.with_name(path.name + "-wal"), path.with_name(path.name + "-shm")):
        if p.exists() and p.stat().st_mode & 0o077:
            os.chmod(p, 0o600)


def make_engine(url: str, *, pool_size: int = 10) -> Engine:
    url = normalise_url(url)
    if url.startswith("sqlite"):
        database = make_url(url).database
        if database and database != ":memory:":
            _owner_only(Path(database))
        engine = create_engine(url, connect_args={"check_same_thread": False, "timeout": 30})

        @event.listens_for(engine, "connect")
        def _pragmas(dbapi_conn: Any, _record: Any) -> None:
            dbapi_conn.isolation_level = None  # we issue BEGIN ourselves (below)
            cur = dbapi_conn.cursor()
            cur.execute("PRAGMA journal_mode = WAL")
            cur.execute("PRAGMA synchronous = NORMAL")
            cur.execute("PRAGMA busy_timeout = 30000")
            cur.close()
            if database and database != ":memory:":
                _owner_only(Path(database))  # the WAL and SHM now exist

        @event.listens_for(engine, "begin")
        def _begin_immediate(conn: Any) -> None:
            # Writers queue at BEGIN instead of failing on upgrade, and sequence order equals
            # commit order because one transaction writes at a time.
            conn.exec_driver_sql("BEGIN IMMEDIATE")

        return engine
    # No pre-ping (a round trip per request); stale connections are recycled instead.
    return create_engine(url, pool_size=pool_size, max_overflow=20, pool_recycle=1800)


def alembic_config(connection: Any = None) -> Config:
    cfg = Config()
    cfg.set_main_option("script_location", str(MIGRATIONS))
    cfg.set_main_option("path_separator", "os")
    if connection is not None:
        cfg.attributes["connection"] = connection
    return cfg


def head_revision() -> str | None:
    return ScriptDirectory.from_config(alembic_config()).get_current_head()


def current_revision(conn: Any) -> str | None:
    return MigrationContext.configure(
        conn, opts={"version_table": "srv_alembic_version"}
    ).get_current_revision()


def upgrade(engine: Engine) -> None:
    """Bring the server database to head; refuse one written by a newer server.

    Several endpoints may start at once against one PostgreSQL: the first to take the
    migration lock migrates, the others find the schema at head when they get it.
    """
    script = ScriptDirectory.from_config(alembic_config())
    head = script.get_current_head()
    with engine.connect() as conn:
        current = current_revision(conn)
    if current == head:
        return
    with engine.begin() as conn:
        if is_postgres(engine):
            conn.exec_driver_sql(
                "SELECT pg_advisory_xact_lock(hashtextextended('int-desk-migrate', 0))"
            )
        current = current_revision(conn)
        if current == head:
            return
        if current is not None:
            try:
                script.get_revision(current)
            except Exception:
                raise IntDeskError(
                    "This sync database was written by a newer INT Desk server; update the server."
                ) from None
        command.upgrade(alembic_config(conn), "head")
    log.info("server database migrated to %s", head)


def sessions(engine: Engine) -> sessionmaker[Session]:
    return sessionmaker(engine, expire_on_commit=False)


def read_sessions(engine: Engine) -> sessionmaker[Session]:
    """Sessions for reads that need no transaction of their own: on PostgreSQL in autocommit
    (no BEGIN and COMMIT round trips); SQLite's are the usual ones (its BEGIN is local)."""
    if is_postgres(engine):
        engine = engine.execution_options(isolation_level="AUTOCOMMIT")
    return sessionmaker(engine, expire_on_commit=False)


def secret(session: Session) -> bytes:
    """The cursor-signing key, created once and shared by every server process."""
    value = session.scalar(select(ServerSetting.value).where(ServerSetting.key == "cursor_key"))
    if value is None:
        value = secrets.token_hex(32)
        session.add(ServerSetting(key="cursor_key", value=value))
        session.flush()
    return bytes.fromhex(value)


def open_db(url: str, *, pool_size: int = 10) -> tuple[Engine, sessionmaker[Session]]:
    engine = make_engine(url, pool_size=pool_size)
    upgrade(engine)
    factory = sessions(engine)
    with factory.begin() as s:
        secret(s)
        backup.generation(s)  # (made once; a restore makes a new one)
    return engine, factory
