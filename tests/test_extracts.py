"""GP-system extracts as they really come, end to end through ``int-desk import-cohort`` into a
hand-built team's empty workspace: the preview says what it found, the import stores names as
a person writes them, and the caseload shows them.

The sample files are in tests/data/extracts (made by make_extracts.py there, which says how).
"""

from __future__ import annotations

import json
import time
from pathlib import Path

import pytest
from pytestqt.qtbot import QtBot
from sqlalchemy import func, select

from int_desk.cli import main as cli_main
from int_desk.domain.vocab import OrganisationKind, Role
from int_desk.services.identity import set_current_member
from int_desk.store import audit
from int_desk.store import models as m
from int_desk.store.sync_tables import SyncOutbox
from int_desk.store.workspace import Workspace
from tests.conftest import PASSPHRASE

DATA = Path(__file__).resolve().parent / "data" / "extracts"
WAIT = 15_000


@pytest.fixture
def team_ws(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """An empty workspace set up by hand: one team, its Frailty cohort, two practices."""
    directory = tmp_path / "ws"
    with Workspace.create(directory, PASSPHRASE, use_keyring=False) as ws, ws.session() as s:
        place = m.Place(name="North Oxfordshire")
        s.add(place)
        s.flush()
        team = m.Team(name="Banbury INT", place_id=place.id, neighbourhood="Banbury PCN")
        s.add(team)
        s.flush()
        s.add(m.Cohort(team_id=team.id, name="Frailty"))
        for code in ("Y90001", "Y90002"):
            s.add(m.Organisation(name=f"Surgery {code}", code=code, place_id=place.id,
                                 kind=OrganisationKind.GP_PRACTICE.value))  # fmt: skip
        coordinator = m.Member(name="Dana Carrow", role=Role.CARE_COORDINATOR.value)
        s.add(coordinator)
        s.flush()
        s.add(m.TeamMembership(team_id=team.id, member_id=coordinator.id))
        set_current_member(s, coordinator.id)
    monkeypatch.setenv("INT_DESK_PASSPHRASE", PASSPHRASE)
    return directory


def run(capsys: pytest.CaptureFixture[str], *args: str) -> tuple[int, str, str]:
    code = cli_main(list(args))
    out, err = capsys.readouterr()
    return code, out, err


def import_cohort(
    capsys: pytest.CaptureFixture[str], ws: Path, name: str, *extra: str
) -> tuple[int, str, str]:
    return run(capsys, "import-cohort", "--workspace", str(ws), "--cohort", "Frailty",
               str(DATA / name), *extra)  # fmt: skip


def caseload_people(capsys: pytest.CaptureFixture[str], ws: Path) -> dict[str, str]:
    """NHS number -> the name the caseload shows."""
    code, out, _ = run(capsys, "caseload", "--workspace", str(ws), "--format", "json")
    assert code == 0
    return {r["nhs_number"].replace(" ", ""): r["name"] for r in json.loads(out)}


def stored_names(ws: Path) -> dict[str, tuple[str, str]]:
    with Workspace.open(ws, PASSPHRASE) as w, w.session() as s:
        return {p.nhs_number: (p.given_name, p.family_name) for p in s.scalars(select(m.Patient))}


def patient_count(ws: Path) -> int:
    with Workspace.open(ws, PASSPHRASE) as w, w.session() as s:
        return int(s.scalar(select(func.count()).select_from(m.Patient)) or 0)


def test_emis_web_report_preamble_footer_and_dates(
    team_ws: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    code, out, _ = import_cohort(capsys, team_ws, "emis_web_report.csv", "--dry-run")
    assert code == 0, out
    assert (
        "EMIS Web report: 3 lines above the header skipped, dates as dd-Mmm-yyyy, "
        "1 footer line ignored (line 8)." in out
    )
    assert "3 rows: 3 new" in out and "rejected -" not in out  # the footer is no person
    assert patient_count(team_ws) == 0  # a dry run writes nothing

    code, out, _ = import_cohort(capsys, team_ws, "emis_web_report.csv")
    assert code == 0 and "3 new people, 3 enrolled" in out
    with Workspace.open(team_ws, PASSPHRASE) as w, w.session() as s:
        assert audit.verify(s).intact  # the batch-written entries chain like single ones
        enrolments = s.scalars(
            select(m.AuditEvent.patient_id).where(m.AuditEvent.entity_type == "cohort_membership")
        ).all()
        assert len(set(enrolments)) == 3  # one audit entry per person enrolled
        queued = s.execute(select(SyncOutbox.entity, SyncOutbox.kind, SyncOutbox.fields)).all()
        # Every new person and enrolment is queued for sync, with all its fields.
        people = {f["nhs_number"]: f for e, k, f in queued if e == "patient" and k == "insert"}
        assert set(people) == {"9999870007", "9999870015", "9999870023"}
        assert people["9999870007"]["family_name"] == "O'Brien"
        assert people["9999870007"]["date_of_birth"] == "1930-01-10"
        enrolled = [f for e, k, f in queued if e == "cohort_membership" and k == "insert"]
        assert {f["patient_id"] for f in enrolled} == {str(x) for x in enrolments}
    assert stored_names(team_ws) == {
        "9999870007": ("Siobhán", "O'Brien"),
        "9999870015": ("Hamish", "McDonald"),
        "9999870023": ("Amélie", "Lefèvre"),
    }
    assert caseload_people(capsys, team_ws) == {
        "9999870007": "O'BRIEN, Siobhán",
        "9999870015": "MCDONALD, Hamish",
        "9999870023": "LEFÈVRE, Amélie",
    }


def test_systmone_surname_forename_cased_as_people_write_them(
    team_ws: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    code, out, _ = import_cohort(capsys, team_ws, "systmone_report.csv")
    # A plain CSV: nothing names its source, but its shape is SystmOne's (and said as a layout)
    assert "CSV file in SystmOne's layout: dates as dd/mm/yyyy, names as SURNAME, Forename." in out
    assert code == 0 and "5 new people" in out
    # Capitals cased where the casing is certain; a guess (van der / Van Der) is kept as sent
    # and said so on its line.
    assert "line 5: new person - will be added and enrolled - family name kept in capitals" in out
    assert stored_names(team_ws) == {
        "9999870015": ("Hamish", "McDonald"),
        "9999870007": ("Siobhán", "O'Brien"),
        "9999870031": ("Aoife", "Ní Bhriain"),
        "9999870058": ("Jan", "VAN DER BERG"),
        "9999870066": ("Mary", "Smith-Jones"),
    }
    assert caseload_people(capsys, team_ws)["9999870031"] == "NÍ BHRIAIN, Aoife"

    # The same people from EMIS (mixed case, curly-free) match: nothing to change, no conflict.
    code, out, _ = import_cohort(capsys, team_ws, "emis_web_report.csv", "--dry-run")
    assert "rejected -" not in out
    assert "1 new, 0 to enrol, 2 to update" in out  # O'Brien and McDonald: risk scores arrive


def test_a_csv_shaped_otherwise_stays_a_plain_csv(
    team_ws: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """SURNAME, Forename with EMIS-style dates is not SystmOne's layout: no source is claimed."""
    extract = tmp_path / "analyst.csv"
    extract.write_text(
        "Patient Name,NHS Number,Date of Birth\n"
        '"MCDONALD, Hamish",9999870015,03-Apr-1936\n'
        '"O\'BRIEN, Siobhán",9999870007,10/01/1930\n',
        encoding="utf-8",
    )
    code, out, _ = run(capsys, "import-cohort", "--workspace", str(team_ws), "--cohort",
                       "Frailty", str(extract), "--dry-run")  # fmt: skip
    assert "CSV file: dates as dd-Mmm-yyyy (also dd/mm/yyyy)," in out and "SystmOne" not in out
    assert "names as SURNAME, Forename." in out


def test_excel_unicode_text_utf16(team_ws: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = import_cohort(capsys, team_ws, "excel_unicode_text.txt")
    assert "Unicode text (UTF-16): dates as dd/mm/yyyy." in out
    assert code == 0 and "2 new people" in out
    assert stored_names(team_ws) == {
        "9999870074": ("Łukasz", "Nowak"),
        "9999870082": ("Zoë", "Adeyemi"),
    }
    assert caseload_people(capsys, team_ws)["9999870074"] == "NOWAK, Łukasz"


def test_windows_1252_csv_and_a_placeholder_nhs_number(
    team_ws: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    code, out, _ = import_cohort(capsys, team_ws, "analyst_windows1252.csv")
    assert "CSV file: Windows-1252 text, dates as dd.mm.yyyy." in out
    assert code == 1  # one row rejected, the other imported
    assert (
        "line 3: rejected - invalid NHS number: a placeholder (one digit repeated), "
        "not a person's number" in out
    )
    assert stored_names(team_ws) == {"9999870090": ("Zoë", "Lefèvre")}
    assert caseload_people(capsys, team_ws) == {"9999870090": "LEFÈVRE, Zoë"}


def test_a_file_mixing_encodings_is_refused_naming_the_line(
    team_ws: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    code, out, err = import_cohort(capsys, team_ws, "mixed_encodings.csv")
    assert code == 2
    assert "mixes text encodings: line 3 is not UTF-8" in err
    assert "Zo" not in err and "Brennan" not in err  # lines named, never their contents
    assert patient_count(team_ws) == 0


def test_xlsx_first_sheet_full_names_split_only_when_certain(
    team_ws: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    code, out, _ = import_cohort(capsys, team_ws, "analyst_workbook.xlsx")
    assert (
        "Excel workbook, sheet 'Cohort': 2 lines above the header skipped, dates as spreadsheet "
        "dates, 1 footer line ignored (line 9)." in out
    )
    assert code == 1
    # Mary Ann Smith: a second forename or a double surname? The row asks for the columns.
    assert "line 5: rejected - the full name has more than two words" in out
    assert "map the given and family name columns" in out
    assert stored_names(team_ws) == {
        "9999870139": ("Jan", "van der Berg"),
        "9999870155": ("Siobhán", "O'Neill"),  # Excel's curly apostrophe made plain
        "9999870163": ("Priya", "Raman"),
    }
    assert caseload_people(capsys, team_ws)["9999870139"] == "VAN DER BERG, Jan"

    # Mapped as the person asks: the same file's name column cannot be split, so nothing new.
    code, out, _ = import_cohort(capsys, team_ws, "analyst_workbook.xlsx", "--dry-run")
    assert "3 unchanged" in out  # Jan, Siobhán (O’Neill = O'Neill) and Priya match


def test_ods_named_sheet(team_ws: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = import_cohort(capsys, team_ws, "analyst_workbook.ods", "--dry-run")
    assert code == 2 and "OpenDocument spreadsheet, sheet 'Read me'." in out  # the first sheet
    code, _, err = import_cohort(capsys, team_ws, "analyst_workbook.ods", "--sheet", "Nope")
    assert code == 2 and "no sheet 'Nope'; its sheets are: Read me, Frailty" in err
    code, out, _ = import_cohort(capsys, team_ws, "analyst_workbook.ods", "--sheet", "frailty")
    assert "OpenDocument spreadsheet, sheet 'Frailty': dates as spreadsheet dates." in out
    assert code == 1 and "3 new people" in out
    assert stored_names(team_ws)["9999870155"] == ("Siobhán", "O'Neill")


def test_import_dialog_reads_a_workbook_sheet_and_search_finds_the_people(
    qtbot: QtBot, team_ws: Path
) -> None:
    from int_desk.app.main import make_context
    from int_desk.app.main_window import MainWindow

    window = MainWindow(make_context(Workspace.open(team_ws, PASSPHRASE)))
    qtbot.addWidget(window)
    window.resize(1366, 768)
    window.show()
    page = window.pages["CaseloadPage"]
    qtbot.waitUntil(lambda: not page._busy, timeout=WAIT)
    page.import_button.click()
    d = page.import_dialog
    qtbot.waitUntil(lambda: d.cohort_combo.count() > 0, timeout=WAIT)
    d.load_file(DATA / "analyst_workbook.ods")
    assert (
        d.sheet_combo.isVisibleTo(d)
        and d.found.text() == "OpenDocument spreadsheet, sheet 'Read me'"
    )
    d.sheet_combo.setCurrentText("Frailty")
    d.sheet_combo.activated.emit(d.sheet_combo.currentIndex())  # what choosing it does
    assert d.mapping()["Patient Name"] == "full_name"
    first_values = {
        d.mapping_table.item(r, 0).text(): d.mapping_table.item(r, 2).text()
        for r in range(d.mapping_table.rowCount())
    }
    assert first_values["Date of Birth"] == "02/11/1939"  # as the sheet shows it, not ISO
    assert first_values["NHS Number"] == "9999870139"
    with qtbot.waitSignal(d.previewed, timeout=WAIT):
        d.preview_button.click()
    assert (
        d.found.text() == "OpenDocument spreadsheet, sheet 'Frailty': dates as spreadsheet dates."
    )
    report = {
        d.report.item(r, 0).text(): d.report.item(r, 2).text() for r in range(d.report.rowCount())
    }
    assert "more than two words" in report["3"]  # Mary Ann Smith: row 3 of the sheet
    with qtbot.waitSignal(d.imported, timeout=WAIT):
        d.import_button.click()
    d.close()
    qtbot.waitUntil(lambda: page.model.rowCount() == 3, timeout=WAIT)

    page.search.setText("oneill")  # O’Neill in the workbook, punctuation ignored
    qtbot.waitUntil(lambda: page.model.rowCount() == 1, timeout=WAIT)
    page.search.setText("02-Nov-1939")  # Jan van der Berg's date of birth
    qtbot.waitUntil(lambda: page.model.rowCount() == 1, timeout=WAIT)
    page.search.setText("obrien")
    qtbot.waitUntil(lambda: page.model.rowCount() == 0, timeout=WAIT)
    qtbot.waitUntil(
        lambda: (
            page.empty_state.isVisible()
            and page.empty_state.text().startswith("No one matches the search “obrien”.")
        ),
        timeout=WAIT,
    )
    assert "date of birth (10/01/1930 or 10-Jan-1930)" in page.empty_state.text()
    window.close()


def test_empty_result_never_shows_the_last_reason_and_a_closed_window_drops_late_answers(
    qtbot: QtBot, team_ws: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    import shiboken6

    from int_desk.app.main import make_context
    from int_desk.app.main_window import MainWindow

    import_cohort(capsys, team_ws, "emis_web_report.csv")
    window = MainWindow(make_context(Workspace.open(team_ws, PASSPHRASE)))
    # not qtbot.addWidget: this test deletes the window itself
    window.show()
    page = window.pages["CaseloadPage"]
    qtbot.waitUntil(lambda: not page._busy and page.model.rowCount() == 3, timeout=WAIT)
    page.search.setText("nobodyhere")
    qtbot.waitUntil(lambda: "“nobodyhere”" in page.empty_state.text(), timeout=WAIT)

    # The moment the next empty result is shown, the old reason (another search's) is not.
    seen: list[tuple[bool, str]] = []
    page.refreshed.connect(lambda: seen.append((page.empty_state.isVisible(),
                                                page.empty_state.text())))  # fmt: skip
    page.search.setText("zzzz")
    qtbot.waitUntil(lambda: "“zzzz”" in page.empty_state.text(), timeout=WAIT)
    assert seen and not any(visible and "nobodyhere" in text for visible, text in seen)

    # Answers still on their way when the window closes land on nothing, quietly: a result...
    ctx = window.ctx
    page.reload()
    window.close()  # waits for the worker; the answer is queued, not yet delivered
    shiboken6.delete(window)
    # ...and a failure (the store is closed now).
    page._query(lambda s: s.execute(select(1)), lambda _r: None, page._failed)
    ctx.tasks.wait()
    qtbot.wait(50)  # deliver both queued answers; an exception in either fails the test
    assert not shiboken6.isValid(page)


# --- exports that open cleanly -------------------------------------------------------------------


def test_caseload_exports_open_cleanly_and_show_london_days(
    team_ws: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:  # fmt: skip
    from datetime import UTC, date, datetime

    from python_calamine import CalamineWorkbook

    from int_desk.services import patient_actions as pa
    from int_desk.services.identity import current_actor

    import_cohort(capsys, team_ws, "emis_web_report.csv")
    # A home visit at 00:30 BST on 1 June is 23:30 UTC on 31 May: the team's day is 1 June,
    # whatever zone this computer is set to.
    monkeypatch.setenv("TZ", "UTC")
    if hasattr(time, "tzset"):
        time.tzset()
    with Workspace.open(team_ws, PASSPHRASE) as w, w.session() as s:
        pid = s.scalars(select(m.Patient.id).where(m.Patient.nhs_number == "9999870023")).one()
        pa.add_contact(session=s, actor=current_actor(s), patient_id=pid, kind="home_visit",
                       text="Visited", occurred_at=datetime(2026, 5, 31, 23, 30, tzinfo=UTC))  # fmt: skip
    base = ["caseload", "--workspace", str(team_ws), "--search", "lefevre"]

    code, out, _ = run(capsys, *base, "--format", "csv")
    assert code == 0 and out.startswith("\ufeff")  # UTF-8 with BOM: Excel reads LEFÈVRE right
    assert (
        out.encode("utf-8")
        .decode("utf-8-sig")
        .splitlines()[1]
        .startswith('"LEFÈVRE, Amélie",999 987 0023,21/12/1941,')
    )
    assert ",01/06/2026," in out  # the London day, UK form
    code, out, _ = run(capsys, *base, "--format", "csv", "--no-bom")
    assert out.startswith("name,")
    code, out, _ = run(capsys, *base)  # the table
    assert "21/12/1941" in out and "01/06/2026" in out
    code, out, _ = run(capsys, *base, "--format", "json")
    [record] = json.loads(out)
    assert (record["date_of_birth"], record["last_contact"]) == ("1941-12-21", "2026-06-01")

    book = tmp_path / "caseload.xlsx"
    code, out, _ = run(capsys, *base, "--format", "xlsx", "--output", str(book))
    assert code == 0 and "Wrote 1 person" in out
    sheet = CalamineWorkbook.from_path(str(book)).get_sheet_by_name("Caseload").to_python()
    assert sheet[0][:3] == ["Name", "NHS number", "Date of birth"]
    assert sheet[1][0] == "LEFÈVRE, Amélie" and sheet[1][2] == date(1941, 12, 21)
    assert sheet[1][7] == date(2026, 6, 1)
    code, _, err = run(capsys, *base, "--format", "xlsx")
    assert code == 2 and "--format xlsx needs --output" in err


def test_caseload_piped_into_head_ends_quietly(
    team_ws: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """`int-desk caseload | head`: the reader goes away before the output ends; no traceback."""
    import os
    import subprocess
    import sys

    import_cohort(capsys, team_ws, "emis_web_report.csv")
    proc = subprocess.Popen(
        [sys.executable, "-m", "int_desk", "caseload", "--workspace", str(team_ws)],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, env=os.environ,
    )  # fmt: skip
    assert proc.stdout is not None
    proc.stdout.close()  # gone before the first line: every write meets a closed pipe
    _, err = proc.communicate(timeout=120)
    assert proc.returncode == 0
    assert err.decode() == ""  # no BrokenPipeError traceback, no "Exception ignored"


def test_app_exports_the_list_as_shown_for_excel(
    qtbot: QtBot, team_ws: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """File > Export caseload list…: the list as searched now, CSV with BOM or .xlsx by the
    chosen file type, the CLI's columns; audited with a count only."""
    import csv
    import io
    from datetime import date

    from PySide6.QtCore import QDeadlineTimer, QTimer
    from PySide6.QtWidgets import QApplication, QFileDialog
    from python_calamine import CalamineWorkbook

    from int_desk.app.caseload_page import CSV_FILES
    from int_desk.app.main import make_context
    from int_desk.app.main_window import MainWindow

    import_cohort(capsys, team_ws, "emis_web_report.csv")
    window = MainWindow(make_context(Workspace.open(team_ws, PASSPHRASE)))
    qtbot.addWidget(window)
    window.show()
    page = window.pages["CaseloadPage"]
    qtbot.waitUntil(lambda: not page._busy and page.model.rowCount() == 3, timeout=WAIT)
    page.search.setText("lefevre")
    qtbot.waitUntil(lambda: page.model.rowCount() == 1, timeout=WAIT)

    deadline = QDeadlineTimer(WAIT)  # a dialog that never opens must not leave this polling on

    def choose_csv() -> None:  # what the person does in the real Save dialog
        box = QApplication.activeModalWidget()
        if not isinstance(box, QFileDialog):
            if not deadline.hasExpired():
                QTimer.singleShot(20, choose_csv)
            return
        box.selectNameFilter(CSV_FILES)
        box.selectFile(str(tmp_path / "lefevre"))  # no suffix typed: the file type decides
        box.accept()

    QTimer.singleShot(0, choose_csv)
    with qtbot.waitSignal(page.exported, timeout=WAIT) as sent:
        window.list_export_action.trigger()
    assert sent.args == [1]
    data = (tmp_path / "lefevre.csv").read_bytes()
    assert data.startswith("\ufeff".encode())  # Excel reads LEFÈVRE right
    rows = list(csv.reader(io.StringIO(data.decode("utf-8-sig"))))
    assert rows[0][:3] == ["name", "nhs_number", "date_of_birth"]  # as the CLI writes it
    assert len(rows) == 2 and rows[1][:3] == ["LEFÈVRE, Amélie", "999 987 0023", "21/12/1941"]
    assert "Exported 1 person to lefevre.csv" in window.statusBar().currentMessage()

    page.search.setText("")
    qtbot.waitUntil(lambda: page.model.rowCount() == 3, timeout=WAIT)
    with qtbot.waitSignal(page.exported, timeout=WAIT):
        page.export_list(tmp_path / "everyone.xlsx")
    sheet = CalamineWorkbook.from_path(str(tmp_path / "everyone.xlsx")).get_sheet_by_name(
        "Caseload"
    ).to_python()  # fmt: skip
    assert sheet[0][:3] == ["Name", "NHS number", "Date of birth"] and len(sheet) == 4
    assert {r[0] for r in sheet[1:]} == {"O'BRIEN, Siobhán", "MCDONALD, Hamish", "LEFÈVRE, Amélie"}
    assert date(1941, 12, 21) in {r[2] for r in sheet[1:]}  # a real date cell
    window.close()
    with Workspace.open(team_ws, PASSPHRASE) as w, w.session() as s:
        details = s.scalars(
            select(m.AuditEvent.detail).where(m.AuditEvent.entity_type == "caseload_export")
        ).all()
    assert sorted(details) == ["rows=1 format=csv", "rows=3 format=xlsx"]  # no path, no name
