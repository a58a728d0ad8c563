"""The workspace's link to its team's sync endpoint, as the app and the command line use it:
which endpoint, connecting and disconnecting (``sync.credentials`` keeps the device's key), what
is waiting to send, and one sync run (``sync.client``)."""

from __future__ import annotations

import threading

from sqlalchemy.orm import Session

from int_desk.store.workspace import Workspace
from int_desk.sync import credentials, local
from int_desk.sync.admin_client import AdminClient
from int_desk.sync.admin_client import StaleEdit as StaleEdit
from int_desk.sync.client import Progress, SyncEngine, SyncResult


def endpoint_url(session: Session) -> str | None:
    """The endpoint this workspace syncs with, or None for a standalone workspace."""
    return local.state(session, credentials.ENDPOINT)


def linked_endpoint(ws: Workspace) -> str | None:
    """The same, read through the workspace (opening its own session)."""
    return credentials.get_state(ws, credentials.ENDPOINT) or None


def connect(ws: Workspace, url: str, token: str) -> None:
    """Keep the device's key for ``url`` and sync with it from now on."""
    credentials.connect(ws, url, token)


def repoint(ws: Workspace, url: str) -> None:
    """Sync with another address of the same endpoint, keeping the device's key."""
    conn = credentials.load(ws)
    assert conn is not None  # only asked of a connected workspace
    credentials.connect(ws, url, conn.token)


def disconnect(ws: Workspace) -> None:
    """Stop syncing: forget the device's key and the endpoint (records stay)."""
    credentials.forget(ws)
    credentials.set_state(ws, **{credentials.ENDPOINT: None})


def team_admin(ws: Workspace) -> AdminClient:
    """The endpoint's administration API as this device (a synced team's set-up is changed
    there; ``StaleEdit`` says someone changed the row first)."""
    client = AdminClient.for_workspace(ws)
    assert client is not None  # only asked of a connected workspace
    return client


def pending_count(session: Session) -> int:
    """Changes made here and not yet accepted by the endpoint."""
    return local.pending_count(session)


def last_sync_at(session: Session) -> str | None:
    """When the last sync finished, as stored (UTC ISO text), or None."""
    return local.state(session, local.LAST_SYNC_AT)


def run_sync(
    ws: Workspace,
    *,
    cancel: threading.Event,
    progress: Progress,
    connect_timeout: float,
    quick_offline: bool,
) -> SyncResult | None:
    """One sync run with the endpoint; None when the workspace is not connected."""
    conn = credentials.load(ws)
    if conn is None:
        return None
    engine = SyncEngine(
        ws,
        conn.endpoint,
        conn.token,
        cancel=cancel,
        progress=progress,
        connect_timeout=connect_timeout,
        quick_offline=quick_offline,
    )
    return engine.run()
