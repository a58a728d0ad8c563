"""Joining and leaving a team on a real endpoint, and the set-up's bad input: wrong, expired,
used and withdrawn invitation codes; two practices with one ODS code; two administrators
editing one team; a member removed, or a laptop revoked, while it holds unsent edits. Each gets
a clear message, nothing is lost and everything is audited."""

from __future__ import annotations

import re
import uuid
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from pytestqt.qtbot import QtBot
from sqlalchemy import select, update

from int_desk.cli import main as cli_main
from int_desk.domain.errors import ValidationError
from int_desk.domain.uk_time import london_today
from int_desk.domain.vocab import ContactKind
from int_desk.server import audit
from int_desk.server.models import DeviceToken, Invitation, ServerAudit
from int_desk.services import first_run as setup
from int_desk.services import patient_actions as pa
from int_desk.services.identity import current_actor
from int_desk.store import models as m
from int_desk.store.sync_tables import SyncOutbox
from int_desk.store.workspace import Workspace
from int_desk.wire.protocol import PROTOCOL_HEADER, PROTOCOL_VERSION
from tests.conftest import PASSPHRASE
from tests.helpers import sync_env

TEAM = "Testbury INT"
EXTRACT = (
    "NHS Number,Forename,Surname,Date of Birth,Postcode,Practice Code,Sex\n"
    "9990000018,Ada,Testperson,1941-03-02,OX26 1AA,K84001,female\n"
    "9990000026,Bob,Testperson,1938-07-12,OX26 1AB,K84001,male\n"
)


class Team:
    """An endpoint set up from empty with ``int-desk admin``, running on 127.0.0.1."""

    def __init__(self, ep: sync_env.Endpoint, capsys: pytest.CaptureFixture[str], tmp: Path):
        self.ep, self.capsys, self.tmp = ep, capsys, tmp

    def cli(self, *args: str, expect: int = 0) -> str:
        code = cli_main(list(args))
        out = self.capsys.readouterr()
        assert code == expect, out.out + out.err
        return out.out + out.err

    def admin(self, *args: str, expect: int = 0) -> str:
        return self.cli("admin", "--db", self.ep.db_url, *args, expect=expect)

    def invite(self, member: str, *extra: str) -> str:
        found = re.search(
            r"([0-9A-Z]{4}-[0-9A-Z]{4}-[0-9A-Z]{4})", self.admin("invite", member, *extra)
        )
        assert found
        return found.group(1)

    def join(self, member: str, name: str) -> Path:
        directory = self.tmp / name
        self.cli("join", "--workspace", str(directory), "--endpoint", self.ep.url,
                 "--code", self.invite(member), "--label", name, "--no-keyring")  # fmt: skip
        return directory

    def audit(self, action: str) -> list[str]:
        with self.ep.session() as s:
            return [e.detail for e in audit.recent(s, 200, action)]


@pytest.fixture
def team(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> Iterator[Team]:
    monkeypatch.setenv("INT_DESK_PASSPHRASE", PASSPHRASE)
    ep = sync_env.Endpoint(url="", db_url=f"sqlite:///{tmp_path / 'srv.db'}")
    t = Team(ep, capsys, tmp_path)
    t.admin("add-team", TEAM, "--place", "Testshire", "--phone", "01632 960 321")
    for name, role in (
        ("Cora Coordinator", "care_coordinator"),
        ("Nia Nurse", "district_nurse"),
        ("Ada Admin", "admin"),
        ("Abe Admin", "admin"),
    ):
        t.admin("add-member", name, "--role", role, "--team", TEAM)
    running = sync_env.start_endpoint(ep.db_url)
    ep.url, ep.proc, ep.log_path = running.url, running.proc, running.log_path
    yield t
    ep.stop()


def _join(url: str, code: str) -> httpx.Response:
    return httpx.post(
        f"{url}/v1/join", json={"code": code}, headers={PROTOCOL_HEADER: str(PROTOCOL_VERSION)}
    )


def test_codes_that_cannot_be_used_say_why_and_are_audited(team: Team) -> None:
    url = team.ep.url
    assert "not known here" in _join(url, "AAAA-BBBB-CCCC").json()["detail"]
    assert "not known here" in _join(url, "x").json()["detail"]

    used = team.invite("Nia Nurse")
    assert _join(url, used.lower().replace("-", " ")).status_code == 200  # typing is forgiving
    answer = _join(url, used)
    assert answer.status_code == 400 and "already used" in answer.json()["detail"]

    expired = team.invite("Nia Nurse")
    with team.ep.session() as s:
        s.execute(update(Invitation).where(Invitation.used_at.is_(None)).values(
            expires_at="2000-01-01T00:00:00.000000+00:00"))  # fmt: skip
    assert "expired at 2000-01-01 00:00 UTC" in _join(url, expired).json()["detail"]

    withdrawn = team.invite("Nia Nurse")
    (line,) = [x for x in team.admin("list-access").splitlines() if "waiting" in x]
    team.admin("cancel-invitation", line.split()[1])
    assert "withdrawn" in _join(url, withdrawn).json()["detail"]

    gone = team.invite("Cora Coordinator")
    team.admin("remove-member", "Cora Coordinator")
    assert "has been removed" in _join(url, gone).json()["detail"]

    refusals = team.audit("join_refused")
    assert len(refusals) == 6 and not any(used in r or expired in r for r in refusals)
    # The app says the same before anything is created; a wrong code leaves no workspace.
    with pytest.raises(ValidationError, match="already used"):
        setup.redeem_invitation(url, used)


def test_guessing_codes_is_slowed_down(team: Team) -> None:
    for _ in range(10):
        assert _join(team.ep.url, "AAAA-BBBB-CCCC").status_code == 400
    assert _join(team.ep.url, "AAAA-BBBB-CCCD").status_code == 429
    assert _join(team.ep.url, team.invite("Nia Nurse")).status_code == 429  # from here, for now


def test_wrong_codes_count_across_every_process_of_the_endpoint_for_ten_minutes(
    team: Team,
) -> None:
    """A second endpoint process (another host, or --workers) on the same database: the
    guesser's wrong codes are counted together, not ten per process."""
    other = sync_env.start_endpoint(team.ep.db_url)
    try:
        for i in range(10):
            url = (team.ep.url, other.url)[i % 2]
            assert _join(url, "AAAA-BBBB-CCCC").status_code == 400
        code = team.invite("Nia Nurse")
        for url in (team.ep.url, other.url):
            answer = _join(url, code)
            assert answer.status_code == 429 and "wait ten minutes" in answer.json()["detail"]
        with team.ep.session() as s:  # ten minutes later
            s.execute(update(ServerAudit).values(at="2000-01-01T00:00:00.000000+00:00"))
        assert _join(other.url, code).status_code == 200
    finally:
        other.stop()


def test_one_ods_code_is_one_practice(team: Team) -> None:
    team.admin("add-practice", "K84001", "Testbury Health Centre")
    admin_laptop = team.join("Ada Admin", "admin-laptop")
    with Workspace.open(admin_laptop, PASSPHRASE) as ws:
        from int_desk.sync.admin_client import AdminClient

        client = AdminClient.for_workspace(ws)
        assert client is not None
        with pytest.raises(ValidationError, match="K84001 is already the code of Testbury"):
            client.save("organisation", None, {"name": "Another Surgery", "kind": "gp_practice",
                                               "code": "k84001"}, base_version=None)  # fmt: skip
    assert "1 GP practices" in team.admin("list-practices")
    assert any("field=code" in d for d in team.audit("reference_refused"))
    # Two coordinators' laptops meeting the same unknown code offline make one practice.
    team.admin("add-member", "Cy Coordinator", "--role", "care_coordinator", "--team", TEAM)
    extract = team.tmp / "phm.csv"
    extract.write_text(EXTRACT.replace("K84001", "K84009"), encoding="utf-8")
    laptops = [team.join("Cora Coordinator", "a"), team.join("Cy Coordinator", "b")]
    for i, laptop in enumerate(laptops):
        team.cli("import-cohort", "--workspace", str(laptop), "--cohort", f"C{i}",
                 "--new-cohort", "--add-practices", str(extract))  # fmt: skip
    for laptop in laptops:
        team.cli("sync", "--workspace", str(laptop))
    listed = team.admin("list-practices")
    assert "2 GP practices, 1 awaiting a name" in listed and listed.count("K84009") == 1


def test_two_administrators_editing_one_team(team: Team) -> None:
    from int_desk.sync.admin_client import AdminClient, StaleEdit

    laptops = [team.join("Ada Admin", "ada"), team.join("Abe Admin", "abe")]
    opened = [Workspace.open(p, PASSPHRASE) for p in laptops]
    try:
        ada, abe = (AdminClient.for_workspace(ws) for ws in opened)
        assert ada is not None and abe is not None
        with opened[0].session() as s:
            t = s.scalars(select(m.Team)).one()
            team_id, version = t.id, t.server_version
        ada.save("team", team_id, {"phone": "01632 960 111"}, base_version=version)
        # Abe, not yet synced, changes another field: merged, nothing lost.
        abe.save("team", team_id, {"email": "team@nhs.example"}, base_version=version)
        # ... and the same field: refused, naming who changed it, their value shown.
        with pytest.raises(StaleEdit, match="Ada Admin changed the phone of this team at") as no:
            abe.save("team", team_id, {"phone": "01632 960 222"}, base_version=version)
        assert no.value.current == {"phone": "01632 960 111"}
        assert len(team.audit("stale_edit_refused")) == 1
        listed = team.admin("list-teams")
        assert "01632 960 111" in listed and "team@nhs.example" in listed
        # Abe decides to keep his: saved on the version he has now seen.
        abe.save("team", team_id, {"phone": "01632 960 222"}, base_version=no.value.version)
        assert "01632 960 222" in team.admin("list-teams")
    finally:
        for ws in opened:
            ws.close()


def _offline_note(laptop: Path, text: str) -> uuid.UUID:
    """A note recorded on the laptop while it is offline (not yet sent)."""
    with Workspace.open(laptop, PASSPHRASE) as ws, ws.session() as s:
        actor = current_actor(s)
        patient = s.scalars(select(m.Patient.id).order_by(m.Patient.nhs_number)).first()
        contact = pa.add_contact(
            session=s, actor=actor, patient_id=patient, kind=ContactKind.PHONE_CALL, text=text
        )
        return contact.id


def _unsent(laptop: Path) -> int:
    with Workspace.open(laptop, PASSPHRASE) as ws, ws.session() as s:
        return len(s.scalars(select(SyncOutbox.seq).where(SyncOutbox.status == "pending")).all())


@pytest.mark.parametrize("how", ["revoked", "removed"])
def test_a_laptop_cut_off_with_unsent_edits_keeps_them_until_it_rejoins(
    team: Team, how: str
) -> None:
    """Hazard H-14: revoking a device, or removing its member, refuses the laptop's next sync;
    its encrypted copy and unsent edits stay on it (nothing is wiped or dropped), and they reach
    the team once the member is back and the laptop rejoins with a new code."""
    coordinator = team.join("Cora Coordinator", "coordinator")
    extract = team.tmp / "phm.csv"
    extract.write_text(EXTRACT, encoding="utf-8")
    team.cli("import-cohort", "--workspace", str(coordinator), "--cohort", "Frailty",
             "--new-cohort", "--add-practices", str(extract))  # fmt: skip
    team.cli("sync", "--workspace", str(coordinator))
    nurse = team.join("Nia Nurse", "nurse")
    note = _offline_note(nurse, "Phoned daughter: new walking frame delivered")
    if how == "revoked":
        (line,) = [x for x in team.admin("list-access").splitlines() if " nurse " in f" {x} "]
        team.admin("revoke-device", line.split()[1])
    else:
        team.admin("remove-member", "Nia Nurse")
    refused = team.cli("sync", "--workspace", str(nurse), expect=1)
    assert "revoked" in refused or "not valid" in refused
    assert _unsent(nurse) >= 1  # kept, not dropped
    with Workspace.open(nurse, PASSPHRASE) as ws, ws.session() as s:
        assert s.get(m.Contact, note) is not None  # the record itself is still there
    # Back in the team (removed: the administrator adds them again), a new code, the same laptop.
    if how == "removed":
        team.admin("restore-member", "Nia Nurse", "--team", TEAM)
    team.cli("connect", "--workspace", str(nurse), "--endpoint", team.ep.url,
             "--code", team.invite("Nia Nurse"))  # fmt: skip
    team.cli("sync", "--workspace", str(nurse))
    assert _unsent(nurse) == 0
    team.cli("sync", "--workspace", str(coordinator))
    with Workspace.open(coordinator, PASSPHRASE) as ws, ws.session() as s:
        arrived = s.get(m.Contact, note)
        assert (
            arrived is not None and arrived.text == "Phoned daughter: new walking frame delivered"
        )


def test_the_administration_page_changes_a_connected_team_at_the_endpoint(
    qtbot: QtBot, team: Team
) -> None:
    from int_desk.app.main import make_context
    from int_desk.app.main_window import MainWindow

    laptop = team.join("Ada Admin", "ada")
    ws = Workspace.open(laptop, PASSPHRASE)
    window = MainWindow(make_context(ws))
    qtbot.addWidget(window)
    window.show()
    page = window.show_page("AdministrationPage")
    qtbot.waitUntil(lambda: page.teams.table.rowCount() == 1, timeout=20_000)
    assert page.where.text().startswith("Connected: changes go to your team's endpoint")
    page.teams.table.selectRow(0)
    page.team_email.setText("testbury.int@nhs.example")
    with qtbot.waitSignal(page.saved, timeout=20_000):
        page.teams.save_button.click()
    assert "testbury.int@nhs.example" in team.admin("list-teams")  # it went to the endpoint
    qtbot.waitUntil(  # and came back by sync
        lambda: page.teams.table.item(0, 4).text() == "testbury.int@nhs.example", timeout=20_000
    )
    # Another administrator (here at the endpoint) changes the team; this form is now stale.
    page.teams.table.selectRow(0)
    team.admin("set-team", TEAM, "--phone", "01632 960 444")
    page.team_phone.setText("01632 960 555")
    with qtbot.waitSignal(page.failed, timeout=20_000):
        page.teams.save_button.click()
    assert "changed the phone of this team at" in page.teams.error.text()
    assert "phone: 01632 960 444" in page.teams.error.text()  # theirs, shown
    assert page.team_phone.text() == "01632 960 555"  # yours, kept
    with qtbot.waitSignal(page.saved, timeout=20_000):  # saved again, knowingly
        page.teams.save_button.click()
    assert "01632 960 555" in team.admin("list-teams")

    # Devices: when each was made and last used, as the team reads dates; an unused one expires.
    page.load_access()
    qtbot.waitUntil(lambda: page.access_table.rowCount() == 2, timeout=20_000)  # code + device
    header = [page.access_table.horizontalHeaderItem(c).text() for c in range(6)]
    assert header == ["Kind", "Member", "Label", "Made", "Last used", "State"]
    rows = [[page.access_table.item(r, c).text() for c in range(6)] for r in range(2)]
    assert ["Invitation", "Ada Admin"] == rows[0][:2] and rows[0][4:] == ["", "used"]
    row = rows[1]
    today = london_today().strftime("%d/%m/%Y")
    assert row[0] == "Device" and row[1] == "Ada Admin" and row[5] == "active", row
    assert row[3].startswith(today) and re.fullmatch(r"\d\d/\d\d/\d{4} \d\d:\d\d", row[3])
    assert row[4] == today
    assert f"active  last used {today}" in team.admin("list-access")
    with team.ep.session() as s:
        s.execute(update(DeviceToken).values(expires_at="2000-01-01T00:00:00.000000+00:00"))
    assert f"expired  last used {today}" in team.admin("list-access")
    window.close()
