"""A workspace's files on disk, without the store code (no SQLAlchemy): what start-up needs to
decide between the first run, the unlock dialog and the OS keyring in a few milliseconds."""

from __future__ import annotations

import os
from pathlib import Path

STORE_FILE = "store.db"
KEY_FILE = "workspace.key"
BACKUP_DIR = "backups"
PASSPHRASE_ENV = "INT_DESK_PASSPHRASE"


def passphrase_from_env() -> str | None:
    return os.environ.get(PASSPHRASE_ENV) or None


def is_workspace(directory: Path) -> bool:
    return (directory / KEY_FILE).exists() and (directory / STORE_FILE).exists()
