"""Run the Alembic chain in migrations/ on a keyed connection, with a backup before upgrading.

Opening a workspace that is already at the head revision (nearly always) does not import
Alembic (a third of a headless command's start): the head is read from the migration files'
``revision``/``down_revision`` lines and the store's from its ``alembic_version`` table;
tests/test_migrations.py checks the fast answer agrees with Alembic's.
"""

from __future__ import annotations

import logging
import re
import shutil
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING

from sqlalchemy import Connection, Engine

from int_desk import paths
from int_desk.domain.errors import WorkspaceError

if TYPE_CHECKING:
    from alembic.config import Config
    from alembic.script import ScriptDirectory

log = logging.getLogger(__name__)
_REVISION = re.compile(
    r"^(down_revision|revision)\s*(?::[^=]*)?=\s*(?:['\"]([^'\"]+)['\"]|None)", re.M
)


def quick_head() -> str | None:
    """The head revision read from the migration files without Alembic; None when the files
    do not say plainly (several heads, an unusual form): then Alembic is asked."""
    revisions: set[str] = set()
    parents: set[str] = set()
    for path in (paths.migrations_dir() / "versions").glob("*.py"):
        found = dict((m[0], m[1]) for m in _REVISION.findall(path.read_text(encoding="utf-8")))
        if "revision" not in found or not found["revision"]:
            return None
        revisions.add(found["revision"])
        if found.get("down_revision"):
            parents.add(found["down_revision"])
    heads = revisions - parents
    return heads.pop() if len(heads) == 1 else None


def stored_revision(connection: Connection) -> str | None:
    """The store's revision from its alembic_version table (None for a new store)."""
    exists = connection.exec_driver_sql(
        "SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = 'alembic_version'"
    ).first()
    if not exists:
        return None
    row = connection.exec_driver_sql("SELECT version_num FROM alembic_version").first()
    return row[0] if row else None


def alembic_config(connection: Connection | None = None) -> Config:
    from alembic.config import Config

    cfg = Config()
    cfg.set_main_option("script_location", str(paths.migrations_dir()))
    cfg.set_main_option("path_separator", "os")
    if connection is not None:
        cfg.attributes["connection"] = connection
    return cfg


def head_revision() -> str:
    from alembic.script import ScriptDirectory

    heads = ScriptDirectory.from_config(alembic_config()).get_heads()
    if len(heads) != 1:
        raise WorkspaceError(f"Migrations have {len(heads)} heads; expected exactly one.")
    return heads[0]


def current_revision(connection: Connection) -> str | None:
    from alembic.runtime.migration import MigrationContext

    return MigrationContext.configure(connection).get_current_revision()


def upgrade(engine: Engine, store_path: Path, *, backup_dir: Path) -> str | None:
    """Bring the store to head. Returns the backup path's name when one was made.

    Refuses a store migrated by a newer INT Desk (unknown revision) rather than guess.
    """
    quick = quick_head()
    if quick is not None:
        with engine.connect() as conn:
            if stored_revision(conn) == quick:
                return None  # at head: nothing to do, and no Alembic import
    from alembic import command
    from alembic.script import ScriptDirectory

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
