"""Logging: per-area loggers, a rotating file under the log dir, ids and counts only.

Never log names, NHS numbers, postcodes or free text; log record UUIDs and counts.
"""

from __future__ import annotations

import logging
import logging.handlers

from int_desk import paths

FORMAT = "%(asctime)s %(levelname)s %(name)s: %(message)s"


class ScrubbingFormatter(logging.Formatter):
    """Tracebacks as type + frames only (messages can embed SQL parameters), and anything shaped
    like an NHS number masked in the message: a safety net under the "log ids only" rule."""

    def formatException(self, ei) -> str:  # noqa: N802, ANN001 - logging override
        from int_desk.scrub import scrubbed_traceback

        return scrubbed_traceback(*ei)

    def formatStack(self, stack_info: str) -> str:  # noqa: N802 - logging override
        return "(stack withheld)"

    def format(self, record: logging.LogRecord) -> str:
        from int_desk.scrub import mask_numbers

        cached = record.exc_text  # another handler may have cached the unscrubbed traceback
        record.exc_text = None
        try:
            return mask_numbers(super().format(record))
        finally:
            record.exc_text = cached


def setup_logging(*, verbose: bool = False, to_file: bool = True) -> None:
    """Console gets warnings (everything with ``verbose``); the file gets INFO and above.

    Calling it again replaces the handlers it added before, so the log follows the current
    log directory (a new INT_DESK_HOME) and stderr, never a stale one.
    """
    root = logging.getLogger()
    for old in [h for h in root.handlers if getattr(h, "_int_desk", False)]:
        root.removeHandler(old)
        old.close()
    root.setLevel(logging.DEBUG if verbose else logging.INFO)
    console = logging.StreamHandler()
    console.setFormatter(ScrubbingFormatter("%(levelname)s %(name)s: %(message)s"))
    console.setLevel(logging.DEBUG if verbose else logging.WARNING)
    handlers: list[logging.Handler] = [console]
    if to_file:
        directory = paths.ensure_private_dir(paths.log_dir())
        handler = logging.handlers.TimedRotatingFileHandler(
            directory / "int-desk.log", when="midnight", backupCount=14, encoding="utf-8"
        )
        handler.setFormatter(ScrubbingFormatter(FORMAT))
        handler.setLevel(logging.INFO)
        handlers.append(handler)
    for each in handlers:
        each._int_desk = True  # type: ignore[attr-defined]
        root.addHandler(each)
    # SQLAlchemy at INFO would log statement parameters, i.e. patient data.
    for noisy in ("sqlalchemy", "httpx", "httpcore", "uvicorn.access", "alembic"):
        logging.getLogger(noisy).setLevel(logging.WARNING)
