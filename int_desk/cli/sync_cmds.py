"""``int-desk connect`` (link a workspace to an endpoint) and ``int-desk sync`` (one cycle)."""

from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path

TOKEN_ENV = "INT_DESK_SYNC_TOKEN"


def register(sub: argparse._SubParsersAction) -> None:
    c = sub.add_parser("connect", help="connect a workspace to a sync endpoint with a token")
    c.add_argument("--workspace", required=True, type=Path)
    c.add_argument("--endpoint", required=True, help="e.g. https://int-sync.example.nhs.uk")
    c.add_argument("--token", help=f"device token (or set {TOKEN_ENV})")
    c.add_argument("--code", help="an invitation code from your administrator, instead of a token")
    c.set_defaults(func=connect)

    s = sub.add_parser("sync", help="sync a workspace with its endpoint once")
    s.add_argument("--workspace", required=True, type=Path)
    s.add_argument("--endpoint", help="connect to this endpoint first")
    s.add_argument("--token", help=f"device token for --endpoint (or set {TOKEN_ENV})")
    s.add_argument("--timeout", type=float, default=30.0, help="seconds per request")
    s.add_argument("--retries", type=int, default=4)
    s.set_defaults(func=sync)


def _token(args: argparse.Namespace) -> str:
    token = args.token or os.environ.get(TOKEN_ENV)
    if not token:
        raise SystemExit(f"int-desk: give --token or set {TOKEN_ENV}")
    return str(token)


def connect(args: argparse.Namespace) -> int:
    from int_desk.cli.common import open_workspace
    from int_desk.sync import credentials

    with open_workspace(args.workspace) as ws:
        if args.code:
            import socket

            from int_desk.services.first_run import redeem_invitation

            info, token = redeem_invitation(args.endpoint, args.code, label=socket.gethostname())
            where = credentials.connect(ws, info.url, token)
        else:
            where = credentials.connect(ws, args.endpoint, _token(args))
    shown = "the OS keyring" if where == "keyring" else "the encrypted workspace store"
    print(f"Connected to {args.endpoint}; the device token is kept in {shown}.")
    return 0


def sync(args: argparse.Namespace) -> int:
    from int_desk.cli.common import open_workspace
    from int_desk.sync import credentials
    from int_desk.sync.client import sync_workspace

    with open_workspace(args.workspace) as ws:
        if args.endpoint:
            credentials.connect(ws, args.endpoint, _token(args))
        result = sync_workspace(ws, timeout=args.timeout, retries=args.retries)
    print(result.summary())
    for note in result.notes:
        print(f"  note: {note}")
    if not result.ok:
        print(f"int-desk: {result.error}", file=sys.stderr)
        return 1
    return 0
