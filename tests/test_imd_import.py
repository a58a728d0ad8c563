"""The cohort import recognises an IMD decile or quintile column and records it on the person,
so the scorecard can break measures down by deprivation; people without one stay 'not known'."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import select

from int_desk.domain.nhs_number import format_nhs
from int_desk.domain.scorecard import Breakdown, ScorecardQuery
from int_desk.services import cohort_import as ci
from int_desk.services import scorecard
from int_desk.services.cohort_rows import parse_imd
from int_desk.services.identity import current_actor
from int_desk.store import models as m
from tests.helpers.scorecard_world import START, TODAY, ScorecardWorld, build_scorecard_world


@pytest.fixture
def world(tmp_path: Path) -> Iterator[ScorecardWorld]:
    w = build_scorecard_world(tmp_path / "ws")
    yield w
    w.ws.close()


def _nhs(world: ScorecardWorld, key: str) -> str:
    with world.ws.session() as s:
        p = s.get(m.Patient, world.people[key])
        assert p is not None
        return format_nhs(p.nhs_number)


def _import(world: ScorecardWorld, text: str) -> ci.ImportPreview:
    table = ci.read_csv(text.encode("utf-8"), name="phm.csv")
    with world.ws.session() as s:
        actor = current_actor(s)
        preview = ci.build_preview(
            session=s, actor=actor, cohort_id=world.post_discharge_id, table=table,
            mapping=ci.auto_mapping(table.headers), today=TODAY,
        )  # fmt: skip
        ci.apply_import(session=s, actor=actor, preview=preview)
    return preview


def _deprivation(world: ScorecardWorld, key: str) -> tuple[int | None, int | None]:
    with world.ws.session() as s:
        p = s.get(m.Patient, world.people[key])
        assert p is not None
        return p.deprivation_decile, p.deprivation_quintile


@pytest.mark.parametrize(
    ("raw", "top", "value"),
    [("3", 10, 3), ("10", 10, 10), ("Q2", 5, 2), ("Decile 7", 10, 7), ("1 (most deprived)", 10, 1),
     ("4.0", 5, 4)],
)  # fmt: skip
def test_imd_values(raw: str, top: int, value: int) -> None:
    assert parse_imd(raw, top) == value


@pytest.mark.parametrize(
    ("raw", "top"), [("11", 10), ("0", 10), ("6", 5), ("high", 10), ("3.5", 10)]
)
def test_bad_imd_values(raw: str, top: int) -> None:
    with pytest.raises(ValueError):
        parse_imd(raw, top)


def test_a_decile_column_is_recognised_and_recorded(world: ScorecardWorld) -> None:
    c, d = _nhs(world, "C"), _nhs(world, "D")
    preview = _import(
        world,
        "NHS Number,Forename,Surname,DOB,IMD Decile\n"
        f"{c},PersonC,Test,01/01/1962,2\n"  # C has none on record: recorded
        f"{d},PersonD,Test,01/01/1945,10\n"  # D's matches the record: unchanged
        "999 999 9999,Ann,Other,01/01/1950,11\n",  # not a decile (and a placeholder number)
    )
    assert preview.mapping["IMD Decile"] == "imd_decile"
    status = {r.line: r.status for r in preview.rows}
    assert status[2] == ci.UPDATE and status[3] == ci.UNCHANGED and status[4] == ci.REJECTED
    assert "IMD decile must be a whole number from 1 (most deprived) to 10" in "; ".join(
        preview.rows[2].problems
    )
    assert _deprivation(world, "C") == (2, None)
    with world.ws.session() as s:
        audited = s.scalars(
            select(m.AuditEvent.detail).where(m.AuditEvent.entity_type == "patient")
        ).all()
    assert "source=phm_import fields=deprivation_decile" in audited
    card = _card(world)
    labels = [g.label for g in card.measure("plan_coverage").groups]
    assert "Not known" not in labels and "1 (most deprived)" in labels


def test_a_quintile_column_alone(world: ScorecardWorld) -> None:
    c, a = _nhs(world, "C"), _nhs(world, "A")
    _import(
        world,
        "NHS Number,Forename,Surname,DOB,IMD quintile\n"
        f"{c},PersonC,Test,01/01/1962,Q4\n{a},PersonA,Test,01/06/1940,1\n",
    )
    assert _deprivation(world, "C") == (None, 4)
    assert _deprivation(world, "A") == (1, None)  # decile 1 is quintile 1: kept as it was
    cells = {g.label: g.total for g in _card(world).measure("plan_coverage").groups}
    assert cells["4"].denominator == 1  # C, on 20 Mar


def test_no_column_changes_nothing(world: ScorecardWorld) -> None:
    c = _nhs(world, "C")
    preview = _import(world, f"NHS Number,Forename,Surname,DOB\n{c},PersonC,Test,01/01/1962\n")
    assert preview.rows[0].status == ci.UNCHANGED
    assert _deprivation(world, "C") == (None, None)
    labels = [g.label for g in _card(world).measure("plan_coverage").groups]
    assert labels[-1] == "Not known"  # kept, not dropped


def _card(world: ScorecardWorld) -> scorecard.Scorecard:
    with world.ws.session() as s:
        return scorecard.scorecard(
            session=s, actor=current_actor(s), today=TODAY,
            query=ScorecardQuery(start=START, end=TODAY, by=Breakdown.DEPRIVATION),
        )  # fmt: skip
