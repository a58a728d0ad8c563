"""What the central endpoint sends: only what the caller's role may read (hazard H07).

A real endpoint on 127.0.0.1 and real laptop workspaces synced through the real client: a VCSE
worker's laptop ends up holding the people referred to them and nothing clinical; a non-clinical
team member's laptop holds the team with clinical fields blank; neither can overwrite clinical
fields they never saw; a role change re-downloads and removes what the laptop may no longer hold.
"""

from __future__ import annotations

import json
import uuid
from typing import Any

from sqlalchemy import func, select

from int_desk.domain.actor import Actor
from int_desk.domain.vocab import Role
from int_desk.server import admin
from int_desk.server.models import Record, ServerUser
from int_desk.store import models as m
from int_desk.store.workspace import Workspace
from tests.helpers.actors import actor_of_role, team_patient_not_referred
from tests.helpers.sync_env import Endpoint, engine, sync

NOW = "2026-11-22T09:00:00.000000+00:00"


def _user(ep: Endpoint, demo_ws: Workspace, name: str, actor: Actor) -> str:
    with demo_ws.session() as s:
        teams = [s.get(m.Team, t).name for t in sorted(actor.team_ids)]
    with ep.session() as s:
        admin.add_user(s, name, teams, member_id=actor.member_id)
        ep.tokens[name] = admin.issue_token(s, name, f"laptop-{name}")[1]
    return name


def _referred(demo_ws: Workspace, member_id: uuid.UUID) -> set[uuid.UUID]:
    with demo_ws.session() as s:
        return set(
            s.scalars(
                select(m.Referral.patient_id).where(
                    m.Referral.to_member_id == member_id, m.Referral.deleted.is_(False)
                )
            )
        )


def _local_patients(ws: Workspace) -> set[uuid.UUID]:
    with ws.session() as s:
        return set(s.scalars(select(m.Patient.id)))


def _push(ep: Endpoint, user: str, *ops: dict[str, Any]) -> list[dict[str, Any]]:
    with ep.http(user) as client:
        reply = client.post("/v1/push", json={"batch_id": str(uuid.uuid4()), "ops": list(ops)})
    assert reply.status_code == 200, reply.text
    return reply.json()["results"]  # type: ignore[no-any-return]


def _op(entity: str, rid: uuid.UUID, fields: dict[str, Any], base: int | None) -> dict:
    return {
        "op_id": str(uuid.uuid4()),
        "entity": entity,
        "id": str(rid),
        "kind": "insert" if base is None else "update",
        "base_version": base,
        "fields": fields,
    }


def _record(ep: Endpoint, entity: str, rid: uuid.UUID) -> tuple[int, dict[str, Any]]:
    with ep.session() as s:
        rec = s.get(Record, (entity, rid))
        assert rec is not None
        return rec.version, json.loads(rec.data)


def test_a_vcse_laptop_holds_only_people_referred_to_them_and_nothing_clinical(
    sqlite_endpoint: Endpoint, demo_ws: Workspace, laptops
) -> None:  # type: ignore[no-untyped-def]
    ep = sqlite_endpoint
    with demo_ws.session() as s:
        vcse = actor_of_role(s, Role.VCSE_WORKER)
        coordinator = actor_of_role(s, Role.CARE_COORDINATOR)
        newcomer = team_patient_not_referred(s, vcse)
        team_size = s.scalar(
            select(func.count(func.distinct(m.CohortMembership.patient_id)))
            .join(m.Cohort, m.Cohort.id == m.CohortMembership.cohort_id)
            .where(m.Cohort.team_id.in_(vcse.team_ids))
        )
    referred = _referred(demo_ws, vcse.member_id)
    assert referred and team_size > len(referred) + 1
    _user(ep, demo_ws, "vcse", vcse)
    coordinator = Actor(coordinator.member_id, coordinator.role, vcse.team_ids)
    _user(ep, demo_ws, "coord", coordinator)

    ws = laptops(ep, "vcse")
    result = sync(ws)
    assert result.verified and not result.notes, result.notes  # the digests agree
    assert _local_patients(ws) == referred
    with ws.session() as s:
        for model in (m.HealthEvent, m.Escalation, m.HuddleItem):
            assert s.scalar(select(func.count()).select_from(model)) == 0, model
        assert s.scalar(select(func.count()).where(m.Contact.clinical.is_(True))) == 0
        for owner, requester in s.execute(select(m.Task.owner_member_id, m.Task.requester_id)):
            assert vcse.member_id in (owner, requester)
        assert set(s.scalars(select(m.Referral.to_member_id))) == {vcse.member_id}
        plans = s.scalars(select(m.CarePlan)).all()
        assert plans and all(p.clinical_summary == "" and p.medicines_notes == "" for p in plans)
        assert any(p.contingency_plan for p in plans)  # what they need on a visit is there
        assert all(not p.long_term_conditions for p in s.scalars(select(m.Patient)))

    # A new referral to them brings that person; withdrawing it takes the person away again.
    referral_id = uuid.uuid4()
    fields = {
        "patient_id": str(newcomer),
        "service": "vcse",
        "reason": "Befriending",
        "referred_on": "2026-11-22",
        "to_member_id": str(vcse.member_id),
        "status": "sent",
        "outcome": "",
        "created_at": NOW,
        "updated_at": NOW,
        "deleted": False,
    }
    assert _push(ep, "coord", _op("referral", referral_id, fields, None))[0]["status"] == "applied"
    result = sync(ws)
    assert result.verified and not result.redownloaded, result.notes
    assert _local_patients(ws) == referred | {newcomer}
    version, _data = _record(ep, "referral", referral_id)
    withdraw = {"deleted": True, "updated_at": NOW}
    assert _push(ep, "coord", _op("referral", referral_id, withdraw, version))[0]["status"] == (
        "applied"
    )
    result = sync(ws)
    assert result.purged >= 1 and result.verified, result.notes
    assert _local_patients(ws) == referred
    with ws.session() as s:
        assert s.scalar(select(func.count()).where(m.Contact.patient_id == newcomer)) == 0


def test_a_non_clinical_laptop_gets_the_team_with_clinical_fields_blank(
    sqlite_endpoint: Endpoint, demo_ws: Workspace, laptops
) -> None:  # type: ignore[no-untyped-def]
    ep = sqlite_endpoint
    with demo_ws.session() as s:
        prescriber = actor_of_role(s, Role.SOCIAL_PRESCRIBER)
        nurse = actor_of_role(s, Role.DISTRICT_NURSE)
    nurse = Actor(nurse.member_id, nurse.role, prescriber.team_ids)
    _user(ep, demo_ws, "sp", prescriber)
    _user(ep, demo_ws, "dn", nurse)
    sp, dn = laptops(ep, "sp"), laptops(ep, "dn")
    result = sync(sp)
    assert result.verified and not result.notes, result.notes
    sync(dn)
    assert _local_patients(sp) == _local_patients(dn)  # the whole team, as the nurse has
    with sp.session() as s, dn.session() as d:
        clinical = s.scalars(select(m.Contact).where(m.Contact.clinical.is_(True))).all()
        assert clinical and all(c.text == "" for c in clinical)
        assert d.scalar(select(func.count()).where(m.Contact.text != "", m.Contact.clinical))
        assert all(p.clinical_summary == "" for p in s.scalars(select(m.CarePlan)))
        assert any(p.clinical_summary for p in d.scalars(select(m.CarePlan)))
        assert all(not e.detail for e in s.scalars(select(m.HealthEvent)))


def test_a_non_clinical_writer_never_overwrites_clinical_fields_they_never_saw(
    sqlite_endpoint: Endpoint, demo_ws: Workspace
) -> None:
    ep = sqlite_endpoint
    with demo_ws.session() as s:
        worker = actor_of_role(s, Role.SOCIAL_WORKER)
        plan = s.scalars(
            select(m.CarePlan)
            .join(m.CohortMembership, m.CohortMembership.patient_id == m.CarePlan.patient_id)
            .join(m.Cohort, m.Cohort.id == m.CohortMembership.cohort_id)
            .where(
                m.Cohort.team_id.in_(worker.team_ids),
                m.CarePlan.status == "draft",
                m.CarePlan.clinical_summary != "",
            )
        ).first()
        assert plan is not None
        plan_id, patient_id = plan.id, plan.patient_id
    _user(ep, demo_ws, "sw", worker)
    version, before = _record(ep, "care_plan", plan_id)
    edit = {"what_matters": "Getting to the allotment", "clinical_summary": "", "updated_at": NOW}
    assert _push(ep, "sw", _op("care_plan", plan_id, edit, version))[0]["status"] == "applied"
    _version, after = _record(ep, "care_plan", plan_id)
    assert after["what_matters"] == "Getting to the allotment"
    assert after["clinical_summary"] == before["clinical_summary"] != ""
    # A new version continuing the plan keeps the clinical summary the laptop held blank.
    new_id = uuid.uuid4()
    fields = {**before, "id": None, "previous_version_id": str(plan_id), "version": 2}
    fields.pop("id")
    fields.update(clinical_summary="", medicines_notes="", created_at=NOW, updated_at=NOW)
    results = _push(ep, "sw", _op("care_plan", new_id, fields, None))
    assert results[0]["status"] == "applied", results
    assert results[0]["row"]["data"]["clinical_summary"] == ""  # what the laptop gets back
    _v, created = _record(ep, "care_plan", new_id)
    assert created["clinical_summary"] == before["clinical_summary"]
    assert created["patient_id"] == str(patient_id)


def test_a_role_change_re_downloads_and_removes_what_the_laptop_may_no_longer_hold(
    sqlite_endpoint: Endpoint, demo_ws: Workspace, laptops
) -> None:  # type: ignore[no-untyped-def]
    ep = sqlite_endpoint
    with demo_ws.session() as s:
        vcse = actor_of_role(s, Role.VCSE_WORKER)
        nurse = actor_of_role(s, Role.DISTRICT_NURSE)
    _user(ep, demo_ws, "moved", Actor(nurse.member_id, nurse.role, vcse.team_ids))
    ws = laptops(ep, "moved")
    sync(ws)
    assert len(_local_patients(ws)) > len(_referred(demo_ws, vcse.member_id))
    with ep.session() as s:  # the account now belongs to a VCSE worker
        user = s.scalars(select(ServerUser).where(ServerUser.name == "moved")).one()
        user.member_id = vcse.member_id
    # The pull step on its own re-downloads (the endpoint refuses the old role's cursor): no
    # verify step behind it that would re-download on a count mismatch anyway.
    pull_only = engine(ws, verify=False)
    try:
        pull_only._pull()
    finally:
        pull_only.http.close()
    assert pull_only.result.redownloaded, pull_only.result.notes
    assert _local_patients(ws) == _referred(demo_ws, vcse.member_id)
    with ws.session() as s:
        assert s.scalar(select(func.count()).where(m.Contact.clinical.is_(True))) == 0
    result = sync(ws)
    assert result.verified and not result.redownloaded, result.notes
