"""The outbox is written in the same transaction as each edit, by any code using the ORM."""

from __future__ import annotations

import pytest
from sqlalchemy import func, select

from int_desk.store import models as m
from int_desk.store.sync_tables import SyncOutbox
from int_desk.store.workspace import Workspace


def _ops(ws: Workspace) -> list[SyncOutbox]:
    with ws.session() as s:
        return list(s.scalars(select(SyncOutbox).order_by(SyncOutbox.seq)))


def test_edits_insert_and_tombstone_are_queued_with_changed_fields(demo_ws: Workspace) -> None:
    with demo_ws.session() as s:
        patient = s.scalars(select(m.Patient).order_by(m.Patient.id)).first()
        patient.phone = "01632 000001"
        patient.server_version = None  # bookkeeping columns are never sent as data
        s.add(m.Contact(patient_id=patient.id, kind="note", text="Spoke to carer"))
        flag = s.scalars(select(m.Flag).where(m.Flag.patient_id == patient.id)).first()
        if flag is None:
            flag = m.Flag(patient_id=patient.id, code="housebound")
            s.add(flag)
            s.flush()
        flag.deleted = True
        pid = patient.id
    ops = _ops(demo_ws)
    by_entity = {o.entity: o for o in ops}
    assert set(by_entity) == {"patient", "contact", "flag"}
    assert set(by_entity["patient"].fields) == {"phone", "updated_at"}
    assert by_entity["patient"].fields["phone"] == "01632 000001"
    assert by_entity["contact"].kind == "insert"
    assert by_entity["contact"].fields["patient_id"] == str(pid)
    assert by_entity["contact"].fields["clinical"] is True  # defaults are filled in
    assert by_entity["flag"].fields["deleted"] is True


def test_a_rolled_back_edit_leaves_no_op_and_unsent_edits_coalesce(demo_ws: Workspace) -> None:
    with pytest.raises(RuntimeError), demo_ws.session() as s:
        s.scalars(select(m.Patient)).first().phone = "01632 000002"
        s.flush()
        raise RuntimeError("user cancelled")
    assert _ops(demo_ws) == []
    for text in ("first", "second"):
        with demo_ws.session() as s:
            s.scalars(select(m.Patient).order_by(m.Patient.id)).first().communication_needs = text
    ops = _ops(demo_ws)
    assert len(ops) == 1 and ops[0].fields["communication_needs"] == "second"


def test_every_new_session_factory_gets_the_outbox_hook() -> None:
    """Regression: factories created and freed one after another (as workspaces are opened and
    locked) must each record edits; an id()-keyed "already installed" check once said no."""
    import gc

    from sqlalchemy import create_engine, func
    from sqlalchemy.orm import sessionmaker
    from sqlalchemy.pool import StaticPool

    from int_desk.store import outbox
    from int_desk.store.base import Base

    engine = create_engine("sqlite://", poolclass=StaticPool)
    Base.metadata.create_all(engine, tables=[m.Place.__table__, SyncOutbox.__table__])
    # Collections below need only scan this test's objects, not the whole session's heap
    # (gc.collect() per factory over a full test run's heap took ~30 s).
    gc.freeze()
    try:
        addresses: set[int] = set()
        reused = 0
        for i in range(50):
            factory = sessionmaker(engine)
            reused += id(factory) in addresses  # at a dead factory's address: the hazard
            addresses.add(id(factory))
            outbox.install(factory)
            with factory.begin() as s:
                s.add(m.Place(name=f"place {i}"))
            with factory() as s:
                assert s.scalar(select(func.count()).select_from(SyncOutbox)) == i + 1
            del factory
            gc.collect()
            if reused >= 5:
                break
        assert reused >= 1, "no factory was created at a freed one's address: nothing was tested"
    finally:
        gc.unfreeze()
    engine.dispose()


def _unused_numbers(s: object, count: int) -> list[str]:
    from int_desk.domain import nhs_number

    taken = set(s.scalars(select(m.Patient.nhs_number)))  # type: ignore[attr-defined]
    out = []
    for middle in range(900_000, 999_999):
        number = nhs_number.complete(f"999{middle:06d}")
        if number and number not in taken and not nhs_number.placeholder_reason(number):
            out.append(number)
            if len(out) == count:
                return out
    raise AssertionError("no free synthetic numbers")


def test_bulk_inserted_rows_are_stored_and_queued_exactly_as_the_orm_would(
    demo_ws: Workspace,
) -> None:
    """outbox.insert_rows (how a cohort import writes its new people and memberships, one
    executemany each) stores the same values and queues the same insert ops as session.add."""
    from datetime import date

    from int_desk.store import outbox
    from int_desk.wire.schema import ENTITIES, row_to_wire

    with demo_ws.session() as s:
        cohort = s.scalars(select(m.Cohort)).first()
        member = s.scalars(select(m.Member)).first()
        practice = s.scalars(select(m.Organisation)).first()
        first, second = _unused_numbers(s, 2)
        person = dict(
            given_name="Siobhán", family_name="O'Brien", date_of_birth=date(1930, 1, 10),
            sex="female", postcode="OX26 1AB", practice_id=practice.id, deprivation_decile=3,
            created_by=member.id, updated_by=member.id,
        )  # fmt: skip
        by_orm = m.Patient(nhs_number=first, **person)
        s.add(by_orm)
        s.flush()
        [bulk_id] = outbox.insert_rows(s, m.Patient, [{"nhs_number": second, **person}])
        enrolment = dict(
            cohort_id=cohort.id, enrolled_on=date(2026, 1, 10), enrol_reason="Frailty",
            source="phm_import", risk_score=0.81, priority="high",
            created_by=member.id, updated_by=member.id,
        )  # fmt: skip
        orm_membership = m.CohortMembership(patient_id=by_orm.id, **enrolment)
        s.add(orm_membership)
        s.flush()
        [bulk_membership] = outbox.insert_rows(
            s, m.CohortMembership, [{"patient_id": bulk_id, **enrolment}]
        )
        pairs = [(by_orm.id, bulk_id), (orm_membership.id, bulk_membership)]
    differ = {"nhs_number", "patient_id", "created_at", "updated_at"}  # by design, per row
    ops = {op.entity_id: op for op in _ops(demo_ws)}
    with demo_ws.session() as s:
        for (orm_id, bulk_id), model in zip(pairs, (m.Patient, m.CohortMembership), strict=True):
            ent = ENTITIES[model.__tablename__]
            orm_row, bulk_row = s.get(model, orm_id), s.get(model, bulk_id)
            assert bulk_row is not None and bulk_row.server_version is None
            orm_wire, bulk_wire = row_to_wire(ent, orm_row), row_to_wire(ent, bulk_row)
            assert {k: v for k, v in bulk_wire.items() if k not in differ} == {
                k: v for k, v in orm_wire.items() if k not in differ
            }
            assert bulk_row.created_at.tzinfo is not None and bulk_row.deleted is False
            orm_op, bulk_op = ops[orm_id], ops[bulk_id]
            assert bulk_op.fields == bulk_wire and orm_op.fields == orm_wire  # every column
            for attr in ("entity", "kind", "base_version", "actor_id", "status", "reason"):
                assert getattr(bulk_op, attr) == getattr(orm_op, attr), attr
            assert bulk_op.seq > orm_op.seq and bulk_op.sent_at is None
            assert bulk_op.created_at.tzinfo is not None


def test_bulk_insert_refuses_unstorable_text_naming_the_field(demo_ws: Workspace) -> None:
    from datetime import date

    from int_desk.domain.errors import ValidationError
    from int_desk.store import outbox

    with demo_ws.session() as s:
        [number] = _unused_numbers(s, 1)
        before = s.scalar(select(func.count()).select_from(m.Patient))
    row = dict(
        nhs_number=number, given_name="Ann", family_name="Smith\x00", sex="female",
        date_of_birth=date(1930, 1, 10), postcode="OX26 1AB",
    )  # fmt: skip
    with pytest.raises(ValidationError, match="Family name contains a NUL"), demo_ws.session() as s:
        outbox.insert_rows(s, m.Patient, [row])
    with demo_ws.session() as s:
        assert s.scalar(select(func.count()).select_from(m.Patient)) == before
    assert _ops(demo_ws) == []
