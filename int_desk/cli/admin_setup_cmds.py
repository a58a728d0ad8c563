"""``int-desk admin`` on the endpoint: a team's set-up and who may join, for IT administrators.

    add-team NAME --place P [--neighbourhood N --phone T --email E]   list-teams
    add-practice CODE [NAME]          (renames a practice awaiting a name)   list-practices
    add-organisation NAME --kind K [--code C]
    add-member NAME --role R [--team T ...] [--organisation O --email E]     list-members
    remove-member NAME|ID             (their devices are revoked; see docs/go-live.md)
    invite NAME|ID [--hours 72]       (a one-time code, shown once)          list-access
    revoke-device ID

Every change goes through ``int_desk.server.directory`` / ``invitations`` (validated, audited,
versioned): laptops receive it at their next sync.
"""

from __future__ import annotations

import argparse
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import datetime
from typing import Any

from int_desk.domain.uk_time import uk_date
from int_desk.domain.vocab import OrganisationKind, Role
from int_desk.domain.wording import plural


def register_admin(asub: argparse._SubParsersAction) -> None:
    def add(name: str, help_text: str, func: Any) -> argparse.ArgumentParser:
        p = asub.add_parser(name, help=help_text)
        p.set_defaults(func=func)
        return p

    p = add("add-place", "add a place (e.g. Oxfordshire)", add_place)
    p.add_argument("name")
    p = add("set-team", "change a team's place, neighbourhood, phone or email", set_team)
    p.add_argument("team")
    p.add_argument("--name", help="a new name")
    p.add_argument("--place")
    p.add_argument("--neighbourhood")
    p.add_argument("--phone", help="printed on care plans and the carer copy")
    p.add_argument("--email", help="printed on care plans and the carer copy")
    add("list-teams", "list teams with their place, phone and email", list_teams)
    p = add(
        "add-practice", "add a GP practice by ODS code, or name one awaiting a name", add_practice
    )
    p.add_argument("code", help="ODS code, e.g. K84001")
    p.add_argument("name", nargs="?", default="", help="the practice's name")
    p.add_argument("--place", help="the place it is in")
    add("list-practices", "list GP practices (and those awaiting a name)", list_practices)
    p = add("add-organisation", "add a partner organisation (council, VCSE, pharmacy...)", add_org)
    p.add_argument("name")
    kinds = [k.value for k in OrganisationKind if k != OrganisationKind.GP_PRACTICE]
    p.add_argument("--kind", required=True, choices=kinds)
    p.add_argument("--code", help="its ODS code, if it has one")
    p = add("add-member", "add a team member (then 'invite' them)", add_member)
    p.add_argument("name")
    p.add_argument("--role", required=True, help=f"one of: {', '.join(r.value for r in Role)}")
    p.add_argument("--team", action="append", default=[], help="team name or id (repeatable)")
    p.add_argument("--organisation", help="their employer: name, ODS code or id")
    p.add_argument("--email")
    add("list-members", "list team members with their roles, teams and organisations", list_members)
    p = add("remove-member", "remove a member: out of every team, devices revoked", remove_member)
    p.add_argument("member", help="name or id")
    p = add("restore-member", "bring a removed member back, into the given teams", restore_member)
    p.add_argument("member", help="name or id")
    p.add_argument("--team", action="append", default=[], help="team name or id (repeatable)")
    p = add("invite", "make a one-time invitation code for a member (shown once)", invite)
    p.add_argument("member", help="name or id")
    p.add_argument("--hours", type=float, default=72.0, help="how long it works (default 72)")
    p.add_argument("--label", default="", help="e.g. the laptop's asset tag")
    add("list-access", "list invitations and devices", list_access)
    p = add("cancel-invitation", "withdraw an invitation not used yet", cancel_invitation)
    p.add_argument("invitation_id", type=uuid.UUID)
    p = add("revoke-device", "revoke a device: its next sync is refused", revoke_device)
    p.add_argument("device_id", type=uuid.UUID)


def _session(args: argparse.Namespace):
    from int_desk.cli.server_cmds import endpoint_session as session

    return session(args)


def _cli() -> Any:
    from int_desk.server import directory

    return directory, directory.CLI


@contextmanager
def _directory(args: argparse.Namespace) -> Iterator[tuple[Any, Any, Any]]:
    """The endpoint's directory service, the CLI as the one making changes, and a session of
    the endpoint's database (committed when the command ends without an error)."""
    directory, by = _cli()
    with _session(args) as s:
        yield directory, by, s


def _add(args: argparse.Namespace, entity: str, fields: dict[str, Any], what: str) -> int:
    """A new reference row (a place, an organisation) saved as the CLI."""
    with _directory(args) as (directory, by, s):
        rec = directory.save(s, entity, None, fields, base_version=None, by=by)
    print(f"{what} {args.name} id={rec.id}")
    return 0


def add_place(args: argparse.Namespace) -> int:
    return _add(args, "place", {"name": args.name}, "place")


def set_team(args: argparse.Namespace) -> int:
    with _directory(args) as (directory, by, s):
        rec, _data = directory.find(s, "team", args.team)
        fields: dict[str, Any] = {}
        if args.name:
            fields["name"] = args.name
        if args.place:
            fields["place_id"] = str(directory.place_named(s, args.place, by))
        for key in ("neighbourhood", "phone", "email"):
            if getattr(args, key) is not None:
                fields[key] = getattr(args, key)
        rec = directory.save(s, "team", rec.id, fields, base_version=None, by=by)
        print(f"team {args.team} version={rec.version}")
    return 0


def list_teams(args: argparse.Namespace) -> int:
    with _directory(args) as (directory, _by, s):
        for t in directory.team_rows(s):
            contact = ", ".join(x for x in (t.get("phone"), t.get("email")) if x) or "no contact"
            print(f"{t['id']}  {t['name']:<28} {t['place']:<18} {t['neighbourhood']:<24} {contact}")
    return 0


def add_practice(args: argparse.Namespace) -> int:
    from int_desk.domain import reference as ref

    with _directory(args) as (directory, by, s):
        code = ref.practice_code(args.code)
        found = directory.find_practice(s, code)
        fields: dict[str, Any] = {"name": args.name, "kind": "gp_practice", "code": code}
        if args.place:
            fields["place_id"] = str(directory.place_named(s, args.place, by))
        if found is not None:
            fields["deleted"] = False
        rec = directory.save(
            s, "organisation", found[0].id if found else None, fields, base_version=None, by=by
        )
        print(f"practice {ref.practice_label(code, args.name)} id={rec.id}")
    return 0


def list_practices(args: argparse.Namespace) -> int:
    from int_desk.domain import reference as ref

    with _directory(args) as (directory, _by, s):
        practices = sorted(
            (d for _r, d in directory.rows(s, "organisation") if d.get("kind") == "gp_practice"),
            key=lambda d: (bool(d.get("name")), str(d.get("code"))),
        )
        waiting = sum(1 for d in practices if not d.get("name"))
        print(f"{len(practices)} GP practices, {waiting} awaiting a name")
        for d in practices:
            print(f"  {ref.practice_label(d.get('code'), d.get('name') or '')}")
    return 0


def add_org(args: argparse.Namespace) -> int:
    fields = {"name": args.name, "kind": args.kind, "code": args.code}
    return _add(args, "organisation", fields, "organisation")


def add_member(args: argparse.Namespace) -> int:
    with _directory(args) as (directory, by, s):
        fields: dict[str, Any] = {"name": args.name, "role": args.role, "email": args.email}
        if args.organisation:
            fields["organisation_id"] = str(
                directory.find(s, "organisation", args.organisation)[0].id
            )
        rec = directory.save(s, "member", None, fields, base_version=None, by=by)
        for team in args.team:
            team_rec, _ = directory.find(s, "team", team)
            directory.membership(s, team_rec.id, rec.id, member=True, by=by)
        print(f"member {args.name} id={rec.id} teams={len(args.team)}")
    return 0


def list_members(args: argparse.Namespace) -> int:
    with _directory(args) as (directory, _by, s):
        for m in directory.member_rows(s):
            role = Role(m["role"]).label if m.get("role") in Role._value2member_map_ else m["role"]
            state = "" if m.get("active", True) else "  [removed]"
            org = f" ({m['organisation']})" if m.get("organisation") else ""
            teams = ", ".join(m["teams"]) or "no team"
            print(f"{m['id']}  {m['name']:<24} {role:<26} {teams}{org}{state}")
    return 0


def remove_member(args: argparse.Namespace) -> int:
    with _directory(args) as (directory, by, s):
        rec, data = directory.find(s, "member", args.member)
        for mrec, mdata in directory.rows(s, "team_membership"):
            if mdata.get("member_id") == str(rec.id):
                directory.save(
                    s, "team_membership", mrec.id, {"deleted": True}, base_version=None, by=by
                )
        directory.save(s, "member", rec.id, {"active": False}, base_version=None, by=by)
        print(f"removed {data.get('name')}: out of every team, devices revoked")
    return 0


def restore_member(args: argparse.Namespace) -> int:
    with _directory(args) as (directory, by, s):
        rec, data = directory.find_any(s, "member", args.member)
        directory.save(s, "member", rec.id, {"active": True}, base_version=None, by=by)
        for team in args.team:
            team_rec, _ = directory.find(s, "team", team)
            directory.membership(s, team_rec.id, rec.id, member=True, by=by)
        print(f"restored {data.get('name')} to {plural(len(args.team), 'team')}; invite them again")
    return 0


def _withdraw(args: argparse.Namespace, undo: Any, record_id: uuid.UUID, said: str) -> int:
    """Cancel an invitation or revoke a device as the CLI; ``said`` once it is committed."""
    with _directory(args) as (_, by, s):
        undo(s, record_id, by=by)
    print(said)
    return 0


def cancel_invitation(args: argparse.Namespace) -> int:
    from int_desk.server import invitations

    return _withdraw(args, invitations.cancel, args.invitation_id, f"withdrew {args.invitation_id}")


def invite(args: argparse.Namespace) -> int:
    from int_desk.server import invitations

    with _directory(args) as (directory, by, s):
        rec, data = directory.find(s, "member", args.member)
        inv, code = invitations.create(s, rec.id, by=by, hours=args.hours, label=args.label)
        print(f"Invitation for {data.get('name')}: {code}")
        print(f"  works once, until {inv.expires_at[:16].replace('T', ' ')} UTC (id {inv.id})")
    return 0


def list_access(args: argparse.Namespace) -> int:
    from int_desk.server import invitations

    with _session(args) as s:
        for item in invitations.listing(s):
            used = ""
            if item["kind"] == "device":
                used = f"  last used {uk_date(datetime.fromisoformat(str(item['last_used_at'])))}"
            print(
                f"{item['kind']:<10} {item['id']}  {str(item['member']):<24} "
                f"{str(item['label']):<20} {item['state']}{used}"
            )
    return 0


def revoke_device(args: argparse.Namespace) -> int:
    from int_desk.server import invitations

    said = f"revoked {args.device_id}: its next sync is refused"
    return _withdraw(args, invitations.revoke_device, args.device_id, said)
