"""Device tokens expire when unused (default 90 days, configurable), are renewed by syncing, and
an expired one is a clear 401 the app turns into "Sign in again" without losing unsent edits."""

from __future__ import annotations

import subprocess
import sys
from datetime import UTC, datetime, timedelta
from pathlib import Path

from PySide6.QtWidgets import QInputDialog, QMainWindow
from sqlalchemy import select

from int_desk.app.sync_status import install_sync
from int_desk.server import admin
from int_desk.server.models import DeviceToken, ServerUser
from int_desk.store import models as m
from tests.conftest import PASSPHRASE
from tests.helpers.sync_env import Endpoint, laptop, sync
from tests.test_sync_qt import _ctx


def _token_row(ep: Endpoint, user: str) -> DeviceToken:
    with ep.session() as s:
        row = s.scalars(
            select(DeviceToken).join(ServerUser).where(ServerUser.name == user)
            .order_by(DeviceToken.created_at.desc())
        ).first()  # fmt: skip
        s.expunge(row)
        return row


def _set_expiry(ep: Endpoint, user: str, when: datetime) -> None:
    with ep.session() as s:
        for row in s.scalars(select(DeviceToken).join(ServerUser).where(ServerUser.name == user)):
            row.expires_at = when.isoformat(timespec="microseconds")


def _days_left(row: DeviceToken) -> float:
    assert row.expires_at is not None
    return (datetime.fromisoformat(row.expires_at) - datetime.now(UTC)).total_seconds() / 86400


def test_tokens_last_90_days_are_renewed_by_sync_and_the_lifetime_is_configurable(
    sqlite_endpoint: Endpoint,
) -> None:
    ep = sqlite_endpoint
    assert 89.9 < _days_left(_token_row(ep, "a")) <= 90
    _set_expiry(ep, "a", datetime.now(UTC) + timedelta(days=3))  # in use, but close to the end
    with ep.http("a") as client:
        assert client.get("/v1/verify").status_code == 200
    assert 89.9 < _days_left(_token_row(ep, "a")) <= 90  # pushed forward by use
    cli = [sys.executable, "-m", "int_desk", "admin", "--db", ep.db_url]
    done = subprocess.run([*cli, "set-token-lifetime", "30"], capture_output=True, text=True)
    assert done.returncode == 0, done.stderr
    with ep.session() as s:
        admin.issue_token(s, "b", "new laptop")
    assert 29.9 < _days_left(_token_row(ep, "b")) <= 30
    bad = subprocess.run([*cli, "set-token-lifetime", "0"], capture_output=True, text=True)
    assert bad.returncode != 0 and "1 to 3650 days" in bad.stderr


def test_an_expired_token_is_a_clear_401_and_listed_as_expired(
    sqlite_endpoint: Endpoint,
) -> None:
    ep = sqlite_endpoint
    _set_expiry(ep, "a", datetime.now(UTC) - timedelta(minutes=1))
    with ep.http("a") as client:
        for method, path, body in (
            ("POST", "/v1/push", {"batch_id": "00000000-0000-0000-0000-000000000000", "ops": []}),
            ("POST", "/v1/pull", {"full": True}),
            ("GET", "/v1/verify", None),
            ("POST", "/v1/cycle", {"pull": {"cursor": "x"}, "verify": True}),
        ):
            reply = client.request(method, path, json=body)
            assert reply.status_code == 401
            assert "expired" in reply.headers["www-authenticate"]
            assert "Sign in again" in reply.json()["detail"]
    listing = subprocess.run(
        [sys.executable, "-m", "int_desk", "admin", "--db", ep.db_url, "list-tokens"],
        capture_output=True, text=True,
    ).stdout  # fmt: skip
    assert "expired" in next(line for line in listing.splitlines() if " a " in line)


def test_the_app_asks_to_sign_in_again_and_keeps_unsent_edits(
    qtbot, sqlite_endpoint: Endpoint, tmp_path: Path
) -> None:  # type: ignore[no-untyped-def]
    ep = sqlite_endpoint
    ws = laptop(tmp_path / "a", ep, "a", PASSPHRASE)
    sync(ws)
    with ws.session() as s:  # an edit made offline, then the laptop sits unused too long
        pid = s.scalars(select(m.Patient.id).order_by(m.Patient.id)).first()
        s.get(m.Patient, pid).phone = "01632 777777"
    _set_expiry(ep, "a", datetime.now(UTC) - timedelta(days=1))
    ctx = _ctx(ws, ep, "a", tmp_path)
    window = QMainWindow()
    qtbot.addWidget(window)
    window.show()
    with qtbot.waitSignal(ctx.events.sync_finished, timeout=30_000) as refused:
        controller = install_sync(window, ctx)
    result = refused.args[0]
    assert result.error_kind == "expired" and result.pending == 1
    qtbot.waitUntil(lambda: controller.label.text().startswith("Sign in again"))
    assert "1 change waiting to send" in controller.label.text()
    assert "Your changes are kept on this computer" in controller.label.toolTip()
    assert controller.sign_in_button.isVisible()

    with ep.session() as s:  # the administrator issues a new token
        _tid, token = admin.issue_token(s, "a", "laptop-a again")
    with qtbot.waitSignal(ctx.events.sync_finished, timeout=30_000) as again:
        controller.sign_in_button.click()
        prompt = window.sign_in_prompt
        assert isinstance(prompt, QInputDialog) and prompt.isVisible()
        prompt.setTextValue(token)
        prompt.accept()
    assert again.args[0].ok and again.args[0].pushed == 1
    qtbot.waitUntil(lambda: controller.label.text().startswith("Up to date"))
    assert not controller.sign_in_button.isVisible()
    with ep.session() as s:
        from int_desk.server.models import Record

        assert '"phone": "01632 777777"' in s.get(Record, ("patient", pid)).data
    controller.stop()
    ctx.tasks.wait()
    ws.close()
