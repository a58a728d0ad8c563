"""Logging: per-area loggers, a rotating file under the log dir, ids and counts only.

Never log names, NHS numbers, postcodes or free text; log record UUIDs and counts.
"""

from __future__ import annotations

import logging
import logging.handlers

from int_desk import paths

FORMAT = "%(asctime)s %(levelname)s %(name)s: %(message)s"


def setup_logging(*, verbose: bool = False, to_file: bool = True) -> None:
    """Console gets warnings (everything with ``verbose``); the file gets INFO and above."""
    root = logging.getLogger()
    root.setLevel(logging.DEBUG if verbose else logging.INFO)
    if not any(type(h) is logging.StreamHandler for h in root.handlers):
        console = logging.StreamHandler()
        console.setFormatter(logging.Formatter("%(levelname)s %(name)s: %(message)s"))
        console.setLevel(logging.DEBUG if verbose else logging.WARNING)
        root.addHandler(console)
    if to_file and not any(isinstance(h, logging.handlers.TimedRotatingFileHandler) for h in root.handlers):
        directory = paths.ensure_private_dir(paths.log_dir())
        handler = logging.handlers.TimedRotatingFileHandler(
            directory / "int-desk.log", when="midnight", backupCount=14, encoding="utf-8"
        )
        handler.setFormatter(logging.Formatter(FORMAT))
        handler.setLevel(logging.INFO)
        root.addHandler(handler)
    # SQLAlchemy at INFO would log statement parameters, i.e. patient data.
    for noisy in ("sqlalchemy", "httpx", "httpcore", "uvicorn.access", "alembic"):
        logging.getLogger(noisy).setLevel(logging.WARNING)
