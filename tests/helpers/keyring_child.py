"""Child process for tests/test_keyring_production.py: the production key path with nothing
lowered or replaced (no test conftest here): the OS keyring the desktop offers and the
production scrypt cost. Prints one JSON line of what happened.

    python -m tests.helpers.keyring_child <new workspace dir> <passphrase>
"""

from __future__ import annotations

import json
import sys
import time
from pathlib import Path


def main(directory: Path, passphrase: str) -> int:
    from int_desk.domain.errors import WrongPassphrase
    from int_desk.store import keys
    from int_desk.store.workspace import KEY_FILE, Workspace

    out: dict[str, object] = {"backend": keys.backend_name(), "default_n": keys.DEFAULT_SCRYPT_N}
    started = time.perf_counter()
    with Workspace.create(directory, passphrase) as ws:  # production defaults throughout
        out["create_seconds"] = time.perf_counter() - started
        out["workspace_id"] = ws.workspace_id
        out["data_key"] = bytes(ws._data_key or b"").hex()
    key_file = json.loads((directory / KEY_FILE).read_text("utf-8"))
    out["key_file"] = key_file
    with Workspace.open(directory) as ws:  # no passphrase: the keyring must hold the key
        out["reopened_with"] = ws.unlocked_with
        out["reopened_key"] = bytes(ws._data_key or b"").hex()
    started = time.perf_counter()
    with Workspace.open(directory, passphrase, use_keyring=False) as ws:
        out["passphrase_seconds"] = time.perf_counter() - started
        out["passphrase_key"] = bytes(ws._data_key or b"").hex()
    try:
        Workspace.open(directory, passphrase + " typo", use_keyring=False).close()
        out["wrong_passphrase"] = "opened"
    except WrongPassphrase:
        out["wrong_passphrase"] = "refused"
    print(json.dumps(out))  # noqa: T201 - the parent reads our stdout
    return 0


if __name__ == "__main__":
    sys.exit(main(Path(sys.argv[1]), sys.argv[2]))
