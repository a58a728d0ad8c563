"""Issue 21: fit for a clinician's screen (1366 x 768, light and dark), identity never in doubt."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from PySide6.QtCore import QRect
from PySide6.QtWidgets import QApplication
from pytestqt.qtbot import QtBot

from int_desk.app.accessibility import AA_TEXT, ink_contrast
from int_desk.app.caseload_page import CaseloadPage
from int_desk.app.main import make_context, show_main_window
from int_desk.app.main_window import MainWindow, fits_on_screen
from int_desk.app.settings_dialog import apply_appearance
from int_desk.store.workspace import Workspace
from tests.conftest import PASSPHRASE

WAIT = 15_000


@pytest.fixture(params=["light", "dark"])
def scheme(request: pytest.FixtureRequest, qapp: QApplication) -> Iterator[str]:
    apply_appearance(qapp, request.param)
    yield request.param
    apply_appearance(qapp, "light")


def _open(qtbot: QtBot, directory: Path) -> tuple[MainWindow, CaseloadPage]:
    window = MainWindow(make_context(Workspace.open(directory, PASSPHRASE)))
    qtbot.addWidget(window)
    window.resize(1366, 768)
    window.show()
    page = window.pages["CaseloadPage"]
    qtbot.waitUntil(lambda: page.model.rowCount() > 0, timeout=WAIT)
    return window, page


def test_the_first_window_fits_the_screen_with_its_frame(qtbot: QtBot, demo_ws: Workspace) -> None:
    # 1280 x 760 plus a title bar does not fit 1366 x 768 (less a taskbar): maximised there.
    assert not fits_on_screen(QRect(0, 0, 1366, 768))
    assert not fits_on_screen(QRect(0, 0, 1366, 728))
    assert fits_on_screen(QRect(0, 0, 1920, 1040))
    window = show_main_window(demo_ws)  # no remembered geometry: the first start
    qtbot.addWidget(window)
    available = window.screen().availableGeometry()  # the test screen is smaller still
    assert window.isMaximized() or available.contains(window.frameGeometry())
    window.close()


def test_the_patient_banner_reads_in_light_and_dark(
    qtbot: QtBot, demo_dir: Path, scheme: str
) -> None:
    window, page = _open(qtbot, demo_dir)
    page.table.selectRow(0)
    qtbot.waitUntil(lambda: page.record is not None, timeout=WAIT)
    banner = page.pane.heading
    r = page.record
    text = banner.text()
    assert r.display_name in text and r.nhs_display in text
    assert f"{r.date_of_birth:%d %b %Y}" in text  # name, date of birth and NHS number
    assert ink_contrast(banner.grab().toImage()) >= AA_TEXT, scheme
    window.close()
