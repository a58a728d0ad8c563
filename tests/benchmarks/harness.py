"""Shared pieces for benchmarks: the Figure row, timing helpers, a scratch workspace."""

from __future__ import annotations

import os
import statistics
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

PASSPHRASE = "benchmark passphrase"


@dataclass
class Figure:
    name: str
    value: float
    unit: str
    target: float | None = None
    higher_is_better: bool = False
    note: str = ""

    @property
    def ratio(self) -> float | None:
        if not self.target:
            return None
        return self.target / self.value if self.higher_is_better else self.value / self.target

    @property
    def meets(self) -> str:
        if self.ratio is None:
            return ""
        return "yes" if self.ratio <= 1.0 else "NO"


def timed(fn: Callable[[], object]) -> float:
    start = time.perf_counter()
    fn()
    return time.perf_counter() - start


def median_p95(samples: list[float]) -> tuple[float, float]:
    ordered = sorted(samples)
    p95 = ordered[min(len(ordered) - 1, int(round(0.95 * (len(ordered) - 1))))]
    return statistics.median(ordered), p95


def scratch_dir(prefix: str) -> Path:
    return Path(tempfile.mkdtemp(prefix=f"int-desk-bench-{prefix}-"))


_DEMO_CACHE: dict[int, Path] = {}


def demo_workspace(patients: int) -> Path:
    """A demo workspace of ``patients`` built once per benchmark run (passphrase only)."""
    if patients not in _DEMO_CACHE:
        from int_desk.services.demo import build_demo
        from int_desk.store.workspace import Workspace

        directory = scratch_dir(f"demo{patients}") / "ws"
        with Workspace.create(directory, PASSPHRASE, use_keyring=False) as ws:
            with ws.session() as s:
                build_demo(s, patients=patients, seed=1)
        _DEMO_CACHE[patients] = directory
    return _DEMO_CACHE[patients]
