"""The outbox is written in the same transaction as each edit, by any code using the ORM."""

from __future__ import annotations

import logging
import uuid
from datetime import datetime, timedelta
from typing import Any

import pytest
from sqlalchemy import func, select, update

from int_desk.domain.errors import ValidationError
from int_desk.store import models as m
from int_desk.store import outbox
from int_desk.store.base import APPLYING, utcnow
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
    assert {(o.status, o.reason, o.sent_at) for o in ops} == {("pending", "", None)}


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


def test_the_debug_log_counts_ops_and_never_names_what_changed(
    demo_ws: Workspace, caplog: pytest.LogCaptureFixture
) -> None:
    """Support can see how many edits each save queued or folded into unsent ones; the log
    never holds what was typed (patient data stays out of logs, at every level)."""
    pid = _patient_id(demo_ws)
    with caplog.at_level(logging.DEBUG, logger=outbox.log.name):
        for phone in ("01632 000011", "01632 000012"):
            with demo_ws.session() as s:
                s.get(m.Patient, pid).phone = phone
    assert [r.getMessage() for r in caplog.records if r.name == outbox.log.name] == [
        "outbox: 1 ops recorded, 0 coalesced",
        "outbox: 0 ops recorded, 1 coalesced",
    ]
    assert "01632" not in caplog.text


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


def _patient_id(ws: Workspace) -> Any:
    with ws.session() as s:
        return s.scalars(select(m.Patient.id).order_by(m.Patient.id)).first()


def test_text_no_endpoint_could_store_is_refused_naming_the_field(demo_ws: Workspace) -> None:
    """Whatever code writes the row: a NUL or a lone surrogate in text, or anywhere in a JSON
    value, is refused before the store or the outbox sees it, naming the field for the form."""
    pid = _patient_id(demo_ws)
    with demo_ws.session() as s:
        view = m.SavedView(name="Mine", filters={"team": "Bicester"})
        s.add(view)
        s.flush()
        view_id = view.id
        s.execute(update(SyncOutbox).values(sent_at=utcnow(), status="applied"))
    cases = [
        (m.Patient, pid, "communication_needs", "Deaf\x00", "Communication needs contains a NUL"),
        (m.Patient, pid, "carer_name", "Ann \ud800", "Carer name is not valid Unicode"),
        (m.SavedView, view_id, "filters", {"ward": ["a", "b\x00"]}, "Filters contains a NUL"),
        (m.SavedView, view_id, "filters", {"\udc80": 1}, "Filters is not valid Unicode"),
    ]
    for model, rid, name, value, message in cases:
        with pytest.raises(ValidationError) as refused, demo_ws.session() as s:
            setattr(s.get(model, rid), name, value)
        assert str(refused.value).startswith(message)
        assert str(refused.value).endswith("; it cannot be saved.")
        assert refused.value.field == name
    with demo_ws.session() as s:
        assert s.get(m.SavedView, view_id).filters == {"team": "Bicester"}
        assert "\x00" not in (s.get(m.Patient, pid).communication_needs or "")
        pending = s.scalars(select(SyncOutbox).where(SyncOutbox.status == "pending")).all()
    assert pending == []
    # Other fields, and text the store can hold, are saved as ever.
    with demo_ws.session() as s:
        s.get(m.Patient, pid).carer_name = "Ann Ó'Brien"
        s.get(m.SavedView, view_id).filters = {"ward": ["a", None, 3]}
    with demo_ws.session() as s:
        assert s.get(m.Patient, pid).carer_name == "Ann Ó'Brien"


def test_rows_written_from_the_server_are_not_sent_back(demo_ws: Workspace) -> None:
    pid = _patient_id(demo_ws)
    with demo_ws.session() as s:
        s.info[outbox.APPLYING] = True  # what the sync client's apply step sets
        s.get(m.Patient, pid).phone = "01632 000003"
        s.add(m.Contact(patient_id=pid, kind="note", text="From another laptop"))
    assert _ops(demo_ws) == []
    with demo_ws.session() as s:
        assert s.get(m.Patient, pid).phone == "01632 000003"


def test_a_row_from_the_server_is_stored_as_it_came_and_edits_check_only_what_they_change(
    demo_ws: Workspace,
) -> None:
    """Text another laptop's older version let through is stored as the server sent it (sync
    sets bad rows aside itself), and a user's later edit of another field of that row saves:
    only what an edit changes is checked, so one bad field never locks the whole record."""
    pid = _patient_id(demo_ws)
    with demo_ws.session() as s:
        s.info[outbox.APPLYING] = True
        contact = m.Contact(patient_id=pid, kind="note", text="Visited\x00")
        s.add(contact)
        s.flush()
        contact_id = contact.id
    with demo_ws.session() as s:
        s.get(m.Contact, contact_id).kind = "visit"
    (op,) = _ops(demo_ws)
    assert op.entity_id == contact_id and set(op.fields) == {"kind", "updated_at"}
    with demo_ws.session() as s:
        assert s.get(m.Contact, contact_id).text == "Visited\x00"


def test_unstorable_text_is_refused_whatever_else_the_save_holds(demo_ws: Workspace) -> None:
    """The check does not stop at a local row that never syncs (saved first), nor at a field
    emptied in the same edit (checked first): the bad text is still refused, naming its field."""
    pid = _patient_id(demo_ws)
    with pytest.raises(ValidationError) as refused, demo_ws.session() as s:
        patient = s.get(m.Patient, pid)
        s.add(m.WorkspaceMeta(key="test-note", value="local"))  # saved in the same flush
        patient.phone = None
        patient.address = "1 High Street\x00"
    assert refused.value.field == "address"
    with demo_ws.session() as s:
        assert s.get(m.WorkspaceMeta, "test-note") is None
        assert "\x00" not in (s.get(m.Patient, pid).address or "")
    assert _ops(demo_ws) == []


def test_an_edit_that_changes_nothing_sends_nothing(demo_ws: Workspace) -> None:
    pid = _patient_id(demo_ws)
    with demo_ws.session() as s:
        patient = s.get(m.Patient, pid)
        patient.phone = patient.phone  # saved unchanged (a form's OK with no edit)
        patient.updated_at = utcnow()  # touched, but no field of the record changed
    assert _ops(demo_ws) == []


def test_an_update_carries_the_version_it_was_made_on_and_who_made_it(
    demo_ws: Workspace,
) -> None:
    pid = _patient_id(demo_ws)
    with demo_ws.session() as s:
        s.execute(update(m.Patient).where(m.Patient.id == pid).values(server_version=7))
        member = s.scalars(select(m.Member.id).order_by(m.Member.id)).first()
    with demo_ws.session() as s:
        patient = s.get(m.Patient, pid)
        patient.phone = "01632 000004"
        patient.updated_by = member
    (op,) = _ops(demo_ws)
    assert (op.kind, op.base_version, op.actor_id) == ("update", 7, member)
    assert op.fields["updated_by"] == str(member) and op.fields["updated_at"]


def test_the_base_version_is_the_one_the_edit_was_made_on(demo_ws: Workspace) -> None:
    """A save that also moves the row's version bookkeeping (as code resetting it might) still
    sends the version the user's edit was made on, so the endpoint can tell a conflict."""
    pid = _patient_id(demo_ws)
    with demo_ws.session() as s:
        s.execute(update(m.Patient).where(m.Patient.id == pid).values(server_version=7))
    with demo_ws.session() as s:
        patient = s.get(m.Patient, pid)
        patient.phone = "01632 000006"
        patient.server_version = None
    (op,) = _ops(demo_ws)
    assert (op.kind, op.base_version, op.fields["phone"]) == ("update", 7, "01632 000006")
    assert "server_version" not in op.fields  # bookkeeping, never sent as data


def test_a_deleted_row_is_sent_as_a_tombstone_on_its_version(demo_ws: Workspace) -> None:
    pid = _patient_id(demo_ws)
    with demo_ws.session() as s:
        contact = m.Contact(patient_id=pid, kind="note", text="Typed in error")
        s.add(contact)
        s.flush()
        contact_id = contact.id
        s.execute(update(SyncOutbox).values(sent_at=utcnow(), status="applied"))
        s.execute(update(m.Contact).where(m.Contact.id == contact_id).values(server_version=3))
    with demo_ws.session() as s:
        s.delete(s.get(m.Contact, contact_id))
    (op,) = [o for o in _ops(demo_ws) if o.status == "pending"]
    assert (op.entity, op.entity_id, op.kind, op.base_version) == ("contact", contact_id,
                                                                    "update", 3)  # fmt: skip
    assert op.fields["deleted"] is True and set(op.fields) == {"deleted", "updated_at"}
    deleted_at = datetime.fromisoformat(op.fields["updated_at"])  # when: the endpoint keeps it
    assert abs(deleted_at - utcnow()) < timedelta(minutes=10)


def test_an_edit_after_its_op_was_sent_gets_an_op_of_its_own(demo_ws: Workspace) -> None:
    """A sent op is fixed (a replay is answered from its stored result): folding a later edit
    into it would lose that edit. Rejected ops are not reused either."""
    pid = _patient_id(demo_ws)
    with demo_ws.session() as s:
        s.get(m.Patient, pid).phone = "01632 000005"
    with demo_ws.session() as s:
        s.execute(update(SyncOutbox).values(sent_at=utcnow()))
    with demo_ws.session() as s:
        s.get(m.Patient, pid).phone = "01632 000006"
    with demo_ws.session() as s:
        s.execute(
            update(SyncOutbox)
            .where(SyncOutbox.sent_at.is_(None))
            .values(status="rejected", reason="refused")
        )
    with demo_ws.session() as s:
        s.get(m.Patient, pid).phone = "01632 000007"
    phones = [(o.fields["phone"], o.status) for o in _ops(demo_ws)]
    assert phones == [
        ("01632 000005", "pending"), ("01632 000006", "rejected"), ("01632 000007", "pending")
    ]  # fmt: skip


def test_every_real_edit_in_one_save_is_sent_whatever_else_the_save_touched(
    demo_ws: Workspace,
) -> None:
    """One save holding real edits among rows only re-stamped (a form's OK with no change, by
    another user) and local rows that never sync: each real edit gets its op, the others none.
    Twenty of each kind, so no order the session happens to list them in can hide one."""
    with demo_ws.session() as s:
        s.add_all(m.WorkspaceMeta(key=f"test-{i}", value="a") for i in range(20))
        members = list(s.scalars(select(m.Member.id).order_by(m.Member.id).limit(2)))
        pids = list(s.scalars(select(m.Patient.id).order_by(m.Patient.id).limit(40)))
    with demo_ws.session() as s:
        s.autoflush = False  # every change below goes to the store in one flush
        metas, patients = [], []
        for i in range(40):  # loaded turn about, so the session's own order mixes the kinds
            if i < 20:
                metas.append(s.get(m.WorkspaceMeta, f"test-{i}"))
            patients.append(s.get(m.Patient, pids[i]))
        for meta in metas:
            meta.value = "b"  # local bookkeeping, never synced
        for p in patients[:20]:  # re-stamped only: when and by whom, nothing else
            p.updated_at = utcnow()
            p.updated_by = members[0] if p.updated_by != members[0] else members[1]
        for i, p in enumerate(patients[20:]):
            p.phone = f"01632 0001{i:02d}"
        edited = sorted(p.id for p in patients[20:])
    ops = _ops(demo_ws)
    assert sorted(o.entity_id for o in ops) == edited
    assert {o.entity for o in ops} == {"patient"} and all("phone" in o.fields for o in ops)


def test_over_a_thousand_unsent_rows_edited_at_once_each_stay_one_op(demo_ws: Workspace) -> None:
    pid = _patient_id(demo_ws)
    with demo_ws.session() as s:
        s.execute(update(SyncOutbox).values(sent_at=utcnow(), status="applied"))
        added = [m.Contact(patient_id=pid, kind="note", text=f"batch-{i}") for i in range(1020)]
        s.add_all(added)
        s.flush()
        ids = [c.id for c in added]
    with demo_ws.session() as s:
        for contact in s.scalars(select(m.Contact).where(m.Contact.id.in_(ids))):
            contact.text = contact.text.upper()
    ops = [o for o in _ops(demo_ws) if o.status == "pending"]
    assert len(ops) == 1020 and {o.kind for o in ops} == {"insert"}  # over two look-ups of 500
    assert sorted(o.fields["text"] for o in ops)[:2] == ["BATCH-0", "BATCH-1"]


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


def test_bulk_rows_keep_given_ids_and_refuse_unknown_columns_or_unstorable_json(
    demo_ws: Workspace,
) -> None:
    """A bulk insert (the cohort import's) refuses what session.add would: a column the table
    does not have (a programming error, named) and JSON holding text no database can store
    (named for the form); a given id is kept, a missing one made."""
    given = uuid.uuid4()
    with pytest.raises(TypeError) as unknown, demo_ws.session() as s:
        outbox.insert_rows(s, m.SavedView, [{"name": "Mine", "colour": "red", "size": 2}])
    assert str(unknown.value) == "SavedView has no columns colour and size"
    with pytest.raises(TypeError, match="^SavedView has no column shape$"), demo_ws.session() as s:
        outbox.insert_rows(s, m.SavedView, [{"name": "Mine", "shape": "round"}])
    with pytest.raises(ValidationError) as bad, demo_ws.session() as s:
        outbox.insert_rows(s, m.SavedView, [{"name": "Mine", "filters": {"search": "a\x00"}}])
    assert bad.value.field == "filters" and "cannot be saved" in str(bad.value)
    assert _ops(demo_ws) == []
    with demo_ws.session() as s:
        ids = outbox.insert_rows(
            s, m.SavedView, [{"id": given, "name": "Mine"}, {"name": "Theirs"}]
        )
    assert ids[0] == given and isinstance(ids[1], uuid.UUID) and ids[1] != given
    with demo_ws.session() as s:
        views = {
            v.id: v.name for v in s.scalars(select(m.SavedView).where(m.SavedView.id.in_(ids)))
        }
    assert views == {given: "Mine", ids[1]: "Theirs"}
    assert [(op.entity, op.entity_id, op.kind) for op in _ops(demo_ws)] == [
        ("saved_view", given, "insert"),
        ("saved_view", ids[1], "insert"),
    ]


def test_rows_written_in_bulk_from_the_server_queue_nothing_to_send_back(
    demo_ws: Workspace,
) -> None:
    with demo_ws.session() as s:
        s.info[APPLYING] = True  # as sync does when it writes what the server sent
        [view_id] = outbox.insert_rows(s, m.SavedView, [{"name": "From the server"}])
    with demo_ws.session() as s:
        assert s.get(m.SavedView, view_id) is not None
    assert _ops(demo_ws) == []


def test_bulk_ops_store_when_they_were_made_as_every_other_op_and_need_no_date_adapter(
    demo_ws: Workspace, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Every op's time is stored as UTCDateTime stores it (UTC ISO-8601 text, which sorts as
    time), the bulk insert's too: it writes that text itself. It relies on no date adapter of
    the driver (sqlite3's defaults are deprecated since Python 3.12, and wrote "2026-12-07
    06:00:00+00:00", which sorts before "2026-12-07T05:00:00+00:00"): with them gone, the
    cohort import still saves."""
    from datetime import UTC, date

    import sqlcipher3.dbapi2 as driver

    for kind in (date, datetime):
        monkeypatch.delitem(driver.adapters, (kind, driver.PrepareProtocol))
    with demo_ws.session() as s:
        s.scalars(select(m.Patient).order_by(m.Patient.id)).first().phone = "01632 000003"
        s.flush()
        outbox.insert_rows(s, m.SavedView, [{"name": "Mine"}, {"name": "Theirs"}])
    with demo_ws.session() as s:
        stored = s.connection().exec_driver_sql("SELECT created_at FROM sync_outbox ORDER BY seq")
        times = [text for (text,) in stored]
    assert len(times) == 3
    for text in times:
        assert text == datetime.fromisoformat(text).astimezone(UTC).isoformat("T", "microseconds")
    assert times == sorted(times)
