"""Counts in words a reader expects: "1 line", "2 lines", never "line(s)"."""

from __future__ import annotations

from collections.abc import Sequence


def plural(n: int, noun: str, many: str | None = None) -> str:
    """``n`` and the noun in the right number: plural(1, "edit") -> "1 edit", plural(2,
    "patient") -> "2 patients", plural(3, "person", "people") -> "3 people"."""
    return f"{n} {noun if n == 1 else (many or noun + 's')}"


def noun_for(items: Sequence[object], noun: str, many: str | None = None) -> str:
    """The noun that fits ``items``, then the items: "line 8", "lines 2, 8 and 9"."""
    words = [str(x) for x in items]
    listed = words[0] if len(words) < 2 else f"{', '.join(words[:-1])} and {words[-1]}"
    return f"{noun if len(words) == 1 else (many or noun + 's')} {listed}"
