"""Two laptops enrol the same person offline (the same PHM extract imported on both): the
endpoint keeps one patient, the second laptop merges its copy into it, its notes about the person
arrive against that one record, and where its values differ both are kept as conflicts for a
person to decide (hazard H-01: wrong patient merged; "nothing is lost")."""

from __future__ import annotations

import json
import uuid
from pathlib import Path
from typing import Any

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
        _enrol(s, cl.resolve_cohort(s, actor, "Frailty"), table)
        patient = s.scalars(select(m.Patient).where(m.Patient.nhs_number == NHS)).one()
        s.add(m.Contact(patient_id=patient.id, kind="phone_call", text=f"Called ({postcode})"))
        return patient.id


def _enrol(s: Any, cohort: uuid.UUID, table: Any) -> None:
    """The extract's people enrolled into the cohort, as the import dialog does."""
    actor = current_actor(s)
    preview = ci.build_preview(
        session=s, actor=actor, cohort_id=cohort, table=table,
        mapping=ci.auto_mapping(table.headers),
    )  # fmt: skip
    assert preview.ok, preview.report_lines()
    ci.apply_import(session=s, actor=actor, preview=preview)


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


def _new_cohort(ws: Workspace, name: str, nhs: str) -> uuid.UUID:
    """A cohort made on this laptop (offline) with one person enrolled into it."""
    from int_desk.services import team_setup

    with ws.session() as s:
        actor = current_actor(s)
        team = s.get(m.Cohort, cl.resolve_cohort(s, actor, "Frailty")).team_id  # (a's team)
        cohort = team_setup.ensure_cohort(session=s, actor=actor, team_id=team, name=name)
        table = ci.read_csv(
            f"NHS Number,Surname,Forename,DOB,Postcode\n{nhs},Example,Bea,1941-03-02,OX26 2CD\n".encode()
        )
        _enrol(s, cohort, table)
        return cohort


def test_a_cohort_made_offline_on_two_laptops_under_one_name_becomes_one_cohort(
    sqlite_endpoint: Endpoint, tmp_path: Path
) -> None:
    """Both laptops hold a team's cohort names unique: two server cohorts of one name would leave
    each laptop without the other's, its enrolments pointing nowhere, and every sync after it
    failing the verify and downloading everything again."""
    ep = sqlite_endpoint
    ep.tokens["a1"] = ep.tokens["a"]
    one, two = _laptop(ep, tmp_path, "a1"), _laptop(ep, tmp_path, "a2")
    try:
        first = _new_cohort(one, "Housebound review", "9990000018")
        second = _new_cohort(two, "Housebound review", "9990000026")
        sync(one)
        refused = sync(two)  # its cohort refused as a duplicate; its member moved into one's
        assert refused.rejected >= 1
        sync(two)  # the enrolment goes again, into the server's cohort
        sync(one)
        with ep.session() as s:
            live = [
                r.id for r in s.scalars(select(Record).where(Record.entity == "cohort"))
                if json.loads(r.data)["name"] == "Housebound review" and not r.deleted
            ]  # fmt: skip
            assert live == [first]
            members = {
                json.loads(d)["cohort_id"]
                for d in s.scalars(select(Record.data).where(Record.entity == "cohort_membership"))
            }
            assert str(second) not in members  # nothing points at the refused cohort
        for ws in (one, two):
            with ws.session() as s:
                named = select(m.Cohort.id).where(m.Cohort.name == "Housebound review")
                assert s.scalars(named).all() == [first]
                enrolled = (
                    select(m.Patient.nhs_number)
                    .join(m.CohortMembership, m.CohortMembership.patient_id == m.Patient.id)
                    .where(m.CohortMembership.cohort_id == first)
                )
                assert set(s.scalars(enrolled)) == {"9990000018", "9990000026"}
            again = sync(ws)
            assert again.verified and not again.redownloaded, again.notes
    finally:
        one.close()
        two.close()
