"""The store publishes what each commit changed (tables, people) to the workspace's change
feed, whoever wrote it: services through the ORM, the bulk import path, rows applied from the
server. Real encrypted demo workspace; no Qt (the app's relay is tested in
tests/test_views_refresh.py)."""

from __future__ import annotations

import uuid
from datetime import date

import pytest
from sqlalchemy import select

from int_desk.services import care_plans as cp
from int_desk.services import patient_actions as pa
from int_desk.services import patient_record as pr
from int_desk.services.identity import current_actor
from int_desk.store import changes, outbox
from int_desk.store import models as m
from int_desk.store.changes import Changes
from int_desk.store.workspace import Workspace
from int_desk.sync import incoming, local
from int_desk.wire.schema import ENTITIES, row_to_wire


def _listen(ws: Workspace) -> list[Changes]:
    got: list[Changes] = []
    ws.changes.subscribe(got.append)
    return got


def _two_people(ws: Workspace) -> tuple[uuid.UUID, uuid.UUID]:
    with ws.session() as s:
        actor = current_actor(s)
        first, second = s.scalars(select(m.Patient.id).order_by(m.Patient.id).limit(2)).all()
        assert pa.in_scope(s, actor, first)
    return first, second


def test_a_service_edit_is_published_once_after_its_commit(demo_ws: Workspace) -> None:
    pid, other = _two_people(demo_ws)
    got = _listen(demo_ws)
    with demo_ws.session() as s:
        pa.add_contact(
            session=s, actor=current_actor(s), patient_id=pid, kind="phone_call", text="Rang"
        )
        s.flush()
        assert got == []  # flushed, not committed: no screen may show it yet
    [published] = got
    assert published.touches("contact") and not published.touches("huddle")
    assert published.touches_patient(pid) and not published.touches_patient(other)
    assert published.local_edit and not published.all_patients


def test_a_rolled_back_edit_is_not_published(demo_ws: Workspace) -> None:
    pid, _ = _two_people(demo_ws)
    got = _listen(demo_ws)
    with pytest.raises(RuntimeError), demo_ws.session() as s:
        pa.add_contact(session=s, actor=current_actor(s), patient_id=pid, kind="note", text="x")
        s.flush()
        raise RuntimeError("the rest of the unit of work failed")
    assert got == []
    with demo_ws.session() as s:  # and the next commit does not carry the dropped notes
        s.get(m.Patient, pid)
    assert got == []


def test_a_savepoint_is_published_with_its_outer_commit_only(demo_ws: Workspace) -> None:
    pid, _ = _two_people(demo_ws)
    got = _listen(demo_ws)
    with pytest.raises(RuntimeError), demo_ws.session() as s:
        with s.begin_nested():
            pa.add_contact(session=s, actor=current_actor(s), patient_id=pid, kind="note", text="a")
        assert got == []  # the savepoint is released, the transaction may still roll back
        raise RuntimeError("rolled back after the savepoint")
    assert got == []
    with demo_ws.session() as s:
        with s.begin_nested():
            pa.add_contact(session=s, actor=current_actor(s), patient_id=pid, kind="note", text="b")
        assert got == []
    assert len(got) == 1 and got[0].touches_patient(pid)


def test_reading_a_record_changes_nobody(demo_ws: Workspace) -> None:
    """A read writes an audit entry naming the person: that is no change to their record (a
    screen refreshing on it would read, audit and refresh for ever)."""
    pid, _ = _two_people(demo_ws)
    got = _listen(demo_ws)
    with demo_ws.session() as s:
        pr.patient_record(session=s, actor=current_actor(s), patient_id=pid)
    [published] = got
    assert published.entities == {"audit_event"}
    assert not published.touches_patient(pid) and not published.local_edit


def test_a_goal_names_the_person_whose_plan_it_is(demo_ws: Workspace) -> None:
    with demo_ws.session() as s:
        plan = s.scalars(select(m.CarePlan).where(m.CarePlan.status == "draft")).first()
        assert plan is not None
        plan_id, pid = plan.id, plan.patient_id
    got = _listen(demo_ws)
    with demo_ws.session() as s:
        cp.add_goal(session=s, actor=current_actor(s), plan_id=plan_id, description="Walk")
    assert got[-1].touches("goal") and got[-1].touches_patient(pid)


def test_rows_from_the_server_are_published_as_not_local(demo_ws: Workspace) -> None:
    """Sync writes server rows with Core statements, which no flush hook sees: they are noted
    by the apply path (a goal's person found through its plan, queried)."""
    with demo_ws.session() as s:
        goal = s.scalars(select(m.Goal)).first()
        assert goal is not None
        plan = s.get(m.CarePlan, goal.care_plan_id)
        assert plan is not None
        person = s.get(m.Patient, plan.patient_id)
        assert person is not None
        rows = [
            {"e": name, "id": str(obj.id), "v": 10**6, "del": False,
             "data": row_to_wire(ENTITIES[name], obj) | extra}
            for name, obj, extra in (
                ("goal", goal, {"description": "Walk to the shop"}),
                ("patient", person, {"postcode": "OX26 9ZZ"}),
            )
        ]  # fmt: skip
    got = _listen(demo_ws)
    with local.apply_session(demo_ws) as s:
        applied, _skipped = incoming.apply_rows(s, rows)
    assert applied == 2
    [published] = got
    assert published.touches("goal", "patient") and not published.local_edit
    assert published.patient_ids == {plan.patient_id}
    with demo_ws.session() as s:
        assert s.get(m.Patient, plan.patient_id).postcode == "OX26 9ZZ"  # type: ignore[union-attr]


def test_bulk_inserts_are_published_and_a_crowd_is_everyone(
    demo_ws: Workspace, monkeypatch: pytest.MonkeyPatch
) -> None:
    with demo_ws.session() as s:
        cohort = s.scalars(select(m.Cohort)).first()
        assert cohort is not None
        people = s.scalars(select(m.Patient.id).limit(3)).all()
    enrolment = dict(cohort_id=cohort.id, enrolled_on=date(2026, 1, 10), enrol_reason="Frailty")
    got = _listen(demo_ws)
    with demo_ws.session() as s:
        outbox.insert_rows(s, m.CohortMembership, [{"patient_id": people[0], **enrolment}])
    assert got[-1].touches("cohort_membership") and got[-1].patient_ids == {people[0]}
    assert got[-1].local_edit
    monkeypatch.setattr(changes, "MAX_PEOPLE", 1)
    with demo_ws.session() as s:
        outbox.insert_rows(
            s, m.CohortMembership, [{"patient_id": p, **enrolment} for p in people[1:]]
        )
    assert got[-1].all_patients and got[-1].patient_ids == frozenset()
    assert got[-1].touches_patient(people[2]) and not got[-1].touches_patient(None)


def test_a_failing_subscriber_neither_undoes_nor_blocks_the_commit(demo_ws: Workspace) -> None:
    pid, _ = _two_people(demo_ws)

    def broken(_c: Changes) -> None:
        raise ValueError("a screen failed")

    demo_ws.changes.subscribe(broken)
    got = _listen(demo_ws)
    with demo_ws.session() as s:
        contact = pa.add_contact(
            session=s, actor=current_actor(s), patient_id=pid, kind="note", text="kept"
        )
    assert len(got) == 1
    with demo_ws.session() as s:
        assert s.get(m.Contact, contact.id) is not None


def test_changes_merge() -> None:
    a, b = uuid.uuid4(), uuid.uuid4()
    one = Changes(frozenset({"task"}), frozenset({a}))
    two = Changes(frozenset({"contact"}), frozenset({b}), local_edit=True)
    both = one | two
    assert both.entities == {"task", "contact"} and both.patient_ids == {a, b} and both.local_edit
    everyone = both | Changes(frozenset({"patient"}), all_patients=True)
    assert everyone.all_patients and everyone.touches_patient(uuid.uuid4())
    assert not Changes() and both
