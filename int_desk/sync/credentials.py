"""Where a workspace's endpoint and device token live.

The URL is kept in the store's ``sync_state``. The token goes to the OS keyring when a real one
works; otherwise it is kept inside the encrypted store (``sync_state``), never in plain settings.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass

import keyring
import keyring.errors
from sqlalchemy import delete, select

from int_desk.domain.errors import SyncError, SyncErrorKind
from int_desk.store import keys
from int_desk.store.sync_tables import SyncState
from int_desk.store.workspace import Workspace

log = logging.getLogger(__name__)
KEYRING_SERVICE = "INT Desk sync token"
ENDPOINT = "endpoint"
TOKEN_STORE = "token_store"  # keyring | store
TOKEN = "token"


@dataclass(frozen=True)
class Connection:
    endpoint: str
    token: str
    token_store: str


def get_state(ws: Workspace, key: str) -> str | None:
    with ws.session() as s:
        return s.scalar(select(SyncState.value).where(SyncState.key == key))


def set_state(ws: Workspace, **values: str | None) -> None:
    with ws.session() as s:
        for key, value in values.items():
            if value is None:
                s.execute(delete(SyncState).where(SyncState.key == key))
            else:
                s.merge(SyncState(key=key, value=value))


def connect(ws: Workspace, endpoint: str, token: str) -> str:
    """Remember the endpoint and token; returns where the token went (keyring or store)."""
    endpoint = endpoint.rstrip("/")
    if not endpoint.startswith(("http://", "https://")):
        raise SyncError("The endpoint must be an http:// or https:// URL.", SyncErrorKind.PROTOCOL)
    where = "store"
    if keys.keyring_usable():
        try:
            keyring.set_password(KEYRING_SERVICE, ws.workspace_id, token)
            where = "keyring"
        except keyring.errors.KeyringError as exc:
            log.info(
                "keyring refused the sync token (%s); keeping it in the store", type(exc).__name__
            )
    set_state(
        ws, **{ENDPOINT: endpoint, TOKEN_STORE: where, TOKEN: token if where == "store" else None}
    )
    return where


def load(ws: Workspace) -> Connection | None:
    endpoint = get_state(ws, ENDPOINT)
    if not endpoint:
        return None
    where = get_state(ws, TOKEN_STORE) or "store"
    token = None
    if where == "keyring":
        try:
            token = keyring.get_password(KEYRING_SERVICE, ws.workspace_id)
        except keyring.errors.KeyringError:
            token = None
    else:
        token = get_state(ws, TOKEN)
    if not token:
        raise SyncError(
            "The sync token is not available (keyring locked or changed); connect again.",
            SyncErrorKind.AUTH,
        )
    return Connection(endpoint, token, where)


def forget(ws: Workspace) -> None:
    """Drop the token (after an auth failure, or when disconnecting)."""
    try:
        keyring.delete_password(KEYRING_SERVICE, ws.workspace_id)
    except keyring.errors.KeyringError:
        pass
    set_state(ws, **{TOKEN: None, TOKEN_STORE: None})
