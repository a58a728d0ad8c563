"""Two laptops enrol the same person offline (the same PHM extract imported on both): the
endpoint keeps one patient, the second laptop merges its copy into it, its notes about the person
arrive against that one record, and where its values differ both are kept as conflicts for a
person to decide (hazard H-01: wrong patient merged; "nothing is lost")."""

from __future__ import annotations

import json
import uuid
from pathlib import Path

from sqlalchemy import func, select

from int_desk.server import admin
from int_desk.server.models import Record, ServerUser
from int_desk.services import caseload as cl
from int_desk.services import cohort_import as ci
from int_desk.services.identity import current_actor, set_current_member
from int_desk.store import models as m
from int_desk.store.sync_tables import SyncConflict
from int_desk.store.workspace import Workspace
from tests.conftest import PASSPHRASE
from tests.helpers.sync_env import Endpoint, laptop, sync

NHS = "9994765914"
CSV = "NHS Number,Surname,Forename,DOB,Postcode\n" + NHS + ",Example,Ann,1940-02-01,{pc}\n"


def _laptop(ep: Endpoint, tmp_path: Path, name: str) -> Workspace:
    with ep.session() as s:
        if name not in ep.tokens:
            ep.tokens[name] = admin.issue_token(s, "a", f"second laptop {name}")[1]
        member = s.scalar(select(ServerUser.member_id).where(ServerUser.name == "a"))
    ws = laptop(tmp_path / name, ep, name, PASSPHRASE)
    sync(ws)
    with ws.session() as s:
        set_current_member(s, member)
    return ws


def _import(ws: Workspace, postcode: str) -> uuid.UUID:
    table = ci.read_csv(CSV.format(pc=postcode).encode())
    with ws.session() as s:
        actor = current_actor(s)
        cohort = cl.resolve_cohort(s, actor, "Frailty")
        preview = ci.build_preview(
            session=s, actor=actor, cohort_id=cohort, table=table,
            mapping=ci.auto_mapping(table.headers),
        )  # fmt: skip
        assert preview.ok, preview.report_lines()
        ci.apply_import(session=s, actor=actor, preview=preview)
        patient = s.scalars(select(m.Patient).where(m.Patient.nhs_number == NHS)).one()
        s.add(m.Contact(patient_id=patient.id, kind="phone_call", text=f"Called ({postcode})"))
        return patient.id


def test_the_same_person_enrolled_offline_on_two_laptops_becomes_one_record(
    sqlite_endpoint: Endpoint, tmp_path: Path
) -> None:
    ep = sqlite_endpoint
    ep.tokens["a1"] = ep.tokens["a"]
    one, two = _laptop(ep, tmp_path, "a1"), _laptop(ep, tmp_path, "a2")
    try:
        first = _import(one, "OX26 1AB")
        second = _import(two, "OX26 9ZZ")
        assert first != second
        sync(one)
        result = sync(two)  # refused as a duplicate, then merged into the server's record
        assert result.rejected >= 1
        result = sync(two)  # the merged edits go again, against that record
        assert result.conflicts >= 1, result
        with ep.session() as s:
            patients = [
                r for r in s.scalars(select(Record).where(Record.entity == "patient"))
                if json.loads(r.data)["nhs_number"] == NHS
            ]  # fmt: skip
            assert [p.id for p in patients] == [first]
            notes = {
                json.loads(d)["text"]
                for d in s.scalars(
                    select(Record.data).where(
                        Record.entity == "contact", Record.patient_id == first
                    )
                )
            }
            assert {"Called (OX26 1AB)", "Called (OX26 9ZZ)"} <= notes
        with two.session() as s:
            assert s.scalars(select(m.Patient.id).where(m.Patient.nhs_number == NHS)).all() == [
                first
            ]
            conflict = s.scalars(select(SyncConflict).where(SyncConflict.field == "postcode")).one()
            assert (conflict.local_value, conflict.remote_value) == ("OX26 9ZZ", "OX26 1AB")
            assert conflict.entity_id == first
            assert s.scalar(select(func.count()).where(m.Contact.patient_id == second)) == 0
        final = sync(two)
        assert final.verified and not final.redownloaded, final.notes
    finally:
        one.close()
        two.close()
