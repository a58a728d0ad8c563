"""Every query the endpoint sends to its team-partitioned tables names the team it is about, so
a distributed PostgreSQL (Citus, tables distributed by ``scope``) routes each one to the shards
of the caller's teams (docs/deployment.md, "At 100,000 users").

The SQL is read from PostgreSQL's own statement log (``log_statement = all`` on this test's
database) while real laptops sync through a real endpoint: a first download, pushes (an edit,
a new note, a conflict), incremental pulls, full verifies, and FHIR reads.
"""

from __future__ import annotations

import re
import uuid
from collections.abc import Iterator
from pathlib import Path

import httpx
import psycopg
import pytest
from sqlalchemy import select

from int_desk.store import models as m
from tests.helpers.sync_env import Endpoint, PgCluster, start_endpoint, sync
from tests.helpers.sync_fixtures import _copy

# The tables whose rows belong to one team (or to the shared reference scope), by the column
# they would be distributed by: ``scope``, and for the audit trail, chained per team
# (server/sync_audit.py), ``chain`` (a team's id, co-located with its scope). Logins, tokens,
# settings and invitations are small reference tables.
TEAM_KEYED = {
    "srv_record": "scope", "srv_scope_seq": "scope", "srv_scope_digest": "scope",
    "srv_scope_exit": "scope", "srv_applied_op": "scope", "srv_audit_log": "chain",
    "srv_audit_head": "chain",
}  # fmt: skip
_ENTRY = re.compile(r"^\d{4}-\d\d-\d\d \d\d:\d\d:\d\d(?:\.\d+)? \S+ \[\d+\] ", re.M)
_STATEMENT = re.compile(r"LOG:  (?:statement|execute [^:]*): (.*)", re.S)


@pytest.fixture
def logged(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[tuple[Endpoint, Path]]:
    """An endpoint on a seeded PostgreSQL database whose every statement is logged."""
    cluster: PgCluster = request.getfixturevalue("pg_cluster")
    seeded = _copy(request, "postgres", tmp_path)
    name = seeded.db_url.rsplit("/", 1)[1]
    with psycopg.connect(
        f"host=127.0.0.1 port={cluster.port} user=postgres dbname=postgres", autocommit=True
    ) as conn:
        conn.execute(f"ALTER DATABASE \"{name}\" SET log_statement = 'all'")
    ep = start_endpoint(seeded.db_url, faults=False)
    ep.tokens, ep.teams = seeded.tokens, seeded.teams
    try:
        yield ep, cluster.dir / "log"
    finally:
        ep.stop()


def _statements(log_text: str) -> list[str]:
    entries = _ENTRY.split(log_text)
    out = []
    for entry in entries:
        found = _STATEMENT.search(entry)
        if found:
            out.append(" ".join(found.group(1).split()))
    return out


def _unkeyed(sql: str) -> bool:
    """A statement on a team-keyed table that does not name a scope (a team) to look in."""
    lowered = sql.lower()
    keys = {key for t, key in TEAM_KEYED.items() if re.search(rf"\b{t}\b", lowered)}
    if not keys:
        return False
    if lowered.startswith(("begin", "commit", "rollback", "select pg_advisory")):
        return False
    if lowered.startswith("insert"):  # the row's team is one of its columns
        return not any(re.search(rf"\b{k}\b", lowered.split("values")[0]) for k in keys)
    return not any(re.search(rf"\b{k}\b\s*(=|in\b|= any)", lowered) for k in keys)


def test_every_query_on_team_data_names_the_team(logged, laptops) -> None:
    ep, log_path = logged
    start = log_path.stat().st_size
    a, b = laptops(ep, "a"), laptops(ep, "b")
    sync(a), sync(b)
    with a.session() as s:
        patient = s.scalars(select(m.Patient).order_by(m.Patient.id)).first()
        pid, nhs = patient.id, patient.nhs_number
        patient.phone = "01632 960201"
        s.add(m.Contact(id=uuid.uuid4(), patient_id=pid, kind="note", text="keyed"))
    with b.session() as s:
        s.get(m.Patient, pid).phone = "01632 960202"
    sync(a)
    assert sync(b).conflicts == 1
    sync(a, full_verify=True), sync(b, full_verify=True)
    with ep.http("a") as c:
        who = f"https://fhir.nhs.uk/Id/nhs-number|{nhs}"
        assert c.get("/fhir/R4/Patient", params={"identifier": who}).status_code == 200
        assert c.get(f"/fhir/R4/Patient/{pid}").status_code == 200
        care_plans = {"subject:identifier": who, "status": "active"}
        assert c.get("/fhir/R4/CarePlan", params=care_plans).status_code == 200
    assert httpx.get(f"{ep.url}/v1/ready").status_code == 200
    statements = _statements(log_path.read_bytes()[start:].decode(errors="replace"))
    on_team_data = [s for s in statements if any(t in s.lower() for t in TEAM_KEYED)]
    assert len(on_team_data) > 20  # the log was read (pushes, pulls, verifies, FHIR)
    # (the check itself: a statement without its team is caught)
    assert _unkeyed("UPDATE srv_record SET data=$1 WHERE srv_record.id = $2::UUID")
    assert not _unkeyed("UPDATE srv_record SET data=$1 WHERE srv_record.scope = $2 AND id = $3")
    assert _unkeyed("UPDATE srv_audit_head SET last_hash=$1 WHERE srv_audit_head.no = $2")
    assert not _unkeyed("UPDATE srv_audit_head SET last_hash=$1 WHERE srv_audit_head.chain = $2")
    audited = [s for s in statements if "srv_audit_log" in s.lower()]
    assert len(audited) > 5  # the audit trail's own statements were read too
    unkeyed = sorted({s[:400] for s in statements if _unkeyed(s)})
    assert unkeyed == [], "\n\n".join(unkeyed)
