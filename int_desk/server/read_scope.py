"""What of its teams' data the endpoint sends a caller: the desktop's read rules, server-side.

Team scope alone would send a VCSE worker or an admin the team's whole record. This narrows
every pull page, push result and verify digest to what the caller's role may read, with the
same role data the desktop services use (``int_desk.domain.permissions``):

- clinical roles (and integration accounts whose declared scope reads clinical content):
  everything in team scope;
- roles without VIEW_CLINICAL: every row, with the clinical fields blanked (``CLINICAL_FIELDS``:
  notes, summaries, escalation reasons, huddle outcomes and minutes; a row's author still reads
  what they wrote, ``CLINICAL_AUTHOR``), so row counts and digests stay those of the team;
- referred-only roles (VCSE workers): only people referred to them — their demographics, flags,
  care plan (clinical fields blanked), non-clinical contacts, the referrals to them and the tasks
  they own or asked for — plus team reference rows. Counts and digests are computed for that set.

A caller who is nobody (no member, unknown role: ``principal.py``) gets ``NOTHING``.

A cursor carries the scope's ``signature``; a cursor from another signature (the role changed)
is refused with 410, and the re-download removes whatever the laptop may no longer hold.
"""

from __future__ import annotations

import json
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from int_desk.domain.permissions import CLINICAL_FIELDS, reads_clinical_row
from int_desk.server.models import Record
from int_desk.server.principal import Principal, principal
from int_desk.wire import schema

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
    nothing: bool = False  # a caller with no access: no rows at all

    @property
    def signature(self) -> str:
        """Changes whenever the kind of filtering changes (not with the referred set)."""
        if self.nothing:
            return "none"
        if self.clinical and not self.referred_only:
            return FULL_SIGNATURE
        return f"{'referred' if self.referred_only else 'team'}:{'c' if self.clinical else 'n'}"

    @property
    def passes_everything(self) -> bool:
        return self.signature == FULL_SIGNATURE

    @property
    def counts_are_the_teams(self) -> bool:
        """True when the caller receives every live row (maybe redacted): team digests hold."""
        return not self.referred_only and not self.nothing

    def row(
        self, entity: str, patient_id: str | None, data: dict[str, Any]
    ) -> dict[str, Any] | None:
        """The row as this caller may receive it, or None when they may not."""
        if self.nothing:
            return None
        if self.referred_only and not self._referred_row(entity, patient_id, data):
            return None
        if not self.clinical and entity in CLINICAL_FIELDS:
            if not reads_clinical_row(entity, data, clinical=False, member_id=self.member_id):
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
NOTHING = ReadScope(clinical=False, nothing=True)


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
    """The caller's read scope from their role (or integration scope) and their teams' grants."""
    return scope_of(session, principal(session, user_id, teams))


def scope_of(session: Session, who: Principal | None) -> ReadScope:
    """The read scope of a known caller (cached per session: a push asks once per op)."""
    if who is None:
        return NOTHING
    cache: dict[uuid.UUID, ReadScope] = session.info.setdefault("int_desk_read_scope", {})
    if who.user_id not in cache:
        cache[who.user_id] = _scope(session, who)
    return cache[who.user_id]


def _scope(session: Session, who: Principal) -> ReadScope:
    if who.clinical and not who.referred_only:
        return FULL
    member = str(who.member_id) if who.member_id else ""
    teams = tuple(sorted(str(t) for t in who.team_ids))
    patients = referred_patients(session, teams, member) if who.referred_only else frozenset()
    return ReadScope(who.clinical, who.referred_only, member, patients)


def restrict_write(
    session: Session,
    entity: str,
    kind: str,
    fields: dict[str, Any],
    unreadable: tuple[str, ...],
    plan: Callable[[uuid.UUID], tuple[Any, dict[str, Any]] | None] | None = None,
) -> dict[str, Any]:
    """A caller who never saw the clinical fields never writes them.

    ``unreadable`` (from the write rules' verdict) are the fields their laptop holds blank: the
    rules refused any other value, and the blanks are dropped from an update; a new row gets
    them from the care-plan version it continues (its laptop holds that version blanked),
    otherwise empty. ``plan`` finds a stored care plan (its patient and data) by id.
    """
    if not unreadable:
        return fields
    if kind != "insert":
        return {k: v for k, v in fields.items() if k not in unreadable}
    carried: dict[str, Any] = {}
    previous = fields.get("previous_version_id") if entity == "care_plan" else None
    if previous:
        found = (plan or _stored_plan(session))(uuid.UUID(str(previous)))
        if found is not None and str(found[0]) == str(fields.get("patient_id")):
            carried = found[1]
    return {**fields, **{n: carried.get(n) or "" for n in unreadable}}


def _stored_plan(session: Session) -> Callable[[uuid.UUID], tuple[Any, dict[str, Any]] | None]:
    def plan(plan_id: uuid.UUID) -> tuple[Any, dict[str, Any]] | None:
        rec = session.get(Record, ("care_plan", plan_id))
        return (rec.patient_id, json.loads(rec.data)) if rec is not None else None

    return plan
