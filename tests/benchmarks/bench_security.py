"""Security costs on a 20,000-patient demo: unlock after auto-lock, scoped queries, audited
reads and denials, and verifying the audit chain.

Targets: unlock within 1.5 s of pressing Unlock; opening a record (scope check + audited view)
within 100 ms at p95, the threshold for feeling instant; a year of a team's audit entries
(~100,000) verified within 10 s."""

from __future__ import annotations

from sqlalchemy import func, select

from int_desk.domain.errors import PermissionDenied
from int_desk.domain.permissions import Permission
from int_desk.domain.vocab import Role
from int_desk.services import access
from int_desk.services.identity import actor_for
from int_desk.store import audit
from int_desk.store.models import AuditEvent, Member, Patient, Referral
from int_desk.store.workspace import Workspace
from tests.benchmarks.harness import PASSPHRASE, Figure, demo_workspace, median_p95, timed

PATIENTS = 20_000


def _actor(s, role: Role):  # type: ignore[no-untyped-def]
    if role is Role.VCSE_WORKER:
        mid = s.scalar(
            select(Referral.to_member_id)
            .where(Referral.to_member_id.is_not(None))
            .group_by(Referral.to_member_id)
            .order_by(func.count().desc())
            .limit(1)
        )
    else:
        mid = s.scalar(select(Member.id).where(Member.role == role.value).limit(1))
    return actor_for(s, mid)


def run() -> list[Figure]:
    directory = demo_workspace(PATIENTS)
    figures: list[Figure] = []

    unlock = []
    for _ in range(5):
        ws = Workspace.open(directory, PASSPHRASE, use_keyring=False)
        ws.close()  # what auto-lock does
        unlock.append(
            timed(lambda: Workspace.open(directory, PASSPHRASE, use_keyring=False).close())
        )
    med, _p95 = median_p95(unlock)
    figures.append(Figure("unlock after auto-lock (passphrase, scrypt)", med * 1000, "ms", 1500))

    with Workspace.open(directory, PASSPHRASE, use_keyring=False) as ws:
        with ws.session() as s:
            coordinator = _actor(s, Role.CARE_COORDINATOR)
            vcse = _actor(s, Role.VCSE_WORKER)
        for label, actor in (("care coordinator", coordinator), ("VCSE worker", vcse)):
            samples = []
            for _ in range(7):
                with ws.session() as s:
                    q = (
                        select(func.count())
                        .select_from(Patient)
                        .where(access.visible_patient_filter(actor))
                    )
                    samples.append(timed(lambda q=q, s=s: s.scalar(q)))
            med, _p95 = median_p95(samples)
            figures.append(Figure(f"scoped patient count ({label})", med * 1000, "ms", 100))

        with ws.session() as s:
            pids = list(
                s.scalars(
                    select(Patient.id).where(access.visible_patient_filter(coordinator)).limit(200)
                )
            )
        samples = []
        with ws.session() as s:
            for pid in pids:
                samples.append(
                    timed(lambda pid=pid: access.get_patient(s, coordinator, pid, view=True))
                )
        med, p95 = median_p95(samples)
        figures.append(
            Figure("open a record: scope check + audited view (median)", med * 1000, "ms")
        )
        figures.append(
            Figure("open a record: scope check + audited view (p95)", p95 * 1000, "ms", 100)
        )

        def many_views() -> None:
            with ws.session() as s:
                for i in range(20_000):
                    access.record_view(s, coordinator, pids[i % len(pids)])

        took = timed(many_views)
        figures.append(
            Figure("audited view append rate", 20_000 / took, "entries/s", higher_is_better=True)
        )

        samples = []
        for _ in range(50):
            with ws.session() as s:

                def denied() -> None:
                    try:
                        access.require(s, vcse, Permission.VIEW_CLINICAL)
                    except PermissionDenied:
                        pass

                samples.append(timed(denied))
        med, _p95 = median_p95(samples)
        figures.append(Figure("audited permission denial", med * 1000, "ms", 50))

        with ws.session() as s:
            entries = s.scalar(select(func.count()).select_from(AuditEvent))
            took = timed(lambda: audit.verify(s))
        figures.append(
            Figure(
                "audit chain verification rate",
                entries / took,
                "entries/s",
                10_000,  # a year of a team's entries (~100k) checked in 10 s
                higher_is_better=True,
                note=f"{entries:,} entries",
            )
        )
    return figures
