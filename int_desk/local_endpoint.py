"""The embedded default: a sync endpoint on 127.0.0.1 beside the demo workspace.

``int-desk --demo`` calls ``start_demo_endpoint(ws)``: the first time, it seeds a SQLite endpoint
database next to the workspace from the workspace itself (every team, the signed-in member as a
user of all of them) and connects the workspace with a fresh device token; every time, it serves
that database on a free local port in a background thread and points the workspace at it.

It composes both sides (the desktop workspace and the endpoint), so it sits above them, not in
sync/ (.importlinter).
"""

from __future__ import annotations

import logging
import socket
import threading
import time
import uuid
from dataclasses import dataclass
from typing import Any

from sqlalchemy import select

from int_desk.domain.errors import SyncError, SyncErrorKind
from int_desk.store.workspace import Workspace
from int_desk.sync import credentials

log = logging.getLogger(__name__)
DB_NAME = "demo-endpoint.db"


@dataclass
class LocalEndpoint:
    url: str
    server: Any
    thread: threading.Thread

    def stop(self) -> None:
        self.server.should_exit = True
        self.thread.join(10)


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _prepare(ws: Workspace, db_url: str) -> None:
    from int_desk.server import admin, db
    from int_desk.server.models import ServerTeam, ServerTeamUser
    from int_desk.services.identity import CURRENT_MEMBER_KEY
    from int_desk.sync.seed_source import WorkspaceRows

    engine, factory = db.open_db(db_url, pool_size=1)
    try:
        member = ws.meta(CURRENT_MEMBER_KEY)
        if member is None:
            raise SyncError("The demo workspace has no signed-in member.", SyncErrorKind.AUTH)
        login = admin.member_login(uuid.UUID(member))
        with factory.begin() as s, ws.session() as wss:
            if s.scalar(select(ServerTeam.id).limit(1)) is None:
                admin.seed_from_workspace(s, WorkspaceRows(wss))
                log.info("seeded the local demo endpoint from the demo workspace")
            user = s.scalar(select(admin.ServerUser).where(admin.ServerUser.name == login))
            if user is None:
                user = admin.add_user(s, login, [], member_id=uuid.UUID(member))
            for team_id in s.scalars(select(ServerTeam.id)):  # the demo shows every team
                if s.get(ServerTeamUser, (team_id, user.id)) is None:
                    s.add(ServerTeamUser(team_id=team_id, user_id=user.id))
            needs_token = True
            try:
                needs_token = credentials.load(ws) is None
            except SyncError:
                needs_token = True
            if needs_token:
                _tid, token = admin.issue_token(s, login, "demo laptop")
                credentials.connect(ws, "http://127.0.0.1:1", token)
    finally:
        engine.dispose()


def start_demo_endpoint(ws: Workspace, *, port: int | None = None) -> LocalEndpoint:
    import uvicorn

    from int_desk.server.app import create_app

    db_url = f"sqlite:///{ws.directory.parent / DB_NAME}"
    _prepare(ws, db_url)
    port = port or _free_port()
    config = uvicorn.Config(
        create_app(db_url), host="127.0.0.1", port=port, log_level="warning", timeout_keep_alive=60
    )
    server = uvicorn.Server(config)
    thread = threading.Thread(target=server.run, name="int-desk-local-endpoint", daemon=True)
    thread.start()
    deadline = time.monotonic() + 15
    while not server.started:
        if not thread.is_alive() or time.monotonic() > deadline:
            raise SyncError("The local demo sync endpoint did not start.", SyncErrorKind.SERVER)
        time.sleep(0.02)
    url = f"http://127.0.0.1:{port}"
    credentials.set_state(ws, **{credentials.ENDPOINT: url})
    log.info("local demo endpoint on port %d", port)
    return LocalEndpoint(url, server, thread)
