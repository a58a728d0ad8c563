"""How ``int-desk serve`` runs uvicorn: the HTTP protocol class it uses.

With ``--workers N`` uvicorn binds the listening socket itself as ``socket.socket(family)``,
whose protocol number is 0, and asyncio only switches Nagle's algorithm off (TCP_NODELAY) on
sockets whose protocol is IPPROTO_TCP. The HTTP implementation writes a response's head and body
separately, so without TCP_NODELAY the body waited for the client's delayed ACK: every answer
of a multi-process endpoint took about 40 ms longer (measured on loopback: 48 ms for a verify
that takes 9 ms single-process). This protocol sets TCP_NODELAY on every accepted connection.
"""

from __future__ import annotations

import contextlib
import socket
from typing import Any

from uvicorn.protocols.http.auto import AutoHTTPProtocol

PROTOCOL = "int_desk.server.serving:NoDelayHTTPProtocol"  # for uvicorn.run(http=...)
HEAD_SECONDS = 10.0
"""A request's head (request line and headers) must arrive within this, on a new connection
and on a kept-alive one once its next request starts: uvicorn has no such limit, so a client
trickling header bytes ("slowloris") held a connection forever. It is answered 408 and closed.
Bodies have the same limit (``app.BodyLimit``)."""
_TIMEOUT = (
    b"HTTP/1.1 408 Request Timeout\r\nconnection: close\r\ncontent-type: application/json\r\n"
    b'content-length: 47\r\n\r\n{"detail": "request head not received in time"}'
)


class NoDelayHTTPProtocol(AutoHTTPProtocol):  # type: ignore[misc,valid-type]
    """uvicorn's own HTTP protocol (httptools if installed, else h11) with Nagle off and a time
    limit on request heads."""

    head_seconds = HEAD_SECONDS

    def connection_made(self, transport: Any) -> None:
        sock = transport.get_extra_info("socket")
        if sock is not None and sock.family in (socket.AF_INET, socket.AF_INET6):
            with contextlib.suppress(OSError):
                sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        super().connection_made(transport)
        self._head_timer: Any = None
        self._arm_head_timer()  # a new connection must send its first request head in time

    def data_received(self, data: bytes) -> None:
        if self.cycle is None or self.cycle.response_complete:  # bytes of a next request
            self._arm_head_timer()
        super().data_received(data)

    def connection_lost(self, exc: Exception | None) -> None:
        if self._head_timer is not None:
            self._head_timer.cancel()
            self._head_timer = None
        super().connection_lost(exc)

    def _arm_head_timer(self) -> None:
        if self._head_timer is None:
            self._head_timer = self.loop.call_later(self.head_seconds, self._head_late, self.cycle)

    def _head_late(self, waiting_since: Any) -> None:
        self._head_timer = None
        if self.cycle is waiting_since and not self.transport.is_closing():
            # No request head completed since the timer started (a request in flight keeps
            # its cycle until answered; its body has BodyLimit's deadline).
            if self.cycle is None or self.cycle.response_complete:
                with contextlib.suppress(Exception):
                    self.transport.write(_TIMEOUT)
                self.transport.close()
