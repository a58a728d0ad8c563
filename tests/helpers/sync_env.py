"""Real sync endpoints for tests: uvicorn subprocesses on 127.0.0.1 over SQLite or a throwaway
PostgreSQL cluster, seeded from the demo workspace, and fresh client workspaces ("laptops")."""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import sys
import tempfile
import threading
import time
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
import pytest
from sqlalchemy import select

from int_desk.server import admin, db
from int_desk.store import models as m
from int_desk.store.workspace import Workspace
from int_desk.sync.seed_source import WorkspaceRows
from int_desk.wire.protocol import PROTOCOL_HEADER, PROTOCOL_VERSION

PG_BIN = Path(os.environ.get("INT_DESK_PG_BIN", "/usr/lib/postgresql/15/bin"))
REQUIRE_PG = "INT_DESK_REQUIRE_POSTGRES"
ROOT = Path(__file__).resolve().parents[2]


# The test being run when it is in the fast tier (not marked "slow"; tests/conftest.py sets it):
# starting an endpoint process or a PostgreSQL cluster there fails, naming the test, so the tier
# stays fast (CONTRIBUTING.md, "Test tiers"). Dynamic fixtures (request.getfixturevalue) escape
# the marking by fixture name; this catches them.
fast_test: str | None = None


def _not_in_the_fast_tier(what: str) -> None:
    if fast_test is not None:
        pytest.fail(
            f"{fast_test} starts {what} but is not marked slow: add its module to SLOW_MODULES "
            "in tests/conftest.py or mark it @pytest.mark.slow",
            pytrace=False,
        )


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def wait_for(condition: Callable[[], Any], timeout: float = 20.0, what: str = "condition") -> Any:
    """Poll until ``condition()`` is truthy (no fixed sleeps); fail with ``what`` on timeout."""
    deadline = time.monotonic() + timeout
    while True:
        value = condition()
        if value:
            return value
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting for {what}")
        time.sleep(0.02)


# --- PostgreSQL -------------------------------------------------------------------------------


class PgCluster:
    """initdb into a temp dir owned by postgres, pg_ctl on a free port, TCP on 127.0.0.1."""

    def __init__(self) -> None:
        self.dir = Path(tempfile.mkdtemp(prefix="int-desk-pg-"))
        self.port = free_port()
        self.as_postgres = os.geteuid() == 0 if hasattr(os, "geteuid") else False
        if self.as_postgres:
            shutil.chown(self.dir, "postgres", "postgres")

    def _run(self, *cmd: str) -> None:
        full = ["runuser", "-u", "postgres", "--", *cmd] if self.as_postgres else list(cmd)
        subprocess.run(full, check=True, capture_output=True, timeout=120)

    def start(self) -> None:
        data = str(self.dir / "data")
        self._run(str(PG_BIN / "initdb"), "-D", data, "-A", "trust", "-U", "postgres")
        self._run(
            str(PG_BIN / "pg_ctl"), "-D", data, "-l", str(self.dir / "log"),
            "-o", f"-p {self.port} -k {self.dir} -c listen_addresses=127.0.0.1 -c max_connections=300 -c fsync=off",
            "-w", "start",
        )  # fmt: skip

    def stop(self) -> None:
        try:
            self._run(
                str(PG_BIN / "pg_ctl"), "-D", str(self.dir / "data"), "-m", "fast", "-w", "stop"
            )
        finally:
            shutil.rmtree(self.dir, ignore_errors=True)

    def postmaster_pid(self) -> int | None:
        """The server's process id (its backends are its children), None if not running."""
        try:
            return int((self.dir / "data" / "postmaster.pid").read_text().split()[0])
        except (OSError, ValueError, IndexError):
            return None

    def new_database(self) -> str:
        import psycopg

        name = f"t_{uuid.uuid4().hex[:12]}"
        with psycopg.connect(
            f"host=127.0.0.1 port={self.port} user=postgres dbname=postgres", autocommit=True
        ) as conn:
            conn.execute(f'CREATE DATABASE "{name}"')
        return f"postgresql+psycopg://postgres@127.0.0.1:{self.port}/{name}"


def pg_available() -> bool:
    return (PG_BIN / "initdb").exists() and (PG_BIN / "pg_ctl").exists()


def start_pg_or_skip() -> PgCluster:
    if not pg_available():
        if os.environ.get(REQUIRE_PG):
            pytest.fail(f"PostgreSQL binaries missing in {PG_BIN} and {REQUIRE_PG} is set")
        pytest.skip(f"PostgreSQL binaries missing in {PG_BIN} (set {REQUIRE_PG} to fail instead)")
    _not_in_the_fast_tier("a PostgreSQL cluster")
    cluster = PgCluster()
    cluster.start()
    return cluster


# --- the endpoint -----------------------------------------------------------------------------


@dataclass
class Endpoint:
    url: str
    db_url: str
    proc: subprocess.Popen[bytes] | None = None
    log_path: Path | None = None
    server: Any = None  # a uvicorn.Server run on a thread of this process (serve_in_process)
    thread: threading.Thread | None = None
    tokens: dict[str, str] = field(default_factory=dict)  # user name -> token
    teams: dict[str, str] = field(default_factory=dict)  # team name -> id

    def session(self) -> Any:
        engine, factory = db.open_db(self.db_url, pool_size=1)
        return _Closing(engine, factory.begin())

    def fault(self, path: str, fault: str, times: int = 1, **extra: Any) -> None:
        r = httpx.post(
            f"{self.url}/_test/faults", json={"path": path, "fault": fault, "times": times, **extra}
        )
        r.raise_for_status()

    def http(self, user: str, **kwargs: Any) -> httpx.Client:
        return httpx.Client(
            base_url=self.url,
            headers={
                "Authorization": f"Bearer {self.tokens[user]}",
                PROTOCOL_HEADER: str(PROTOCOL_VERSION),
            },
            timeout=10,
            **kwargs,
        )

    def stop(self) -> None:
        if self.server is not None and self.thread is not None:
            self.server.should_exit = True
            self.thread.join(10)
            # Its database connections closed now, not whenever the garbage collector frees
            # the app: an open PostgreSQL connection warns then, failing whichever test runs.
            app = self.server.config.app
            while not hasattr(app, "state"):  # (under its ASGI wrappers, each holding ``app``)
                app = app.app
            app.state.engine.dispose()
        if self.proc is not None and self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(3)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()

    def log(self) -> str:
        return self.log_path.read_text(errors="replace")[-4000:] if self.log_path else ""


class _Closing:
    def __init__(self, engine: Any, ctx: Any) -> None:
        self.engine, self.ctx = engine, ctx

    def __enter__(self) -> Any:
        return self.ctx.__enter__()

    def __exit__(self, *exc: Any) -> None:
        try:
            self.ctx.__exit__(*exc)
        finally:
            self.engine.dispose()


def start_endpoint(
    db_url: str,
    *,
    faults: bool = True,
    workers: int = 1,
    port: int | None = None,
    cwd: Path | str = ROOT,
) -> Endpoint:
    """``int-desk serve`` on 127.0.0.1 (on ``port``, e.g. to restart one, else a free one),
    run from ``cwd``: another source tree's ``int_desk`` is imported from there (side-by-side
    comparisons of two versions, tests/benchmarks/ab_sync_cpu.py)."""
    _not_in_the_fast_tier("an endpoint process")
    port = port or free_port()
    env = dict(os.environ)
    if faults:
        env["INT_DESK_SYNC_TEST_FAULTS"] = "1"
    log_path = Path(tempfile.mkdtemp(prefix="int-desk-srv-")) / "server.log"
    with open(log_path, "wb") as log_file:
        proc = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "int_desk",
                "serve",
                "--db",
                db_url,
                "--port",
                str(port),
                "--workers",
                str(workers),
            ],  # fmt: skip
            cwd=cwd,
            env=env,
            stdout=subprocess.DEVNULL,
            stderr=log_file,
        )
    url = f"http://127.0.0.1:{port}"

    def up() -> bool:
        if proc.poll() is not None:
            raise AssertionError(f"server exited: {log_path.read_text()[-2000:]}")
        try:
            return httpx.get(f"{url}/v1/health", timeout=1).status_code == 200
        except httpx.TransportError:
            return False

    try:
        # Only when to give up: on a busy machine a new interpreter importing the endpoint took
        # over 30 s, and the test erred while its endpoint kept running.
        wait_for(up, 120, "the sync endpoint to start")
    except BaseException:
        proc.kill()
        proc.wait(timeout=30)
        raise
    return Endpoint(url, db_url, proc, log_path)


def serve_in_process(
    db_url: str,
    *,
    faults: bool = True,
    port: int | None = None,
    tls: tuple[Path, Path] | None = None,
) -> Endpoint:
    """The same endpoint (``create_app``, real HTTP on 127.0.0.1) served by uvicorn on a thread
    of this process rather than a subprocess: the endpoint's code then runs where a test runner
    such as mutmut can see it (tests/mutation/broad.py), and starting it costs no interpreter.
    ``tls``: (certificate chain, key) files to serve HTTPS with."""
    import uvicorn

    from int_desk.server.app import FAULTS_ENV, create_app
    from int_desk.server.serving import PROTOCOL

    saved = os.environ.get(FAULTS_ENV)
    os.environ[FAULTS_ENV] = "1" if faults else "0"
    try:
        app = create_app(db_url, pool_size=2)
    finally:
        if saved is None:
            os.environ.pop(FAULTS_ENV, None)
        else:
            os.environ[FAULTS_ENV] = saved
    config = uvicorn.Config(
        app, host="127.0.0.1", port=port or free_port(), http=PROTOCOL, log_config=None,
        log_level="warning", lifespan="off",
        **({"ssl_certfile": str(tls[0]), "ssl_keyfile": str(tls[1])} if tls else {}),
    )  # fmt: skip
    server = uvicorn.Server(config)
    thread = threading.Thread(target=server.run, name="int-desk-endpoint", daemon=True)
    thread.start()
    wait_for(lambda: server.started or not thread.is_alive(), 30, "the sync endpoint to start")
    if not server.started:
        raise AssertionError("the in-process sync endpoint did not start")
    scheme = "https" if tls else "http"
    return Endpoint(f"{scheme}://127.0.0.1:{config.port}", db_url, server=server, thread=thread)


def full_download(client: httpx.Client) -> tuple[list[dict[str, Any]], str]:
    """A login's whole first download over the wire: every change, and the cursor it ends with."""
    rows: list[dict[str, Any]] = []
    after = None
    while True:
        body = {"full": True, "limit": 5000, **({"after": after} if after else {})}
        page = client.post("/v1/pull", json=body).json()
        rows += page["changes"]
        if not page["has_more"]:
            return rows, page["cursor"]
        after = page["after"]


def seed_demo(ep: Endpoint, demo_ws: Workspace) -> None:
    """Seed the demo's three teams; users: ``a`` (Bicester care coordinator), ``b`` (Bicester
    district nurse), ``c`` (Reading West care coordinator). The endpoint enforces role
    permissions, so each user is a member with a role that may do what the tests do."""
    with demo_ws.session() as wss:
        teams = {name: tid for tid, name in wss.execute(select(m.Team.id, m.Team.name))}
        by_role = {
            tname: {
                role: mid
                for mid, role in wss.execute(
                    select(m.TeamMembership.member_id, m.Member.role)
                    .join(m.Member, m.Member.id == m.TeamMembership.member_id)
                    .where(m.TeamMembership.team_id == tid)
                    .order_by(m.Member.name.desc())
                )
            }
            for tname, tid in teams.items()
        }
        with ep.session() as s:
            admin.seed_from_workspace(s, WorkspaceRows(wss))
            for user, team, role in (
                ("a", "Bicester INT", "care_coordinator"),
                ("b", "Bicester INT", "district_nurse"),
                ("c", "Reading West INT", "care_coordinator"),
            ):
                admin.add_user(s, user, [team], member_id=by_role[team][role])
                ep.tokens[user] = admin.issue_token(s, user, f"laptop-{user}")[1]
    ep.teams = {n: str(t) for n, t in teams.items()}


def laptop(directory: Path, ep: Endpoint, user: str, passphrase: str) -> Workspace:
    """A new, empty workspace connected to the endpoint as ``user`` (not yet synced)."""
    from int_desk.sync import credentials

    ws = Workspace.create(directory, passphrase, use_keyring=False)
    credentials.connect(ws, ep.url, ep.tokens[user])
    return ws


def engine(ws: Workspace, **kwargs: Any) -> Any:
    from int_desk.sync import credentials
    from int_desk.sync.client import SyncEngine

    conn = credentials.load(ws)
    assert conn is not None
    kwargs.setdefault("backoff", 0.02)
    kwargs.setdefault("timeout", 5)
    return SyncEngine(ws, conn.endpoint, conn.token, **kwargs)


def sync(ws: Workspace, **kwargs: Any) -> Any:
    result = engine(ws, **kwargs).run()
    assert result.ok, result.error
    return result


def iter_close(items: list[Any]) -> Iterator[None]:
    yield
    for item in items:
        item.close()
