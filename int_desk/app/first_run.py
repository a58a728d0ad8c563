"""First run: create a workspace, try the demo, or connect to a team's endpoint.

    dialog = FirstRunDialog(prefs)
    if dialog.exec():            # Accepted: dialog.workspace is open and ready for make_context
        ...

Pages (ui/first_run.ui): choose -> create (passphrase with strength feedback, confirmation,
keyring offer) | connect (address + device token, certificate check) -> create (passphrase for
this computer's copy) -> initial sync with progress. Slow work (scrypt, migrations, the demo
build, network) runs on the task runner; buttons are disabled while it runs.
"""

from __future__ import annotations

import logging
import socket
import threading
from pathlib import Path
from typing import Any

from PySide6.QtCore import QObject, Qt, Signal
from PySide6.QtWidgets import QDialog, QFileDialog, QWidget

from int_desk import paths
from int_desk.app.forms.first_run import Ui_FirstRunDialog
from int_desk.app.messages import describe
from int_desk.app.tasks import TaskRunner
from int_desk.app.workspace_choice import (  # noqa: F401 - re-exported: tests, callers
    remember_workspace,
    startup_workspace,
)
from int_desk.domain.errors import ValidationError
from int_desk.domain.vocab import Role
from int_desk.services import first_run as setup
from int_desk.services.passphrase_strength import estimate
from int_desk.settings_schema import ENDPOINT_URL, LAST_WORKSPACE, Preferences
from int_desk.store import keys
from int_desk.store.workspace import Workspace, is_workspace

log = logging.getLogger(__name__)

DEMO_PASSPHRASE = "int-desk-demo"  # the demo's published passphrase (synthetic data only)
STRENGTH_COLOURS = ("#d5281b", "#d5281b", "#ffb81c", "#007f3b", "#007f3b")

# Roles offered first (the people the first run is designed for), then the rest A-Z.
_FIRST_ROLES = (Role.CARE_COORDINATOR, Role.DISTRICT_NURSE, Role.CLINICAL_LEAD)


def default_workspace_dir() -> Path:
    base = paths.data_dir() / "workspaces"
    candidate = base / "my-team"
    n = 2
    while candidate.exists() and any(candidate.iterdir()):
        candidate = base / f"my-team-{n}"
        n += 1
    return candidate


class _Progress(QObject):
    """Carries progress from a worker thread to the GUI thread (queued connection)."""

    changed = Signal(int, int, str)


class FirstRunDialog(QDialog):
    """After Accepted, ``workspace`` is open; ``path_taken`` is "create", "demo" or "connect"."""

    CHOOSE, CREATE, CONNECT, SYNC = range(4)

    def __init__(self, prefs: Preferences, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.prefs = prefs
        self.form = Ui_FirstRunDialog()
        self.form.setupUi(self)
        self.workspace: Workspace | None = None
        self.path_taken = ""
        self.endpoint: setup.EndpointInfo | None = None
        self.tasks = TaskRunner(self)
        self._busy = False
        self._syncing = False  # the first download runs on a worker and uses the workspace
        self._cancel_sync: threading.Event | None = None
        self._mode = "create"  # or "connect": the create page then only asks for a passphrase
        self._token = ""  # this computer's device token once the invitation code is exchanged
        self._progress = _Progress(self)
        self._progress.changed.connect(self._on_sync_progress)
        self._setup_widgets()
        self._connect_signals()
        self.show_page(self.CHOOSE)

    # --- set-up -------------------------------------------------------------------------------

    def _setup_widgets(self) -> None:
        f = self.form
        for name in ("welcomeTitle", "createTitle", "connectTitle", "syncTitle"):
            title = getattr(f, name)
            title.setObjectName("dialogTitle")  # styled by resources/style.qss
            title.style().unpolish(title)
            title.style().polish(title)
        for button in (f.connectButton, f.createButton, f.demoButton):
            button.setAutoDefault(False)  # Enter on the welcome page does not pick a path
        for name in ("createErrorLabel", "connectErrorLabel", "syncErrorLabel"):
            label = getattr(f, name)
            label.setObjectName("errorText")
            label.hide()
        roles = list(_FIRST_ROLES) + sorted(
            (r for r in Role if r not in _FIRST_ROLES), key=lambda r: r.label
        )
        for role in roles:
            f.roleCombo.addItem(role.label, role.value)
        f.locationEdit.setText(str(default_workspace_dir()))
        f.strengthBar.setMaximumWidth(160)  # leave the advice room to read on one line
        usable = keys.keyring_usable()
        f.keyringCheck.setEnabled(usable)
        f.keyringCheck.setChecked(usable)
        if not usable:
            f.keyringCheck.setToolTip(
                "No OS keyring is available on this desktop; you will be asked for the "
                "passphrase each time."
            )
        f.endpointEdit.setText(self.prefs.endpoint_url() or "")
        f.syncRetryButton.hide()
        f.finishButton.setEnabled(False)
        f.finishButton.setDefault(True)
        f.createWorkspaceButton.setDefault(True)
        f.connectNextButton.setEnabled(False)
        self._update_passphrase_feedback()

    def _connect_signals(self) -> None:
        f = self.form
        f.demoButton.clicked.connect(self._start_demo)
        f.createButton.clicked.connect(lambda: self._enter_create("create"))
        f.connectButton.clicked.connect(lambda: self.show_page(self.CONNECT))
        f.createBackButton.clicked.connect(self._create_back)
        f.connectBackButton.clicked.connect(lambda: self.show_page(self.CHOOSE))
        f.browseButton.clicked.connect(self._browse)
        for edit in (f.passphraseEdit, f.confirmEdit, f.nameEdit, f.teamEdit, f.locationEdit):
            edit.textChanged.connect(self._update_passphrase_feedback)
        f.createWorkspaceButton.clicked.connect(self._create)
        f.checkButton.clicked.connect(self._check_connection)
        f.endpointEdit.textChanged.connect(self._connection_details_changed)
        f.tokenEdit.textChanged.connect(self._connection_details_changed)
        f.connectNextButton.clicked.connect(lambda: self._enter_create("connect"))
        f.syncRetryButton.clicked.connect(self._start_sync)
        f.finishButton.clicked.connect(self.accept)
        f.syncStopButton.clicked.connect(self._stop_sync)

    # --- navigation ---------------------------------------------------------------------------

    def show_page(self, index: int) -> None:
        self.form.pages.setCurrentIndex(index)
        focus = {
            self.CHOOSE: self.form.connectButton,
            self.CREATE: self.form.nameEdit if self._mode == "create" else self.form.passphraseEdit,
            self.CONNECT: self.form.endpointEdit,
            self.SYNC: self.form.finishButton,
        }[index]
        focus.setFocus(Qt.FocusReason.OtherFocusReason)

    def current_page(self) -> int:
        return self.form.pages.currentIndex()

    def keyPressEvent(self, event: Any) -> None:  # noqa: N802 - Qt override
        """Enter chooses the welcome option that has the focus (Space does too). The options
        are not auto-default, so Enter never picks one the user has not moved to."""
        f = self.form
        focused = self.focusWidget()
        if (
            event.key() in (Qt.Key.Key_Return, Qt.Key.Key_Enter)
            and self.current_page() == self.CHOOSE
            and focused in (f.connectButton, f.createButton, f.demoButton)
            and focused.isEnabled()
        ):
            focused.click()
            return
        super().keyPressEvent(event)

    def _enter_create(self, mode: str) -> None:
        self._mode = mode
        f = self.form
        f.aboutYouGroup.setVisible(mode == "create")
        if mode == "connect":
            f.createTitle.setText("Protect this computer's copy")
            f.createIntro.setText(
                "Your team's records will be kept on this computer, encrypted with a passphrase "
                "you choose now. You will need it to unlock INT Desk."
            )
            f.createWorkspaceButton.setText("&Connect and download")
        else:
            f.createTitle.setText("Create your workspace")
            f.createIntro.setText(
                "Tell INT Desk who you are and choose a passphrase. The passphrase encrypts "
                "everything stored on this computer."
            )
            f.createWorkspaceButton.setText("&Create workspace")
        f.createErrorLabel.hide()
        self._update_passphrase_feedback()
        self.show_page(self.CREATE)

    def _create_back(self) -> None:
        self.show_page(self.CONNECT if self._mode == "connect" else self.CHOOSE)

    def _browse(self) -> None:
        chosen = QFileDialog.getExistingDirectory(
            self, "Choose a folder for the workspace", self.form.locationEdit.text()
        )
        if chosen:
            self.form.locationEdit.setText(str(Path(chosen) / "int-desk-workspace"))

    def _set_busy(self, busy: bool, message: str = "") -> None:
        self._busy = busy
        f = self.form
        for button in (
            f.demoButton,
            f.createButton,
            f.connectButton,
            f.createBackButton,
            f.connectBackButton,
            f.checkButton,
        ):
            button.setEnabled(not busy)
        self.setCursor(Qt.CursorShape.BusyCursor if busy else Qt.CursorShape.ArrowCursor)
        if message:
            f.privacyNote.setText(message)
        self._update_passphrase_feedback()

    # --- passphrase feedback ------------------------------------------------------------------

    def _update_passphrase_feedback(self) -> None:
        f = self.form
        text = f.passphraseEdit.text()
        strength = estimate(text)
        f.strengthBar.setValue(strength.score)
        colour = STRENGTH_COLOURS[strength.score]
        f.strengthBar.setStyleSheet(f"QProgressBar::chunk {{ background: {colour}; }}")
        if text:
            f.strengthLabel.setText(f"<b>{strength.label}</b>. {strength.advice}")
        else:
            f.strengthLabel.setText("")
        confirm = f.confirmEdit.text()
        matches = bool(text) and confirm == text
        if not confirm:
            f.matchLabel.setText("")
        elif matches:
            f.matchLabel.setText("✓ The passphrases match.")
        else:
            f.matchLabel.setText("The passphrases do not match yet.")
        f.matchLabel.setObjectName("" if matches or not confirm else "warningText")
        f.matchLabel.style().unpolish(f.matchLabel)
        f.matchLabel.style().polish(f.matchLabel)
        ok = strength.acceptable and matches and bool(f.locationEdit.text().strip())
        if self._mode == "create":
            ok = ok and bool(f.nameEdit.text().strip()) and bool(f.teamEdit.text().strip())
        f.createWorkspaceButton.setEnabled(ok and not self._busy)

    # --- path 1: the demo ---------------------------------------------------------------------

    def _start_demo(self) -> None:
        directory = paths.default_workspace()
        self._set_busy(True, "Preparing the demo workspace (synthetic data)...")

        def work() -> Workspace:
            if not is_workspace(directory):
                from int_desk.services.demo import build_demo

                with Workspace.create(directory, DEMO_PASSPHRASE, use_keyring=False) as ws:
                    with ws.session() as s:
                        build_demo(s)
            return Workspace.open(directory, DEMO_PASSPHRASE, use_keyring=False)

        self.tasks.run(work, lambda ws: self._finish(ws, "demo"), self._demo_failed)

    def _demo_failed(self, exc: BaseException) -> None:
        self._set_busy(False)
        self.form.privacyNote.setText(f"The demo could not be opened: {describe(exc)}")

    # --- path 2: a new workspace --------------------------------------------------------------

    def _create(self) -> None:
        f = self.form
        if not f.createWorkspaceButton.isEnabled():
            return
        directory = Path(f.locationEdit.text().strip()).expanduser()
        passphrase = f.passphraseEdit.text()
        remember = f.keyringCheck.isChecked()
        if is_workspace(directory) or (directory.exists() and any(directory.iterdir())):
            self._show_create_error(
                "That folder is not empty. Choose a new folder for the workspace."
            )
            return
        f.createErrorLabel.hide()
        if self._mode == "connect":
            assert self.endpoint is not None
            endpoint, code = self.endpoint, f.tokenEdit.text().strip()
            self._set_busy(True)

            def join() -> Workspace:
                if setup.looks_like_token(code):
                    self._token = code
                else:  # one-time: exchanged for this computer's own device token
                    self.endpoint, self._token = setup.redeem_invitation(
                        endpoint.url, code, label=socket.gethostname()[:120]
                    )
                return setup.create_workspace_for_endpoint(
                    directory, passphrase, self.endpoint, remember=remember
                )

            self.tasks.run(join, self._created_for_endpoint, self._create_failed)
            return
        name, team = f.nameEdit.text(), f.teamEdit.text()
        role, neighbourhood = f.roleCombo.currentData(), f.neighbourhoodEdit.text()
        self._set_busy(True)
        self.tasks.run(
            lambda: setup.create_local_workspace(
                directory,
                passphrase,
                member_name=name,
                role=role,
                team_name=team,
                neighbourhood=neighbourhood,
                remember=remember,
            ),
            lambda ws: self._finish(ws, "create"),
            self._create_failed,
        )

    def _show_create_error(self, message: str) -> None:
        self.form.createErrorLabel.setText(message)
        self.form.createErrorLabel.show()

    def _create_failed(self, exc: BaseException) -> None:
        self._set_busy(False)
        if self._mode == "connect" and isinstance(exc, ValidationError) and exc.field == "code":
            # A wrong, used or expired code: back to where it is typed, nothing was created.
            self.show_page(self.CONNECT)
            self._check_failed(exc)
            return
        self._show_create_error(describe(exc))

    # --- path 3: connect to a team ------------------------------------------------------------

    def _connection_details_changed(self) -> None:
        self.endpoint = None
        self.form.connectNextButton.setEnabled(False)
        self.form.certLabel.setText("")
        self.form.connectStatusLabel.setText("")
        self.form.connectErrorLabel.hide()

    def _check_connection(self) -> None:
        f = self.form
        url, code = f.endpointEdit.text(), f.tokenEdit.text()
        f.connectErrorLabel.hide()
        if not setup.looks_like_token(code):
            problem = _code_problem(code)
            if problem:
                self._check_failed(ValidationError(problem, "code"))
                return
        f.connectStatusLabel.setText("Checking the connection...")
        self._set_busy(True)
        if setup.looks_like_token(code):  # a token handed out by hand (older set-ups)
            check = lambda: setup.probe_endpoint(url, code)  # noqa: E731
        else:  # the code is spent only when you connect, after choosing a passphrase
            check = lambda: setup.probe_address(url)  # noqa: E731
        self.tasks.run_network(check, self._checked, self._check_failed)

    def _checked(self, info: setup.EndpointInfo) -> None:
        self._set_busy(False)
        f = self.form
        self.endpoint = info
        if info.certificate is not None:
            f.certLabel.setText("🔒 " + info.certificate.describe())
        else:
            f.certLabel.setText(
                "This endpoint is on this computer (http://localhost): no certificate to check."
            )
        teams = len(info.teams)
        if info.user:
            f.connectStatusLabel.setText(
                f"Connected as <b>{info.user}</b> ({teams} team{'s' if teams != 1 else ''}). "
                + " ".join(info.notes)
            )
        else:
            f.connectStatusLabel.setText(
                "Your team's endpoint answered. Next, choose a passphrase for this computer; "
                "the invitation code is used when you connect."
            )
        f.connectNextButton.setEnabled(True)
        f.connectNextButton.setDefault(True)
        self.prefs.set(ENDPOINT_URL, info.url)

    def _check_failed(self, exc: BaseException) -> None:
        self._set_busy(False)
        f = self.form
        f.connectStatusLabel.setText("")
        f.connectErrorLabel.setText(describe(exc))
        f.connectErrorLabel.show()

    def _created_for_endpoint(self, ws: Workspace) -> None:
        self._set_busy(False)
        self.workspace = ws
        self.show_page(self.SYNC)
        self._start_sync()

    def _start_sync(self) -> None:
        f = self.form
        assert self.workspace is not None and self.endpoint is not None
        f.syncErrorLabel.hide()
        f.syncRetryButton.hide()
        f.syncStopButton.hide()
        f.finishButton.setEnabled(False)
        if not setup.sync_engine_available():
            f.syncProgress.setRange(0, 1)
            f.syncProgress.setValue(0)
            f.syncStatusLabel.setText(
                "This build of INT Desk cannot download records yet (no sync engine). Your "
                "encrypted workspace is ready and the endpoint address is saved in Settings."
            )
            f.finishButton.setEnabled(True)
            return
        ws, endpoint, token = self.workspace, self.endpoint, self._token
        progress = self._progress.changed.emit
        f.syncProgress.setRange(0, 0)  # busy until the first count arrives
        self._syncing = True
        cancel = self._cancel_sync = threading.Event()
        f.syncStopButton.setEnabled(True)
        f.syncStopButton.show()
        self.tasks.run(
            lambda: setup.initial_sync(ws, endpoint, token, progress, cancel),
            self._synced,
            self._sync_failed,
        )

    def _on_sync_progress(self, done: int, total: int, message: str) -> None:
        bar = self.form.syncProgress
        if total > 0:
            bar.setRange(0, total)
            bar.setValue(min(done, total))
        if message:
            self.form.syncStatusLabel.setText(message)

    def _stop_sync(self) -> None:
        """Stop the first download between pages; what has arrived stays, Retry continues."""
        if self._syncing and self._cancel_sync is not None:
            self._cancel_sync.set()
            self.form.syncStopButton.setEnabled(False)
            self.form.syncStatusLabel.setText("Stopping after the part being received...")

    def _synced(self, summary: Any) -> None:
        self._syncing = False
        f = self.form
        f.syncStopButton.hide()
        f.syncProgress.setRange(0, 1)
        f.syncProgress.setValue(1)
        f.syncTitle.setText("Your team's records are on this computer")
        f.syncIntro.setText(
            "They stay encrypted here and you can work offline; INT Desk exchanges changes with "
            "your team whenever it can reach the endpoint."
        )
        f.syncStatusLabel.setText(str(summary))
        f.finishButton.setEnabled(True)
        f.finishButton.setDefault(True)
        f.finishButton.setFocus(Qt.FocusReason.OtherFocusReason)
        self.path_taken = "connect"

    def _sync_failed(self, exc: BaseException) -> None:
        self._syncing = False
        f = self.form
        f.syncStopButton.hide()
        f.syncProgress.setRange(0, 1)
        f.syncProgress.setValue(0)
        if self._cancel_sync is not None and self._cancel_sync.is_set():
            f.syncErrorLabel.setText(
                "Download stopped. What has arrived is kept on this computer; "
                "Retry continues from there."
            )
        else:
            f.syncErrorLabel.setText(
                f"The download stopped: {describe(exc)} Your workspace is safe; try again."
            )
        f.syncErrorLabel.show()
        f.syncRetryButton.show()

    # --- finishing ----------------------------------------------------------------------------

    def _finish(self, ws: Workspace, path_taken: str) -> None:
        self._set_busy(False)
        self.workspace = ws
        self.path_taken = path_taken
        self.accept()

    def accept(self) -> None:
        if self.workspace is not None:
            self.prefs.store.setValue(LAST_WORKSPACE, str(self.workspace.directory))
            if not self.path_taken:
                self.path_taken = self._mode
        super().accept()

    def reject(self) -> None:
        if self._busy or self._syncing:
            # Let the running step finish: it cannot be interrupted half-way safely, and closing
            # the workspace under the download would break it. Say so instead of ignoring Esc.
            if self._syncing:
                self.form.syncStatusLabel.setText(
                    "Please wait for the download to finish, or choose Stop download "
                    "(what has arrived is kept)."
                )
            return
        if self.workspace is not None:
            self.workspace.close()
            self.workspace = None
        super().reject()

    def done(self, result: int) -> None:
        self.tasks.wait()
        super().done(result)


# --- start-up flow (used by main.run_app) -------------------------------------------------------


def run_first_run(prefs: Preferences) -> Workspace | None:
    """Show the first-run dialog; the open workspace, or None if the user closed it."""
    dialog = FirstRunDialog(prefs)
    if dialog.exec() and dialog.workspace is not None:
        return dialog.workspace
    return None


def _code_problem(code: str) -> str:
    """What is wrong with a typed invitation code before asking the endpoint ("" if nothing)."""
    text = "".join(c for c in code if c.isalnum())
    if not text:
        return "Enter the invitation code your administrator gave you."
    if len(text) != 12:
        return "An invitation code is 12 letters and digits, like K7Q4-M9XH-2PDA."
    return ""
