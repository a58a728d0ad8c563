"""Rows from the endpoint a laptop cannot store (``sync/incoming.py``), against the real
endpoint served in this process: each is set aside with its reason, the rest of its page is
kept, support's log says which page and which rows, and a repaired row replaces the entry.

tests/test_sync_bad_rows.py proves the same against an endpoint process (and the admin's
commands); here the client's code runs where the broad mutation score's sync-client target
can judge it (tests/mutation/broad.py).
"""

from __future__ import annotations

import functools
import json
import operator
import uuid
from collections.abc import Callable
from pathlib import Path
from typing import Any

import httpx
import pytest
from sqlalchemy import func, select, update

from int_desk.server import admin, directory, repair
from int_desk.server.models import Record
from int_desk.store import changes
from int_desk.store import models as m
from int_desk.store.sync_tables import SyncConflict, SyncOutbox
from int_desk.store.wire_entities import SYNCED_TABLES
from int_desk.store.workspace import Workspace
from int_desk.sync import incoming, local
from int_desk.sync.client import SyncEngine
from int_desk.wire import protocol as P
from int_desk.wire import schema
from tests import test_sync_duplicate_patient as duplicate_tests
from tests.helpers.sync_env import Endpoint, engine, sync
from tests.test_sync_in_process import _server_counts, ep, small_template  # noqa: F401


def _spoil(ep: Endpoint, entity: str, field: str, value: object, nth: int = 0) -> uuid.UUID:  # noqa: F811
    """Write a value straight into a stored row, as an endpoint without the checks did."""
    with ep.session() as s:
        rec = s.scalars(
            select(Record).where(Record.entity == entity, Record.scope == ep.teams["Bicester INT"],
                                 Record.deleted.is_(False)).order_by(Record.id)
        ).all()[nth]  # fmt: skip
        rec.data = json.dumps({**json.loads(rec.data), field: value})
        return rec.id


def _aside(ws) -> dict[tuple[str, str], tuple[str, bool]]:  # type: ignore[no-untyped-def]
    with ws.session() as s:
        return {
            (e, rid): (info["problem"], info["del"]) for e, rid, info in incoming.quarantined(s)
        }


def test_dates_in_the_first_and_last_years_a_laptop_keeps_are_kept_and_one_before_set_aside(
    ep: Endpoint,  # noqa: F811
    laptops,
) -> None:  # type: ignore[no-untyped-def]
    """Dates are checked against the years a laptop can hold (wire.schema's MIN_YEAR and
    MAX_YEAR, as the endpoint checks them): a task completed on the first day of the first year
    and one on the last day of the last year arrive as sent; one a year earlier is set aside."""
    from int_desk.wire import schema

    first = f"{schema.MIN_YEAR:04d}-01-01T00:00:00.000000+00:00"
    last = f"{schema.MAX_YEAR:04d}-12-31T12:00:00.000000+00:00"
    early = _spoil(
        ep, "task", "completed_at", f"{schema.MIN_YEAR - 1:04d}-12-31T12:00:00.000000+00:00"
    )
    kept = {
        _spoil(ep, "task", "completed_at", first, nth=1): first[:4],
        _spoil(ep, "task", "completed_at", last, nth=2): last[:4],
    }
    a = laptops(ep, "a")
    assert sync(a).quarantined == 1
    assert _aside(a) == {
        ("task", early.hex): ("task.completed_at is a date this laptop cannot use", False)
    }
    with a.session() as s:
        assert {t: str(s.get(m.Task, t).completed_at.year) for t in kept} == kept


def test_rows_a_laptop_cannot_store_are_set_aside_and_the_rest_of_their_page_kept(
    ep: Endpoint,  # noqa: F811
    laptops,
    caplog: pytest.LogCaptureFixture,
) -> None:  # type: ignore[no-untyped-def]
    note = _spoil(ep, "contact", "text", "Visited \ud800 today")
    odd = _spoil(ep, "contact", "patient_id", 12345, nth=1)  # a number where an id belongs
    task = _spoil(ep, "task", "completed_at", "9999-12-31T23:30:00.000000-05:00")
    server = _server_counts(ep, "a")
    a = laptops(ep, "a")
    with caplog.at_level("INFO", logger=incoming.__name__):
        first = sync(a)
    assert (first.quarantined, first.verified) == (3, True)
    assert first.summary().startswith(f"Synced: sent 0, received {sum(server.values()) - 3}, ")
    assert first.notes == ["3 records set aside this time"]
    assert _aside(a) == {
        ("contact", note.hex): ("text that is not valid Unicode", False),
        ("contact", odd.hex): (incoming.WRONG_KIND, False),
        ("task", task.hex): ("task.completed_at is a date this laptop cannot use", False),
    }
    with a.session() as s:  # everything else arrived, the same page's other contacts too
        assert s.get(m.Contact, note) is None and s.get(m.Task, task) is None
        stored = {e: s.query(t).count() for e, t in (("contact", m.Contact), ("task", m.Task))}
        assert local.counts(s) == server  # (the verify counts what is set aside as held)
    assert stored == {"contact": server["contact"] - 2, "task": server["task"] - 1}
    told = [r.getMessage() for r in caplog.records]  # what support reads: ids, never values
    assert "a page of contact rows could not be stored (UnicodeEncodeError)" in told
    assert sum(line.startswith("quarantined ") for line in told) == 3
    with ep.session() as s:  # which version was set aside: a repaired one replaces it
        version = s.get(Record, ("contact", note)).version
    assert (
        f"quarantined contact {note.hex} v{version} from the server: text that is not valid Unicode"
    ) in told
    with a.session() as s:
        assert {rid: info["v"] for _e, rid, info in incoming.quarantined(s)}[note.hex] == version
    assert "Visited" not in "\n".join(told)

    with ep.session() as s:  # the administrator repairs what can be repaired
        repaired, _left = repair.repair(s)
    assert repaired == 2
    after = sync(a)
    assert (after.quarantined, after.verified) == (1, True)  # the id stays set aside
    assert _aside(a) == {("contact", odd.hex): (incoming.WRONG_KIND, False)}
    with a.session() as s:
        assert s.get(m.Contact, note).text == "Visited \ufffd today"
        assert s.get(m.Task, task).completed_at is None


def test_a_pull_tells_open_screens_which_people_and_tables_it_changed(
    ep: Endpoint,  # noqa: F811
    laptops,
    monkeypatch: pytest.MonkeyPatch,
) -> None:  # type: ignore[no-untyped-def]
    """Rows from the server are written without the ORM, so the pull itself tells the change
    feed what it wrote: a caseload or plan open on a colleague's laptop reloads the people
    whose records changed (a goal's person found through its plan), and a page of more people
    than the feed lists marks everyone."""
    a, b = laptops(ep, "a"), laptops(ep, "b")
    sync(a), sync(b)
    with b.session() as s:
        first, second = s.scalars(select(m.Patient).order_by(m.Patient.id).limit(2)).all()
        first.phone = "01632 400404"
        goal = s.scalars(select(m.Goal).order_by(m.Goal.id)).first()
        goal.description = "Walk to the post office"
        planned_for = s.get(m.CarePlan, goal.care_plan_id).patient_id
        s.add(m.Contact(patient_id=second.id, kind="note", text="Rang, no answer"))
        people = {first.id, second.id, planned_for}
    sync(b)
    heard: list[changes.Changes] = []
    a.changes.subscribe(heard.append)
    sync(a)
    told = functools.reduce(operator.or_, heard)
    assert {"patient", "goal", "contact"} <= told.entities and not told.local_edit
    assert told.patient_ids == people and not told.all_patients
    monkeypatch.setattr(changes, "MAX_PEOPLE", 3)
    for crowd, phone in ((3, "01632 400505"), (4, "01632 400606")):  # as many as it lists, more
        with b.session() as s:
            edited = set(s.scalars(select(m.Patient.id).order_by(m.Patient.id).limit(crowd)))
            for pid in edited:
                s.get(m.Patient, pid).phone = phone
        sync(b)
        heard.clear()
        sync(a)
        told = functools.reduce(operator.or_, heard)
        assert told.touches("patient") and told.all_patients is (crowd > 3)
        assert told.patient_ids == (edited if crowd == 3 else frozenset())


def test_a_person_enrolled_on_two_laptops_is_adopted_with_only_the_differing_values_queued(
    ep: Endpoint,  # noqa: F811
    tmp_path: Path,
    caplog: pytest.LogCaptureFixture,
) -> None:
    """The second laptop's own copy of a person the endpoint already holds (the same NHS
    number, enrolled offline) becomes the server's record: its notes move to it, exactly the
    values that differ are queued as one update (a conflict for a person to decide, never a
    silent overwrite), support's log names the ids that were joined, and no synced row is
    reported as clashing."""
    ep.tokens["a1"] = ep.tokens["a"]
    one, two = (
        duplicate_tests._laptop(ep, tmp_path, "a1"),
        duplicate_tests._laptop(ep, tmp_path, "a2"),
    )
    try:
        first = duplicate_tests._import(one, "OX26 1AB")
        second = duplicate_tests._import(two, "OX26 9ZZ")
        for ws, pid in ((one, first), (two, second)):  # the same practice on both
            with ws.session() as s:
                s.get(m.Patient, pid).practice_id = s.scalars(
                    select(m.Organisation.id).order_by(m.Organisation.id)
                ).first()
        sync(one)
        with caplog.at_level("INFO", logger=incoming.__name__):
            refused = sync(two)  # refused as a duplicate, then the server's record adopted
        assert refused.rejected == 3  # the person, their enrolment, the note about them
        told = [r.getMessage() for r in caplog.records if r.name == incoming.__name__]
        assert told == [f"local patient {second.hex} adopted the server's {first.hex}"]
        with two.session() as s:
            ops = s.scalars(select(SyncOutbox).where(SyncOutbox.status == "pending")).all()
            queued = {
                (op.entity, op.kind, op.base_version, json.dumps(op.fields, sort_keys=True))
                for op in ops
            }
            # The update of the differing values is the importer's, as the enrolment it comes
            # from: the conflict it becomes names who on this laptop made that side.
            actor = {op.entity: op.actor_id for op in ops}
            assert actor["patient"] is not None, actor
            assert actor["patient"] == actor["cohort_membership"], actor
            note = s.scalars(select(m.Contact).where(m.Contact.text == "Called (OX26 9ZZ)")).one()
            assert note.patient_id == first and s.get(m.Patient, second) is None
        assert ("patient", "update", 0, json.dumps({"postcode": "OX26 9ZZ"})) in queued
        assert {(e, k) for e, k, _v, _f in queued} == {
            ("patient", "update"), ("cohort_membership", "insert"), ("contact", "insert"),
        }  # fmt: skip
        sent = sync(two)
        assert (sent.pushed, sent.conflicts, sent.rejected, sent.pending) == (3, 1, 0, 0)
    finally:
        one.close()
        two.close()


def test_a_person_leaving_the_team_is_purged_and_support_and_open_screens_are_told(
    ep: Endpoint,  # noqa: F811
    laptops,
    caplog: pytest.LogCaptureFixture,
) -> None:  # type: ignore[no-untyped-def]
    a = laptops(ep, "a")
    sync(a)
    with a.session() as s:
        pid = s.scalars(select(m.Patient.id).order_by(m.Patient.id)).first()
        plans = select(m.CarePlan.id).where(m.CarePlan.patient_id == pid)
        held = (
            1
            + sum(  # their row, every row about them, their plans' goals and actions
                s.scalar(select(func.count()).where(table.c.patient_id == pid)) or 0
                for name, table in SYNCED_TABLES.items()
                if "patient_id" in table.c and name != "patient"
            )
            + sum(
                s.query(model).filter(model.care_plan_id.in_(plans)).count()
                for model in (m.Goal, m.PlanAction)
            )
        )
    with ep.session() as srv:
        admin.move_patient(srv, pid, "Reading West INT")
    heard: list[changes.Changes] = []
    a.changes.subscribe(heard.append)
    with caplog.at_level("INFO", logger=incoming.__name__):
        moved = sync(a)
    assert (moved.purged, moved.verified, moved.redownloaded) == (1, True, False)
    assert ", 1 patient left your teams, " in moved.summary()
    told = [r.getMessage() for r in caplog.records if r.name == incoming.__name__]
    assert told == [f"purged 1 patients ({held} rows) that left this device's scope"]
    assert functools.reduce(operator.or_, heard).touches_patient(pid)
    with a.session() as s:
        assert s.get(m.Patient, pid) is None
        assert s.query(m.Contact).filter(m.Contact.patient_id == pid).count() == 0


def test_a_row_set_aside_is_not_counted_as_left_alone_for_an_unsent_edit(
    ep: Endpoint,  # noqa: F811
    laptops,
) -> None:  # type: ignore[no-untyped-def]
    a, b = laptops(ep, "a"), laptops(ep, "b")
    sync(a), sync(b)
    with b.session() as s:
        note = s.scalars(select(m.Contact).order_by(m.Contact.id)).first()
        note.text = "Visited, all well"
    sync(b)
    spoilt = _spoil(ep, "contact", "patient_id", 12345)  # found before storing is tried
    assert spoilt == note.id
    with a.session() as s:  # an unsent edit of another row
        s.get(
            m.Patient, s.scalars(select(m.Patient.id).order_by(m.Patient.id)).first()
        ).phone = "01632 400707"
    pull_only = engine(a, verify=False)
    try:
        pull_only._pull()
    finally:
        pull_only.http.close()
    assert (pull_only.result.pulled, pull_only.result.skipped) == (0, 0)
    assert _aside(a) == {("contact", spoilt.hex): (incoming.WRONG_KIND, False)}


def _two_laptops_of_one_team(
    ep: Endpoint,  # noqa: F811
    tmp_path: Path,
    entity: str,
) -> tuple[uuid.UUID, uuid.UUID, Workspace, Workspace]:
    """Bicester's id, a colleague not in the team, and two laptops of one login that may add
    them (to the team: an administrator; to a huddle: a care coordinator)."""
    team = uuid.UUID(ep.teams["Bicester INT"])
    with ep.session() as s:
        memberships = [
            json.loads(d)
            for d in s.scalars(select(Record.data).where(Record.entity == "team_membership"))
        ]
        in_team = {
            uuid.UUID(t["member_id"]) for t in memberships if uuid.UUID(t["team_id"]) == team
        }
        people = {
            r.id: json.loads(r.data)["role"]
            for r in s.scalars(select(Record).where(Record.entity == "member"))
        }
        newcomer = next(i for i in sorted(people) if i not in in_team and people[i] != "admin")
        user = "a"  # a care coordinator runs huddles; an administrator manages members
        if entity == "team_membership":
            user = "adm"
            head = next(i for i in sorted(in_team) if people[i] == "admin")
            admin.add_user(s, user, ["Bicester INT"], member_id=head)
        for name in (f"{user}1", f"{user}2"):
            ep.tokens[name] = admin.issue_token(s, user, name)[1]
    one, two = (
        duplicate_tests._laptop(ep, tmp_path, f"{user}1"),
        duplicate_tests._laptop(ep, tmp_path, f"{user}2"),
    )
    return team, newcomer, one, two


@pytest.mark.parametrize("entity", ["team_membership", "huddle_attendee"])
def test_a_person_added_to_a_team_or_a_huddle_on_two_laptops_offline_is_held_once(
    ep: Endpoint,  # noqa: F811
    tmp_path: Path,
    entity: str,
) -> None:
    """Two administrators add the same colleague to their team (or two coordinators to one
    huddle), each on their own laptop offline. The endpoint keeps the first and refuses the
    second as a duplicate (a laptop holds a team's members and a huddle's attendees unique, so
    a second row could never be stored: every laptop of the team would fail its verify and
    download everything again on every sync); the second laptop takes the server's row in
    place of its own, queues nothing (the values agree: no conflict for anyone to decide), and
    both laptops then sync cleanly."""
    team, newcomer, one, two = _two_laptops_of_one_team(ep, tmp_path, entity)
    model = SYNCED_TABLES[entity]
    try:
        with one.session() as s:
            huddle = s.scalars(
                select(m.Huddle.id).where(m.Huddle.team_id == team).order_by(m.Huddle.id)
            ).first()
        added = {}
        for ws in (one, two):
            with ws.session() as s:
                row = (
                    m.TeamMembership(team_id=team, member_id=newcomer, visiting=False)
                    if entity == "team_membership"
                    else m.HuddleAttendee(huddle_id=huddle, member_id=newcomer)
                )
                s.add(row)
                s.flush()
                added[ws] = row.id
        assert sync(one).pushed == 1
        refused = sync(two)
        assert (refused.rejected, refused.conflicts) == (1, 0)
        with two.session() as s:  # the server's row, in place of its own; nothing queued
            mine = select(model.c.id).where(model.c.member_id == newcomer)
            assert s.scalars(mine).all() == [added[one]]
            assert local.pending_count(s) == 0
        with ep.session() as s:
            live = s.scalars(
                select(Record.id).where(
                    Record.entity == entity, Record.scope == ep.teams["Bicester INT"],
                    Record.data.contains(str(newcomer)), Record.deleted.is_(False),
                )
            ).all()  # fmt: skip
            assert live == [added[one]]
        for ws in (one, two):
            again = sync(ws)
            assert (again.pushed, again.conflicts, again.verified) == (0, 0, True), again.notes
            assert not again.redownloaded
    finally:
        one.close()
        two.close()


class _Tampered(httpx.HTTPTransport):
    """The endpoint's incremental pages changed on their way to the laptop by ``tamper``, as a
    broken or hostile endpoint would send them; every other answer as the endpoint gave it."""

    def __init__(self, tamper: Callable[[dict[str, Any]], None]) -> None:
        super().__init__()
        self.tamper = tamper

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        answer = super().handle_request(request)
        sent = json.loads(request.content or b"{}")
        incremental = request.url.path == P.CYCLE_PATH or "cursor" in sent
        if request.url.path not in ("/v1/pull", P.CYCLE_PATH) or not incremental:
            return answer
        body = json.loads(answer.read())
        if answer.status_code == 200:
            self.tamper(body["pull"] if request.url.path == P.CYCLE_PATH else body)
        headers = [(k, v) for k, v in answer.headers.items() if k != "content-length"]
        return httpx.Response(answer.status_code, headers=headers, json=body)


def _tampered(ws, tamper: Callable[[dict[str, Any]], None], **kwargs: Any) -> SyncEngine:  # type: ignore[no-untyped-def]
    """A sync cycle of ``ws`` whose incremental pages pass through ``tamper``."""
    cycle = engine(ws, **kwargs)
    real = cycle.http
    cycle.http = httpx.Client(
        base_url=real.base_url, headers=real.headers, timeout=real.timeout,
        transport=_Tampered(tamper),
    )  # fmt: skip
    real.close()
    return cycle


def test_ids_of_people_leaving_that_the_laptop_cannot_read_are_set_aside_and_the_rest_applied(
    ep: Endpoint,  # noqa: F811
    laptops,
    caplog: pytest.LogCaptureFixture,
) -> None:  # type: ignore[no-untyped-def]
    """An endpoint that names people who left the team by ids the laptop cannot read (the text
    "None", a number: only a broken or hostile endpoint sends them) stopped every sync of the
    laptop. Those ids name no one it holds: they are set aside with a log line that counts
    them (never their text), the person who really left is purged, the colleague's note in
    the same page is stored and everyone else stays."""
    a, b = laptops(ep, "a"), laptops(ep, "b")
    sync(a), sync(b)
    with a.session() as s:
        gone, stays = s.scalars(select(m.Patient.id).order_by(m.Patient.id).limit(2)).all()
        people = s.query(m.Patient).count()
    with b.session() as s:
        s.add(m.Contact(patient_id=stays, kind="note", text="Visited, all well"))
    sync(b)
    with ep.session() as srv:
        admin.move_patient(srv, gone, "Reading West INT")

    def unreadable(page: dict[str, Any]) -> None:
        page["purged"] += ["None", "not-a-uuid", 12345, None]

    caplog.clear()
    with caplog.at_level("INFO", logger=incoming.__name__):
        moved = _tampered(a, unreadable).run()
    assert (moved.ok, moved.purged, moved.pulled, moved.verified) == (True, 1, 1, True), moved.error
    assert ", 1 patient left your teams, " in moved.summary()
    told = [r.getMessage() for r in caplog.records if r.name == incoming.__name__]
    assert told[0] == "4 ids of people who left this device's scope could not be read: set aside"
    assert told[1].startswith("purged 1 patients (") and len(told) == 2
    with a.session() as s:
        assert s.get(m.Patient, gone) is None and s.query(m.Patient).count() == people - 1
        notes = s.scalars(select(m.Contact.text).where(m.Contact.patient_id == stays)).all()
        assert "Visited, all well" in notes
    with b.session() as s:
        s.get(m.Patient, stays).phone = "01632 400808"
    sync(b)
    caplog.clear()
    with caplog.at_level("INFO", logger=incoming.__name__):  # only ids it cannot read
        again = _tampered(a, lambda page: page["purged"].append("None")).run()
    assert (again.ok, again.purged, again.pulled) == (True, 0, 1), again.error
    assert ", left your teams" not in again.summary() and "patient left" not in again.summary()
    assert [r.getMessage() for r in caplog.records if r.name == incoming.__name__] == [
        "1 ids of people who left this device's scope could not be read: set aside"
    ]
    with a.session() as s:
        assert s.query(m.Patient).count() == people - 1
        assert s.get(m.Patient, stays).phone == "01632 400808"


def test_rows_whose_ids_the_laptop_cannot_read_are_set_aside_and_nothing_is_lost(
    ep: Endpoint,  # noqa: F811
    laptops,
    caplog: pytest.LogCaptureFixture,
) -> None:  # type: ignore[no-untyped-def]
    """A page whose rows carry ids the laptop cannot read, as their own id or as the person
    they are about (text such as "None", a number), stopped the sync or stored a row no screen
    could open. Each such row is set aside (one whose own id cannot be read under no id; its
    text is never written to the log), the rest of the page is stored, and the next sync's
    check finds what is missing and downloads it again: nothing the colleague wrote is lost."""
    a, b = laptops(ep, "a"), laptops(ep, "b")
    sync(a), sync(b)
    with b.session() as s:
        pid = s.scalars(select(m.Patient.id).order_by(m.Patient.id)).first()
        texts = [f"Home visit {i}" for i in range(4)]
        s.add_all(m.Contact(patient_id=pid, kind="note", text=t) for t in texts)
    sync(b)
    spoilt: list[str] = []

    def unreadable(page: dict[str, Any]) -> None:
        notes = sorted((c for c in page["changes"] if c["e"] == "contact"), key=lambda c: c["id"])
        notes[0]["id"], notes[1]["id"] = "None", 12345
        notes[2]["data"]["patient_id"] = "not-a-uuid"
        spoilt.append(notes[2]["id"])

    caplog.clear()
    with caplog.at_level("INFO", logger=incoming.__name__):
        tampered = _tampered(a, unreadable, verify=False).run()
    assert (tampered.ok, tampered.pulled, tampered.quarantined) == (True, 1, 2), tampered.error
    assert tampered.notes == ["2 records set aside this time"]
    assert _aside(a) == {
        ("contact", ""): (incoming.UNREADABLE_ID, False),
        ("contact", uuid.UUID(spoilt[0]).hex): (incoming.WRONG_KIND, False),
    }
    told = "\n".join(r.getMessage() for r in caplog.records)
    assert "quarantined contact  v" in told and "not-a-uuid" not in told and "Home" not in told
    with a.session() as s:
        held = s.scalars(select(m.Contact.text).where(m.Contact.text.in_(texts))).all()
        assert len(held) == 1 and s.get(m.Contact, uuid.UUID(spoilt[0])) is None
    checked = sync(a)  # the check finds the rows missing: downloaded again, all of them
    assert checked.redownloaded and checked.verified, checked.notes
    assert checked.notes[0] == "verify mismatch (contact): re-downloaded"
    assert _aside(a) == {("contact", ""): (incoming.UNREADABLE_ID, False)}
    with a.session() as s:
        assert sorted(s.scalars(select(m.Contact.text).where(m.Contact.text.in_(texts)))) == texts
        assert s.get(m.Contact, uuid.UUID(spoilt[0])).patient_id == pid


def test_places_deleted_and_added_again_under_their_names_reach_every_laptop_at_once(
    ep: Endpoint,  # noqa: F811
    laptops,
    caplog: pytest.LogCaptureFixture,
) -> None:  # type: ignore[no-untyped-def]
    """The administrator deletes two places, then adds new ones under the same names. A laptop
    holds the deleted ones (a tombstone keeps its name, which is unique there): the new places
    take their places at the next sync, both from one page, with no check failing and no
    download of everything."""
    a = laptops(ep, "a")
    sync(a)
    admin_ = directory.Editor("int-desk admin")
    names = ("Kidlington", "Woodstock")
    with ep.session() as s:
        first = [
            directory.save(s, "place", None, {"name": n}, base_version=None, by=admin_).id
            for n in names
        ]
    sync(a)
    with ep.session() as s:
        for pid in first:
            directory.save(s, "place", pid, {"deleted": True}, base_version=None, by=admin_)
    gone = sync(a)
    with ep.session() as s:
        second = [
            directory.save(s, "place", None, {"name": n}, base_version=None, by=admin_).id
            for n in names
        ]
    caplog.clear()
    with caplog.at_level("INFO", logger=incoming.__name__):
        again = sync(a)
    assert (again.verified, again.redownloaded, again.notes) == (True, False, []), again.notes
    assert gone.verified and again.pulled == 2
    told = sorted(r.getMessage() for r in caplog.records if r.name == incoming.__name__)
    assert told == sorted(
        f"deleted place {old.hex} gave way to the server's {new.hex}"
        for old, new in zip(first, second, strict=True)
    )
    with a.session() as s:
        for name, new in zip(names, second, strict=True):
            assert s.scalars(select(m.Place.id).where(m.Place.name == name)).all() == [new]
    assert _server_counts(ep, "a")["place"] == len(_places(a))


def _places(ws) -> list[str]:  # type: ignore[no-untyped-def]
    with ws.session() as s:
        return list(s.scalars(select(m.Place.name).where(m.Place.deleted.is_(False))))


def test_a_person_sent_under_the_nhs_number_of_another_is_set_aside_and_the_sync_goes_on(
    ep: Endpoint,  # noqa: F811
    laptops,
    caplog: pytest.LogCaptureFixture,
) -> None:  # type: ignore[no-untyped-def]
    """An endpoint that sends a person under the NHS number of another person the laptop holds
    from it (the endpoint refuses such duplicates; a broken one might not): as a new record or
    as a change of one it holds. That stopped the sync with the database's error, whose text
    holds the person's details. The laptop cannot hold both: it keeps the person it has, sets
    the other aside (told to the user; support's log names ids and never the number or name),
    stores the rest of the page, and a corrected change then replaces the entry."""
    a, b = laptops(ep, "a"), laptops(ep, "b")
    sync(a), sync(b)
    with b.session() as s:
        held, changed = s.scalars(select(m.Patient).order_by(m.Patient.id).limit(2)).all()
        changed.phone = "01632 400909"
        number, name, held_id, changed_id = held.nhs_number, held.family_name, held.id, changed.id
        s.add(m.Contact(patient_id=held_id, kind="note", text="Visited, all well"))
    sync(b)

    def clashing(page: dict[str, Any]) -> None:
        [row] = [row for row in page["changes"] if row["e"] == "patient"]
        row["data"]["nhs_number"] = number  # the change of one it holds, under the number

    caplog.clear()
    with caplog.at_level("INFO", logger=incoming.__name__):
        clashed = _tampered(a, clashing).run()
    assert (clashed.ok, clashed.verified, clashed.redownloaded) == (True, True, False)
    assert (clashed.quarantined, clashed.notes) == (1, ["1 record set aside this time"])
    assert "1 record from the server could not be stored and were set aside" in clashed.summary()
    assert _aside(a) == {("patient", changed_id.hex): (incoming.DUPLICATE, False)}
    told = "\n".join(r.getMessage() for r in caplog.records if r.name == incoming.__name__)
    assert "a page of patient rows could not be stored (IntegrityError)" in told
    assert f"quarantined patient {changed_id.hex} v" in told
    assert number not in told and name not in told
    with a.session() as s:  # the person it held as they were; the note in the page stored
        assert s.scalars(select(m.Patient.id).where(m.Patient.nhs_number == number)).all() == [
            held_id
        ]
        assert s.get(m.Patient, changed_id).phone != "01632 400909"
        assert (
            "Visited, all well"
            in s.scalars(select(m.Contact.text).where(m.Contact.patient_id == held_id)).all()
        )
    with b.session() as s:  # corrected: a newer version of the person arrives and is stored
        s.get(m.Patient, changed_id).phone = "01632 401010"
    sync(b)
    corrected = sync(a)
    assert (corrected.verified, corrected.quarantined) == (True, 0), corrected.notes
    with a.session() as s:
        assert s.get(m.Patient, changed_id).phone == "01632 401010"


def test_a_new_person_under_the_nhs_number_of_one_the_laptop_holds_is_set_aside(
    demo_ws: Workspace, caplog: pytest.LogCaptureFixture
) -> None:
    """The same for a new record (a page from an endpoint holding two people under one NHS
    number): the laptop keeps the person it holds, sets the newcomer aside naming both ids
    for support (never the number), and stores the rest of the page."""
    with demo_ws.session() as s:
        held = s.scalars(select(m.Patient).order_by(m.Patient.id)).first()
        number, held_id = held.nhs_number, held.id
        s.execute(update(m.Patient).values(server_version=1))  # (as synced from the endpoint)
    cols = schema.ENTITIES["patient"].columns
    stranger, other = uuid.uuid4(), uuid.uuid4()
    data = {c: schema.to_wire(col.kind, col.default_value()) for c, col in cols.items()}
    data.update(
        given_name="Ann", family_name="Example", date_of_birth="1940-02-01", sex="female",
        postcode="OX26 1AB", created_at="2026-01-02T10:00:00.000000+00:00",
        updated_at="2026-01-02T10:00:00.000000+00:00",
    )  # fmt: skip

    def person(rid: uuid.UUID, nhs: str) -> dict[str, Any]:
        return {"e": "patient", "id": str(rid), "v": 9, "del": False,
                "data": {**data, "nhs_number": nhs}}  # fmt: skip

    page = [person(stranger, number), person(other, "9994765914")]
    with caplog.at_level("INFO", logger=incoming.__name__), local.apply_session(demo_ws) as s:
        aside: list[str] = []
        applied, _skipped = incoming.apply_rows(s, page, set(), aside)
    assert (applied, aside) == (1, [f"{incoming.QUARANTINE}patient:{stranger.hex}"])
    told = [r.getMessage() for r in caplog.records]
    assert f"patient {stranger.hex} clashes with synced patient {held_id.hex}" in told
    assert number not in "\n".join(told)
    with demo_ws.session() as s:
        assert s.scalars(select(m.Patient.id).where(m.Patient.nhs_number == number)).all() == [
            held_id
        ]
        assert s.get(m.Patient, other).nhs_number == "9994765914"
        assert s.get(m.Patient, stranger) is None
        assert {rid: i["problem"] for _e, rid, i in incoming.quarantined(s)} == {
            stranger.hex: incoming.DUPLICATE
        }


def test_a_colleague_added_and_taken_out_again_offline_leaves_anothers_addition_alone(
    ep: Endpoint,  # noqa: F811
    tmp_path: Path,
) -> None:
    """Two administrators, each offline: one adds a colleague to the team; the other adds
    them too, then takes them out again, before syncing. That second row never reached the
    endpoint, so it claims nothing about the first administrator's: the colleague stays in the
    team, on the endpoint and on both laptops, with no conflict for anyone to decide and
    nothing left waiting. (Were the taking out sent against the first administrator's row, a
    decision nobody made about it would be put to them, or made.)"""
    team, newcomer, one, two = _two_laptops_of_one_team(ep, tmp_path, "team_membership")
    try:
        with one.session() as s:
            s.add(m.TeamMembership(team_id=team, member_id=newcomer, visiting=False))
            s.flush()
            kept = s.scalars(
                select(m.TeamMembership.id).where(m.TeamMembership.member_id == newcomer)
            ).one()
        with two.session() as s:
            mine = m.TeamMembership(team_id=team, member_id=newcomer, visiting=True)
            s.add(mine)
            s.flush()
            mine.deleted = True
        assert sync(one).pushed == 1
        second = sync(two)
        assert (second.conflicts, second.pending) == (0, 0), second.notes
        assert sync(one).verified and sync(two).verified
        for ws in (one, two):
            with ws.session() as s:
                rows = s.execute(
                    select(m.TeamMembership.id, m.TeamMembership.visiting, m.TeamMembership.deleted)
                    .where(m.TeamMembership.member_id == newcomer)
                ).all()  # fmt: skip
                assert [tuple(r) for r in rows] == [(kept, False, False)]
                assert s.scalar(select(func.count()).select_from(SyncConflict)) == 0
        with ep.session() as s:
            data = json.loads(s.get(Record, ("team_membership", kept)).data)
            assert (data["deleted"], data["visiting"]) == (False, False)
    finally:
        one.close()
        two.close()
