"""GP practices are an explicit kind of login (``practice``: declared scope ``gp_notifications``,
one ODS code), made only by ``int-desk admin issue-practice-token``; their tokens are device
tokens (hashed, expiring, revocable). Everything else fails closed: sync and the staff FHIR
routes refuse them, a practice login without its scope or a practice ODS code reads nothing,
and tokens issued before this model read on after the upgrade."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta
from pathlib import Path

import httpx
import pytest
from alembic import command
from sqlalchemy import create_engine, select, text, update
from sqlalchemy.orm import Session

from int_desk.cli import main as cli_main
from int_desk.server import admin, db, practice_admin
from int_desk.server.models import DeviceToken, ServerUser
from int_desk.server.principal import PRACTICE, PRACTICE_SCOPE
from tests.helpers.sync_env import Endpoint

NHS = "https://fhir.nhs.uk/Id/nhs-number"


def _comms(ep: Endpoint, token: str) -> httpx.Response:
    return httpx.get(
        f"{ep.url}/fhir/R4/Communication", headers={"Authorization": f"Bearer {token}"}, timeout=10
    )


def test_a_practice_login_reads_its_notifications_and_nothing_else(
    sqlite_endpoint: Endpoint,
) -> None:
    ep = sqlite_endpoint
    with ep.session() as s:
        token_id, token = practice_admin.issue(s, "k84001", "Park Surgery EMIS")
        _id2, second = practice_admin.issue(s, "K84001", "Park Surgery docman")
        login = s.scalar(select(ServerUser).where(ServerUser.ods_code == "K84001"))
        assert (login.kind, login.scope, login.member_id) == (PRACTICE, PRACTICE_SCOPE, None)
        assert s.scalar(select(DeviceToken.expires_at).where(DeviceToken.id == token_id))
        users = {u.name: u.kind for u, _teams in admin.list_users(s)}
    assert users[login.name] == PRACTICE  # one login per practice, listed as a practice
    assert sum(1 for kind in users.values() if kind == PRACTICE) >= 1
    assert _comms(ep, token).status_code == 200 and _comms(ep, second).status_code == 200

    auth = {"Authorization": f"Bearer {token}"}
    for path in ("/v1/verify", "/v1/whoami"):
        r = httpx.get(f"{ep.url}{path}", headers={**auth, "X-IntDesk-Protocol": "1"})
        assert r.status_code == 403, (path, r.text)
    r = httpx.post(
        f"{ep.url}/v1/pull", headers={**auth, "X-IntDesk-Protocol": "1"},
        json={"cursors": {}, "limit": 10},
    )  # fmt: skip
    assert r.status_code == 403
    r = httpx.post(
        f"{ep.url}/v1/cycle", headers={**auth, "X-IntDesk-Protocol": "1"},
        json={"pull": {"cursor": "x"}, "verify": True},
    )  # fmt: skip
    assert r.status_code == 403
    fhir = httpx.get(f"{ep.url}/fhir/R4/Patient?identifier={NHS}|9990000018", headers=auth)
    assert fhir.status_code == 403 and fhir.json()["resourceType"] == "OperationOutcome"

    with ep.session() as s:
        practice_admin.revoke(s, token_id)
    assert _comms(ep, token).status_code == 401
    assert _comms(ep, second).status_code == 200  # the practice's other token reads on


def test_a_practice_login_without_its_scope_or_ods_code_reads_nothing(
    sqlite_endpoint: Endpoint,
) -> None:
    ep = sqlite_endpoint
    with ep.session() as s:
        _id, token = practice_admin.issue(s, "K84002", "Chapel Street")
        login_id = s.scalar(select(ServerUser.id).where(ServerUser.ods_code == "K84002"))
    assert _comms(ep, token).status_code == 200
    for changes in ({"scope": None}, {"scope": "read"}, {"scope": PRACTICE_SCOPE, "ods_code": None},
                    {"ods_code": "RXQ"}):  # fmt: skip
        with ep.session() as s:
            s.execute(update(ServerUser).where(ServerUser.id == login_id).values(**changes))
        r = _comms(ep, token)
        assert r.status_code == 403, (changes, r.text)
        assert r.json()["resourceType"] == "OperationOutcome"
        with ep.session() as s:
            s.execute(
                update(ServerUser)
                .where(ServerUser.id == login_id)
                .values(scope=PRACTICE_SCOPE, ods_code="K84002")
            )
    # An expired practice token is refused like any expired device token.
    with ep.session() as s:
        past = (datetime.now(UTC) - timedelta(days=1)).isoformat(timespec="microseconds")
        s.execute(
            update(DeviceToken).where(DeviceToken.user_id == login_id).values(expires_at=past)
        )
    assert _comms(ep, token).status_code == 401


def test_a_practice_token_from_before_practice_logins_reads_on_after_the_upgrade(
    tmp_path: Path,
) -> None:
    engine = create_engine(f"sqlite:///{tmp_path / 'old.db'}")
    token = "idp_old-practice-token"
    tid = uuid.uuid4()
    with engine.begin() as conn:
        command.upgrade(db.alembic_config(conn), "s0005_record_nhs_number")
        conn.execute(
            text("INSERT INTO srv_practice_token (id, ods_code, label, token_hash, created_at) "
                 "VALUES (:i, 'K84001', 'Park Surgery', :h, '2026-11-01')"),
            {"i": tid.hex, "h": admin.hash_token(token)},
        )  # fmt: skip
    db.upgrade(engine)
    with Session(engine) as s:
        login = s.scalar(select(ServerUser).where(ServerUser.kind == PRACTICE))
        assert (login.name, login.scope, login.ods_code) == (
            "practice-K84001", PRACTICE_SCOPE, "K84001"
        )  # fmt: skip
        row = s.get(DeviceToken, tid)
        assert row.user_id == login.id and row.token_hash == admin.hash_token(token)
        assert row.label == "Park Surgery" and row.expires_at > datetime.now(UTC).isoformat()
        [listed] = practice_admin.listing(s)
        assert (listed.id, listed.ods_code, listed.revoked_at) == (tid, "K84001", None)


def test_issue_practice_token_refuses_what_is_not_a_practice_ods_code(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    admin_cli = ["admin", "--db", f"sqlite:///{tmp_path / 'srv.db'}"]
    assert cli_main([*admin_cli, "issue-practice-token", "--ods", "RXQ"]) != 0
    bad = capsys.readouterr()
    assert "GP practice ODS code" in bad.err + bad.out
    assert cli_main([*admin_cli, "issue-practice-token", "--ods", "K84001"]) == 0, (
        capsys.readouterr()
    )
    capsys.readouterr()
    assert cli_main([*admin_cli, "list-users"]) == 0
    listed = capsys.readouterr().out
    assert "practice-K84001" in listed and "practice:K84001" in listed
