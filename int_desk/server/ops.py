"""What an operator watches: liveness and readiness, Prometheus metrics, one log line a request.

    GET /v1/health   the process answers (liveness)
    GET /v1/ready    the database answers within 3 s and its schema is this server's (readiness)
    GET /metrics     Prometheus text: request latency histograms by route, sync cycles, pushed
                     ops by outcome, conflicts, refused ops by kind of reason

Metrics and logs hold routes, statuses, counts and ids only: never a query string, a body, a
name or an NHS number (a FHIR search's query string holds one, so the route's template is
logged, not the URL). Several server processes (``--workers``) share one metrics directory
(``PROMETHEUS_MULTIPROC_DIR``, set by ``int-desk serve``), so any of them answers for all; each
host is scraped on its own.
"""

from __future__ import annotations

import json
import logging
import os
import time
from datetime import UTC, datetime
from typing import Any

from prometheus_client import (
    CONTENT_TYPE_LATEST,
    CollectorRegistry,
    Counter,
    Histogram,
    generate_latest,
)
from prometheus_client import multiprocess as prometheus_multiprocess

from int_desk.logs import ScrubbingFormatter

log = logging.getLogger("int_desk.server.requests")

MULTIPROC_ENV = "PROMETHEUS_MULTIPROC_DIR"
READY_SECONDS = 3.0

REQUEST_SECONDS = Histogram(
    "int_desk_request_seconds",
    "Time from a request's arrival to the end of its answer",
    ["route", "method", "status"],
    buckets=(0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0),
)
SYNC_CYCLES = Counter(
    "int_desk_sync_cycles", "Sync cycles served (an incremental pull, or a download begun)"
)
PUSHED_OPS = Counter("int_desk_pushed_ops", "Pushed ops by outcome", ["status"])
CONFLICTS = Counter("int_desk_conflicts", "Fields of pushed ops that became conflicts")
REJECTED_OPS = Counter("int_desk_rejected_ops", "Pushed ops refused, by kind of reason", ["reason"])
_REASONS = ("forbidden", "refused", "duplicate", "reference data", "the server has no such row")


def reason_kind(reason: str) -> str:
    """A refusal's kind (a bounded label), from the start of its reason."""
    for kind in _REASONS:
        if reason.startswith(kind):
            return kind.split()[0] if kind != "the server has no such row" else "unknown row"
    return "other"


def count_push(results: list[dict[str, Any]]) -> None:
    for r in results:
        status = r.get("status", "")
        PUSHED_OPS.labels(status).inc()
        if status == "conflict":
            CONFLICTS.inc(len(r.get("conflicts", ())) or 1)
        elif status == "rejected" and not r.get("replayed"):
            REJECTED_OPS.labels(reason_kind(str(r.get("reason", "")))).inc()


def metrics_text() -> tuple[bytes, str]:
    """The exposition of every process of this server (one when not multi-process)."""
    if os.environ.get(MULTIPROC_ENV):
        registry = CollectorRegistry()
        collect: Any = prometheus_multiprocess.MultiProcessCollector  # (untyped library)
        collect(registry)
        return generate_latest(registry), CONTENT_TYPE_LATEST
    return generate_latest(), CONTENT_TYPE_LATEST


class RequestLog:
    """ASGI wrapper: times every request into ``REQUEST_SECONDS`` and logs one line for it
    (method, route template, status, milliseconds, the device and login that made it)."""

    def __init__(self, app: Any) -> None:
        self.app = app

    async def __call__(self, scope: dict[str, Any], receive: Any, send: Any) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        start = time.perf_counter()
        status = 500

        async def sending(message: dict[str, Any]) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
            await send(message)

        try:
            await self.app(scope, receive, sending)
        finally:
            seconds = time.perf_counter() - start
            route = getattr(scope.get("route"), "path", None) or "other"
            method = scope.get("method", "")
            REQUEST_SECONDS.labels(route, method, str(status)).observe(seconds)
            state = scope.get("state") or {}
            log.info(
                "request",
                extra={
                    "route": route, "method": method, "status": status,
                    "ms": round(seconds * 1000, 1), "device": state.get("device"),
                    "user": state.get("user"),
                },
            )  # fmt: skip


_STANDARD = set(logging.makeLogRecord({}).__dict__) | {"message", "asctime"}


class JsonFormatter(ScrubbingFormatter):
    """One JSON object a line: time, level, logger, message and any ``extra`` fields; a
    traceback as type and frames only, NHS-number-shaped text masked (``int_desk.logs``)."""

    def format(self, record: logging.LogRecord) -> str:
        from int_desk.scrub import mask_numbers

        out: dict[str, Any] = {
            "ts": datetime.fromtimestamp(record.created, UTC).isoformat(timespec="milliseconds"),
            "level": record.levelname.lower(),
            "logger": record.name,
            "msg": mask_numbers(record.getMessage()),
        }
        for key, value in record.__dict__.items():
            if key not in _STANDARD and not key.startswith("_"):
                out[key] = value
        if record.exc_info and record.exc_info[0] is not None:
            out["error"] = self.formatException(record.exc_info)
        return json.dumps(out, default=str)


def configure_logging(fmt: str = "json", level: str = "info") -> None:
    """The endpoint's logs on stderr only: ``json`` (one object a line) or ``text``; uvicorn's
    own records go through the same scrubbing handler (``serve`` passes it no log config)."""
    handler = logging.StreamHandler()
    if fmt == "json":
        handler.setFormatter(JsonFormatter())
    else:
        handler.setFormatter(ScrubbingFormatter("%(asctime)s %(levelname)s %(name)s %(message)s"))
    root = logging.getLogger()
    for old in list(root.handlers):
        root.removeHandler(old)
    root.addHandler(handler)
    root.setLevel(logging.WARNING)
    logging.captureWarnings(True)  # Python's warnings as log records too, not raw text
    logging.getLogger("int_desk").setLevel(level.upper())
    for quiet in ("uvicorn", "uvicorn.error", "uvicorn.access", "sqlalchemy", "alembic"):
        logging.getLogger(quiet).setLevel(logging.WARNING)
