"""``int-desk admin issue-practice-token | revoke-practice-token | list-practice-tokens``:
tokens with which a GP practice's system reads its notifications (FHIR Communication). Each is a
device token of the practice's login (kind ``practice``; ``admin list-users`` lists it)."""

from __future__ import annotations

import argparse
import uuid

from int_desk.cli import server_cmds


def register_admin(asub: argparse._SubParsersAction) -> None:
    p = asub.add_parser(
        "issue-practice-token",
        help="issue a GP practice's token for its notifications (shown once)",
    )
    p.add_argument("--ods", required=True, help="the practice's ODS code, e.g. A81001")
    p.add_argument("--label", default="", help="e.g. the practice's name or system")
    p.set_defaults(func=issue)
    r = asub.add_parser("revoke-practice-token", help="revoke a practice token by its id")
    r.add_argument("token_id", type=uuid.UUID)
    r.set_defaults(func=revoke)
    ls = asub.add_parser("list-practice-tokens", help="list practice tokens (ids, ODS, state)")
    ls.set_defaults(func=listing)


def issue(args: argparse.Namespace) -> int:
    from int_desk.server import practice_admin

    return server_cmds.issued(
        args, "practice token", lambda s: practice_admin.issue(s, args.ods, args.label)
    )


def revoke(args: argparse.Namespace) -> int:
    from int_desk.server import practice_admin

    return server_cmds.revoked(args, practice_admin.revoke)


def listing(args: argparse.Namespace) -> int:
    from int_desk.server import practice_admin

    with server_cmds.endpoint_session(args) as s:
        for t in practice_admin.listing(s):
            state = f"revoked {t.revoked_at}" if t.revoked_at else f"expires {t.expires_at}"
            print(f"{t.id}  {t.ods_code:<8} {t.label:<30} {state}")
    return 0
