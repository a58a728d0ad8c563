"""Back up and restore the endpoint's database, and the generation that tells laptops about it.

PostgreSQL is copied with ``pg_dump --format=custom`` and put back with ``pg_restore``;
SQLite with its online backup API (a consistent copy while the endpoint runs).

A restore puts the endpoint back in time: changes laptops sent after the backup are gone from
it. So every restore gives the database a new *generation* (an id laptops send with each
request, ``X-IntDesk-Generation``) and moves every team's sequence past anything the lost
history can have used (``since``). A laptop that sends an older generation is answered 409
with the new one; it then sends again what it holds that the endpoint lost, with its own
version as the base, so an edit made on the restored endpoint meanwhile (numbered above
``since``) becomes a conflict for a person to decide, never silently overwritten
(``int_desk.sync.client``). The cursor key is renewed as well: older cursors then ask for a
re-download (HTTP 410) even from laptops that predate generations.
"""

from __future__ import annotations

import os
import secrets
import shutil
import sqlite3
import subprocess
import uuid
from contextlib import closing
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from sqlalchemy import func, select, update
from sqlalchemy.engine import make_url
from sqlalchemy.orm import Session

from int_desk.domain.errors import IntDeskError
from int_desk.domain.wording import plural
from int_desk.server import audit
from int_desk.server.models import ScopeSeq, ServerSetting
from int_desk.wire import protocol as P

GENERATION = "generation"
SINCE = "generation_since"
CURSOR_KEY = "cursor_key"
# How far every team's sequence moves on a restore: more changes than any team can have made
# between a backup and its restore (versions stay below 2**31, the wire's integer limit).
JUMP = 10_000_000
RESTORED = "database_restored"
PG_DUMP_ENV = "INT_DESK_PG_BIN"  # where pg_dump and pg_restore are, when not on PATH


@dataclass(frozen=True)
class Generation:
    id: str  # changes on every restore
    since: int  # versions above this were written in this generation (0: never restored)


def generation(session: Session) -> Generation:
    """This database's generation, made on first use."""
    rows = dict(
        session.execute(
            select(ServerSetting.key, ServerSetting.value).where(
                ServerSetting.key.in_((GENERATION, SINCE))
            )
        ).all()
    )
    if GENERATION not in rows:
        rows = {GENERATION: str(uuid.uuid4()), SINCE: "0"}
        for key, value in rows.items():
            session.merge(ServerSetting(key=key, value=value))
        session.flush()
    return Generation(rows[GENERATION], int(rows.get(SINCE) or 0))


def new_generation(session: Session, note: str = "") -> Generation:
    """After a restore: a new generation id, every team's sequence moved past ``since``, a new
    cursor key, and an audit entry."""
    highest = session.scalar(select(func.max(ScopeSeq.last_seq))) or 0
    since = int(highest) + JUMP
    if since >= 2**31:
        raise IntDeskError("This database has been restored too often to number changes safely.")
    session.execute(update(ScopeSeq).values(last_seq=since))
    made = Generation(str(uuid.uuid4()), since)
    for key, value in ((GENERATION, made.id), (SINCE, str(since))):
        session.merge(ServerSetting(key=key, value=value))
    session.merge(ServerSetting(key=CURSOR_KEY, value=secrets.token_hex(32)))
    audit.record(session, RESTORED, detail=f"generation {made.id}; {note}"[:500])
    return made


class GenerationHeader:
    """ASGI wrapper: every answer names the database's generation (``X-IntDesk-Generation``)."""

    def __init__(self, app: Any, generation_id: str) -> None:
        self.app = app
        self.header = (P.GENERATION_HEADER.lower().encode(), generation_id.encode())

    async def __call__(self, scope: dict[str, Any], receive: Any, send: Any) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return

        async def sending(message: dict[str, Any]) -> None:
            if message["type"] == "http.response.start":
                message["headers"] = [*message.get("headers", ()), self.header]
            await send(message)

        await self.app(scope, receive, sending)


# --- backup and restore ---------------------------------------------------------------------


def _sqlite_path(url: str) -> Path | None:
    u = make_url(url)
    return Path(u.database) if u.drivername.startswith("sqlite") and u.database else None


def _libpq_url(url: str) -> str:
    """The SQLAlchemy URL as libpq reads it (no ``+psycopg`` driver part)."""
    return make_url(url).set(drivername="postgresql").render_as_string(hide_password=False)


def _pg_tool(name: str) -> str:
    folder = os.environ.get(PG_DUMP_ENV)
    found = shutil.which(name, path=folder) if folder else None
    found = found or shutil.which(name)
    if not found:
        raise IntDeskError(
            f"{name} was not found: install the PostgreSQL client tools or set {PG_DUMP_ENV}."
        )
    return found


def _run(cmd: list[str], what: str) -> None:
    done = subprocess.run(cmd, capture_output=True, text=True, timeout=3600)
    if done.returncode != 0:
        # pg_dump/pg_restore report object names and SQL errors, never row contents.
        raise IntDeskError(f"{what} failed: {done.stderr.strip()[-800:]}")


def _private_file(path: Path) -> None:
    """A backup holds patient data: owner read/write only (Windows: the folder's ACLs)."""
    if os.name != "nt":
        os.chmod(path, 0o600)


def backup(url: str, out: Path) -> int:
    """Write a consistent copy of the database to ``out`` (written beside it, then renamed);
    returns its size in bytes."""
    out = out.resolve()
    if out.exists():
        raise IntDeskError(f"{out} exists already; choose a new file name.")
    partial = out.with_name(out.name + ".partial")
    partial.unlink(missing_ok=True)
    os.close(os.open(partial, os.O_CREAT | os.O_WRONLY, 0o600))
    try:
        path = _sqlite_path(url)
        if path is not None:
            if not path.exists():
                raise IntDeskError(f"There is no endpoint database at {path}.")
            with closing(sqlite3.connect(path)) as src, closing(sqlite3.connect(partial)) as dst:
                src.backup(dst)
        else:
            _run(
                [_pg_tool("pg_dump"), "--format=custom", "--no-owner", f"--file={partial}",
                 _libpq_url(url)],
                "pg_dump",
            )  # fmt: skip
        _private_file(partial)
        os.replace(partial, out)
    finally:
        partial.unlink(missing_ok=True)
    return out.stat().st_size


def _other_connections(url: str) -> int:
    import psycopg

    with psycopg.connect(_libpq_url(url), autocommit=True) as conn:
        row = conn.execute(
            "SELECT count(*) FROM pg_stat_activity "
            "WHERE datname = current_database() AND pid <> pg_backend_pid()"
        ).fetchone()
    return int(row[0]) if row else 0


def restore(url: str, source: Path) -> Generation:
    """Replace the database with the backup ``source``, migrate it to this server's schema
    and give it a new generation. Every endpoint using the database must be stopped first."""
    from int_desk.server import db

    source = source.resolve()
    if not source.is_file():
        raise IntDeskError(f"There is no backup file at {source}.")
    path = _sqlite_path(url)
    if path is not None:
        with closing(sqlite3.connect(f"file:{source}?mode=ro", uri=True)) as check:
            try:
                check.execute("SELECT count(*) FROM srv_setting").fetchone()
            except sqlite3.DatabaseError:
                raise IntDeskError(f"{source} is not a backup of an INT Desk endpoint.") from None
        with closing(sqlite3.connect(source)) as src, closing(sqlite3.connect(path)) as dst:
            src.backup(dst)
    else:
        others = _other_connections(url)
        if others:
            raise IntDeskError(
                f"This database is in use ({plural(others, 'other connection')}): stop every endpoint first."
            )
        _run(
            [_pg_tool("pg_restore"), "--clean", "--if-exists", "--no-owner",
             "--single-transaction", "--exit-on-error", f"--dbname={_libpq_url(url)}",
             str(source)],
            "pg_restore",
        )  # fmt: skip
    engine, factory = db.open_db(url, pool_size=1)  # an older backup is migrated here
    try:
        with factory.begin() as s:
            return new_generation(s, note=f"restored from {source.name}")
    finally:
        engine.dispose()
