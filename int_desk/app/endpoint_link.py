"""Settings > Team endpoint acts on the open workspace's sync connection (int_desk.sync).

- Connected, new address: re-point the connection and keep the device token (an endpoint that
  moved keeps its tokens), then sync.
- Not connected, address entered: ask for the invitation code (or a device token handed out by
  hand), exchange it over TLS as the first run does, connect, then sync.
- Address cleared: after confirmation, forget the token and stop syncing this workspace.

The token never goes into settings; ``int_desk.sync.credentials`` keeps it (keyring or store).
"""

from __future__ import annotations

import logging
import socket
from typing import Any

from PySide6.QtWidgets import QInputDialog, QLineEdit, QMainWindow

from int_desk.app.context import AppContext
from int_desk.app.messages import confirm, show_error
from int_desk.services import first_run as setup

log = logging.getLogger(__name__)


def current_endpoint(ctx: AppContext | None) -> str | None:
    if ctx is None or not ctx.workspace.is_open:
        return None
    from int_desk.services import sync_link

    return sync_link.linked_endpoint(ctx.workspace)


def endpoint_changed(window: QMainWindow, before: str | None, after: str | None) -> None:
    ctx: AppContext | None = getattr(window, "ctx", None)
    if ctx is None or (before or None) == (after or None):
        return
    from int_desk.services import sync_link

    ws = ctx.workspace

    def then_sync(_result: Any = None) -> None:
        sync = getattr(window, "sync", None)
        if sync is not None:
            sync.start()

    if not after:
        if confirm(
            window,
            "Stop syncing?",
            "This computer will stop exchanging changes with your team's endpoint. Records "
            "already here stay here. You can connect again later with a new invitation code.",
            ok="Stop syncing",
        ):

            def disconnect() -> None:
                sync_link.disconnect(ws)

            ctx.tasks.run(disconnect, then_sync, lambda exc: show_error(window, exc))
        return
    if before:

        def repoint() -> None:
            sync_link.repoint(ws, after)

        ctx.tasks.run(repoint, then_sync, lambda exc: show_error(window, exc))
        return
    ask_token_and_connect(window, ctx, after, then_sync)


def ask_token_and_connect(
    window: QMainWindow, ctx: AppContext, url: str, done: Any
) -> QInputDialog:
    """A window-modal prompt for the device token; checks it, then connects the workspace."""
    from int_desk.services import sync_link

    prompt = QInputDialog(window)
    prompt.setObjectName("deviceTokenPrompt")
    prompt.setWindowTitle("Connect to your team")
    prompt.setLabelText(
        f"Enter the invitation code your administrator gave you for {url}\n"
        "(12 letters and digits; it works once). This computer then keeps its own key, in "
        "your keyring or encrypted in the workspace, never in settings."
    )
    prompt.setTextEchoMode(QLineEdit.EchoMode.Normal)
    prompt.setOkButtonText("Connect")

    def chosen(code: str) -> None:
        ws = ctx.workspace

        def failed(exc: BaseException) -> None:
            show_error(window, exc, "Connect to your team")

        def exchange() -> tuple[setup.EndpointInfo, str]:
            if setup.looks_like_token(code):  # a device token handed out by hand
                return setup.probe_endpoint(url, code), code.strip()
            return setup.redeem_invitation(url, code, label=socket.gethostname()[:120])

        def checked(result: tuple[setup.EndpointInfo, str]) -> None:  # write on the store worker
            info, token = result
            ctx.tasks.run(lambda: sync_link.connect(ws, info.url, token), done, failed)

        ctx.tasks.run_network(exchange, checked, failed)

    prompt.textValueSelected.connect(chosen)
    prompt.open()
    return prompt
