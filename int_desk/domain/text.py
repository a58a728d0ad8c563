"""Text that can be stored and sent: valid Unicode, no NUL characters."""

from __future__ import annotations


def text_problem(value: str) -> str | None:
    """Why a text cannot be stored and sent on (None when it can): lone surrogates (not
    Unicode, unencodable as UTF-8; SQLite and every laptop downloading it would fail) and NUL
    characters (PostgreSQL text cannot hold them)."""
    if "\x00" in value:
        return "contains a NUL character"
    try:
        value.encode("utf-8")
    except UnicodeEncodeError:
        return "is not valid Unicode (a lone surrogate)"
    return None
