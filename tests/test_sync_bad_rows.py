"""A bad row already stored on the endpoint (a lone surrogate, a date no laptop can convert,
written before the endpoint checked) no longer stops a team's sync: a new laptop sets it aside,
reports it and applies the rest; the endpoint lists and repairs it, and the repaired row then
arrives. And the laptop itself never stores or sends such text."""

from __future__ import annotations

import json
import subprocess
import sys
import uuid

import pytest
from sqlalchemy import select

from int_desk.domain.errors import ValidationError
from int_desk.server.models import Record, ServerAudit
from int_desk.services import patient_actions as pa
from int_desk.services.identity import actor_for
from int_desk.store import models as m
from int_desk.store.workspace import Workspace
from int_desk.sync import incoming
from tests.helpers.sync_env import Endpoint, sync


def _spoil(ep: Endpoint, entity: str, field: str, value: object) -> uuid.UUID:
    """Write a value straight into a stored row, as an endpoint without the checks did."""
    team = ep.teams["Bicester INT"]
    with ep.session() as s:
        rec = s.scalars(
            select(Record).where(Record.entity == entity, Record.scope == team,
                                 Record.deleted.is_(False)).order_by(Record.id)
        ).first()  # fmt: skip
        data = json.loads(rec.data)
        data[field] = value
        rec.data = json.dumps(data)  # (json escapes the surrogate, as the old endpoint did)
        return rec.id


def test_a_bad_stored_row_is_set_aside_reported_listed_and_repaired(
    sqlite_endpoint: Endpoint, laptops
) -> None:  # type: ignore[no-untyped-def]
    ep = sqlite_endpoint
    note = _spoil(ep, "contact", "text", "Visited \ud800 today")
    task = _spoil(ep, "task", "completed_at", "9999-12-31T23:30:00.000000-05:00")
    ws = laptops(ep, "a")
    first = sync(ws)  # before: UnicodeEncodeError on every retry, for every new laptop
    assert first.quarantined == 2 and first.verified, (first.quarantined, first.notes)
    assert "set aside" in first.summary()
    with ws.session() as s:
        assert s.get(m.Contact, note) is None and s.get(m.Task, task) is None
        assert s.query(m.Patient).count() > 50  # the rest of the team arrived
        aside = {(e, rid) for e, rid, _info in incoming.quarantined(s)}
    assert aside == {("contact", note.hex), ("task", task.hex)}
    again = sync(ws)  # no re-download loop: verify counts what is held aside
    assert again.verified and not again.redownloaded and again.quarantined == 2

    cli = [sys.executable, "-m", "int_desk", "admin", "--db", ep.db_url]
    listed = subprocess.run([*cli, "bad-rows"], capture_output=True, text=True)
    assert listed.returncode == 1
    assert str(note) in listed.stdout and "contact.text" in listed.stdout
    assert str(task) in listed.stdout and "task.completed_at" in listed.stdout
    assert "Visited" not in listed.stdout  # ids and problems, never values
    fixed = subprocess.run([*cli, "repair-rows"], capture_output=True, text=True)
    assert fixed.returncode == 0 and "repaired 2 rows" in fixed.stdout, fixed.stdout
    assert subprocess.run([*cli, "bad-rows"], capture_output=True, text=True).returncode == 0
    with ep.session() as s:
        assert json.loads(s.get(Record, ("contact", note)).data)["text"] == "Visited \ufffd today"
        repairs = s.scalars(select(ServerAudit).where(ServerAudit.action == "row_repaired")).all()
        assert {r.record_id for r in repairs} == {note, task}

    after = sync(ws)
    assert after.ok and after.quarantined == 0 and after.verified, after.notes
    with ws.session() as s:
        assert s.get(m.Contact, note).text == "Visited \ufffd today"
        assert s.get(m.Task, task).completed_at is None
        assert incoming.quarantined(s) == []


def test_the_laptop_refuses_text_that_is_not_unicode_naming_the_field(
    demo_ws: Workspace,
) -> None:
    with demo_ws.session() as s:
        patient = s.scalars(select(m.Patient)).first()
        actor = actor_for(s, s.scalars(select(m.Member).where(m.Member.role == "gp")).first().id)
        pid = patient.id
    with demo_ws.session() as s, pytest.raises(ValidationError) as err:
        pa.add_contact(session=s, actor=actor, patient_id=pid, kind="note", text="Saw \udc80")
    assert err.value.field == "text"
    # Any service, any field: the store refuses it before it reaches the outbox.
    with pytest.raises(ValidationError) as err:
        with demo_ws.session() as s:
            s.get(m.Patient, pid).carer_needs = "Needs \ud800"
    assert err.value.field == "carer_needs" and "not valid Unicode" in str(err.value)
    with demo_ws.session() as s:
        assert s.get(m.Patient, pid).carer_needs != "Needs \ud800"
