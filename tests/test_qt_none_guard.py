"""The app survives a long session of Qt void calls (PySide6 6.12 + CPython 3.11 None leak)."""

from __future__ import annotations

import os
import subprocess
import sys

PROBE = """
import sys
import int_desk.app  # what the app imports first
from PySide6.QtWidgets import QApplication, QLabel
app = QApplication([])
label = QLabel()
for i in range(200_000):  # far more than None's ordinary reference count (~50,000)
    label.setText("x")
print("survived", flush=True)
"""


def test_many_void_qt_calls_do_not_abort() -> None:
    env = {**os.environ, "QT_QPA_PLATFORM": "offscreen"}
    result = subprocess.run(
        [sys.executable, "-c", PROBE], capture_output=True, text=True, timeout=120, env=env
    )
    assert result.returncode == 0, result.stderr[-2000:]
    assert "survived" in result.stdout
