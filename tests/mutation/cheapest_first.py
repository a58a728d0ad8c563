"""A pytest plugin for mutation runs (tests/mutation/broad.py): run a mutant's tests quickest
first, by the durations mutmut measured in its clean run (``mutmut-stats.json`` in the folder
the tests run in), so a killed mutant stops (``-x``) at the cheapest test that notices it.

mutmut's fork server passes a mutant's tests in no particular order (a set); the verdict does not
depend on the order, only the time to reach it. Without the stats file (mutmut's first, measuring
run, or any other run) the order is left as it is."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

STATS = Path("mutmut-stats.json")


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    try:
        duration = json.loads(STATS.read_text())["duration_by_test"]
    except (OSError, ValueError, KeyError):
        return
    # Unknown tests last; the sort is stable, so equal durations keep their order.
    items.sort(key=lambda item: duration.get(item.nodeid, float("inf")))
