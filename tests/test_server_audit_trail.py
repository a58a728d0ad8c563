"""The endpoint's chained audit trail (server/sync_audit.py): every read and write through a real
endpoint leaves an entry naming the login, team member, device, person and what was done (field
names, never values); a refused push too; tampering with any stored fact breaks verification at
that entry; two endpoint processes on one database keep one valid chain; the admin command
filters it. On SQLite and PostgreSQL."""

from __future__ import annotations

import json
import subprocess
import sys
import threading
import uuid

import httpx
import pytest
from sqlalchemy import select, text, update
from sqlalchemy.exc import IntegrityError

from int_desk.server import sync_audit
from int_desk.server.models import AuditLogEntry, DeviceToken, Record, ServerUser
from int_desk.wire.protocol import PROTOCOL_HEADER, PROTOCOL_VERSION
from tests.helpers import sync_env
from tests.helpers.sync_env import Endpoint, full_download

NOW = "2026-11-20T10:00:00.000000+00:00"
SECRET_NOTE = "Secret note about Zebedee's leg ulcer"
SECRET_PHONE = "01632 960 123"


def _op(entity: str, rid: uuid.UUID, fields: dict, *, kind: str = "update", base: int | None = 1):
    return {
        "op_id": str(uuid.uuid4()), "entity": entity, "id": str(rid), "kind": kind,
        "base_version": base, "fields": fields,
    }  # fmt: skip


def _note(pid: uuid.UUID, words: str) -> dict:
    return _op(
        "contact", uuid.uuid4(),
        {
            "patient_id": str(pid), "kind": "note", "occurred_at": NOW, "text": words,
            "clinical": True, "created_at": NOW, "updated_at": NOW, "deleted": False,
        },
        kind="insert", base=None,
    )  # fmt: skip


def _who(ep: Endpoint, user: str) -> tuple[uuid.UUID, uuid.UUID | None, uuid.UUID]:
    """A user's login id, member id and device token id."""
    with ep.session() as s:
        uid, member = s.execute(
            select(ServerUser.id, ServerUser.member_id).where(ServerUser.name == user)
        ).one()
        device = s.scalar(select(DeviceToken.id).where(DeviceToken.user_id == uid))
    return uid, member, device


def _entries(ep: Endpoint, **filters) -> list:
    with ep.session() as s:
        return list(reversed(sync_audit.query(s, limit=10_000, **filters)))


def _dump(ep: Endpoint) -> str:
    with ep.session() as s:
        return "\n".join(str(tuple(r)) for r in s.execute(select(AuditLogEntry)))


def _team_patients(ep: Endpoint, team: str) -> list[uuid.UUID]:
    with ep.session() as s:
        return list(
            s.scalars(
                select(Record.id)
                .where(Record.entity == "patient", Record.scope == ep.teams[team])
                .order_by(Record.id)
            )
        )


def test_every_sync_read_and_write_is_chained_with_who_device_person_and_what(
    endpoint: Endpoint,
) -> None:
    ep = endpoint
    team = ep.teams["Bicester INT"]
    uid, member, device = _who(ep, "a")
    mine = _team_patients(ep, "Bicester INT")
    theirs = _team_patients(ep, "Reading West INT")
    with ep.http("a") as a:
        rows, cursor = full_download(a)
        sent = {uuid.UUID(r["data"]["patient_id"]) for r in rows if r["data"].get("patient_id")}
        edited, noted = mine[0], mine[1]
        version = next(r["v"] for r in rows if r["e"] == "patient" and r["id"] == str(edited))
        push = a.post(
            "/v1/push",
            json={
                "batch_id": str(uuid.uuid4()),
                "ops": [
                    _op("patient", edited, {"phone": SECRET_PHONE}, base=version),
                    _note(noted, SECRET_NOTE),
                    _op("patient", theirs[0], {"phone": SECRET_PHONE}),  # another team's
                ],
            },
        ).json()
        statuses = [r["status"] for r in push["results"]]
        assert statuses[:2] == ["applied", "applied"] and statuses[2] == "rejected"
        page = a.post("/v1/pull", json={"cursor": cursor}).json()
        assert page["changes"]
        assert a.get("/v1/verify").status_code == 200
        bad = a.post("/v1/push", json={"batch_id": str(uuid.uuid4()), "ops": [
            _op("patient", edited, {"phone": 12})]})  # fmt: skip
        assert bad.status_code == 422

    entries = _entries(ep, user_id=uid)
    kinds = [e.kind for e in entries]
    assert kinds == ["pull_full"] * kinds.count("pull_full") + [
        "push", "push", "push", "pull", "verify", "push_refused",
    ]  # fmt: skip
    for e in entries:  # who and which device, every time
        assert (e.user_id, e.member_id, e.device_id) == (uid, member, device)
    # The full download: every person whose rows were sent is named, and nobody else.
    named = {
        uuid.UUID(p) for e in entries if e.kind == "pull_full" for p in e.patients.split(",") if p
    }
    assert named == sent and named <= set(mine)
    assert all(e.chain == team for e in entries if e.kind == "pull_full")
    # Each op: its person, record, kind and the field NAMES; the refusal with its reason.
    edit, note, refused = (e for e in entries if e.kind == "push")
    assert (edit.entity, edit.record_id, edit.patient_id) == ("patient", edited, edited)
    assert (edit.outcome, edit.detail) == ("applied", "update: phone")
    assert (note.entity, note.patient_id, note.outcome) == ("contact", noted, "applied")
    assert note.detail.startswith("insert: ") and "text" in note.detail.split(": ")[1].split(",")
    assert (refused.outcome, refused.record_id, refused.patient_id) == (
        "rejected",
        theirs[0],
        theirs[0],
    )
    assert "phone" in refused.detail
    # The incremental pull names the people whose changes it carried.
    pull = entries[kinds.index("pull")]
    assert {edited.hex, noted.hex} <= set(pull.patients.split(","))
    assert entries[-1].outcome == "422" and entries[-1].detail.startswith("1 ops")
    # Nothing clinical or identifying is kept: no value sent, no NHS number.
    dump = _dump(ep)
    assert SECRET_NOTE not in dump and SECRET_PHONE not in dump and "Zebedee" not in dump
    with ep.session() as s:
        numbers = list(s.scalars(select(Record.nhs_number).where(Record.nhs_number.is_not(None))))
        checks = sync_audit.verify(s)
    assert numbers and not any(n in dump for n in numbers)
    assert checks and all(c.intact for c in checks), checks


def test_a_fhir_read_is_chained_with_the_people_it_returned(endpoint: Endpoint) -> None:
    ep = endpoint
    uid, _member, _device = _who(ep, "a")
    patient = _team_patients(ep, "Bicester INT")[0]
    with ep.http("a") as a:
        r = a.get(f"/fhir/R4/Patient/{patient}")
        assert r.status_code == 200
        assert (
            a.get(f"/fhir/R4/Patient/{_team_patients(ep, 'Reading West INT')[0]}").status_code
            == 404
        )
    reads = _entries(ep, user_id=uid, kinds=["fhir_read"])
    assert [(e.entity, e.outcome) for e in reads] == [("Patient", "200"), ("Patient", "404")]
    assert reads[0].patients == patient.hex and reads[0].chain == ep.teams["Bicester INT"]
    assert reads[1].patients == ""


@pytest.fixture
def trail(request: pytest.FixtureRequest, backend: str, tmp_path) -> Endpoint:
    """A seeded database (no endpoint running) with a few entries in two teams' chains."""
    from tests.helpers.sync_fixtures import _copy

    ep = _copy(request, backend, tmp_path)
    with ep.session() as s:
        for team, n in (("Bicester INT", 3), ("Reading West INT", 2)):
            for i in range(n):
                sync_audit.add(
                    s, sync_audit.PULL, chain=ep.teams[team], user_id=uuid.uuid4(),
                    member_id=uuid.uuid4(), device_id=uuid.uuid4(), entity="contact",
                    record_id=uuid.uuid4(), patient_id=uuid.uuid4(),
                    patients=sync_audit.people([uuid.uuid4(), uuid.uuid4()]), outcome="applied",
                    detail=f"{i} changes",
                )  # fmt: skip
    return ep


COLUMNS = ("chain", "at", "kind", "outcome", "user_id", "member_id", "device_id", "entity", "record_id",
           "patient_id", "patients", "detail", "prev_hash", "hash")  # fmt: skip


@pytest.mark.parametrize("column", COLUMNS)
def test_tampering_with_any_field_of_an_entry_breaks_verify_at_that_entry(trail, column) -> None:
    team = trail.teams["Bicester INT"]
    with trail.session() as s:
        assert all(c.intact for c in sync_audit.verify(s))
        row = s.execute(
            select(AuditLogEntry).where(AuditLogEntry.chain == team, AuditLogEntry.no == 2)
        ).scalar_one()
        value = getattr(row, column)
        if isinstance(value, uuid.UUID):
            changed = uuid.uuid4()
        elif column in ("prev_hash", "hash"):
            changed = "f" * 64
        elif column == "chain":
            changed = "elsewhere"
        elif column == "at":
            changed = "2020-01-01T00:00:00.000000+00:00"
        else:
            changed = (value or "") + "x"
        s.execute(
            update(AuditLogEntry)
            .where(AuditLogEntry.chain == team, AuditLogEntry.no == 2)
            .values({column: changed})
        )
    with trail.session() as s:
        checks = {c.chain: c for c in sync_audit.verify(s)}
    assert checks[team].broken_at == 2, (column, checks[team])
    assert checks[trail.teams["Reading West INT"]].intact  # the other team's chain is untouched


def test_an_edited_entry_given_a_fresh_hash_still_breaks_the_chain_at_the_next(trail) -> None:
    """Re-hashing an edited entry is not enough: the next entry's hash covers the old one."""
    team = trail.teams["Bicester INT"]
    where = (AuditLogEntry.chain == team, AuditLogEntry.no == 2)
    with trail.session() as s:
        row = s.execute(select(sync_audit.LOG).where(*where)).one()
        edited = {**row._mapping, "detail": "nothing was read"}
        new_hash = sync_audit._digest(row.prev_hash, edited)
        s.execute(
            update(AuditLogEntry).where(*where).values(detail=edited["detail"], hash=new_hash)
        )
        s.execute(
            update(AuditLogEntry)
            .where(AuditLogEntry.chain == team, AuditLogEntry.no == 3)
            .values(prev_hash=new_hash)
        )
    with trail.session() as s:
        check = next(c for c in sync_audit.verify(s) if c.chain == team)
    assert (check.broken_at, check.reason) == (3, "this entry's contents were altered")


def test_removing_or_renumbering_entries_breaks_verify(trail) -> None:
    team = trail.teams["Bicester INT"]
    with trail.session() as s:
        s.execute(text("DELETE FROM srv_audit_log WHERE chain = :c AND no = 3"), {"c": team})
    with trail.session() as s:
        check = next(c for c in sync_audit.verify(s) if c.chain == team)
    assert (check.broken_at, check.reason) == (3, "entries after this point were removed")
    with trail.session() as s:
        s.execute(text("UPDATE srv_audit_log SET no = 7 WHERE chain = :c AND no = 1"), {"c": team})
    with trail.session() as s:
        check = next(c for c in sync_audit.verify(s) if c.chain == team)
    assert check.broken_at == 1


def test_a_write_whose_audit_entry_cannot_be_written_does_not_commit(trail) -> None:
    """The entry is appended at commit in the same transaction: if it fails, so does the write."""
    team = trail.teams["Bicester INT"]
    with trail.session() as s:
        before = s.scalar(select(Record.version).where(Record.entity == "team"))
    with pytest.raises(IntegrityError), trail.session() as s:
        s.execute(update(Record).where(Record.entity == "team").values(version=999_999))
        sync_audit.add(s, sync_audit.PUSH, chain=team, detail="x" * 10)
        s.info[sync_audit._BUFFER][-1]["kind"] = None  # the append fails (a NOT NULL column)
    with trail.session() as s:
        assert s.scalar(select(Record.version).where(Record.entity == "team")) == before
        assert all(c.intact for c in sync_audit.verify(s))


def test_two_endpoint_processes_pushing_and_pulling_at_once_keep_one_valid_chain(
    request: pytest.FixtureRequest, backend: str, tmp_path
) -> None:
    from tests.helpers.sync_fixtures import _copy

    seeded = _copy(request, backend, tmp_path)
    hosts = [sync_env.start_endpoint(seeded.db_url, faults=False) for _ in range(2)]
    patients = _team_patients(seeded, "Bicester INT")
    errors: list[str] = []
    try:

        def laptop(n: int) -> None:
            host = hosts[n % 2]
            with httpx.Client(
                base_url=host.url, timeout=30,
                headers={"Authorization": f"Bearer {seeded.tokens['ab'[n % 2]]}",
                         PROTOCOL_HEADER: str(PROTOCOL_VERSION)},
            ) as c:  # fmt: skip
                for i in range(8):
                    r = c.post("/v1/push", json={"batch_id": str(uuid.uuid4()),
                                                 "ops": [_note(patients[n], f"n{i}")]})  # fmt: skip
                    p = c.post("/v1/pull", json={"full": True, "limit": 50})
                    if r.status_code != 200 or p.status_code != 200:
                        errors.append(f"{r.status_code} {p.status_code}")

        threads = [threading.Thread(target=laptop, args=(n,)) for n in range(6)]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
    finally:
        for h in hosts:
            h.stop()
    assert errors == []
    team = seeded.teams["Bicester INT"]
    with seeded.session() as s:
        checks = {c.chain: c for c in sync_audit.verify(s)}
        numbers = list(
            s.scalars(
                select(AuditLogEntry.no)
                .where(AuditLogEntry.chain == team)
                .order_by(AuditLogEntry.no)
            )
        )
    assert checks[team].intact, checks[team]
    assert numbers == list(range(1, 6 * 8 * 2 + 1))  # every push and pull, numbered once


def _admin(db_url: str, *args: str) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "int_desk", "admin", "--db", db_url, *args],
        capture_output=True, text=True, timeout=120,
    )  # fmt: skip


def test_admin_audit_filters_and_audit_verify(endpoint: Endpoint) -> None:
    ep = endpoint
    patient = _team_patients(ep, "Bicester INT")[0]
    with ep.session() as s:
        nhs = s.scalar(
            select(Record.nhs_number).where(Record.entity == "patient", Record.id == patient)
        )
    _uid, member, device = _who(ep, "b")
    with ep.http("a") as a:
        full_download(a)
        a.post(
            "/v1/push", json={"batch_id": str(uuid.uuid4()), "ops": [_note(patient, SECRET_NOTE)]}
        )
    with ep.http("b") as b:
        b.get("/v1/verify")
    with ep.http("c") as c:
        c.get("/v1/verify")

    def lines(*args: str) -> list[str]:
        done = _admin(ep.db_url, "audit", "--limit", "1000", *args)
        assert done.returncode == 0, done.stderr
        return [line for line in done.stdout.splitlines() if "audit_read" not in line]

    by_nhs = lines("--person", nhs)
    assert by_nhs == lines("--person", str(patient))
    assert any(" push " in line and f"person={patient}" in line for line in by_nhs)
    assert any(" pull_full " in line for line in by_nhs)
    assert not any(" verify " in line for line in by_nhs)
    assert all("user=b" in line for line in lines("--user", "b")) and lines("--user", "b")
    assert lines("--member", str(member)) == lines("--device", str(device)) == lines("--user", "b")
    reading = lines("--team", "Reading West INT")
    assert reading and all("user=c" in line for line in reading)
    assert all(" push " in line for line in lines("--kind", "push")) and lines("--kind", "push")
    assert lines("--since", "2999-01-01") == ["no audit entries match"]
    assert lines("--until", "2000-01-01") == ["no audit entries match"]
    everything = _admin(ep.db_url, "audit", "--limit", "1000").stdout
    assert SECRET_NOTE not in everything and nhs not in everything
    # The look-ups themselves are in the trail (the person looked for, no login: the command line).
    assert _entries(ep, kinds=["audit_read"], patient_ids=[patient])

    ok = _admin(ep.db_url, "audit-verify")
    assert ok.returncode == 0 and "Bicester INT: intact" in ok.stdout, ok.stdout
    with ep.session() as s:
        s.execute(text("UPDATE srv_audit_log SET detail = 'edited' WHERE no = 2 AND chain = :c"),
                  {"c": ep.teams["Bicester INT"]})  # fmt: skip
    broken = _admin(ep.db_url, "audit-verify")
    assert broken.returncode == 1
    assert "Bicester INT: BROKEN at entry 2: this entry's contents were altered" in broken.stdout


def test_a_team_administrator_reads_their_own_teams_trail_only(endpoint: Endpoint) -> None:
    from int_desk.server import admin

    ep = endpoint
    bicester, reading = ep.teams["Bicester INT"], ep.teams["Reading West INT"]
    mine, theirs = _team_patients(ep, "Bicester INT")[0], _team_patients(ep, "Reading West INT")[0]
    with ep.session() as s:
        members = s.execute(select(Record.id, Record.data).where(Record.entity == "member"))
        boss = next(rid for rid, data in members if json.loads(data)["role"] == "admin")
        admin.add_user(s, "boss", [bicester], member_id=boss)
        ep.tokens["boss"] = admin.issue_token(s, "boss", "office")[1]
        nhs = dict(
            s.execute(
                select(Record.id, Record.nhs_number).where(Record.id.in_([mine, theirs]))
            ).all()
        )
    with ep.http("a") as a:
        a.post("/v1/push", json={"batch_id": str(uuid.uuid4()), "ops": [_note(mine, SECRET_NOTE)]})
        assert a.get("/v1/admin/audit").status_code == 403  # not an administrator
    with ep.http("c") as c:
        c.get("/v1/verify")
    with ep.http("boss") as b:
        everything = b.get("/v1/admin/audit", params={"limit": 1000})
        for_mine = b.get("/v1/admin/audit", params={"person": nhs[mine]}).json()
        for_theirs = b.get("/v1/admin/audit", params={"person": nhs[theirs]}).json()
        pushes = b.get("/v1/admin/audit", params={"kind": "push"}).json()["items"]
    assert everything.status_code == 200
    items = everything.json()["items"]
    assert items and {i["chain"] for i in items} == {bicester}  # never another team's
    assert reading not in everything.text
    assert [(i["kind"], i["patient_id"]) for i in pushes] == [("push", str(mine))]
    assert any(i["kind"] == "push" for i in for_mine["items"])
    assert for_theirs["items"] == []  # another team's person: not found here
    assert SECRET_NOTE not in everything.text and nhs[mine] not in everything.text
    # The look-ups are audited, with the person looked for.
    assert _entries(ep, kinds=["audit_read"], patient_ids=[mine])
