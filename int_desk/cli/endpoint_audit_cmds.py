"""``int-desk admin audit`` and ``admin audit-verify``: the endpoint's chained audit trail.

Who read or wrote what through the endpoint (server/sync_audit.py), filtered by person (id or
NHS number), login, team member, device, team, time and kind; and the chains' verification.
The listing shows ids, kinds, field names and counts, as stored: never a clinical value.
"""

from __future__ import annotations

import argparse
import uuid
from typing import Any

KINDS_HELP = (
    "only this kind (repeatable): push, push_refused, pull, pull_full, verify, fhir_read, "
    "login_refused, write_denied, device_joined, reference_changed, ..."
)


def add_parsers(asub: argparse._SubParsersAction) -> None:
    """The two admin actions (``server_cmds`` adds them under ``int-desk admin``)."""
    au = asub.add_parser(
        "audit", help="who read or wrote what through the endpoint (newest first; no values)"
    )
    au.add_argument("--person", help="a patient's id or NHS number: entries that touched them")
    au.add_argument("--user", help="a login name")
    au.add_argument("--member", type=uuid.UUID, help="a team member's id")
    au.add_argument("--device", type=uuid.UUID, help="a device token's id")
    au.add_argument("--team", help="a team's name or id (or 'global': no team)")
    au.add_argument("--since", help="from this UTC date or time, e.g. 2026-12-01")
    au.add_argument("--until", help="before this UTC date or time")
    au.add_argument("--kind", action="append", default=[], help=KINDS_HELP)
    au.add_argument("--action", action="append", default=[], help="the same as --kind")
    au.add_argument("--limit", type=int, default=50)
    au.set_defaults(func=show)
    av = asub.add_parser(
        "audit-verify", help="verify the audit trail's hash chains; exit 1 where one is broken"
    )
    av.set_defaults(func=verify)


def show(args: argparse.Namespace) -> int:
    from int_desk.cli.server_cmds import endpoint_session as _session
    from int_desk.server import sync_audit

    with _session(args) as s:
        filters = _filters(s, args)
        names = _names(s)
        entries = sync_audit.query(s, **filters, limit=max(1, args.limit))
        sync_audit.add(  # who looked, for whom (the command line: no login, no device)
            s, sync_audit.AUDIT_READ, outcome=str(len(entries)),
            patients=sync_audit.people(filters.get("patient_ids", ())),
            detail="filters: " + ",".join(sorted(k for k, v in filters.items() if v)),
        )  # fmt: skip
        for e in entries:
            print(_line(e, names))
        if not entries:
            print("no audit entries match")
    return 0


def _filters(session: Any, args: argparse.Namespace) -> dict[str, Any]:
    from sqlalchemy import select

    from int_desk.server import sync_audit
    from int_desk.server.models import ServerTeam, ServerUser

    out: dict[str, Any] = {
        "member_id": args.member, "device_id": args.device, "since": args.since,
        "until": args.until, "kinds": [*args.kind, *args.action],
    }  # fmt: skip
    if args.person:
        found = sync_audit.person_ids(session, args.person)
        if not found:
            raise SystemExit("int-desk: no person with that id or NHS number on this endpoint")
        out["patient_ids"] = found
    if args.user:
        user = session.scalar(select(ServerUser.id).where(ServerUser.name == args.user))
        if user is None:
            raise SystemExit("int-desk: no login with that name")
        out["user_id"] = user
    if args.team:
        team = args.team if args.team == "global" else None
        for tid, name in session.execute(select(ServerTeam.id, ServerTeam.name)):
            if args.team in (name, str(tid)):
                team = str(tid)
        if team is None:
            raise SystemExit("int-desk: no team with that name or id")
        out["chains"] = [team]
    return out


def _names(session: Any) -> dict[str, str]:
    from sqlalchemy import select

    from int_desk.server.models import ServerTeam, ServerUser

    names = {str(i): n for i, n in session.execute(select(ServerUser.id, ServerUser.name))}
    names.update({str(i): n for i, n in session.execute(select(ServerTeam.id, ServerTeam.name))})
    return names


def _line(e: Any, names: dict[str, str]) -> str:
    who = names.get(str(e.user_id), str(e.user_id or "-"))
    people = e.patients.count(",") + 1 if e.patients else 0
    person = f"person={e.patient_id}" if e.patient_id else f"people={people}"
    record = f"{e.entity} {e.record_id}" if e.record_id else e.entity
    return (
        f"{e.at}  {names.get(e.chain, e.chain)} #{e.no}  {e.kind:<14} {e.outcome:<10} "
        f"user={who} member={e.member_id or '-'} device={e.device_id or '-'}  "
        f"{record}  {person}  {e.detail}"
    ).rstrip()


def verify(args: argparse.Namespace) -> int:
    from int_desk.cli.server_cmds import endpoint_session as _session
    from int_desk.server import sync_audit

    with _session(args) as s:
        names = _names(s)
        checks = sync_audit.verify(s)
    for c in checks:
        label = names.get(c.chain, c.chain)
        if c.intact:
            print(f"{label}: intact, {c.entries} entries verified")
        else:
            print(f"{label}: BROKEN at entry {c.broken_at}: {c.reason}")
    if not checks:
        print("no audit entries yet")
    return 0 if all(c.intact for c in checks) else 1
