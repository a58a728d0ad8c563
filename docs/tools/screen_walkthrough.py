"""Screenshots of every page at the screen's size, light and dark (issue 21's walkthrough).

    xvfb-run -a -s "-screen 0 1366x768x24" .venv/bin/python docs/tools/screen_walkthrough.py \
        WS_DIR OUT_DIR [light|dark ...]

WS_DIR: a demo workspace with the passphrase "benchmark passphrase" (tests/benchmarks/harness).
The whole screen is grabbed, so a window that runs off it shows as cut.
"""

from __future__ import annotations

import os
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT))
os.environ.setdefault("INT_DESK_HOME", str(Path(sys.argv[2]).resolve() / "home"))

from PySide6.QtCore import QEventLoop, QTimer  # noqa: E402
from PySide6.QtGui import QGuiApplication  # noqa: E402

from int_desk.app.main import create_app, make_context  # noqa: E402
from int_desk.app.main_window import MainWindow  # noqa: E402
from int_desk.app.settings_dialog import apply_appearance  # noqa: E402
from int_desk.store.workspace import Workspace  # noqa: E402


def spin(ms: int) -> None:
    loop = QEventLoop()
    QTimer.singleShot(ms, loop.quit)
    loop.exec()


def wait(cond, ms: int = 30000) -> None:  # noqa: ANN001
    t = time.time()
    while not cond() and time.time() - t < ms / 1000:
        spin(50)


def shoot(out: Path, name: str) -> None:
    spin(400)
    QGuiApplication.primaryScreen().grabWindow(0).save(str(out / f"{name}.png"))
    print(f"wrote {out / name}.png")  # noqa: T201


def main() -> None:
    ws_dir, out = Path(sys.argv[1]), Path(sys.argv[2])
    schemes = sys.argv[3:] or ["light", "dark"]
    out.mkdir(parents=True, exist_ok=True)
    app = create_app()
    from int_desk.app.huddle_dialogs import ActionDialog
    from int_desk.sync import credentials

    for scheme in schemes:
        apply_appearance(app, scheme)
        ws = Workspace.open(ws_dir, "benchmark passphrase", use_keyring=False)
        # A team endpoint that is down: the status bar's offline look and its waiting list.
        credentials.set_state(
            ws, **{credentials.ENDPOINT: "http://127.0.0.1:9", credentials.TOKEN_STORE: "store",
                   credentials.TOKEN: "idt_screenshot"}
        )  # fmt: skip
        w = MainWindow(make_context(ws))
        w.show_fitted()  # as the app shows it: maximised on a small screen
        if w.isMaximized():  # what a window manager does (Xvfb has none)
            w.setGeometry(w.screen().availableGeometry())
        page = w.pages["CaseloadPage"]
        wait(lambda p=page: p.model.rowCount() > 0)
        page.search.setText("kowalczyk")
        wait(lambda p=page: 0 < p.model.rowCount() < 100)
        page.table.selectRow(0)
        wait(lambda p=page: p.record is not None)
        wait(lambda w=w: w.sync.state == "offline")
        shoot(out, f"{scheme}-caseload")
        for key in list(w.pages):
            if key == "CaseloadPage":
                continue
            w.show_page(key)
            spin(1500)
            shoot(out, f"{scheme}-{key}")
        w.show_page("CaseloadPage")
        w.sync.waiting_button.click()
        wait(lambda w=w: w.waiting_dialog.table.rowCount() > 0, 10000)
        shoot(out, f"{scheme}-waiting-to-send")
        w.waiting_dialog.close()
        w.open_cohort_export()
        spin(800)
        shoot(out, f"{scheme}-export-care-plans")
        w.export_dialog.close()
        huddle = w.pages["HuddlePage"]
        task = ActionDialog("task", huddle.members, patient="Rose Abbott", parent=w)
        task.show()
        shoot(out, f"{scheme}-huddle-task-owner")
        task.close()
        credentials.set_state(ws, **{credentials.ENDPOINT: None, credentials.TOKEN: None,
                                     credentials.TOKEN_STORE: None})  # fmt: skip
        w.close()
        spin(200)


if __name__ == "__main__":
    main()
