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

from cachetools import TTLCache

AUTH_CACHE_SECONDS = 2.0
MAX_ENTRIES = 2048  # connections remembered at once; past it the least recently used go first


class AuthCache:
    def __init__(
        self, ttl: float = AUTH_CACHE_SECONDS, clock: Callable[[], float] = time.monotonic
    ) -> None:
        self.ttl = ttl
        # Entries expire ``ttl`` after the lookup that stored them (reads do not extend them).
        self._items: TTLCache[tuple[Any, str], Any] = TTLCache(
            MAX_ENTRIES, ttl=max(ttl, 0.001), timer=clock
        )
        self._lock = threading.Lock()  # cachetools' caches are not thread-safe

    def get(self, connection: Any, token_hash: str) -> Any | None:
        with self._lock:
            return self._items.get((connection, token_hash))

    def put(self, connection: Any, token_hash: str, value: Any) -> None:
        if self.ttl > 0:
            with self._lock:
                self._items[(connection, token_hash)] = value
