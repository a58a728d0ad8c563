"""Patient actions as headless services on the real encrypted demo workspace."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import func, select

from int_desk.domain.errors import NotFound, PermissionDenied, ValidationError
from int_desk.domain.uk_time import london_today
from int_desk.domain.vocab import (
    ContactKind,
    FlagCode,
    Priority,
    ReferralService,
    ReferralStatus,
    Role,
    TaskStatus,
)
from int_desk.services import patient_actions as pa
from int_desk.services.identity import actor_for, current_actor
from int_desk.store.models import (
    AuditEvent,
    Cohort,
    CohortMembership,
    Contact,
    Flag,
    Member,
    Patient,
    TeamMembership,
)
from int_desk.store.workspace import Workspace


def _my_patient(s, actor, *, discharged: bool = False) -> tuple[uuid.UUID, CohortMembership]:
    m = s.scalars(
        select(CohortMembership)
        .join(Cohort, Cohort.id == CohortMembership.cohort_id)
        .where(
            Cohort.team_id.in_(actor.team_ids),
            CohortMembership.discharged_on.is_(None)
            if not discharged
            else CohortMembership.discharged_on.is_not(None),
        )
        .order_by(CohortMembership.id)
        .limit(1)
    ).one()
    return m.patient_id, m


def _other_team_patient(s, actor) -> uuid.UUID:
    mine = (
        select(CohortMembership.patient_id).join(Cohort).where(Cohort.team_id.in_(actor.team_ids))
    )
    return s.scalars(select(Patient.id).where(Patient.id.not_in(mine)).limit(1)).one()


def _audits(s) -> int:
    return s.scalar(select(func.count()).select_from(AuditEvent))


def test_add_contact_is_audited_and_validated(demo_ws: Workspace) -> None:
    with demo_ws.session() as s:
        actor = current_actor(s)
        pid, _ = _my_patient(s, actor)
        before = _audits(s)
        c = pa.add_contact(
            session=s, actor=actor, patient_id=pid, kind=ContactKind.PHONE_CALL, text="  Rang.  "
        )
        assert c.text == "Rang." and c.author_id == actor.member_id and c.clinical
        assert _audits(s) == before + 1
        ev = s.scalars(select(AuditEvent).order_by(AuditEvent.seq.desc()).limit(1)).one()
        assert ev.entity_type == "contact" and ev.patient_id == pid and "Rang" not in ev.detail
    for bad, field in (("", "text"), ("   ", "text"), ("x" * 10_001, "text"), ("a\x00b", "text")):
        with demo_ws.session() as s, pytest.raises(ValidationError) as err:
            pa.add_contact(session=s, actor=actor, patient_id=pid, kind="note", text=bad)
        assert err.value.field == field
    with demo_ws.session() as s, pytest.raises(ValidationError) as err:
        pa.add_contact(
            session=s, actor=actor, patient_id=pid, kind="note", text="x",
            occurred_at=datetime.now(UTC) + timedelta(days=1),
        )  # fmt: skip
    assert err.value.field == "occurred_at"
    with demo_ws.session() as s, pytest.raises(ValidationError):
        pa.add_contact(session=s, actor=actor, patient_id=pid, kind="fax", text="x")
    with demo_ws.session() as s, pytest.raises(NotFound):
        pa.add_contact(session=s, actor=actor, patient_id=uuid.uuid4(), kind="note", text="x")
    with demo_ws.session() as s, pytest.raises(PermissionDenied):
        pa.add_contact(
            session=s, actor=actor, patient_id=_other_team_patient(s, actor), kind="note", text="x"
        )
    with demo_ws.session() as s:  # the failures wrote nothing
        assert (
            s.scalar(select(func.count()).where(Contact.patient_id == pid, Contact.text == "x"))
            == 0
        )


def test_allocate_and_complete_task(demo_ws: Workspace) -> None:
    with demo_ws.session() as s:
        actor = current_actor(s)
        pid, _ = _my_patient(s, actor)
        nurse = s.scalars(
            select(Member.id)
            .join(TeamMembership, TeamMembership.member_id == Member.id)
            .where(TeamMembership.team_id.in_(actor.team_ids), Member.role == "district_nurse")
        ).first()
        with pytest.raises(ValidationError) as err:
            pa.allocate_task(session=s, actor=actor, patient_id=pid, description="Visit",
                             due_on=london_today())  # fmt: skip
        assert err.value.field == "owner"
        with pytest.raises(ValidationError) as err:
            pa.allocate_task(session=s, actor=actor, patient_id=pid, description="Visit",
                             due_on=london_today() - timedelta(days=1), owner_member_id=nurse)  # fmt: skip
        assert err.value.field == "due_on"
        with pytest.raises(NotFound):
            pa.allocate_task(session=s, actor=actor, patient_id=pid, description="Visit",
                             due_on=london_today(), owner_member_id=uuid.uuid4())  # fmt: skip
        with pytest.raises(ValidationError):
            pa.allocate_task(session=s, actor=actor, patient_id=pid, description="Visit",
                             due_on=london_today(), owner_role="wizard")  # fmt: skip
        task = pa.allocate_task(
            session=s, actor=actor, patient_id=pid, description="Check blister pack",
            due_on=london_today() + timedelta(days=3), owner_member_id=nurse,
            owner_role=Role.DISTRICT_NURSE,
        )  # fmt: skip
        assert task.status == TaskStatus.REQUESTED.value and task.requester_id == actor.member_id
        done = pa.complete_task(session=s, actor=actor, task_id=task.id)
        assert done.status == "completed" and done.completed_at is not None
        with pytest.raises(ValidationError):
            pa.complete_task(session=s, actor=actor, task_id=task.id)


def test_enrol_discharge_lead_and_priority(demo_ws: Workspace) -> None:
    with demo_ws.session() as s:
        actor = current_actor(s)
        pid, membership = _my_patient(s, actor)
        with pytest.raises(ValidationError):  # already in that cohort
            pa.enrol(session=s, actor=actor, patient_id=pid, cohort_id=membership.cohort_id,
                     reason="again")  # fmt: skip
        with pytest.raises(ValidationError):
            pa.discharge_from_cohort(session=s, actor=actor, membership_id=membership.id, reason="")
        out = pa.discharge_from_cohort(
            session=s, actor=actor, membership_id=membership.id, reason="Moved away"
        )
        assert out.discharged_on == london_today()
        with pytest.raises(ValidationError):
            pa.discharge_from_cohort(
                session=s, actor=actor, membership_id=membership.id, reason="x"
            )
        again = pa.enrol(
            session=s, actor=actor, patient_id=pid, cohort_id=membership.cohort_id,
            reason="Back in area", priority="high", lead_member_id=actor.member_id,
        )  # fmt: skip
        assert again.priority == Priority.HIGH.value and again.lead_member_id == actor.member_id
        pa.set_lead_professional(session=s, actor=actor, membership_id=again.id, member_id=None)
        assert again.lead_member_id is None
        pa.set_priority(session=s, actor=actor, membership_id=again.id, priority="low")
        other_cohort = s.scalars(
            select(Cohort.id).where(Cohort.team_id.not_in(actor.team_ids))
        ).first()
        with pytest.raises(PermissionDenied):
            pa.enrol(session=s, actor=actor, patient_id=pid, cohort_id=other_cohort, reason="x")


def test_referral_escalation_flags_and_huddle(demo_ws: Workspace) -> None:
    with demo_ws.session() as s:
        actor = current_actor(s)
        pid, _ = _my_patient(s, actor)
        ref = pa.refer(session=s, actor=actor, patient_id=pid,
                       service=ReferralService.SOCIAL_PRESCRIBING, reason="Isolated")  # fmt: skip
        with pytest.raises(ValidationError):  # completed needs an outcome
            pa.record_referral_outcome(session=s, actor=actor, referral_id=ref.id,
                                       status="completed", outcome=" ")  # fmt: skip
        pa.record_referral_outcome(session=s, actor=actor, referral_id=ref.id,
                                   status=ReferralStatus.COMPLETED, outcome="Joined lunch club")  # fmt: skip
        with pytest.raises(ValidationError):
            pa.record_referral_outcome(session=s, actor=actor, referral_id=ref.id,
                                       status="accepted", outcome="")  # fmt: skip
        esc = pa.escalate(session=s, actor=actor, patient_id=pid, reason="Deteriorating")
        with pytest.raises(PermissionDenied):  # a coordinator cannot resolve
            pa.resolve_escalation(session=s, actor=actor, escalation_id=esc.id, resolution="ok")
        lead_id = s.scalars(
            select(Member.id)
            .join(TeamMembership, TeamMembership.member_id == Member.id)
            .where(TeamMembership.team_id.in_(actor.team_ids), Member.role == "clinical_lead")
        ).first()
        lead = actor_for(s, lead_id)
        pa.resolve_escalation(session=s, actor=lead, escalation_id=esc.id, resolution="GP visit")
        assert esc.status == "resolved" and esc.resolved_by == lead_id

        flag = pa.set_flag(session=s, actor=actor, patient_id=pid, code=FlagCode.FALLS_RISK,
                           active=True, note="Two falls")  # fmt: skip
        assert flag is not None and flag.active
        pa.set_flag(session=s, actor=actor, patient_id=pid, code="falls_risk", active=False)
        assert not flag.active
        h = pa.add_to_next_huddle(session=s, actor=actor, patient_id=pid, note="Carer worried")
        assert h.code == "add_to_huddle" and h.active
        assert (
            s.scalar(
                select(func.count()).where(
                    Flag.patient_id == pid, Flag.code == "add_to_huddle", Flag.active.is_(True)
                )
            )
            == 1
        )
