"""The hash-chained audit trail detects edits and deletions, and the CLI reports where."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest
from sqlalchemy import text

from int_desk.domain.vocab import AuditAction
from int_desk.store import audit
from int_desk.store.workspace import Workspace
from tests.conftest import PASSPHRASE


def _add_entries(ws: Workspace, n: int) -> None:
    with ws.session() as s:
        for i in range(n):
            audit.record(
                s, actor_id=None, action=AuditAction.READ, entity_type="patient", detail=f"n={i}"
            )


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
    assert not report.intact and report.broken_at_seq == seq
    assert report.reason == "this entry's contents were altered"


def test_deleted_entry_breaks_chain(demo_ws: Workspace) -> None:
    _add_entries(demo_ws, 5)
    with demo_ws.session() as s:
        s.execute(text("DELETE FROM audit_event WHERE seq = 3"))
    with demo_ws.session() as s:
        report = audit.verify(s)
    assert not report.intact and report.broken_at_seq == 4
    assert report.reason == "an earlier entry was removed or altered"  # what the viewer says


def test_cli_reports_intact_then_broken(demo_dir: Path) -> None:
    ok = _verify_cli(demo_dir)
    assert ok.returncode == 0, ok.stderr
    assert "intact" in ok.stdout
    with Workspace.open(demo_dir, PASSPHRASE) as ws, ws.session() as s:
        s.execute(text("UPDATE audit_event SET detail = 'tampered' WHERE seq = 1"))
    broken = _verify_cli(demo_dir)
    assert broken.returncode == 1
    assert "BROKEN at entry 1" in broken.stdout
