"""The workspace data key: random 256 bits, wrapped under the passphrase, optionally in the OS keyring.

The key file holds only the wrapped key (AES-256-GCM under a scrypt-derived key) and which
keyring backend was used. It never holds the data key in the clear, and there is no plaintext
fallback when no keyring works: the user is asked for the passphrase instead.
"""

from __future__ import annotations

import base64
import json
import logging
import os
import secrets
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from int_desk.domain.errors import KeyUnavailable, ValidationError, WorkspaceError, WrongPassphrase

log = logging.getLogger(__name__)

KEY_FILE_FORMAT = 1
KEYRING_SERVICE = "INT Desk"
# scrypt cost: 2**17 * 8 * 128 bytes = 128 MiB and roughly half a second here.
DEFAULT_SCRYPT_N = 2**17
MIN_PASSPHRASE_LENGTH = 10
# Backends that do not really keep secrets (fail/null) or keep them badly (keyrings.alt).
_UNUSABLE_BACKENDS = ("keyring.backends.fail", "keyring.backends.null", "keyrings.alt")


def new_data_key() -> bytes:
    return secrets.token_bytes(32)


def _b64(data: bytes) -> str:
    return base64.b64encode(data).decode("ascii")


def _unb64(text: str) -> bytes:
    return base64.b64decode(text.encode("ascii"))


def check_passphrase_strength(passphrase: str) -> None:
    if len(passphrase) < MIN_PASSPHRASE_LENGTH:
        raise ValidationError(
            f"Choose a passphrase of at least {MIN_PASSPHRASE_LENGTH} characters.", "passphrase"
        )


def _kek(passphrase: str, salt: bytes, n: int) -> bytes:
    from cryptography.hazmat.primitives.kdf.scrypt import Scrypt  # imported when first used

    return Scrypt(salt=salt, length=32, n=n, r=8, p=1).derive(passphrase.encode("utf-8"))


@dataclass
class KeyFile:
    """The on-disk ``workspace.key``: wrapped data key plus keyring bookkeeping."""

    path: Path
    workspace_id: str
    data: dict[str, Any]

    @classmethod
    def create(
        cls, path: Path, workspace_id: str, data_key: bytes, passphrase: str, *, scrypt_n: int
    ) -> KeyFile:
        kf = cls(path, workspace_id, {"format": KEY_FILE_FORMAT, "workspace_id": workspace_id})
        kf._wrap(data_key, passphrase, scrypt_n)
        kf.data["keyring"] = None
        kf.save()
        return kf

    @classmethod
    def load(cls, path: Path) -> KeyFile:
        try:
            data = json.loads(path.read_text("utf-8"))
        except FileNotFoundError:
            raise WorkspaceError("This workspace has no key file (workspace.key).") from None
        except (OSError, ValueError) as exc:
            raise WorkspaceError(f"The workspace key file is unreadable: {exc}") from None
        if data.get("format") != KEY_FILE_FORMAT:
            raise WorkspaceError("The workspace key file is from another version of INT Desk.")
        return cls(path, str(data["workspace_id"]), data)

    def _wrap(self, data_key: bytes, passphrase: str, scrypt_n: int) -> None:
        salt = secrets.token_bytes(16)
        nonce = secrets.token_bytes(12)
        aad = self.workspace_id.encode("ascii")
        from cryptography.hazmat.primitives.ciphers.aead import AESGCM

        ct = AESGCM(_kek(passphrase, salt, scrypt_n)).encrypt(nonce, data_key, aad)
        self.data["kdf"] = {"name": "scrypt", "n": scrypt_n, "r": 8, "p": 1, "salt": _b64(salt)}
        self.data["wrapped_key"] = {"alg": "AES-256-GCM", "nonce": _b64(nonce), "ct": _b64(ct)}

    def unwrap(self, passphrase: str) -> bytes:
        from cryptography.exceptions import InvalidTag
        from cryptography.hazmat.primitives.ciphers.aead import AESGCM

        kdf, wrapped = self.data["kdf"], self.data["wrapped_key"]
        kek = _kek(passphrase, _unb64(kdf["salt"]), int(kdf["n"]))
        try:
            return AESGCM(kek).decrypt(
                _unb64(wrapped["nonce"]), _unb64(wrapped["ct"]), self.workspace_id.encode("ascii")
            )
        except InvalidTag:
            raise WrongPassphrase() from None

    def rewrap(self, data_key: bytes, new_passphrase: str) -> None:
        """Change the passphrase: same data key, new salt and wrap; the store is untouched."""
        check_passphrase_strength(new_passphrase)
        self._wrap(data_key, new_passphrase, int(self.data["kdf"]["n"]))
        self.save()

    def save(self) -> None:
        """Write atomically (temp file + replace) so a crash never leaves half a key file."""
        tmp = self.path.with_name(self.path.name + ".tmp")
        fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        with os.fdopen(fd, "w", encoding="utf-8") as fh:
            json.dump(self.data, fh, indent=2)
            fh.flush()
            os.fsync(fh.fileno())
        os.replace(tmp, self.path)

    @property
    def keyring_backend(self) -> str | None:
        info = self.data.get("keyring")
        return info.get("backend") if info else None


# --- OS keyring --------------------------------------------------------------------------------


def _keyring() -> Any:
    """The keyring package, imported when first needed: loading its backends takes a few
    hundred milliseconds, which the unlock dialog should not wait for (see app/startup.py)."""
    import keyring
    import keyring.errors

    return keyring


def backend_name() -> str:
    kr = _keyring().get_keyring()
    return f"{type(kr).__module__}.{type(kr).__qualname__}"


def keyring_usable() -> bool:
    return not backend_name().startswith(_UNUSABLE_BACKENDS)


def _username(workspace_id: str) -> str:
    return f"workspace-{workspace_id}"


def store_in_keyring(kf: KeyFile, data_key: bytes) -> bool:
    """Keep the data key in the OS keyring; True when stored. Failure is logged, not raised."""
    if not keyring_usable():
        log.info("no usable OS keyring (%s); passphrase will be asked", backend_name())
        return False
    try:
        _keyring().set_password(KEYRING_SERVICE, _username(kf.workspace_id), data_key.hex())
    except _keyring().errors.KeyringError as exc:
        log.warning("OS keyring refused the key (%s): %s", backend_name(), type(exc).__name__)
        return False
    kf.data["keyring"] = {"backend": backend_name()}
    kf.save()
    return True


def load_from_keyring(kf: KeyFile) -> bytes:
    """The data key from the OS keyring, or KeyUnavailable saying why (missing/locked/changed)."""
    if kf.keyring_backend is None:
        raise KeyUnavailable("This workspace is not kept in the OS keyring.")
    if not keyring_usable():
        raise KeyUnavailable("No OS keyring is available on this desktop.")
    if backend_name() != kf.keyring_backend:
        log.warning("keyring backend changed from %s to %s", kf.keyring_backend, backend_name())
    try:
        value = _keyring().get_password(KEYRING_SERVICE, _username(kf.workspace_id))
    except _keyring().errors.KeyringError as exc:
        raise KeyUnavailable(
            f"The OS keyring is locked or unavailable ({type(exc).__name__})."
        ) from None
    if not value:
        raise KeyUnavailable("The OS keyring does not hold this workspace's key.")
    try:
        key = bytes.fromhex(value)
    except ValueError:
        raise KeyUnavailable("The OS keyring entry for this workspace is damaged.") from None
    if len(key) != 32:
        raise KeyUnavailable("The OS keyring entry for this workspace is damaged.")
    return key


def forget_from_keyring(kf: KeyFile) -> None:
    try:
        _keyring().delete_password(KEYRING_SERVICE, _username(kf.workspace_id))
    except _keyring().errors.KeyringError:
        pass
    kf.data["keyring"] = None
    kf.save()
