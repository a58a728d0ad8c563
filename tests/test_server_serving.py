"""The endpoint's HTTP protocol switches Nagle off on sockets uvicorn's multi-process mode binds."""

from __future__ import annotations

import asyncio
import socket

from uvicorn.config import Config

from int_desk.server.serving import PROTOCOL, NoDelayHTTPProtocol


async def _accepted_nodelay(protocol_factory: type) -> int:
    async def app(scope: dict, receive: object, send: object) -> None:  # never called
        raise AssertionError("no request is sent")

    config = Config(app, http=PROTOCOL, log_level="warning")
    config.load()
    # As uvicorn binds for --workers N: socket.socket(family) has protocol number 0, so asyncio
    # leaves Nagle on for the connections it accepts.
    listener = socket.socket(socket.AF_INET)
    listener.bind(("127.0.0.1", 0))
    assert listener.proto == 0
    seen: list[int] = []

    class Probe(protocol_factory):  # type: ignore[misc,valid-type]
        def connection_made(self, transport: asyncio.BaseTransport) -> None:
            super().connection_made(transport)
            sock = transport.get_extra_info("socket")
            seen.append(sock.getsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY))

    loop = asyncio.get_running_loop()
    server = await loop.create_server(
        lambda: Probe(config=config, server_state=_State(), app_state={}), sock=listener
    )
    try:
        _reader, writer = await asyncio.open_connection(*listener.getsockname())
        for _ in range(200):
            if seen:
                break
            await asyncio.sleep(0.01)
        writer.close()
    finally:
        server.close()
    return seen[0]


class _State:
    def __init__(self) -> None:
        self.total_requests = 0
        self.connections: set = set()
        self.tasks: set = set()
        self.default_headers: list = []


def test_multi_worker_connections_have_nagle_off() -> None:
    assert asyncio.run(_accepted_nodelay(NoDelayHTTPProtocol)) != 0


def test_plain_uvicorn_protocol_leaves_nagle_on_there() -> None:
    """What the fix is for (and proof the probe can fail)."""
    from uvicorn.protocols.http.auto import AutoHTTPProtocol

    assert asyncio.run(_accepted_nodelay(AutoHTTPProtocol)) == 0


def test_the_serve_command_uses_the_nodelay_protocol(tmp_path, monkeypatch) -> None:
    import argparse

    import uvicorn

    from int_desk.cli.server_cmds import serve

    calls: list[dict] = []
    monkeypatch.setattr(uvicorn, "run", lambda *a, **kw: calls.append(kw))
    for workers in (1, 2):
        args = argparse.Namespace(
            db=str(tmp_path / "srv.db"), host="127.0.0.1", port=0, workers=workers,
            ssl_certfile=None, ssl_keyfile=None,
        )  # fmt: skip
        assert serve(args) == 0
    assert [c["http"] for c in calls] == [PROTOCOL, PROTOCOL]
