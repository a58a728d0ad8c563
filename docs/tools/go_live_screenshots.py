"""Screenshots for docs/go-live.md: a team set up from an empty endpoint, no demo data.

    xvfb-run -a -s "-screen 0 1366x768x24" .venv/bin/python docs/tools/go_live_screenshots.py

An empty SQLite endpoint on 127.0.0.1 is set up with ``int-desk admin`` as docs/go-live.md
says; then the real app: a new workspace's empty caseload, the first run joining with an
invitation code, the first import listing practices not known yet, the Administration page
(GP practices awaiting a name, an invitation, two administrators editing one team). Writes
docs/images/go-live-*.png. Synthetic data only.
"""

from __future__ import annotations

import re
import sys
import tempfile
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
import screenshots as shots  # noqa: E402  (sets INT_DESK_HOME and the throwaway keyring)
from PySide6.QtWidgets import QApplication  # noqa: E402

from int_desk.app.main import create_app, make_context, settings  # noqa: E402
from int_desk.app.settings_dialog import apply_appearance  # noqa: E402
from int_desk.cli import main as cli  # noqa: E402
from tests.helpers import sync_env  # noqa: E402

PASSPHRASE = shots.PASSPHRASE
TEAM = "Bicester INT"
EXTRACT = (
    "NHS Number,Forename,Surname,Date of Birth,Postcode,Practice Code,Sex,Reason\n"
    "9990000018,Ada,Testperson,1941-03-02,OX26 1AA,K84001,female,eFI severe\n"
    "9990000026,Bob,Testperson,1938-07-12,OX26 1AB,K84002,male,eFI severe\n"
    "9990000034,Cy,Testperson,1940-01-22,OX26 1AC,K84002,male,eFI moderate\n"
    "9990000042,Di,Testperson,1936-11-30,OX26 1AD,K84003,female,eFI severe\n"
)


def run(*args: str) -> str:
    import contextlib
    import io

    out = io.StringIO()
    with contextlib.redirect_stdout(out):
        code = cli(list(args))
    if code:
        raise SystemExit(f"int-desk {' '.join(args[:3])} failed ({code}): {out.getvalue()}")
    return out.getvalue()


def code_in(text: str) -> str:
    found = re.search(r"([0-9A-Z]{4}-[0-9A-Z]{4}-[0-9A-Z]{4})", text)
    assert found
    return found.group(1)


def main() -> None:
    import os

    os.environ["INT_DESK_PASSPHRASE"] = PASSPHRASE
    tmp = Path(tempfile.mkdtemp(prefix="int-desk-go-live-"))
    db = f"sqlite:///{tmp / 'endpoint.db'}"

    def admin(*args: str) -> str:
        return run("admin", "--db", db, *args)

    admin("add-team", TEAM, "--place", "Oxfordshire", "--neighbourhood", "Bicester PCN",
          "--phone", "01632 960 321", "--email", "bicester.int@nhs.example")  # fmt: skip
    admin("add-practice", "K84001", "Bicester Health Centre")
    for name, role in (
        ("Pat Admin", "admin"), ("Sam Admin", "admin"), ("Cora Coordinator", "care_coordinator"),
        ("Nia Nurse", "district_nurse"), ("Gus Practitioner", "gp"),
    ):  # fmt: skip
        admin("add-member", name, "--role", role, "--team", TEAM)
    ep = sync_env.start_endpoint(db, faults=False)
    try:
        app = create_app()
        apply_appearance(app, settings())
        shoot_all(app, ep.url, admin, tmp)
    finally:
        ep.stop()


def window_for(app: QApplication, directory: Path):  # type: ignore[no-untyped-def]
    from int_desk.app.main_window import MainWindow
    from int_desk.store.workspace import Workspace

    ws = Workspace.open(directory, PASSPHRASE)
    window = MainWindow(make_context(ws))
    window.resize(shots_width(), 768)
    window.show()
    return window


def shots_width() -> int:
    return 1366


def shoot_all(app: QApplication, url: str, admin, tmp: Path) -> None:  # type: ignore[no-untyped-def]
    from int_desk.app.first_run import FirstRunDialog
    from int_desk.settings_schema import Preferences

    # 1. A new standalone workspace: the empty caseload says what to do next.
    standalone = tmp / "standalone"
    run("init", "--workspace", str(standalone), "--name", "Cora Coordinator", "--role",
        "care_coordinator", "--team", TEAM, "--no-keyring")  # fmt: skip
    window = window_for(app, standalone)
    page = window.pages["CaseloadPage"]
    shots.wait_until(app, lambda: page.empty_state.isVisible())
    shots.shoot(app, window, "go-live-empty-caseload")
    window.close()

    # 2. The coordinator joins with an invitation code in the first run.
    code = code_in(admin("invite", "Cora Coordinator"))
    dialog = FirstRunDialog(Preferences(settings()))
    dialog.resize(760, 560)
    dialog.show()
    f = dialog.form
    f.connectButton.click()
    f.endpointEdit.setText(url)
    f.tokenEdit.setText(code)
    f.checkButton.click()
    shots.wait_until(app, lambda: f.connectNextButton.isEnabled())
    shots.shoot(app, dialog, "go-live-first-run-code")
    dialog.reject()
    coordinator = tmp / "coordinator"
    run("join", "--workspace", str(coordinator), "--endpoint", url, "--code", code,
        "--label", "Cora's laptop", "--no-keyring")  # fmt: skip

    # 3. The first import: practices not known here are listed, the cohort is new.
    extract = tmp / "phm-extract.csv"
    extract.write_text(EXTRACT, encoding="utf-8")
    window = window_for(app, coordinator)
    page = window.pages["CaseloadPage"]
    page.import_button.click()
    d = page.import_dialog
    d.load_file(extract)
    d.cohort_combo.setEditText("Frailty")
    d.preview_button.click()
    shots.wait_until(app, lambda: "not known here" in d.summary.text())
    shots.shoot(app, d, "go-live-first-import")
    d.import_button.click()
    shots.wait_until(app, lambda: d.summary.text().startswith("Imported"))
    d.close()
    window.close()
    run("sync", "--workspace", str(coordinator))

    # 4. The administrator's laptop: practices awaiting a name, an invitation, two editors.
    laptops = []
    for name, folder in (("Pat Admin", "pat"), ("Sam Admin", "sam")):
        directory = tmp / folder
        run("join", "--workspace", str(directory), "--endpoint", url, "--code",
            code_in(admin("invite", name)), "--label", f"{name.split()[0]}'s laptop",
            "--no-keyring")  # fmt: skip
        laptops.append(directory)
    window = window_for(app, laptops[0])
    page = window.show_page("AdministrationPage")
    shots.wait_until(app, lambda: page.practices.table.rowCount() == 3)
    page.tabs.setCurrentWidget(page.practices)
    page.practices.table.selectRow(1)
    shots.shoot(app, window, "go-live-admin-practices")

    page.tabs.setCurrentWidget(page.members)
    row = next(
        r for r in range(page.members.table.rowCount())
        if page.members.table.item(r, 0).text().startswith("Nia Nurse")
    )  # fmt: skip
    page.members.table.selectRow(row)
    page.invite_selected()
    shots.wait_until(app, lambda: getattr(page, "invitation_box", None) is not None)
    shots.wait_until(
        app,
        lambda: any(
            page.access_table.item(r, 5).text() == "waiting"
            for r in range(page.access_table.rowCount())
        ),
    )
    page.invitation_box.close()
    page.tabs.setCurrentIndex(page.tabs.count() - 1)  # Devices and invitations
    shots.shoot(app, window, "go-live-admin-access")

    # Sam changes the team's phone; Pat, not yet synced, changes it too: refused, kept.
    from int_desk.store import models as m
    from int_desk.store.workspace import Workspace
    from int_desk.sync.admin_client import AdminClient

    with Workspace.open(laptops[1], PASSPHRASE) as ws:
        with ws.session() as s:
            team = s.query(m.Team).one()
            team_id, version = team.id, team.server_version
        client = AdminClient.for_workspace(ws)
        assert client is not None
        client.save("team", team_id, {"phone": "01632 960 654"}, base_version=version)
    page.tabs.setCurrentWidget(page.teams)
    page.teams.table.selectRow(0)
    page.team_phone.setText("01632 960 999")
    page.teams.save_button.click()
    shots.wait_until(app, lambda: "changed the phone" in page.teams.error.text())
    shots.shoot(app, window, "go-live-admin-stale-edit")
    window.close()


if __name__ == "__main__":
    main()
