"""Security settings as rules: auto-lock idle time and quick unlock (Qt-free, testable).

Settings UI (and team configuration) should go through these, so no path can set an idle time
longer than the maximum the issue allows.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

DEFAULT_IDLE_MINUTES = 5
MAX_IDLE_MINUTES = 15
MIN_IDLE_MINUTES = 1
IDLE_SETTING = "security/idle_lock_minutes"
"""QSettings key for the user's preferred idle time (minutes)."""
TEAM_IDLE_KEY = "idle_lock_minutes"
"""Team.config key: a team may impose a shorter maximum than 15 minutes."""
TEAM_QUICK_UNLOCK_KEY = "allow_quick_unlock"
"""Team.config key: True lets members unlock with the OS keyring instead of the passphrase."""


def clamp_idle_minutes(value: Any, team_configs: Iterable[Mapping[str, Any] | None] = ()) -> int:
    """The idle time to use: the user's value (default 5), never above 15 or a team's limit."""
    try:
        minutes = int(float(value)) if value not in (None, "") else DEFAULT_IDLE_MINUTES
    except (TypeError, ValueError):
        minutes = DEFAULT_IDLE_MINUTES
    ceiling = MAX_IDLE_MINUTES
    for config in team_configs:
        limit = (config or {}).get(TEAM_IDLE_KEY)
        if isinstance(limit, int | float) and limit >= MIN_IDLE_MINUTES:
            ceiling = min(ceiling, int(limit))
    return max(MIN_IDLE_MINUTES, min(minutes, ceiling))


def quick_unlock_allowed(team_configs: Iterable[Mapping[str, Any] | None]) -> bool:
    """Only when every one of the member's teams allows it (the strictest team wins)."""
    configs = list(team_configs)
    return bool(configs) and all((c or {}).get(TEAM_QUICK_UNLOCK_KEY) is True for c in configs)
