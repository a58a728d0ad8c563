"""From nothing to a caseload without the demo: ``int-desk init`` makes a usable standalone
workspace, ``teams``/``info`` say who is signed in and what is set up, and a first import into a
new cohort keeps every person whose GP practice the workspace has not seen."""

from __future__ import annotations

import io
from pathlib import Path

import pytest
from pytestqt.qtbot import QtBot
from sqlalchemy import func, select

from int_desk.app.main import make_context
from int_desk.app.main_window import MainWindow
from int_desk.cli import main as cli_main
from int_desk.domain import reference as ref
from int_desk.domain.vocab import Role
from int_desk.services import cohort_import as ci
from int_desk.services import team_setup
from int_desk.services.identity import current_actor
from int_desk.store.models import Cohort, CohortMembership, Organisation, Patient
from int_desk.store.workspace import Workspace
from tests.conftest import PASSPHRASE

WAIT = 15_000

EXTRACT = (
    "NHS Number,Forename,Surname,Date of Birth,Postcode,Practice Code,Sex,Reason\n"
    "9990000018,Ada,Testperson,1941-03-02,OX26 1AA,K84001,female,frailty\n"
    "9990000026,Bob,Testperson,1938-07-12,OX26 1AB,k84001,male,frailty\n"
    "9990000034,Cy,Testperson,1940-01-22,OX26 1AC,K84002,male,frailty\n"
    "9990000042,Di,Testperson,1936-11-30,OX26 1AD,Bicester HC,female,frailty\n"
)


def run(capsys: pytest.CaptureFixture[str], *args: str) -> tuple[int, str]:
    code = cli_main(list(args))
    out = capsys.readouterr()
    return code, out.out + out.err


@pytest.fixture
def workspace(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> Path:
    monkeypatch.setenv("INT_DESK_PASSPHRASE", PASSPHRASE)
    directory = tmp_path / "ws"
    code, out = run(
        capsys, "init", "--workspace", str(directory), "--name", "Ann Example",
        "--role", "Care coordinator", "--team", "Testbury INT", "--phone", "01632 960123",
        "--email", "testbury.int@nhs.example", "--no-keyring",
    )  # fmt: skip
    assert code == 0, out
    return directory


def test_init_without_a_terminal_names_what_is_missing(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("INT_DESK_PASSPHRASE", PASSPHRASE)
    code, out = run(capsys, "init", "--workspace", str(tmp_path / "ws"), "--name", "Ann")
    assert code == 2 and "--role is needed" in out
    assert not (tmp_path / "ws").exists()
    code, out = run(
        capsys, "init", "--workspace", str(tmp_path / "ws"), "--name", "Ann", "--role", "chef",
        "--team", "T",
    )  # fmt: skip
    assert code == 2 and "Unknown role 'chef'" in out and not (tmp_path / "ws").exists()


def test_init_workspace_is_signed_in_and_lists_its_team(
    workspace: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    code, out = run(capsys, "teams", "--workspace", str(workspace))
    assert code == 0
    assert "Signed in: Ann Example (Care coordinator)" in out
    assert "Team Testbury INT" in out and "01632 960123" in out
    code, out = run(capsys, "info", "--workspace", str(workspace))
    assert code == 0 and "endpoint: none (standalone)" in out and "Signed in: Ann Example" in out
    code, out = run(capsys, "caseload", "--workspace", str(workspace))  # empty, not an error
    assert code == 0 and "0 people" in out


def test_first_import_keeps_people_whose_practice_is_unknown(
    workspace: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    extract = tmp_path / "phm.csv"
    extract.write_text(EXTRACT, encoding="utf-8")
    args = ["import-cohort", "--workspace", str(workspace), "--cohort", "Frailty", str(extract)]
    code, out = run(capsys, *args)
    assert code == 2 and "No cohort called 'Frailty'" in out and "--new-cohort" in out

    code, out = run(capsys, *args, "--new-cohort", "--dry-run")
    assert code == 0, out
    assert "GP practices not known here: K84001, 2 people; K84002, 1 person" in out
    assert "'BICESTER H' is not a GP practice code" in out
    assert "4 new" in out and "0 rejected" in out

    code, out = run(capsys, *args, "--new-cohort")  # unknown practices need a yes
    assert code == 2 and "--add-practices" in out
    with Workspace.open(workspace, PASSPHRASE) as ws, ws.session() as s:
        assert s.scalar(select(func.count()).select_from(Patient)) == 0  # nothing written
        assert team_setup.directory(s).practices == []

    code, out = run(capsys, *args, "--new-cohort", "--add-practices")
    assert code == 0 and "4 new people, 4 enrolled" in out, out
    with Workspace.open(workspace, PASSPHRASE) as ws, ws.session() as s:
        d = team_setup.directory(s)
        assert [p.code for p in d.awaiting_names] == ["K84001", "K84002"]
        assert {p.id for p in d.practices} == {ref.practice_id("K84001"), ref.practice_id("K84002")}
        assert _people_by_practice(s) == {"K84001": 2, "K84002": 1}
        assert s.scalar(select(func.count()).select_from(CohortMembership)) == 4
    code, out = run(capsys, "teams", "--workspace", str(workspace))
    assert "GP practices: 2 (2 awaiting a name" in out and "K84001 (name not yet given)" in out

    # Importing again finds the practices it made: known now, nothing new.
    code, out = run(capsys, *args)
    assert code == 0 and "not known here" not in out and "4 unchanged" in out


def test_two_imports_of_one_unknown_code_make_one_practice(workspace: Path) -> None:
    """The practice's id comes from its ODS code: no second practice for the same code."""
    table = ci.read_csv(EXTRACT.encode())
    with Workspace.open(workspace, PASSPHRASE) as ws:
        with ws.session() as s:
            actor = current_actor(s)
            (team,) = actor.team_ids
            cohort = team_setup.ensure_cohort(session=s, actor=actor, team_id=team, name="A")
            other = team_setup.ensure_cohort(session=s, actor=actor, team_id=team, name="B")
        for cohort_id in (cohort, other):
            with ws.session() as s:
                actor = current_actor(s)
                preview = ci.build_preview(
                    session=s, actor=actor, cohort_id=cohort_id, table=table,
                    mapping=ci.auto_mapping(table.headers),
                )  # fmt: skip
                ci.apply_import(session=s, actor=actor, preview=preview)
        with ws.session() as s:
            codes = s.scalars(select(Organisation.code).order_by(Organisation.code)).all()
    assert codes == ["K84001", "K84002"]


def test_first_import_in_the_window_makes_the_cohort_and_lists_unknown_practices(
    qtbot: QtBot, workspace: Path, tmp_path: Path
) -> None:
    extract = tmp_path / "phm.csv"
    extract.write_text(EXTRACT, encoding="utf-8")
    ws = Workspace.open(workspace, PASSPHRASE)
    window = MainWindow(make_context(ws))
    qtbot.addWidget(window)
    window.show()
    page = window.pages["CaseloadPage"]
    qtbot.waitUntil(
        lambda: "Import your team's cohort list" in page.empty_state.text(), timeout=WAIT
    )
    page.import_button.click()
    d = page.import_dialog
    assert d.cohort_combo.count() == 0  # a new team has no cohort yet
    d.load_file(extract)
    d.cohort_combo.setEditText("Frailty")
    with qtbot.waitSignal(d.previewed, timeout=WAIT):
        d.preview_button.click()
    summary = d.summary.text()
    assert "A new cohort 'Frailty' is made when you import" in summary
    assert "GP practices not known here: K84001, 2 people; K84002, 1 person" in summary
    assert d.import_button.text() == "Import 4 valid rows"
    with Workspace.open(workspace, PASSPHRASE) as other, other.session() as s:
        assert s.scalar(select(func.count()).select_from(Cohort)) == 0  # the preview wrote nothing
    with qtbot.waitSignal(d.imported, timeout=WAIT) as blocker:
        d.import_button.click()
    assert blocker.args[0].created_patients == 4
    d.close()
    qtbot.waitUntil(lambda: page.model.rowCount() == 4, timeout=WAIT)
    assert not page.empty_state.isVisible()
    window.close()


class _Terminal(io.StringIO):
    """Typed answers on a terminal: init asks for what its options left out."""

    def isatty(self) -> bool:
        return True


def test_init_asks_for_what_was_left_out_on_a_terminal(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("INT_DESK_PASSPHRASE", PASSPHRASE)
    roles = list(Role)
    nurse = roles.index(Role.DISTRICT_NURSE) + 1
    monkeypatch.setattr("sys.stdin", _Terminal(f"Bea Example\n{nurse}\nTestbury INT\n"))
    directory = tmp_path / "ws"
    code, out = run(capsys, "init", "--workspace", str(directory), "--no-keyring")
    assert code == 0, out
    assert "Your name:" in out and f"{nurse:2}. District nurse" in out
    assert "signed in as Bea Example (District nurse)" in out
    code, out = run(capsys, "teams", "--workspace", str(directory))
    assert "Signed in: Bea Example (District nurse)" in out and "Team Testbury INT" in out

    # An empty answer creates nothing and says what was needed.
    monkeypatch.setattr("sys.stdin", _Terminal("Bea Example\ncare coordinator\n\n"))
    code, out = run(capsys, "init", "--workspace", str(tmp_path / "ws2"), "--no-keyring")
    assert code == 2 and "Your team's name is needed; nothing was created." in out
    assert not (tmp_path / "ws2").exists()


def _people_by_practice(s) -> dict[str, int]:  # noqa: ANN001
    return dict(
        s.execute(
            select(Organisation.code, func.count(Patient.id))
            .join(Patient, Patient.practice_id == Organisation.id)
            .group_by(Organisation.code)
        ).all()
    )


def _fhir_patient(nhs: str, given: str, practice: str) -> dict:
    return {
        "resourceType": "Patient",
        "identifier": [{"system": "https://fhir.nhs.uk/Id/nhs-number", "value": nhs}],
        "name": [{"use": "official", "family": "Testperson", "given": [given]}],
        "birthDate": "1940-02-01",
        "gender": "female",
        "address": [{"use": "home", "postalCode": "OX26 1AB"}],
        "generalPractitioner": [
            {"identifier": {"system": "https://fhir.nhs.uk/Id/ods-organization-code",
                            "value": practice}}
        ],
    }  # fmt: skip


def test_first_fhir_import_adds_unknown_practices_only_when_asked(
    workspace: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """import-fhir, like import-cohort, names no practice the workspace does not know unless
    given --add-practices; with it the practices await a name and the people are theirs."""
    import json

    bundle = tmp_path / "patients.ndjson"
    bundle.write_text(
        "\n".join(
            json.dumps(p)
            for p in (
                _fhir_patient("9990000018", "Ada", "K84001"),
                _fhir_patient("9990000026", "Bob", "K84001"),
                _fhir_patient("9990000034", "Cy", "K84002"),
            )
        )
    )
    args = ["import-fhir", "--workspace", str(workspace), "--cohort", "Frailty", str(bundle)]
    code, out = run(capsys, *args)
    assert code == 2 and "--new-cohort" in out
    code, out = run(capsys, *args, "--new-cohort")
    assert code == 2 and "--add-practices" in out and "Nothing was written" in out
    with Workspace.open(workspace, PASSPHRASE) as ws, ws.session() as s:
        assert s.scalar(select(func.count()).select_from(Patient)) == 0
        assert s.scalar(select(func.count()).select_from(Cohort)) == 0
        assert team_setup.directory(s).practices == []

    code, out = run(capsys, *args, "--new-cohort", "--add-practices")
    assert code == 0 and "3 new people, 3 enrolled" in out, out
    with Workspace.open(workspace, PASSPHRASE) as ws, ws.session() as s:
        d = team_setup.directory(s)
        assert [p.code for p in d.awaiting_names] == ["K84001", "K84002"]
        assert _people_by_practice(s) == {"K84001": 2, "K84002": 1}
        assert s.scalar(select(Cohort.name)) == "Frailty"
