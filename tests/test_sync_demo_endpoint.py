"""The embedded default: ``int-desk --demo`` serves a local endpoint seeded from the demo."""

from __future__ import annotations

from pathlib import Path

from sqlalchemy import func, select

from int_desk.local_endpoint import start_demo_endpoint
from int_desk.store import models as m
from int_desk.store.workspace import Workspace
from int_desk.sync.client import sync_workspace


def test_the_demo_syncs_out_of_the_box_with_its_local_endpoint(demo_ws: Workspace) -> None:
    with demo_ws.session() as s:
        before = s.scalar(select(func.count()).select_from(m.Patient))
        pid = s.scalars(select(m.Patient.id).order_by(m.Patient.id)).first()
    endpoint = start_demo_endpoint(demo_ws)
    try:
        first = sync_workspace(demo_ws, timeout=10)
        assert first.ok and first.verified, first.error
        with demo_ws.session() as s:  # every team's patients stay: the demo user is in all
            assert s.scalar(select(func.count()).select_from(m.Patient)) == before
            s.get(m.Patient, pid).phone = "01632 777777"
        second = sync_workspace(demo_ws, timeout=10)
        assert second.ok and second.pushed == 1 and second.pending == 0
    finally:
        endpoint.stop()
    # Next start: same database, same token, a new port.
    again = start_demo_endpoint(demo_ws)
    try:
        third = sync_workspace(demo_ws, timeout=10)
        assert third.ok and third.verified and not third.redownloaded
    finally:
        again.stop()
    assert (Path(demo_ws.directory).parent / "demo-endpoint.db").exists()
