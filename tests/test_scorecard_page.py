"""The Scorecard page on the demo: charts with their tables, values in tooltips, the keyboard,
filters and breakdowns, and the PDF (vector charts, read back) and CSV exports."""

from __future__ import annotations

import csv
import re
from pathlib import Path

import pypdf
from PySide6.QtCore import QDate, QPoint, QPointF, Qt
from pytestqt.qtbot import QtBot
from sqlalchemy import select

from int_desk.app.admissions_import_dialog import AdmissionsImportDialog
from int_desk.app.main import make_context
from int_desk.app.main_window import MainWindow
from int_desk.app.scorecard_page import ScorecardPage
from int_desk.domain.scorecard import MEASURES, Breakdown
from int_desk.services import access
from int_desk.store.models import AuditEvent, Patient
from int_desk.store.workspace import Workspace
from tests.conftest import DEMO_TODAY, PASSPHRASE

WAIT = 20_000


def _open(qtbot: QtBot, demo_dir: Path) -> tuple[MainWindow, ScorecardPage]:
    ws = Workspace.open(demo_dir, PASSPHRASE)
    window = MainWindow(make_context(ws))
    qtbot.addWidget(window)
    window.resize(1366, 800)
    window.show()
    page = window.pages["ScorecardPage"]
    assert isinstance(page, ScorecardPage)
    # The demo was built for 20 Nov 2026: show the two years up to then (the page works its
    # scorecard out once its filters have loaded, on first showing, for the dates set here).
    page.from_edit.setDate(QDate(2024, 12, 1))
    page.to_edit.setDate(QDate(DEMO_TODAY.year, DEMO_TODAY.month, DEMO_TODAY.day))
    with qtbot.waitSignal(page.loaded, timeout=WAIT) as loaded:
        window.show_page("ScorecardPage")
    assert loaded.args[0].periods[-1].end == DEMO_TODAY
    return window, page


def test_each_measure_has_a_chart_and_its_table(qtbot: QtBot, demo_dir: Path) -> None:
    window, page = _open(qtbot, demo_dir)
    card = page.card
    assert card is not None and len(card.periods) == 24
    assert [p.measure.key for p in page.panels] == [m.key for m in MEASURES]
    coverage = page.panels[0]
    assert coverage.table.rowCount() == 24
    assert coverage.table.item(23, 0).text() == "Nov 2026 (so far)"
    lay = coverage.chart.chart_layout()
    assert lay is not None and len(lay.points) >= 20
    # The demo's care-plan coverage climbs over two years: a special cause, improving.
    assert coverage.variation_icon.icon is not None
    assert coverage.variation_icon.icon.label == "Special cause: improvement (higher)"
    assert "target 80.0%" in coverage.headline.text()
    # Ordinary variation somewhere too: not every measure is special.
    assert any(p.variation_icon.icon.letter == "~" for p in page.panels)  # type: ignore[union-attr]
    assert "people in the cohort now" in page.status.text()
    window.close()


def test_values_in_tooltips_and_by_keyboard(qtbot: QtBot, demo_dir: Path) -> None:
    window, page = _open(qtbot, demo_dir)
    panel = page.panels[2]  # emergency admissions
    lay = panel.chart.chart_layout()
    assert lay is not None
    last = lay.points[-1]
    tip = panel.chart.tooltip_at(QPointF(last.x + 1, last.y))
    value = panel.table.item(23, 1).text().replace(" ◆", "")
    assert tip.startswith(f"Nov 2026 (so far): {value} per 1,000 per month")
    assert "emergency admissions / " in tip and "person-months in the cohort" in tip
    assert "process limits" in tip
    # The table's rows say the same in their tooltips.
    assert panel.table.item(23, 1).toolTip() == tip
    # Keyboard: focus the chart, End then Left reads the month before.
    panel.chart.setFocus()
    qtbot.keyClick(panel.chart, Qt.Key.Key_End)
    qtbot.keyClick(panel.chart, Qt.Key.Key_Left)
    assert panel.chart.accessibleDescription().startswith("Oct 2026: ")
    assert panel.chart.current == len(lay.points) - 2
    # Pointing outside the plot says nothing.
    assert panel.chart.tooltip_at(QPointF(1, 1)) == ""
    qtbot.mouseMove(panel.chart, QPoint(int(last.x), int(last.y)))
    window.close()


def test_breakdown_by_deprivation_shows_not_known(qtbot: QtBot, demo_dir: Path) -> None:
    window, page = _open(qtbot, demo_dir)
    page.by_combo.setCurrentIndex(page.by_combo.findData(Breakdown.DEPRIVATION.value))
    with qtbot.waitSignal(page.loaded, timeout=WAIT):
        page.refresh_button.click()
    table = page.panels[0].breakdown
    assert table.isVisibleTo(page)
    labels = [table.item(r, 0).text() for r in range(table.rowCount())]
    assert labels[0] == "All" and labels[1] == "1 (most deprived)"
    assert labels[-1] == "Not known"  # people without a decile are kept, not dropped
    page.by_combo.setCurrentIndex(0)
    with qtbot.waitSignal(page.loaded, timeout=WAIT):
        page.refresh_button.click()
    assert not table.isVisibleTo(page)
    window.close()


def test_weekly_periods_and_rebased_limits(qtbot: QtBot, demo_dir: Path) -> None:
    window, page = _open(qtbot, demo_dir)
    page.grain_combo.setCurrentIndex(page.grain_combo.findData("week"))
    page.rebase_check.setChecked(True)
    page.rebase_edit.setDate(QDate(2026, 3, 1))
    with qtbot.waitSignal(page.loaded, timeout=WAIT):
        page.refresh_button.click()
    card = page.card
    assert card is not None and 100 <= len(card.periods) <= 106
    chart = card.measure("emergency_admissions").chart
    assert len(chart.segments) == 2
    assert card.periods[chart.segments[1].start].end >= QDate(2026, 3, 1).toPython()
    window.close()


def test_bad_dates_say_so_inline(qtbot: QtBot, demo_dir: Path) -> None:
    window, page = _open(qtbot, demo_dir)
    page.from_edit.setDate(QDate(2026, 6, 1))
    page.to_edit.setDate(QDate(2026, 1, 1))
    with qtbot.waitSignal(page.failed, timeout=WAIT) as failed:
        page.refresh_button.click()
    assert "before" in failed.args[0] and page.error_label.isVisibleTo(page)
    window.close()


def test_export_pdf_with_vector_charts_and_csv(
    qtbot: QtBot, demo_dir: Path, tmp_path: Path
) -> None:
    window, page = _open(qtbot, demo_dir)
    target = tmp_path / "out" / "scorecard.pdf"
    target.parent.mkdir()
    with qtbot.waitSignal(page.exported, timeout=WAIT):
        page.export_to(target)
    reader = pypdf.PdfReader(target)
    text = " ".join(" ".join(p.extract_text() for p in reader.pages).split())
    assert "INT scorecard" in text and "Bicester INT" in text
    for m in MEASURES:
        assert m.title in text
    assert "Special cause: improvement (higher)" in text
    for pdf_page in reader.pages:
        # Vector charts: drawn with path operators, no embedded pictures anywhere.
        xobjects = pdf_page["/Resources"].get("/XObject") or {}
        assert not any(x.get_object().get("/Subtype") == "/Image" for x in xobjects.values())
    content = reader.pages[0].get_contents().get_data().decode("latin-1")
    assert re.search(r"\d+(\.\d+)? \d+(\.\d+)? m\s+\d+(\.\d+)? \d+(\.\d+)? l", content)
    assert sorted(p.name for p in target.parent.iterdir()) == ["scorecard.pdf"]

    csv_target = tmp_path / "out" / "scorecard.csv"
    with qtbot.waitSignal(page.exported, timeout=WAIT):
        page.export_to(csv_target)
    with csv_target.open(encoding="utf-8-sig", newline="") as fh:
        rows = list(csv.DictReader(fh))
    adm = [r for r in rows if r["measure"] == "emergency_admissions" and r["group"] == "All"]
    assert len(adm) == 25  # 24 months and the total
    assert adm[-1]["period"] == "total" and adm[0]["upper_limit"] != ""
    assert not any("999" in v for r in rows for v in r.values())  # aggregates, no NHS numbers
    with window.ctx.workspace.session() as s:
        details = s.scalars(
            select(AuditEvent.detail).where(AuditEvent.entity_type == "scorecard")
        ).all()
    assert any(d.startswith("export pdf") for d in details)
    assert any(d.startswith("export csv") for d in details)
    window.close()


def test_import_admissions_from_the_page(qtbot: QtBot, demo_dir: Path, tmp_path: Path) -> None:
    window, page = _open(qtbot, demo_dir)
    before = page.card.measure("emergency_admissions").overall.series[-1].numerator  # type: ignore[union-attr]
    with window.ctx.workspace.session() as s:
        actor = window.ctx.actor
        people = s.scalars(
            select(Patient.nhs_number)
            .where(access.visible_patient_filter(actor))
            .order_by(Patient.nhs_number)
            .limit(2)
        ).all()
    path = tmp_path / "admissions.csv"
    path.write_text(
        "NHS number,Admission date,Admission method,Discharge date,Provider\n"
        f"{people[0]},10/11/2026,21,12/11/2026,Oxford University Hospitals\n"
        f"{people[1]},11-Nov-2026,2D,,Oxford University Hospitals\n"
        f"{people[1]},11-Nov-2026,99,,Oxford University Hospitals\n",
        encoding="utf-8",
    )
    page.admissions_button.click()
    dialog = page.findChild(AdmissionsImportDialog)
    assert dialog is not None and dialog.isVisible()
    dialog.load_file(path)
    assert "3 rows" in dialog.file_label.text()
    with qtbot.waitSignal(dialog.previewed, timeout=WAIT):
        dialog.preview_button.click()
    assert dialog.import_button.text() == "Import 2 rows"
    assert dialog.report.item(0, 1).text().startswith("✖ Rejected")
    assert "admission method is not a known code" in dialog.report.item(0, 2).text()
    with qtbot.waitSignals([dialog.imported, page.loaded], timeout=WAIT):
        dialog.import_button.click()
    assert "2 admissions (2 emergency), 1 discharges" in dialog.summary.text()
    after = page.card.measure("emergency_admissions").overall.series[-1].numerator  # type: ignore[union-attr]
    assert after == (before or 0) + 2
    dialog.close()
    window.close()


def test_an_admission_recorded_on_the_record_counts(qtbot: QtBot, demo_dir: Path) -> None:
    window, page = _open(qtbot, demo_dir)
    page.to_edit.setDate(QDate.currentDate())
    with qtbot.waitSignal(page.loaded, timeout=WAIT):
        page.refresh()
    before = page.card.measure("emergency_admissions").overall.series[-1].numerator  # type: ignore[union-attr]
    caseload = window.show_page("CaseloadPage")
    qtbot.waitUntil(lambda: caseload.model.rowCount() > 0, timeout=WAIT)  # type: ignore[attr-defined]
    caseload.table.selectRow(0)  # type: ignore[attr-defined]
    qtbot.waitUntil(lambda: caseload.record is not None, timeout=WAIT)  # type: ignore[attr-defined]
    pane = caseload.pane  # type: ignore[attr-defined]
    qtbot.waitUntil(lambda: pane.buttons["hospital"].isEnabled(), timeout=WAIT)
    pane.buttons["hospital"].click()
    dialog = pane.dialog
    assert dialog is not None and dialog.windowTitle() == "Hospital admission or discharge"
    dialog.set_value("kind", "emergency_admission")
    dialog.widgets["provider"].setText("John Radcliffe Hospital")
    with qtbot.waitSignal(dialog.done, timeout=WAIT):
        dialog.ok.click()
    qtbot.waitUntil(lambda: "Emergency admission" in pane.browser.toPlainText(), timeout=WAIT)
    with qtbot.waitSignal(page.loaded, timeout=WAIT):
        page.refresh()
    after = page.card.measure("emergency_admissions").overall.series[-1].numerator  # type: ignore[union-attr]
    assert after == (before or 0) + 1
    window.close()
