"""The key path at production cost: a real OS keyring (the freedesktop Secret Service, served by
gnome-keyring in a private D-Bus session this test starts) and the production scrypt cost.

Every other test runs with an in-memory keyring and a lowered scrypt cost (tests/conftest.py);
this one runs INT Desk in a child process with neither, so the path users get is exercised.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from tests.conftest import PASSPHRASE
from tests.helpers import dbus_bus

pytestmark = pytest.mark.slow

GNOME_KEYRING = "gnome-keyring-daemon"


@pytest.mark.skipif(
    shutil.which(GNOME_KEYRING) is None or not dbus_bus.available(),
    reason="gnome-keyring or dbus-daemon not installed (bash .ci/setup --test)",
)
def test_workspace_key_in_a_real_secret_service_at_production_scrypt_cost(tmp_path: Path) -> None:
    home, runtime = tmp_path / "home", tmp_path / "xdg"
    home.mkdir()
    runtime.mkdir(mode=0o700)
    with dbus_bus.private_bus() as bus:
        env = {
            k: v
            for k, v in os.environ.items()
            if k not in ("PYTHON_KEYRING_BACKEND", "INT_DESK_PASSPHRASE")
        }
        env.update(DBUS_SESSION_BUS_ADDRESS=bus, HOME=str(home), XDG_RUNTIME_DIR=str(runtime))
        with subprocess.Popen(
            [GNOME_KEYRING, "--foreground", "--unlock", "--components=secrets"],
            env=env, stdin=subprocess.PIPE, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
            text=True,
        ) as daemon:  # fmt: skip
            assert daemon.stdin is not None
            daemon.stdin.write("\n")  # the login keyring's (empty) password: unlocked
            daemon.stdin.close()
            try:
                child = subprocess.run(
                    [sys.executable, "-m", "tests.helpers.keyring_child",
                     str(tmp_path / "ws"), PASSPHRASE],
                    env=env, capture_output=True, text=True, timeout=300,
                )  # fmt: skip
                assert child.returncode == 0, child.stderr[-3000:]
                got = json.loads(child.stdout.strip().splitlines()[-1])
                # A separate process reads the secret back over D-Bus: it is in the OS keyring.
                stored = subprocess.run(
                    [sys.executable, "-c",
                     "import keyring, sys; print(keyring.get_password(*sys.argv[1:3]))",
                     "INT Desk", f"workspace-{got['workspace_id']}"],
                    env=env, capture_output=True, text=True, timeout=60,
                )  # fmt: skip
            finally:
                daemon.terminate()
                daemon.wait(timeout=30)
    assert got["backend"].startswith("keyring.backends.SecretService"), got["backend"]
    key_file = got["key_file"]
    assert key_file["keyring"]["backend"] == got["backend"]
    assert got["default_n"] >= 2**17 and key_file["kdf"]["n"] == got["default_n"]
    assert key_file["kdf"]["name"] == "scrypt" and key_file["wrapped_key"]["alg"] == "AES-256-GCM"
    data_key = got["data_key"]
    assert len(data_key) == 64 and stored.stdout.strip() == data_key
    assert data_key not in json.dumps(key_file)  # the key file never holds the key in clear
    assert got["reopened_with"] == "keyring" and got["reopened_key"] == data_key
    assert got["passphrase_key"] == data_key and got["wrong_passphrase"] == "refused"
