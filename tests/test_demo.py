"""The demo workspace: deterministic, synthetic, realistic enough to work with."""

from __future__ import annotations

from datetime import date
from pathlib import Path

from sqlalchemy import func, select, text

from int_desk.domain import nhs_number
from int_desk.services.demo import build_demo
from int_desk.store.models import CarePlan, Member, Patient, Team
from int_desk.store.workspace import Workspace
from tests.conftest import PASSPHRASE

TODAY = date(2026, 11, 20)
TABLES = ("patient", "cohort_membership", "care_plan", "goal", "plan_action", "task", "contact")


def _dump(ws: Workspace) -> dict[str, list[tuple]]:
    with ws.session() as s:
        return {t: s.execute(text(f"SELECT * FROM {t} ORDER BY id")).all() for t in TABLES}


def _build(directory: Path, seed: int) -> dict[str, list[tuple]]:
    with Workspace.create(directory, PASSPHRASE, use_keyring=False) as ws:
        with ws.session() as s:
            build_demo(s, patients=120, seed=seed, today=TODAY)
        return _dump(ws)


def test_same_seed_same_workspace(tmp_path: Path) -> None:
    a = _build(tmp_path / "a", seed=11)
    b = _build(tmp_path / "b", seed=11)
    c = _build(tmp_path / "c", seed=12)
    assert a == b
    assert a["patient"] != c["patient"]


def test_demo_is_synthetic_and_realistic(demo_ws: Workspace) -> None:
    with demo_ws.session() as s:
        numbers = s.scalars(select(Patient.nhs_number)).all()
        assert len(numbers) == len(set(numbers)) == 300
        assert all(n.startswith("999") and nhs_number.is_valid(n) for n in numbers)
        names = {f"{p.given_name} {p.family_name}" for p in s.scalars(select(Patient))}
        assert any(not n.isascii() for n in names), "needs non-ASCII names such as Zoë"
        ages = [(TODAY - p.date_of_birth).days // 365 for p in s.scalars(select(Patient))]
        assert sorted(ages)[len(ages) // 2] >= 70, "cohort should be skewed elderly"
        statuses = set(s.scalars(select(CarePlan.status)))
        assert statuses >= {"draft", "active", "superseded"}
        assert s.scalar(select(func.count()).select_from(Team)) == 3
        roles = set(s.scalars(select(Member.role)))
        assert {"clinical_lead", "district_nurse", "care_coordinator", "vcse_worker"} <= roles
