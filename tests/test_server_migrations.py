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


def test_patients_from_before_the_nhs_number_key_are_found_by_it_after_the_upgrade(
    tmp_path: Path,
) -> None:
    """s0005 fills ``srv_record.nhs_number`` from each patient row's data (FHIR search reads it)."""
    import json

    from sqlalchemy.orm import Session

    from int_desk.server import fhir_records as fr
    from int_desk.server.read_scope import FULL

    engine = create_engine(f"sqlite:///{tmp_path / 'old.db'}")
    team, pid, other = uuid.uuid4(), uuid.uuid4(), uuid.uuid4()
    with engine.begin() as conn:
        command.upgrade(db.alembic_config(conn), "s0004_invitations")
        for entity, rid, data in (
            ("patient", pid, {"nhs_number": "9990000018", "family_name": "Test"}),
            ("patient", other, {"nhs_number": "9990000026", "family_name": "Other"}),
            ("flag", uuid.uuid4(), {"nhs_number": "9990000018"}),  # not a patient: no key
        ):
            conn.execute(
                text("INSERT INTO srv_record (entity, id, scope, patient_id, version, deleted, "
                     "data, field_meta, updated_at) VALUES (:e, :i, :s, :p, 1, 0, :d, '{}', '')"),
                {"e": entity, "i": rid.hex, "s": str(team), "p": pid.hex, "d": json.dumps(data)},
            )  # fmt: skip
    db.upgrade(engine)
    with Session(engine) as s:
        reader = fr.StaffReader(uuid.uuid4(), (str(team),), FULL)
        found = fr.patients_by_nhs(s, reader, "9990000018")
        assert [p["id"] for p in found] == [str(pid)]
        assert fr.patients_by_nhs(s, fr.StaffReader(uuid.uuid4(), ("x",), FULL), "9990000018") == []
        keys = s.execute(text("SELECT entity, nhs_number FROM srv_record ORDER BY 2")).all()
        assert sorted(keys, key=str) == sorted(
            [("flag", None), ("patient", "9990000026"), ("patient", "9990000018")], key=str
        )
