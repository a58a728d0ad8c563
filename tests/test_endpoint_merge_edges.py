"""The endpoint's merge and reads at their edges, attacked as a hostile client would.

Anything holding a laptop's token may send any body: these tests send the pushes and pulls a
laptop never would (a row new and already deleted, a second copy of a team member, a cursor
that is missing, forged or another login's, a new person with no team) and read what the
endpoint then holds and answers, as its users, its operators and its other laptops see it.
Served in this process (tests/test_sync_in_process.py's ``ep``, and on PostgreSQL
tests/test_endpoint_merge.py's ``pg_ep``), so a mutation run (tests/mutation/broad.py, target
``endpoint-merge``) judges the endpoint's code with them.
"""

from __future__ import annotations

import json
import re
import uuid
from collections.abc import Callable
from typing import Any, NamedTuple

import pytest
from sqlalchemy import select, update

from int_desk.server import admin, cursor, db
from int_desk.server.engine_ops import DUPLICATE_ROW
from int_desk.server.models import AuditLogEntry, Record, ScopeSeq, ServerTeamUser, ServerUser
from int_desk.store import models as m
from int_desk.sync import local
from tests import test_sync_in_process as in_process
from tests.helpers import sync_env
from tests.helpers.sync_env import Endpoint, sync
from tests.test_endpoint_merge import (  # noqa: F401  (fixtures)
    _new_note_op,
    _social_worker,
    merge_ep,
    pg_ep,
    pg_template,
)
from tests.test_sync_in_process import ep, small_demo, small_template  # noqa: F401  (fixtures)

NOW = "2026-12-07T09:00:00.000000+00:00"
NHS_SYSTEM = "https://fhir.nhs.uk/Id/nhs-number"


def _push(at: Endpoint, user: str, *ops: dict[str, Any]) -> list[dict[str, Any]]:
    with at.http(user) as http:
        reply = http.post("/v1/push", json={"batch_id": str(uuid.uuid4()), "ops": list(ops)})
    assert reply.status_code == 200, reply.text
    return reply.json()["results"]  # type: ignore[no-any-return]


def _insert(entity: str, fields: dict[str, Any], rid: uuid.UUID | None = None) -> dict[str, Any]:
    return {
        "op_id": str(uuid.uuid4()), "entity": entity, "id": str(rid or uuid.uuid4()),
        "kind": "insert", "base_version": None, "fields": fields,
    }  # fmt: skip


def _update(entity: str, rid: Any, fields: dict[str, Any], base: int) -> dict[str, Any]:
    return {**_insert(entity, fields, uuid.UUID(str(rid))), "kind": "update", "base_version": base}


class Held(NamedTuple):
    id: uuid.UUID
    version: int
    data: str  # (as stored: JSON text)
    patient_id: uuid.UUID | None


def _held(at: Endpoint, entity: str, team: str = "Bicester INT") -> Held:
    """One live row of ``entity`` the endpoint holds for ``team``."""
    with at.session() as s:
        row = s.execute(
            select(Record.id, Record.version, Record.data, Record.patient_id).where(
                Record.entity == entity, Record.scope == at.teams[team], Record.deleted.is_(False)
            )
        ).first()
    return Held(*row)


def _like(at: Endpoint, entity: str, team: str = "Bicester INT") -> dict[str, Any]:
    """The data of one live row of ``entity`` the endpoint holds for ``team``."""
    return json.loads(_held(at, entity, team).data)  # type: ignore[no-any-return]


# --- rows a laptop would never send -----------------------------------------------------------


def test_a_row_sent_new_and_already_deleted_is_kept_deleted_and_sent_to_no_one(
    merge_ep: Endpoint,  # noqa: F811
    laptops,
) -> None:  # type: ignore[no-untyped-def]
    """A note written and deleted again before it was ever sent arrives as a new row that is
    already deleted: the endpoint keeps it deleted, no laptop receives it on a first download,
    and the live counts every laptop checks its copy against are unchanged (a wrong count would
    make each laptop of the team download everything again at its hourly check)."""
    a = laptops(merge_ep, "a")
    sync(a)
    op = _new_note_op(merge_ep, "Written in error")
    op["fields"]["deleted"] = True
    [result] = _push(merge_ep, "a", op)
    assert result["status"] == "applied", result
    with merge_ep.session() as s:
        rec = s.get(Record, ("contact", uuid.UUID(op["id"])))
        assert (rec.deleted, json.loads(rec.data)["text"]) == (True, "Written in error")
    checked = sync(a, full_verify=True)
    assert checked.verified is True and not checked.redownloaded, checked.notes
    b = laptops(merge_ep, "b")
    first = sync(b)
    assert first.verified is True and first.redownloaded, first.notes
    with b.session() as s:
        assert s.get(m.Contact, uuid.UUID(op["id"])) is None
        assert local.counts(s) == in_process._server_counts(merge_ep, "b")


def test_a_view_saved_first_of_its_kind_in_a_team_is_counted_for_every_laptops_check(
    merge_ep: Endpoint,  # noqa: F811
    laptops,
) -> None:  # type: ignore[no-untyped-def]
    """The team's first saved view (no team of the demo has one yet): its colleague's laptop
    receives it, and both laptops' id checks agree with the endpoint's counts afterwards."""
    a, b = laptops(merge_ep, "a"), laptops(merge_ep, "b")
    sync(a), sync(b)
    with a.session() as s:
        s.add(m.SavedView(name="Housebound, high risk", filters={"risk": "high"}))
    assert sync(a).pushed == 1
    for ws in (b, a):
        checked = sync(ws, full_verify=True)
        assert checked.verified is True and not checked.redownloaded, checked.notes
    with b.session() as s:
        assert s.scalars(select(m.SavedView.name)).all() == ["Housebound, high risk"]
    with merge_ep.session() as srv:
        assert [json.loads(d)["name"] for d in srv.scalars(
            select(Record.data).where(Record.entity == "saved_view")
        )] == ["Housebound, high risk"]  # fmt: skip


def _fhir_patients(at: Endpoint, nhs: str) -> list[str]:
    """Ids of the people the endpoint's FHIR search by NHS number finds for user ``a``."""
    with at.http("a") as http:
        reply = http.get("/fhir/R4/Patient", params={"identifier": f"{NHS_SYSTEM}|{nhs}"})
    assert reply.status_code == 200, reply.text
    return [e["resource"]["id"] for e in reply.json().get("entry", [])]


def _valid_nhs(start: int) -> str:
    """A synthetic NHS number from the 999 range with a valid check digit."""
    from int_desk.domain.nhs_number import is_valid

    return next(n for n in (f"999{i:07d}" for i in range(start, start + 100)) if is_valid(n))


def test_a_person_enrolled_or_corrected_through_sync_is_found_by_nhs_number_at_the_endpoint(
    merge_ep: Endpoint,  # noqa: F811
) -> None:
    """A person enrolled on a laptop is found by their NHS number through the endpoint's FHIR
    search; once their number is corrected on a laptop, the new number finds them and the old
    one no longer does."""
    first, corrected = _valid_nhs(4321), _valid_nhs(8765)
    assert not _fhir_patients(merge_ep, first) and not _fhir_patients(merge_ep, corrected)
    person = {
        **_like(merge_ep, "patient"), "nhs_number": first, "given_name": "Ada",
        "family_name": "Testperson", "deleted": False,
    }  # fmt: skip
    pid = uuid.uuid4()
    [made] = _push(merge_ep, "a", _insert("patient", person, pid))
    assert made["status"] == "applied", made
    assert _fhir_patients(merge_ep, first) == [str(pid)]
    [fixed] = _push(
        merge_ep, "a", _update("patient", pid, {**person, "nhs_number": corrected}, made["version"])
    )
    assert fixed["status"] == "applied", fixed
    assert _fhir_patients(merge_ep, corrected) == [str(pid)]
    assert _fhir_patients(merge_ep, first) == []


def test_a_person_another_team_holds_is_enrolled_as_this_teams_own_and_theirs_is_not_named(
    merge_ep: Endpoint,  # noqa: F811
) -> None:
    """Reading West enrols a person whose NHS number Bicester already holds (someone known to
    both neighbourhoods). The duplicate check looks only in Reading West's own records: the
    person is held as Reading West's, nothing in the reply names Bicester's record, and
    Bicester's record is unchanged and still the only one its team finds by that number."""
    their_id, their_version, data, _ = _held(merge_ep, "patient")
    nhs = json.loads(data)["nhs_number"]
    person = {**_like(merge_ep, "patient", "Reading West INT"), "nhs_number": nhs, "deleted": False}
    pid = uuid.uuid4()
    [made] = _push(merge_ep, "c", _insert("patient", person, pid))
    assert made["status"] == "applied", made
    assert str(their_id) not in json.dumps(made)
    with merge_ep.session() as s:
        assert s.get(Record, ("patient", pid)).scope == merge_ep.teams["Reading West INT"]
        assert s.get(Record, ("patient", their_id)).version == their_version
    assert _fhir_patients(merge_ep, nhs) == [str(their_id)]  # (login a: Bicester's view)


def test_a_new_person_from_a_login_of_two_teams_needs_a_cohort_to_say_which(
    ep: Endpoint,  # noqa: F811
) -> None:
    """A login of two teams sending a new person with no cohort membership is refused with the
    reason (which team would hold them?); sent with a membership of a cohort of the second team,
    the person is held by that team."""
    with ep.session() as s:
        admin.add_to_team(s, "a", "Reading West INT")
    person = {**_like(ep, "patient"), "nhs_number": _valid_nhs(2468), "deleted": False}
    alone = _insert("patient", person)
    [refused] = _push(ep, "a", alone)
    assert (refused["status"], refused["reason"]) == (
        "rejected", "a new patient needs a cohort membership in the same batch",
    )  # fmt: skip
    with ep.session() as s:
        cohort = s.scalars(
            select(Record.id).where(
                Record.entity == "cohort", Record.scope == ep.teams["Reading West INT"]
            )
        ).first()
    enrol = {
        **_like(ep, "cohort_membership", "Reading West INT"), "cohort_id": str(cohort),
        "patient_id": alone["id"], "deleted": False,
    }  # fmt: skip
    results = _push(
        ep, "a", {**alone, "op_id": str(uuid.uuid4())}, _insert("cohort_membership", enrol)
    )
    assert [r["status"] for r in results] == ["applied", "applied"], results
    with ep.session() as s:
        held = s.get(Record, ("patient", uuid.UUID(alone["id"])))
        assert (held.scope, held.patient_id) == (ep.teams["Reading West INT"], held.id)


def test_a_note_or_goal_sent_as_moved_to_another_person_or_plan_is_refused_saying_so(
    merge_ep: Endpoint,  # noqa: F811
) -> None:
    """An edit that would move a note to another person, or a goal to another care plan, is
    refused with a reason that says which (kept in the laptop's refusal and the endpoint's
    audit trail), and the note and goal stay where they were. (The write rules refuse it:
    every field that places a row is fixed once set, so the merge's own refusal of a move,
    behind them, is never reached.)"""
    team = merge_ep.teams["Bicester INT"]
    held = {entity: _held(merge_ep, entity) for entity in ("contact", "goal")}
    with merge_ep.session() as s:
        elsewhere = {  # another person of the team, and another plan
            "patient_id": s.scalars(
                select(Record.id).where(
                    Record.entity == "patient", Record.scope == team,
                    Record.id != held["contact"].patient_id,
                )
            ).first(),
            "care_plan_id": s.scalars(
                select(Record.id).where(
                    Record.entity == "care_plan", Record.scope == team,
                    Record.id != uuid.UUID(json.loads(held["goal"].data)["care_plan_id"]),
                )
            ).first(),
        }  # fmt: skip
    moves = [
        _update(e, held[e].id, {field: str(elsewhere[field])}, held[e].version)
        for e, field in (("contact", "patient_id"), ("goal", "care_plan_id"))
    ]
    results = _push(merge_ep, "a", *moves)
    assert [(r["status"], r["reason"]) for r in results] == [
        ("rejected", "forbidden: contact.patient_id cannot be changed once set"),
        ("rejected", "forbidden: goal.care_plan_id cannot be changed once set"),
    ]
    with merge_ep.session() as s:
        for entity, row in held.items():
            rec = s.get(Record, (entity, row.id))
            assert (rec.version, rec.data) == (row.version, row.data)


def test_a_change_to_a_row_the_endpoint_never_had_is_refused_and_stores_nothing(
    ep: Endpoint,  # noqa: F811
) -> None:
    """An update naming a row the endpoint has never held is refused with a reason (nothing to
    merge into), not made into a new row."""
    op = _new_note_op(ep, "Edited, never sent")
    [refused] = _push(ep, "a", _update("contact", op["id"], op["fields"], 3))
    assert refused["status"] == "rejected" and refused["reason"], refused
    with ep.session() as s:
        assert s.get(Record, ("contact", uuid.UUID(op["id"]))) is None


# --- a second copy of a team member or a huddle attendee --------------------------------------


def _admin_login(at: Endpoint) -> str:
    """Login ``adm``, an administrator of Bicester (who manages the team's members)."""
    team = at.teams["Bicester INT"]
    with at.session() as s:
        roles = {
            r.id: json.loads(r.data)["role"]
            for r in s.scalars(select(Record).where(Record.entity == "member"))
        }
        head = next(
            uuid.UUID(d["member_id"])
            for d in map(
                json.loads,
                s.scalars(
                    select(Record.data).where(
                        Record.entity == "team_membership", Record.scope == team
                    )
                ),
            )  # fmt: skip
            if roles[uuid.UUID(d["member_id"])] == "admin"
        )
        admin.add_user(s, "adm", ["Bicester INT"], member_id=head)
        at.tokens["adm"] = admin.issue_token(s, "adm", "laptop-adm")[1]
    return "adm"


def _live(at: Endpoint, entity: str, **where: str) -> list[uuid.UUID]:
    with at.session() as s:
        rows = s.scalars(select(Record).where(Record.entity == entity, Record.deleted.is_(False)))
        return sorted(
            r.id for r in rows
            if all(uuid.UUID(json.loads(r.data)[k]) == uuid.UUID(v) for k, v in where.items())
        )  # fmt: skip


@pytest.mark.parametrize("entity", ["team_membership", "huddle_attendee"])
def test_a_second_copy_of_a_team_member_or_attendee_is_refused_whoever_sends_it(
    merge_ep: Endpoint,  # noqa: F811
    entity: str,
) -> None:
    """Two copies of one person in one team (or at one huddle) could never both be held by a
    laptop, so every laptop of the team would fail its id check and download everything again
    on every sync. The endpoint holds the first and refuses a second with its reason, however
    the ids are written, sent later or in the same upload; another huddle or team is another
    row, and once the first is removed the person may be added again."""
    user = _admin_login(merge_ep) if entity == "team_membership" else "a"
    like = _like(merge_ep, entity)
    parent = "team_id" if entity == "team_membership" else "huddle_id"
    with merge_ep.session() as s:
        present = {
            uuid.UUID(json.loads(d)["member_id"])
            for d in s.scalars(select(Record.data).where(Record.entity == entity))
            if json.loads(d)[parent] == like[parent]
        }
        newcomer = sorted(
            r.id for r in s.scalars(select(Record).where(Record.entity == "member"))
            if json.loads(r.data)["role"] != "admin" and r.id not in present
        )[0]  # fmt: skip
    row = {**like, "member_id": str(newcomer), "deleted": False, "created_at": NOW}
    first = _insert(entity, row)
    assert _push(merge_ep, user, first)[0]["status"] == "applied"
    shouted = {**row, "member_id": str(newcomer).upper(), parent: like[parent].replace("-", "")}
    again = [_insert(entity, row), _insert(entity, shouted)]
    for op in again:
        [refused] = _push(merge_ep, user, op)
        assert (refused["status"], refused["reason"]) == ("rejected", DUPLICATE_ROW), refused
    both = _push(merge_ep, user, _insert(entity, row), _insert(entity, row))
    assert [r["reason"] for r in both] == [DUPLICATE_ROW, DUPLICATE_ROW]
    assert _live(merge_ep, entity, member_id=str(newcomer), **{parent: like[parent]}) == [
        uuid.UUID(first["id"])
    ]
    with merge_ep.session() as s:
        version = s.get(Record, (entity, uuid.UUID(first["id"]))).version
    removed = _push(
        merge_ep, user, _update(entity, first["id"], {"deleted": True, "updated_at": NOW}, version)
    )
    assert removed[0]["status"] == "applied", removed
    back = _insert(entity, row)
    assert _push(merge_ep, user, back)[0]["status"] == "applied"
    assert _live(merge_ep, entity, member_id=str(newcomer), **{parent: like[parent]}) == [
        uuid.UUID(back["id"])
    ]


# --- an incremental pull's place in the change feed -------------------------------------------


def _cursor_of(at: Endpoint, user: str) -> str:
    with at.http(user) as http:
        return sync_env.full_download(http)[1]


def _pulled(at: Endpoint, user: str, body: dict[str, Any]) -> tuple[int, Any]:
    with at.http(user) as http:
        reply = http.post("/v1/pull", json=body)
    return reply.status_code, reply.json()


def test_a_pull_with_a_missing_forged_or_another_logins_place_is_told_to_download_again(
    ep: Endpoint,  # noqa: F811
    small_demo,  # noqa: F811
) -> None:  # type: ignore[no-untyped-def]
    """An incremental pull sent with no place in the change feed, a place not signed by this
    endpoint, a signed place it cannot read, another login's place (who may read less, or
    more), or a place older than the deletions the endpoint keeps is answered 410 with the
    reason, and no change is sent: the laptop downloads its scope again."""
    _social_worker(ep, small_demo)
    mine, theirs = _cursor_of(ep, "a"), _cursor_of(ep, "sw")
    with ep.session() as s:
        key = db.secret(s)
    gone = "Re-download needed: "
    for user, body, why in (
        ("a", {}, "no cursor: download in full first"),
        ("a", {"cursor": "eyJzIjp7fX0.forged"}, "cursor signature does not match"),
        ("a", {"cursor": cursor.encode(key, {"s": [1, 2]})}, "cursor is not readable"),
        ("sw", {"cursor": mine}, "what this user may see has changed"),
        ("a", {"cursor": theirs}, "what this user may see has changed"),
    ):
        assert _pulled(ep, user, body) == (410, {"detail": gone + why}), (user, why)
    with ep.session() as s:  # (compacted up to this laptop's place: still its place)
        s.execute(update(ScopeSeq).values(min_seq=ScopeSeq.last_seq))
    status, page = _pulled(ep, "a", {"cursor": mine})
    assert (status, page["changes"], page["purged"], page["has_more"]) == (200, [], [], False)
    with ep.session() as s:
        s.execute(update(ScopeSeq).values(min_seq=ScopeSeq.last_seq + 1))
    assert _pulled(ep, "a", {"cursor": mine}) == (
        410, {"detail": gone + "cursor is older than the server keeps deletions"},
    )  # fmt: skip


def test_a_login_of_a_team_with_nothing_in_it_yet_syncs_on_from_its_place(
    merge_ep: Endpoint,  # noqa: F811
) -> None:
    """A coordinator is also made a member of a team just set up centrally, with nothing in it
    yet: after their download, each sync goes on from its place in the change feed (a
    colleague's new note arrives) and is never told to download everything again."""
    with merge_ep.session() as s:
        admin.add_team(s, "Kidlington INT")
        admin.add_to_team(s, "a", "Kidlington INT")
    with merge_ep.http("a") as http:
        place = sync_env.full_download(http)[1]
    for text in ("Rang about the pendant alarm", "Booked the falls clinic"):
        note = {**_like(merge_ep, "contact"), "kind": "note", "clinical": False, "text": text}
        assert (
            _push(merge_ep, "b", _insert("contact", {**note, "author_id": None}))[0]["status"]
            == "applied"
        )
        status, page = _pulled(merge_ep, "a", {"cursor": place})
        assert status == 200, page
        assert [c["data"]["text"] for c in page["changes"]] == [text]
        place = page["cursor"]


def _pull_entries(at: Endpoint, user: str, kind: str = "pull") -> list[str]:
    """What the endpoint's audit trail says of each page ``user`` received: incremental pages
    (``pull``), or a first download's (``pull_full``)."""
    with at.session() as srv:
        who = srv.scalar(select(ServerUser.id).where(ServerUser.name == user))
        return list(
            srv.scalars(
                select(AuditLogEntry.detail)
                .where(AuditLogEntry.kind == kind, AuditLogEntry.user_id == who)
                .order_by(AuditLogEntry.no)
            )
        )


def test_a_non_clinical_laptop_receives_many_changes_over_small_pages_each_once(
    ep: Endpoint,  # noqa: F811
    laptops,
    small_demo,  # noqa: F811
) -> None:  # type: ignore[no-untyped-def]
    """A social worker's pages are cut row by row: a colleague's seven new notes reach their
    laptop over pages of three, each once, the audit trail counting what each page sent."""
    mine = _social_worker(ep, small_demo)
    sw = laptops(ep, "sw")
    sync(sw)
    colleague = "a" if mine == "Bicester INT" else "c"
    near = laptops(ep, colleague)
    sync(near)
    pid = in_process._first_patient(near)
    texts = {f"Dropped off a walking frame ({i})" for i in range(7)}
    with near.session() as s:  # (not clinical: a social worker reads their words)
        s.add_all(m.Contact(patient_id=pid, kind="note", text=t, clinical=False) for t in texts)
    sync(near)
    before = _pull_entries(ep, "sw")
    pages = sync_env.engine(sw, pull_page=3, verify=False)
    try:
        pulled = pages.run()
    finally:
        pages.http.close()
    assert (pulled.ok, pulled.pulled, pulled.redownloaded) == (True, 7, False), pulled.notes
    with sw.session() as s:
        got = s.scalars(select(m.Contact.text).where(m.Contact.patient_id == pid)).all()
    assert sorted(t for t in got if t in texts) == sorted(texts)
    assert _pull_entries(ep, "sw")[len(before) :] == [
        "3 changes, 0 people purged", "3 changes, 0 people purged", "1 changes, 0 people purged",
    ]  # fmt: skip
    assert sync(sw, full_verify=True).verified is True


def test_a_person_who_left_a_non_clinical_laptops_team_is_removed_once(
    ep: Endpoint,  # noqa: F811
    laptops,
    small_demo,  # noqa: F811
) -> None:  # type: ignore[no-untyped-def]
    """The administrator moves one of a social worker's people to another team: the next sync
    removes them, and the one after it (after a colleague's note about someone else) reports
    no one removed again."""
    mine = _social_worker(ep, small_demo)
    sw = laptops(ep, "sw")
    sync(sw)
    with sw.session() as s:
        held = set(s.scalars(select(m.Patient.id)))
    moved = min(held)
    elsewhere = next(t for t in ("Bicester INT", "Reading West INT") if t != mine)
    with ep.session() as srv:
        admin.move_patient(srv, moved, elsewhere)
    assert sync(sw).purged == 1
    colleague = "a" if mine == "Bicester INT" else "c"
    near = laptops(ep, colleague)
    sync(near)
    other = min(held - {moved})
    in_process._add_notes(near, other, "Called about the blue badge", 1)
    sync(near)
    later = sync(sw)
    assert (later.pulled, later.purged) == (1, 0), later.notes
    with sw.session() as s:
        assert set(s.scalars(select(m.Patient.id))) == held - {moved}


def test_two_copies_of_one_person_cohort_or_member_in_one_upload_are_held_once(
    merge_ep: Endpoint,  # noqa: F811
) -> None:
    """An upload no laptop would send (its store holds each of these unique), from anything
    holding a token: the same person (NHS number) twice, the same cohort name twice, and the
    same colleague added twice to one huddle, each pair in one upload. The endpoint holds the
    first of each and refuses the second as a duplicate, as it would had they come apart;
    otherwise every laptop of the team would fail to store the second, fail its id check and
    download everything again on every sync."""
    nhs = _valid_nhs(1357)
    with merge_ep.session() as s:
        cohort = s.scalars(
            select(Record.id).where(
                Record.entity == "cohort", Record.scope == merge_ep.teams["Bicester INT"]
            )
        ).first()
        members = sorted(s.scalars(select(Record.id).where(Record.entity == "member")))
    person = {**_like(merge_ep, "patient"), "nhs_number": nhs, "deleted": False}
    enrol = {**_like(merge_ep, "cohort_membership"), "cohort_id": str(cohort), "deleted": False}
    group = {**_like(merge_ep, "cohort"), "name": "Frailty, moderate (winter)", "deleted": False}
    attendee = _like(merge_ep, "huddle_attendee")
    with merge_ep.session() as s:
        present = {
            uuid.UUID(json.loads(d)["member_id"])
            for d in s.scalars(select(Record.data).where(Record.entity == "huddle_attendee"))
            if json.loads(d)["huddle_id"] == attendee["huddle_id"]
        }
    newcomer = str(next(i for i in members if i not in present))
    attend = {**attendee, "member_id": newcomer, "deleted": False}
    p1, p2 = _insert("patient", person), _insert("patient", person)
    ops = [
        p1, _insert("cohort_membership", {**enrol, "patient_id": p1["id"]}),
        p2, _insert("cohort_membership", {**enrol, "patient_id": p2["id"]}),
        _insert("cohort", group), _insert("cohort", group),
        _insert("huddle_attendee", attend), _insert("huddle_attendee", attend),
    ]  # fmt: skip
    results = _push(merge_ep, "a", *ops)
    assert [(r["status"], r.get("reason", "")[:10]) for r in results] == [
        ("applied", ""), ("applied", ""), ("rejected", "duplicate:"), ("rejected", "the row's "),
        ("applied", ""), ("rejected", "duplicate:"), ("applied", ""), ("rejected", "duplicate:"),
    ]  # fmt: skip
    with merge_ep.session() as s:
        live = [
            (r.entity, json.loads(r.data))
            for r in s.scalars(select(Record).where(Record.deleted.is_(False)))
        ]
    assert [d["given_name"] for e, d in live if e == "patient" and d["nhs_number"] == nhs] == [
        person["given_name"]
    ]
    assert [e for e, d in live if e == "cohort" and d["name"] == group["name"]] == ["cohort"]
    assert [
        e for e, d in live
        if e == "huddle_attendee" and (d["huddle_id"], d["member_id"]) == (attend["huddle_id"], newcomer)
    ] == ["huddle_attendee"]  # fmt: skip


# --- an upload sent again ---------------------------------------------------------------------


def test_an_upload_sent_again_with_more_is_answered_as_stored_and_only_the_rest_applied(
    ep: Endpoint,  # noqa: F811
) -> None:
    """A laptop that lost the answer sends the upload again with one more change: the refused
    change is answered refused again (its reason, nothing else), the applied one from what was
    stored but with the record as it is now (a colleague changed it meanwhile), and only the new
    change is applied. Each answer carries exactly what the protocol names. The same op id
    twice in one upload is applied once."""
    with ep.session() as s:
        place = s.scalars(select(Record).where(Record.entity == "place")).first()
        person = s.scalars(
            select(Record).where(
                Record.entity == "patient", Record.scope == ep.teams["Bicester INT"]
            )
        ).first()
        renamed = {**json.loads(place.data), "name": "Kidlington Hub"}
        pid, base, named = person.id, person.version, json.loads(place.data)["name"]
    refused_op = _update("place", place.id, renamed, place.version)
    phone_op = _update("patient", pid, {"phone": "01632 555001", "updated_at": NOW}, base)
    first = _push(ep, "a", refused_op, phone_op)
    assert [sorted(r) for r in first] == [
        ["op_id", "reason", "status"], ["op_id", "row", "status", "version"],
    ]  # fmt: skip
    assert first[0]["reason"] == "reference data is managed centrally"
    [colleague] = _push(
        ep, "b", _update("patient", pid, {"communication_needs": "Hard of hearing"}, base)
    )
    assert colleague["status"] == "applied" and colleague["version"] > first[1]["version"]
    note = _new_note_op(ep, "Sent again with the rest")
    again = _push(ep, "a", refused_op, phone_op, note)
    assert [sorted(r) for r in again] == [
        ["op_id", "reason", "replayed", "status"],
        ["op_id", "replayed", "row", "status", "version"],
        ["op_id", "row", "status", "version"],
    ]  # fmt: skip
    assert (again[0]["status"], again[0]["reason"]) == ("rejected", first[0]["reason"])
    replayed = again[1]
    assert (replayed["status"], replayed["version"], replayed["row"]["v"]) == (
        "applied", colleague["version"], colleague["version"],
    )  # fmt: skip
    data = replayed["row"]["data"]
    assert (data["phone"], data["communication_needs"]) == ("01632 555001", "Hard of hearing")
    assert again[2]["status"] == "applied" and again[2]["version"] > colleague["version"]
    twice = [_new_note_op(ep, "Once"), _new_note_op(ep, "Not twice")]
    twice[1]["op_id"] = twice[0]["op_id"]
    answers = _push(ep, "a", *twice)
    assert [(r["status"], r.get("reason")) for r in answers] == [
        ("applied", None), ("rejected", "op id already used by another device"),
    ]  # fmt: skip
    with ep.session() as s:
        texts = [json.loads(d)["text"] for d in s.scalars(
            select(Record.data).where(Record.entity == "contact")
        )]  # fmt: skip
        assert (texts.count("Sent again with the rest"), texts.count("Once")) == (1, 1)
        assert "Not twice" not in texts
        assert json.loads(s.get(Record, ("place", place.id)).data)["name"] == named


def test_an_upload_sent_again_after_its_login_left_its_other_team_is_answered_as_stored(
    merge_ep: Endpoint,  # noqa: F811
) -> None:
    """A login of both demo teams writes a note about a person of one of them; the reply is
    lost, and before the laptop sends the upload again an administrator takes the login out of
    its other team. The note is answered from its stored result (kept with the note's team),
    as sent before: not applied a second time."""
    with merge_ep.session() as s:
        admin.add_to_team(s, "a", "Reading West INT")
    both = sorted(("Bicester INT", "Reading West INT"), key=lambda t: merge_ep.teams[t])
    left, kept = both  # (a login's teams are in id order: a result's fallback is the first)
    note = {**_like(merge_ep, "contact", kept), "kind": "note", "clinical": False}
    op = _insert("contact", {**note, "text": "Phoned about the falls clinic", "author_id": None})
    [sent] = _push(merge_ep, "a", op)
    assert sent["status"] == "applied", sent
    with merge_ep.session() as s:
        login = admin.find_user(s, "a")
        s.delete(s.get(ServerTeamUser, (uuid.UUID(merge_ep.teams[left]), login.id)))
    [again], sql = _pushed_with_sql(merge_ep, "a", [op])
    assert (again["status"], again.get("replayed"), again["version"]) == (
        "applied", True, sent["version"],
    ), again  # fmt: skip
    # Found where it was kept, by a query that names the login's team (as every query on team
    # data does, for a database spread over servers by team: test_server_team_keyed_sql.py),
    # not by the unkeyed search of every team's results an upload falls back on.
    results_read = [
        q for q in (" ".join(s.lower().split()) for s in sql)
        if q.startswith("select") and "from srv_applied_op" in q
    ]  # fmt: skip
    assert all(re.search(r"srv_applied_op\.scope (in|=)", q) for q in results_read), results_read
    with merge_ep.session() as s:
        assert s.get(Record, ("contact", uuid.UUID(op["id"]))).version == sent["version"]


def test_a_laptops_second_edit_of_a_field_never_conflicts_with_its_own_first(
    ep: Endpoint,  # noqa: F811
) -> None:
    """A laptop that lost the answer to its first edit of a phone number sends its second edit
    from the same starting version: its own earlier change is not a colleague's, so the second
    edit is applied, not a conflict. The same edit from a colleague's laptop is a conflict
    naming the value stored."""
    with ep.session() as s:
        person = s.scalars(
            select(Record).where(
                Record.entity == "patient", Record.scope == ep.teams["Bicester INT"]
            )
        ).first()
        pid, base = person.id, person.version
    [first] = _push(ep, "a", _update("patient", pid, {"phone": "01632 600001"}, base))
    [second] = _push(ep, "a", _update("patient", pid, {"phone": "01632 600002"}, base))
    assert (first["status"], second["status"]) == ("applied", "applied"), second
    [theirs] = _push(ep, "b", _update("patient", pid, {"phone": "01632 600003"}, base))
    assert theirs["status"] == "conflict", theirs
    assert [(c["field"], c["server_value"], c["server_version"]) for c in theirs["conflicts"]] == [
        ("phone", "01632 600002", second["version"])
    ]
    with ep.session() as s:
        assert json.loads(s.get(Record, ("patient", pid)).data)["phone"] == "01632 600002"


def _two_teams_with_new_notes(at: Endpoint, demo, user: str) -> tuple[str, list[str]]:  # type: ignore[no-untyped-def]
    """``user`` (``a``, a coordinator, or ``sw``, a social worker) made a login of both demo
    teams and given its place in the feed; then two new notes in each team, Bicester's first.
    Returns that place and the notes' texts."""
    mine = _social_worker(at, demo) if user == "sw" else "Bicester INT"
    other = next(t for t in ("Bicester INT", "Reading West INT") if t != mine)
    with at.session() as s:
        admin.add_to_team(s, user, other)
    with at.http(user) as http:
        place = sync_env.full_download(http)[1]
    texts = []
    for team, writer in (("Bicester INT", "a"), ("Reading West INT", "c")):
        ops = []
        for i in range(2):
            texts.append(f"Left a leaflet about falls ({team}, {i})")
            note = {**_like(at, "contact", team), "kind": "note", "clinical": False}
            ops.append(_insert("contact", {**note, "text": texts[-1], "author_id": None}))
        assert [r["status"] for r in _push(at, writer, *ops)] == ["applied", "applied"]
    return place, texts


@pytest.mark.parametrize("user", ["a", "sw"], ids=["whole_rows", "cut_rows"])
def test_a_login_of_two_teams_pulls_their_changes_in_full_pages_each_once(
    ep: Endpoint,  # noqa: F811
    small_demo,  # noqa: F811
    user: str,
) -> None:  # type: ignore[no-untyped-def]
    """A login of two teams asks for pages of three: two new notes in each team come as a full
    page (filled across both teams), then the last one, each once; the page after says nothing
    more, and the audit trail counts what each page sent. For a coordinator the database writes
    the pages; for a social worker they are cut row by row."""
    cursor_now, texts = _two_teams_with_new_notes(ep, small_demo, user)
    before = _pull_entries(ep, user)
    pages = []
    for _ in range(3):  # (a page that lost its place would go round: three pages at most)
        status, page = _pulled(ep, user, {"cursor": cursor_now, "limit": 3})
        assert status == 200, page
        pages.append(([c["data"]["text"] for c in page["changes"]], page["has_more"]))
        cursor_now = page["cursor"]
    assert [(len(got), more) for got, more in pages] == [(3, True), (1, False), (0, False)]
    assert sorted(t for got, _ in pages for t in got) == sorted(texts)
    assert _pull_entries(ep, user)[len(before) :] == [
        "3 changes, 0 people purged", "1 changes, 0 people purged", "0 changes, 0 people purged",
    ]  # fmt: skip


@pytest.mark.parametrize("user", ["a", "sw"], ids=["whole_rows", "cut_rows"])
def test_a_page_one_team_fills_exactly_says_the_other_teams_changes_follow(
    ep: Endpoint,  # noqa: F811
    small_demo,  # noqa: F811
    user: str,
) -> None:  # type: ignore[no-untyped-def]
    """Pages of two for a login of two teams, after two new notes in each: one team's two fill
    the first page exactly, and that page says more follows, so the laptop asks again and the
    other team's notes arrive in this sync, not the next one."""
    cursor_now, texts = _two_teams_with_new_notes(ep, small_demo, user)
    pages: list[list[str]] = []
    more: Any = True
    while more and len(pages) < 4:  # (two pages of two, perhaps an empty last one)
        status, page = _pulled(ep, user, {"cursor": cursor_now, "limit": 2})
        assert status == 200, page
        pages.append([c["data"]["text"] for c in page["changes"]])
        more, cursor_now = page["has_more"], page["cursor"]
    assert more is False, pages
    assert len({t.split(",")[0] for t in pages[0]}) == 1, pages  # (one team's notes only)
    assert sorted(t for got in pages for t in got) == sorted(texts), pages


# --- a first download, page by page ------------------------------------------------------------


def _vcse_login(at: Endpoint, demo) -> str:  # type: ignore[no-untyped-def]
    """Login ``vcse`` for the demo's VCSE worker (two people are referred to them)."""
    from int_desk.domain.vocab import Role
    from tests.helpers.actors import actor_of_role

    with demo.session() as s:
        worker = actor_of_role(s, Role.VCSE_WORKER)
    return in_process.read_scope_tests._user(at, demo, "vcse", worker)  # type: ignore[no-any-return]


def _page_rows(page: dict[str, Any]) -> list[str]:
    """The ids of a full page's rows, in either form (rows, or tables of columns)."""
    if "tables" in page:
        return [str(r[0]) for t in page["tables"] for r in t["rows"]]
    return [c["id"] for c in page["changes"]]


@pytest.mark.parametrize(
    ("user", "form"),
    [("a", "columns"), ("a", "rows"), ("sw", "rows"), ("vcse", "rows")],
    ids=["whole_rows_in_columns", "whole_rows", "cut_rows", "referred_only"],
)
def test_each_page_of_a_first_download_holds_exactly_the_rows_asked_for_each_once(
    ep: Endpoint,  # noqa: F811
    small_demo,  # noqa: F811
    user: str,
    form: str,
) -> None:  # type: ignore[no-untyped-def]
    """A first download asked for in pages of 40: every page but the last holds exactly 40
    rows and says there is more, with the place to go on from; the last says nothing more and
    gives no place. Every row the login may hold comes once (the endpoint's own counts), the
    audit trail counts each page, and the change feed's place it ends with has nothing new."""
    if user == "sw":
        _social_worker(ep, small_demo)
    elif user == "vcse":
        _vcse_login(ep, small_demo)
    gone = _deleted_note(ep, _vcse_people(ep)[1][0] if user == "vcse" else _first_of(ep, user))
    held = sum(in_process._server_counts(ep, user).values())
    before = len(_pull_entries(ep, user, "pull_full"))
    ids: list[str] = []
    pages: list[tuple[int, bool, bool]] = []
    after = None
    with ep.http(user) as http:
        for _ in range(held // 40 + 3):  # (a download that lost its place would go round)
            body = {"full": True, "limit": 40, "form": form, **({"after": after} if after else {})}
            reply = http.post("/v1/pull", json=body)
            assert reply.status_code == 200, reply.text
            page = reply.json()
            ids += _page_rows(page)
            pages.append((len(_page_rows(page)), page["has_more"], page["after"] is not None))
            after = page["after"]
            if not page["has_more"]:
                break
        follow = http.post("/v1/pull", json={"cursor": page["cursor"]}).json()
    assert held > 40 and len(ids) == held == len(set(ids)) and gone not in ids
    if user == "vcse":  # (rows are read 40 at a time, then those of others' people left out)
        assert all(n <= 40 for n, _more, _after in pages)
        assert [(more, at) for _n, more, at in pages] == [(True, True)] * (len(pages) - 1) + [
            (False, False)
        ]
    else:
        assert pages == [(40, True, True)] * (held // 40) + [(held % 40, False, False)]
    assert _pull_entries(ep, user, "pull_full")[before:] == [
        f"{n} rows" for n, _more, _after in pages
    ]
    assert (follow["changes"], follow["has_more"]) == ([], False)
    with ep.session() as srv:  # the audit names everyone whose rows were sent
        about = {
            p.hex
            for p in srv.scalars(
                select(Record.patient_id).where(Record.id.in_([uuid.UUID(i) for i in ids]))
            )
            if p is not None
        }
        who = srv.scalar(select(ServerUser.id).where(ServerUser.name == user))
        named = srv.scalars(
            select(AuditLogEntry.patients)
            .where(AuditLogEntry.kind == "pull_full", AuditLogEntry.user_id == who)
            .order_by(AuditLogEntry.no)
        ).all()[before:]
    assert about and {p for entry in named for p in entry.split(",") if p} == about


def test_a_first_download_in_pages_ending_where_a_kind_of_row_ends_brings_everything_once(
    ep: Endpoint,  # noqa: F811
    small_demo,  # noqa: F811
) -> None:  # type: ignore[no-untyped-def]
    """A social worker's first download (their rows cut one by one) asked for in pages that
    end exactly where one kind of row ends, and in one page exactly as big as everything they
    may hold: every row comes once, every page but the last is full, and no empty page follows
    the last. (A page filled exactly at the end of one kind of row, with more of the next kind
    waiting, once failed every time it was asked for: the laptop could never finish.)"""
    from int_desk.wire import schema

    _social_worker(ep, small_demo)
    counts = in_process._server_counts(ep, "sw")
    held = sum(counts.values())
    kinds = [counts.get(e, 0) for e in schema.ORDER]
    first_end = next(n for n in kinds if n)  # (the first kind's rows fill the first page)
    for limit in (first_end, held):
        ids: list[str] = []
        sizes: list[int] = []
        after = None
        with ep.http("sw") as http:
            for _ in range(held // limit + 3):
                body = {"full": True, "limit": limit, **({"after": after} if after else {})}
                reply = http.post("/v1/pull", json=body)
                assert reply.status_code == 200, (limit, reply.text)
                page = reply.json()
                ids += _page_rows(page)
                sizes.append(len(_page_rows(page)))
                after = page["after"]
                if not page["has_more"]:
                    break
        assert len(ids) == held == len(set(ids)), limit
        pages = -(-held // limit)
        assert sizes == [limit] * (pages - 1) + [held - limit * (pages - 1)], (limit, sizes)


def _team_of(at: Endpoint, pid: uuid.UUID) -> str:
    with at.session() as s:
        scope = s.get(Record, ("patient", pid)).scope
    return next(name for name, team in at.teams.items() if team == scope)


def _first_of(at: Endpoint, user: str) -> uuid.UUID:
    """The first person (by id) of ``user``'s first team."""
    with at.session() as s:
        who = s.scalar(select(ServerUser.id).where(ServerUser.name == user))
        from int_desk.server.models import ServerTeamUser

        teams = [str(t) for t in s.scalars(
            select(ServerTeamUser.team_id).where(ServerTeamUser.user_id == who)
        )]  # fmt: skip
        return s.scalars(
            select(Record.id)
            .where(Record.entity == "patient", Record.scope == min(teams))
            .order_by(Record.id)
        ).first()


def _deleted_note(at: Endpoint, pid: uuid.UUID) -> str:
    """A note about ``pid`` written and deleted before it was sent (by a coordinator of their
    team): the endpoint holds it deleted; its id."""
    team = _team_of(at, pid)
    note = {**_like(at, "contact", team), "kind": "note", "clinical": False, "author_id": None}
    op = _insert(
        "contact", {**note, "patient_id": str(pid), "text": "Wrong person", "deleted": True}
    )
    writer = "a" if team == "Bicester INT" else "c"
    assert _push(at, writer, op)[0]["status"] == "applied"
    return str(op["id"])


@pytest.mark.parametrize(
    ("entity", "changes"),
    [
        ("patient", {"phone": "01632 700001", "communication_needs": "Large print letters"}),
        ("flag", {"note": "Now uses a stick indoors"}),  # its patient_id sent as held
    ],
)
def test_an_edit_carrying_unchanged_fields_stores_the_changed_ones(
    ep: Endpoint,  # noqa: F811
    entity: str,
    changes: dict[str, str],
) -> None:
    """A laptop may send a record whole, most fields as the endpoint holds them (a flag's
    person among them: unchanged, so not a move): the ones that changed are stored, wherever
    they come among the rest."""
    with ep.session() as s:
        row = s.scalars(
            select(Record).where(
                Record.entity == entity,
                Record.scope == ep.teams["Bicester INT"],
                Record.deleted.is_(False),
            )
        ).first()
        rid, base, data = row.id, row.version, json.loads(row.data)
    whole = {**data, **changes}
    [result] = _push(ep, "a", _update(entity, rid, whole, base))
    assert (result["status"], result["version"] > base) == ("applied", True), result
    with ep.session() as s:
        stored = json.loads(s.get(Record, (entity, rid)).data)
    assert stored == {**data, **whole}


def _pushed_with_sql(
    at: Endpoint, user: str, ops: list[dict[str, Any]]
) -> tuple[list[dict[str, Any]], list[str]]:
    """One upload's results, and the SQL statements the endpoint ran to apply it."""
    from sqlalchemy import event
    from sqlalchemy.engine import Engine

    seen: list[str] = []

    def count(_conn: Any, _cursor: Any, statement: str, *_args: Any) -> None:
        seen.append(statement)

    event.listen(Engine, "before_cursor_execute", count)
    try:
        results = _push(at, user, *ops)
    finally:
        event.remove(Engine, "before_cursor_execute", count)
    return results, seen


def _statements(at: Endpoint, user: str, ops: list[dict[str, Any]]) -> int:
    """How many SQL statements the endpoint runs to apply one upload of ``ops``."""
    results, seen = _pushed_with_sql(at, user, ops)
    assert {r["status"] for r in results} == {"applied"}, results
    return len(seen)


def test_an_upload_about_many_people_costs_no_more_statements_than_one_about_one(
    ep: Endpoint,  # noqa: F811
) -> None:
    """The endpoint reads the rows an upload's new rows hang from (their people, their care
    plans, their huddles, their cohorts) together, not one by one: an upload of notes about six
    people, goals in four plans, attendees of four huddles and people added to both the team's
    cohorts runs as many statements as one of each."""
    team = ep.teams["Bicester INT"]
    with ep.session() as s:
        people = s.scalars(
            select(Record.id)
            .where(Record.entity == "patient", Record.scope == team)
            .order_by(Record.id)
        ).all()[:6]
        plans = [
            (r.id, r.patient_id)
            for r in s.scalars(
                select(Record)
                .where(Record.entity == "care_plan", Record.scope == team)
                .order_by(Record.id)
            )
        ][:4]
        huddles = s.scalars(
            select(Record.id)
            .where(Record.entity == "huddle", Record.scope == team)
            .order_by(Record.id)
        ).all()[:4]
        attending = {
            json.loads(d)["member_id"]
            for d in s.scalars(select(Record.data).where(Record.entity == "huddle_attendee"))
            if uuid.UUID(json.loads(d)["huddle_id"]) in huddles
        }
        free = [
            m for m in sorted(s.scalars(select(Record.id).where(Record.entity == "member")))
            if str(m) not in attending
        ]  # fmt: skip
        cohorts = s.scalars(
            select(Record.id)
            .where(Record.entity == "cohort", Record.scope == team, Record.deleted.is_(False))
            .order_by(Record.id)
        ).all()
        enrolled = {
            (json.loads(d)["cohort_id"], json.loads(d)["patient_id"])
            for d in s.scalars(select(Record.data).where(Record.entity == "cohort_membership"))
        }
    joining = {  # (for each cohort, the six people not in it yet)
        c: [p for p in people if (str(c), str(p)) not in enrolled] for c in cohorts
    }
    goal, attendee = _like(ep, "goal"), _like(ep, "huddle_attendee")
    membership = _like(ep, "cohort_membership")

    def upload(n_people: int, n_plans: int) -> list[dict[str, Any]]:
        notes = []
        for pid in people[:n_people]:
            note = _new_note_op(ep, "Checked in by phone")
            note["fields"]["patient_id"] = str(pid)
            notes.append(note)
        goals = [
            _insert("goal", {**goal, "care_plan_id": str(plan), "deleted": False})
            for plan, _pid in plans[:n_plans]
        ]
        newcomer = str(free.pop())  # (a member attending none of them: once per huddle)
        attendees = [
            _insert(
                "huddle_attendee",
                {**attendee, "huddle_id": str(h), "member_id": newcomer, "deleted": False},
            )
            for h in huddles[:n_plans]
        ]
        memberships = [
            _insert(
                "cohort_membership",
                {**membership, "cohort_id": str(c), "patient_id": str(p), "deleted": False},
            )
            for c, p in ((c, joining[c].pop()) for c in cohorts[:n_plans])
        ]
        return notes + goals + attendees + memberships

    assert len(people) == 6 and len(plans) == len(huddles) == 4 and len(cohorts) == 2
    assert len(joining[cohorts[0]]) >= 3 and joining[cohorts[1]], joining
    _statements(ep, "a", upload(1, 1))  # (the first upload of a connection prepares)
    one = _statements(ep, "a", upload(1, 1))
    many = _statements(ep, "a", upload(6, 4))
    assert many == one, (one, many)


def _remove(at: Endpoint, entity: str, rid: uuid.UUID) -> None:
    """The row removed on the endpoint (deleted, as a colleague's delete leaves it)."""
    with at.session() as s:
        rec = s.get(Record, (entity, rid))
        rec.data = json.dumps({**json.loads(rec.data), "deleted": True})
        rec.deleted = True


def test_a_cohort_name_or_nhs_number_held_only_by_a_removed_record_is_free_again(
    ep: Endpoint,  # noqa: F811
) -> None:
    """A new cohort named as one of the team's cohorts, or a new person with the NHS number of
    one of the team's people, sent on its own, is refused as a duplicate; once that cohort or
    person has been removed, the name or the number may be used again."""
    from int_desk.server.engine_ops import DUPLICATE_COHORT, DUPLICATE_PATIENT

    team = ep.teams["Bicester INT"]
    with ep.session() as s:
        cohort = s.scalars(
            select(Record).where(Record.entity == "cohort", Record.scope == team)
        ).first()
        person = s.scalars(
            select(Record).where(Record.entity == "patient", Record.scope == team)
        ).first()
        cohort_id, named = cohort.id, json.loads(cohort.data)
        person_id, known = person.id, json.loads(person.data)
    again = {**named, "deleted": False}
    twin = {**known, "given_name": "Another", "deleted": False}
    for entity, fields, reason in (
        ("cohort", again, DUPLICATE_COHORT), ("patient", twin, DUPLICATE_PATIENT),
    ):  # fmt: skip
        [refused] = _push(ep, "a", _insert(entity, fields))
        assert (refused["status"], refused["reason"]) == ("rejected", reason), entity
    _remove(ep, "cohort", cohort_id)
    _remove(ep, "patient", person_id)
    for entity, fields in (("cohort", again), ("patient", twin)):
        [made] = _push(ep, "a", _insert(entity, fields))
        assert made["status"] == "applied", (entity, made)


def _vcse_people(at: Endpoint) -> tuple[uuid.UUID, list[uuid.UUID]]:
    """The VCSE worker's member id and the people referred to them (login ``vcse`` made)."""
    with at.session() as s:
        member = s.scalar(select(ServerUser.member_id).where(ServerUser.name == "vcse"))
        referred = sorted(
            uuid.UUID(d["patient_id"])
            for d in map(json.loads, s.scalars(select(Record.data).where(Record.entity == "referral")))
            if d["to_member_id"] == str(member) and not d["deleted"]
        )  # fmt: skip
    return member, referred


def test_a_vcse_workers_note_about_a_referred_person_comes_back_as_stored(
    ep: Endpoint,  # noqa: F811
    small_demo,  # noqa: F811
) -> None:  # type: ignore[no-untyped-def]
    """A VCSE worker writes a (non-clinical) note about a person referred to them: the reply
    carries the note as the endpoint stored it, which their laptop keeps, as a coordinator's
    reply does. Whether they may receive a row depends on whom it is about, so the endpoint
    must judge it by that person."""
    _vcse_login(ep, small_demo)
    _member, referred = _vcse_people(ep)
    note = {
        **_like(ep, "contact"), "patient_id": str(referred[0]), "kind": "note", "clinical": False,
        "text": "Went with them to the lunch club", "author_id": None, "deleted": False,
    }  # fmt: skip
    [made] = _push(ep, "vcse", _insert("contact", note))
    assert made["status"] == "applied", made
    assert (made["row"]["e"], made["row"]["data"]["text"], made["row"]["v"]) == (
        "contact", "Went with them to the lunch club", made["version"],
    ), made  # fmt: skip


def test_a_vcse_worker_adding_a_goal_to_a_referred_persons_plan_is_refused_for_their_role(
    ep: Endpoint,  # noqa: F811
    small_demo,  # noqa: F811
) -> None:  # type: ignore[no-untyped-def]
    """A VCSE worker's laptop (or a script with its token) adding a goal to the care plan of a
    person referred to them is refused because their role may not edit care plans: the
    endpoint knows whom the goal is about from its plan, so the refusal is not the one for
    people not referred to them. Nothing is stored."""
    _vcse_login(ep, small_demo)
    _member, referred = _vcse_people(ep)
    with ep.session() as s:
        plan = s.scalars(
            select(Record.id).where(Record.entity == "care_plan", Record.patient_id.in_(referred))
        ).first()
    goal = _insert("goal", {**_like(ep, "goal"), "care_plan_id": str(plan), "deleted": False})
    [refused] = _push(ep, "vcse", goal)
    assert (refused["status"], refused["reason"]) == (
        "rejected", "forbidden: the role 'VCSE worker' may not edit a care plan",
    )  # fmt: skip
    with ep.session() as s:
        assert s.get(Record, ("goal", uuid.UUID(goal["id"]))) is None


def test_a_membership_of_another_teams_cohort_or_of_no_cohort_is_refused(
    ep: Endpoint,  # noqa: F811
) -> None:
    """A cohort membership for one of the team's people naming another team's cohort, or a
    cohort the endpoint has never held, is refused: the row's cohort is not known to the
    server (it would dangle on every laptop of the team). Nothing is stored."""
    with ep.session() as s:
        theirs = s.scalars(
            select(Record.id).where(
                Record.entity == "cohort", Record.scope == ep.teams["Reading West INT"]
            )
        ).first()
    enrol = _like(ep, "cohort_membership")
    ops = [
        _insert("cohort_membership", {**enrol, "cohort_id": str(c), "deleted": False})
        for c in (theirs, uuid.uuid4())
    ]
    results = _push(ep, "a", *ops)
    assert [(r["status"], r["reason"]) for r in results] == [
        ("rejected", "the row's cohort is not known to the server")
    ] * 2
    with ep.session() as s:
        assert [s.get(Record, ("cohort_membership", uuid.UUID(o["id"]))) for o in ops] == [
            None, None,
        ]  # fmt: skip


def test_a_person_newly_referred_to_a_vcse_worker_arrives_without_what_was_deleted(
    ep: Endpoint,  # noqa: F811
    small_demo,  # noqa: F811
) -> None:  # type: ignore[no-untyped-def]
    """A person of the team newly referred to a VCSE worker arrives whole at their next pull
    (their record, the referral, their notes), live rows only: a note deleted before the
    referral is not sent, and every row sent is about that person or is the worker's own."""
    _vcse_login(ep, small_demo)
    member, referred = _vcse_people(ep)
    team = _team_of(ep, referred[0])
    with ep.session() as s:
        newcomer = next(
            p for p in s.scalars(
                select(Record.id)
                .where(Record.entity == "patient", Record.scope == ep.teams[team])
                .order_by(Record.id)
            )
            if p not in referred
        )  # fmt: skip
    gone = _deleted_note(ep, newcomer)
    with ep.http("vcse") as http:  # (the laptop's place: after the note was deleted)
        place = sync_env.full_download(http)[1]
    referral = {
        **_like(ep, "referral", team), "patient_id": str(newcomer), "to_member_id": str(member),
        "status": "sent", "deleted": False,
    }  # fmt: skip
    writer = "a" if team == "Bicester INT" else "c"
    assert _push(ep, writer, _insert("referral", referral))[0]["status"] == "applied"
    status, page = _pulled(ep, "vcse", {"cursor": place})
    assert status == 200, page
    sent = {c["id"]: c for c in page["changes"]}
    assert str(newcomer) in sent and gone not in sent
    assert not [c for c in sent.values() if c["del"]]
    with ep.session() as s:
        about = {
            str(r.id): r.patient_id
            for r in s.scalars(select(Record).where(Record.id.in_([uuid.UUID(i) for i in sent])))
        }
    assert set(about.values()) == {newcomer}


def test_deleting_a_flag_a_colleague_changed_since_is_a_conflict_naming_the_field_as_held(
    ep: Endpoint,  # noqa: F811
) -> None:
    """A laptop deletes a flag that a colleague changed since it last saw it: the delete is a
    conflict, not applied; like every conflict it names the field as the endpoint holds it
    (not deleted), with the version, the person and the time that last set that field."""
    with ep.session() as s:
        flag = s.scalars(
            select(Record).where(
                Record.entity == "flag",
                Record.scope == ep.teams["Bicester INT"],
                Record.deleted.is_(False),
            )
        ).first()
        fid, base = flag.id, flag.version
    [edit] = _push(ep, "a", _update("flag", fid, {"note": "Now uses a stick indoors"}, base))
    assert edit["status"] == "applied", edit
    with ep.session() as s:
        stamp = json.loads(s.get(Record, ("flag", fid)).field_meta)["deleted"]
    [delete] = _push(ep, "b", _update("flag", fid, {"deleted": True}, base))
    assert delete["status"] == "conflict", delete
    [c] = delete["conflicts"]
    assert (c["field"], c["server_value"], c["server_version"], c["server_by"], c["server_at"]) == (
        "deleted", False, stamp[0], stamp[2], stamp[3],
    )  # fmt: skip
    with ep.session() as s:
        assert s.get(Record, ("flag", fid)).deleted is False


def test_an_upload_sent_again_after_its_note_was_deleted_and_forgotten_is_answered_without_it(
    ep: Endpoint,  # noqa: F811
) -> None:
    """A laptop resends an upload whose note has since been deleted and the deletion forgotten
    by the endpoint's clean-up: the upload is answered from what was stored (applied, sent
    again), with no record to carry, and nothing is made again."""
    note = _new_note_op(ep, "Resent long after")
    batch = {"batch_id": str(uuid.uuid4()), "ops": [note]}
    with ep.http("a") as http:
        first = http.post("/v1/push", json=batch).json()["results"][0]
    assert first["status"] == "applied", first
    [gone] = _push(ep, "a", _update("contact", note["id"], {"deleted": True}, first["version"]))
    assert gone["status"] == "applied", gone
    with ep.session() as s:
        assert admin.compact(s, older_than_days=0) >= 1
        assert s.get(Record, ("contact", uuid.UUID(note["id"]))) is None
    with ep.http("a") as http:
        reply = http.post("/v1/push", json=batch)
    assert reply.status_code == 200, reply.text
    [again] = reply.json()["results"]
    assert (again["status"], again["replayed"], "row" in again) == ("applied", True, False)
    with ep.session() as s:
        assert s.get(Record, ("contact", uuid.UUID(note["id"]))) is None


@pytest.mark.postgres
def test_two_uploads_merging_into_one_row_after_a_retry_both_keep_their_edit(
    pg_ep: Endpoint,  # noqa: F811
) -> None:
    """Two colleagues change different fields of one person at the same moment, and each
    upload also names a person of another team (a laptop that has not heard of a move yet), so
    the endpoint applies each a second time, searching every team (``careful``). There too the
    second upload reads the person only once the first has written them (``FOR UPDATE``): both
    edits are kept, neither lost nor turned into a conflict. The test holds the team's lock
    until both uploads are waiting, so the two overlap every time."""
    from tests.test_endpoint_merge import _overlapping

    ours = _held(pg_ep, "patient")[:2]
    theirs = _held(pg_ep, "patient", "Reading West INT")[:2]
    edits = {
        "a": {"phone": "01632 333333"},
        "b": {"communication_needs": "Needs a BSL interpreter"},
    }
    results: dict[str, list[dict[str, Any]]] = {}

    def upload(user: str) -> Callable[[], None]:
        return lambda: results.update({user: _push(
            pg_ep, user, _update("patient", ours[0], edits[user], ours[1]),
            _update("patient", theirs[0], {"phone": "01632 999999"}, theirs[1]),
        )})  # fmt: skip

    _overlapping(pg_ep, "Bicester INT", *map(upload, edits))
    assert {u: [r["status"] for r in got] for u, got in results.items()} == {
        "a": ["applied", "rejected"], "b": ["applied", "rejected"],
    }, results  # fmt: skip
    with pg_ep.session() as s:
        stored = json.loads(s.get(Record, ("patient", ours[0])).data)
        assert json.loads(s.get(Record, ("patient", theirs[0])).data)["phone"] != "01632 999999"
    assert (stored["phone"], stored["communication_needs"]) == (
        "01632 333333", "Needs a BSL interpreter",
    )  # fmt: skip


def test_a_conflict_on_a_field_with_no_stamp_of_its_own_names_the_rows_last_change(
    merge_ep: Endpoint,  # noqa: F811
) -> None:
    """A row kept from before fields carried their own stamps (here, the flag's ``deleted``
    has none) still answers a conflict with when the endpoint's copy last changed: the row's
    own version and time, never an empty time."""
    fid, base = _held(merge_ep, "flag")[:2]
    [edit] = _push(merge_ep, "a", _update("flag", fid, {"note": "Walks with a frame"}, base))
    assert edit["status"] == "applied", edit
    with merge_ep.session() as s:
        held = s.get(Record, ("flag", fid))
        meta = json.loads(held.field_meta)
        del meta["deleted"]
        held.field_meta = json.dumps(meta)
        version, changed_at = held.version, held.updated_at
    [delete] = _push(merge_ep, "b", _update("flag", fid, {"deleted": True}, base))
    assert delete["status"] == "conflict", delete
    [c] = delete["conflicts"]
    assert (c["field"], c["server_value"], c["server_version"], c["server_at"]) == (
        "deleted", False, version, changed_at,
    )  # fmt: skip
    assert c["server_at"]


def test_two_new_plan_versions_in_one_upload_by_a_non_clinical_writer_keep_the_clinical_summary(
    merge_ep: Endpoint,  # noqa: F811
    small_demo,  # noqa: F811
) -> None:  # type: ignore[no-untyped-def]
    """A social worker's laptop holds a care plan's clinical fields blank. Offline it makes a new
    version of the plan, then another from that one, and sends both in one upload: each new
    version takes the clinical summary from the version it continues, the second from the
    first, made in the same upload, so neither loses what the clinicians wrote."""
    team = merge_ep.teams[_social_worker(merge_ep, small_demo)]
    with merge_ep.session() as s:
        plans = s.scalars(
            select(Record).where(
                Record.entity == "care_plan", Record.scope == team, Record.deleted.is_(False)
            )
        ).all()
        plan = next(p for p in plans if json.loads(p.data).get("clinical_summary"))
        before = json.loads(plan.data)
    blank = {"clinical_summary": "", "medicines_notes": "", "created_at": NOW, "updated_at": NOW}
    blank |= {"status": "draft", "signed_off_by": None, "signed_off_at": None}  # new drafts
    first, second = uuid.uuid4(), uuid.uuid4()
    v2 = {**before, "previous_version_id": str(plan.id), **blank}
    v2["version"] = before["version"] + 1
    v3 = {**v2, "previous_version_id": str(first), "version": before["version"] + 2}
    for version in (v2, v3):
        version.pop("id", None)
    results = _push(
        merge_ep, "sw", _insert("care_plan", v2, first), _insert("care_plan", v3, second)
    )
    assert [r["status"] for r in results] == ["applied", "applied"], results
    with merge_ep.session() as s:
        made = [json.loads(s.get(Record, ("care_plan", i)).data) for i in (first, second)]
    assert [v["clinical_summary"] for v in made] == [before["clinical_summary"]] * 2
    assert [v["medicines_notes"] for v in made] == [before["medicines_notes"]] * 2
