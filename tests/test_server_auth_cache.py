"""The endpoint remembers an authenticated token per connection for a few seconds only:
revocation reaches a new connection at once and a long-lived one within AUTH_CACHE_SECONDS."""

from __future__ import annotations

import time

from int_desk.server import admin
from int_desk.server.auth_cache import AUTH_CACHE_SECONDS, AuthCache
from tests.helpers.sync_env import Endpoint, wait_for


def _revoke(endpoint: Endpoint, user: str) -> None:
    with endpoint.session() as s:
        for token, name in admin.list_tokens(s):
            if name == user:
                admin.revoke_token(s, token.id)


def test_a_revoked_token_is_refused_within_seconds_even_on_an_open_connection(
    endpoint: Endpoint,
) -> None:
    with endpoint.http("a") as kept_open, endpoint.http("b") as other:
        assert kept_open.get("/v1/verify").status_code == 200
        assert other.get("/v1/verify").status_code == 200
        _revoke(endpoint, "a")
        revoked_at = time.monotonic()
        with endpoint.http("a") as fresh:  # the app opens a connection per sync cycle
            assert fresh.get("/v1/verify").status_code == 401
        wait_for(
            lambda: kept_open.get("/v1/verify").status_code == 401,
            AUTH_CACHE_SECONDS + 5,
            "the revoked token to be refused on the open connection",
        )
        assert time.monotonic() - revoked_at < AUTH_CACHE_SECONDS + 2
        assert other.get("/v1/verify").status_code == 200  # other devices unaffected
        assert kept_open.get("/v1/verify").status_code == 401  # and it stays refused


def test_a_new_team_membership_reaches_the_next_connection(endpoint: Endpoint) -> None:
    with endpoint.http("c") as c:
        before = c.get("/v1/whoami").json()["teams"]
    with endpoint.session() as s:
        admin.add_to_team(s, "c", "Bicester INT")
    with endpoint.http("c") as c:
        after = c.get("/v1/whoami").json()["teams"]
    assert len(after) == len(before) + 1


class _Clock:
    def __init__(self) -> None:
        self.now = 100.0

    def __call__(self) -> float:
        return self.now


def test_entries_are_per_connection_and_token_and_expire() -> None:
    clock = _Clock()
    cache = AuthCache(ttl=2.0, clock=clock)
    cache.put(("127.0.0.1", 5000), "hash-a", "caller a")
    assert cache.get(("127.0.0.1", 5000), "hash-a") == "caller a"
    assert cache.get(("127.0.0.1", 5001), "hash-a") is None  # another connection looks up
    assert cache.get(("127.0.0.1", 5000), "hash-b") is None  # another token on it too
    clock.now += 1.9
    assert cache.get(("127.0.0.1", 5000), "hash-a") == "caller a"
    clock.now += 0.2  # counted from the lookup, not refreshed by use
    assert cache.get(("127.0.0.1", 5000), "hash-a") is None


def test_a_zero_lifetime_remembers_nothing() -> None:
    cache = AuthCache(ttl=0)
    cache.put(("127.0.0.1", 5000), "hash-a", "caller a")
    assert cache.get(("127.0.0.1", 5000), "hash-a") is None
