"""Every directory INT Desk uses, resolved in one place (platformdirs, with overrides).

``INT_DESK_HOME`` moves all per-user state (tests and portable installs use it).
"""

from __future__ import annotations

import os
import sys
from pathlib import Path

import platformdirs

APP_NAME = "INT Desk"
APP_AUTHOR = "INT Desk"


def _home_override() -> Path | None:
    value = os.environ.get("INT_DESK_HOME")
    return Path(value) if value else None


def data_dir() -> Path:
    home = _home_override()
    return home / "data" if home else Path(platformdirs.user_data_dir(APP_NAME, APP_AUTHOR))


def config_dir() -> Path:
    home = _home_override()
    return home / "config" if home else Path(platformdirs.user_config_dir(APP_NAME, APP_AUTHOR))


def log_dir() -> Path:
    home = _home_override()
    return home / "logs" if home else Path(platformdirs.user_log_dir(APP_NAME, APP_AUTHOR))


def default_workspace() -> Path:
    """The embedded default workspace the README's run command opens."""
    return data_dir() / "workspaces" / "demo"


def ensure_private_dir(path: Path) -> Path:
    """Create ``path`` (and parents) readable by this user only where the OS supports modes."""
    path.mkdir(parents=True, exist_ok=True, mode=0o700)
    if os.name == "posix":
        os.chmod(path, 0o700)
    return path


def _source_root() -> Path:
    return Path(__file__).resolve().parent.parent


def bundle_root() -> Path:
    """Where ui/, resources/ and migrations/ live: a source checkout, a wheel or a frozen app."""
    frozen = getattr(sys, "_MEIPASS", None)
    if frozen:
        return Path(frozen)
    installed = Path(__file__).resolve().parent / "_data"
    if installed.is_dir():
        return installed
    return _source_root()


def resources_dir() -> Path:
    return bundle_root() / "resources"


def ui_dir() -> Path:
    return bundle_root() / "ui"


def migrations_dir() -> Path:
    return bundle_root() / "migrations"


def font_path(name: str = "DejaVuSans.ttf") -> Path:
    return resources_dir() / "fonts" / name
