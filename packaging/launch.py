"""Entry script of the packaged app (PyInstaller): the same ``int-desk`` command line."""

import multiprocessing
import sys

from int_desk.cli import main

if __name__ == "__main__":
    multiprocessing.freeze_support()  # `int-desk serve --workers N` spawns processes
    sys.exit(main())
