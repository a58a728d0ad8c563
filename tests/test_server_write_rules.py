"""Every role x every entity x every field, through a real endpoint: a push the role must not
make is rejected, audited and changes nothing; what each role reads follows the same table.

The pushes are generated from the synced schema (``schema.ENTITIES``), not from the rules, so
a new field is attacked the day it is added. For each field, every caller tries at least:
changing it on another team's row; and, where the role may write the entity, whatever the
field's rule forbids them (a fixed field changed, a value outside its vocabulary, a sign-off or
resolution without the permission, an author who is someone else, clinical content without
clinical access, declassifying a clinical note, a row not referred to them, another person's
saved view). Without the entity's permission, any change of the field on their own team's row.
"""

from __future__ import annotations

import json
import uuid
from collections import Counter
from dataclasses import dataclass
from typing import Any

from sqlalchemy import select

from int_desk.domain.permissions import ROLE_PERMISSIONS, Permission
from int_desk.domain.vocab import Role
from int_desk.server import admin
from int_desk.server.models import GLOBAL_SCOPE, Record, ServerAudit, ServerUser
from int_desk.server.principal import INTEGRATION_SCOPES
from int_desk.server.write_rules import RULES
from int_desk.store import models as m
from int_desk.store.workspace import Workspace
from int_desk.wire import schema
from tests.helpers.actors import actor_of_role
from tests.helpers.sync_env import Endpoint

NOW = "2026-11-21T10:00:00.000000+00:00"
P = Permission

# What the issue names as clinical content, written out here (not read from the code under
# test): without VIEW_CLINICAL these are blank on arrival and may not be written.
CLINICAL = {
    "patient": {"long_term_conditions"},
    "care_plan": {"clinical_summary", "medicines_notes"},
    "contact": {"text"},  # of contacts marked clinical
    "health_event": {"detail"},
    "escalation": {"reason", "resolution"},  # except for whoever raised it
    "huddle": {"minutes"},
    "huddle_item": {"outcome", "decisions"},
    "gp_notification": {"text"},  # what the INT told the GP: outcomes, resolutions, the plan
}
CENTRAL = {"place", "organisation", "member", "team"}


@dataclass
class Caller:
    name: str
    user_id: uuid.UUID
    member_id: uuid.UUID | None
    role: Role | None
    perms: frozenset[Permission]
    teams: set[str]
    token: str = ""

    @property
    def clinical(self) -> bool:
        return P.VIEW_CLINICAL in self.perms

    @property
    def referred_only(self) -> bool:
        return self.role is Role.VCSE_WORKER


@dataclass
class Row:
    entity: str
    id: uuid.UUID
    scope: str
    patient: str | None
    version: int
    data: dict[str, Any]


def _rows(ep: Endpoint) -> list[Row]:
    with ep.session() as s:
        return [
            Row(r.entity, r.id, r.scope, str(r.patient_id) if r.patient_id else None, r.version,
                json.loads(r.data))
            for r in s.scalars(select(Record).where(Record.deleted.is_(False)))
        ]  # fmt: skip


def _insert_record(s: Any, entity: str, scope: str, patient: str | None, data: dict) -> None:
    """A row written straight into the endpoint (for entities the demo has none of)."""
    ent = schema.ENTITIES[entity]
    full = {c: None for c in ent.columns} | {"created_at": NOW, "updated_at": NOW} | data
    full["deleted"] = False
    s.add(
        Record(
            entity=entity, id=uuid.uuid4(), scope=scope,
            patient_id=uuid.UUID(patient) if patient else None, version=1, deleted=False,
            data=json.dumps(full), field_meta="{}",
        )
    )  # fmt: skip


def _callers(ep: Endpoint, demo_ws: Workspace) -> list[Caller]:
    """A login for every role (members made on the endpoint for roles the demo lacks) and
    every integration scope."""
    out: list[Caller] = []
    with demo_ws.session() as s:
        team_names = {str(t.id): t.name for t in s.scalars(select(m.Team))}
        known = {r: actor_of_role(s, r) for r in Role if s.scalar(
            select(m.Member.id).where(m.Member.role == r.value).limit(1))}  # fmt: skip
    first_team = sorted(team_names)[0]
    with ep.session() as s:
        for role in Role:
            actor = known.get(role)
            if actor is None:
                member_id = uuid.uuid4()
                s.add(
                    Record(
                        entity="member", id=member_id, scope=GLOBAL_SCOPE, version=1,
                        deleted=False, field_meta="{}",
                        data=json.dumps({"name": f"Test {role.value}", "role": role.value,
                                         "organisation_id": None, "email": None, "active": True,
                                         "created_at": NOW, "updated_at": NOW,
                                         "created_by": None, "updated_by": None,
                                         "deleted": False}),
                    )
                )  # fmt: skip
                teams = {first_team}
            else:
                member_id, teams = actor.member_id, {str(t) for t in actor.team_ids}
            name = f"role-{role.value}"
            user = admin.add_user(s, name, [team_names[t] for t in teams], member_id=member_id)
            token = admin.issue_token(s, name, "rules")[1]
            out.append(Caller(name, user.id, member_id, role, ROLE_PERMISSIONS[role], teams, token))
        for scope, perms in INTEGRATION_SCOPES.items():
            name = f"feed-{scope}"
            user = admin.add_integration(s, name, [team_names[first_team]], scope)
            token = admin.issue_token(s, name, "rules")[1]
            out.append(Caller(name, user.id, None, None, perms, {first_team}, token))
    return out


def _prepare_missing_rows(ep: Endpoint, callers: list[Caller]) -> None:
    """The demo has no care-team participants or saved views: two of each per team."""
    rows = _rows(ep)
    members = [c.member_id for c in callers if c.member_id]
    with ep.session() as s:
        for scope in sorted({r.scope for r in rows if r.entity == "team"}):
            patients = [r for r in rows if r.entity == "patient" and r.scope == scope][:2]
            for p in patients:
                _insert_record(s, "care_team_participant", scope, str(p.id),
                               {"patient_id": str(p.id), "member_id": str(members[0]),
                                "note": "Visits weekly"})  # fmt: skip
            for member in members:
                _insert_record(s, "saved_view", scope, None,
                               {"member_id": str(member), "name": "Mine", "filters": {}})  # fmt: skip
            # Clinical content in every clinical field, so withholding it can be seen.
            for entity, fields in CLINICAL.items():
                for r in [r for r in rows if r.entity == entity and r.scope == scope][:3]:
                    rec = s.get(Record, (entity, r.id))
                    rec.data = json.dumps(r.data | {f: r.data.get(f) or "Synthetic clinical text"
                                                    for f in fields})  # fmt: skip


# --- values -----------------------------------------------------------------------------------


def _different(entity: str, field: str, old: Any) -> Any:
    """A valid value for the field, different from ``old``."""
    col = schema.ENTITIES[entity].columns[field]
    rule = RULES[entity].fields[field]
    others = sorted(v for v in rule.values or () if v != old)
    if others:
        return others[0]
    kind = col.kind  # (a vocabulary with no other value: the refused value of its kind)
    if kind == "uuid":
        return str(uuid.uuid4())
    if kind == "date":
        return "2026-01-02" if old != "2026-01-02" else "2026-01-03"
    if kind == "datetime":
        return "2026-01-02T10:00:00.000000+00:00"
    if kind == "bool":
        return not old
    if kind == "int":
        return (old or 0) + 1
    if kind == "float":
        return (old or 0.0) + 1.5
    if kind == "json":
        return [] if old != [] else ["changed"]
    text = "Changed by a hostile client"
    return text[: col.max_length or len(text)]


def _op(entity: str, rid: uuid.UUID, fields: dict, base: int | None) -> dict[str, Any]:
    return {
        "op_id": str(uuid.uuid4()), "entity": entity, "id": str(rid),
        "kind": "insert" if base is None else "update", "base_version": base, "fields": fields,
    }  # fmt: skip


# --- which rows a caller may read (written out independently of read_scope.py) ----------------


def _referred(rows: list[Row], member: uuid.UUID | None) -> set[str]:
    return {
        r.patient for r in rows
        if r.entity == "referral" and r.data.get("to_member_id") == str(member) and r.patient
    }  # fmt: skip


def _may_read(c: Caller, row: Row, referred: set[str]) -> bool:
    if row.scope != GLOBAL_SCOPE and row.scope not in c.teams:
        return False
    if not c.referred_only:
        return True
    me = str(c.member_id)
    if row.patient is None:
        if row.entity == "saved_view":
            return row.data.get("member_id") in (None, me)
        return row.entity in {"team", "cohort", "team_membership"} | CENTRAL
    if row.patient not in referred or row.entity in {
        "escalation", "health_event", "huddle_item", "gp_notification"}:  # fmt: skip
        return False
    if row.entity == "task":
        return me in (row.data.get("owner_member_id"), row.data.get("requester_id"))
    if row.entity == "referral":
        return row.data.get("to_member_id") == me
    if row.entity == "contact":
        return row.data.get("clinical") is False
    return True


def _expected_field(c: Caller, row: Row, field: str) -> Any:
    value = row.data.get(field)
    if field not in CLINICAL.get(row.entity, ()) or c.clinical or not value:
        return value
    if row.entity == "contact" and row.data.get("clinical") is False:
        return value
    if row.entity == "escalation" and row.data.get("raised_by") == str(c.member_id):
        return value
    return ""


# --- the pushes a caller must not make ----------------------------------------------------------


def _violations(c: Caller, rows: list[Row], members: list[str]) -> list[tuple[str, dict, Row]]:
    referred = _referred(rows, c.member_id)
    by_entity: dict[str, list[Row]] = {}
    for r in rows:
        by_entity.setdefault(r.entity, []).append(r)
    out: list[tuple[str, dict, Row]] = []
    someone_else = next(x for x in members if x != str(c.member_id))
    for entity, ent in schema.ENTITIES.items():
        rule = RULES[entity]
        mine = [r for r in by_entity[entity] if _may_read(c, r, referred)]
        theirs = [r for r in by_entity[entity] if r.scope not in c.teams | {GLOBAL_SCOPE}]
        team_unreadable = [r for r in by_entity[entity] if r.scope in c.teams
                           and not _may_read(c, r, referred)]  # fmt: skip
        may_write = rule.write in c.perms and entity not in CENTRAL
        if entity == "saved_view":
            mine = [r for r in mine if r.data.get("member_id") == str(c.member_id)] or mine
        for field in ent.columns:
            fr = rule.fields.get(field)
            if fr is None:
                continue  # test_every_synced_field_has_a_write_rule names it

            def change(
                label: str, row: Row, value: Any = None, field: str = field, entity: str = entity
            ) -> None:
                new = _different(entity, field, row.data.get(field)) if value is None else value
                out.append((label, _op(entity, row.id, {field: new}, row.version), row))

            if theirs:
                change(f"{entity}.{field} on another team's row", theirs[0])
            if entity in CENTRAL:
                change(f"{entity}.{field} (reference data)", by_entity[entity][0])
                continue
            if not mine:
                continue
            own = mine[0]
            if not may_write:
                change(f"{entity}.{field} without {rule.write.value}", own)
                continue
            if team_unreadable:
                change(f"{entity}.{field} on a row not theirs to read", team_unreadable[0])
            if fr.fixed and field != "deleted":
                change(f"{entity}.{field} is fixed", own)
            if fr.values:
                change(f"{entity}.{field} outside its vocabulary", own, "bogus")
            if fr.needs and fr.needs not in c.perms:
                change(f"{entity}.{field} needs {fr.needs.value}", own, _needs_value(entity, field))
            if fr.by_caller:
                if fr.fixed:  # an author field: only settable on a new row
                    data = {k: v for k, v in own.data.items()}
                    data[field] = someone_else
                    out.append((f"{entity}.{field} naming someone else",
                                _op(entity, uuid.uuid4(), data, None), own))  # fmt: skip
                else:
                    change(f"{entity}.{field} naming someone else", own, someone_else)
            if field in CLINICAL.get(entity, ()) and not c.clinical:
                holding = [r for r in by_entity[entity] if r.scope in c.teams
                           and (entity != "contact" or r.data.get("clinical"))
                           and (entity != "escalation"
                                or r.data.get("raised_by") != str(c.member_id))]  # fmt: skip
                change(f"{entity}.{field} is clinical", holding[0], "Clinical text")
            if entity == "contact" and field == "clinical" and not c.clinical:
                clinical_rows = [r for r in by_entity["contact"] if r.scope in c.teams
                                 and r.data.get("clinical")]  # fmt: skip
                change("contact.clinical declassified", clinical_rows[0], False)
            if entity == "saved_view":
                others = [r for r in by_entity[entity] if r.scope in c.teams
                          and r.data.get("member_id") not in (None, str(c.member_id))]  # fmt: skip
                change(f"saved_view.{field} of another person", others[0])
        for field, trigger in _TRANSITIONS.get(entity, {}).items():
            needed, value, pick = trigger
            if may_write and needed not in c.perms:
                rows_ok = [r for r in mine if pick(r.data)]
                if rows_ok:
                    change_row = rows_ok[0]
                    out.append((f"{entity}.{field} -> {value} needs {needed.value}",
                                _op(entity, change_row.id, {field: value}, change_row.version),
                                change_row))  # fmt: skip
    return out


def _needs_value(entity: str, field: str) -> Any:
    col = schema.ENTITIES[entity].columns[field]
    if col.kind == "uuid":
        return str(uuid.uuid4())
    if col.kind == "datetime":
        return NOW
    return "Agreed at MDT"


_TRANSITIONS: dict[str, dict[str, tuple[Permission, str, Any]]] = {
    "care_plan": {
        "status": (P.SIGN_OFF_PLAN, "active", lambda d: d.get("status") == "draft"),
        "consent_decision": (
            P.OVERRIDE_CONSENT, "permit", lambda d: d.get("consent_decision") == "deny"),
    },
    "escalation": {"status": (P.RESOLVE_ESCALATION, "resolved", lambda d: d["status"] == "open")},
}  # fmt: skip


def _push(ep: Endpoint, c: Caller, ops: list[dict]) -> list[dict]:
    import httpx

    from int_desk.wire.protocol import PROTOCOL_HEADER, PROTOCOL_VERSION

    headers = {"Authorization": f"Bearer {c.token}", PROTOCOL_HEADER: str(PROTOCOL_VERSION)}
    results: list[dict] = []
    with httpx.Client(base_url=ep.url, headers=headers, timeout=60) as client:
        for start in range(0, len(ops), 500):
            body = {"batch_id": str(uuid.uuid4()), "ops": ops[start : start + 500]}
            reply = client.post("/v1/push", json=body)
            assert reply.status_code == 200, reply.text[:500]
            results += reply.json()["results"]
    return results


def test_every_role_entity_and_field_refuses_what_the_role_may_not_push(
    sqlite_endpoint: Endpoint, demo_ws: Workspace
) -> None:
    ep = sqlite_endpoint
    callers = _callers(ep, demo_ws)
    _prepare_missing_rows(ep, callers)
    rows = _rows(ep)
    before = {(r.entity, r.id): (r.version, r.data) for r in rows}
    members = [str(c.member_id) for c in callers if c.member_id]
    covered: Counter[tuple[str, str]] = Counter()
    for c in callers:
        attempts = _violations(c, rows, members)
        results = _push(ep, c, [op for _label, op, _row in attempts])
        for (label, op, _row), result in zip(attempts, results, strict=True):
            assert result["status"] == "rejected", (c.name, label, result)
            assert result["reason"].startswith(("forbidden", "refused", "reference data")), (
                c.name, label, result)  # fmt: skip
            covered[
                (op["entity"], next(iter(op["fields"])) if op["kind"] == "update" else "*")
            ] += 1
        with ep.session() as s:
            audited = Counter(
                (e, rid) for e, rid in s.execute(
                    select(ServerAudit.entity, ServerAudit.record_id).where(
                        ServerAudit.user_id == c.user_id, ServerAudit.action == "write_denied"))
            )  # fmt: skip
        wanted = Counter((op["entity"], uuid.UUID(op["id"])) for _l, op, _r in attempts)
        assert audited == wanted, (c.name, audited - wanted, wanted - audited)
    after = {(r.entity, r.id): (r.version, r.data) for r in _rows(ep)}
    assert after == before  # nothing stored changed, and no refused insert made a row
    # Every field of every entity was attacked by somebody.
    for entity, ent in schema.ENTITIES.items():
        for field in ent.columns:
            assert covered[(entity, field)], f"{entity}.{field} never attacked"


def test_every_role_may_still_make_the_writes_its_role_allows(
    sqlite_endpoint: Endpoint, demo_ws: Workspace
) -> None:
    """The other side: the rules do not refuse what a role may do (one plain edit per entity
    the role may write, on a row it reads)."""
    ep = sqlite_endpoint
    callers = _callers(ep, demo_ws)
    _prepare_missing_rows(ep, callers)
    rows = _rows(ep)
    plain = {
        "team_membership": "visiting", "cohort": "description", "patient": "phone",
        "flag": "note", "cohort_membership": "enrol_reason", "care_team_participant": "note",
        "care_plan": "what_matters", "goal": "target_measure", "plan_action": "when",
        "task": "description", "contact": "occurred_at", "referral": "outcome",
        "escalation": "reason", "health_event": "source", "huddle": "chair_id",
        "huddle_attendee": "updated_at", "huddle_item": "seconds_spent", "saved_view": "name",
        "gp_notification": "updated_at",  # what the GP was told never changes
    }  # fmt: skip
    assert set(plain) == set(schema.ENTITIES) - CENTRAL
    for c in callers:
        referred = _referred(rows, c.member_id)
        ops, labels = [], []
        for entity, field in plain.items():
            if RULES[entity].write not in c.perms:
                continue
            mine = [r for r in rows if r.entity == entity and _may_read(c, r, referred)
                    and (entity != "contact" or c.clinical or r.data.get("clinical") is False)
                    and (entity != "saved_view" or r.data.get("member_id") == str(c.member_id))
                    and (entity != "escalation" or c.clinical
                         or r.data.get("raised_by") == str(c.member_id))]  # fmt: skip
            if entity == "saved_view" and c.member_id is None:
                continue
            if not mine:
                continue
            row = mine[0]
            ops.append(_op(entity, row.id, {field: _different(entity, field, row.data.get(field))},
                           row.version))  # fmt: skip
            labels.append(f"{entity}.{field}")
        if not ops:
            continue
        for label, result in zip(labels, _push(ep, c, ops), strict=True):
            assert result["status"] in ("applied", "conflict"), (c.name, label, result)


def test_every_role_reads_every_field_as_the_table_says(
    sqlite_endpoint: Endpoint, demo_ws: Workspace
) -> None:
    """A full download per role: rows only in scope (referred people for a VCSE worker) and each
    field as stored, except clinical content for roles without clinical access (blank)."""
    import httpx

    from int_desk.wire.protocol import PROTOCOL_HEADER, PROTOCOL_VERSION

    ep = sqlite_endpoint
    callers = _callers(ep, demo_ws)
    _prepare_missing_rows(ep, callers)
    rows = _rows(ep)
    stored = {(r.entity, str(r.id)): r for r in rows}
    blanked: Counter[tuple[str, str]] = Counter()
    for c in callers:
        referred = _referred(rows, c.member_id)
        headers = {"Authorization": f"Bearer {c.token}", PROTOCOL_HEADER: str(PROTOCOL_VERSION)}
        got: dict[tuple[str, str], dict] = {}
        with httpx.Client(base_url=ep.url, headers=headers, timeout=60) as client:
            after = None
            while True:
                body: dict[str, Any] = {"full": True, "limit": 5000}
                if after:
                    body["after"] = after
                page = client.post("/v1/pull", json=body).json()
                got.update({(ch["e"], ch["id"]): ch["data"] for ch in page["changes"]})
                after = page.get("after")
                if not page["has_more"]:
                    break
        expected = {k for k, r in stored.items() if _may_read(c, r, referred)}
        assert set(got) == expected, c.name
        for key, data in got.items():
            row = stored[key]
            for field in schema.ENTITIES[row.entity].columns:
                want = _expected_field(c, row, field)
                assert data.get(field) == want, (c.name, key[0], field)
                if want == "" and row.data.get(field):
                    blanked[(row.entity, field)] += 1
    # Every clinical field was actually withheld from somebody (the demo has content in each).
    for entity, fields in CLINICAL.items():
        for field in fields:
            assert blanked[(entity, field)], f"{entity}.{field} never withheld"


def test_the_endpoint_marks_at_least_the_clinical_fields_the_issue_names() -> None:
    from int_desk.domain.permissions import CLINICAL_FIELDS

    for entity, fields in CLINICAL.items():
        assert fields <= set(CLINICAL_FIELDS[entity]), entity
        assert all(RULES[entity].fields[f].clinical for f in fields), entity


def test_every_synced_field_has_a_write_rule() -> None:
    from int_desk.server.write_rules import coverage_gaps

    assert coverage_gaps() == []


def test_a_login_without_a_known_role_gets_a_clear_403_and_nothing_else(
    sqlite_endpoint: Endpoint, demo_ws: Workspace
) -> None:
    import httpx

    from int_desk.wire.protocol import PROTOCOL_HEADER, PROTOCOL_VERSION

    ep = sqlite_endpoint
    with ep.session() as s:
        team = next(iter(ep.teams))
        # No member at all (the old "integration account by accident"), a member id the endpoint
        # has no record of, and a member whose role it does not know.
        ghost = admin.add_user(s, "ghost", [team], member_id=uuid.uuid4())
        ghost.member_id = None
        admin.add_user(s, "stranger", [team], member_id=uuid.uuid4())
        odd = uuid.uuid4()
        _insert_member(s, odd, "wizard")
        admin.add_user(s, "odd-role", [team], member_id=odd)
        tokens = {n: admin.issue_token(s, n, "x")[1] for n in ("ghost", "stranger", "odd-role")}
    for name, token in tokens.items():
        headers = {"Authorization": f"Bearer {token}", PROTOCOL_HEADER: str(PROTOCOL_VERSION)}
        with httpx.Client(base_url=ep.url, headers=headers, timeout=10) as client:
            for method, path, body in (
                ("GET", "/v1/whoami", None),
                ("POST", "/v1/pull", {"full": True}),
                ("GET", "/v1/verify", None),
                ("POST", "/v1/push", {"batch_id": str(uuid.uuid4()), "ops": [
                    _op("task", uuid.uuid4(), {"description": "x"}, 1)]}),
                ("POST", "/v1/cycle", {"pull": {"cursor": "x"}, "verify": True, "push": {
                    "batch_id": str(uuid.uuid4()),
                    "ops": [_op("task", uuid.uuid4(), {"description": "x"}, 1)]}}),
            ):  # fmt: skip
                reply = client.request(method, path, json=body)
                assert reply.status_code == 403, (name, path, reply.text)
                assert "not linked to a team member" in reply.json()["detail"]
    with ep.session() as s:
        refused = set(s.scalars(select(ServerAudit.user_id).where(
            ServerAudit.action == "login_refused")))  # fmt: skip
        users = set(s.scalars(select(ServerUser.id).where(ServerUser.name.in_(tokens))))
    assert refused == users


def test_integration_accounts_are_declared_listed_and_limited_to_their_scope(
    sqlite_endpoint: Endpoint, tmp_path: Any
) -> None:
    import subprocess
    import sys

    import httpx

    from int_desk.wire.protocol import PROTOCOL_HEADER, PROTOCOL_VERSION

    ep = sqlite_endpoint
    team = next(iter(ep.teams))
    cli = [sys.executable, "-m", "int_desk", "admin", "--db", ep.db_url]
    made = subprocess.run([*cli, "add-integration", "phm", "--team", team, "--scope", "phm_feed"],
                          capture_output=True, text=True)  # fmt: skip
    assert made.returncode == 0, made.stderr
    bad = subprocess.run([*cli, "add-integration", "x", "--team", team, "--scope", "everything"],
                         capture_output=True, text=True)  # fmt: skip
    assert bad.returncode != 0 and "scope" in bad.stderr
    person = subprocess.run([*cli, "add-user", "nomember", "--team", team],
                            capture_output=True, text=True)  # fmt: skip
    assert person.returncode != 0 and "--member-id" in person.stderr
    listing = subprocess.run([*cli, "list-users"], capture_output=True, text=True).stdout
    line = next(x for x in listing.splitlines() if " phm " in f" {x} ")
    assert "integration:phm_feed" in line
    assert "person" in next(x for x in listing.splitlines() if " a " in f" {x} ")
    with ep.session() as s:
        token = admin.issue_token(s, "phm", "feed")[1]
        plan = s.scalars(select(Record).where(Record.entity == "care_plan",
                                              Record.scope == ep.teams[team])).first()  # fmt: skip
        patient = s.scalars(select(Record).where(Record.entity == "patient",
                                                 Record.scope == ep.teams[team])).first()  # fmt: skip
    headers = {"Authorization": f"Bearer {token}", PROTOCOL_HEADER: str(PROTOCOL_VERSION)}
    with httpx.Client(base_url=ep.url, headers=headers, timeout=10) as client:
        assert client.get("/v1/whoami").json()["kind"] == "integration"
        ops = [
            _op("patient", patient.id, {"phone": "01632 960001"}, patient.version),
            _op("care_plan", plan.id, {"about_me": "x"}, plan.version),
        ]
        results = client.post("/v1/push", json={"batch_id": str(uuid.uuid4()), "ops": ops}).json()
        assert [r["status"] for r in results["results"]] == ["applied", "rejected"]
        page = client.post("/v1/pull", json={"full": True, "limit": 5000}).json()
        plans = [c["data"] for c in page["changes"] if c["e"] == "care_plan"]
        assert plans and all(p["clinical_summary"] == "" for p in plans)  # no clinical read


def _insert_member(s: Any, member_id: uuid.UUID, role: str) -> None:
    s.add(
        Record(
            entity="member", id=member_id, scope=GLOBAL_SCOPE, version=1, deleted=False,
            field_meta="{}",
            data=json.dumps({"name": "Someone", "role": role, "active": True, "deleted": False}),
        )
    )  # fmt: skip
