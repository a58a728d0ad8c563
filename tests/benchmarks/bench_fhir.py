"""FHIR R4: bulk export (the read API: bench_fhir_api.py; ``fhir`` runs both).

Export of 10,000+ care plans as Bulk Data NDJSON (``export_group`` for one team, every resource
of each person, audit entries included): seconds, wall clock and CPU. The demo's cohorts are
moved into one team so one export holds them all.
"""

from __future__ import annotations

import shutil
import time

from sqlalchemy import func, update

from tests.benchmarks.harness import PASSPHRASE, Figure, demo_workspace, scratch_dir

EXPORT_PATIENTS = 18_000  # about 10,000 people with a signed-off, shareable plan
TARGET_PLANS = 10_000


def _export() -> Figure:
    from int_desk.services import fhir_export
    from int_desk.services.identity import current_actor
    from int_desk.store import models as m
    from int_desk.store.workspace import Workspace

    source = demo_workspace(EXPORT_PATIENTS)
    directory = scratch_dir("fhir-export") / "ws"
    shutil.copytree(source, directory)
    with Workspace.open(directory, PASSPHRASE, use_keyring=False) as ws:
        with ws.session() as s:
            team = next(iter(current_actor(s).team_ids))
            s.execute(
                update(m.Cohort).values(
                    name=m.Cohort.name + " " + func.substr(func.hex(m.Cohort.team_id), 1, 6),
                    team_id=team,
                )
            )
        out = scratch_dir("fhir-ndjson")
        with ws.session() as s:
            actor = current_actor(s)
            start, cpu = time.perf_counter(), time.process_time()
            result = fhir_export.export_group(session=s, actor=actor, team_id=team, out_dir=out)
        seconds, cpu = time.perf_counter() - start, time.process_time() - cpu
    shutil.rmtree(directory.parent, ignore_errors=True)
    shutil.rmtree(out, ignore_errors=True)
    return Figure(
        f"FHIR export: {result.people:,} care plans as NDJSON (one team)",
        seconds,
        "s",
        target=20.0,
        note=(
            f"CPU {cpu:.1f} s; {sum(result.files.values()):,} resources; "
            f"{result.skipped_no_consent:,} without "
            f"consent left out" + ("" if result.people >= TARGET_PLANS else "; FEWER than 10,000")
        ),
    )


def run() -> list[Figure]:
    return [_export()]
