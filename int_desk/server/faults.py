"""Test-only fault injection (enabled only by INT_DESK_SYNC_TEST_FAULTS=1 on 127.0.0.1 tests).

POST /_test/faults {"path": "/v1/push", "fault": F, "times": n} queues a fault for the next n
requests to that path. F is one of:
  500_before  answer 500 without running the request
  500_after   run the request (it commits), then answer 500
  drop_after  run the request, send the headers and half the body, then close the connection
  delay_after run the request, then wait ``seconds`` before answering (a client timeout)
  busy        answer ``status`` (429 or 503) with ``Retry-After: retry_after`` without running it
              (its ``detail``, "busy" unless given, as the body's detail)
  stuck       run the request, then answer what the first of these n requests to that path
              was answered (an endpoint, or a cache before it, that ignores the position asked)

A one-request cycle (``POST /v1/cycle``) carries a pull, a push when its body has one and a
verify when it asks: a fault queued for any of those paths meets the cycle that carries it
(the failure of the request that would have carried that part alone).
"""

from __future__ import annotations

import asyncio
import json
from typing import Any

from int_desk.server.app import replaying
from int_desk.wire.protocol import CYCLE_PATH


class FaultInjector:
    def __init__(self, app: Any) -> None:
        self.app = app
        self.queue: dict[str, list[dict[str, Any]]] = {}

    async def __call__(self, scope: dict[str, Any], receive: Any, send: Any) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        path = scope["path"]
        if path == "/_test/faults":
            body = b""
            while True:
                msg = await receive()
                body += msg.get("body", b"")
                if not msg.get("more_body"):
                    break
            spec = json.loads(body or b"{}")
            if spec.get("clear"):
                self.queue.clear()
            else:
                self.queue.setdefault(spec["path"], []).extend([spec] * int(spec.get("times", 1)))
            await _respond(send, 200, b'{"ok":true}')
            return
        pending = self.queue.get(path)
        if path == CYCLE_PATH and not pending:
            receive, pending = await self._cycle_faults(receive)
        if not pending:
            await self.app(scope, receive, send)
            return
        spec = pending.pop(0)
        fault = spec["fault"]
        if fault == "500_before":
            await _respond(send, 500, b'{"detail":"injected failure"}')
            return
        if fault == "busy":
            wait = str(spec.get("retry_after", "1")).encode()
            detail = json.dumps({"detail": spec.get("detail", "busy")}).encode()
            await _respond(send, int(spec.get("status", 503)), detail, wait)
            return
        captured: list[dict[str, Any]] = []

        async def capture(message: dict[str, Any]) -> None:
            captured.append(message)

        await self.app(scope, receive, capture)
        start = captured[0]
        body = b"".join(m.get("body", b"") for m in captured[1:])
        if fault == "500_after":
            await _respond(send, 500, b'{"detail":"injected failure after commit"}')
        elif fault == "drop_after":
            headers = [(k, v) for k, v in start["headers"] if k.lower() != b"content-length"]
            headers.append((b"content-length", b"%d" % len(body)))
            await send(
                {"type": "http.response.start", "status": start["status"], "headers": headers}
            )
            await send(
                {"type": "http.response.body", "body": body[: len(body) // 2], "more_body": True}
            )
            raise ConnectionAbortedError("injected: connection closed mid-response")
        elif fault == "stuck":
            start, body = spec.setdefault("answers", {}).setdefault(path, (start, body))
            await send(start)
            await send({"type": "http.response.body", "body": body})
        elif fault == "delay_after":
            await asyncio.sleep(float(spec.get("seconds", 5)))
            await send(start)
            await send({"type": "http.response.body", "body": body})
        else:
            raise ValueError(f"unknown fault {fault!r}")

    async def _cycle_faults(self, receive: Any) -> tuple[Any, list[dict[str, Any]] | None]:
        """The queue of the first part this cycle carries that has a fault waiting, and the
        body to receive again (it was read whole before: ``app.BodyLimit``)."""
        message = await receive()
        try:
            body = json.loads(message.get("body") or b"{}")
        except ValueError:
            body = {}
        carried = ["/v1/pull"]
        if isinstance(body, dict):
            carried += ["/v1/push"] if body.get("push") else []
            carried += ["/v1/verify"] if body.get("verify") else []
        again = replaying(message, receive)
        for part in carried:
            if self.queue.get(part):
                return again, self.queue[part]
        return again, None


async def _respond(send: Any, status: int, body: bytes, retry_after: bytes = b"") -> None:
    headers = [(b"content-type", b"application/json"), (b"content-length", b"%d" % len(body))]
    if retry_after:
        headers.append((b"retry-after", retry_after))
    await send({"type": "http.response.start", "status": status, "headers": headers})
    await send({"type": "http.response.body", "body": body})
