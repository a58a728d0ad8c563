"""Scrubbed error reports: exception type and frames only, never messages or locals.

Exception messages can carry patient data (SQLAlchemy embeds SQL parameters; a ValueError may
quote its input), so crash dialogs, crash files and log tracebacks use these instead of the
standard formatting. Qt-free: the logging setup and the GUI crash handler both use it.
"""

from __future__ import annotations

import platform
import re
import sys
import traceback
from datetime import UTC, datetime
from pathlib import Path
from types import TracebackType

from int_desk import __version__

_NHS_LIKE = re.compile(r"(?<!\d)\d{3}[ -]?\d{3}[ -]?\d{4}(?!\d)")


def _short_path(filename: str) -> str:
    """Paths inside our package as ``int_desk/...``; others by their last two parts (a user's
    home directory name can identify them)."""
    p = Path(filename)
    parts = p.parts
    if "int_desk" in parts:
        return "/".join(parts[parts.index("int_desk") :])
    if "site-packages" in parts:
        return "/".join(parts[parts.index("site-packages") + 1 :])
    return "/".join(parts[-2:])


def frames(tb: TracebackType | None) -> list[str]:
    return [f"  {_short_path(f.filename)}:{f.lineno} in {f.name}" for f in traceback.extract_tb(tb)]


def scrubbed_traceback(
    exc_type: type[BaseException] | None,
    exc: BaseException | None,
    tb: TracebackType | None,
) -> str:
    """Type names and file:line:function of every frame, following causes; no messages."""
    lines: list[str] = []
    seen: set[int] = set()
    chain: list[BaseException] = []
    current = exc
    while current is not None and id(current) not in seen:
        seen.add(id(current))
        chain.append(current)
        current = current.__cause__ or current.__context__
    if not chain:
        name = exc_type.__qualname__ if exc_type else "Exception"
        return f"{name} (message withheld)\n" + "\n".join(frames(tb))
    for i, e in enumerate(reversed(chain)):
        if i:
            lines.append("which led to:")
        lines.append(f"{type(e).__module__}.{type(e).__qualname__} (message withheld)")
        lines.extend(frames(e.__traceback__ if e is not exc else (tb or e.__traceback__)))
    return "\n".join(lines)


def crash_report(
    exc_type: type[BaseException] | None,
    exc: BaseException | None,
    tb: TracebackType | None,
    *,
    thread: str = "main",
    qt_version: str = "",
) -> str:
    """The copyable report the crash dialog shows and the crash file holds."""
    head = [
        f"INT Desk {__version__} crash report",
        f"Time (UTC): {datetime.now(UTC).isoformat(timespec='seconds')}",
        f"OS: {platform.system()} {platform.release()} ({platform.machine()})",
        f"Python: {platform.python_version()}" + (f", Qt {qt_version}" if qt_version else ""),
        f"Thread: {thread}",
        "",
        "The error message and data are withheld: they can contain patient details.",
        "",
    ]
    return "\n".join(head) + scrubbed_traceback(exc_type, exc, tb) + "\n"


def mask_numbers(text: str) -> str:
    """Blank anything shaped like an NHS number (defence in depth for log lines)."""
    return _NHS_LIKE.sub("[number]", text)


def current_exception_report() -> str:
    return crash_report(*sys.exc_info())
