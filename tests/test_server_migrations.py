"""The endpoint's own Alembic chain: one head, upgrade from empty equals its models, and an
endpoint from before login kinds keeps its people and tokens (they get the default lifetime)."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta
from pathlib import Path

from alembic import command
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import create_engine, text

from int_desk.server import db
from int_desk.server.models import ServerBase


def test_server_chain_is_linear_with_one_head() -> None:
    script = ScriptDirectory.from_config(db.alembic_config())
    assert len(script.get_heads()) == 1
    revisions = list(script.walk_revisions())
    assert revisions[-1].down_revision is None
    for newer, older in zip(revisions, revisions[1:], strict=False):
        assert newer.down_revision == older.revision


def test_server_upgrade_from_empty_matches_models(tmp_path: Path) -> None:
    engine = db.make_engine(str(tmp_path / "srv.db"))
    db.upgrade(engine)
    with engine.connect() as conn:
        ctx = MigrationContext.configure(conn, opts={"compare_type": True})
        diff = compare_metadata(ctx, ServerBase.metadata)
    version_table = ("remove_table", "srv_alembic_version")
    assert [d for d in diff if (d[0], getattr(d[1], "name", "")) != version_table] == []


def test_logins_and_tokens_from_before_login_kinds_survive_the_upgrade(tmp_path: Path) -> None:
    engine = create_engine(f"sqlite:///{tmp_path / 'old.db'}")
    with engine.begin() as conn:
        command.upgrade(db.alembic_config(conn), "s0001_server_initial")
        uid, tid = uuid.uuid4().hex, uuid.uuid4().hex
        conn.execute(
            text("INSERT INTO srv_user (id, name, member_id, active, created_at) "
                 "VALUES (:i, 'nurse', :m, 1, '2026-01-01')"),
            {"i": uid, "m": uuid.uuid4().hex},
        )  # fmt: skip
        conn.execute(
            text("INSERT INTO srv_device_token (id, user_id, label, token_hash, created_at) "
                 "VALUES (:t, :u, '', 'h', '2025-01-01')"),
            {"t": tid, "u": uid},
        )  # fmt: skip
    db.upgrade(engine)
    with engine.connect() as conn:
        kind = conn.execute(text("SELECT kind FROM srv_user")).scalar()
        expires = conn.execute(text("SELECT expires_at FROM srv_device_token")).scalar()
    assert kind == "person"
    # A token older than the lifetime is not expired by the upgrade itself.
    assert datetime.fromisoformat(expires) > datetime.now(UTC) + timedelta(days=80)
