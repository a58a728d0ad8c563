"""``int-desk join``: a new workspace for a team member, joined by an invitation code."""

from __future__ import annotations

import argparse
import socket
from pathlib import Path


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser(
        "join",
        help="join your team's endpoint with an invitation code (a new workspace)",
        description="Exchange the one-time invitation code your administrator gave you for "
        "this computer's device token, make an encrypted workspace and download your team's "
        "records. The code works once and expires (72 hours unless your administrator chose).",
    )
    p.add_argument("--workspace", required=True, type=Path, help="new workspace directory")
    p.add_argument("--endpoint", required=True, help="e.g. https://int-sync.example.nhs.uk")
    p.add_argument("--code", required=True, help="the invitation code, e.g. K7Q4-M9XH-2PDA")
    p.add_argument("--label", help="what this computer is called (default: its host name)")
    p.add_argument("--no-keyring", action="store_true")
    p.set_defaults(func=run_join)


def run_join(args: argparse.Namespace) -> int:
    from int_desk.cli.common import new_passphrase
    from int_desk.domain.errors import ValidationError
    from int_desk.services import first_run as setup

    if args.workspace.exists() and any(args.workspace.iterdir()):
        raise ValidationError(f"{args.workspace} is not empty; choose a new folder.")
    passphrase = new_passphrase()  # before the code is used: a typo here must not waste it
    info, token = setup.redeem_invitation(
        args.endpoint, args.code, label=args.label or socket.gethostname()[:120]
    )
    print(f"Joined {info.url} as {info.user}.")
    if info.certificate is not None:
        print(f"  {info.certificate.describe()}")
    ws = setup.create_workspace_for_endpoint(
        args.workspace, passphrase, info, remember=not args.no_keyring
    )
    with ws:

        def progress(_done: int, _total: int, message: str) -> None:
            print(f"  {message}", flush=True)

        print(setup.initial_sync(ws, info, token, progress))
    return 0
