"""Run the Alembic chain in migrations/ on a keyed connection, with a backup before upgrading."""

from __future__ import annotations

import logging
import shutil
from datetime import UTC, datetime
from pathlib import Path

from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import Connection, Engine

from int_desk import paths
from int_desk.domain.errors import WorkspaceError

log = logging.getLogger(__name__)


def alembic_config(connection: Connection | None = None) -> Config:
    cfg = Config()
    cfg.set_main_option("script_location", str(paths.migrations_dir()))
    cfg.set_main_option("path_separator", "os")
    if connection is not None:
        cfg.attributes["connection"] = connection
    return cfg


def head_revision() -> str:
    heads = ScriptDirectory.from_config(alembic_config()).get_heads()
    if len(heads) != 1:
        raise WorkspaceError(f"Migrations have {len(heads)} heads; expected exactly one.")
    return heads[0]


def current_revision(connection: Connection) -> str | None:
    return MigrationContext.configure(connection).get_current_revision()


def upgrade(engine: Engine, store_path: Path, *, backup_dir: Path) -> str | None:
    """Bring the store to head. Returns the backup path's name when one was made.

    Refuses a store migrated by a newer INT Desk (unknown revision) rather than guess.
    """
    script = ScriptDirectory.from_config(alembic_config())
    head = head_revision()
    with engine.connect() as conn:
        current = current_revision(conn)
    if current == head:
        return None
    if current is not None and not _known(script, current):
        raise WorkspaceError(
            "This workspace was saved by a newer version of INT Desk. Update the app to open it."
        )
    backup_name = None
    if current is not None:
        backup_name = _backup(engine, store_path, backup_dir, current)
    with engine.begin() as conn:
        command.upgrade(alembic_config(conn), "head")
    log.info("store migrated from %s to %s", current, head)
    return backup_name


def _known(script: ScriptDirectory, revision: str) -> bool:
    try:
        return script.get_revision(revision) is not None
    except Exception:  # alembic raises ResolutionError/CommandError for unknown ids
        return False


def _backup(engine: Engine, store_path: Path, backup_dir: Path, revision: str) -> str:
    """Copy the (still encrypted) store aside after folding the WAL into it."""
    with engine.connect() as conn:
        conn.exec_driver_sql("PRAGMA wal_checkpoint(TRUNCATE)")
    paths.ensure_private_dir(backup_dir)
    stamp = datetime.now(UTC).strftime("%Y%m%dT%H%M%SZ")
    target = backup_dir / f"store-{revision}-{stamp}.db"
    shutil.copy2(store_path, target)
    log.info("backed up store before migration to %s", target.name)
    return target.name
