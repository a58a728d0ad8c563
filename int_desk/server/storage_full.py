"""A full disk under the endpoint's database answers 503 with Retry-After, not 500.

SQLite says "database or disk is full" (SQLITE_FULL), PostgreSQL raises DiskFull (SQLSTATE
53100), and anything else writing a file meets ENOSPC/EDQUOT. The request's transaction was
rolled back, so nothing of it is stored; the laptop keeps its edits in its outbox and, told by
Retry-After to come back later, ends the sync cycle at once instead of hammering a full disk
(``sync/client.py`` stops waiting on any Retry-After over its cap of a minute).
"""

from __future__ import annotations

import errno
import sqlite3

from sqlalchemy.exc import DBAPIError

RETRY_AFTER_SECONDS = 300
"""Freeing disk space takes a person: five minutes, longer than a sync cycle waits."""

DETAIL = (
    "The sync server has run out of storage space, so nothing from this request was stored. "
    "Your changes are kept on this computer and are sent when the server has room again; "
    "tell the server's administrator if this lasts."
)

_DISK_FULL_SQLSTATE = "53100"  # PostgreSQL: disk_full
_NO_SPACE = {errno.ENOSPC, getattr(errno, "EDQUOT", errno.ENOSPC)}


def is_storage_full(exc: BaseException) -> bool:
    """True when ``exc`` (or the database error it wraps) says the disk or database is full."""
    if isinstance(exc, DBAPIError):
        exc = exc.orig if exc.orig is not None else exc
    if isinstance(exc, sqlite3.Error):
        return getattr(exc, "sqlite_errorcode", None) == sqlite3.SQLITE_FULL
    if getattr(exc, "sqlstate", None) == _DISK_FULL_SQLSTATE:
        return True
    return isinstance(exc, OSError) and exc.errno in _NO_SPACE
