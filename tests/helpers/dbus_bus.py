"""Private D-Bus daemons for tests, and signals sent on them from outside the app's process.

A test that must drive the real signal source (the desktop's screensaver, logind) starts its
own bus daemon, points a child process's DBUS_SESSION_BUS_ADDRESS / DBUS_SYSTEM_BUS_ADDRESS at
it, and emits the signal from another connection, under the well-known name the real service
owns. Nothing touches the machine's own buses.
"""

from __future__ import annotations

import shutil
import subprocess
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

DAEMON = "dbus-daemon"


def available() -> bool:
    return shutil.which(DAEMON) is not None


@contextmanager
def private_bus() -> Iterator[str]:
    """A throwaway bus daemon (session policy: anyone may own any name); yields its address."""
    directory = Path(tempfile.mkdtemp(prefix="int-desk-dbus-"))
    proc = subprocess.Popen(
        [DAEMON, "--session", "--nofork", "--nopidfile", "--print-address=1",
         f"--address=unix:dir={directory}"],
        stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True,
    )  # fmt: skip
    try:
        assert proc.stdout is not None
        address = proc.stdout.readline().strip()
        assert address, "dbus-daemon did not start"
        yield address
    finally:
        proc.terminate()
        proc.wait(timeout=10)
        if proc.stdout is not None:
            proc.stdout.close()
        shutil.rmtree(directory, ignore_errors=True)


def emit(address: str, *, sender: str, path: str, interface: str, member: str, value: Any) -> None:
    """Emit ``member(boolean value)`` (or no argument when value is None) from a connection
    owning the well-known name ``sender``, as the real service would."""
    from jeepney import DBusAddress, new_signal
    from jeepney.bus_messages import message_bus
    from jeepney.io.blocking import open_dbus_connection

    with open_dbus_connection(bus=address) as conn:
        reply = conn.send_and_get_reply(message_bus.RequestName(sender), timeout=10)
        assert reply.body[0] == 1, f"could not own {sender} on the test bus"
        where = DBusAddress(path, interface=interface)
        if value is None:
            conn.send(new_signal(where, member))
        else:
            conn.send(new_signal(where, member, "b", (bool(value),)))
        # A round trip after the signal: the daemon has routed it once this returns.
        conn.send_and_get_reply(message_bus.GetId(), timeout=10)
