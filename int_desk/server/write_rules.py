"""Who may write what through the endpoint: one rule for every field of every synced entity,
as data beside the read scope (``read_scope.py``), checked in one place (``check``).

An entity's rule names the permission any write needs (``WRITE_PERMISSIONS``, the table the
desktop services use), whether clients may push it at all (reference data is managed
centrally), which field classifies a row as clinical and which field names its author. A
field's rule says:

- ``needs``: a further permission to set or change it (signing off, resolving);
- ``transition``: a further permission for some changes only (a plan becoming active, a
  declined consent overridden, an escalation resolved);
- ``values``: the values it may take (a vocabulary);
- ``fixed``: set when the row is made, never changed (what places the row, who wrote it);
- ``by_caller``: names who did it, so only the caller's own member id (or nothing);
- ``clinical``: clinical content, which a role without VIEW_CLINICAL neither reads nor writes.

A pushed op is checked against the stored row (old) and the row it would make (new): the caller
must be allowed to read both (``ReadScope.row``: a VCSE worker only their referred people's rows,
their own tasks; nobody without VIEW_CLINICAL a clinical contact), and every field that changes
must pass its rule. A role that may not read a field may not write it, nor change what
classifies it (``contact.clinical``). A field with no rule is refused: a new column must be
given one (``tests/test_server_write_rules.py`` fails until it is).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field, replace
from typing import Any

from int_desk.domain import information_needs
from int_desk.domain.gp_notification import TRIGGER_PERMISSIONS, Trigger
from int_desk.domain.permissions import (
    ACTION_LABELS,
    CLINICAL_CLASSIFIER,
    CLINICAL_FIELDS,
    WRITE_PERMISSIONS,
    reads_clinical_row,
)
from int_desk.domain.permissions import Permission as P
from int_desk.domain.vocab import (
    CarePlanStatus,
    ConsentDecision,
    ContactKind,
    EscalationStatus,
    GoalAchievement,
    GoalLifecycle,
    HealthEventKind,
    HuddleItemStatus,
    HuddleKind,
    HuddleStatus,
    OrganisationKind,
    Priority,
    ReferralService,
    ReferralStatus,
    Role,
    Sex,
    TaskKind,
    TaskStatus,
)
from int_desk.server.principal import Principal
from int_desk.wire import schema

Row = Mapping[str, Any]
Transition = Callable[[Row | None, Row], P | None]


def _vocab(enum: Any) -> frozenset[str]:
    return frozenset(e.value for e in enum)


@dataclass(frozen=True)
class FieldRule:
    needs: P | None = None
    transition: Transition | None = None
    values: frozenset[str] | None = None
    fixed: bool = False
    by_caller: bool = False
    clinical: bool = False


@dataclass(frozen=True)
class EntityRule:
    write: P
    fields: Mapping[str, FieldRule]
    pushable: bool = True  # False: reference data, managed centrally (admin), never pushed
    owner: str | None = None  # a member field: only that member (or, when empty, anyone) writes


F = FieldRule
ANY = F()
FIXED = F(fixed=True)
SCOPE = FIXED  # what places the row in a patient's or team's scope (engine_ops too)
AUTHOR = F(fixed=True, by_caller=True)
# Clinical content: the fields of ``CLINICAL_FIELDS`` (domain/permissions.py, which the desktop
# redacts by) are marked ``clinical`` here by ``_entity``; CLINICAL only says so where read.
CLINICAL = ANY


def _meta() -> dict[str, FieldRule]:
    # Bookkeeping: times and who-edited are the laptop's; deleting needs the entity's permission.
    return {
        "created_at": FIXED,
        "created_by": FIXED,
        "updated_at": ANY,
        "updated_by": ANY,
        "deleted": ANY,
    }


def _becomes_active(old: Row | None, new: Row) -> P | None:
    was = old.get("status") if old else None
    if new.get("status") == CarePlanStatus.ACTIVE.value and was != CarePlanStatus.ACTIVE.value:
        return P.SIGN_OFF_PLAN
    return None


def _declined_overridden(old: Row | None, new: Row) -> P | None:
    if old and old.get("consent_decision") == ConsentDecision.DENY.value:
        if new.get("consent_decision") != ConsentDecision.DENY.value:
            return P.OVERRIDE_CONSENT
    return None


def _resolved(old: Row | None, new: Row) -> P | None:
    if new.get("status") == EscalationStatus.RESOLVED.value:
        return P.RESOLVE_ESCALATION
    if old and old.get("status") == EscalationStatus.RESOLVED.value:
        return P.RESOLVE_ESCALATION  # reopening is the resolver's decision too
    return None


def _notifies(_old: Row | None, new: Row) -> P | None:
    """A GP notification needs the permission of the action that queued it."""
    return TRIGGER_PERMISSIONS.get(str(new.get("trigger")), P.MANAGE_MEMBERS)


def _withdrawn(old: Row | None, new: Row) -> P | None:
    """Withdrawing what the GP was told (sent in error) is for a clinician who signs off."""
    if new.get("deleted") and not (old or {}).get("deleted"):
        return P.SIGN_OFF_PLAN
    return None


# Written by the endpoint itself (a practice reading a notification); a laptop may only leave it
# empty (no value is allowed).
ENDPOINT_ONLY = F(values=frozenset())


def _entity(
    name: str, fields: dict[str, FieldRule], *, pushable: bool = True, owner: str | None = None
) -> EntityRule:
    rules = {**_meta(), **fields}
    for clinical in CLINICAL_FIELDS.get(name, ()):
        if clinical in rules:
            rules[clinical] = replace(rules[clinical], clinical=True)
    write = WRITE_PERMISSIONS.get(name, P.MANAGE_MEMBERS)
    return EntityRule(write, rules, pushable, owner)


def _central(entity: str, **fields: FieldRule) -> EntityRule:
    return _entity(entity, fields, pushable=False)


SIGN_OFF = F(needs=P.SIGN_OFF_PLAN)
ROLES = _vocab(Role)

RULES: dict[str, EntityRule] = {
    # Reference data: admin routes and seeding only (MANAGE_MEMBERS there), never a push.
    "place": _central("place", name=ANY),
    "organisation": _central(
        "organisation", name=ANY, kind=F(values=_vocab(OrganisationKind)), code=ANY, place_id=ANY
    ),
    "member": _central(
        "member", name=ANY, role=F(values=ROLES), organisation_id=ANY, email=ANY, active=ANY
    ),
    "team": _central(
        "team",
        name=ANY,
        place_id=ANY,
        neighbourhood=ANY,
        huddle_kind=F(values=_vocab(HuddleKind)),
        phone=ANY,
        email=ANY,
        config=ANY,
    ),  # fmt: skip
    "team_membership": _entity(
        "team_membership", {"team_id": SCOPE, "member_id": FIXED, "visiting": ANY}
    ),
    "cohort": _entity("cohort", {"team_id": SCOPE, "name": ANY, "description": ANY}),
    "patient": _entity(
        "patient",
        {
            "nhs_number": ANY,
            "given_name": ANY,
            "family_name": ANY,
            "date_of_birth": ANY,
            "sex": F(values=_vocab(Sex)),
            "postcode": ANY,
            "deprivation_decile": ANY,
            "deprivation_quintile": ANY,
            "practice_id": ANY,
            "usual_gp_id": ANY,
            "phone": ANY,
            "address": ANY,
            "communication_needs": ANY,
            "information_needs": F(values=information_needs.stored_values()),
            "carer_name": ANY,
            "carer_relationship": ANY,
            "carer_phone": ANY,
            "carer_needs": ANY,
            "long_term_conditions": CLINICAL,
        },
    ),  # fmt: skip
    "flag": _entity(
        "flag",
        {"patient_id": SCOPE, "code": ANY, "active": ANY, "since": ANY, "note": ANY},
    ),
    "cohort_membership": _entity(
        "cohort_membership",
        {
            "cohort_id": SCOPE,
            "patient_id": SCOPE,
            "enrolled_on": ANY,
            "enrol_reason": ANY,
            "source": F(values=frozenset({"manual", "phm_import"})),
            "risk_score": ANY,
            "discharged_on": ANY,
            "discharge_reason": ANY,
            "lead_member_id": ANY,
            "priority": F(values=_vocab(Priority)),
        },
    ),  # fmt: skip
    "care_team_participant": _entity(
        "care_team_participant",
        {"patient_id": SCOPE, "member_id": ANY, "note": ANY},
    ),
    "care_plan": _entity(
        "care_plan",
        {
            "patient_id": SCOPE,
            "series_id": FIXED,
            "version": FIXED,
            "status": F(values=_vocab(CarePlanStatus), transition=_becomes_active),
            "about_me": ANY,
            "what_matters": ANY,
            "contingency_plan": ANY,
            "clinical_summary": CLINICAL,
            "medicines_notes": CLINICAL,
            "carer_involvement": ANY,
            "consent_decision": F(values=_vocab(ConsentDecision), transition=_declined_overridden),
            "consent_with": ANY,
            "consent_date": ANY,
            "consent_recorded_by": ANY,
            "lead_member_id": ANY,
            "review_date": ANY,
            "signed_off_by": F(needs=P.SIGN_OFF_PLAN, by_caller=True),
            "signed_off_at": SIGN_OFF,
            "previous_version_id": FIXED,
        },
    ),  # fmt: skip
    "goal": _entity(
        "goal",
        {
            "care_plan_id": SCOPE,
            "description": ANY,
            "target_measure": ANY,
            "target_date": ANY,
            "lifecycle_status": F(values=_vocab(GoalLifecycle)),
            "achievement_status": F(values=_vocab(GoalAchievement)),
            "position": ANY,
        },
    ),  # fmt: skip
    "plan_action": _entity(
        "plan_action",
        {
            "care_plan_id": SCOPE,
            "goal_id": ANY,
            "description": ANY,
            "owner_team_id": ANY,
            "owner_role": F(values=ROLES),
            "owner_member_id": ANY,
            "when": ANY,
            "status": F(values=_vocab(TaskStatus)),
            "position": ANY,
        },
    ),  # fmt: skip
    "task": _entity(
        "task",
        {
            "patient_id": SCOPE,
            "kind": F(values=_vocab(TaskKind)),
            "description": ANY,
            "status": F(values=_vocab(TaskStatus)),
            "owner_team_id": ANY,
            "owner_role": F(values=ROLES),
            "owner_member_id": ANY,
            "requester_id": ANY,
            "due_on": ANY,
            "completed_at": ANY,
            "huddle_item_id": ANY,
        },
    ),  # fmt: skip
    "contact": _entity(
        "contact",
        {
            "patient_id": SCOPE,
            "kind": F(values=_vocab(ContactKind)),
            "occurred_at": ANY,
            "author_id": AUTHOR,
            "text": CLINICAL,
            "clinical": ANY,
        },
    ),  # fmt: skip
    "referral": _entity(
        "referral",
        {
            "patient_id": SCOPE,
            "service": F(values=_vocab(ReferralService)),
            "reason": ANY,
            "referred_on": ANY,
            "referred_by": AUTHOR,
            "to_member_id": ANY,
            "status": F(values=_vocab(ReferralStatus)),
            "outcome": ANY,
            "outcome_on": ANY,
        },
    ),  # fmt: skip
    "escalation": _entity(
        "escalation",
        {
            "patient_id": SCOPE,
            "raised_by": AUTHOR,
            "raised_at": FIXED,
            "reason": CLINICAL,
            "status": F(values=_vocab(EscalationStatus), transition=_resolved),
            "resolved_by": F(needs=P.RESOLVE_ESCALATION, by_caller=True),
            "resolved_at": F(needs=P.RESOLVE_ESCALATION),
            "resolution": F(needs=P.RESOLVE_ESCALATION, clinical=True),
        },
    ),  # fmt: skip
    "health_event": _entity(
        "health_event",
        {
            "patient_id": SCOPE,
            "kind": F(values=_vocab(HealthEventKind)),
            "occurred_on": ANY,
            "source": ANY,
            "detail": CLINICAL,
        },
    ),  # fmt: skip
    "huddle": _entity(
        "huddle",
        {
            "team_id": SCOPE,
            "scheduled_at": ANY,
            "kind": F(values=_vocab(HuddleKind)),
            "chair_id": ANY,
            "status": F(values=_vocab(HuddleStatus)),
            "started_at": ANY,
            "closed_at": ANY,
            "minutes": CLINICAL,
        },
    ),  # fmt: skip
    "huddle_attendee": _entity("huddle_attendee", {"huddle_id": SCOPE, "member_id": FIXED}),
    "huddle_item": _entity(
        "huddle_item",
        {
            "huddle_id": SCOPE,
            "patient_id": SCOPE,
            "position": ANY,
            "reasons": ANY,
            "status": F(values=_vocab(HuddleItemStatus)),
            "outcome": CLINICAL,
            "decisions": CLINICAL,
            "seconds_spent": ANY,
            "rolled_over_from_id": FIXED,
        },
    ),  # fmt: skip
    "saved_view": _entity(
        "saved_view", {"member_id": FIXED, "name": ANY, "filters": ANY}, owner="member_id"
    ),
    # What the INT told the GP: sent as made, never rewritten; only the endpoint marks it read.
    "gp_notification": _entity(
        "gp_notification",
        {
            "patient_id": SCOPE,
            "team_id": FIXED,
            "practice_id": FIXED,
            "recipient_ods": FIXED,
            "trigger": F(fixed=True, values=_vocab(Trigger), transition=_notifies),
            "source_entity": FIXED,
            "source_id": FIXED,
            "subject": FIXED,
            "text": FIXED,  # clinical (CLINICAL_FIELDS)
            "queued_at": FIXED,
            "read_at": ENDPOINT_ONLY,
            "read_by": ENDPOINT_ONLY,
            "deleted": F(transition=_withdrawn),  # kept as sent, unless a clinician withdraws it
        },
    ),  # fmt: skip
}


def clinical_fields(entity: str) -> tuple[str, ...]:
    """The entity's clinical-content fields (the read side blanks exactly these)."""
    rule = RULES.get(entity)
    return tuple(n for n, r in rule.fields.items() if r.clinical) if rule else ()


def reads_clinical(who: Principal, entity: str, row: Row | None) -> bool:
    """May ``who`` read this row's clinical fields? (VIEW_CLINICAL, or they wrote it.)"""
    return reads_clinical_row(entity, row, clinical=who.clinical, member_id=who.member_id)


@dataclass
class Verdict:
    """Why an op is refused ("" when allowed) and which fields a non-clinical caller may not
    hold (their laptop's blanks: dropped from an update, carried over on an insert)."""

    reason: str = ""
    unreadable: tuple[str, ...] = field(default=())


def _forbidden(who: Principal, what: str) -> str:
    return f"forbidden: the role '{who.label}' may not {what}"


def _action(permission: P) -> str:
    return ACTION_LABELS.get(permission, permission.value)


def check(
    who: Principal,
    entity: str,
    old: Row | None,
    fields: Row,
    readable: Callable[[Row], bool] = lambda _row: True,
) -> Verdict:
    """The verdict on one pushed op: ``old`` is the stored row (None for a new one), ``fields``
    what the op sets, ``readable(row)`` whether the caller may read a row (the read scope)."""
    rule = RULES.get(entity)
    if rule is None:
        return Verdict("forbidden: there is no write rule for this kind of record")
    if not rule.pushable:
        return Verdict("reference data is managed centrally")
    if not who.may(rule.write):
        return Verdict(_forbidden(who, _action(rule.write)))
    new = {**(old or {}), **fields}
    # Old and new row: the caller must be able to read both, clinical classification included.
    for row in (old, new):
        if row is None:
            continue
        if not readable(row):
            return Verdict("forbidden: only people referred to you, and your own rows")
        owner = row.get(rule.owner) if rule.owner else None
        if rule.owner and who.member_id is None:
            return Verdict(f"forbidden: only a person may keep a {entity.replace('_', ' ')}")
        if owner is not None and owner != str(who.member_id):
            return Verdict(f"forbidden: this {entity.replace('_', ' ')} is another person's")
        if not reads_clinical(who, entity, row) and entity in CLINICAL_CLASSIFIER:
            return Verdict(_forbidden(who, "write clinical notes"))
    unreadable = () if reads_clinical(who, entity, new) else clinical_fields(entity)
    for name, value in fields.items():
        if old is not None and old.get(name) == value:
            continue  # unchanged: nothing to allow
        fr = rule.fields.get(name)
        if fr is None:
            return Verdict(f"forbidden: {entity}.{name[:64]} has no write rule")
        if fr.fixed and old is not None:
            return Verdict(f"forbidden: {entity}.{name} cannot be changed once set")
        if fr.values is not None and value is not None and value not in fr.values:
            return Verdict(f"refused: {entity}.{name} is not one of {sorted(fr.values)}")
        if old is None and value in (None, "") and not fr.transition:
            continue  # a new row leaving the field empty sets nothing
        for needed in (fr.needs, fr.transition(old, new) if fr.transition else None):
            if needed is not None and not who.may(needed):
                return Verdict(_forbidden(who, _action(needed)))
        if fr.by_caller and value is not None and value != str(who.member_id or ""):
            return Verdict(f"forbidden: {entity}.{name} may only name you")
        if name in unreadable and value not in ("", None):
            return Verdict(_forbidden(who, f"write {entity.replace('_', ' ')} {name}"))
    return Verdict("", unreadable)


def coverage_gaps() -> list[str]:
    """Synced fields with no rule, and rules for fields that do not exist (should be none)."""
    gaps = []
    for name, ent in schema.ENTITIES.items():
        rule = RULES.get(name)
        have = set(rule.fields) if rule else set()
        gaps += [f"{name}.{c} has no write rule" for c in sorted(set(ent.columns) - have)]
        gaps += [f"{name}.{c} is not a synced field" for c in sorted(have - set(ent.columns))]
    for entity, names in CLINICAL_FIELDS.items():
        gaps += [f"{entity}.{n} is clinical but not in RULES" for n in names
                 if n not in clinical_fields(entity)]  # fmt: skip
    return gaps
