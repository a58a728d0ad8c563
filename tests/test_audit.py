"""The hash-chained audit trail detects edits and deletions, and the CLI reports where."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

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


def test_deleted_entry_breaks_chain(demo_ws: Workspace) -> None:
    _add_entries(demo_ws, 5)
    with demo_ws.session() as s:
        s.execute(text("DELETE FROM audit_event WHERE seq = 3"))
    with demo_ws.session() as s:
        report = audit.verify(s)
    assert not report.intact and report.broken_at_seq == 4


def test_cli_reports_intact_then_broken(demo_dir: Path) -> None:
    ok = _verify_cli(demo_dir)
    assert ok.returncode == 0, ok.stderr
    assert "intact" in ok.stdout
    with Workspace.open(demo_dir, PASSPHRASE) as ws, ws.session() as s:
        s.execute(text("UPDATE audit_event SET detail = 'tampered' WHERE seq = 1"))
    broken = _verify_cli(demo_dir)
    assert broken.returncode == 1
    assert "BROKEN at entry 1" in broken.stdout
