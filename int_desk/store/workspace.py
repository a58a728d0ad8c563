"""A workspace: one encrypted store, its key file and backups, in one private directory.

ws = Workspace.create(dir, passphrase)            # new, empty, migrated to head
ws = Workspace.open(dir, passphrase=None)          # keyring first, then passphrase
with ws.session() as s: ...                        # one unit of work
ws.close()                                         # drop connections, forget the key
"""

from __future__ import annotations

import logging
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from sqlalchemy import Engine, select
from sqlalchemy.orm import Session, sessionmaker

from int_desk import paths
from int_desk.domain.errors import KeyUnavailable, WorkspaceError, WrongPassphrase
from int_desk.store import changes, keys, migrate, outbox
from int_desk.store.engine import make_engine
from int_desk.store.files import (  # file names and checks, no SQLAlchemy: used at start-up
    BACKUP_DIR,
    KEY_FILE,
    PASSPHRASE_ENV,
    STORE_FILE,
    is_workspace,
    passphrase_from_env,
)
from int_desk.store.models import WorkspaceMeta

log = logging.getLogger(__name__)
__all__ = [
    "BACKUP_DIR",
    "KEY_FILE",
    "PASSPHRASE_ENV",
    "STORE_FILE",
    "Workspace",
    "is_workspace",
    "passphrase_from_env",
]


@contextmanager
def committed(s: Session) -> Iterator[Session]:
    """Commit ``s`` when the block ends well; roll it back on any error (an interrupt too)."""
    try:
        yield s
        s.commit()
    except BaseException:
        s.rollback()
        raise


class Workspace:
    def __init__(self, directory: Path, key_file: keys.KeyFile, data_key: bytes) -> None:
        self.directory = directory
        self.key_file = key_file
        self._data_key: bytearray | None = bytearray(data_key)
        self.engine: Engine | None = make_engine(self.store_path, data_key)
        self._sessions = sessionmaker(self.engine, expire_on_commit=False)
        outbox.install(self._sessions)  # every edit of a synced row also goes to the outbox
        self.changes = changes.ChangeFeed()  # what each commit wrote, for the screens showing it
        changes.install(self._sessions, self.changes)
        self.unlocked_with = "passphrase"

    # --- paths --------------------------------------------------------------------------------

    @property
    def store_path(self) -> Path:
        return self.directory / STORE_FILE

    @property
    def workspace_id(self) -> str:
        return self.key_file.workspace_id

    # --- lifecycle ----------------------------------------------------------------------------

    @classmethod
    def create(
        cls,
        directory: Path,
        passphrase: str,
        *,
        use_keyring: bool = True,
        scrypt_n: int | None = None,
    ) -> Workspace:
        keys.check_passphrase_strength(passphrase)
        directory = Path(directory)
        if (directory / KEY_FILE).exists() or (directory / STORE_FILE).exists():
            raise WorkspaceError(f"A workspace already exists in {directory}.")
        paths.ensure_private_dir(directory)
        data_key = keys.new_data_key()
        workspace_id = uuid.uuid4().hex
        kf = keys.KeyFile.create(
            directory / KEY_FILE,
            workspace_id,
            data_key,
            passphrase,
            scrypt_n=scrypt_n or keys.DEFAULT_SCRYPT_N,
        )
        make_engine(directory / STORE_FILE, data_key, create=True).dispose()
        ws = cls(directory, kf, data_key)
        ws.migrate()
        with ws.session() as s:
            s.add(WorkspaceMeta(key="workspace_id", value=workspace_id))
        if use_keyring:
            keys.store_in_keyring(kf, data_key)
        log.info("created workspace %s", workspace_id)
        return ws

    @classmethod
    def open(
        cls, directory: Path, passphrase: str | None = None, *, use_keyring: bool = True
    ) -> Workspace:
        """Unlock with the keyring when it holds the key, else with the passphrase.

        Raises KeyUnavailable when neither is at hand (the UI then asks), WrongPassphrase when
        the passphrase does not fit. Nothing on disk changes on failure.
        """
        directory = Path(directory)
        if not (directory / STORE_FILE).exists():
            raise WorkspaceError(f"No INT Desk workspace in {directory}.")
        kf = keys.KeyFile.load(directory / KEY_FILE)
        passphrase = passphrase or passphrase_from_env()
        if use_keyring and kf.keyring_backend:
            try:
                ws = cls(directory, kf, keys.load_from_keyring(kf))
            except (KeyUnavailable, WrongPassphrase) as exc:
                log.info("keyring unlock not possible: %s", exc)
            else:
                ws.unlocked_with = "keyring"
                ws.migrate()
                return ws
        if passphrase is None:
            raise KeyUnavailable("Enter the workspace passphrase to unlock.")
        ws = cls(directory, kf, kf.unwrap(passphrase))
        ws.migrate()
        return ws

    def migrate(self) -> str | None:
        assert self.engine is not None
        return migrate.upgrade(self.engine, self.store_path, backup_dir=self.directory / BACKUP_DIR)

    def close(self) -> None:
        """Drop every connection and overwrite our copy of the key (auto-lock uses this)."""
        if self.engine is not None:
            self.engine.dispose()
            self.engine = None
        if self._data_key is not None:
            for i in range(len(self._data_key)):
                self._data_key[i] = 0
            self._data_key = None

    @property
    def is_open(self) -> bool:
        return self.engine is not None

    # --- keys ---------------------------------------------------------------------------------

    def change_passphrase(self, old: str, new: str) -> None:
        """Re-wrap the same data key under a new passphrase; the store is not re-encrypted."""
        data_key = self.key_file.unwrap(old)
        self.key_file.rewrap(data_key, new)

    def remember_in_keyring(self) -> bool:
        if self._data_key is None:
            raise WorkspaceError("The workspace is locked.")
        return keys.store_in_keyring(self.key_file, bytes(self._data_key))

    def forget_keyring(self) -> None:
        keys.forget_from_keyring(self.key_file)

    # --- units of work ------------------------------------------------------------------------

    @contextmanager
    def session(self) -> Iterator[Session]:
        """One unit of work: commit on success, roll back on any error, always close."""
        if self.engine is None:
            raise WorkspaceError("The workspace is locked.")
        with self._sessions() as s, committed(s):
            yield s

    def new_session(self, **kw: Any) -> Session:
        """A bare session of this workspace's factory (``bind=``, ``info=`` may be given), for
        code that manages its own transaction: its edits still reach the outbox and the change
        feed. Everything else uses ``session()``."""
        return self._sessions(**kw)

    def meta(self, key: str) -> str | None:
        with self.session() as s:
            return s.scalar(select(WorkspaceMeta.value).where(WorkspaceMeta.key == key))

    def set_meta(self, key: str, value: str) -> None:
        with self.session() as s:
            s.merge(WorkspaceMeta(key=key, value=value))

    def __enter__(self) -> Workspace:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()
