"""Entry script of the packaged app (PyInstaller): the same ``int-desk`` command line."""

import sys

if __name__ == "__main__":
    from int_desk.cli import main

    if sys.argv[1:] != ["--version"]:  # --version answers without multiprocessing's import
        import multiprocessing

        multiprocessing.freeze_support()  # `int-desk serve --workers N` spawns processes
    sys.exit(main())
