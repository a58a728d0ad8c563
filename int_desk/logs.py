"""Logging: per-area loggers, a rotating file under the log dir, ids and counts only.

Never log names, NHS numbers, postcodes or free text; log record UUIDs and counts.
"""

from __future__ import annotations

import logging
import logging.handlers

from int_desk import paths

FORMAT = "%(asctime)s %(levelname)s %(name)s: %(message)s"


def setup_logging(level: int = logging.INFO, *, to_file: bool = True) -> None:
    root = logging.getLogger()
    root.setLevel(level)
    if to_file and not any(
        isinstance(h, logging.handlers.TimedRotatingFileHandler) for h in root.handlers
    ):
        directory = paths.ensure_private_dir(paths.log_dir())
        handler = logging.handlers.TimedRotatingFileHandler(
            directory / "int-desk.log", when="midnight", backupCount=14, encoding="utf-8"
        )
        handler.setFormatter(logging.Formatter(FORMAT))
        root.addHandler(handler)
    # SQLAlchemy at INFO would log statement parameters, i.e. patient data.
    for noisy in ("sqlalchemy", "httpx", "httpcore", "uvicorn.access"):
        logging.getLogger(noisy).setLevel(logging.WARNING)
