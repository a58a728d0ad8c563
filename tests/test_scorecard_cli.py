"""``int-desk scorecard`` on the hand-built team: table, CSV, JSON, the PDF, and clear errors."""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Iterator
from pathlib import Path

import pypdf
import pytest

from int_desk.cli import main as cli_main
from tests.helpers.scorecard_world import PASSPHRASE, ScorecardWorld, build_scorecard_world

RANGE = ["--from", "2026-01-01", "--to", "2026-03-20"]


@pytest.fixture
def world(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[ScorecardWorld]:
    w = build_scorecard_world(tmp_path / "ws")
    w.ws.close()
    monkeypatch.setenv("INT_DESK_PASSPHRASE", PASSPHRASE)
    yield w


def run(world: ScorecardWorld, *args: str) -> int:
    return cli_main(["scorecard", "--workspace", str(world.ws.directory), *RANGE, *args])


def test_table(world: ScorecardWorld, capsys: pytest.CaptureFixture[str]) -> None:
    assert run(world, "--by", "deprivation") == 0
    out = capsys.readouterr().out
    assert "INT scorecard: Kidlington INT" in out
    assert "1 Jan 2026 to 20 Mar 2026, by month; 3 people in the cohort now" in out
    # 3 admissions over 236 person-days: 3 / (236 / 30.4375) * 1000 = 386.9
    assert "386.9 per 1,000 per month" in out
    assert "Not known" in out.split("By deprivation quintile (IMD):")[1]


def test_json_and_csv(world: ScorecardWorld, capsys: pytest.CaptureFixture[str]) -> None:
    assert run(world, "--format", "json") == 0
    doc = json.loads(capsys.readouterr().out)
    measures = {m["measure"]: m for m in doc["measures"]}
    assert measures["emergency_admissions"]["total"]["numerator"] == 3
    assert [s["numerator"] for s in measures["readmissions"]["series"]] == [1, 0, 0]
    assert measures["escalation_days"]["total"]["value"] == pytest.approx(8)
    assert doc["people_now"] == 3 and doc["open_escalations"] == 1

    assert run(world, "--format", "csv", "--weekly") == 0
    rows = list(csv.DictReader(io.StringIO(capsys.readouterr().out)))
    weekly = [r for r in rows if r["measure"] == "people_discussed" and r["period"] != "total"]
    assert weekly[0]["period_start"] == "2026-01-01" and weekly[1]["period_start"] == "2026-01-05"


def test_pdf_out(world: ScorecardWorld, tmp_path: Path) -> None:
    out = tmp_path / "scorecard.pdf"
    assert run(world, "--out", str(out), "--by", "age") == 0
    text = " ".join(" ".join(p.extract_text() for p in pypdf.PdfReader(out).pages).split())
    assert "INT scorecard" in text and "Kidlington INT" in text
    assert "By age band" in text and "85 and over" in text


def test_errors(world: ScorecardWorld, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert cli_main(["scorecard", "--workspace", str(world.ws.directory),
                     "--from", "2026-03-01", "--to", "2026-01-01"]) == 2  # fmt: skip
    assert "--to is before --from" in capsys.readouterr().err
    assert run(world, "--team", "Witney INT") == 2  # not the coordinator's team
    assert "No team called 'Witney INT'" in capsys.readouterr().err
    assert run(world, "--out", str(tmp_path / "scorecard.txt")) == 2
    assert not (tmp_path / "scorecard.txt").exists()
    with pytest.raises(SystemExit):
        run(world, "--by", "postcode")
