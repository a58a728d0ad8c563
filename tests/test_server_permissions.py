"""Role x action permission matrix through the central endpoint: a pushed op the role may not do
is rejected (and changes nothing), whatever client sent it."""

from __future__ import annotations

import json
import uuid
from typing import Any

import httpx
from sqlalchemy import select

from int_desk.domain.vocab import Role
from int_desk.server import admin
from int_desk.server.models import Record
from int_desk.store import models as m
from int_desk.store.workspace import Workspace
from int_desk.wire.protocol import PROTOCOL_HEADER, PROTOCOL_VERSION
from tests.helpers.actors import actor_of_role, patient_in_scope
from tests.helpers.sync_env import Endpoint

NOW = "2026-11-21T10:00:00.000000+00:00"
ROLES = (
    Role.GP,
    Role.DISTRICT_NURSE,
    Role.SOCIAL_PRESCRIBER,
    Role.VCSE_WORKER,
    Role.CLINICAL_LEAD,
    Role.ADMIN,
)
EXPECTED: dict[Role, set[str]] = {
    Role.GP: {"edit_patient", "clinical_note", "note", "task", "sign_off", "resolve"},
    Role.DISTRICT_NURSE: {"edit_patient", "clinical_note", "note", "task"},
    Role.SOCIAL_PRESCRIBER: {"note", "task"},
    Role.VCSE_WORKER: {"note", "task"},
    Role.CLINICAL_LEAD: {"edit_patient", "clinical_note", "note", "task", "sign_off", "resolve"},
    Role.ADMIN: set(),
}


def _op(entity: str, rid: uuid.UUID, fields: dict[str, Any], base: int | None) -> dict:
    kind = "insert" if base is None else "update"
    return {
        "op_id": str(uuid.uuid4()),
        "entity": entity,
        "id": str(rid),
        "kind": kind,
        "base_version": base,
        "fields": fields,
    }


def _new(pid: uuid.UUID, **fields: Any) -> dict[str, Any]:
    return {
        "patient_id": str(pid),
        "created_at": NOW,
        "updated_at": NOW,
        "deleted": False,
        **fields,
    }


def _row(ep: Endpoint, entity: str, **where: Any) -> Record:
    with ep.session() as s:
        for rec in s.scalars(select(Record).where(Record.entity == entity).order_by(Record.id)):
            data = json.loads(rec.data)
            if all(data.get(k) == v for k, v in where.items() if k != "patient_id") and (
                "patient_id" not in where or rec.patient_id == where["patient_id"]
            ):
                s.expunge(rec)
                return rec
    raise AssertionError(f"no {entity} {where}")


def test_permission_matrix_through_the_endpoint(
    sqlite_endpoint: Endpoint, demo_ws: Workspace
) -> None:
    ep = sqlite_endpoint
    actual: dict[Role, set[str]] = {}
    for role in ROLES:
        with demo_ws.session() as s:
            actor = actor_of_role(s, role)
            team = s.get(m.Team, sorted(actor.team_ids)[0]).name
            pid = patient_in_scope(s, actor)
        with ep.session() as s:
            admin.add_user(s, f"user-{role.value}", [team], member_id=actor.member_id)
            token = admin.issue_token(s, f"user-{role.value}", "matrix")[1]
        patient = _row(ep, "patient", patient_id=pid)
        plan_rec = None
        with ep.session() as s:
            for rec in s.scalars(
                select(Record).where(Record.entity == "care_plan", Record.scope == patient.scope)
            ):
                if json.loads(rec.data).get("status") == "draft":
                    s.expunge(rec)
                    plan_rec = rec
                    break
        assert plan_rec is not None
        esc = None
        with ep.session() as s:
            for rec in s.scalars(
                select(Record).where(Record.entity == "escalation", Record.scope == patient.scope)
            ):
                if json.loads(rec.data).get("status") == "open":
                    s.expunge(rec)
                    esc = rec
                    break
        assert esc is not None
        actions = {
            "edit_patient": _op("patient", pid, {"phone": "01632 960000"}, patient.version),
            "clinical_note": _op(
                "contact",
                uuid.uuid4(),
                _new(pid, kind="note", occurred_at=NOW, text="Reviewed.", clinical=True),
                None,
            ),
            "note": _op(
                "contact",
                uuid.uuid4(),
                _new(pid, kind="phone_call", occurred_at=NOW, text="Called.", clinical=False),
                None,
            ),
            "task": _op(
                "task",
                uuid.uuid4(),
                _new(
                    pid,
                    kind="task",
                    description="Call back",
                    status="requested",
                    requester_id=str(actor.member_id),  # a VCSE worker's own (they see it)
                ),
                None,
            ),
            "sign_off": _op(
                "care_plan",
                plan_rec.id,
                {"status": "active", "signed_off_by": str(actor.member_id), "signed_off_at": NOW},
                plan_rec.version,
            ),
            "resolve": _op(
                "escalation",
                esc.id,
                {"status": "resolved", "resolution": "Agreed at MDT.", "resolved_at": NOW},
                esc.version,
            ),
        }
        headers = {"Authorization": f"Bearer {token}", PROTOCOL_HEADER: str(PROTOCOL_VERSION)}
        applied = set()
        with httpx.Client(base_url=ep.url, headers=headers, timeout=10) as client:
            for name, op in actions.items():
                with ep.session() as s:
                    before = s.get(Record, (op["entity"], uuid.UUID(op["id"])))
                    before_version = before.version if before else None
                reply = client.post("/v1/push", json={"batch_id": str(uuid.uuid4()), "ops": [op]})
                assert reply.status_code == 200, reply.text
                result = reply.json()["results"][0]
                if result["status"] == "applied":
                    applied.add(name)
                    continue
                assert result["status"] == "rejected", result
                assert "forbidden" in result["reason"], result
                with ep.session() as s:
                    after = s.get(Record, (op["entity"], uuid.UUID(op["id"])))
                    assert (after.version if after else None) == before_version
        actual[role] = applied
    assert actual == EXPECTED


def test_vcse_worker_cannot_write_for_people_not_referred_to_them(
    sqlite_endpoint: Endpoint, demo_ws: Workspace
) -> None:
    ep = sqlite_endpoint
    with demo_ws.session() as s:
        vcse = actor_of_role(s, Role.VCSE_WORKER)
        team = s.get(m.Team, sorted(vcse.team_ids)[0]).name
        referred = set(
            s.scalars(
                select(m.Referral.patient_id).where(m.Referral.to_member_id == vcse.member_id)
            )
        )
        other = s.scalar(
            select(m.CohortMembership.patient_id)
            .join(m.Cohort, m.Cohort.id == m.CohortMembership.cohort_id)
            .where(
                m.Cohort.team_id.in_(vcse.team_ids), m.CohortMembership.patient_id.not_in(referred)
            )
            .limit(1)
        )
    with ep.session() as s:
        admin.add_user(s, "vcse", [team], member_id=vcse.member_id)
        token = admin.issue_token(s, "vcse", "x")[1]
    headers = {"Authorization": f"Bearer {token}", PROTOCOL_HEADER: str(PROTOCOL_VERSION)}
    op = _op(
        "contact",
        uuid.uuid4(),
        _new(other, kind="phone_call", occurred_at=NOW, text="Called.", clinical=False),
        None,
    )
    with httpx.Client(base_url=ep.url, headers=headers, timeout=10) as client:
        result = client.post("/v1/push", json={"batch_id": str(uuid.uuid4()), "ops": [op]}).json()[
            "results"
        ][0]
    assert result["status"] == "rejected" and "referred" in result["reason"]
    with ep.session() as s:
        assert s.get(Record, ("contact", uuid.UUID(op["id"]))) is None
