"""Screenshots of sync as a user sees it, from the real app against a real endpoint on 127.0.0.1.

    xvfb-run -a -s "-screen 0 1366x768x24" .venv/bin/python docs/tools/sync_screenshots.py

Writes docs/images/sync-*.png: the status bar up to date, with changes waiting, syncing, failed
and offline; the Conflicts inbox with a real conflict (two laptops edit the same field) and after
it is resolved; the first-run download with its progress bar. Synthetic data only; the endpoint
runs with the test-only fault injection (INT_DESK_SYNC_TEST_FAULTS) so a slow or failing server
can be shown on purpose. Reuses docs/tools/screenshots.py and tests/helpers/sync_env.py.
"""

from __future__ import annotations

import sys
import tempfile
import uuid
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))
import screenshots as shots  # noqa: E402  (sets INT_DESK_HOME and the throwaway keyring)
from PySide6.QtCore import QEventLoop, QRect, Qt  # noqa: E402
from PySide6.QtWidgets import QApplication  # noqa: E402
from sqlalchemy import select  # noqa: E402

from int_desk.app.main import create_app, make_context, settings  # noqa: E402
from int_desk.app.settings_dialog import apply_appearance  # noqa: E402
from int_desk.server.models import ServerUser  # noqa: E402
from int_desk.services.demo import build_demo  # noqa: E402
from int_desk.services.identity import set_current_member  # noqa: E402
from int_desk.store import models as m  # noqa: E402
from int_desk.store.workspace import Workspace  # noqa: E402
from tests.helpers import sync_env  # noqa: E402

PASSPHRASE = shots.PASSPHRASE
WIDTH, HEIGHT = 1366, 768


def settle(app: QApplication, rounds: int = 20) -> None:
    for _ in range(rounds):
        app.processEvents(QEventLoop.ProcessEventsFlag.AllEvents, 25)


def shoot_status(app: QApplication, window: Any, name: str) -> None:
    """The right of the status bar: sync progress, status, conflicts and Sync now."""
    settle(app, 10)
    bar = window.statusBar()
    sync = window.sync
    parts = [w for w in (sync.bar, sync.label) if w.isVisible()]
    left = min(w.geometry().left() for w in parts) - 8
    path = shots.OUT / f"{name}.png"
    bar.grab(QRect(left, 0, bar.width() - left, bar.height())).save(str(path))
    print(f"wrote {path.relative_to(shots.ROOT)}")  # noqa: T201


def team_endpoint(tmp: Path) -> sync_env.Endpoint:
    """A SQLite endpoint seeded from a 300-patient demo; users a, b (Bicester), c (Reading)."""
    source = tmp / "team-source"
    with Workspace.create(source, PASSPHRASE, use_keyring=False) as ws, ws.session() as s:
        build_demo(s, patients=300, seed=7)
    ep = sync_env.start_endpoint(f"sqlite:///{tmp / 'server.db'}", faults=True)
    ws = Workspace.open(source, PASSPHRASE, use_keyring=False)
    try:
        sync_env.seed_demo(ep, ws)
    finally:
        ws.close()
    return ep


def signed_in_laptop(tmp: Path, ep: sync_env.Endpoint, user: str) -> Workspace:
    """A laptop that has synced once and signed in as the member behind ``user``'s token."""
    ws = sync_env.laptop(tmp / f"laptop-{user}", ep, user, PASSPHRASE)
    sync_env.sync(ws)
    with ep.session() as srv:
        member = srv.scalar(select(ServerUser.member_id).where(ServerUser.name == user))
    with ws.session() as s:
        set_current_member(s, member)
    return ws


def first_patient(ws: Workspace) -> Any:
    with ws.session() as s:
        return s.scalars(select(m.Patient.id).order_by(m.Patient.id)).first()


def edit(ws: Workspace, pid: Any, **values: Any) -> None:
    """Change a patient as the laptop's signed-in member (queued in the outbox like any edit)."""
    from int_desk.services.identity import CURRENT_MEMBER_KEY

    member = ws.meta(CURRENT_MEMBER_KEY)
    with ws.session() as s:
        patient = s.get(m.Patient, pid)
        patient.updated_by = uuid.UUID(member) if member else None
        for key, value in values.items():
            setattr(patient, key, value)


def status_bar_states(app: QApplication, ep: sync_env.Endpoint, tmp: Path) -> None:
    from int_desk.app import sync_status as st
    from int_desk.app.main_window import MainWindow

    laptop_a = signed_in_laptop(tmp, ep, "a")
    ws = signed_in_laptop(tmp, ep, "b")
    window = MainWindow(make_context(ws))
    window.setGeometry(0, 0, WIDTH, HEIGHT)
    window.show()
    sync = window.sync
    shots.wait_until(app, lambda: sync.state == st.UP_TO_DATE and not sync.running)
    window.ctx.tasks.wait()
    settle(app)
    shoot_status(app, window, "sync-status-up-to-date")

    pid = first_patient(ws)
    edit(ws, pid, phone="01632 960123")  # an edit (the store tells the app): sent, debounced
    shots.wait_until(app, lambda: sync.pending == 1)
    settle(app, 5)
    shoot_status(app, window, "sync-status-pending")

    sync.debounce.stop()  # a slow server: the cycle is under way while we look
    ep.fault("/v1/pull", "delay_after", seconds=4)
    sync.sync_now()
    shots.wait_until(app, lambda: sync.state == st.SYNCING)
    settle(app, 40)
    shoot_status(app, window, "sync-status-syncing")
    shots.wait_until(app, lambda: not sync.running)

    ep.fault("/v1/pull", "500_before", times=20)  # the server fails (every retry)
    edit(ws, pid, phone="01632 960124")
    sync.debounce.stop()
    sync.sync_now()
    shots.wait_until(app, lambda: sync.state == st.FAILED and not sync.running)
    settle(app)
    shoot_status(app, window, "sync-status-failed")
    import httpx

    httpx.post(f"{ep.url}/_test/faults", json={"clear": True}).raise_for_status()

    # The administrator withdraws this laptop's device token.
    from int_desk.server import admin

    with ep.session() as srv:
        for token, user in admin.list_tokens(srv):
            if user == "b":
                admin.revoke_token(srv, token.id)
    sync.sync_now()
    shots.wait_until(app, lambda: sync.state == st.FAILED and not sync.running)
    settle(app)
    shoot_status(app, window, "sync-status-token-refused")
    with ep.session() as srv:  # ... and issues a new one, entered in Settings
        _tid, token = admin.issue_token(srv, "b", "laptop-b (new)")
    from int_desk.sync import credentials

    credentials.connect(ws, ep.url, token)

    # A conflict: laptop A and this laptop change the same field before seeing each other's.
    edit(laptop_a, pid, carer_needs="Carer needs respite on Tuesdays")
    sync_env.sync(laptop_a)
    edit(ws, pid, carer_needs="Carer works nights; call after 2pm")
    sync.debounce.stop()
    sync.sync_now()
    shots.wait_until(app, lambda: sync.state == st.UP_TO_DATE and not sync.running)
    page = window.show_page("ConflictsPage")
    shots.wait_until(app, lambda: page.table.rowCount() == 1)  # type: ignore[attr-defined]
    settle(app)
    shots.shoot(app, window, "sync-conflicts")
    page.keep_theirs.click()  # type: ignore[attr-defined]
    shots.wait_until(app, lambda: page.table.rowCount() == 0)  # type: ignore[attr-defined]
    shots.wait_until(app, lambda: sync.state == st.UP_TO_DATE and sync.pending == 0)
    settle(app)
    shots.shoot(app, window, "sync-conflicts-resolved")

    ep.stop()  # the server (or the network) goes away
    edit(ws, pid, phone="01632 960125")
    sync.debounce.stop()
    sync.sync_now()
    shots.wait_until(app, lambda: sync.state == st.OFFLINE and not sync.running)
    settle(app)
    shoot_status(app, window, "sync-status-offline")
    window.close()
    laptop_a.close()


def first_run_download(app: QApplication, ep: sync_env.Endpoint, tmp: Path) -> None:
    from int_desk.app.first_run import FirstRunDialog
    from int_desk.settings_schema import Preferences

    dialog = FirstRunDialog(Preferences(settings()))
    dialog.show()
    f = dialog.form
    f.connectButton.click()
    f.endpointEdit.setText(ep.url)
    f.tokenEdit.setText(ep.tokens["c"])
    f.checkButton.click()
    shots.wait_until(app, f.connectNextButton.isEnabled)
    f.connectNextButton.click()
    f.locationEdit.setText(str(tmp / "new-laptop"))
    f.passphraseEdit.setText(PASSPHRASE)
    f.confirmEdit.setText(PASSPHRASE)
    # a slow link: each page of the download takes a few seconds, so the progress is visible
    ep.fault("/v1/pull", "delay_after", times=3, seconds=3)
    f.createWorkspaceButton.click()
    shots.wait_until(app, lambda: "received" in f.syncStatusLabel.text())
    settle(app, 10)
    shots.shoot(app, dialog, "sync-first-run-downloading")
    shots.wait_until(app, f.finishButton.isEnabled)
    dialog.accept()
    if dialog.workspace is not None:
        dialog.workspace.close()


def main() -> int:
    shots.OUT.mkdir(parents=True, exist_ok=True)
    app = create_app()
    apply_appearance(app, "light")
    app.setAttribute(Qt.ApplicationAttribute.AA_DontShowIconsInMenus, False)
    tmp = Path(tempfile.mkdtemp(prefix="int-desk-sync-shots-"))
    ep = team_endpoint(tmp)
    try:
        first_run_download(app, ep, tmp)
        status_bar_states(app, ep, tmp)  # stops the endpoint at the end (offline)
    finally:
        ep.stop()
    return 0


if __name__ == "__main__":
    sys.exit(main())
