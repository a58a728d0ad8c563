"""``int-desk init``, ``int-desk passwd`` and ``int-desk info``."""

from __future__ import annotations

import argparse
import getpass
import sys
from pathlib import Path

from sqlalchemy import func, select

from int_desk.cli.common import add_workspace_arg, new_passphrase, open_workspace
from int_desk.store import keys, migrate
from int_desk.store.models import Patient, Team
from int_desk.store.workspace import Workspace


def register(sub: argparse._SubParsersAction) -> None:  # type: ignore[type-arg]
    p = sub.add_parser("init", help="create a new, empty encrypted workspace")
    p.add_argument("--workspace", required=True, type=Path)
    p.add_argument("--no-keyring", action="store_true")
    p.set_defaults(func=run_init)

    p = sub.add_parser("passwd", help="change a workspace's passphrase (store not re-encrypted)")
    add_workspace_arg(p)
    p.set_defaults(func=run_passwd)

    p = sub.add_parser("info", help="show a workspace's version, key storage and size")
    add_workspace_arg(p)
    p.set_defaults(func=run_info)


def run_init(args: argparse.Namespace) -> int:
    with Workspace.create(args.workspace, new_passphrase(), use_keyring=not args.no_keyring) as ws:
        where = "OS keyring and passphrase" if ws.key_file.keyring_backend else "passphrase only"
        print(f"Created workspace {ws.workspace_id} in {args.workspace} (key: {where}).")
    return 0


def run_passwd(args: argparse.Namespace) -> int:
    if not sys.stdin.isatty():
        print("int-desk: passwd needs a terminal.", file=sys.stderr)
        return 2
    old = getpass.getpass("Current passphrase: ")
    with Workspace.open(args.workspace, old, use_keyring=False) as ws:
        ws.change_passphrase(old, new_passphrase())
    print("Passphrase changed.")
    return 0


def run_info(args: argparse.Namespace) -> int:
    with open_workspace(args.workspace) as ws:
        assert ws.engine is not None
        with ws.engine.connect() as conn:
            revision = migrate.current_revision(conn)
        with ws.session() as s:
            patients = s.scalar(select(func.count()).select_from(Patient))
            teams = s.scalar(select(func.count()).select_from(Team))
        print(f"Workspace {ws.workspace_id}")
        print(f"  schema revision: {revision}")
        print(f"  key in OS keyring: {ws.key_file.keyring_backend or 'no'}")
        print(f"  current keyring backend: {keys.backend_name()}")
        print(f"  unlocked with: {ws.unlocked_with}")
        print(f"  teams: {teams}, patients: {patients}")
    return 0
