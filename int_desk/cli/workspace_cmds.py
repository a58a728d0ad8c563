"""``int-desk init``, ``int-desk passwd`` and ``int-desk info``."""

from __future__ import annotations

import argparse
import getpass
import sys
from pathlib import Path

from sqlalchemy import func, select

from int_desk.cli.common import add_workspace_arg, new_passphrase, open_workspace
from int_desk.domain import reference as ref
from int_desk.domain.errors import ValidationError
from int_desk.domain.vocab import OrganisationKind, Role
from int_desk.services import team_setup
from int_desk.store import keys, migrate
from int_desk.store.models import Patient
from int_desk.store.sync_tables import SyncState
from int_desk.store.workspace import Workspace


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser(
        "init",
        help="create a standalone workspace for your team, with you signed in",
        description="Create a new encrypted workspace for one team on this computer. Give "
        "--name, --role and --team for scripts; on a terminal, whatever is left out is asked. "
        "To join a team that already has an endpoint, use 'int-desk join' instead.",
    )
    p.add_argument("--workspace", required=True, type=Path)
    p.add_argument("--name", help="your name as your team knows it")
    p.add_argument("--role", help="your role, e.g. care_coordinator or 'District nurse'")
    p.add_argument("--team", help="your team's name, e.g. 'Bicester INT'")
    p.add_argument("--neighbourhood", default="", help="the PCN or neighbourhood it covers")
    p.add_argument("--phone", help="the team's phone number (printed on care plans)")
    p.add_argument("--email", help="the team's email address (printed on care plans)")
    p.add_argument("--no-keyring", action="store_true")
    p.set_defaults(func=run_init)

    p = sub.add_parser("passwd", help="change a workspace's passphrase (store not re-encrypted)")
    add_workspace_arg(p)
    p.set_defaults(func=run_passwd)

    p = sub.add_parser(
        "info", help="show a workspace's version, key storage, teams and who is signed in"
    )
    add_workspace_arg(p)
    p.set_defaults(func=run_info)

    p = sub.add_parser(
        "teams", help="list the workspace's teams, members and GP practices, and who is signed in"
    )
    add_workspace_arg(p)
    p.set_defaults(func=run_teams)


def _ask(value: str | None, prompt: str, flag: str) -> str:
    if value:
        return value
    if not sys.stdin.isatty():
        raise ValidationError(f"{flag} is needed when int-desk init is not run from a terminal.")
    answer = input(f"{prompt}: ").strip()
    if not answer:
        raise ValidationError(f"{prompt} is needed; nothing was created.")
    return answer


def _ask_role(value: str | None) -> Role:
    if value or not sys.stdin.isatty():
        return ref.role(_ask(value, "Your role", "--role"))
    roles = list(Role)
    for i, r in enumerate(roles, 1):
        print(f"  {i:2}. {r.label}")
    answer = input("Your role (number or name): ").strip()
    if answer.isdigit() and 1 <= int(answer) <= len(roles):
        return roles[int(answer) - 1]
    return ref.role(answer)


def run_init(args: argparse.Namespace) -> int:
    from int_desk.services.first_run import create_local_workspace

    name = _ask(args.name, "Your name", "--name")
    role = _ask_role(args.role)
    team = _ask(args.team, "Your team's name", "--team")
    with create_local_workspace(
        args.workspace,
        new_passphrase(),
        member_name=name,
        role=role,
        team_name=team,
        neighbourhood=args.neighbourhood,
        phone=args.phone,
        email=args.email,
        remember=not args.no_keyring,
    ) as ws:
        where = "OS keyring and passphrase" if ws.key_file.keyring_backend else "passphrase only"
        print(f"Created workspace {ws.workspace_id} in {args.workspace} (key: {where}).")
        print(f"Team {team}: you are signed in as {name} ({role.label}).")
        print(
            "Next: import your cohort list (int-desk import-cohort --workspace DIR --cohort NAME "
            "FILE.csv), or open the app (int-desk --workspace DIR)."
        )
    return 0


def run_teams(args: argparse.Namespace) -> int:
    with open_workspace(args.workspace) as ws, ws.session() as s:
        print_directory(team_setup.directory(s))
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
            revision = migrate.stored_revision(conn)  # no Alembic import for a read
        with ws.session() as s:
            patients = s.scalar(select(func.count()).select_from(Patient))
            setup = team_setup.directory(s)
            endpoint = s.get(SyncState, "endpoint")
        print(f"Workspace {ws.workspace_id}")
        print(f"  schema revision: {revision}")
        print(f"  key in OS keyring: {ws.key_file.keyring_backend or 'no'}")
        print(f"  current keyring backend: {keys.backend_name()}")
        print(f"  unlocked with: {ws.unlocked_with}")
        print(f"  endpoint: {endpoint.value if endpoint else 'none (standalone)'}")
        print(f"  teams: {len(setup.teams)}, patients: {patients}")
        print_directory(setup)
    return 0


def print_directory(d: team_setup.Directory) -> None:
    """Who is signed in, the teams with their members, and the practices (no patient data)."""
    me = d.member(d.signed_in)
    print(f"Signed in: {f'{me.name} ({me.role.label})' if me else 'nobody'}")
    if not d.teams:
        print("Teams: none yet")
    for t in d.teams:
        contact = ", ".join(x for x in (t.phone, t.email) if x) or "no phone or email yet"
        print(f"Team {t.name} - {t.neighbourhood}, {t.place} ({contact})")
        members = d.team_members(t.id)
        for m in members:
            org = f", {m.organisation}" if m.organisation else ""
            state = "" if m.active else " [removed]"
            print(f"  {m.name} - {m.role.label}{org}{state}")
        if not members:
            print("  (no members)")
    practices = d.practices
    waiting = len(d.awaiting_names)
    print(
        f"GP practices: {len(practices)}"
        + (f" ({waiting} awaiting a name from your administrator)" if waiting else "")
    )
    for o in practices:
        print(f"  {o.label}")
    others = [o for o in d.organisations if o.kind != OrganisationKind.GP_PRACTICE]
    if others:
        print(f"Other organisations: {len(others)}")
        for o in others:
            print(f"  {o.label}")
