"""The encrypted store: round trip, nothing readable on disk, keys and passphrases."""

from __future__ import annotations

import hashlib
import os
from datetime import date
from pathlib import Path

import keyring
import keyring.backends.fail
import pytest
from sqlalchemy import select

from int_desk.domain.errors import KeyUnavailable, ValidationError, WorkspaceError, WrongPassphrase
from int_desk.store import keys
from int_desk.store.models import Patient, WorkspaceMeta
from int_desk.store.workspace import KEY_FILE, STORE_FILE, Workspace
from tests.conftest import PASSPHRASE


def _patient(**kw: object) -> Patient:
    values = dict(
        nhs_number="9990000018",
        given_name="Zoë",
        family_name="Ó'Brien-Łukasz",
        date_of_birth=date(1931, 2, 3),
        sex="female",
        postcode="OX26 4AB",
    )
    values.update(kw)
    return Patient(**values)


def _digest(directory: Path) -> dict[str, str]:
    return {
        p.name: hashlib.sha256(p.read_bytes()).hexdigest()
        for p in sorted(directory.iterdir())
        if p.is_file()
    }


def test_round_trip_through_encrypted_store(tmp_path: Path) -> None:
    with Workspace.create(tmp_path / "ws", PASSPHRASE, use_keyring=False) as ws:
        with ws.session() as s:
            s.add(_patient())
    with Workspace.open(tmp_path / "ws", PASSPHRASE) as ws, ws.session() as s:
        p = s.scalars(select(Patient)).one()
        assert (p.given_name, p.family_name, p.postcode) == ("Zoë", "Ó'Brien-Łukasz", "OX26 4AB")
        assert p.server_version is None and p.deleted is False
        assert p.id.version == 7


def test_raw_files_hold_no_patient_data(demo_ws: Workspace) -> None:
    """Store, WAL and SHM bytes contain none of the demo names or NHS numbers."""
    with demo_ws.session() as s:
        patients = s.scalars(select(Patient).limit(50)).all()
        # Leave fresh pages in the WAL too.
        s.add(_patient(nhs_number="9990000034", given_name="Siobhán"))
    needles = {p.nhs_number for p in patients} | {
        p.family_name for p in patients if len(p.family_name) > 4
    }
    needles |= {"Siobhán", "OX26 4AB", "SQLite format 3"}
    files = [f for f in demo_ws.directory.iterdir() if f.name.startswith(STORE_FILE)]
    assert {f.name for f in files} >= {STORE_FILE, STORE_FILE + "-wal"}
    for f in files:
        blob = f.read_bytes()
        for needle in needles:
            assert needle.encode("utf-8") not in blob, f"{needle!r} readable in {f.name}"
            assert needle.encode("utf-16-le") not in blob


@pytest.mark.skipif(os.name != "posix", reason="file modes are POSIX")
def test_store_and_key_files_are_private(demo_ws: Workspace) -> None:
    with demo_ws.session() as s:
        s.add(_patient())
    for f in demo_ws.directory.iterdir():
        if f.is_file():
            assert f.stat().st_mode & 0o077 == 0, f.name
    assert demo_ws.directory.stat().st_mode & 0o077 == 0


def test_wrong_passphrase_is_clean_and_changes_nothing(demo_dir: Path) -> None:
    before = _digest(demo_dir)
    with pytest.raises(WrongPassphrase, match="does not unlock"):
        Workspace.open(demo_dir, "not the passphrase at all")
    assert _digest(demo_dir) == before


def test_keyring_unlocks_without_passphrase(tmp_path: Path) -> None:
    Workspace.create(tmp_path / "ws", PASSPHRASE).close()
    with Workspace.open(tmp_path / "ws") as ws:
        assert ws.unlocked_with == "keyring"
    # The key file never holds the key in the clear.
    text = (tmp_path / "ws" / KEY_FILE).read_text()
    stored = keyring.get_password(keys.KEYRING_SERVICE, f"workspace-{ws.workspace_id}")
    assert stored and stored not in text


def test_no_usable_keyring_falls_back_to_passphrase(tmp_path: Path) -> None:
    keyring.set_keyring(keyring.backends.fail.Keyring())
    with Workspace.create(tmp_path / "ws", PASSPHRASE) as ws:
        assert ws.key_file.keyring_backend is None
    with pytest.raises(KeyUnavailable, match="passphrase"):
        Workspace.open(tmp_path / "ws")
    with Workspace.open(tmp_path / "ws", PASSPHRASE) as ws:
        assert ws.unlocked_with == "passphrase"


def test_emptied_keyring_asks_for_passphrase(tmp_path: Path, _isolate) -> None:
    Workspace.create(tmp_path / "ws", PASSPHRASE).close()
    _isolate.secrets.clear()  # e.g. the user reset their desktop keyring
    with pytest.raises(KeyUnavailable):
        Workspace.open(tmp_path / "ws")
    with Workspace.open(tmp_path / "ws", PASSPHRASE) as ws:
        assert ws.unlocked_with == "passphrase"


def test_passphrase_from_environment(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    with Workspace.create(tmp_path / "ws", PASSPHRASE, use_keyring=False) as ws:
        workspace_id = ws.workspace_id
    with pytest.raises(KeyUnavailable):  # no keyring, no passphrase given, none in the env
        Workspace.open(tmp_path / "ws")
    monkeypatch.setenv("INT_DESK_PASSPHRASE", "not the passphrase")
    with pytest.raises(WrongPassphrase):
        Workspace.open(tmp_path / "ws")
    monkeypatch.setenv("INT_DESK_PASSPHRASE", PASSPHRASE)
    with Workspace.open(tmp_path / "ws") as ws, ws.session() as s:
        assert ws.unlocked_with == "passphrase"
        stored = s.scalar(select(WorkspaceMeta.value).where(WorkspaceMeta.key == "workspace_id"))
        assert stored == workspace_id  # the store really is open and readable


def test_change_passphrase_rewraps_without_touching_store(demo_dir: Path) -> None:
    store_before = (demo_dir / STORE_FILE).read_bytes()
    with Workspace.open(demo_dir, PASSPHRASE) as ws:
        ws.engine.dispose()  # type: ignore[union-attr]
        ws.change_passphrase(PASSPHRASE, "a brand new passphrase")
    assert (demo_dir / STORE_FILE).read_bytes() == store_before
    with pytest.raises(WrongPassphrase):
        Workspace.open(demo_dir, PASSPHRASE)
    Workspace.open(demo_dir, "a brand new passphrase").close()


def test_weak_passphrase_rejected(tmp_path: Path) -> None:
    with pytest.raises(ValidationError, match="at least"):
        Workspace.create(tmp_path / "ws", "short")
    assert not (tmp_path / "ws").exists()


def test_close_forgets_the_key(demo_ws: Workspace) -> None:
    key = demo_ws._data_key
    assert key is not None and len(key) == 32 and any(key)
    demo_ws.close()
    assert not demo_ws.is_open
    assert key == bytearray(32), "the key's bytes must be overwritten in memory, not just dropped"
    assert demo_ws._data_key is None
    with pytest.raises(WorkspaceError, match="locked"):
        demo_ws.remember_in_keyring()  # nothing left to hand to the keyring
    with pytest.raises(Exception, match="locked"):
        with demo_ws.session():
            pass
