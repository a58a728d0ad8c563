"""FHIR in the desktop app: a Bundle imported through the cohort import dialog's own preview
and write, and what the GP was told shown in the person's timeline."""

from __future__ import annotations

import json
from pathlib import Path

from pytestqt.qtbot import QtBot
from sqlalchemy import func, select

from int_desk.services.access import visible_patient_filter
from int_desk.services.identity import current_actor
from int_desk.store.models import Flag, GpNotification, Patient
from tests.test_caseload_window import WAIT, _open, _open_row, _settle

NHS = "https://fhir.nhs.uk/Id/nhs-number"
FLAG = "urn:int-desk:fhir:CodeSystem:flag"


def _patient(number: str, pid: str) -> dict:
    return {
        "resourceType": "Patient", "id": pid,
        "identifier": [{"system": NHS, "value": number}],
        "name": [{"use": "official", "family": "Example", "given": ["Ann"]}],
        "birthDate": "1940-02-01", "gender": "female",
        "address": [{"use": "home", "postalCode": "OX26 1AB"}],
    }  # fmt: skip


def test_a_fhir_bundle_goes_through_the_import_dialogs_preview_and_write(
    qtbot: QtBot, demo_dir: Path, tmp_path: Path
) -> None:
    window, page = _open(qtbot, demo_dir)
    bundle = {
        "resourceType": "Bundle", "type": "collection",
        "entry": [
            {"fullUrl": "urn:uuid:1", "resource": _patient("9994765914", "p1")},
            {"fullUrl": "urn:uuid:2", "resource": {
                "resourceType": "Flag", "status": "active", "subject": {"reference": "Patient/p1"},
                "code": {"coding": [{"system": FLAG, "code": "housebound"}]}}},
            {"fullUrl": "urn:uuid:3", "resource": _patient("9994765913", "p2")},  # Modulus 11
        ],
    }  # fmt: skip
    path = tmp_path / "cohort.json"
    path.write_text(json.dumps(bundle), encoding="utf-8")
    page.import_button.click()
    d = page.import_dialog
    qtbot.waitUntil(lambda: d.cohort_combo.count() > 0, timeout=WAIT)
    d.load_file(path)
    assert "FHIR Bundle" in d.found.text() and not d.mapping_table.isEnabled()
    with qtbot.waitSignal(d.previewed, timeout=WAIT):
        d.preview_button.click()
    report = {
        d.report.item(r, 0).text(): d.report.item(r, 2).text() for r in range(d.report.rowCount())
    }
    assert "nhs number check digit is wrong" in report["3"]
    assert "flags to add: housebound" in report["1"]
    assert d.import_button.text() == "Import 1 valid row (skip 1 rejected)"
    with qtbot.waitSignal(d.imported, timeout=WAIT) as blocker:
        d.import_button.click()
    assert blocker.args[0].created_patients == 1 and blocker.args[0].flags == 1
    with page.ctx.workspace.session() as s:
        pid = s.scalar(select(Patient.id).where(Patient.nhs_number == "9994765914"))
        assert s.scalar(select(func.count()).select_from(Flag).where(Flag.patient_id == pid)) == 1
        assert s.scalar(select(Patient.id).where(Patient.nhs_number == "9994765913")) is None
    d.close()
    window.close()


def test_the_timeline_shows_what_the_gp_was_told_and_when_it_was_read(
    qtbot: QtBot, demo_dir: Path
) -> None:
    window, page = _open(qtbot, demo_dir)
    with page.ctx.workspace.session() as s:
        number = s.scalar(
            select(Patient.nhs_number)
            .join(GpNotification, GpNotification.patient_id == Patient.id)
            .where(GpNotification.read_at.is_not(None))
            .where(visible_patient_filter(current_actor(s)))
            .limit(1)
        )
    page.search.setText(number)
    qtbot.waitUntil(lambda: page.model.rowCount() == 1, timeout=WAIT)
    _settle(qtbot, page)
    _open_row(qtbot, page, 0)
    qtbot.waitUntil(lambda: "GP told:" in page.pane.browser.toPlainText(), timeout=WAIT)
    text = page.pane.browser.toPlainText()
    assert "INT care plan signed off" in text and "read by the practice" in text
    window.close()
