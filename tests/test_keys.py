"""The workspace key file and the OS keyring as users and their support desk meet them.

A key file any later version (or standard scrypt + AES-GCM tools) can open, readable by its
owner only; clear messages when it is missing, damaged or from a newer version; and, when the
OS keyring cannot unlock a workspace, a log line saying why - naming the keyring, never the key.
"""

from __future__ import annotations

import base64
import hashlib
import json
import logging
import os
import stat
from pathlib import Path

import keyring
import keyring.backends.null
import keyring.errors
import pytest
from cryptography.hazmat.primitives.ciphers.aead import AESGCM

from int_desk.domain.errors import KeyUnavailable, ValidationError, WorkspaceError, WrongPassphrase
from int_desk.store import keys
from int_desk.store.workspace import KEY_FILE, Workspace
from tests.conftest import PASSPHRASE
from tests.helpers.memory_keyring import MemoryKeyring

WORKSPACE_ID = "0f1e2d3c4b5a69788796a5b4c3d2e1f0"
# A key file as INT Desk wrote it (format 1, scrypt at the tests' lowered cost): every later
# version must still open it with the passphrase, or a workspace would be locked out by an upgrade.
EARLIER_KEY_FILE = {
    "format": 1,
    "workspace_id": WORKSPACE_ID,
    "kdf": {"name": "scrypt", "n": 4096, "r": 8, "p": 1, "salt": "/Voe8OR8cdSfSXWcTYOa0g=="},
    "wrapped_key": {
        "alg": "AES-256-GCM",
        "nonce": "u+ki4IG1yHwM5tQT",
        "ct": "gUBt7izxAELlRLcJKa83/jGIRBZs+0uaw2Ta8sxcYH78/GwKVc7WUaw90UftabkK",
    },
    "keyring": None,
}
EARLIER_DATA_KEY = bytes(range(32))
MEMORY_BACKEND = "tests.helpers.memory_keyring.MemoryKeyring"


class LockedKeyring(MemoryKeyring):
    """A desktop keyring that is locked: every read and write is refused."""

    def get_password(self, service: str, username: str) -> str | None:
        raise keyring.errors.KeyringLocked("locked")

    def set_password(self, service: str, username: str, password: str) -> None:
        raise keyring.errors.KeyringLocked("locked")


def _key_file(tmp_path: Path, data_key: bytes | None = None) -> tuple[keys.KeyFile, bytes]:
    data_key = data_key or keys.new_data_key()
    path = tmp_path / KEY_FILE
    return keys.KeyFile.create(path, WORKSPACE_ID, data_key, PASSPHRASE, scrypt_n=2**12), data_key


def _workspace_id(directory: Path) -> str:
    return keys.KeyFile.load(directory / KEY_FILE).workspace_id


def _stored(tmp_path: Path) -> dict:
    return json.loads((tmp_path / KEY_FILE).read_text("utf-8"))


def test_a_key_file_written_by_an_earlier_version_still_unlocks(tmp_path: Path) -> None:
    path = tmp_path / KEY_FILE
    path.write_text(json.dumps(EARLIER_KEY_FILE), encoding="utf-8")
    kf = keys.KeyFile.load(path)
    assert kf.workspace_id == WORKSPACE_ID and kf.keyring_backend is None
    assert kf.unwrap(PASSPHRASE) == EARLIER_DATA_KEY
    with pytest.raises(WrongPassphrase):
        kf.unwrap(PASSPHRASE + "!")
    # The wrapped key is bound to its workspace: copied into another workspace's file it fails.
    path.write_text(json.dumps({**EARLIER_KEY_FILE, "workspace_id": "f" * 32}), encoding="utf-8")
    with pytest.raises(WrongPassphrase):
        keys.KeyFile.load(path).unwrap(PASSPHRASE)


def test_the_key_file_opens_with_standard_scrypt_and_aes_gcm_alone(tmp_path: Path) -> None:
    """Recovery without INT Desk: the file names its key derivation and cipher with all their
    parameters, and hashlib's scrypt plus AES-GCM over the workspace id give back the key."""
    _kf, data_key = _key_file(tmp_path)
    stored = _stored(tmp_path)
    assert len(data_key) == 32  # AES-256: SQLCipher's raw key
    assert stored["format"] == 1 and stored["workspace_id"] == WORKSPACE_ID
    assert stored["keyring"] is None  # made without the keyring: the passphrase unlocks it
    kdf, wrapped = stored["kdf"], stored["wrapped_key"]
    assert kdf["name"] == "scrypt" and wrapped["alg"] == "AES-256-GCM"
    salt = base64.b64decode(kdf["salt"])
    nonce = base64.b64decode(wrapped["nonce"])
    assert len(salt) == 16 and len(nonce) == 12  # 128-bit salt; GCM's standard 96-bit nonce
    kek = hashlib.scrypt(
        PASSPHRASE.encode("utf-8"), salt=salt, n=kdf["n"], r=kdf["r"], p=kdf["p"], dklen=32
    )
    ct = base64.b64decode(wrapped["ct"])
    assert AESGCM(kek).decrypt(nonce, ct, WORKSPACE_ID.encode("ascii")) == data_key
    assert data_key.hex() not in json.dumps(stored) and base64.b64encode(data_key).decode() not in (
        json.dumps(stored)
    )


def test_a_new_passphrase_rewraps_with_a_fresh_salt_and_nonce(tmp_path: Path) -> None:
    kf, data_key = _key_file(tmp_path)
    before = _stored(tmp_path)
    kf.rewrap(data_key, "another long passphrase")
    after = _stored(tmp_path)
    assert after["kdf"]["salt"] != before["kdf"]["salt"]
    assert after["wrapped_key"]["nonce"] != before["wrapped_key"]["nonce"]
    reloaded = keys.KeyFile.load(tmp_path / KEY_FILE)
    assert reloaded.unwrap("another long passphrase") == data_key
    with pytest.raises(WrongPassphrase):
        reloaded.unwrap(PASSPHRASE)


@pytest.mark.skipif(os.name != "posix", reason="file modes are POSIX")
def test_the_key_file_is_private_to_its_owner_and_replaced_whole(tmp_path: Path) -> None:
    kf, data_key = _key_file(tmp_path)
    assert stat.S_IMODE((tmp_path / KEY_FILE).stat().st_mode) == 0o600
    kf.rewrap(data_key, "another long passphrase")
    assert stat.S_IMODE((tmp_path / KEY_FILE).stat().st_mode) == 0o600
    assert [p.name for p in tmp_path.iterdir()] == [KEY_FILE]  # no temporary copy left behind


def test_a_passphrase_needs_ten_characters_and_the_form_is_told_which_box() -> None:
    keys.check_passphrase_strength("x" * 10)  # exactly the minimum is accepted
    with pytest.raises(ValidationError) as refused:
        keys.check_passphrase_strength("x" * 9)
    assert str(refused.value) == "Choose a passphrase of at least 10 characters."
    assert refused.value.field == "passphrase"


def test_a_missing_damaged_or_newer_key_file_says_what_is_wrong(tmp_path: Path) -> None:
    path = tmp_path / KEY_FILE
    with pytest.raises(WorkspaceError) as missing:
        keys.KeyFile.load(path)
    assert str(missing.value) == "This workspace has no key file (workspace.key)."
    path.write_text('{"format": 1, "workspace_id": ', encoding="utf-8")
    with pytest.raises(WorkspaceError) as damaged:
        keys.KeyFile.load(path)
    assert str(damaged.value).startswith("The workspace key file is unreadable: Expecting value")
    path.write_text(json.dumps({**EARLIER_KEY_FILE, "format": 2}), encoding="utf-8")
    with pytest.raises(WorkspaceError) as newer:
        keys.KeyFile.load(path)
    assert str(newer.value) == "The workspace key file is from another version of INT Desk."


def test_the_keyring_keeps_the_key_and_the_key_file_names_the_keyring(tmp_path: Path) -> None:
    kf, data_key = _key_file(tmp_path)
    with pytest.raises(KeyUnavailable) as not_kept:
        keys.load_from_keyring(kf)
    assert str(not_kept.value) == "This workspace is not kept in the OS keyring."
    ring = keyring.get_keyring()
    assert keys.backend_name() == MEMORY_BACKEND and keys.keyring_usable()
    assert keys.store_in_keyring(kf, data_key) is True
    assert ring.get_password(keys.KEYRING_SERVICE, f"workspace-{WORKSPACE_ID}") == data_key.hex()
    assert _stored(tmp_path)["keyring"] == {"backend": MEMORY_BACKEND}
    assert keys.load_from_keyring(keys.KeyFile.load(tmp_path / KEY_FILE)) == data_key


def test_no_usable_keyring_is_logged_and_the_passphrase_asked(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    kf, data_key = _key_file(tmp_path)
    keyring.set_keyring(keyring.backends.null.Keyring())  # "stores" nothing
    with caplog.at_level(logging.INFO, logger=keys.log.name):
        assert keys.store_in_keyring(kf, data_key) is False
    assert _stored(tmp_path)["keyring"] is None
    assert caplog.messages == [
        "no usable OS keyring (keyring.backends.null.Keyring); passphrase will be asked"
    ]


def test_a_locked_keyring_refusing_the_key_is_logged_without_the_key(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    kf, data_key = _key_file(tmp_path)
    keyring.set_keyring(LockedKeyring())
    with caplog.at_level(logging.INFO, logger=keys.log.name):
        assert keys.store_in_keyring(kf, data_key) is False
    assert _stored(tmp_path)["keyring"] is None
    assert caplog.messages == [
        "OS keyring refused the key (tests.test_keys.LockedKeyring): KeyringLocked"
    ]
    assert data_key.hex() not in caplog.text


@pytest.mark.parametrize(
    ("state", "reason"),
    [
        ("no keyring now", "No OS keyring is available on this desktop."),
        ("locked", "The OS keyring is locked or unavailable (KeyringLocked)."),
        ("emptied", "The OS keyring does not hold this workspace's key."),
        ("not hex", "The OS keyring entry for this workspace is damaged."),
        ("too short", "The OS keyring entry for this workspace is damaged."),
    ],
)
def test_when_the_keyring_cannot_unlock_the_log_says_why_and_the_passphrase_opens_it(
    tmp_path: Path, caplog: pytest.LogCaptureFixture, state: str, reason: str
) -> None:
    directory = tmp_path / "ws"
    Workspace.create(directory, PASSPHRASE).close()
    ring = keyring.get_keyring()
    entry = (keys.KEYRING_SERVICE, f"workspace-{_workspace_id(directory)}")
    if state == "no keyring now":
        keyring.set_keyring(keyring.backends.null.Keyring())
    elif state == "locked":
        keyring.set_keyring(LockedKeyring())
    elif state == "emptied":
        ring.delete_password(*entry)
    elif state == "not hex":
        ring.set_password(*entry, "not a key at all")
    elif state == "too short":
        ring.set_password(*entry, "00" * 31)
    with caplog.at_level(logging.INFO), pytest.raises(KeyUnavailable, match="passphrase"):
        Workspace.open(directory)
    assert f"keyring unlock not possible: {reason}" in caplog.messages
    with Workspace.open(directory, PASSPHRASE) as ws:
        assert ws.unlocked_with == "passphrase"


def test_a_changed_keyring_backend_is_logged_and_still_tried(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    kf, data_key = _key_file(tmp_path)
    keys.store_in_keyring(kf, data_key)
    with caplog.at_level(logging.INFO, logger=keys.log.name):
        assert keys.load_from_keyring(kf) == data_key
    assert caplog.messages == []  # the same keyring: nothing to report
    kf.data["keyring"] = {"backend": "keyring.backends.kwallet.DBusKeyring"}
    with caplog.at_level(logging.INFO, logger=keys.log.name):
        assert keys.load_from_keyring(kf) == data_key
    assert caplog.messages == [
        f"keyring backend changed from keyring.backends.kwallet.DBusKeyring to {MEMORY_BACKEND}"
    ]


def test_forgetting_the_keyring_asks_for_the_passphrase_next_time(tmp_path: Path) -> None:
    directory = tmp_path / "ws"
    ring = keyring.get_keyring()
    with Workspace.create(directory, PASSPHRASE) as ws:
        assert ws.key_file.keyring_backend == MEMORY_BACKEND
        entry = (keys.KEYRING_SERVICE, f"workspace-{ws.workspace_id}")
        assert ring.get_password(*entry)
        ws.forget_keyring()
        assert ring.get_password(*entry) is None  # the key is gone from the OS keyring
        ws.forget_keyring()  # forgetting twice (or after the user emptied the keyring) is fine
    assert keys.KeyFile.load(directory / KEY_FILE).keyring_backend is None
    # Written as a workspace made without a keyring writes it, which every version reads.
    assert json.loads((directory / KEY_FILE).read_text("utf-8"))["keyring"] is None
    with pytest.raises(KeyUnavailable, match="passphrase"):
        Workspace.open(directory)
    with Workspace.open(directory, PASSPHRASE) as ws:
        assert ws.unlocked_with == "passphrase"
