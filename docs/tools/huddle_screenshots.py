"""Screenshots of the huddle page (agenda, run mode, minutes) from the real app on a synthetic demo.

    xvfb-run -a -s "-screen 0 1366x768x24" .venv/bin/python docs/tools/huddle_screenshots.py

Writes docs/images/huddle-agenda.png, huddle-run.png and huddle-minutes.png.
"""

from __future__ import annotations

import os
import sys
import tempfile
import time
from collections.abc import Callable
from datetime import date, timedelta
from datetime import time as clock
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT))
OUT = ROOT / "docs" / "images"
PASSPHRASE = "kettle harbour violet 42"  # synthetic, throwaway
os.environ["INT_DESK_HOME"] = tempfile.mkdtemp(prefix="int-desk-huddle-shots-")

import keyring  # noqa: E402
from PySide6.QtCore import QEventLoop, QTimer  # noqa: E402
from PySide6.QtWidgets import QApplication, QMessageBox, QWidget  # noqa: E402

from tests.helpers.memory_keyring import MemoryKeyring  # noqa: E402

keyring.set_keyring(MemoryKeyring())

from int_desk.app.huddle_page import MINUTES, RUN, HuddlePage  # noqa: E402
from int_desk.app.main import create_app, make_context  # noqa: E402
from int_desk.app.main_window import MainWindow  # noqa: E402
from int_desk.services import huddles as h  # noqa: E402
from int_desk.services.demo import build_demo  # noqa: E402
from int_desk.store.workspace import Workspace  # noqa: E402


def wait_until(app: QApplication, condition: Callable[[], bool], timeout: float = 60) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            raise SystemExit("screenshots: timed out waiting")
        app.processEvents(QEventLoop.ProcessEventsFlag.AllEvents, 50)


def shoot(app: QApplication, widget: QWidget, name: str) -> None:
    widget.raise_()
    widget.activateWindow()
    for _ in range(20):
        app.processEvents()
    path = OUT / f"{name}.png"
    widget.grab().save(str(path))
    print(f"wrote {path.relative_to(ROOT)}")  # noqa: T201


def main() -> int:
    app = create_app()
    directory = Path(tempfile.mkdtemp(prefix="int-desk-huddle-ws-")) / "ws"
    with Workspace.create(directory, PASSPHRASE, use_keyring=False) as ws, ws.session() as s:
        build_demo(s, patients=3000, seed=3)
    ws = Workspace.open(directory, PASSPHRASE, use_keyring=False)
    window = MainWindow(make_context(ws))
    window.resize(1366, 740)
    window.show()
    page: HuddlePage = window.show_page("HuddlePage")  # type: ignore[assignment]
    wait_until(app, lambda: bool(page.members) and not page.busy)
    members = page.members
    page.plan(
        scheduled_at=h.local_datetime(date.today() + timedelta(days=1), clock(9, 0)),
        kind="daily",
        attendee_ids=[m[0] for m in members if not m[3]][:7] + [m[0] for m in members if m[3]],
    )
    wait_until(
        app, lambda: page.view is not None and page.view.status == "planned" and not page.busy
    )
    page.agenda_list.setCurrentRow(0)
    page.agenda_list.setFocus()
    shoot(app, window, "huddle-agenda")

    page.start()
    wait_until(app, lambda: page.stack.currentIndex() == RUN and not page.busy)
    wait_until(app, lambda: "Recent timeline" in page.patient_panel.toPlainText())
    page.outcome.setPlainText(
        "Home from hospital two days ago; managing stairs with one person's help. Daughter "
        "staying this week. Breathless on exertion but better than before admission."
    )
    page.decisions.setPlainText("Increase care package to twice daily; review at Friday huddle.")
    nurse = next(m for m in members if m[2] == "District nurse")
    page.record_action(
        "home_visit", text="Check pressure areas and inhaler technique", owner=nurse[0],
        due=date.today() + timedelta(days=1),
    )  # fmt: skip
    wait_until(app, lambda: not page.busy and page.actions_list.count() >= 1)
    pharmacist = next(m for m in members if m[3])
    page.record_action(
        "task", text="Medicines review after discharge", owner=pharmacist[0],
        due=date.today() + timedelta(days=3),
    )  # fmt: skip
    wait_until(app, lambda: not page.busy and page.actions_list.count() >= 2)
    # Let the timers show a little elapsed time, as in a real huddle.
    page._item_base[page.current_item().id] = 95  # type: ignore[union-attr]
    page._tick()
    page.outcome.setFocus()
    shoot(app, window, "huddle-run")

    page.discussed()
    wait_until(app, lambda: not page.busy and page.view.items[0].status == "discussed")
    page.outcome.setPlainText("Awaiting GP review of the new tremor; discuss on Friday.")
    page.defer()
    wait_until(app, lambda: not page.busy and page.view.items[1].status == "deferred")

    def confirm_close() -> None:
        box = QApplication.activeModalWidget()
        if isinstance(box, QMessageBox):
            next(b for b in box.buttons() if b.text() == "Close huddle").click()
        else:
            QTimer.singleShot(50, confirm_close)

    QTimer.singleShot(50, confirm_close)
    page.close_huddle()
    wait_until(app, lambda: not page.busy and page.stack.currentIndex() == MINUTES)
    shoot(app, window, "huddle-minutes")
    window.close()
    return 0


if __name__ == "__main__":
    sys.exit(main())
