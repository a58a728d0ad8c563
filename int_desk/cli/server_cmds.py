"""``int-desk serve`` (the central sync endpoint) and ``int-desk admin`` (teams, users, tokens)."""

from __future__ import annotations

import argparse
import os
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from int_desk.domain.wording import plural
from int_desk.server.principal import INTEGRATION_SCOPES

DEFAULT_DB = "int-desk-server.db"
DB_ENV = "INT_DESK_SERVER_DB"
DB_HELP = f"SQLite file path or postgresql:// URL (default: ${DB_ENV}, else {DEFAULT_DB})"


def _default_db() -> str:
    return os.environ.get(DB_ENV) or DEFAULT_DB


# Sync clients pause between requests while applying pages; keep their connections open.
KEEP_ALIVE = 60


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("serve", help="run the central sync endpoint")
    p.add_argument("--db", default=_default_db(), help=DB_HELP)
    p.add_argument("--host", default="127.0.0.1")
    p.add_argument("--port", type=int, default=8765)
    p.add_argument("--workers", type=int, default=1, help="server processes (PostgreSQL)")
    p.add_argument("--ssl-certfile", help="TLS certificate (or terminate TLS at a reverse proxy)")
    p.add_argument("--ssl-keyfile", help="TLS private key")
    p.add_argument(
        "--log-format",
        choices=("json", "text"),
        default=os.environ.get("INT_DESK_LOG_FORMAT", "json"),
        help="one JSON object per line (default) or plain text, on stderr",
    )
    p.add_argument("--log-level", choices=("debug", "info", "warning"), default="info")
    p.set_defaults(func=serve)

    a = sub.add_parser("admin", help="manage the sync endpoint's teams, users and device tokens")
    a.add_argument("--db", default=_default_db(), help=DB_HELP)
    asub = a.add_subparsers(dest="admin_command", metavar="ACTION", required=True)
    t = asub.add_parser("add-team", help="create a team (laptops receive it at their next sync)")
    t.add_argument("name")
    t.add_argument("--id", type=uuid.UUID, help="team id (defaults to a new one)")
    t.add_argument("--place", help="its place, e.g. Oxfordshire (made if new; default: the name)")
    t.add_argument("--neighbourhood", default="", help="the PCN or neighbourhood it covers")
    t.add_argument("--phone", help="printed on care plans and the carer copy")
    t.add_argument("--email", help="printed on care plans and the carer copy")
    t.set_defaults(func=add_team)
    u = asub.add_parser("add-user", help="create a person's login in one or more teams")
    u.add_argument("name")
    u.add_argument("--team", action="append", default=[], help="team name or id (repeatable)")
    u.add_argument(
        "--member-id",
        type=uuid.UUID,
        required=True,
        help="the team member this login is (their role decides what it may do)",
    )
    u.set_defaults(func=add_user)
    ig = asub.add_parser(
        "add-integration", help="create an integration account (a system feed) with a scope"
    )
    ig.add_argument("name")
    ig.add_argument("--team", action="append", default=[], help="team name or id (repeatable)")
    ig.add_argument(
        "--scope", required=True, choices=sorted(INTEGRATION_SCOPES), help="what it may do"
    )
    ig.set_defaults(func=add_integration)
    lu = asub.add_parser("list-users", help="list logins: persons and integration accounts")
    lu.set_defaults(func=list_users)
    br = asub.add_parser("bad-rows", help="stored rows laptops cannot store (no values shown)")
    br.add_argument("--entity", help="only this kind of record")
    br.set_defaults(func=bad_rows)
    rr = asub.add_parser(
        "repair-rows", help="repair stored rows laptops cannot store (new version, audited)"
    )
    rr.add_argument("--entity", help="only this kind of record")
    rr.add_argument("--id", type=uuid.UUID, help="only this row (with --entity)")
    rr.set_defaults(func=repair_rows)
    from int_desk.cli import endpoint_audit_cmds

    endpoint_audit_cmds.add_parsers(asub)  # audit, audit-verify
    j = asub.add_parser("join-team", help="add a user to a team")
    j.add_argument("user")
    j.add_argument("team")
    j.set_defaults(func=join_team)
    i = asub.add_parser("issue-token", help="issue a device token (shown once)")
    i.add_argument("user")
    i.add_argument("--label", default="", help="e.g. the laptop's asset tag")
    i.set_defaults(func=issue_token)
    r = asub.add_parser("revoke-token", help="revoke a device token by its id")
    r.add_argument("token_id", type=uuid.UUID)
    r.set_defaults(func=revoke_token)
    lt = asub.add_parser("list-tokens", help="list device tokens (ids, users, state)")
    lt.set_defaults(func=list_tokens)
    tl = asub.add_parser(
        "set-token-lifetime",
        help="days a device token lasts without a sync (default 90; new and renewed tokens)",
    )
    tl.add_argument("days", type=float)
    tl.set_defaults(func=set_token_lifetime)
    s = asub.add_parser("seed-from-workspace", help="load a workspace's teams and rows")
    s.add_argument("--workspace", required=True, type=Path)
    s.add_argument("--team", action="append", default=[], help="only these teams (repeatable)")
    s.add_argument("--users", action="store_true", help="create a user per team member")
    s.add_argument(
        "--token-for-current-member",
        action="store_true",
        help="issue a token for the workspace's signed-in member and print it",
    )
    s.set_defaults(func=seed)
    mv = asub.add_parser("move-patient", help="move a patient to another team")
    mv.add_argument("patient_id", type=uuid.UUID)
    mv.add_argument("team")
    mv.set_defaults(func=move_patient)
    c = asub.add_parser("compact", help="forget old tombstones (older cursors then re-download)")
    c.add_argument("--older-than-days", type=float, default=90)
    c.set_defaults(func=compact)
    bk = asub.add_parser(
        "backup", help="copy the endpoint's database to a file (pg_dump, or SQLite's backup)"
    )
    bk.add_argument("file", type=Path, help="the new backup file (it holds patient data)")
    bk.set_defaults(func=backup_db)
    rs = asub.add_parser(
        "restore",
        help="replace the endpoint's database with a backup (stop every endpoint first)",
    )
    rs.add_argument("file", type=Path, help="a file made by admin backup")
    rs.add_argument("--yes", action="store_true", help="do not ask for confirmation")
    rs.set_defaults(func=restore_db)
    from int_desk.cli.scorecard_cmd import add_scorecard_args

    sc = asub.add_parser(
        "scorecard",
        help="the INT scorecard across teams (aggregates only, counts under 5 suppressed)",
    )
    add_scorecard_args(sc)
    sc.set_defaults(func=place_scorecard)
    from int_desk.cli.admin_setup_cmds import register_admin

    register_admin(asub)  # a team's set-up, invitations and devices
    from int_desk.cli import practice_cmds

    practice_cmds.register_admin(asub)


def serve(args: argparse.Namespace) -> int:
    import shutil
    import tempfile

    import uvicorn

    from int_desk.server import db, ops
    from int_desk.server.serving import PROTOCOL

    log_format, log_level = getattr(args, "log_format", "json"), getattr(args, "log_level", "info")
    # (worker processes configure their logging from these)
    os.environ["INT_DESK_LOG_FORMAT"], os.environ["INT_DESK_LOG_LEVEL"] = log_format, log_level
    ops.configure_logging(log_format, log_level)
    url = db.normalise_url(args.db)
    # The banner comes first (before the migration's log line): scripts wait for it.
    print(f"INT Desk sync endpoint on {args.host}:{args.port}", flush=True)
    engine, _factory = db.open_db(url)  # migrate once before any worker starts
    engine.dispose()
    kwargs: dict[str, Any] = {"http": PROTOCOL}  # TCP_NODELAY on every connection
    if args.ssl_certfile:
        kwargs.update(ssl_certfile=args.ssl_certfile, ssl_keyfile=args.ssl_keyfile)
    # Logs go through the endpoint's own scrubbing handler (ops.configure_logging).
    common = {"log_config": None, "log_level": "warning", "timeout_keep_alive": KEEP_ALIVE}
    if args.workers > 1:
        os.environ[DB_ENV] = url
        # Every worker counts into one directory, so any of them answers /metrics for all.
        metrics_dir = tempfile.mkdtemp(prefix="int-desk-metrics-")
        given = os.environ.get(ops.MULTIPROC_ENV)
        os.environ[ops.MULTIPROC_ENV] = given or metrics_dir
        try:
            uvicorn.run(
                "int_desk.server.asgi:app",
                host=args.host,
                port=args.port,
                workers=args.workers,
                **common,
                **kwargs,
            )
        finally:
            if given is None:
                os.environ.pop(ops.MULTIPROC_ENV, None)
            shutil.rmtree(metrics_dir, ignore_errors=True)
    else:
        from int_desk.server.app import create_app

        uvicorn.run(create_app(url), host=args.host, port=args.port, **common, **kwargs)
    return 0


@contextmanager
def endpoint_session(args: argparse.Namespace) -> Iterator[Any]:
    """One transaction on the endpoint's database; its connections closed afterwards."""
    from int_desk.server import db

    engine, factory = db.open_db(args.db, pool_size=1)
    try:
        with factory.begin() as session:
            yield session
    finally:
        engine.dispose()


def add_team(args: argparse.Namespace) -> int:
    from int_desk.domain.errors import IntDeskError
    from int_desk.server import directory

    with endpoint_session(args) as s:
        if args.id is not None and s.get(directory.Record, ("team", args.id)) is not None:
            raise IntDeskError(f"A team with id {args.id} already exists.")
        by = directory.CLI
        place = directory.place_named(s, args.place or args.neighbourhood or args.name, by)
        fields = {
            "name": args.name, "place_id": str(place), "neighbourhood": args.neighbourhood,
            "phone": args.phone, "email": args.email,
        }  # fmt: skip
        team = directory.save(s, "team", args.id, fields, base_version=None, by=by)
        print(f"team {args.name} id={team.id}")
    return 0


def add_user(args: argparse.Namespace) -> int:
    from int_desk.server import admin

    with endpoint_session(args) as s:
        user = admin.add_user(s, args.name, args.team, args.member_id)
        print(f"user {user.name} id={user.id} teams={len(args.team)}")
    return 0


def add_integration(args: argparse.Namespace) -> int:
    from int_desk.server import admin

    with endpoint_session(args) as s:
        user = admin.add_integration(s, args.name, args.team, args.scope)
        print(f"integration {user.name} id={user.id} scope={user.scope} teams={len(args.team)}")
    return 0


def list_users(args: argparse.Namespace) -> int:
    from int_desk.server import admin

    with endpoint_session(args) as s:
        for user, teams in admin.list_users(s):
            what = f"integration:{user.scope}" if user.kind == "integration" else "person"
            if user.kind == "practice":
                what = f"practice:{user.ods_code} ({user.scope})"
            elif user.kind != "integration" and user.member_id is None:
                what = "person (no member: no access)"
            state = "active" if user.active else "inactive"
            print(f"{user.id}  {user.name:<24} {what:<28} {state:<8} {', '.join(teams)}")
    return 0


def bad_rows(args: argparse.Namespace) -> int:
    from int_desk.server import repair

    with endpoint_session(args) as s:
        found = repair.bad_rows(s, args.entity)
        for b in found:
            print(f"{b.entity:<20} {b.id}  team={b.scope}  {b.field}: {b.problem}")
    print(plural(len(found), "bad field"))
    return 1 if found else 0


def repair_rows(args: argparse.Namespace) -> int:
    from int_desk.server import repair

    if args.id is not None and not args.entity:
        raise SystemExit("int-desk: --id needs --entity")
    with endpoint_session(args) as s:
        n, left = repair.repair(s, args.entity, args.id)
    print(f"repaired {plural(n, 'row')}")
    for b in left:
        print(f"left {b.entity} {b.id} {b.field}: {b.problem} - {repair.UNREPAIRABLE}")
    return 1 if left else 0


def join_team(args: argparse.Namespace) -> int:
    from int_desk.server import admin

    with endpoint_session(args) as s:
        admin.add_to_team(s, args.user, args.team)
    print("done")
    return 0


def issue_token(args: argparse.Namespace) -> int:
    from int_desk.server import admin

    return issued(args, "token", lambda s: admin.issue_token(s, args.user, args.label))


def revoke_token(args: argparse.Namespace) -> int:
    from int_desk.server import admin

    return revoked(args, admin.revoke_token)


def issued(args: argparse.Namespace, what: str, issue: Callable[[Any], tuple[Any, str]]) -> int:
    """Issue a token in one transaction, then show it (once: only its hash is kept)."""
    with endpoint_session(args) as s:
        token_id, token = issue(s)
    print(f"{what} id={token_id}\n{token}\n(shown once; only its hash is kept)")
    return 0


def revoked(args: argparse.Namespace, revoke: Callable[[Any, Any], Any]) -> int:
    """Revoke the token ``args.token_id`` in one transaction."""
    with endpoint_session(args) as s:
        revoke(s, args.token_id)
    print(f"revoked {args.token_id}")
    return 0


def set_token_lifetime(args: argparse.Namespace) -> int:
    from int_desk.server import tokens

    with endpoint_session(args) as s:
        tokens.set_lifetime_days(s, args.days)
    print(f"device tokens now last {args.days:g} days without a sync")
    return 0


def list_tokens(args: argparse.Namespace) -> int:
    from int_desk.server import admin, tokens

    with endpoint_session(args) as s:
        for token, user in admin.list_tokens(s):
            state = f"revoked {token.revoked_at}" if token.revoked_at else "active"
            if not token.revoked_at and tokens.expired(token.expires_at):
                state = f"expired {token.expires_at}"
            elif not token.revoked_at and token.expires_at:
                state = f"active until {token.expires_at[:10]}"
            print(f"{token.id}  {user:<24} {token.label:<20} {state}")
    return 0


def seed(args: argparse.Namespace) -> int:
    from int_desk.cli.common import open_workspace
    from int_desk.server import admin
    from int_desk.services.identity import CURRENT_MEMBER_KEY
    from int_desk.sync.seed_source import WorkspaceRows

    with open_workspace(args.workspace) as ws, ws.session() as wss, endpoint_session(args) as s:
        counts = admin.seed_from_workspace(s, WorkspaceRows(wss), args.team)
        if args.users:
            users = admin.seed_users_for_members(s, WorkspaceRows(wss))
            print(f"users: {len(users)}")
        print(f"seeded {sum(counts.values())} rows")
        if args.token_for_current_member:
            member = ws.meta(CURRENT_MEMBER_KEY)
            if member is None:
                raise SystemExit("int-desk: the workspace has no signed-in member")
            admin.seed_users_for_members(s, WorkspaceRows(wss))
            _tid, token = admin.issue_token(s, admin.member_login(uuid.UUID(member)), "seeded")
            print(token)
    return 0


def move_patient(args: argparse.Namespace) -> int:
    from int_desk.server import admin

    with endpoint_session(args) as s:
        n = admin.move_patient(s, args.patient_id, args.team)
    print(f"moved {n} rows")
    return 0


def compact(args: argparse.Namespace) -> int:
    from int_desk.server import admin

    with endpoint_session(args) as s:
        n = admin.compact(s, args.older_than_days)
    print(f"removed {n} tombstones")
    return 0


def backup_db(args: argparse.Namespace) -> int:
    from int_desk.server import backup, db

    size = backup.backup(db.normalise_url(args.db), args.file)
    print(f"backed up to {args.file} ({size:,} bytes; it holds patient data: keep it safe)")
    return 0


def restore_db(args: argparse.Namespace) -> int:
    import sys

    from int_desk.server import backup, db

    if not args.yes:
        if not sys.stdin.isatty():
            print("restore replaces the endpoint's database: add --yes to confirm", file=sys.stderr)
            return 2
        answer = input(
            f"Replace the endpoint's database with {args.file}? Changes since that backup are "
            "lost from the endpoint (laptops send theirs again). Type 'restore' to go on: "
        )
        if answer.strip() != "restore":
            print("nothing changed")
            return 1
    made = backup.restore(db.normalise_url(args.db), args.file)
    print(
        f"restored from {args.file}; new database generation {made.id}: laptops send again "
        "what the endpoint lost at their next sync. Tokens revoked since the backup are valid "
        "again: revoke them again (admin list-tokens)."
    )
    return 0


def place_scorecard(args: argparse.Namespace) -> int:
    """Every team's scorecard (or the named teams'), broken down by team unless --by says."""
    import sys

    from int_desk.cli.scorecard_cmd import build_query, check_out, emit
    from int_desk.domain.uk_time import london_today
    from int_desk.reports import pdf_base
    from int_desk.reports.scorecard_pdf import render_scorecard
    from int_desk.server.place_scorecard import place_scorecard as compute
    from int_desk.services import scorecard_export
    from int_desk.store.base import utcnow

    check_out(args.out)
    args.by = args.by or "team"
    query = build_query(args, london_today())
    with endpoint_session(args) as s:
        card = compute(s, teams=args.team, query=query)
    emit(card, args.format)
    if args.out is not None:
        if args.out.suffix.lower() == ".csv":
            data = ("\ufeff" + scorecard_export.csv_text(card)).encode("utf-8")
        else:
            data = render_scorecard(
                card, printed_by="INT Desk endpoint administrator", printed_at=utcnow()
            )
        pdf_base.write_atomic(args.out, data)
        print(f"Scorecard written to {args.out}", file=sys.stderr)
    return 0
