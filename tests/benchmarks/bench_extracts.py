"""A 50,000-row EMIS Web report into a team's empty cohort: preview, import, peak memory.

The extract is written as EMIS Web writes it (title, run date and population lines above the
header, every cell quoted, UTF-8 with BOM, CRLF, dd-Mmm-yyyy dates, a total at the foot), for
a hand-built team with its GP practices, in a real encrypted workspace.

    .venv/bin/python -m tests.benchmarks extracts

Preview = reading the file + header recognition + ``build_preview`` (every row classified
against the store). Import = ``apply_import`` in one transaction, committed, with the caseload
index in place (as in a workspace whose caseload has been opened: its triggers note each
written person). Then the caseload index brought up to date once, as the next caseload query
does. Peak RSS is the process's high-water mark after all three (run this area alone: an
earlier benchmark in the same process would raise it).
"""

from __future__ import annotations

import random
import sys
import time
from datetime import date, timedelta
from pathlib import Path

from int_desk.domain import nhs_number
from int_desk.domain.vocab import OrganisationKind, Role
from int_desk.services import cohort_import as ci
from int_desk.services.identity import current_actor, set_current_member
from int_desk.store import caseload_index
from int_desk.store import models as m
from int_desk.store.workspace import Workspace
from tests.benchmarks.harness import PASSPHRASE, Figure, scratch_dir

ROWS = 50_000
PRACTICES = [f"Y9{n:04d}" for n in range(12)]
GIVEN = ["Siobhán", "Hamish", "Amélie", "Łukasz", "Zoë", "Priya", "Ann", "Kwame", "Mary", "Jan"]
FAMILY = [
    "O'Brien",
    "McDonald",
    "Lefèvre",
    "Nowak",
    "Adeyemi",
    "Raman",
    "Smith-Jones",
    "Ní Bhriain",
]


def write_emis_extract(path: Path, rows: int = ROWS, seed: int = 1) -> None:
    rng = random.Random(seed)
    lines = [
        '"Frailty - moderate and severe (synthetic benchmark)"',
        '"Run Date: 10-Jan-2026 09:15"',
        f'"Population Count: {rows} (Parent Population: Registered patients)"',
        '"NHS Number","Surname","Forename","Date of Birth","Postcode","Practice Code","Risk Score"',
    ]
    middles = rng.sample(range(1_000_000), rows * 2)
    numbers = (n for n in (nhs_number.complete(f"999{x:06d}") for x in middles) if n)
    numbers = (n for n in numbers if not nhs_number.placeholder_reason(n))
    for _ in range(rows):
        nhs = next(numbers)
        dob = date(1925, 1, 1) + timedelta(days=rng.randrange(365 * 50))
        lines.append(
            f'"{nhs[:3]} {nhs[3:6]} {nhs[6:]}","{rng.choice(FAMILY)}","{rng.choice(GIVEN)}",'
            f'"{dob:%d-%b-%Y}","OX{rng.randint(1, 29)} {rng.randint(1, 9)}AB",'
            f'"{rng.choice(PRACTICES)}","{rng.random():.2f}"'
        )
    lines += [f'"Total: {rows} patients"', ""]
    path.write_bytes("\r\n".join(lines).encode("utf-8-sig"))


def _team_workspace(directory: Path) -> None:
    with Workspace.create(directory, PASSPHRASE, use_keyring=False) as ws, ws.session() as s:
        place = m.Place(name="North Oxfordshire")
        s.add(place)
        s.flush()
        team = m.Team(name="Banbury INT", place_id=place.id, neighbourhood="Banbury PCN")
        s.add(team)
        s.flush()
        s.add(m.Cohort(team_id=team.id, name="Frailty"))
        for code in PRACTICES:
            s.add(m.Organisation(name=f"Surgery {code}", code=code, place_id=place.id,
                                 kind=OrganisationKind.GP_PRACTICE.value))  # fmt: skip
        member = m.Member(name="Dana Carrow", role=Role.CARE_COORDINATOR.value)
        s.add(member)
        s.flush()
        s.add(m.TeamMembership(team_id=team.id, member_id=member.id))
        set_current_member(s, member.id)


def peak_rss_mib() -> float:
    try:
        import resource
    except ImportError:  # Windows: no resource module
        return float("nan")
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    return peak / (1024 * 1024) if sys.platform == "darwin" else peak / 1024


def run() -> list[Figure]:
    work = scratch_dir("extracts")
    extract = work / "emis_50000.csv"
    write_emis_extract(extract)
    _team_workspace(work / "ws")
    with Workspace.open(work / "ws", PASSPHRASE, use_keyring=False) as ws:
        with ws.session() as s:
            caseload_index.refresh_index(s)  # the caseload was opened before: its index exists
        with ws.session() as s:
            cohort = ci_cohort(s)
            start, cpu = time.perf_counter(), time.process_time()
            table = ci.read_csv(extract)
            mapping = ci.auto_mapping(table.headers)
            preview = ci.build_preview(
                session=s, actor=current_actor(s), cohort_id=cohort, table=table, mapping=mapping
            )
            preview_s, preview_cpu = time.perf_counter() - start, time.process_time() - cpu
        assert preview.count(ci.NEW) == ROWS, preview.report_lines()[:5]
        assert preview.found().startswith("EMIS Web report: 3 lines above the header skipped")
        start, cpu = time.perf_counter(), time.process_time()
        with ws.session() as s:
            result = ci.apply_import(session=s, actor=current_actor(s), preview=preview)
        import_s, import_cpu = time.perf_counter() - start, time.process_time() - cpu
        assert result.created_patients == ROWS
        start, cpu = time.perf_counter(), time.process_time()
        with ws.session() as s:
            caseload_index.refresh_index(s)
        index_s, index_cpu = time.perf_counter() - start, time.process_time() - cpu
    rss = peak_rss_mib()
    note = f"{ROWS:,} rows, {extract.stat().st_size / 1e6:.1f} MB"
    # Both steps are single-threaded: on a busy shared machine wall time is mostly waiting for a
    # core, so the CPU time is reported too (on an idle machine the two are close).
    return [
        Figure("extract 50k EMIS rows: preview", preview_s, "s", 5.0, note=note),
        Figure("extract 50k EMIS rows: preview, CPU time", preview_cpu, "s", 5.0),
        Figure("extract 50k EMIS rows: import (one transaction)", import_s, "s", 15.0),
        Figure("extract 50k EMIS rows: import, CPU time", import_cpu, "s", 15.0),
        Figure("extract 50k EMIS rows: then the caseload index, once", index_s, "s"),
        Figure("extract 50k EMIS rows: then the caseload index, CPU time", index_cpu, "s"),
        Figure("extract 50k EMIS rows: peak RSS", rss, "MiB", 400.0),
    ]


def ci_cohort(s: object) -> object:
    from sqlalchemy import select

    return s.scalars(select(m.Cohort.id)).one()  # type: ignore[attr-defined]
