"""The hash-chained audit trail detects edits and deletions, and the CLI reports where."""

from __future__ import annotations

import itertools
import subprocess
import sys
import uuid
from datetime import UTC, datetime
from pathlib import Path

import pytest
from sqlalchemy import select, text
from sqlalchemy.orm import Session

from int_desk.domain.actor import Actor
from int_desk.domain.vocab import AuditAction, Role
from int_desk.store import audit
from int_desk.store.models import AuditEvent
from int_desk.store.workspace import Workspace
from tests.conftest import PASSPHRASE


def _add_entries(ws: Workspace, n: int) -> None:
    with ws.session() as s:
        for i in range(n):
            audit.record(
                s, actor_id=uuid.uuid4(), action=AuditAction.READ, entity_type="patient",
                entity_id=uuid.uuid4(), patient_id=uuid.uuid4(), detail=f"n={i}",
            )  # fmt: skip


def _verify_cli(directory: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "int_desk", "audit", "verify", "--workspace", str(directory)],
        capture_output=True,
        text=True,
        env={"INT_DESK_PASSPHRASE": PASSPHRASE, "PATH": "/usr/bin:/bin"},
        timeout=60,
    )


def test_intact_chain_verifies(demo_ws: Workspace) -> None:
    _add_entries(demo_ws, 5)
    with demo_ws.session() as s:
        report = audit.verify(s)
    assert report.intact and report.entries == 6


def test_edited_entry_breaks_chain_at_that_entry(demo_ws: Workspace) -> None:
    _add_entries(demo_ws, 5)
    with demo_ws.session() as s:
        s.execute(text("UPDATE audit_event SET action = 'D' WHERE seq = 4"))
    with demo_ws.session() as s:
        report = audit.verify(s)
    assert not report.intact and report.broken_at_seq == 4


@pytest.mark.parametrize(
    ("column", "value"),
    [
        ("actor_id", "'00000000000000000000000000000001'"),  # who did it
        ("detail", "'fields=medicines'"),  # what exactly
        ("action", "'D'"),
        ("entity_type", "'care_plan'"),
        ("entity_id", "'00000000000000000000000000000002'"),
        ("patient_id", "'00000000000000000000000000000003'"),
        ("recorded_at", "'2020-01-01T00:00:00.000000+00:00'"),
        ("id", "'00000000000000000000000000000009'"),
    ],
)
def test_changing_any_recorded_fact_breaks_the_chain_there(
    demo_ws: Workspace, column: str, value: str
) -> None:
    """Who acted, on what, when and the detail are all covered by the entry's hash: rewriting
    any one of them in the stored row is reported at that entry."""
    _add_entries(demo_ws, 5)
    with demo_ws.session() as s:
        seq = s.execute(text("SELECT max(seq) - 2 FROM audit_event")).scalar_one()
        s.execute(text(f"UPDATE audit_event SET {column} = {value} WHERE seq = :seq"), {"seq": seq})
    with demo_ws.session() as s:
        report = audit.verify(s)
    assert report == audit.ChainReport(seq, False, seq, "this entry's contents were altered")


def test_deleted_entry_breaks_chain(demo_ws: Workspace) -> None:
    _add_entries(demo_ws, 5)
    with demo_ws.session() as s:
        s.execute(text("DELETE FROM audit_event WHERE seq = 3"))
    with demo_ws.session() as s:
        report = audit.verify(s)
    # Entries 1, 2 and 4 read; the viewer says an earlier entry went.
    assert report == audit.ChainReport(3, False, 4, "an earlier entry was removed or altered")


def test_cli_reports_intact_then_broken(demo_dir: Path) -> None:
    ok = _verify_cli(demo_dir)
    assert ok.returncode == 0, ok.stderr
    assert "intact" in ok.stdout
    with Workspace.open(demo_dir, PASSPHRASE) as ws, ws.session() as s:
        s.execute(text("UPDATE audit_event SET detail = 'tampered' WHERE seq = 1"))
    broken = _verify_cli(demo_dir)
    assert broken.returncode == 1
    assert "BROKEN at entry 1" in broken.stdout


def test_an_entry_keeps_who_did_what_to_which_record(demo_ws: Workspace) -> None:
    who, record, person = uuid.uuid4(), uuid.uuid4(), uuid.uuid4()
    with demo_ws.session() as s:
        audit.record(
            s, actor_id=who, action=AuditAction.UPDATE, entity_type="care_plan",
            entity_id=record, patient_id=person, detail="fields=review_date",
        )  # fmt: skip
        audit.record(s, actor_id=who, action=AuditAction.READ, entity_type="patient")
    with demo_ws.session() as s:
        last_two = s.scalars(select(AuditEvent).order_by(AuditEvent.seq.desc()).limit(2)).all()
        assert [(e.actor_id, e.action, e.entity_type, e.entity_id, e.patient_id, e.detail)
                for e in reversed(last_two)] == [
            (who, "U", "care_plan", record, person, "fields=review_date"),
            (who, "R", "patient", None, None, ""),
        ]  # fmt: skip
        assert last_two[0].prev_hash == last_two[1].hash  # chained in order
        assert audit.verify(s).intact


def test_the_hash_format_never_changes() -> None:
    """Chains already written in people's workspaces must keep verifying after an upgrade, so
    the digest of a given entry is fixed (separators, field order, None, encoding)."""
    with_ids = AuditEvent(
        id=uuid.UUID(int=1), recorded_at=datetime(2026, 11, 20, 9, 30, 0, 123456, tzinfo=UTC),
        actor_id=uuid.UUID(int=2), action="R", entity_type="patient", entity_id=uuid.UUID(int=3),
        patient_id=uuid.UUID(int=3), detail="view=record",
    )  # fmt: skip
    without = AuditEvent(
        id=uuid.UUID(int=4), recorded_at=datetime(2026, 11, 20, 9, 31, tzinfo=UTC),
        actor_id=None, action="E", entity_type="audit_export", entity_id=None, patient_id=None,
        detail="",
    )  # fmt: skip
    assert audit._digest(audit.GENESIS, with_ids) == (
        "5d24772005d66f9a0534f9a64822d94a8a50ec74e2c69d2eb30ad848930b555f"
    )
    assert audit._digest("ab" * 32, without) == (
        "d03ee2d2c7ee760aea08c3403e97dff6124d79a9109d4703103b7dd361e50fa6"
    )


def _entries(s: Session) -> list[AuditEvent]:
    return list(s.scalars(select(AuditEvent).order_by(AuditEvent.seq)))


def test_entries_written_together_chain_like_entries_written_one_by_one(
    demo_ws: Workspace,
) -> None:
    """A cohort import writes its entries in one go (``record_many``); each keeps who did what
    to which record, in order, chained on the entries before and after it."""
    who, record, person = uuid.uuid4(), uuid.uuid4(), uuid.uuid4()
    coordinator = Actor(who, Role.CARE_COORDINATOR)
    with demo_ws.session() as s:
        before = len(_entries(s))
        audit.record_by(
            s, coordinator, AuditAction.UPDATE, "member", record, patient_id=person,
            detail="active=false",
        )  # fmt: skip
        assert audit.record_many(s, []) == 0
        written = audit.record_many(
            s,
            [
                {"actor_id": who, "action": AuditAction.CREATE, "entity_type": "patient",
                 "entity_id": record, "patient_id": person, "detail": "row=2"},
                {"action": AuditAction.EXECUTE, "entity_type": "cohort"},
                {"actor_id": who, "action": AuditAction.UPDATE, "entity_type": "patient",
                 "entity_id": person, "detail": "row=3"},
            ],
        )  # fmt: skip
        assert written == 3
        audit.record_by(s, coordinator, AuditAction.READ, "patient")
    with demo_ws.session() as s:
        entries = _entries(s)
        assert len(entries) == before + 5
        new = entries[before:]
        assert [(e.actor_id, e.action, e.entity_type, e.entity_id, e.patient_id, e.detail)
                for e in new] == [
            (who, "U", "member", record, person, "active=false"),
            (who, "C", "patient", record, person, "row=2"),
            (None, "E", "cohort", None, None, ""),
            (who, "U", "patient", person, None, "row=3"),
            (who, "R", "patient", None, None, ""),
        ]  # fmt: skip
        for earlier, later in itertools.pairwise(entries[before - 1 :]):
            assert later.prev_hash == earlier.hash
            assert later.recorded_at >= earlier.recorded_at
        assert len({e.id for e in new}) == 5 and all(isinstance(e.id, uuid.UUID) for e in new)
        assert audit.verify(s) == audit.ChainReport(before + 5, True)


def test_a_new_workspaces_first_entries_written_together_start_the_chain(tmp_path: Path) -> None:
    with Workspace.create(tmp_path / "ws", PASSPHRASE, use_keyring=False) as ws:
        with ws.session() as s:
            before = _entries(s)
            audit.record_many(s, [{"action": AuditAction.EXECUTE, "entity_type": "cohort"}])
        with ws.session() as s:
            entries = _entries(s)
            assert entries[0].prev_hash == audit.GENESIS
            assert len(entries) == len(before) + 1
            assert audit.verify(s).intact
