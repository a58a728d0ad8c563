"""What of its teams' data the endpoint sends a caller: the desktop's read rules, server-side.

Team scope alone would send a VCSE worker or an admin the team's whole record. This narrows
every pull page, push result and verify digest to what the caller's role may read, with the
same role data the desktop services use (``int_desk.domain.permissions``):

- clinical roles (and integration accounts with no member record): everything in team scope;
- roles without VIEW_CLINICAL: every row, with the clinical fields blanked (``CLINICAL_FIELDS``),
  so row counts and digests stay those of the team;
- referred-only roles (VCSE workers): only people referred to them — their demographics, flags,
  care plan (clinical fields blanked), non-clinical contacts, the referrals to them and the tasks
  they own or asked for — plus team reference rows. Counts and digests are computed for that set.

A cursor carries the scope's ``signature``; a cursor from another signature (the role changed)
is refused with 410, and the re-download removes whatever the laptop may no longer hold.
"""

from __future__ import annotations

import json
import uuid
from dataclasses import dataclass
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from int_desk.domain.permissions import (
    CLINICAL_FIELDS,
    CLINICAL_ROLES,
    REFERRED_ONLY_ROLES,
    Permission,
    allowed,
)
from int_desk.server.access import caller_actor, team_grants
from int_desk.server.models import Record
from int_desk.sync import schema

# What a referred-only role receives about a person referred to them.
REFERRED_PATIENT_ENTITIES = frozenset(
    {
        "patient",
        "flag",
        "cohort_membership",
        "care_team_participant",
        "care_plan",
        "goal",
        "plan_action",
        "task",
        "contact",
        "referral",
    }
)
# Rows with no patient that a referred-only role still needs (names of teams, cohorts, people).
REFERRED_TEAM_ENTITIES = frozenset({"team", "cohort", "team_membership", "saved_view"}) | (
    schema.GLOBAL_ENTITIES
)
FULL_SIGNATURE = "all"


@dataclass(frozen=True)
class ReadScope:
    clinical: bool = True
    referred_only: bool = False
    member_id: str = ""
    patients: frozenset[str] = frozenset()  # referred-only: ids (canonical text) referred to them

    @property
    def signature(self) -> str:
        """Changes whenever the kind of filtering changes (not with the referred set)."""
        if self.clinical and not self.referred_only:
            return FULL_SIGNATURE
        return f"{'referred' if self.referred_only else 'team'}:{'c' if self.clinical else 'n'}"

    @property
    def passes_everything(self) -> bool:
        return self.signature == FULL_SIGNATURE

    @property
    def counts_are_the_teams(self) -> bool:
        """True when the caller receives every live row (maybe redacted): team digests hold."""
        return not self.referred_only

    def row(self, entity: str, patient_id: str | None, data: dict[str, Any]) -> dict | None:
        """The row as this caller may receive it, or None when they may not."""
        if self.referred_only and not self._referred_row(entity, patient_id, data):
            return None
        if not self.clinical and entity in CLINICAL_FIELDS:
            if entity != "contact" or data.get("clinical", True):
                data = {**data, **{f: "" for f in CLINICAL_FIELDS[entity] if data.get(f)}}
        return data

    def _referred_row(self, entity: str, patient_id: str | None, data: dict[str, Any]) -> bool:
        me = self.member_id
        if patient_id is None:
            if entity == "saved_view":
                return data.get("member_id") in (None, me)
            return entity in REFERRED_TEAM_ENTITIES
        if patient_id not in self.patients or entity not in REFERRED_PATIENT_ENTITIES:
            return False
        if entity == "task":  # theirs, or asked for by them (so it stays where they made it)
            return me in (data.get("owner_member_id"), data.get("requester_id"))
        if entity == "referral":
            return data.get("to_member_id") == me
        if entity == "contact":
            return not data.get("clinical", True)
        return True

    def change_json(
        self, entity: str, rid: Any, version: int, deleted: bool, data: str, patient_id: Any
    ) -> str | None:
        """A pull change as JSON text (stored JSON reused when nothing is cut), or None."""
        if self.passes_everything:
            return _change_json(entity, rid, version, deleted, data)
        if not self.referred_only and (entity not in CLINICAL_FIELDS):
            return _change_json(entity, rid, version, deleted, data)
        pid = str(patient_id) if patient_id is not None else None
        kept = self.row(entity, pid, json.loads(data))
        if kept is None:
            return None
        return _change_json(entity, rid, version, deleted, json.dumps(kept))


FULL = ReadScope()


def _change_json(entity: str, rid: Any, version: int, deleted: bool, data: str) -> str:
    return (
        f'{{"e":"{entity}","id":"{uuid.UUID(str(rid))}","v":{version},'
        f'"del":{"true" if deleted else "false"},"data":{data}}}'
    )


def referred_patients(session: Session, scopes: tuple[str, ...], member_id: str) -> frozenset[str]:
    """Patients with a live referral to this member in the given scopes."""
    out = set()
    rows = session.execute(
        select(Record.patient_id, Record.data).where(
            Record.entity == "referral",
            Record.scope.in_(scopes),
            Record.deleted.is_(False),
            Record.data.contains(member_id),  # a cheap prefilter; the JSON decides
        )
    )
    for patient_id, data in rows:
        if patient_id is not None and json.loads(data).get("to_member_id") == member_id:
            out.add(str(patient_id))
    return frozenset(out)


def read_scope(session: Session, user_id: uuid.UUID, teams: tuple[str, ...]) -> ReadScope:
    """The caller's read scope from their member record's role and their teams' grants."""
    actor = caller_actor(session, user_id, teams)
    if actor is None:
        return FULL  # an integration account: team scope only
    referred_only = actor.role in REFERRED_ONLY_ROLES
    if actor.role in CLINICAL_ROLES and not referred_only:
        return FULL  # no need to read the teams' grants
    clinical = allowed(actor, Permission.VIEW_CLINICAL, team_grants(session, actor))
    member = str(actor.member_id)
    patients = referred_patients(session, teams, member) if referred_only else frozenset()
    return ReadScope(clinical, referred_only, member, patients)


def restrict_write(
    session: Session, scope: ReadScope, entity: str, kind: str, fields: dict[str, Any]
) -> dict[str, Any]:
    """A caller who never saw the clinical fields never writes them.

    They are dropped from updates; a new row gets them from the care-plan version it continues
    (its laptop holds that version with the fields blanked), otherwise empty.
    """
    if scope.clinical or entity not in CLINICAL_FIELDS or entity == "contact":
        return fields  # contacts: writing a clinical one is refused by role (access.py)
    names = CLINICAL_FIELDS[entity]
    if kind != "insert":
        return {k: v for k, v in fields.items() if k not in names}
    carried: dict[str, Any] = {}
    previous = fields.get("previous_version_id") if entity == "care_plan" else None
    if previous:
        rec = session.get(Record, ("care_plan", uuid.UUID(str(previous))))
        if rec is not None and str(rec.patient_id) == str(fields.get("patient_id")):
            carried = json.loads(rec.data)
    return {**fields, **{n: carried.get(n) or "" for n in names}}
