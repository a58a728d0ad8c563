"""Start-up of the desktop bundle (packaging/build.sh): a nurse opens the laptop at the door.

* launch -> the unlock dialog painted (target 0.4 s), beside a bare PySide6 dialog's for scale;
* ``int-desk --version`` (target 0.2 s);
* a headless command on a 300-person workspace, less its key derivation (target 0.6 s).

The bundle is built first when dist/int-desk is missing (a few minutes). The dialog is timed
by ``INT_DESK_STARTUP_PROBE=exit`` (app/unlock_dialog.py): it prints the epoch time of its first
paint and closes. Offscreen unless a display is set.
"""

from __future__ import annotations

import os
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from tests.benchmarks.harness import PASSPHRASE, Figure, demo_workspace

ROOT = Path(__file__).resolve().parents[2]
BUNDLE = ROOT / "dist" / "int-desk"
RUNS = 7
BARE_DIALOG = """
import sys, time
from PySide6.QtCore import QTimer
from PySide6.QtWidgets import QApplication, QDialog, QLabel, QLineEdit, QVBoxLayout
app = QApplication(sys.argv[:1])
d = QDialog(); lay = QVBoxLayout(d); lay.addWidget(QLabel("Passphrase")); lay.addWidget(QLineEdit())
def painted():
    print(f"int-desk: unlock dialog painted at {time.time():.6f}", file=sys.stderr)
    app.quit()
d.show(); QTimer.singleShot(0, painted); app.exec()
"""


def _launcher(name: str) -> Path:
    exe = BUNDLE / (f"{name}.exe" if sys.platform == "win32" else name)
    if not exe.exists():
        subprocess.run(["bash", str(ROOT / "packaging" / "build.sh")], check=True, cwd=ROOT)
    return exe


def _env(**extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if k != "INT_DESK_PASSPHRASE"}
    if not env.get("DISPLAY") and not env.get("WAYLAND_DISPLAY"):
        env["QT_QPA_PLATFORM"] = "offscreen"
    env["INT_DESK_HOME"] = tempfile.mkdtemp(prefix="int-desk-bench-launch-")
    env.update(extra)
    return env


_CPU: list[float] = []  # CPU seconds (user + system) of the last child: less load-bound


def _child_cpu() -> float:
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


def _painted_after(cmd: list[str], env: dict[str, str]) -> float:
    start = time.time()
    before = _child_cpu()
    out = subprocess.run(cmd, env=env, capture_output=True, text=True, timeout=120)
    _CPU.append(_child_cpu() - before)
    line = next((x for x in out.stderr.splitlines() if "unlock dialog painted at" in x), None)
    if line is None:
        raise RuntimeError(f"no paint reported: {out.stderr[-500:]}")
    return float(line.split()[-1]) - start


def _wall(cmd: list[str], env: dict[str, str]) -> float:
    start = time.perf_counter()
    before = _child_cpu()
    subprocess.run(cmd, env=env, capture_output=True, check=True, timeout=300)
    _CPU.append(_child_cpu() - before)
    return time.perf_counter() - start


def _cpu_of(samples: int) -> str:
    """The median CPU time of the last ``samples`` children, for the figure's note."""
    return f"CPU {statistics.median(_CPU[-samples:]):.2f} s"


def _load() -> str:
    try:
        return f"load {os.getloadavg()[0]:.1f}"
    except OSError:
        return ""


def run() -> list[Figure]:
    exe = _launcher("int-desk")
    ws = demo_workspace(300)
    probe = _env(INT_DESK_STARTUP_PROBE="exit")
    dialog = [_painted_after([str(exe), "--workspace", str(ws)], probe) for _ in range(RUNS)]
    dialog_cpu = _cpu_of(RUNS)
    bare = [_painted_after([sys.executable, "-c", BARE_DIALOG], probe) for _ in range(RUNS)]
    bare_cpu = _cpu_of(RUNS)
    version = [_wall([str(exe), "--version"], _env()) for _ in range(RUNS)]
    version_cpu = _cpu_of(RUNS)
    command = [str(exe), "caseload", "--workspace", str(ws), "--format", "csv"]
    headless = [_wall(command, _env(INT_DESK_PASSPHRASE=PASSPHRASE)) for _ in range(3)]
    headless_cpu = statistics.median(_CPU[-3:])
    from int_desk.store import keys

    key_file = keys.KeyFile.load(ws / "workspace.key")
    kdf, kdf_cpu = [], []
    for _ in range(3):
        start, start_cpu = time.perf_counter(), time.process_time()
        key_file.unwrap(PASSPHRASE)
        kdf.append(time.perf_counter() - start)
        kdf_cpu.append(time.process_time() - start_cpu)
    note = _load()
    med = statistics.median
    return [
        Figure(
            "launch: bundle started -> unlock dialog painted",
            med(dialog),
            "s",
            0.4,
            note=f"{note}; {dialog_cpu} (to paint, and closing)",
        ),
        Figure(
            "launch: a bare PySide6 dialog painted (for scale)",
            med(bare),
            "s",
            note=f"{note}; {bare_cpu}",
        ),
        Figure("launch: int-desk --version", med(version), "s", 0.2, note=f"{note}; {version_cpu}"),
        Figure(
            "launch: int-desk caseload (300 people), less key derivation",
            med(headless) - med(kdf),
            "s",
            0.6,
            note=f"{note}; command {med(headless):.2f} s (CPU {headless_cpu:.2f} s), "
            f"scrypt {med(kdf):.2f} s",
        ),
        # The same in CPU time: what the command itself costs, whatever else the machine runs.
        Figure(
            "launch: int-desk caseload (300 people), CPU less key derivation's",
            headless_cpu - med(kdf_cpu),
            "s",
            0.6,
            note=f"{note}; command CPU {headless_cpu:.2f} s, scrypt CPU {med(kdf_cpu):.2f} s",
        ),
    ]
