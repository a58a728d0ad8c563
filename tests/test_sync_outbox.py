"""The outbox is written in the same transaction as each edit, by any code using the ORM."""

from __future__ import annotations

import pytest
from sqlalchemy import select

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
