"""First run as a new user meets it: try the demo, create a workspace, or connect to a team.

The connect path runs against a real ``int-desk serve`` on 127.0.0.1 seeded by ``int-desk admin``.
"""

from __future__ import annotations

import os
import socket
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from PySide6.QtCore import QDeadlineTimer, Qt
from pytestqt.qtbot import QtBot

from int_desk import paths
from int_desk.app.first_run import FirstRunDialog, startup_workspace
from int_desk.app.main import make_context, settings
from int_desk.services.demo import build_demo
from int_desk.settings_schema import ENDPOINT_URL, Preferences
from int_desk.store.workspace import Workspace, is_workspace
from tests.conftest import PASSPHRASE

STRONG = "kettle harbour violet 42"


@pytest.fixture
def dialog(qtbot: QtBot) -> Iterator[FirstRunDialog]:
    dlg = FirstRunDialog(Preferences(settings()))
    qtbot.addWidget(dlg)
    dlg.show()
    yield dlg
    if dlg.workspace is not None:
        dlg.workspace.close()


def test_no_workspace_means_first_run() -> None:
    assert startup_workspace(Preferences(settings())) is None


def test_demo_path_opens_the_synthetic_demo(qtbot: QtBot, dialog: FirstRunDialog) -> None:
    assert dialog.form.welcomeTitle.text() == "Welcome to INT Desk"
    with qtbot.waitSignal(dialog.accepted, timeout=120_000):
        qtbot.mouseClick(dialog.form.demoButton, Qt.MouseButton.LeftButton)
        assert not dialog.form.createButton.isEnabled()  # busy while the demo is built
    assert dialog.path_taken == "demo"
    ws = dialog.workspace
    assert ws is not None and ws.is_open
    assert ws.directory == paths.default_workspace()
    ctx = make_context(ws)
    assert ctx.actor.role.label == "Care coordinator"
    # next start opens it again instead of the first run
    assert startup_workspace(Preferences(settings())) == paths.default_workspace()


def test_new_workspace_path_with_strength_feedback(
    qtbot: QtBot, dialog: FirstRunDialog, tmp_path: Path
) -> None:
    f = dialog.form
    qtbot.mouseClick(f.createButton, Qt.MouseButton.LeftButton)
    assert dialog.current_page() == FirstRunDialog.CREATE
    assert f.aboutYouGroup.isVisible()
    target = tmp_path / "my-workspace"
    f.locationEdit.setText(str(target))
    qtbot.keyClicks(f.nameEdit, "Sam Carter")
    f.roleCombo.setCurrentIndex(f.roleCombo.findText("District nurse"))
    qtbot.keyClicks(f.teamEdit, "Kidlington INT")
    create = f.createWorkspaceButton

    qtbot.keyClicks(f.passphraseEdit, "short")
    assert "Too short" in f.strengthLabel.text()
    assert f.strengthBar.value() == 0
    assert not create.isEnabled()

    f.passphraseEdit.setText("password123")
    assert "Weak" in f.strengthLabel.text()
    f.passphraseEdit.setText(STRONG)
    assert "Strong" in f.strengthLabel.text() and f.strengthBar.value() == 4
    qtbot.keyClicks(f.confirmEdit, STRONG[:-1] + "x")
    assert "do not match" in f.matchLabel.text()
    assert not create.isEnabled()
    f.confirmEdit.setText(STRONG)
    assert "match" in f.matchLabel.text() and "not" not in f.matchLabel.text()
    assert f.keyringCheck.isEnabled() and f.keyringCheck.isChecked()  # keyring offered
    assert create.isEnabled()

    with qtbot.waitSignal(dialog.accepted, timeout=30_000):
        qtbot.mouseClick(create, Qt.MouseButton.LeftButton)
    assert dialog.path_taken == "create"
    assert is_workspace(target)
    ctx = make_context(dialog.workspace)  # type: ignore[arg-type]
    assert ctx.actor.name == "Sam Carter" and ctx.actor.role.label == "District nurse"
    dialog.workspace.close()  # type: ignore[union-attr]
    dialog.workspace = None
    # the keyring was accepted: it unlocks without the passphrase; the passphrase works too
    Workspace.open(target).close()
    with Workspace.open(target, STRONG, use_keyring=False) as ws:
        assert make_context(ws).actor.name == "Sam Carter"
    assert startup_workspace(Preferences(settings())) == target


def test_new_workspace_refuses_a_folder_in_use(
    qtbot: QtBot, dialog: FirstRunDialog, tmp_path: Path
) -> None:
    f = dialog.form
    qtbot.mouseClick(f.createButton, Qt.MouseButton.LeftButton)
    busy = tmp_path / "busy"
    busy.mkdir()
    (busy / "notes.txt").write_text("someone else's file")
    f.locationEdit.setText(str(busy))
    f.nameEdit.setText("Sam Carter")
    f.teamEdit.setText("Kidlington INT")
    f.passphraseEdit.setText(STRONG)
    f.confirmEdit.setText(STRONG)
    qtbot.mouseClick(f.createWorkspaceButton, Qt.MouseButton.LeftButton)
    assert f.createErrorLabel.isVisible()
    assert "not empty" in f.createErrorLabel.text()
    assert dialog.workspace is None and not is_workspace(busy)


# --- connect to a team's endpoint (real `int-desk serve`) --------------------------------------


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _cli(*args: str, env: dict[str, str], cwd: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "int_desk", *args],
        env=env,
        cwd=cwd,
        capture_output=True,
        text=True,
        timeout=120,
        check=True,
    )


@pytest.fixture
def endpoint(tmp_path: Path) -> Iterator[tuple[str, str]]:
    """A real endpoint on 127.0.0.1 seeded with a small synthetic team; yields (url, token)."""
    source = tmp_path / "team-source"
    with Workspace.create(source, PASSPHRASE, use_keyring=False) as ws, ws.session() as s:
        build_demo(s, patients=20, seed=3)
    env = {**os.environ, "INT_DESK_PASSPHRASE": PASSPHRASE, "INT_DESK_HOME": str(tmp_path / "srv")}
    db = str(tmp_path / "server.db")
    seeded = _cli(
        "admin",
        "--db",
        db,
        "seed-from-workspace",
        "--workspace",
        str(source),
        "--users",
        "--token-for-current-member",
        env=env,
        cwd=tmp_path,
    )
    token = seeded.stdout.strip().splitlines()[-1]
    assert token.startswith("idt_")
    port = _free_port()
    server = subprocess.Popen(
        [sys.executable, "-m", "int_desk", "serve", "--db", db, "--port", str(port)],
        env=env,
        cwd=tmp_path,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    try:
        assert server.stdout is not None
        banner = server.stdout.readline()  # printed once the database is migrated
        assert "sync endpoint" in banner, banner
        url = f"http://127.0.0.1:{port}"
        # uvicorn binds just after the banner: connection retries back off 0.5 s, 1 s, 2 s ...
        with httpx.Client(transport=httpx.HTTPTransport(retries=6), timeout=5) as client:
            assert client.get(url + "/v1/health").status_code == 200
        yield url, token
    finally:
        server.terminate()
        server.wait(timeout=20)
        if server.stdout is not None:
            server.stdout.close()


def test_connect_path_against_a_local_endpoint(
    qtbot: QtBot, dialog: FirstRunDialog, endpoint: tuple[str, str], tmp_path: Path
) -> None:
    url, token = endpoint
    f = dialog.form
    qtbot.mouseClick(f.connectButton, Qt.MouseButton.LeftButton)
    assert dialog.current_page() == FirstRunDialog.CONNECT
    assert not f.connectNextButton.isEnabled()

    # a mistyped address is caught before anything is sent
    qtbot.keyClicks(f.endpointEdit, "int.example.nhs.uk")
    f.tokenEdit.setText(token)
    qtbot.mouseClick(f.checkButton, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(f.connectErrorLabel.isVisible, timeout=10_000)
    assert "https://" in f.connectErrorLabel.text()

    # a wrong token is refused by the endpoint
    f.endpointEdit.setText(url)
    f.tokenEdit.setText("idt_not-a-real-token")
    qtbot.mouseClick(f.checkButton, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(f.connectErrorLabel.isVisible, timeout=10_000)
    assert "did not accept this token" in f.connectErrorLabel.text()
    assert not f.connectNextButton.isEnabled()

    f.tokenEdit.setText(token)
    qtbot.mouseClick(f.checkButton, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(f.connectNextButton.isEnabled, timeout=10_000)
    assert "no certificate to check" in f.certLabel.text()
    assert "Connected as" in f.connectStatusLabel.text()
    assert Preferences(settings()).endpoint_url() == url

    qtbot.mouseClick(f.connectNextButton, Qt.MouseButton.LeftButton)
    assert dialog.current_page() == FirstRunDialog.CREATE
    assert not f.aboutYouGroup.isVisible()  # who you are comes from the team
    target = tmp_path / "team-copy"
    f.locationEdit.setText(str(target))
    f.passphraseEdit.setText(STRONG)
    f.confirmEdit.setText(STRONG)
    assert f.createWorkspaceButton.text().replace("&", "") == "Connect and download"
    qtbot.mouseClick(f.createWorkspaceButton, Qt.MouseButton.LeftButton)

    qtbot.waitUntil(lambda: dialog.current_page() == FirstRunDialog.SYNC, timeout=30_000)
    qtbot.waitUntil(f.finishButton.isEnabled, timeout=60_000)
    assert not f.syncErrorLabel.isVisible(), f.syncErrorLabel.text()
    assert "Downloaded" in f.syncStatusLabel.text()
    assert "signed in as" in f.syncStatusLabel.text()
    assert "on this computer" in f.syncTitle.text()
    assert f.syncProgress.value() == f.syncProgress.maximum()
    with qtbot.waitSignal(dialog.accepted, timeout=5_000):
        qtbot.mouseClick(f.finishButton, Qt.MouseButton.LeftButton)
    assert dialog.path_taken == "connect"
    ctx = make_context(dialog.workspace)  # type: ignore[arg-type]
    with dialog.workspace.session() as s:  # type: ignore[union-attr]
        from sqlalchemy import func, select

        from int_desk.store.models import Patient

        assert s.scalar(select(func.count()).select_from(Patient)) > 0
    assert ctx.actor.name  # the token's team member is signed in
    assert Preferences(settings()).get(ENDPOINT_URL) == url


# --- https: the certificate is checked against the system's trusted authorities ---------------


def _self_signed(tmp: Path) -> tuple[Path, Path]:
    import datetime as dt
    import ipaddress

    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.x509.oid import NameOID

    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "INT Desk test endpoint")])
    now = dt.datetime.now(dt.UTC)
    cert = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - dt.timedelta(minutes=5))
        .not_valid_after(now + dt.timedelta(days=1))
        .add_extension(
            x509.SubjectAlternativeName([x509.IPAddress(ipaddress.ip_address("127.0.0.1"))]),
            critical=False,
        )
        .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
        .sign(key, hashes.SHA256())
    )
    cert_file, key_file = tmp / "endpoint.pem", tmp / "endpoint.key"
    cert_file.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    key_file.write_bytes(
        key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
    )
    return cert_file, key_file


@pytest.fixture
def tls_endpoint(tmp_path: Path) -> Iterator[tuple[str, Path]]:
    """A real `int-desk serve` over https with a self-signed certificate; yields (url, cert)."""
    cert, key = _self_signed(tmp_path)
    port = _free_port()
    env = {**os.environ, "INT_DESK_HOME": str(tmp_path / "srv")}
    server = subprocess.Popen(
        [sys.executable, "-m", "int_desk", "serve", "--db", str(tmp_path / "tls.db")]
        + ["--port", str(port), "--ssl-certfile", str(cert), "--ssl-keyfile", str(key)],
        env=env,
        cwd=tmp_path,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    try:
        assert server.stdout is not None
        assert "sync endpoint" in server.stdout.readline()
        url = f"https://127.0.0.1:{port}"
        transport = httpx.HTTPTransport(retries=6, verify=str(cert))
        with httpx.Client(transport=transport, timeout=5) as client:
            assert client.get(url + "/v1/health").status_code == 200
        yield url, cert
    finally:
        server.terminate()
        server.wait(timeout=20)
        if server.stdout is not None:
            server.stdout.close()


def test_connect_refuses_an_untrusted_certificate(
    qtbot: QtBot, dialog: FirstRunDialog, tls_endpoint: tuple[str, Path]
) -> None:
    url, _cert = tls_endpoint
    f = dialog.form
    qtbot.mouseClick(f.connectButton, Qt.MouseButton.LeftButton)
    f.endpointEdit.setText(url)
    f.tokenEdit.setText("idt_any-token")
    qtbot.mouseClick(f.checkButton, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(f.connectErrorLabel.isVisible, timeout=15_000)
    assert "certificate could not be verified" in f.connectErrorLabel.text()
    assert "Do not continue" in f.connectErrorLabel.text()
    assert not f.connectNextButton.isEnabled()


def test_certificate_check_names_a_trusted_endpoint(tls_endpoint: tuple[str, Path]) -> None:
    from int_desk.services.first_run import check_certificate

    url, cert = tls_endpoint  # trusted here the way an NHS trust's own authority would be
    info = check_certificate(url, cafile=str(cert))
    assert info.subject == "INT Desk test endpoint"
    assert "Certificate verified: issued to INT Desk test endpoint" in info.describe()


# --- later: Settings > Team endpoint connects an existing workspace ------------------------------


def test_settings_endpoint_connects_then_repoints_the_workspace(
    qtbot: QtBot, endpoint: tuple[str, str], tmp_path: Path
) -> None:
    from PySide6.QtWidgets import QDialogButtonBox, QInputDialog

    from int_desk.app.main_window import MainWindow
    from int_desk.app.settings_dialog import SettingsDialog
    from int_desk.services.first_run import create_local_workspace
    from int_desk.sync import credentials

    url, token = endpoint
    ws = create_local_workspace(  # started on its own, connected later
        tmp_path / "standalone",
        STRONG,
        member_name="Sam Carter",
        role="district_nurse",
        team_name="Kidlington pilot",
    )
    window = MainWindow(make_context(ws))
    qtbot.addWidget(window)
    window.show()
    assert credentials.get_state(ws, credentials.ENDPOINT) is None

    def save_endpoint(address: str) -> None:
        window.settings_action.trigger()
        dialog = window.findChild(SettingsDialog)
        assert dialog is not None
        dialog.editors[ENDPOINT_URL].setText(address)  # type: ignore[attr-defined]
        ok = dialog.form.buttonBox.button(QDialogButtonBox.StandardButton.Ok)
        qtbot.mouseClick(ok, Qt.MouseButton.LeftButton)

    save_endpoint(url)
    prompt = window.findChild(QInputDialog, "deviceTokenPrompt")
    assert prompt is not None and prompt.isVisible()
    prompt.setTextValue(token)
    prompt.accept()
    qtbot.waitUntil(lambda: credentials.get_state(ws, credentials.ENDPOINT) == url, timeout=15_000)
    qtbot.waitUntil(lambda: window.sync.state == "up to date", timeout=30_000)

    moved = url.replace("127.0.0.1", "localhost")  # the endpoint moved; the token still works
    save_endpoint(moved)
    qtbot.waitUntil(
        lambda: credentials.get_state(ws, credentials.ENDPOINT) == moved, timeout=15_000
    )
    assert credentials.load(ws).token == token  # type: ignore[union-attr]
    window.close()


# --- the real start-up: `int-desk` with no workspace ------------------------------------------


def test_int_desk_without_a_workspace_starts_with_first_run(qtbot: QtBot, qapp: Any) -> None:
    """run_app as `int-desk` runs it: first run, 'Try the demo', then the main window."""
    from PySide6.QtCore import QTimer

    from int_desk.app.main import run_app
    from int_desk.app.main_window import MainWindow

    seen: dict[str, Any] = {}

    def top(kind: type) -> Any:
        return next(
            (w for w in qapp.topLevelWidgets() if isinstance(w, kind) and w.isVisible()), None
        )

    def drive() -> None:
        dialog = top(FirstRunDialog)
        window = top(MainWindow)
        if dialog is not None and "first_run" not in seen:
            seen["first_run"] = dialog.form.welcomeTitle.text()
            dialog.form.demoButton.click()
        elif window is not None:
            seen["window"] = window.identity_label.text()
            window.close()  # the last window: run_app's event loop ends
            return
        if not deadline.hasExpired():  # else it would go on driving later tests' windows
            QTimer.singleShot(50, drive)

    deadline = QDeadlineTimer(120_000)
    QTimer.singleShot(0, drive)
    QTimer.singleShot(120_000, qapp.quit)  # never hang the suite
    import threading

    hooks = (sys.excepthook, threading.excepthook)  # run_app installs the crash handler
    try:
        assert run_app() == 0
    finally:
        sys.excepthook, threading.excepthook = hooks
    assert seen.get("first_run") == "Welcome to INT Desk"
    assert "Care coordinator" in seen.get("window", "")
    assert startup_workspace(Preferences(settings())) == paths.default_workspace()
