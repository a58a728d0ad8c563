"""Entry script of the packaged app (PyInstaller): the same ``int-desk`` command line."""

import os
import sys


def _qt_plugins_env() -> None:
    """What PyInstaller's PySide6 run-time hook did (the spec leaves it out: it imported QtCore
    at every start): Qt's plugins are the bundle's. Cheap, and Qt is imported only if needed."""
    meipass = getattr(sys, "_MEIPASS", None)
    if meipass is None:
        return
    qt = os.path.join(meipass, "PySide6") if sys.platform == "win32" else None
    qt = qt or os.path.join(meipass, "PySide6", "Qt")
    os.environ["QT_PLUGIN_PATH"] = os.path.join(qt, "plugins")
    if sys.platform == "win32":  # DLLs collected beside the launcher (OpenSSL and the like)
        os.environ["PATH"] = meipass + os.pathsep + os.environ.get("PATH", "")


if __name__ == "__main__":
    _qt_plugins_env()
    from int_desk.cli import main

    if sys.argv[1:] != ["--version"]:  # --version answers without multiprocessing's import
        import multiprocessing

        multiprocessing.freeze_support()  # `int-desk serve --workers N` spawns processes
    sys.exit(main())
