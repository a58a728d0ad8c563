"""Child process for tests/test_auto_lock.py: the real main window on a workspace, listening
to whatever D-Bus the environment names. Prints "ready" once listening, then "locked" (store
closed, key gone) or "unlocked" when stdin closes or ``seconds`` pass after "ready".

    python -m tests.helpers.os_lock_app <workspace dir> <seconds>   (INT_DESK_PASSPHRASE set)
"""

from __future__ import annotations

import os
import sys
from pathlib import Path

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")


def main(directory: str, seconds: float) -> int:
    from PySide6.QtCore import QSocketNotifier, QTimer
    from PySide6.QtWidgets import QApplication

    from int_desk.app.main import make_context
    from int_desk.app.main_window import MainWindow
    from int_desk.store.workspace import Workspace

    app = QApplication([])
    ws = Workspace.open(Path(directory), use_keyring=False)
    window = MainWindow(make_context(ws))
    window.show()
    window.ctx.events.locked.connect(app.quit)
    # The parent closes our stdin when it has sent what it wanted to send.
    notifier = QSocketNotifier(sys.stdin.fileno(), QSocketNotifier.Type.Read)
    notifier.activated.connect(lambda *_: app.quit() if not sys.stdin.readline() else None)

    def ready() -> None:
        # A blocking round trip on each bus: the daemon has our signal subscriptions (sent
        # earlier on the same connection) before the parent starts emitting.
        from PySide6.QtDBus import QDBusConnection

        for bus in (QDBusConnection.sessionBus(), QDBusConnection.systemBus()):
            if bus.isConnected():
                bus.interface().isServiceRegistered("org.freedesktop.DBus")
        print("ready", flush=True)  # noqa: T201 - the parent reads our stdout
        QTimer.singleShot(int(seconds * 1000), app.quit)  # the signal's time to arrive

    QTimer.singleShot(0, ready)
    app.exec()
    locked = window.lock_controller.is_locked and not ws.is_open and ws._data_key is None
    print("locked" if locked else "unlocked", flush=True)  # noqa: T201
    window.close()
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1], float(sys.argv[2])))
