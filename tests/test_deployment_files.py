"""The container image and the compose file an operator starts from: their commands are ones
`int-desk` accepts, both endpoints share the one database, and the TLS proxy spreads requests
over exactly those endpoints and checks them on a readiness route the endpoint has."""

from __future__ import annotations

import json
import re
import shlex
from pathlib import Path

import yaml

from int_desk.cli import build_parser
from int_desk.cli.server_cmds import serve

ROOT = Path(__file__).resolve().parents[1]


def _serve_args(argv: list[str]):  # type: ignore[no-untyped-def]
    args = build_parser().parse_args(argv)
    assert args.func is serve
    return args


def test_the_compose_file_runs_two_endpoints_on_one_database_behind_tls() -> None:
    compose = yaml.safe_load((ROOT / "deploy" / "compose.yaml").read_text())
    services = compose["services"]
    endpoints = sorted(n for n in services if n.startswith("endpoint-"))
    assert endpoints == ["endpoint-1", "endpoint-2"]
    urls = set()
    for name in endpoints:
        svc = services[name]
        args = _serve_args(svc["command"])
        assert args.host == "0.0.0.0" and args.port == 8765
        urls.add(svc["environment"]["INT_DESK_SERVER_DB"])
        assert svc["depends_on"]["db"]["condition"] == "service_healthy"
    (url,) = urls  # one database for both: no sticky sessions needed
    assert re.match(r"postgresql://\w+@db:5432/\w+$", url)  # no password in the URL
    caddy = (ROOT / "deploy" / "Caddyfile").read_text()
    upstreams = re.search(r"reverse_proxy ([^{]+)\{", caddy).group(1).split()
    assert upstreams == [f"{n}:8765" for n in endpoints]
    assert "health_uri /v1/ready" in caddy
    assert "proxy" in services and "443:443" in services["proxy"]["ports"]


def test_the_image_serves_on_the_port_it_exposes_and_checks_readiness() -> None:
    docker = (ROOT / "Dockerfile").read_text()
    cmd = json.loads(re.search(r"^CMD (\[.*\])$", docker, re.M).group(1))
    entry = json.loads(re.search(r"^ENTRYPOINT (\[.*\])$", docker, re.M).group(1))
    assert entry == ["int-desk"]
    args = _serve_args(cmd)
    assert f"EXPOSE {args.port}" in docker
    assert f"127.0.0.1:{args.port}/v1/ready" in docker
    assert "USER intdesk" in docker  # never root
    for line in re.findall(r"^COPY (\S+)", docker, re.M):
        assert (ROOT / shlex.split(line)[0]).exists(), line
