"""The Place-level scorecard from the endpoint's records: the same figures as the team's own
workspace, aggregates only, counts under 5 suppressed."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import pytest

from int_desk.cli import main as cli_main
from int_desk.domain.errors import NotFound
from int_desk.domain.scorecard import Breakdown, ScorecardQuery
from int_desk.server import admin, db
from int_desk.server.place_scorecard import place_scorecard
from int_desk.services import scorecard as service
from int_desk.services import scorecard_export
from int_desk.sync.seed_source import WorkspaceRows
from tests.helpers.scorecard_world import (
    START,
    TODAY,
    ScorecardWorld,
    build_scorecard_world,
)

QUERY = ScorecardQuery(start=START, end=TODAY, by=Breakdown.DEPRIVATION)


@pytest.fixture
def seeded(tmp_path: Path) -> Iterator[tuple[ScorecardWorld, str]]:
    world = build_scorecard_world(tmp_path / "ws")
    url = db.normalise_url(str(tmp_path / "endpoint.db"))
    engine, factory = db.open_db(url, pool_size=1)
    with world.ws.session() as wss, factory.begin() as s:
        admin.seed_from_workspace(s, WorkspaceRows(wss))
    engine.dispose()
    yield world, url
    world.ws.close()


def _endpoint(url: str):  # type: ignore[no-untyped-def]
    _engine, factory = db.open_db(url, pool_size=1)
    return factory.begin()


def test_same_figures_as_the_teams_workspace(seeded: tuple[ScorecardWorld, str]) -> None:
    world, url = seeded
    with _endpoint(url) as s:
        place = place_scorecard(s, teams=["Kidlington INT"], query=QUERY, today=TODAY,
                                suppress=False)  # fmt: skip
    with world.ws.session() as s:
        own = service.compute(s, team_ids=[world.team_id], query=QUERY, today=TODAY)
    for mine, theirs in zip(own.measures, place.measures, strict=True):
        assert [c.value for c in theirs.overall.series] == [c.value for c in mine.overall.series]
        assert [(g.label, g.total.value) for g in theirs.groups] == [
            (g.label, g.total.value) for g in mine.groups
        ]
    assert place.people_now == own.people_now == 3


def test_counts_under_five_are_suppressed(seeded: tuple[ScorecardWorld, str]) -> None:
    _world, url = seeded
    with _endpoint(url) as s:
        card = place_scorecard(s, query=QUERY, today=TODAY)
    assert card.suppressed and card.team_names == ["Kidlington INT", "Witney INT"]
    for mr in card.measures:
        for g in [mr.overall, *mr.groups]:
            for cell in [*g.series, g.total]:
                shown = [c for c in (cell.numerator, cell.denominator) if c is not None]
                if mr.key == "people_discussed":
                    shown = [cell.numerator] if cell.numerator is not None else []
                if mr.key == "escalation_days":
                    shown = [cell.denominator] if cell.denominator is not None else []
                assert cell.suppressed or all(c >= 5 for c in shown), (mr.key, g.label, cell)
    adm = card.measure("emergency_admissions").overall.total  # 4 admissions: suppressed
    assert adm.suppressed and adm.value is None
    text = scorecard_export.csv_text(card)
    assert "*" in text
    assert "PersonA" not in text and "999" not in text  # aggregates, never a person


def test_admin_cli(
    seeded: tuple[ScorecardWorld, str],
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
) -> None:
    _world, url = seeded
    args = ["admin", "--db", url, "scorecard", "--from", "2026-01-01", "--to", "2026-03-20"]
    assert cli_main([*args, "--format", "json"]) == 0
    doc = json.loads(capsys.readouterr().out)
    assert doc["by"] == "team" and doc["suppressed_under"] == 5
    adm = next(m for m in doc["measures"] if m["measure"] == "emergency_admissions")
    assert adm["total"] == {"suppressed": True}
    assert [g["group"] for g in adm["groups"]] == ["Kidlington INT", "Witney INT"]
    out = tmp_path / "place.pdf"
    assert cli_main([*args, "--out", str(out)]) == 0
    assert out.read_bytes().startswith(b"%PDF")
    assert cli_main([*args, "--team", "Nowhere INT"]) == 2
    assert "No team 'Nowhere INT'" in capsys.readouterr().err


def test_a_team_with_nothing_synced_says_so(tmp_path: Path) -> None:
    url = db.normalise_url(str(tmp_path / "endpoint.db"))
    with _endpoint(url) as s:
        with pytest.raises(NotFound, match="no teams"):
            place_scorecard(s, query=QUERY, today=TODAY)
        admin.add_team(s, "Empty INT")
        with pytest.raises(NotFound, match="no records yet"):
            place_scorecard(s, query=QUERY, today=TODAY)


def test_place_copy_is_memory_only(seeded: tuple[ScorecardWorld, str], tmp_path: Path) -> None:
    """Nothing of the copy reaches the disk: no new files beside the endpoint or in tmp."""
    _world, url = seeded
    before = {p for p in tmp_path.rglob("*")}
    with _endpoint(url) as s:
        place_scorecard(s, query=QUERY, today=TODAY)
    after = {p for p in tmp_path.rglob("*")}
    assert after - before <= {tmp_path / "endpoint.db-wal", tmp_path / "endpoint.db-shm"}
