"""Slow and short requests cannot hold the endpoint: a body or a request head that has not
arrived within 10 s is answered 408 and the connection closed, and everyone else is served
meanwhile (a real ``int-desk serve`` on 127.0.0.1, raw sockets for the slow clients)."""

from __future__ import annotations

import socket
import threading
import time
from urllib.parse import urlparse

import httpx

from tests.helpers.sync_env import Endpoint

LIMIT = 10.0


def _slow_client(url: str, first: bytes, trickle: bytes | None, out: dict, key: str) -> None:
    """Send ``first``, then ``trickle`` once a second; note what came back and when."""
    u = urlparse(url)
    start = time.monotonic()
    with socket.create_connection((u.hostname, u.port), timeout=LIMIT + 10) as sock:
        sock.settimeout(1.0)
        if first:
            sock.sendall(first)
        received = b""
        while time.monotonic() - start < LIMIT + 10:
            try:
                chunk = sock.recv(4096)
            except TimeoutError:
                if trickle:
                    try:
                        sock.sendall(trickle)
                    except OSError:
                        break
                continue
            except OSError:
                break
            if not chunk:
                break  # closed by the server
            received += chunk
        out[key] = (received, time.monotonic() - start)


def test_slow_bodies_and_heads_get_408_within_10_s_and_others_are_served(
    sqlite_endpoint: Endpoint,
) -> None:
    ep = sqlite_endpoint
    token = ep.tokens["a"]
    short_body = (
        b"POST /v1/push HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
        b"X-IntDesk-Protocol: 1\r\nAuthorization: Bearer " + token.encode() + b"\r\n"
        b"Content-Length: 1000\r\n\r\n" + b'{"batch_id":'  # 13 bytes of 1000, then nothing
    )
    slow_head = b"POST /v1/push HTTP/1.1\r\nHost: x\r\n"
    results: dict[str, tuple[bytes, float]] = {}
    slow = [
        threading.Thread(target=_slow_client, args=(ep.url, short_body, None, results, "body")),
        threading.Thread(
            target=_slow_client, args=(ep.url, slow_head, b"X-Slow: 1\r\n", results, "head")
        ),
        threading.Thread(target=_slow_client, args=(ep.url, b"", None, results, "silent")),
    ]
    for t in slow:
        t.start()
    # Meanwhile, the endpoint serves everybody else at once.
    served = []
    with ep.http("b") as client:
        for _ in range(5):
            began = time.monotonic()
            assert client.get("/v1/verify").status_code == 200
            assert httpx.get(f"{ep.url}/v1/health", timeout=5).status_code == 200
            served.append(time.monotonic() - began)
            time.sleep(1)
    for t in slow:
        t.join(LIMIT + 15)
    assert max(served) < 3.0, served
    for key in ("body", "head"):
        answer, took = results[key]
        assert answer.startswith(b"HTTP/1.1 408"), (key, answer[:200])
        assert took < LIMIT + 2, (key, took)
    answer, took = results["silent"]  # a connection that never says anything is dropped too
    assert took < LIMIT + 2, took
