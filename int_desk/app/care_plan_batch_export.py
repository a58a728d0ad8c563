"""Export a cohort's active care plans to a folder with a progress bar and Cancel.

    job = CohortExport(ctx, cohort_id, out_dir, parent=window)
    job.start()          # shows a window-modal progress dialog; the work runs on the store worker

Cancel stops between plans and leaves nothing behind (see ``services.care_plan_export``: files
are staged and only moved into the folder when every plan has rendered). The GUI renders
in-process on the task thread (``workers=1``), so the app process is never forked.
``large_print`` (carer copies): None, the default, makes each person's copy large print when
their record asks for it; True or False for everyone.

Signals: ``finished(object)`` with the BatchResult; ``failed(object)`` with the exception
(``Interrupted`` after Cancel).
"""

from __future__ import annotations

import threading
import uuid
from pathlib import Path

from PySide6.QtCore import QObject, Qt, Signal
from PySide6.QtWidgets import (
    QComboBox,
    QDialog,
    QDialogButtonBox,
    QFileDialog,
    QFormLayout,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QProgressDialog,
    QPushButton,
    QVBoxLayout,
    QWidget,
)

from int_desk.app.context import AppContext
from int_desk.app.dialog_parts import error_label
from int_desk.app.messages import show_error
from int_desk.domain.care_plan import Variant
from int_desk.domain.errors import Interrupted
from int_desk.services import care_plan_export, caseload


class _Relay(QObject):
    """Lives on the GUI thread; emitting from the worker queues the call onto it."""

    progressed = Signal(int, int)


class CohortExport(QObject):
    finished = Signal(object)
    failed = Signal(object)

    def __init__(
        self,
        ctx: AppContext,
        cohort_id: uuid.UUID,
        out_dir: Path,
        *,
        variant: Variant = Variant.PROFESSIONAL,
        large_print: bool | None = None,
        parent: QWidget | None = None,
    ) -> None:
        super().__init__(parent)
        self.ctx = ctx
        self.cohort_id = cohort_id
        self.out_dir = Path(out_dir)
        self.variant = variant
        self.large_print = large_print
        self._cancel = threading.Event()
        self._relay = _Relay(self)
        self._relay.progressed.connect(self._on_progress)
        self.dialog = QProgressDialog("Preparing the care plans…", "Cancel", 0, 0, parent)
        self.dialog.setWindowTitle("Export care plans")
        self.dialog.setWindowModality(Qt.WindowModality.WindowModal)
        self.dialog.setMinimumDuration(0)
        self.dialog.setAutoClose(False)
        self.dialog.setAutoReset(False)
        self.dialog.setAccessibleName("Care plan export progress")
        self.dialog.canceled.connect(self.cancel)
        self.running = False

    def start(self) -> None:
        actor = self.ctx.actor
        cohort_id, out_dir, variant = self.cohort_id, self.out_dir, self.variant
        large_print = self.large_print
        relay, cancelled = self._relay, self._cancel

        def work() -> care_plan_export.BatchResult:
            with self.ctx.workspace.session() as s:
                return care_plan_export.export_cohort(
                    session=s,
                    actor=actor,
                    cohort_id=cohort_id,
                    out_dir=out_dir,
                    variant=variant,
                    progress=relay.progressed.emit,
                    is_cancelled=cancelled.is_set,
                    workers=1,
                    large_print=large_print,
                )

        self.running = True
        self.dialog.show()
        self.ctx.tasks.run(work, self._done, self._failed)

    def cancel(self) -> None:
        if self.running:
            self._cancel.set()
            self.dialog.setLabelText("Cancelling - removing what was written…")

    def _on_progress(self, done: int, total: int) -> None:
        if not self.running:
            return
        self.dialog.setMaximum(max(total, 1))
        self.dialog.setValue(done)
        self.dialog.setLabelText(f"Exporting care plans: {done} of {total}")

    def _done(self, result: care_plan_export.BatchResult) -> None:
        self.running = False
        skipped = (
            f"\n{result.skipped_no_consent} left out: consent to share declined or not recorded."
            if result.skipped_no_consent
            else ""
        )
        self.dialog.setMaximum(1)
        self.dialog.setValue(1)
        large = f" ({result.large_print} in large print)" if result.large_print else ""
        self.dialog.setLabelText(
            f"Wrote {len(result.written)} care plans{large} to {result.out_dir}.{skipped}"
        )
        self.dialog.setCancelButtonText("Close")
        self.dialog.canceled.disconnect(self.cancel)
        self.dialog.canceled.connect(self.dialog.close)
        self.finished.emit(result)

    def _failed(self, exc: BaseException) -> None:
        self.running = False
        if isinstance(exc, Interrupted):
            self.dialog.close()
        else:
            self.dialog.close()
            show_error(self.dialog.parentWidget(), exc)
        self.failed.emit(exc)


LARGE_PRINT_FOR_ALL = "carer-large-print"  # the dialog's third choice of copy


class CohortExportDialog(QDialog):
    """File > Export care plans for a cohort…: which cohort, which copy, which folder, then
    ``CohortExport`` with its progress bar. Signals: ``started(object)`` with the job."""

    started = Signal(object)

    def __init__(self, ctx: AppContext, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.ctx = ctx
        self.job: CohortExport | None = None
        self.setWindowTitle("Export care plans for a cohort")
        self.setAccessibleName("Export care plans for a cohort")
        intro = QLabel(
            "Writes one PDF per person with an active care plan in the cohort. People who "
            "declined to share, or whose consent is not recorded, are left out."
        )
        intro.setWordWrap(True)
        self.cohort = QComboBox()
        self.cohort.setAccessibleName("Cohort")
        self.cohort.addItem("Choose a cohort…", None)
        self.variant = QComboBox()
        self.variant.setAccessibleName("Which copy")
        self.variant.addItem(
            "Professional copy (to share with the care team)", Variant.PROFESSIONAL
        )
        self.variant.addItem(
            "Carer copy (plain language; large print where the person's record asks for it)",
            Variant.CARER.value,
        )
        self.variant.addItem("Carer copy in large print for everyone", LARGE_PRINT_FOR_ALL)
        self.folder = QLineEdit()
        self.folder.setAccessibleName("Folder to write the PDFs to")
        self.folder.setPlaceholderText("Choose a folder…")
        browse = QPushButton("&Browse…")
        browse.setAccessibleName("Choose the folder")
        browse.clicked.connect(self._browse)
        where = QHBoxLayout()
        where.addWidget(self.folder, 1)
        where.addWidget(browse)
        form = QFormLayout()
        for label, widget in (("&Cohort", self.cohort), ("Co&py", self.variant)):
            caption = QLabel(label)
            caption.setBuddy(widget)
            form.addRow(caption, widget)
        folder_label = QLabel("&Folder")
        folder_label.setBuddy(self.folder)
        form.addRow(folder_label, where)
        self.error = error_label()
        self.buttons = QDialogButtonBox(
            QDialogButtonBox.StandardButton.Ok | QDialogButtonBox.StandardButton.Cancel
        )
        self.export_button = self.buttons.button(QDialogButtonBox.StandardButton.Ok)
        self.export_button.setText("&Export")
        self.export_button.setAccessibleName("Export")
        self.buttons.button(QDialogButtonBox.StandardButton.Cancel).setAccessibleName("Cancel")
        self.buttons.accepted.connect(self.export)
        self.buttons.rejected.connect(self.reject)
        layout = QVBoxLayout(self)
        layout.addWidget(intro)
        layout.addLayout(form)
        layout.addWidget(self.error)
        layout.addWidget(self.buttons)
        self.setMinimumWidth(520)
        actor = ctx.actor
        ctx.query(
            lambda s: caseload.filter_choices(session=s, actor=actor).cohorts,
            self._fill,
            lambda exc: show_error(self, exc),
        )

    def _fill(self, cohorts: list[caseload.Choice]) -> None:
        for c in cohorts:
            self.cohort.addItem(c.label, c.id)
        if len(cohorts) == 1:
            self.cohort.setCurrentIndex(1)  # the only cohort: nothing to choose between

    def _browse(self) -> None:
        chosen = QFileDialog.getExistingDirectory(self, "Folder for the care plans")
        if chosen:
            self.folder.setText(chosen)

    def _refuse(self, text: str, widget: QWidget) -> None:
        self.error.setText(text)
        self.error.show()
        widget.setFocus()

    def export(self) -> None:
        cohort = self.cohort.currentData()
        folder = self.folder.text().strip()
        if cohort is None:
            self._refuse("Choose the cohort: it is required.", self.cohort)
            return
        if not folder:
            self._refuse("Choose the folder to write the PDFs to.", self.folder)
            return
        copy = self.variant.currentData()
        large = copy == LARGE_PRINT_FOR_ALL
        self.job = CohortExport(
            self.ctx,
            uuid.UUID(cohort),
            Path(folder),
            variant=Variant.CARER if large else Variant(copy),
            large_print=True if large else None,
            parent=self.parentWidget(),
        )
        self.accept()
        self.job.start()
        self.started.emit(self.job)
