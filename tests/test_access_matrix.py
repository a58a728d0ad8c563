"""Role x action permission matrix, driven through the services layer on the real demo store.

The expected table is written out by hand (not derived from ROLE_PERMISSIONS) so a change to the
role data that widens or narrows access fails here.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session

from int_desk.domain.actor import Actor
from int_desk.domain.errors import IntDeskError, PermissionDenied
from int_desk.domain.permissions import Permission
from int_desk.domain.vocab import AuditAction, Role
from int_desk.services import access, audit_log, care_plans, members, patient_actions
from int_desk.services.patient_record import WITHHELD, patient_record
from int_desk.store import audit
from int_desk.store.models import AuditEvent, Contact, Patient, Task, Team
from int_desk.store.workspace import Workspace
from tests.helpers.actors import (
    actor_of_role,
    patient_in_scope,
    patient_out_of_scope,
    team_patient_not_referred,
)

Action = Callable[[Session, Actor, uuid.UUID], object]


def _open(s: Session, a: Actor, pid: uuid.UUID) -> object:
    return patient_record(session=s, actor=a, patient_id=pid)


def _see_clinical(s: Session, a: Actor, pid: uuid.UUID) -> object:
    """The record pane shows the person's conditions and clinical notes (not withheld)."""
    s.add(Contact(patient_id=pid, kind="note", text="Clinical: bloods due", clinical=True))
    s.flush()
    record = patient_record(session=s, actor=a, patient_id=pid)
    texts = {e.text for e in record.timeline}
    if not record.clinical_visible or "Clinical: bloods due" not in texts:
        raise PermissionDenied("clinical content withheld")
    return record


def _open_other_team(s: Session, a: Actor, pid: uuid.UUID) -> object:
    return patient_record(session=s, actor=a, patient_id=patient_out_of_scope(s, a))


def _open_team_unreferred(s: Session, a: Actor, pid: uuid.UUID) -> object:
    return patient_record(session=s, actor=a, patient_id=team_patient_not_referred(s, a))


def _add_contact(s: Session, a: Actor, pid: uuid.UUID) -> object:
    return patient_actions.add_contact(
        session=s, actor=a, patient_id=pid, kind="phone_call", text="Checked in by phone."
    )


def _sign_off(s: Session, a: Actor, pid: uuid.UUID) -> object:
    return care_plans.sign_off(session=s, actor=a, plan_id=uuid.uuid4())


def _resolve(s: Session, a: Actor, pid: uuid.UUID) -> object:
    return patient_actions.resolve_escalation(
        session=s, actor=a, escalation_id=uuid.uuid4(), resolution="Agreed at MDT."
    )


def _view_audit(s: Session, a: Actor, pid: uuid.UUID) -> object:
    return audit_log.list_events(session=s, actor=a, limit=10)


def _team_reviews(s: Session, a: Actor, pid: uuid.UUID) -> object:
    return care_plans.due_for_review(session=s, actor=a)


def _team_huddles(s: Session, a: Actor, pid: uuid.UUID) -> object:
    from int_desk.services import huddles

    return huddles.list_huddles(session=s, actor=a, team_id=sorted(a.team_ids)[0])


def _manage_members(s: Session, a: Actor, pid: uuid.UUID) -> object:
    return members.set_role(session=s, actor=a, member_id=uuid.uuid4(), role=Role.GP)


ACTIONS: dict[str, Action] = {
    "open_record": _open,
    "see_clinical": _see_clinical,
    "open_other_team": _open_other_team,
    "open_team_unreferred": _open_team_unreferred,
    "add_contact": _add_contact,
    "sign_off_plan": _sign_off,
    "resolve_escalation": _resolve,
    "view_audit": _view_audit,
    "team_reviews": _team_reviews,
    "team_huddles": _team_huddles,
    "manage_members": _manage_members,
}

TEAM_WIDE = {"open_team_unreferred", "team_reviews", "team_huddles"}
CLINICIAN = {"open_record", "see_clinical", "add_contact"} | TEAM_WIDE
EXPECTED: dict[Role, set[str]] = {
    Role.GP: CLINICIAN | {"sign_off_plan", "resolve_escalation"},
    Role.DISTRICT_NURSE: CLINICIAN,
    Role.CARE_COORDINATOR: CLINICIAN,
    Role.COMMUNITY_MATRON: CLINICIAN,
    Role.SOCIAL_PRESCRIBER: {"open_record", "add_contact"} | TEAM_WIDE,
    Role.HEALTH_WELLBEING_COACH: {"open_record", "add_contact"} | TEAM_WIDE,
    Role.VCSE_WORKER: {"open_record", "add_contact"},
    Role.CLINICAL_LEAD: CLINICIAN | {"sign_off_plan", "resolve_escalation", "view_audit"},
    Role.ADMIN: {"open_record", "view_audit", "manage_members"} | TEAM_WIDE,
}


def _outcome(ws: Workspace, actor: Actor, pid: uuid.UUID, action: Action) -> bool:
    """True when permitted (other typed errors such as NotFound come after the check)."""
    try:
        with ws.session() as s:
            action(s, actor, pid)
    except PermissionDenied:
        return False
    except IntDeskError:
        return True
    return True


def test_permission_matrix_through_services(demo_ws: Workspace) -> None:
    actual: dict[Role, set[str]] = {}
    for role in EXPECTED:
        with demo_ws.session() as s:
            actor = actor_of_role(s, role)
            pid = patient_in_scope(s, actor)
        actual[role] = {
            name for name, action in ACTIONS.items() if _outcome(demo_ws, actor, pid, action)
        }
    assert actual == EXPECTED


def test_denial_is_audited_with_a_clear_message(demo_ws: Workspace) -> None:
    with demo_ws.session() as s:
        vcse = actor_of_role(s, Role.VCSE_WORKER)
        other = patient_out_of_scope(s, vcse)
        patient = s.get(Patient, other)
        name, nhs = patient.display_name, patient.nhs_number
        before = s.scalar(select(AuditEvent.seq).order_by(AuditEvent.seq.desc()).limit(1))
    with pytest.raises(PermissionDenied) as err:
        with demo_ws.session() as s:
            patient_record(session=s, actor=vcse, patient_id=other)
    message = str(err.value)
    assert "VCSE worker" in message and "outside your teams' caseload" in message
    assert name not in message and nhs not in message
    with demo_ws.session() as s:
        entries = list(s.scalars(select(AuditEvent).where(AuditEvent.seq > before)))
        assert [(e.actor_id, e.entity_type, e.patient_id) for e in entries] == [
            (vcse.member_id, access.DENIED_ENTITY, other)
        ]
        assert entries[0].detail == "denied:view_caseload"
        assert audit.verify(s).intact


def test_vcse_sees_referred_patient_without_clinical_content(demo_ws: Workspace) -> None:
    with demo_ws.session() as s:
        vcse = actor_of_role(s, Role.VCSE_WORKER)
        pid = patient_in_scope(s, vcse)
        # a clinical note and a task for someone else exist on this patient
        s.add(
            Contact(patient_id=pid, kind="note", text="Clinical: review medicines", clinical=True)
        )
        lead = actor_of_role(s, Role.CLINICAL_LEAD)
        s.add(Task(patient_id=pid, description="GP visit", owner_member_id=lead.member_id))
        s.add(Task(patient_id=pid, description="Befriending call", owner_member_id=vcse.member_id))
    with demo_ws.session() as s:
        record = patient_record(session=s, actor=vcse, patient_id=pid)
        visible_ids = set(s.scalars(select(Patient.id).where(access.visible_patient_filter(vcse))))
    assert not record.clinical_visible and record.long_term_conditions == ""
    texts = [e.text for e in record.timeline]
    assert "Clinical: review medicines" not in texts and WITHHELD in texts
    assert {t.description for t in record.open_tasks} >= {"Befriending call"}
    assert "GP visit" not in {t.description for t in record.open_tasks}
    assert all(t.owner_member_id == vcse.member_id for t in record.open_tasks)
    with demo_ws.session() as s:
        referred = set(
            s.scalars(
                select(Contact.patient_id).where(Contact.patient_id.in_(visible_ids)).distinct()
            )
        )
    assert pid in visible_ids and referred <= visible_ids


def test_opening_a_record_is_audited_as_a_view(demo_ws: Workspace) -> None:
    with demo_ws.session() as s:
        nurse = actor_of_role(s, Role.DISTRICT_NURSE)
        pid = patient_in_scope(s, nurse)
        patient_record(session=s, actor=nurse, patient_id=pid)
    with demo_ws.session() as s:
        last = s.scalar(select(AuditEvent).order_by(AuditEvent.seq.desc()).limit(1))
    assert (last.action, last.actor_id, last.patient_id) == (
        AuditAction.READ.value,
        nurse.member_id,
        pid,
    )


def test_team_grants_widen_access_but_never_clinical_content_for_vcse(
    demo_ws: Workspace,
) -> None:
    with demo_ws.session() as s:
        matron = actor_of_role(s, Role.COMMUNITY_MATRON)
        vcse = actor_of_role(s, Role.VCSE_WORKER)
        pid = patient_in_scope(s, vcse)
        assert _outcome(demo_ws, matron, pid, _sign_off) is False
        for team in s.scalars(select(Team)):
            team.config = {
                **(team.config or {}),
                "role_permissions": {
                    "community_matron": ["sign_off_plan"],
                    "vcse_worker": ["view_clinical", "sign_off_plan", "no_such_permission"],
                },
            }
    assert _outcome(demo_ws, matron, pid, _sign_off) is True
    assert _outcome(demo_ws, vcse, pid, _sign_off) is False
    assert _outcome(demo_ws, vcse, pid, _see_clinical) is False
    with demo_ws.session() as s:
        assert access.granted_permissions(s, vcse) == frozenset()


def _denials(ws: Workspace, actor: Actor) -> int:
    with ws.session() as s:
        return len(
            s.scalars(
                select(AuditEvent).where(
                    AuditEvent.actor_id == actor.member_id,
                    AuditEvent.entity_type == access.DENIED_ENTITY,
                )
            ).all()
        )


def test_denial_audit_survives_rollback_and_never_drops_the_callers_work(
    demo_ws: Workspace,
) -> None:
    with demo_ws.session() as s:
        nurse = actor_of_role(s, Role.DISTRICT_NURSE)
        pid = patient_in_scope(s, nurse)
    # 1. the error propagates after a write: the write is rolled back, the denial is kept
    with pytest.raises(PermissionDenied):
        with demo_ws.session() as s:
            s.add(Contact(patient_id=pid, kind="note", text="first", clinical=True))
            s.flush()
            access.require(s, nurse, Permission.SIGN_OFF_PLAN, patient_id=pid)
    # 2. the caller catches the denial and carries on: its work and one denial are committed
    with demo_ws.session() as s:
        s.add(Contact(patient_id=pid, kind="note", text="second", clinical=True))
        s.flush()
        with pytest.raises(PermissionDenied):
            access.require(s, nurse, Permission.SIGN_OFF_PLAN, patient_id=pid)
    with demo_ws.session() as s:
        texts = set(s.scalars(select(Contact.text).where(Contact.patient_id == pid)))
        assert "first" not in texts and "second" in texts
        assert audit.verify(s).intact
    assert _denials(demo_ws, nurse) == 2


def test_record_pane_service_obeys_vcse_scope(demo_ws: Workspace) -> None:
    """The caseload record pane's service (patient_record) applies the same rules."""
    with demo_ws.session() as s:
        vcse = actor_of_role(s, Role.VCSE_WORKER)
        lead = actor_of_role(s, Role.CLINICAL_LEAD)
        pid = patient_in_scope(s, vcse)
        s.add(Contact(patient_id=pid, kind="note", text="Started new medicine", clinical=True))
        s.add(Task(patient_id=pid, description="Review bloods", owner_member_id=lead.member_id))
        s.add(Task(patient_id=pid, description="Befriending", owner_member_id=vcse.member_id))
        caseload_not_referred = team_patient_not_referred(s, vcse)
    assert caseload_not_referred is not None
    with demo_ws.session() as s:
        record = patient_record(session=s, actor=vcse, patient_id=pid)
    texts = [e.text for e in record.timeline]
    assert "Started new medicine" not in texts and WITHHELD in texts
    assert not record.clinical_visible and record.long_term_conditions == ""
    assert "Befriending" in {t.description for t in record.open_tasks}
    assert "Review bloods" not in {t.description for t in record.open_tasks}
    with pytest.raises(PermissionDenied):
        with demo_ws.session() as s:
            patient_record(session=s, actor=vcse, patient_id=caseload_not_referred)


def test_caseload_list_shows_a_vcse_worker_only_people_referred_to_them(
    demo_ws: Workspace,
) -> None:
    from int_desk.services import caseload

    def listed(actor: Actor) -> set[uuid.UUID]:
        with demo_ws.session() as s:
            f = caseload.CaseloadFilter(membership="all")
            keys = caseload.query_keys(session=s, actor=actor, filters=f)
            return {r.patient_id for r in caseload.fetch_rows(session=s, keys=keys).values()}

    with demo_ws.session() as s:
        vcse = actor_of_role(s, Role.VCSE_WORKER)
        coordinator = actor_of_role(s, Role.CARE_COORDINATOR)
        referred = set(s.scalars(select(Patient.id).where(access.visible_patient_filter(vcse))))
    vcse_rows = listed(vcse)
    assert vcse_rows and vcse_rows <= referred
    assert len(listed(coordinator)) > 3 * len(vcse_rows)


def test_a_vcse_worker_sees_and_settles_conflicts_on_their_own_tasks_only(
    demo_ws: Workspace,
) -> None:
    from datetime import UTC, datetime

    from int_desk.services import sync_conflicts
    from int_desk.store.sync_tables import SyncConflict

    with demo_ws.session() as s:
        vcse = actor_of_role(s, Role.VCSE_WORKER)
        pid = patient_in_scope(s, vcse)
        task = Task(patient_id=pid, description="Befriending call", owner_member_id=vcse.member_id)
        s.add(task)
        s.flush()
        now = datetime.now(UTC)
        for entity, eid, field in (("task", task.id, "description"), ("patient", pid, "phone")):
            s.add(
                SyncConflict(
                    id=uuid.uuid4(), entity=entity, entity_id=eid, patient_id=pid, field=field,
                    local_value="mine", local_by=vcse.member_id, local_at=now,
                    remote_value="theirs", remote_by="A colleague", remote_at=now.isoformat(),
                    status="open",
                )
            )  # fmt: skip
    with demo_ws.session() as s:
        views = {c.entity: c for c in sync_conflicts.list_conflicts(session=s, actor=vcse)}
    assert set(views) == {"task", "patient"}  # listed, not "not permitted"
    with demo_ws.session() as s:
        sync_conflicts.resolve_conflict(
            session=s, actor=vcse, conflict_id=views["task"].id, choice="local"
        )
    with pytest.raises(PermissionDenied), demo_ws.session() as s:
        sync_conflicts.resolve_conflict(
            session=s, actor=vcse, conflict_id=views["patient"].id, choice="local"
        )
    with demo_ws.session() as s:
        assert s.get(Task, views["task"].entity_id).description == "mine"
        assert s.get(Patient, pid).phone != "mine"
        denied = s.scalars(
            select(AuditEvent).where(
                AuditEvent.actor_id == vcse.member_id,
                AuditEvent.detail == "denied:edit_patient",
            )
        ).all()
        assert denied  # the refusal is on the audit trail
