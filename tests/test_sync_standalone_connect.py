"""A workspace made on its own, then connected to the team's endpoint (Settings > Connect):
its own stand-in team is the server's team of that name, so the laptop ends up with one team,
the server's, and a verify that agrees — not a re-download on every cycle."""

from __future__ import annotations

from pathlib import Path

from sqlalchemy import select

from int_desk.services import caseload as cl
from int_desk.services.first_run import create_local_workspace
from int_desk.services.identity import current_actor
from int_desk.store import models as m
from int_desk.sync import credentials
from tests.conftest import PASSPHRASE
from tests.helpers.sync_env import Endpoint, engine


def test_a_standalone_workspace_connects_and_adopts_the_servers_team(
    sqlite_endpoint: Endpoint, tmp_path: Path
) -> None:
    ep = sqlite_endpoint
    ws = create_local_workspace(
        tmp_path / "ws", PASSPHRASE, member_name="Sam Tester", role="care_coordinator",
        team_name="Bicester INT",
    )  # fmt: skip
    try:
        credentials.connect(ws, ep.url, ep.tokens["a"])
        first = engine(ws).run()
        assert first.ok, first.error
        assert not any("mismatch" in n for n in first.notes), first.notes
        with ws.session() as s:
            teams = [(str(t.id), t.name) for t in s.scalars(select(m.Team))]
            assert (ep.teams["Bicester INT"], "Bicester INT") in teams
            assert len([t for t in teams if t[1] == "Bicester INT"]) == 1
            actor = current_actor(s)  # the local member now belongs to the server's team
            rows = cl.caseload(session=s, actor=actor, filters=cl.CaseloadFilter())
            assert rows, "the team's caseload is visible after connecting"
        second = engine(ws).run()
        assert second.ok and second.verified and not second.redownloaded, second.notes
    finally:
        ws.close()
