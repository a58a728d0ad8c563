"""The INT scorecard over 50,000 people and two years of events (target < 500 ms), and its PDF
(target < 2 s: working it out, drawing seven charts, writing the file)."""

from __future__ import annotations

import os
import time

from int_desk.domain.uk_time import london_today
from tests.benchmarks.harness import (
    PASSPHRASE,
    Figure,
    demo_workspace,
    median_p95,
    scratch_dir,
)

PATIENTS = 50_000
RUNS = 7


def _load() -> str:
    load = os.getloadavg()[0] if hasattr(os, "getloadavg") else float("nan")
    return f"load avg {load:.1f} on {os.cpu_count()} cores"


def run() -> list[Figure]:
    from sqlalchemy import func, select

    from int_desk.domain.scorecard import Breakdown, Grain, ScorecardQuery, default_range
    from int_desk.services import scorecard as service
    from int_desk.services import scorecard_export
    from int_desk.services.identity import current_actor
    from int_desk.store.models import HealthEvent, Team
    from int_desk.store.workspace import Workspace

    directory = demo_workspace(PATIENTS)
    out = scratch_dir("scorecard") / "scorecard.pdf"
    figures: list[Figure] = []
    with Workspace.open(directory, PASSPHRASE, use_keyring=False) as ws:
        with ws.session() as s:
            actor = current_actor(s)
            teams = tuple(s.scalars(select(Team.id)))
            events = s.scalar(select(func.count()).select_from(HealthEvent))
            start, end = default_range(london_today())
            cases = (
                ("monthly", ScorecardQuery(start=start, end=end, team_ids=teams), 500.0),
                ("monthly, by deprivation", ScorecardQuery(
                    start=start, end=end, team_ids=teams, by=Breakdown.DEPRIVATION), None),
                ("weekly", ScorecardQuery(start=start, end=end, team_ids=teams,
                                          grain=Grain.WEEK), None),
            )  # fmt: skip
            for label, query, target in cases:
                samples, cpu = [], []
                for i in range(RUNS + 1):
                    t, c = time.perf_counter(), time.process_time()
                    card = service.compute(s, team_ids=teams, query=query)
                    if i:  # the first run warms the page cache
                        samples.append(time.perf_counter() - t)
                        cpu.append(time.process_time() - c)
                med, p95 = median_p95(samples)
                cpu_med, _ = median_p95(cpu)
                figures.append(
                    Figure(
                        f"scorecard: 50k people, 2 years, {label}",
                        med * 1000,
                        "ms",
                        target=target,
                        note=(
                            f"p95 {p95 * 1000:.0f} ms, CPU {cpu_med * 1000:.0f} ms, "
                            f"{card.people_now:,} people now, {events:,} hospital events, "
                            f"{_load()}"
                        ),
                    )
                )
            samples, cpu = [], []
            query = ScorecardQuery(start=start, end=end, team_ids=teams, by=Breakdown.TEAM)
            for _ in range(3):
                t, c = time.perf_counter(), time.process_time()
                card = service.compute(s, team_ids=teams, query=query)
                scorecard_export.export_pdf(session=s, actor=actor, card=card, path=out)
                samples.append(time.perf_counter() - t)
                cpu.append(time.process_time() - c)
            med, p95 = median_p95(samples)
            cpu_med, _ = median_p95(cpu)
            figures.append(
                Figure(
                    "scorecard: PDF over 50k people (work out, draw, write)",
                    med * 1000,
                    "ms",
                    target=2000,
                    note=(
                        f"p95 {p95 * 1000:.0f} ms, CPU {cpu_med * 1000:.0f} ms, by team, "
                        f"{out.stat().st_size // 1024} KB, {_load()}"
                    ),
                )
            )
    return figures
