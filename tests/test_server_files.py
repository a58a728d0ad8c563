"""The endpoint's SQLite file and its WAL/SHM are the owner's only (they hold identifiers)."""

from __future__ import annotations

import os
import stat
from pathlib import Path

import pytest

from int_desk.server import admin, db

pytestmark = pytest.mark.skipif(os.name == "nt", reason="POSIX permissions (Windows uses ACLs)")


def _mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


def test_a_new_endpoint_database_and_its_wal_are_owner_only(tmp_path: Path) -> None:
    old = os.umask(0o022)  # the usual umask, which made them 0644
    try:
        path = tmp_path / "srv.db"
        engine, factory = db.open_db(str(path))
        with factory.begin() as s:
            admin.add_team(s, "Bicester INT")
        files = [p for p in tmp_path.iterdir() if p.name.startswith("srv.db")]
        assert {p.name for p in files} >= {"srv.db", "srv.db-wal", "srv.db-shm"}
        assert all(_mode(p) == 0o600 for p in files), {p.name: oct(_mode(p)) for p in files}
        engine.dispose()
    finally:
        os.umask(old)


def test_an_existing_readable_database_is_made_owner_only_when_opened(tmp_path: Path) -> None:
    path = tmp_path / "srv.db"
    engine, _factory = db.open_db(str(path))
    engine.dispose()
    for p in tmp_path.iterdir():
        os.chmod(p, 0o644)
    engine, _factory = db.open_db(f"sqlite:///{path}")
    assert all(_mode(p) == 0o600 for p in tmp_path.iterdir() if p.name.startswith("srv.db"))
    engine.dispose()
