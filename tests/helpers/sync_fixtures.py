"""pytest fixtures for sync tests (loaded from tests/conftest.py via ``pytest_plugins``).

``endpoint`` runs on SQLite and, marked ``postgres``, on a throwaway PostgreSQL cluster; the
demo's teams are seeded once per backend into a template that each test copies.
"""

from __future__ import annotations

import shutil
from collections.abc import Iterator
from pathlib import Path

import pytest

from int_desk.store.workspace import Workspace
from tests.helpers import sync_env


@pytest.fixture(scope="session")
def pg_cluster() -> Iterator[sync_env.PgCluster]:
    cluster = sync_env.start_pg_or_skip()
    yield cluster
    cluster.stop()


@pytest.fixture(scope="session")
def _seeded_templates(
    demo_template: Path, tmp_path_factory: pytest.TempPathFactory
) -> dict[str, sync_env.Endpoint]:
    return {}


def _template(request: pytest.FixtureRequest, backend: str) -> sync_env.Endpoint:
    from tests.conftest import PASSPHRASE

    cache: dict[str, sync_env.Endpoint] = request.getfixturevalue("_seeded_templates")
    if backend not in cache:
        if backend == "sqlite":
            path = request.getfixturevalue("tmp_path_factory").mktemp("srv-template") / "srv.db"
            url = f"sqlite:///{path}"
        else:
            url = request.getfixturevalue("pg_cluster").new_database()
        tpl = sync_env.Endpoint(url="", db_url=url)
        ws = Workspace.open(request.getfixturevalue("demo_template"), PASSPHRASE, use_keyring=False)
        try:
            sync_env.seed_demo(tpl, ws)
        finally:
            ws.close()
        cache[backend] = tpl
    return cache[backend]


def _copy(request: pytest.FixtureRequest, backend: str, tmp_path: Path) -> sync_env.Endpoint:
    tpl = _template(request, backend)
    if backend == "sqlite":
        path = tmp_path / "srv.db"
        shutil.copy(tpl.db_url.removeprefix("sqlite:///"), path)
        url = f"sqlite:///{path}"
    else:
        import psycopg

        cluster: sync_env.PgCluster = request.getfixturevalue("pg_cluster")
        url = cluster.new_database()
        name = url.rsplit("/", 1)[1]
        with psycopg.connect(
            f"host=127.0.0.1 port={cluster.port} user=postgres dbname=postgres", autocommit=True
        ) as conn:
            conn.execute(f'DROP DATABASE "{name}"')
            conn.execute(f'CREATE DATABASE "{name}" TEMPLATE "{tpl.db_url.rsplit("/", 1)[1]}"')
    return sync_env.Endpoint(url="", db_url=url, tokens=dict(tpl.tokens), teams=dict(tpl.teams))


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def backend(request: pytest.FixtureRequest) -> str:
    return str(request.param)


@pytest.fixture
def endpoint(
    request: pytest.FixtureRequest, backend: str, tmp_path: Path
) -> Iterator[sync_env.Endpoint]:
    """A running endpoint (uvicorn subprocess, 127.0.0.1) over a seeded copy, on each backend."""
    ep = _copy(request, backend, tmp_path)
    running = sync_env.start_endpoint(ep.db_url)
    running.tokens, running.teams = ep.tokens, ep.teams
    yield running
    running.stop()


@pytest.fixture
def sqlite_endpoint(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[sync_env.Endpoint]:
    """The same on SQLite only, for client-behaviour tests that do not depend on the backend."""
    ep = _copy(request, "sqlite", tmp_path)
    running = sync_env.start_endpoint(ep.db_url)
    running.tokens, running.teams = ep.tokens, ep.teams
    yield running
    running.stop()


@pytest.fixture
def laptops(tmp_path: Path):  # type: ignore[no-untyped-def]
    """``laptops(ep, user)``: new, empty workspaces connected to ``ep`` as ``user``; closed after."""
    from tests.conftest import PASSPHRASE

    opened: list[Workspace] = []

    def make(ep: sync_env.Endpoint, user: str) -> Workspace:
        ws = sync_env.laptop(tmp_path / f"laptop-{user}-{len(opened)}", ep, user, PASSPHRASE)
        opened.append(ws)
        return ws

    yield make
    for ws in opened:
        ws.close()
