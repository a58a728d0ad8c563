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


def _slow_client(
    url: str, first: bytes, trickle: bytes | None, out: dict, key: str, connected: threading.Event
) -> None:
    """Send ``first``, then ``trickle`` once a second; note what came back, and when the
    connection started and ended (monotonic clock)."""
    u = urlparse(url)
    start = time.monotonic()
    with socket.create_connection((u.hostname, u.port), timeout=LIMIT + 10) as sock:
        sock.settimeout(1.0)
        if first:
            sock.sendall(first)
        connected.set()
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
        out[key] = (received, start, time.monotonic())


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
    results: dict[str, tuple[bytes, float, float]] = {}
    clients = {
        "body": (short_body, None),
        "head": (slow_head, b"X-Slow: 1\r\n"),
        "silent": (b"", None),
    }
    connected = {key: threading.Event() for key in clients}
    slow = [
        threading.Thread(
            target=_slow_client, args=(ep.url, first, trickle, results, key, connected[key])
        )
        for key, (first, trickle) in clients.items()
    ]
    for t in slow:
        t.start()
    for key, event in connected.items():
        assert event.wait(LIMIT), f"the {key} client could not connect"
    # Meanwhile, with all three connections held, the endpoint serves everybody else at once.
    served: list[tuple[float, float]] = []  # (began, answered)
    with ep.http("b") as client:
        for _ in range(5):
            began = time.monotonic()
            assert client.get("/v1/verify").status_code == 200
            assert httpx.get(f"{ep.url}/v1/health", timeout=LIMIT).status_code == 200
            served.append((began, time.monotonic()))
            time.sleep(1)  # spread over the time the slow clients are held
    for t in slow:
        t.join(LIMIT + 15)
    # Served while the slow connections were open, not once they were dropped: a server held
    # by them would answer only after the first 408 (about LIMIT seconds).
    first_dropped = min(ended for _, _, ended in results.values())
    assert served[0][1] < first_dropped, (served, results)
    slowest = max(answered - began for began, answered in served)
    assert slowest < LIMIT / 2, served
    # Each slow client is cut off at the limit: not before it, and after it no later than the
    # endpoint's slowest answer meanwhile (how far behind a busy machine made it) plus 2 s.
    for key in ("body", "head", "silent"):
        answer, started, ended = results[key]
        if key != "silent":
            assert answer.startswith(b"HTTP/1.1 408"), (key, answer[:200])
        took = ended - started
        assert LIMIT - 1 < took < LIMIT + 2 + slowest, (key, took, slowest)
