"""Text that can be stored and sent: valid Unicode, no NUL characters; JSON values likewise,
with finite numbers within 64 bits and bounded nesting."""

from __future__ import annotations

import math
from typing import Any

MAX_JSON_DEPTH = 20


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


def json_problem(value: Any, depth: int = 0) -> str | None:
    """Why a JSON value cannot be stored and sent on (None when it can)."""
    if depth > MAX_JSON_DEPTH:
        return "is nested too deeply"
    if isinstance(value, str):
        return text_problem(value)
    if isinstance(value, float) and not math.isfinite(value):
        return "holds a number that is not finite"
    if isinstance(value, int) and not isinstance(value, bool) and abs(value) >= 2**63:
        return "holds a number too large"
    if isinstance(value, dict):
        for k, v in value.items():
            problem = (text_problem(k) if isinstance(k, str) else None) or json_problem(
                v, depth + 1
            )
            if problem:
                return problem
    if isinstance(value, list):
        for v in value:
            problem = json_problem(v, depth + 1)
            if problem:
                return problem
    return None
