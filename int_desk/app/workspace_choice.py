"""Which workspace ``int-desk`` opens, decided without the store code (start-up is timed)."""

from __future__ import annotations

from pathlib import Path

from int_desk import paths
from int_desk.settings_schema import LAST_WORKSPACE, Preferences
from int_desk.store.files import is_workspace

__all__ = ["remember_workspace", "startup_workspace"]


def startup_workspace(prefs: Preferences) -> Path | None:
    """The workspace ``int-desk`` opens without arguments: the last one opened, else the demo
    if it was built before; None when there is none yet (then the first run is shown)."""
    for candidate in (prefs.last_workspace(), paths.default_workspace()):
        if candidate is not None and is_workspace(candidate):
            return candidate
    return None


def remember_workspace(prefs: Preferences, directory: Path) -> None:
    prefs.store.setValue(LAST_WORKSPACE, str(directory))
