"""A short-lived memory of authenticated device tokens, per HTTP connection.

A sync cycle is three requests (push, pull, verify) on one keep-alive connection; looking the
token, user and teams up once per connection instead of once per request saves a database round
trip on two of them. An entry is keyed by the connection (client address and port) *and* the
token's hash, and is trusted for at most ``AUTH_CACHE_SECONDS`` from the lookup:

- a revoked token, a deactivated user or a changed team membership takes effect on the
  caller's next connection (the app opens one per sync cycle) and on a long-lived connection
  within ``AUTH_CACHE_SECONDS``;
- refusals are never remembered, so a newly issued token works at once;
- each server process has its own memory (nothing to invalidate between processes).
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from typing import Any

AUTH_CACHE_SECONDS = 2.0
_PURGE_ABOVE = 2048  # entries; expired ones are dropped when the memory grows past this


class AuthCache:
    def __init__(
        self, ttl: float = AUTH_CACHE_SECONDS, clock: Callable[[], float] = time.monotonic
    ) -> None:
        self.ttl, self.clock = ttl, clock
        self._items: dict[tuple[Any, str], tuple[float, Any]] = {}
        self._lock = threading.Lock()
        self.hits = self.misses = 0

    def get(self, connection: Any, token_hash: str) -> Any | None:
        item = self._items.get((connection, token_hash))
        if item is not None and item[0] > self.clock():
            self.hits += 1
            return item[1]
        self.misses += 1
        return None

    def put(self, connection: Any, token_hash: str, value: Any) -> None:
        if self.ttl <= 0:
            return
        now = self.clock()
        with self._lock:
            if len(self._items) >= _PURGE_ABOVE:
                self._items = {k: v for k, v in self._items.items() if v[0] > now}
            self._items[(connection, token_hash)] = (now + self.ttl, value)
