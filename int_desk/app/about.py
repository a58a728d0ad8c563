"""Help > About INT Desk (F1): version, platform and the licences of bundled components."""

from __future__ import annotations

import platform
import sys
from importlib import metadata

from PySide6 import __version__ as pyside_version
from PySide6.QtCore import Qt, qVersion
from PySide6.QtGui import QGuiApplication
from PySide6.QtWidgets import (
    QAbstractItemView,
    QDialog,
    QDialogButtonBox,
    QHeaderView,
    QLabel,
    QPushButton,
    QTableWidget,
    QTableWidgetItem,
    QVBoxLayout,
    QWidget,
)

from int_desk import __version__

# (component, distribution for the version, licence). Declared here once; docs/packaging.md
# lists the same set for release notes.
COMPONENTS: tuple[tuple[str, str | None, str], ...] = (
    ("Qt 6 / Qt for Python (PySide6-Essentials)", "PySide6-Essentials", "LGPL-3.0"),
    ("SQLCipher (via sqlcipher3)", "sqlcipher3", "BSD-3-Clause (SQLCipher), zlib (sqlcipher3)"),
    ("OpenSSL (inside sqlcipher3 and Python)", None, "Apache-2.0"),
    ("SQLAlchemy", "SQLAlchemy", "MIT"),
    ("Alembic", "alembic", "MIT"),
    ("sqlite-utils", "sqlite-utils", "Apache-2.0"),
    ("ReportLab", "reportlab", "BSD-3-Clause"),
    ("keyring", "keyring", "MIT"),
    ("cryptography", "cryptography", "Apache-2.0 or BSD-3-Clause"),
    ("platformdirs", "platformdirs", "MIT"),
    ("HTTPX", "httpx", "BSD-3-Clause"),
    ("Pydantic", "pydantic", "MIT"),
    ("FastAPI", "fastapi", "MIT"),
    ("Uvicorn", "uvicorn", "BSD-3-Clause"),
    ("psycopg", "psycopg", "LGPL-3.0"),
    ("DejaVu fonts", None, "Bitstream Vera licence (free, see resources/fonts)"),
    ("Python", None, "PSF-2.0"),
    ("PyInstaller bootloader (packaged builds)", None, "GPL-2.0 with bootloader exception"),
)


def component_version(dist: str | None) -> str:
    if dist is None:
        return ""
    try:
        return metadata.version(dist)
    except metadata.PackageNotFoundError:
        return "bundled"


def version_text() -> str:
    frozen = " (packaged)" if getattr(sys, "frozen", False) else ""
    return (
        f"INT Desk {__version__}{frozen}\nQt {qVersion()}, PySide6 {pyside_version}, "
        f"Python {platform.python_version()}\n{platform.system()} {platform.release()} "
        f"({platform.machine()})"
    )


class AboutDialog(QDialog):
    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setWindowTitle("About INT Desk")
        self.resize(620, 560)
        layout = QVBoxLayout(self)
        title = QLabel(f"INT Desk {__version__}")
        title.setObjectName("dialogTitle")
        layout.addWidget(title)
        blurb = QLabel(
            "Caseload, shared care plans and huddles for NHS Integrated Neighbourhood Teams: "
            "offline-first, encrypted on this computer, synced with your team's endpoint.<br>"
            "Open source under the MIT licence. INT Desk is not a medical device; clinical "
            "decisions remain with the clinician."
        )
        blurb.setWordWrap(True)
        layout.addWidget(blurb)
        self.version_label = QLabel(version_text().replace("\n", "<br>"))
        self.version_label.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.version_label.setAccessibleName("Version details")
        layout.addWidget(self.version_label)
        layout.addWidget(QLabel("<b>Bundled components and their licences</b>"))
        self.table = QTableWidget(len(COMPONENTS), 3, self)
        self.table.setAccessibleName("Bundled components and licences")
        self.table.setTabKeyNavigation(False)  # Tab leaves the table; arrows move in it
        self.table.setHorizontalHeaderLabels(["Component", "Version", "Licence"])
        self.table.verticalHeader().hide()
        self.table.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        self.table.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        for row, (name, dist, licence) in enumerate(COMPONENTS):
            for col, text in enumerate((name, component_version(dist), licence)):
                self.table.setItem(row, col, QTableWidgetItem(text))
        header = self.table.horizontalHeader()
        header.setSectionResizeMode(0, QHeaderView.ResizeMode.ResizeToContents)
        header.setSectionResizeMode(1, QHeaderView.ResizeMode.ResizeToContents)
        header.setSectionResizeMode(2, QHeaderView.ResizeMode.Stretch)
        layout.addWidget(self.table, 1)
        lgpl = QLabel(
            "Qt and psycopg are used under the LGPL-3.0: they are separate, replaceable "
            "libraries in the installed folder. Source for every component is available from "
            "its project."
        )
        lgpl.setWordWrap(True)
        layout.addWidget(lgpl)
        buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Close)
        self.copy_button = QPushButton("&Copy version details")
        self.copy_button.setAutoDefault(False)
        buttons.addButton(self.copy_button, QDialogButtonBox.ButtonRole.ActionRole)
        self.copy_button.clicked.connect(
            lambda: QGuiApplication.clipboard().setText(version_text())
        )
        buttons.rejected.connect(self.reject)
        layout.addWidget(buttons)


def show_about(parent: QWidget | None = None) -> None:
    AboutDialog(parent).exec()
