"""Take the user guide's screenshots (docs/images/*.png) from the real app, synthetic data only.

    xvfb-run -a -s "-screen 0 1366x768x24" .venv/bin/python docs/tools/screenshots.py [NAME ...]

NAME: first-run, settings, about, roles (default: all). Everything happens in a temporary
INT_DESK_HOME with a throwaway keyring and a local endpoint seeded from a demo workspace.
"""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT))
OUT = ROOT / "docs" / "images"
PASSPHRASE = "kettle harbour violet 42"  # synthetic, throwaway

os.environ["INT_DESK_HOME"] = tempfile.mkdtemp(prefix="int-desk-shots-")
os.environ.pop("INT_DESK_PASSPHRASE", None)

import keyring  # noqa: E402
from PySide6.QtCore import QEventLoop, Qt  # noqa: E402
from PySide6.QtWidgets import QApplication, QWidget  # noqa: E402

from tests.helpers.memory_keyring import MemoryKeyring  # noqa: E402

keyring.set_keyring(MemoryKeyring())

from int_desk import paths  # noqa: E402
from int_desk.app.main import create_app, make_context, settings  # noqa: E402
from int_desk.app.settings_dialog import apply_appearance  # noqa: E402
from int_desk.settings_schema import Preferences  # noqa: E402


def wait_until(app: QApplication, condition: Callable[[], bool], timeout: float = 120) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            raise SystemExit("screenshots: timed out waiting")
        app.processEvents(QEventLoop.ProcessEventsFlag.AllEvents, 50)


def shoot(app: QApplication, widget: QWidget, name: str) -> None:
    widget.raise_()
    widget.activateWindow()
    for _ in range(10):
        app.processEvents()
    path = OUT / f"{name}.png"
    widget.grab().save(str(path))
    print(f"wrote {path.relative_to(ROOT)}")  # noqa: T201


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def start_endpoint(tmp: Path) -> tuple[subprocess.Popen[str], str, str]:
    from int_desk.services.demo import build_demo
    from int_desk.store.workspace import Workspace

    source = tmp / "team-source"
    with Workspace.create(source, PASSPHRASE, use_keyring=False) as ws, ws.session() as s:
        build_demo(s, patients=120, seed=11)
    env = {**os.environ, "INT_DESK_PASSPHRASE": PASSPHRASE}
    db = str(tmp / "server.db")
    cmd = [sys.executable, "-m", "int_desk"]
    seeded = subprocess.run(
        [*cmd, "admin", "--db", db, "seed-from-workspace", "--workspace", str(source)]
        + ["--users", "--token-for-current-member"],
        env=env,
        capture_output=True,
        text=True,
        check=True,
    )
    token = seeded.stdout.strip().splitlines()[-1]
    port = _free_port()
    proc = subprocess.Popen(
        [*cmd, "serve", "--db", db, "--port", str(port)],
        env=env,
        stdout=subprocess.PIPE,
        text=True,
    )
    assert proc.stdout is not None
    proc.stdout.readline()
    import httpx

    with httpx.Client(transport=httpx.HTTPTransport(retries=6), timeout=5) as client:
        client.get(f"http://127.0.0.1:{port}/v1/health").raise_for_status()
    return proc, f"http://127.0.0.1:{port}", token


def first_run(app: QApplication) -> None:
    from int_desk.app.first_run import FirstRunDialog

    prefs = Preferences(settings())
    dialog = FirstRunDialog(prefs)
    dialog.show()
    shoot(app, dialog, "first-run-welcome")

    f = dialog.form
    f.createButton.click()
    f.nameEdit.setText("Sam Carter")
    f.roleCombo.setCurrentIndex(f.roleCombo.findText("District nurse"))
    f.teamEdit.setText("Kidlington INT")
    f.neighbourhoodEdit.setText("North Oxfordshire")
    f.passphraseEdit.setText(PASSPHRASE)
    f.confirmEdit.setText(PASSPHRASE[:-3])
    shoot(app, dialog, "first-run-create-mismatch")
    f.confirmEdit.setText(PASSPHRASE)
    shoot(app, dialog, "first-run-create")
    f.createBackButton.click()

    tmp = Path(tempfile.mkdtemp(prefix="int-desk-endpoint-"))
    proc, url, token = start_endpoint(tmp)
    try:
        f.connectButton.click()
        f.endpointEdit.setText(url)
        f.tokenEdit.setText(token)
        f.checkButton.click()
        wait_until(app, f.connectNextButton.isEnabled)
        shoot(app, dialog, "first-run-connect")
        f.connectNextButton.click()
        f.locationEdit.setText(str(tmp / "team-copy"))
        f.passphraseEdit.setText(PASSPHRASE)
        f.confirmEdit.setText(PASSPHRASE)
        shoot(app, dialog, "first-run-connect-passphrase")
        f.createWorkspaceButton.click()
        wait_until(app, f.finishButton.isEnabled)
        shoot(app, dialog, "first-run-sync-done")
        dialog.accept()
        if dialog.workspace is not None:
            dialog.workspace.close()
    finally:
        proc.terminate()
        proc.wait(20)
        if proc.stdout is not None:
            proc.stdout.close()


def settings_and_about(app: QApplication, which: set[str]) -> None:
    if "settings" in which:
        from int_desk.app.settings_dialog import SettingsDialog

        dialog = SettingsDialog(Preferences(settings()))
        dialog.show()
        shoot(app, dialog, "settings")
        dialog.reject()
    if "about" in which:
        from int_desk.app.about import AboutDialog

        about = AboutDialog()
        about.show()
        shoot(app, about, "about")
        about.reject()


def roles(app: QApplication) -> None:
    from sqlalchemy import func, select

    from int_desk.app.main_window import MainWindow
    from int_desk.services.demo import build_demo
    from int_desk.services.identity import set_current_member
    from int_desk.store.models import Member, Task
    from int_desk.store.workspace import Workspace

    directory = paths.default_workspace()
    with Workspace.create(directory, PASSPHRASE, use_keyring=False) as ws, ws.session() as s:
        build_demo(s, patients=300, seed=7)
    shots = (
        ("care_coordinator", "role-care-coordinator", "CaseloadPage"),
        ("district_nurse", "role-district-nurse", "MyTasksPage"),
        ("clinical_lead", "role-clinical-lead", "HuddlePage"),
    )
    for role, name, page in shots:
        ws = Workspace.open(directory, PASSPHRASE, use_keyring=False)
        with ws.session() as s:
            # the member of that role with the most open tasks (a busy day, not an empty list)
            busiest = (
                select(Member)
                .outerjoin(Task, (Task.owner_member_id == Member.id) & Task.completed_at.is_(None))
                .where(Member.role == role)
                .group_by(Member.id)
                .order_by(func.count(Task.id).desc(), Member.name)
            )
            member = s.scalars(busiest).first()
            assert member is not None, role
            set_current_member(s, member.id)
        window = MainWindow(make_context(ws))
        window.resize(1280, 720)
        window.show()
        if page in window.pages:
            window.show_page(page)
        for _ in range(40):  # let background queries fill the page
            app.processEvents(QEventLoop.ProcessEventsFlag.AllEvents, 50)
        window.ctx.tasks.wait()
        for _ in range(10):
            app.processEvents()
        if page == "CaseloadPage":  # open a person's record beside the list
            table = window.pages[page].table  # type: ignore[attr-defined]
            table.selectRow(2)
            for _ in range(40):
                app.processEvents(QEventLoop.ProcessEventsFlag.AllEvents, 50)
            window.ctx.tasks.wait()
        if page == "HuddlePage":  # plan tomorrow's huddle: the agenda with each person's reasons
            from datetime import date, timedelta
            from datetime import time as clock

            from int_desk.services import huddles as h

            hp = window.pages[page]
            wait_until(app, lambda hp=hp: bool(hp.members) and not hp.busy)  # type: ignore[attr-defined]
            members = hp.members  # type: ignore[attr-defined]
            hp.plan(  # type: ignore[attr-defined]
                scheduled_at=h.local_datetime(date.today() + timedelta(days=1), clock(9, 0)),
                kind="daily",
                attendee_ids=[m[0] for m in members if not m[3]][:7],
            )
            wait_until(
                app,
                lambda hp=hp: hp.view is not None and hp.view.status == "planned" and not hp.busy,  # type: ignore[attr-defined]
            )
            hp.agenda_list.setCurrentRow(0)  # type: ignore[attr-defined]
        for _ in range(10):
            app.processEvents()
        shoot(app, window, name)
        window.close()


def main(argv: list[str]) -> int:
    which = set(argv) or {"first-run", "settings", "about", "roles"}
    OUT.mkdir(parents=True, exist_ok=True)
    app = create_app()
    apply_appearance(app, "light")
    app.setAttribute(Qt.ApplicationAttribute.AA_DontShowIconsInMenus, False)
    if "first-run" in which:
        first_run(app)
    settings_and_about(app, which)
    if "roles" in which:
        roles(app)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
