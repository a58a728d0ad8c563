"""The endpoint's merge, served in the test's own process, on SQLite and on PostgreSQL.

Production runs the endpoint on PostgreSQL; tests/test_sync_in_process.py serves it on SQLite.
The statements only PostgreSQL runs (the batch's rows read ``FOR UPDATE``, the team's advisory
lock and sequence bump in one statement, the changed rows and stored results written in one
statement, PostgreSQL's ``INSERT``, ``lock_scopes``) are judged here: the same merge behaviours
run against an in-process endpoint (real HTTP on 127.0.0.1, real ``create_app``) over a database
cloned per test from a seeded template on a throwaway cluster (one per session), so a mutation
run (tests/mutation/broad.py, target ``endpoint-merge``) can switch their mutants on. Two
laptops pushing into one row at the same moment are made to overlap for certain by holding the
team's lock from the test.
"""

from __future__ import annotations

import inspect
import json
import os
import re
import threading
import time
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import psycopg
import pytest
from sqlalchemy import select

from int_desk.server import directory
from int_desk.server.models import AuditLogEntry, DeviceToken, Record, ServerAudit, ServerUser
from int_desk.services import team_setup
from int_desk.services.identity import actor_for
from int_desk.store import models as m
from int_desk.store.sync_tables import SyncConflict
from int_desk.store.workspace import Workspace
from int_desk.sync import local
from int_desk.wire import protocol as P
from tests import test_sync_delete_vs_edit as delete_vs_edit
from tests import test_sync_duplicate_patient as duplicate_tests
from tests import test_sync_engine as engine_tests
from tests import test_sync_in_process as in_process
from tests.conftest import PASSPHRASE
from tests.helpers import sync_env
from tests.helpers.sync_env import Endpoint, sync
from tests.test_sync_in_process import ep, small_demo, small_template  # noqa: F401  (fixtures)

# A test on PostgreSQL needs its cluster (started by ``pg_cluster`` or by broad.py): not in the
# fast tier.
ON_PG = [pytest.mark.postgres, pytest.mark.slow]

# Set by tests/mutation/broad.py: a JSON file naming a seeded template database on a cluster it
# started for the run (its tokens and teams too), so each mutant's tests only clone it.
PG_PREPARED = "INT_DESK_IN_PROCESS_PG_TEMPLATE"


def build_pg_template(folder: Path, port: int) -> Endpoint:
    """A database on the cluster at ``port`` seeded from the small demo kept in ``folder``
    (tests/test_sync_in_process.py's template), described in ``folder/pg-template.json``."""
    url = _create(port, f"tpl_{uuid.uuid4().hex[:12]}")
    template = Endpoint(url="", db_url=url)
    ws = Workspace.open(folder / "demo", PASSPHRASE, use_keyring=False)
    try:
        sync_env.seed_demo(template, ws)
    finally:
        ws.close()
    (folder / "pg-template.json").write_text(
        json.dumps({"db_url": url, "tokens": template.tokens, "teams": template.teams})
    )
    return template


def _admin(url: str) -> psycopg.Connection[Any]:
    port = url.rsplit(":", 1)[1].split("/", 1)[0]
    return psycopg.connect(
        f"host=127.0.0.1 port={port} user=postgres dbname=postgres", autocommit=True
    )


def _create(port: int, name: str, template: str | None = None) -> str:
    url = f"postgresql+psycopg://postgres@127.0.0.1:{port}/{name}"
    with _admin(url) as conn:
        clause = f' TEMPLATE "{template}"' if template else ""
        for attempt in range(50):  # two mutants' tests cloning at once: the template is busy
            try:
                conn.execute(f'CREATE DATABASE "{name}"{clause}')
                break
            except psycopg.errors.ObjectInUse:
                if attempt == 49:
                    raise
                time.sleep(0.1)
    return url


@pytest.fixture(scope="module")
def pg_template(small_template: Endpoint, request: pytest.FixtureRequest) -> Endpoint:  # noqa: F811
    prepared = os.environ.get(PG_PREPARED)
    if prepared:
        names = json.loads(Path(prepared).read_text())
        return Endpoint(
            url="", db_url=names["db_url"], tokens=names["tokens"], teams=names["teams"]
        )
    cluster: sync_env.PgCluster = request.getfixturevalue("pg_cluster")
    folder = Path(small_template.db_url.removeprefix("sqlite:///")).parent
    return build_pg_template(folder, cluster.port)


@pytest.fixture
def pg_ep(pg_template: Endpoint) -> Iterator[Endpoint]:
    """A running endpoint (this process, 127.0.0.1) over a fresh clone of the template."""
    port = int(pg_template.db_url.rsplit(":", 1)[1].split("/", 1)[0])
    name = f"t_{uuid.uuid4().hex[:12]}"
    url = _create(port, name, template=pg_template.db_url.rsplit("/", 1)[1])
    running = sync_env.serve_in_process(url)
    running.tokens, running.teams = dict(pg_template.tokens), dict(pg_template.teams)
    yield running
    running.stop()
    with _admin(url) as conn:
        conn.execute(f'DROP DATABASE "{name}" WITH (FORCE)')


# The merge behaviours, as tests/test_sync_in_process.py runs them on SQLite (those that read
# or replace the endpoint's database file, or only test the client, are left to SQLite).
ON_POSTGRES: list[Callable[..., None]] = [
    engine_tests.test_two_clients_edit_offline_and_converge,
    engine_tests.test_same_field_edits_become_a_conflict_a_person_resolves,
    engine_tests.test_a_replayed_push_is_answered_from_its_result_and_never_applied_again,
    engine_tests.test_a_patient_leaving_the_team_is_purged_from_the_laptop,
    engine_tests.test_the_laptop_keeps_its_place_in_the_change_feed,
    duplicate_tests.test_the_same_person_enrolled_offline_on_two_laptops_becomes_one_record,
    duplicate_tests.test_a_cohort_made_offline_on_two_laptops_under_one_name_becomes_one_cohort,
    in_process.read_scope_tests.test_a_vcse_laptop_holds_only_people_referred_to_them_and_nothing_clinical,
    in_process.test_a_first_sync_brings_exactly_the_teams_records_and_says_so,
    in_process.test_edits_the_endpoint_refuses_are_set_aside_and_the_rest_still_sent,
    in_process.test_a_huddle_planned_on_one_laptop_reaches_the_teams_other_laptop,
    in_process.test_a_goal_and_an_action_added_to_a_draft_plan_reach_the_teams_other_laptop,
    in_process.test_a_new_row_for_another_team_is_refused_and_says_why,
    in_process.test_a_team_set_up_centrally_is_stored_and_counted_in_its_own_scope,
    in_process.test_small_pages_and_batches_carry_everything,
    in_process.test_new_reference_data_from_a_laptop_is_refused_and_says_it_is_managed_centrally,
]


@pytest.mark.postgres
@pytest.mark.slow
@pytest.mark.parametrize(
    "behaviour", ON_POSTGRES, ids=[t.__name__.removeprefix("test_") for t in ON_POSTGRES]
)
def test_the_merge_holds_on_postgresql(
    behaviour: Callable[..., None], pg_ep: Endpoint, request: pytest.FixtureRequest
) -> None:
    endpoints = {"ep", "endpoint", "sqlite_endpoint"}
    given = {"demo_ws": "small_demo"}  # the workspace the template was seeded from
    behaviour(**{
        name: pg_ep if name in endpoints else request.getfixturevalue(given.get(name, name))
        for name in inspect.signature(behaviour).parameters
    })  # fmt: skip


def _waiting_for_a_lock(conn: psycopg.Connection[Any]) -> int:
    row = conn.execute(  # (autocommit: each look a fresh snapshot of the activity)
        "SELECT count(*) FROM pg_stat_activity WHERE datname = current_database() "
        "AND wait_event_type = 'Lock'"
    ).fetchone()
    return int(row[0]) if row else 0


def _overlapping(at: Endpoint, team: str, *work: Callable[[], None]) -> None:
    """Run ``work`` on threads while holding ``team``'s lock (the one each push takes to number
    its changes) until all of them wait, so they overlap every time, not by chance."""
    url = at.db_url.replace("postgresql+psycopg", "postgresql")
    with psycopg.connect(url) as hold, psycopg.connect(url, autocommit=True) as look:
        key = f"int-desk:{at.teams[team]}"
        hold.execute("SELECT pg_advisory_xact_lock(hashtextextended(%s, 0))", (key,))
        threads = [threading.Thread(target=w) for w in work]
        for t in threads:
            t.start()
        sync_env.wait_for(lambda: _waiting_for_a_lock(look) >= len(work), 60, "all to wait")
        hold.commit()  # (the lock is let go: first one, then the next, goes on)
    for t in threads:
        t.join(120)


def _one_person_edited_on_two_laptops(
    at: Endpoint, laptops, on_a: dict[str, str], on_b: dict[str, str]
) -> tuple[Workspace, Workspace, uuid.UUID]:  # type: ignore[no-untyped-def]
    """Laptops of users ``a`` and ``b`` (one team), both synced, then one person's fields
    changed on each (not yet synced): ``(a, b, the person's id)``."""
    a, b = laptops(at, "a"), laptops(at, "b")
    sync(a), sync(b)
    pid = in_process._first_patient(a)
    for ws, fields in ((a, on_a), (b, on_b)):
        with ws.session() as s:
            person = s.get(m.Patient, pid)
            for name, value in fields.items():
                setattr(person, name, value)
    return a, b, pid


@pytest.mark.postgres
@pytest.mark.slow
def test_two_laptops_pushing_into_one_row_at_the_same_moment_both_keep_their_edit(
    pg_ep: Endpoint, laptops
) -> None:  # type: ignore[no-untyped-def]
    """Two colleagues change different fields of one person and sync at the same moment: the
    endpoint merges both (the second push reads the row the first wrote, ``FOR UPDATE``), and
    neither edit is lost or turned into a conflict. The test holds the team's lock (the one each
    push takes to number its changes) until both pushes have read the row and are waiting, so
    the two overlap every time, not by chance."""
    a, b, pid = _one_person_edited_on_two_laptops(
        pg_ep,
        laptops,
        {"phone": "01632 333333"},
        {"communication_needs": "Needs a BSL interpreter"},
    )
    results: dict[str, Any] = {}

    def push(name: str, ws: Workspace) -> Callable[[], None]:
        return lambda: results.update({name: sync_env.engine(ws, timeout=120).run()})

    _overlapping(pg_ep, "Bicester INT", push("a", a), push("b", b))
    assert all(r.ok and r.pushed == 1 and r.conflicts == 0 for r in results.values()), results
    sync(a), sync(b)
    for ws in (a, b):
        with ws.session() as s:
            p = s.get(m.Patient, pid)
            assert (p.phone, p.communication_needs) == ("01632 333333", "Needs a BSL interpreter")
    with pg_ep.session() as srv:
        stored = json.loads(srv.get(Record, ("patient", pid)).data)
    assert (stored["phone"], stored["communication_needs"]) == (
        "01632 333333", "Needs a BSL interpreter",
    )  # fmt: skip


@pytest.fixture
def sqlite_ep(request: pytest.FixtureRequest) -> Endpoint:
    """The in-process endpoint on SQLite: tests/test_sync_in_process.py's ``ep``."""
    return request.getfixturevalue("ep")


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=ON_PG)])
def merge_ep(request: pytest.FixtureRequest) -> Endpoint:
    """The in-process endpoint on SQLite (tests/test_sync_in_process.py's ``ep``) and on
    PostgreSQL (``pg_ep``)."""
    return request.getfixturevalue("ep" if request.param == "sqlite" else "pg_ep")


def test_a_practice_a_first_import_met_reaches_the_endpoint_awaiting_its_name(
    merge_ep: Endpoint, laptops
) -> None:  # type: ignore[no-untyped-def]
    """A first import on a connected laptop meets a practice code nobody has set up: the laptop
    makes the practice from its code alone and sync sends it. The endpoint stores it awaiting a
    name (its directory writes it) and answers with the stored row, which the laptop keeps, so
    the administrator's naming later arrives as an ordinary change, not a conflict; the team's
    other laptop receives the same practice."""
    from int_desk.domain import reference as ref

    a, b = laptops(merge_ep, "a"), laptops(merge_ep, "b")
    sync(a), sync(b)
    with merge_ep.session() as srv:
        member_a = srv.scalar(select(ServerUser.member_id).where(ServerUser.name == "a"))
    with a.session() as s:  # (a care coordinator: may import cohorts)
        made = team_setup.add_awaiting_practices(
            session=s, actor=actor_for(s, member_a), codes=["K84077"]
        )
    practice = made["K84077"]
    assert practice == ref.practice_id("K84077")
    pushed = sync(a)
    assert (pushed.pushed, pushed.rejected, pushed.conflicts) == (1, 0, 0)
    with merge_ep.session() as srv:
        rec = srv.get(Record, ("organisation", practice))
        stored = (rec.version, rec.deleted, json.loads(rec.data))
    assert stored[0] > 0 and stored[1] is False
    assert {k: stored[2][k] for k in ("code", "kind", "name")} == {
        "code": "K84077", "kind": "gp_practice", "name": "",
    }  # fmt: skip
    sync(b)
    for ws in (a, b):
        with ws.session() as s:
            org = s.get(m.Organisation, practice)
            assert (org.code, org.kind, org.name, org.deleted, org.server_version) == (
                "K84077", "gp_practice", "", False, stored[0],
            )  # fmt: skip
            assert [p.code for p in team_setup.directory(s).awaiting_names] == ["K84077"]
        assert in_process._pending(ws) == 0


def test_the_endpoint_answers_a_new_practice_awaiting_its_name_with_the_row_it_stored(
    merge_ep: Endpoint,
) -> None:
    """What the laptop keeps when a cycle stops after its push: the push's answer itself carries
    the practice as stored (its version, awaiting a name), not only the pull after it."""
    from int_desk.domain import reference as ref

    practice, now = ref.practice_id("K84078"), "2026-12-07T09:00:00.000000+00:00"
    op = {
        "op_id": str(uuid.uuid4()), "entity": "organisation", "id": str(practice),
        "kind": "insert", "base_version": None,
        "fields": {
            "name": "", "kind": "gp_practice", "code": "K84078", "place_id": None,
            "created_at": now, "updated_at": now, "deleted": False,
        },
    }  # fmt: skip
    with merge_ep.http("a") as http:
        reply = http.post("/v1/push", json={"batch_id": str(uuid.uuid4()), "ops": [op]})
    assert reply.status_code == 200, reply.text
    [result] = reply.json()["results"]
    with merge_ep.session() as srv:
        version = srv.get(Record, ("organisation", practice)).version
    assert (result["status"], result["version"]) == ("applied", version)
    row = result["row"]
    assert (row["e"], row["id"], row["v"], row["del"]) == (
        "organisation", str(practice), version, False,
    )  # fmt: skip
    assert {k: row["data"][k] for k in ("code", "kind", "name")} == {
        "code": "K84078", "kind": "gp_practice", "name": "",
    }  # fmt: skip


# --- the merge's rules, as a laptop or its user meets them (SQLite; quick) --------------------


# Endpoint-process tests of the merge that the in-process endpoint judges too (on SQLite).
ON_SQLITE: list[Callable[..., None]] = [
    in_process.read_scope_tests.test_a_non_clinical_writer_never_overwrites_clinical_fields_they_never_saw,
    duplicate_tests.test_a_cohort_made_offline_on_two_laptops_under_one_name_becomes_one_cohort,
]


@pytest.mark.parametrize(
    "behaviour", ON_SQLITE, ids=[t.__name__.removeprefix("test_") for t in ON_SQLITE]
)
def test_the_merge_holds_in_process(
    behaviour: Callable[..., None], sqlite_ep: Endpoint, request: pytest.FixtureRequest
) -> None:
    given = {"demo_ws": "small_demo"}  # the workspace the template was seeded from
    behaviour(**{
        name: sqlite_ep if name == "sqlite_endpoint" else request.getfixturevalue(given.get(name, name))
        for name in inspect.signature(behaviour).parameters
    })  # fmt: skip


def test_a_place_added_centrally_passes_every_laptops_id_check(
    sqlite_ep: Endpoint, laptops
) -> None:  # type: ignore[no-untyped-def]
    """Reference data the administrator adds is counted and fingerprinted on the endpoint as the
    laptops will hold it: the next sync, with its hourly id check, agrees and re-downloads
    nothing (a wrong fingerprint would make every laptop of every team download again)."""
    a = laptops(sqlite_ep, "a")
    sync(a)
    with sqlite_ep.session() as s:
        place = directory.save(
            s, "place", None, {"name": "Kidlington"}, base_version=None,
            by=directory.Editor("int-desk admin"),
        ).id  # fmt: skip
    checked = sync(a, full_verify=True)
    assert checked.verified is True and not checked.redownloaded, checked.notes
    assert not [n for n in checked.notes if "mismatch" in n]
    with a.session() as s:
        assert s.get(m.Place, place).name == "Kidlington"


def test_a_conflict_names_the_version_of_the_colleagues_change(
    sqlite_ep: Endpoint, laptops
) -> None:  # type: ignore[no-untyped-def]
    """The conflict a laptop keeps says which endpoint version holds the colleague's value (the
    version that last changed that field), beside their name and value."""
    a, b, pid = _one_person_edited_on_two_laptops(
        sqlite_ep, laptops,
        {"communication_needs": "Prefers phone calls in the morning"},
        {"communication_needs": "Prefers letters in large print"},
    )  # fmt: skip
    sync(a)
    with sqlite_ep.session() as srv:
        stored = srv.get(Record, ("patient", pid))
        meta = json.loads(stored.field_meta)["communication_needs"]
        changed_at = stored.updated_at
        author = srv.scalar(select(ServerUser.member_id).where(ServerUser.name == "a"))
    assert sync(b).conflicts == 1
    with a.session() as s:  # (who changed it, as the team knows them, and when)
        assert (meta[2], meta[3]) == (s.get(m.Member, author).name, changed_at)
    with b.session() as s:
        [c] = s.scalars(select(SyncConflict)).all()
        assert (c.field, c.remote_version, c.remote_by, c.remote_at) == (
            "communication_needs", meta[0], meta[2], meta[3],
        )  # fmt: skip


def test_a_row_deleted_and_restored_elsewhere_can_still_be_deleted_without_a_conflict(
    sqlite_ep: Endpoint, laptops
) -> None:  # type: ignore[no-untyped-def]
    """A colleague deleted a flag by mistake and restored it; deleting it here afterwards (from
    a laptop that saw neither) is a plain delete: no one changed its content, so there is
    nothing for anyone to resolve."""
    a, b = laptops(sqlite_ep, "a"), laptops(sqlite_ep, "b")
    sync(a), sync(b)
    with a.session() as s:
        flag = s.scalars(select(m.Flag).where(m.Flag.deleted.is_(False))).first()
        flag_id, flag.deleted = flag.id, True
    sync(a)
    with a.session() as s:
        s.get(m.Flag, flag_id).deleted = False
    sync(a)
    with b.session() as s:  # b has not synced since: its copy is the one before both changes
        s.get(m.Flag, flag_id).deleted = True
    deleted = sync(b)
    assert (deleted.pushed, deleted.conflicts) == (1, 0)
    sync(a)
    for ws in (a, b):
        with ws.session() as s:
            assert s.get(m.Flag, flag_id).deleted is True
        assert not in_process._pending(ws)


def _new_note_op(at: Endpoint, text: str) -> dict[str, Any]:
    """An insert of a note by user ``a``, shaped like a contact the endpoint holds for Bicester."""
    with at.session() as s:
        author = s.scalar(select(ServerUser.member_id).where(ServerUser.name == "a"))
        like = json.loads(
            s.scalars(
                select(Record.data).where(
                    Record.entity == "contact", Record.scope == at.teams["Bicester INT"]
                )
            ).first()
        )
    return {
        "op_id": str(uuid.uuid4()), "entity": "contact", "id": str(uuid.uuid4()),
        "kind": "insert", "base_version": None,
        "fields": {**like, "kind": "note", "text": text, "author_id": str(author)},
    }  # fmt: skip


def test_an_upload_sent_again_is_answered_as_before_and_another_device_cannot_reuse_its_op(
    merge_ep: Endpoint,
) -> None:
    """A laptop that lost the answer to an upload sends it again: it is answered from the stored
    result (the note is not added twice) with the row as stored. Another device sending an op
    with the same op id is refused with a reason, not a server error, and changes nothing. (On
    PostgreSQL an upload of new rows only, no changed ones, must still store its results.)"""
    op = _new_note_op(merge_ep, "Spoke to the carer")
    batch = {"batch_id": str(uuid.uuid4()), "ops": [op]}
    with merge_ep.http("a") as http:
        first, again = http.post("/v1/push", json=batch), http.post("/v1/push", json=batch)
    assert first.status_code == again.status_code == 200, (first.text, again.text)
    [one], [two] = first.json()["results"], again.json()["results"]
    assert (one["status"], one.get("replayed")) == ("applied", None), one
    assert (two["status"], two["replayed"], two["version"]) == ("applied", True, one["version"])
    assert (two["row"]["id"], two["row"]["v"], two["row"]["data"]["text"]) == (
        op["id"], one["version"], "Spoke to the carer",
    )  # fmt: skip
    reused = {**op, "id": str(uuid.uuid4()), "fields": {**op["fields"], "text": "Not this"}}
    with merge_ep.http("b") as http:
        reply = http.post("/v1/push", json={"batch_id": str(uuid.uuid4()), "ops": [reused]})
    assert reply.status_code == 200, reply.text
    [refused] = reply.json()["results"]
    assert (refused["status"], refused["reason"]) == (
        "rejected", "op id already used by another device",
    )  # fmt: skip
    with merge_ep.session() as s:
        texts = [json.loads(d)["text"] for d in s.scalars(
            select(Record.data).where(Record.entity == "contact")
        )]  # fmt: skip
    assert texts.count("Spoke to the carer") == 1 and "Not this" not in texts


def test_an_upload_with_bad_values_is_refused_naming_each_op_field_and_reason(
    sqlite_ep: Endpoint,
) -> None:
    """Anything holding a laptop's token may send anything: values the endpoint cannot accept
    refuse the whole upload (HTTP 422), listing for each problem the op, the field and why, in
    the same shape for every kind of problem (the laptop sets those ops aside with that text);
    nothing is stored."""
    bad_kind = _new_note_op(sqlite_ep, "first")
    bad_kind["fields"]["kind"] = 7
    missing = _new_note_op(sqlite_ep, "second")
    del missing["fields"]["text"]
    unknown = {**_new_note_op(sqlite_ep, "third"), "entity": "no_such_thing"}
    with sqlite_ep.http("a") as http:
        reply = http.post(
            "/v1/push", json={"batch_id": str(uuid.uuid4()), "ops": [bad_kind, missing, unknown]}
        )
    assert reply.status_code == 422, reply.text
    problems = reply.json()["detail"]
    assert [(p["op"], p.get("field")) for p in problems] == [(0, "kind"), (1, None), (2, None)]
    assert all(set(p) <= {"op", "field", "msg"} and p["msg"] for p in problems), problems
    assert problems[1]["msg"] == "insert lacks required fields ['text']"
    assert problems[2]["msg"] == "unknown entity 'no_such_thing'"
    with sqlite_ep.session() as s:
        ids = {op["id"] for op in (bad_kind, missing, unknown)}
        assert not [r for r in s.scalars(select(Record.id)) if str(r) in ids]


def test_a_change_to_another_teams_patient_is_refused_says_why_and_is_audited(
    sqlite_ep: Endpoint,
) -> None:
    """A Bicester login sending a change to a Reading West person (a tampered laptop, or a
    script with its token) is refused as not one of its teams, the person's record is left as it
    was, and the endpoint's audit names who tried, which record, the rule and the fields (never
    their values), for support and the Caldicott guardian."""
    other = sqlite_ep.teams["Reading West INT"]
    with sqlite_ep.session() as s:
        rec = s.scalars(
            select(Record).where(Record.entity == "patient", Record.scope == other)
        ).first()
        pid, version, before = rec.id, rec.version, rec.data
        who = s.scalar(select(ServerUser.id).where(ServerUser.name == "a"))
    fields = {**json.loads(before), "phone": "01632 444444"}
    op = {
        "op_id": str(uuid.uuid4()), "entity": "patient", "id": str(pid), "kind": "update",
        "base_version": version, "fields": fields,
    }  # fmt: skip
    with sqlite_ep.http("a") as http:
        reply = http.post("/v1/push", json={"batch_id": str(uuid.uuid4()), "ops": [op]})
    assert reply.status_code == 200, reply.text
    [result] = reply.json()["results"]
    assert (result["status"], result["reason"]) == ("rejected", "forbidden: not one of your teams")
    named = ", ".join(sorted(fields))
    assert len(named) > 300  # (a person's fields: the audit keeps the first 300 characters)
    with sqlite_ep.session() as s:
        assert (s.get(Record, ("patient", pid)).data, s.get(Record, ("patient", pid)).version) == (
            before, version,
        )  # fmt: skip
        [entry] = s.scalars(select(ServerAudit).where(ServerAudit.action == "write_denied")).all()
        device = s.scalar(select(DeviceToken.id).where(DeviceToken.user_id == who))
        assert (entry.user_id, entry.device_id, entry.entity, entry.record_id, entry.detail) == (
            who, device, "patient", pid, f"forbidden: not one of your teams (fields: {named[:300]})",
        )  # fmt: skip
        assert "01632 444444" not in entry.detail
        trail = s.scalars(
            select(AuditLogEntry).where(AuditLogEntry.record_id == pid)
        ).all()  # the chained trail: one entry for the one refused change, not two
        assert [(e.kind, e.outcome, e.user_id) for e in trail] == [("push", "rejected", who)]


def test_each_upload_leaves_the_operator_one_log_line_with_its_counts(
    sqlite_ep: Endpoint, caplog: pytest.LogCaptureFixture
) -> None:
    """The endpoint's operators follow uploads in its log: one line per push naming the device,
    how many ops it carried and how each ended (ids and counts only, nothing about a person)."""
    ops = [_new_note_op(sqlite_ep, "Home visit booked"), _new_note_op(sqlite_ep, "Carer rang")]
    at = {k: ops[0]["fields"][k] for k in ("created_at", "updated_at", "deleted")}
    refused = {  # (reference data: managed centrally)
        **_new_note_op(sqlite_ep, "-"), "entity": "place", "fields": {"name": "Kidlington", **at}
    }  # fmt: skip
    with caplog.at_level("INFO", logger="int_desk.server.engine_ops"):
        with sqlite_ep.http("a") as http:
            reply = http.post(
                "/v1/push", json={"batch_id": str(uuid.uuid4()), "ops": [*ops, refused]}
            )
    assert reply.status_code == 200, reply.text
    lines = [r.getMessage() for r in caplog.records if r.name == "int_desk.server.engine_ops"]
    assert len(lines) == 1 and re.fullmatch(
        r"push device=[0-9a-f-]{36} ops=3 \{'applied': 2, 'rejected': 1\}", lines[0]
    ), lines


def _social_worker(at: Endpoint, demo: Workspace) -> str:
    """Login ``sw`` for a social worker of the demo (their pages are cut row by row, not built
    in SQL); their team's name."""
    from int_desk.domain.vocab import Role
    from tests.helpers.actors import actor_of_role

    with demo.session() as s:
        worker = actor_of_role(s, Role.SOCIAL_WORKER)
        mine = s.get(m.Team, sorted(worker.team_ids)[0]).name
    in_process.read_scope_tests._user(at, demo, "sw", worker)
    return str(mine)


def _patients(ws: Workspace) -> set[uuid.UUID]:
    with ws.session() as s:
        return set(s.scalars(select(m.Patient.id)))


def test_a_non_clinical_laptop_receives_its_own_teams_changes_and_never_another_teams(
    sqlite_ep: Endpoint, laptops, request: pytest.FixtureRequest
) -> None:  # type: ignore[no-untyped-def]
    """A social worker's laptop gets a colleague's new note in their team on the next sync, and
    nothing another team changed."""
    mine = _social_worker(sqlite_ep, request.getfixturevalue("small_demo"))
    sw = laptops(sqlite_ep, "sw")
    sync(sw)
    colleague = next(u for u, t in (("a", "Bicester INT"), ("c", "Reading West INT")) if t == mine)
    other = "c" if colleague == "a" else "a"
    near, far = laptops(sqlite_ep, colleague), laptops(sqlite_ep, other)
    sync(near), sync(far)
    pids = {ws: in_process._first_patient(ws) for ws in (near, far)}

    def notes(pid: uuid.UUID) -> int:
        with sw.session() as s:
            return len(s.scalars(select(m.Contact.id).where(m.Contact.patient_id == pid)).all())

    held = _patients(sw)
    before = notes(pids[near])
    for ws, text in ((near, "Visited with the OT"), (far, "Another team's visit")):
        with ws.session() as s:
            s.add(m.Contact(patient_id=pids[ws], kind="home_visit", text=text))
        sync(ws)
    pulled = sync(sw)  # (an ordinary pull: nothing to download again)
    assert (pulled.pulled, pulled.redownloaded) == (1, False), pulled.notes
    assert notes(pids[near]) == before + 1 and pids[far] not in held
    assert _patients(sw) == held
    with sw.session() as s:
        assert "Another team's visit" not in set(s.scalars(select(m.Contact.text)))


def test_a_person_moved_to_another_team_leaves_a_non_clinical_laptop_at_its_next_sync(
    sqlite_ep: Endpoint, laptops, request: pytest.FixtureRequest
) -> None:  # type: ignore[no-untyped-def]
    """The administrator moves one of a social worker's team's people to another team: the
    worker's next ordinary sync removes that person and everything about them from the laptop
    (the endpoint names them among the people who left), without downloading everything again."""
    from int_desk.server import admin

    mine = _social_worker(sqlite_ep, request.getfixturevalue("small_demo"))
    sw = laptops(sqlite_ep, "sw")
    sync(sw)
    held = _patients(sw)
    moved = min(held)
    elsewhere = next(t for t in ("Bicester INT", "Reading West INT") if t != mine)
    with sqlite_ep.session() as srv:
        assert admin.move_patient(srv, moved, elsewhere) > 1
    later = sync(sw)
    assert (later.purged, later.redownloaded, later.verified) == (1, False, True), later.notes
    assert _patients(sw) == held - {moved}
    with sw.session() as s:
        assert not s.scalars(select(m.Contact.id).where(m.Contact.patient_id == moved)).all()


def test_each_page_a_laptop_receives_is_in_its_teams_audit_trail_with_its_count(
    merge_ep: Endpoint, laptops
) -> None:  # type: ignore[no-untyped-def]
    """Support and the Caldicott guardian read in the endpoint's audit trail what each laptop
    received: a colleague's three new notes pulled by the other laptop are one entry naming the
    three changes and the person they are about."""
    a, b = laptops(merge_ep, "a"), laptops(merge_ep, "b")
    sync(a), sync(b)
    pid = in_process._first_patient(a)
    in_process._add_notes(a, pid, "Phoned the daughter", 3)
    sync(a)
    assert sync(b).pulled == 3
    with merge_ep.session() as srv:
        user_b = srv.scalar(select(ServerUser.id).where(ServerUser.name == "b"))
        last = srv.scalars(
            select(AuditLogEntry)
            .where(AuditLogEntry.kind == "pull", AuditLogEntry.user_id == user_b)
            .order_by(AuditLogEntry.at.desc(), AuditLogEntry.no.desc())
        ).first()
    assert (last.detail, last.patients) == ("3 changes, 0 people purged", pid.hex)


def _first_download_in_pages(
    at: Endpoint, ws: Workspace, user: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The laptop's first sync with pages of 300 rows (5,000 in use): it follows the endpoint's
    place from page to page and ends holding exactly what the endpoint counts for ``user``, each
    row once, its id check agreeing. (A page that lost its place would send the laptop back to
    the first page for ever: the test stops it.)"""
    monkeypatch.setattr(P, "MAX_PULL_PAGE", 300)
    held = in_process._server_counts(at, user)
    enough = 2 * (sum(held.values()) // 300 + 1)  # pages a download may take, with room to spare
    pages: list[int] = []
    cycle = sync_env.engine(ws, pull_page=300)

    def progress(stage: str, done: int, _total: int) -> None:
        if stage == "download":
            pages.append(done)
            if len(pages) > enough:
                cycle.cancel.set()  # (going round: stop, and fail below)

    cycle.progress = progress
    result = cycle.run()
    assert result.ok, (result.error, len(pages))
    assert 3 <= len(pages) <= enough and result.redownloaded and result.verified is True
    assert result.pulled == sum(held.values())
    with ws.session() as s:
        assert local.counts(s) == held


def test_a_first_download_over_several_pages_brings_every_record_once(
    merge_ep: Endpoint, laptops, monkeypatch: pytest.MonkeyPatch
) -> None:  # type: ignore[no-untyped-def]
    """A team larger than one download page, in the column form the laptop asks for (written by
    the database)."""
    _first_download_in_pages(merge_ep, laptops(merge_ep, "a"), "a", monkeypatch)


def test_a_non_clinical_laptops_first_download_over_several_pages_brings_every_record_once(
    sqlite_ep: Endpoint, laptops, monkeypatch: pytest.MonkeyPatch, request: pytest.FixtureRequest
) -> None:  # type: ignore[no-untyped-def]
    """The same for a social worker, whose pages are cut row by row (rows, not columns)."""
    _social_worker(sqlite_ep, request.getfixturevalue("small_demo"))
    _first_download_in_pages(sqlite_ep, laptops(sqlite_ep, "sw"), "sw", monkeypatch)


def test_a_login_added_to_a_second_team_receives_that_teams_people_at_its_next_sync(
    merge_ep: Endpoint, laptops
) -> None:  # type: ignore[no-untyped-def]
    """The administrator adds a Bicester coordinator to Reading West as well: their laptop's
    next ordinary sync brings Reading West's people beside Bicester's (its place in the change
    feed has no mark for the new team yet: it reads that team from the start), and the counts
    agree with the endpoint's."""
    from int_desk.server import admin

    a = laptops(merge_ep, "a")
    sync(a)
    with a.session() as s:
        before = set(s.scalars(select(m.Patient.id)))
    with merge_ep.session() as srv:
        admin.add_to_team(srv, "a", "Reading West INT")
        theirs = set(
            srv.scalars(
                select(Record.id).where(
                    Record.entity == "patient",
                    Record.scope == merge_ep.teams["Reading West INT"],
                    Record.deleted.is_(False),
                )
            )
        )
    assert theirs and not theirs & before
    later = sync(a)
    assert later.verified is True and not later.redownloaded, later.notes
    with a.session() as s:
        assert set(s.scalars(select(m.Patient.id))) == before | theirs
        assert local.counts(s) == in_process._server_counts(merge_ep, "a")


def test_each_refused_change_says_why_in_words_the_user_can_act_on(sqlite_ep: Endpoint) -> None:
    """The laptop shows a refused change's reason beside it: a renamed place (reference data,
    named centrally), a note about a person the endpoint does not hold, and a note moved to
    another person each come back refused with their own reason; nothing is stored."""
    with sqlite_ep.session() as s:
        place = s.scalars(select(Record).where(Record.entity == "place")).first()
        note = s.scalars(
            select(Record).where(
                Record.entity == "contact", Record.scope == sqlite_ep.teams["Bicester INT"]
            )
        ).first()
        other = s.scalars(
            select(Record.id).where(
                Record.entity == "patient",
                Record.scope == note.scope,
                Record.id != note.patient_id,
            )
        ).first()
        before = {(r.entity, r.id): (r.version, r.data) for r in (place, note)}
    renamed = {**json.loads(place.data), "name": "Kidlington Hub"}
    stray = _new_note_op(sqlite_ep, "About someone the endpoint has never had")
    stray["fields"]["patient_id"] = str(uuid.uuid4())
    moved = {**json.loads(note.data), "patient_id": str(other)}
    ops = [
        {"entity": "place", "id": str(place.id), "fields": renamed, "base": place.version},
        {"entity": "contact", "id": stray["id"], "fields": stray["fields"], "base": None},
        {"entity": "contact", "id": str(note.id), "fields": moved, "base": note.version},
    ]
    batch = [
        {
            "op_id": str(uuid.uuid4()), "entity": o["entity"], "id": o["id"],
            "kind": "insert" if o["base"] is None else "update", "base_version": o["base"],
            "fields": o["fields"],
        }
        for o in ops
    ]  # fmt: skip
    with sqlite_ep.http("a") as http:
        reply = http.post("/v1/push", json={"batch_id": str(uuid.uuid4()), "ops": batch})
    assert reply.status_code == 200, reply.text
    assert [(r["status"], r["reason"]) for r in reply.json()["results"]] == [
        ("rejected", "reference data is managed centrally"),
        ("rejected", "the row's patient or team is not known to the server"),
        ("rejected", "forbidden: contact.patient_id cannot be changed once set"),
    ]
    with sqlite_ep.session() as s:
        assert s.get(Record, ("contact", uuid.UUID(stray["id"]))) is None
        for (entity, rid), kept in before.items():
            assert (s.get(Record, (entity, rid)).version, s.get(Record, (entity, rid)).data) == kept


def test_a_download_position_is_refused_to_a_login_that_may_see_less(
    sqlite_ep: Endpoint, laptops, request: pytest.FixtureRequest
) -> None:  # type: ignore[no-untyped-def]
    """A place in a full download, made for a coordinator, replayed by a social worker's token
    (who may read less of each record) is refused with a re-download: no page of what the
    coordinator may see is written for them."""
    _social_worker(sqlite_ep, request.getfixturevalue("small_demo"))
    with sqlite_ep.http("a") as http:
        first = http.post("/v1/pull", json={"full": True, "limit": 50})
    assert first.status_code == 200 and first.json()["has_more"], first.text
    with sqlite_ep.http("sw") as http:
        replayed = http.post("/v1/pull", json={"full": True, "after": first.json()["after"]})
    assert replayed.status_code == 410, replayed.text
    assert replayed.json()["detail"] == "Re-download needed: what this user may see has changed"


def test_a_delete_and_an_edit_made_apart_never_silently_beat_each_other(
    sqlite_ep: Endpoint, tmp_path: Path
) -> None:
    """tests/test_sync_delete_vs_edit.py's two rounds, in process, on a few kinds of record: a
    delete never silently beats a colleague's edit, and an edit never silently undoes a delete
    (the editing laptop keeps its edit in a conflict; "keep mine" restores the row with it)."""
    delete_vs_edit._round(sqlite_ep, tmp_path, "a", ["patient", "flag", "contact", "care_plan"])


def test_restoring_a_row_a_colleague_deleted_again_since_is_a_conflict(
    sqlite_ep: Endpoint, laptops
) -> None:  # type: ignore[no-untyped-def]
    """A colleague deleted a flag, restored it, then deleted it for good. A laptop that saw only
    the first delete restores the flag: that would silently undo a delete its user never saw,
    so it is a conflict for them to decide, and the flag stays deleted until they do."""
    a, b = laptops(sqlite_ep, "a"), laptops(sqlite_ep, "b")
    sync(a), sync(b)
    with b.session() as s:
        flag_id = s.scalars(select(m.Flag.id).where(m.Flag.deleted.is_(False))).first()

    def set_deleted(ws: Workspace, deleted: bool) -> None:
        with ws.session() as s:
            s.get(m.Flag, flag_id).deleted = deleted
        sync(ws)

    set_deleted(b, True)
    sync(a)  # (a has seen this delete, and no change after it)
    set_deleted(b, False)
    set_deleted(b, True)
    with a.session() as s:
        s.get(m.Flag, flag_id).deleted = False
    restored = sync(a)
    assert (restored.pushed, restored.conflicts) == (1, 1), restored
    with a.session() as s:
        [c] = s.scalars(select(SyncConflict)).all()
        assert (c.entity_id, c.field, c.local_value, c.remote_value) == (
            flag_id, "deleted", False, True,
        )  # fmt: skip
        assert s.get(m.Flag, flag_id).deleted is True
    with sqlite_ep.session() as srv:
        assert srv.get(Record, ("flag", flag_id)).deleted is True
