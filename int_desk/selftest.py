"""``int-desk --self-test``: prove an install (source, wheel or frozen bundle) works, headless.

Each check prints one ``PASS``/``FAIL`` line; the exit code is 0 only when all pass. Everything
happens in a throwaway temporary directory with synthetic data; nothing identifiable is written
and the user's own workspaces and settings are not touched.

Checks: an encrypted workspace is created and reopened; its store is unreadable without the key;
a PDF renders with the embedded font; the local sync endpoint starts and answers; Qt starts
offscreen and builds the first-run window with the bundled font and forms.
"""

from __future__ import annotations

import os
import socket
import sqlite3
import sys
import tempfile
import threading
import time
import traceback
from collections.abc import Callable
from pathlib import Path

from int_desk import __version__, paths

SELF_TEST_PASSPHRASE = "self-test passphrase 1"  # synthetic; the workspace is deleted afterwards


def install_kind() -> str:
    if getattr(sys, "frozen", False) or getattr(sys, "_MEIPASS", None):
        return "frozen"
    if (Path(paths.__file__).resolve().parent / "_data").is_dir():
        return "installed"
    return "source"


# --- checks: each returns a one-line detail or raises -----------------------------------------


def check_workspace(tmp: Path) -> str:
    from int_desk.store.models import WorkspaceMeta
    from int_desk.store.workspace import Workspace

    directory = tmp / "workspace"
    started = time.perf_counter()
    with Workspace.create(directory, SELF_TEST_PASSPHRASE, use_keyring=False) as ws:
        workspace_id = ws.workspace_id
    with Workspace.open(directory, SELF_TEST_PASSPHRASE, use_keyring=False) as ws:
        with ws.session() as s:
            stored = s.get(WorkspaceMeta, "workspace_id")
        if stored is None or stored.value != workspace_id:
            raise AssertionError("reopened workspace does not hold its own id")
    return f"created and reopened an encrypted workspace ({time.perf_counter() - started:.1f} s)"


def check_unreadable(tmp: Path) -> str:
    store = tmp / "workspace" / "store.db"
    if store.read_bytes()[:16] == b"SQLite format 3\x00":
        raise AssertionError("store file has a plain SQLite header")
    conn = sqlite3.connect(store)
    try:
        conn.execute("SELECT count(*) FROM sqlite_master").fetchone()
    except sqlite3.DatabaseError:
        pass
    else:
        raise AssertionError("plain SQLite could read the store")
    finally:
        conn.close()

    from int_desk.domain.errors import WrongPassphrase
    from int_desk.store.workspace import Workspace

    try:
        Workspace.open(tmp / "workspace", "not the passphrase at all", use_keyring=False).close()
    except WrongPassphrase:
        return "store unreadable without the key (plain SQLite and a wrong passphrase refused)"
    raise AssertionError("a wrong passphrase opened the workspace")


def _render_pdf_reports() -> bytes | None:
    try:
        from int_desk.reports import pdf_base as pdf
    except ImportError:
        return None
    from datetime import UTC, datetime

    furniture = pdf.PageFurniture(
        title="INT Desk self-test",
        primary="Self-test INT",
        printed_by="INT Desk self-test",
        printed_at=datetime.now(UTC),
        fields=(("Data", "synthetic"),),
    )
    story = [pdf.para("Zoë Ó'Brien-Łukasz: self-test page (synthetic).")]
    return bytes(pdf.render(story, furniture))


def _render_pdf_reportlab() -> bytes:
    import io

    from reportlab.pdfbase import pdfmetrics
    from reportlab.pdfbase.ttfonts import TTFont
    from reportlab.pdfgen.canvas import Canvas

    pdfmetrics.registerFont(TTFont("DejaVuSans", str(paths.font_path("DejaVuSans.ttf"))))
    buffer = io.BytesIO()
    canvas = Canvas(buffer)
    canvas.setFont("DejaVuSans", 12)
    canvas.drawString(72, 720, "Zoë Ó'Brien-Łukasz: self-test page (synthetic).")
    canvas.showPage()
    canvas.save()
    return buffer.getvalue()


def check_pdf(tmp: Path) -> str:
    data = _render_pdf_reports()
    via = "int_desk.reports"
    if data is None:
        data, via = _render_pdf_reportlab(), "reportlab"
    if not data.startswith(b"%PDF-") or b"%%EOF" not in data[-64:]:
        raise AssertionError("output is not a complete PDF")
    if b"DejaVuSans" not in data:
        raise AssertionError("the DejaVu font is not embedded")
    target = tmp / "self-test.pdf"
    target.write_bytes(data)
    return f"rendered a PDF via {via} with DejaVu Sans embedded ({len(data):,} bytes)"


def _free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _dispose_engine(app: object) -> None:
    """Close the endpoint's database (the ASGI app may be wrapped in middleware)."""
    for _ in range(5):
        state = getattr(app, "state", None)
        engine = getattr(state, "engine", None)
        if engine is not None:
            engine.dispose()
            return
        app = getattr(app, "app", None)


def check_endpoint(tmp: Path) -> str:
    import httpx
    import uvicorn

    from int_desk.server.app import create_app

    app = create_app(f"sqlite:///{(tmp / 'server.db').as_posix()}", pool_size=2)
    port = _free_port()
    config = uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning", lifespan="off")
    server = uvicorn.Server(config)
    thread = threading.Thread(target=server.run, name="self-test-endpoint", daemon=True)
    started = time.perf_counter()
    thread.start()
    try:
        deadline = started + 20
        while not server.started:
            if not thread.is_alive() or time.perf_counter() > deadline:
                raise AssertionError("the local endpoint did not start")
            time.sleep(0.02)
        response = httpx.get(f"http://127.0.0.1:{port}/v1/health", timeout=5)
        response.raise_for_status()
        body = response.json()
        if body.get("status") != "ok":
            raise AssertionError(f"unexpected health answer {body!r}")
    finally:
        server.should_exit = True
        thread.join(timeout=10)
        _dispose_engine(app)
    took = time.perf_counter() - started
    return f"local endpoint answered /v1/health on 127.0.0.1:{port} ({took:.1f} s)"


def check_qt(tmp: Path) -> str:
    os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
    from int_desk.app.self_check import qt_check  # Qt only here (layering)

    return qt_check()


CHECKS: tuple[tuple[str, Callable[[Path], str]], ...] = (
    ("workspace", check_workspace),
    ("encryption", check_unreadable),
    ("pdf", check_pdf),
    ("endpoint", check_endpoint),
    ("qt", check_qt),
)


def run(out: Callable[[str], None] | None = None) -> int:
    """Run every check; print PASS/FAIL lines through ``out``; return the exit code."""
    write = out or (lambda line: print(line, flush=True))  # noqa: T201
    started = time.perf_counter()
    write(f"INT Desk {__version__} self-test ({install_kind()}: {paths.bundle_root()})")
    failures = 0
    with tempfile.TemporaryDirectory(
        prefix="int-desk-self-test-", ignore_cleanup_errors=True
    ) as name:
        tmp = Path(name)
        # Keep the user's own settings, logs and keyring out of it.
        previous_home = os.environ.get("INT_DESK_HOME")
        os.environ["INT_DESK_HOME"] = str(tmp / "home")
        try:
            for label, check in CHECKS:
                try:
                    detail = check(tmp)
                except Exception as exc:  # every failure becomes a FAIL line, never a crash
                    failures += 1
                    write(f"FAIL {label}: {type(exc).__name__}: {exc}")
                    if os.environ.get("INT_DESK_SELF_TEST_TRACE"):
                        write(traceback.format_exc())
                else:
                    write(f"PASS {label}: {detail}")
        finally:
            if previous_home is None:
                os.environ.pop("INT_DESK_HOME", None)
            else:
                os.environ["INT_DESK_HOME"] = previous_home
    took = time.perf_counter() - started
    verdict = "PASS" if failures == 0 else "FAIL"
    write(f"{verdict} self-test: {len(CHECKS) - failures}/{len(CHECKS)} checks in {took:.1f} s")
    return 0 if failures == 0 else 1
