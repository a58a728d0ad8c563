"""The Alembic chain: one head, upgrade from empty equals the models, newer stores refused."""

from __future__ import annotations

from pathlib import Path

import pytest
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from alembic.script import ScriptDirectory

from int_desk.domain.errors import WorkspaceError
from int_desk.store import all_models, keys, migrate
from int_desk.store.engine import make_engine
from int_desk.store.workspace import BACKUP_DIR, Workspace
from tests.conftest import PASSPHRASE


def test_chain_is_linear_with_one_head() -> None:
    script = ScriptDirectory.from_config(migrate.alembic_config())
    assert len(script.get_heads()) == 1
    revisions = list(script.walk_revisions())
    assert revisions[-1].down_revision is None
    for newer, older in zip(revisions, revisions[1:], strict=False):
        assert newer.down_revision == older.revision


def test_upgrade_from_empty_matches_models(tmp_path: Path) -> None:
    engine = make_engine(tmp_path / "s.db", keys.new_data_key(), create=True)
    migrate.upgrade(engine, tmp_path / "s.db", backup_dir=tmp_path / "b")
    with engine.connect() as conn:
        ctx = MigrationContext.configure(conn, opts={"compare_type": True})
        diff = compare_metadata(ctx, all_models.Base.metadata)
    assert diff == []


def test_store_from_newer_app_is_refused_untouched(tmp_path: Path) -> None:
    with Workspace.create(tmp_path / "ws", PASSPHRASE, use_keyring=False) as ws:
        with ws.engine.begin() as conn:  # type: ignore[union-attr]
            conn.exec_driver_sql("UPDATE alembic_version SET version_num = '9999_future'")
    with pytest.raises(WorkspaceError, match="newer version of INT Desk"):
        Workspace.open(tmp_path / "ws", PASSPHRASE)


def test_older_store_is_backed_up_then_upgraded(tmp_path: Path) -> None:
    """Open a store one revision behind head: it is copied to backups/ and then upgraded."""
    from alembic import command

    script = ScriptDirectory.from_config(migrate.alembic_config())
    revisions = [r.revision for r in script.walk_revisions()]  # newest first
    previous = revisions[1] if len(revisions) > 1 else "base"
    with Workspace.create(tmp_path / "ws", PASSPHRASE, use_keyring=False) as ws:
        with ws.engine.begin() as conn:  # type: ignore[union-attr]
            command.downgrade(migrate.alembic_config(conn), previous)
    with Workspace.open(tmp_path / "ws", PASSPHRASE) as ws, ws.engine.connect() as conn:  # type: ignore[union-attr]
        assert migrate.current_revision(conn) == script.get_current_head()
    backups = list((tmp_path / "ws" / BACKUP_DIR).glob("store-*.db"))
    # From "base" there is nothing to back up; from a real older revision there must be a copy.
    assert len(backups) == (1 if previous != "base" else 0)


def test_the_quick_head_read_from_the_files_is_alembics_head(tmp_path: Path) -> None:
    # Opening a workspace at head skips Alembic on the strength of this: they must agree.
    assert migrate.quick_head() == migrate.head_revision()
    engine = make_engine(tmp_path / "q.db", keys.new_data_key(), create=True)
    with engine.connect() as conn:
        assert migrate.stored_revision(conn) is None  # a new store: migrated the full way
    migrate.upgrade(engine, tmp_path / "q.db", backup_dir=tmp_path / "b")
    with engine.connect() as conn:
        assert migrate.stored_revision(conn) == migrate.current_revision(conn)
    engine.dispose()
