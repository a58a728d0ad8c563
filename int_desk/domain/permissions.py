"""Roles and permissions as data. Services call ``require`` before acting (so the GUI, the CLI
and sync all obey the same rules); teams may grant extra permissions in their configuration.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from enum import StrEnum
from typing import Any

from int_desk.domain.actor import Actor
from int_desk.domain.errors import PermissionDenied
from int_desk.domain.vocab import Role


class Permission(StrEnum):
    VIEW_CASELOAD = "view_caseload"  # demographics, team, flags of the team's patients
    VIEW_REFERRED = "view_referred"  # only people referred to you: demographics, contingency plan
    VIEW_CLINICAL = "view_clinical"  # clinical notes, medicines, clinical summary
    EDIT_PATIENT = "edit_patient"  # enrol/discharge, lead professional, flags
    ADD_CONTACT = "add_contact"
    MANAGE_TASKS = "manage_tasks"
    REFER = "refer"
    ESCALATE = "escalate"
    RESOLVE_ESCALATION = "resolve_escalation"
    EDIT_CARE_PLAN = "edit_care_plan"
    SIGN_OFF_PLAN = "sign_off_plan"
    OVERRIDE_CONSENT = "override_consent"
    EXPORT_PLAN = "export_plan"
    IMPORT_COHORT = "import_cohort"
    RUN_HUDDLE = "run_huddle"
    VIEW_AUDIT = "view_audit"
    MANAGE_MEMBERS = "manage_members"


P = Permission
_CLINICAL_CORE = frozenset(
    {
        P.VIEW_CASELOAD,
        P.VIEW_CLINICAL,
        P.EDIT_PATIENT,
        P.ADD_CONTACT,
        P.MANAGE_TASKS,
        P.REFER,
        P.ESCALATE,
        P.EDIT_CARE_PLAN,
        P.EXPORT_PLAN,
        P.RUN_HUDDLE,
    }
)
# Non-clinical partners (council, VCSE) see the caseload and contingency plan, not notes/medicines.
_NON_CLINICAL = frozenset({P.VIEW_CASELOAD, P.ADD_CONTACT, P.MANAGE_TASKS, P.REFER, P.ESCALATE})

ROLE_PERMISSIONS: dict[Role, frozenset[Permission]] = {
    Role.GP: _CLINICAL_CORE | {P.RESOLVE_ESCALATION, P.SIGN_OFF_PLAN},
    Role.DISTRICT_NURSE: _CLINICAL_CORE,
    Role.COMMUNITY_MATRON: _CLINICAL_CORE,
    Role.PRACTICE_NURSE: _CLINICAL_CORE,
    Role.CARE_COORDINATOR: _CLINICAL_CORE | {P.IMPORT_COHORT},
    Role.SOCIAL_PRESCRIBER: _NON_CLINICAL | {P.RUN_HUDDLE},
    Role.CLINICAL_PHARMACIST: _CLINICAL_CORE,
    Role.COMMUNITY_PHARMACIST: _CLINICAL_CORE - {P.EDIT_PATIENT},
    Role.OPTOMETRIST: _CLINICAL_CORE - {P.EDIT_PATIENT, P.RUN_HUDDLE},
    Role.DENTIST: _CLINICAL_CORE - {P.EDIT_PATIENT, P.RUN_HUDDLE},
    Role.SOCIAL_WORKER: _NON_CLINICAL | {P.RUN_HUDDLE, P.EDIT_CARE_PLAN},
    Role.MENTAL_HEALTH_PRACTITIONER: _CLINICAL_CORE,
    Role.PHYSIO_OT: _CLINICAL_CORE,
    Role.HEALTH_WELLBEING_COACH: _NON_CLINICAL,
    # Referred patients only (VIEW_REFERRED, not the team caseload): demographics, contingency
    # plan, own tasks. Services checking VIEW_CASELOAD (team-wide views) refuse them by default.
    Role.VCSE_WORKER: frozenset({P.VIEW_REFERRED, P.ADD_CONTACT, P.MANAGE_TASKS}),
    Role.CLINICAL_LEAD: _CLINICAL_CORE
    | {P.RESOLVE_ESCALATION, P.SIGN_OFF_PLAN, P.OVERRIDE_CONSENT, P.IMPORT_COHORT, P.VIEW_AUDIT},
    Role.ADMIN: frozenset({P.MANAGE_MEMBERS, P.VIEW_AUDIT, P.VIEW_CASELOAD}),
}


# --- data scope -------------------------------------------------------------------------------

REFERRED_ONLY_ROLES: frozenset[Role] = frozenset({Role.VCSE_WORKER})
"""Roles that see only patients referred to them (Referral.to_member_id), never the caseload."""

CLINICAL_ROLES: frozenset[Role] = frozenset(
    r for r, perms in ROLE_PERMISSIONS.items() if P.VIEW_CLINICAL in perms
)

CLINICAL_FIELDS: dict[str, tuple[str, ...]] = {
    "care_plan": ("clinical_summary", "medicines_notes"),
    "contact": ("text",),  # only for contacts marked clinical
    "escalation": ("reason", "resolution"),  # except for the person who raised it
    "health_event": ("detail",),
    "huddle": ("minutes",),
    "huddle_item": ("outcome", "decisions"),
    "patient": ("long_term_conditions",),
    "gp_notification": ("text",),  # huddle outcomes, resolutions, plan content
}
"""Clinical fields per table: blanked for roles without VIEW_CLINICAL (in the desktop services
and in what the central endpoint sends), and never written by them (the endpoint's write rules,
``int_desk/server/write_rules.py``, mark exactly these fields clinical)."""

CLINICAL_CLASSIFIER: dict[str, str] = {"contact": "clinical"}
"""A bool field deciding whether a row's clinical fields hold clinical content (absent: yes).
A role without VIEW_CLINICAL may not change it (that would declassify a note)."""

CLINICAL_AUTHOR: dict[str, str] = {"escalation": "raised_by"}
"""The member who wrote the row reads its clinical fields even without VIEW_CLINICAL (a social
prescriber sees the reason they gave when escalating, and its resolution)."""


def row_is_clinical(entity: str, row: Mapping[str, Any] | None) -> bool:
    """Whether a row's clinical fields hold clinical content."""
    if row is None or entity not in CLINICAL_FIELDS:
        return False
    classifier = CLINICAL_CLASSIFIER.get(entity)
    return bool(row.get(classifier, True)) if classifier else True


def reads_clinical_row(
    entity: str, row: Mapping[str, Any] | None, *, clinical: bool, member_id: Any
) -> bool:
    """May a reader (``clinical``: holds VIEW_CLINICAL) read this row's clinical fields?"""
    if clinical or not row_is_clinical(entity, row):
        return True
    author = CLINICAL_AUTHOR.get(entity)
    value = row.get(author) if author and row is not None else None
    return bool(value and member_id and str(value) == str(member_id))


WRITE_PERMISSIONS: dict[str, Permission] = {
    "patient": Permission.EDIT_PATIENT,
    "flag": Permission.EDIT_PATIENT,
    "cohort_membership": Permission.EDIT_PATIENT,
    "care_team_participant": Permission.EDIT_PATIENT,
    "health_event": Permission.EDIT_PATIENT,
    "cohort": Permission.IMPORT_COHORT,
    "care_plan": Permission.EDIT_CARE_PLAN,
    "goal": Permission.EDIT_CARE_PLAN,
    "plan_action": Permission.EDIT_CARE_PLAN,
    "task": Permission.MANAGE_TASKS,
    "contact": Permission.ADD_CONTACT,
    "referral": Permission.REFER,
    "escalation": Permission.ESCALATE,
    "huddle": Permission.RUN_HUDDLE,
    "huddle_attendee": Permission.RUN_HUDDLE,
    "huddle_item": Permission.RUN_HUDDLE,
    "team_membership": Permission.MANAGE_MEMBERS,
    "saved_view": Permission.VIEW_CASELOAD,
    # Refined by the notification's trigger on the endpoint (domain/gp_notification.py).
    "gp_notification": Permission.VIEW_CASELOAD,
}
"""The permission a write to each synced entity needs (reads follow team scope)."""

# --- team grants --------------------------------------------------------------------------------

ROLE_GRANTS_KEY = "role_permissions"
"""Team.config key granting extra permissions to roles:
``{"role_permissions": {"community_matron": ["sign_off_plan"]}}`` ("grants" is accepted too)."""
ROLE_GRANTS_ALIASES = (ROLE_GRANTS_KEY, "grants")

_CLINICAL_CONTENT = frozenset(
    {P.VIEW_CLINICAL, P.EDIT_CARE_PLAN, P.SIGN_OFF_PLAN, P.OVERRIDE_CONSENT, P.EXPORT_PLAN}
)
NEVER_GRANTABLE: dict[Role, frozenset[Permission]] = {
    # A team cannot open clinical notes/medicines to volunteers, nor clinical content to admins.
    Role.VCSE_WORKER: _CLINICAL_CONTENT
    | {P.VIEW_CASELOAD, P.VIEW_AUDIT, P.MANAGE_MEMBERS, P.IMPORT_COHORT},
    Role.ADMIN: _CLINICAL_CONTENT,
    Role.HEALTH_WELLBEING_COACH: frozenset({P.VIEW_CLINICAL, P.SIGN_OFF_PLAN, P.OVERRIDE_CONSENT}),
    Role.SOCIAL_PRESCRIBER: frozenset({P.VIEW_CLINICAL, P.SIGN_OFF_PLAN, P.OVERRIDE_CONSENT}),
    Role.SOCIAL_WORKER: frozenset({P.VIEW_CLINICAL, P.SIGN_OFF_PLAN, P.OVERRIDE_CONSENT}),
}


def grants_from_configs(configs: Iterable[Mapping[str, Any] | None], role: Role) -> frozenset[str]:
    """Permissions the given team configurations grant to ``role``.

    Unknown names are ignored, and so are grants in NEVER_GRANTABLE for the role, so a
    mistyped or over-generous team configuration can never widen a non-clinical role's access
    to clinical content.
    """
    known = {p.value for p in Permission}
    blocked = {p.value for p in NEVER_GRANTABLE.get(role, frozenset())}
    out: set[str] = set()
    for config in configs:
        for key in ROLE_GRANTS_ALIASES:
            table = (config or {}).get(key) or {}
            if not isinstance(table, Mapping):
                continue
            names = table.get(role.value) or ()
            if isinstance(names, str):
                names = (names,)
            out.update(n for n in names if isinstance(n, str) and n in known and n not in blocked)
    return frozenset(out)


# --- checks -------------------------------------------------------------------------------------


def allowed(actor: Actor, permission: Permission, granted: frozenset[str] = frozenset()) -> bool:
    """True when the actor's role has the permission, or the team config grants it to the role."""
    if permission in ROLE_PERMISSIONS.get(actor.role, frozenset()):
        return True
    return permission.value in granted and permission not in NEVER_GRANTABLE.get(
        actor.role, frozenset()
    )


ACTION_LABELS: dict[Permission, str] = {
    P.VIEW_CASELOAD: "view the caseload",
    P.VIEW_REFERRED: "view people referred to you",
    P.VIEW_CLINICAL: "view clinical notes and medicines",
    P.EDIT_PATIENT: "change a patient's enrolment, lead or flags",
    P.ADD_CONTACT: "record a contact",
    P.MANAGE_TASKS: "manage tasks",
    P.REFER: "make or update a referral",
    P.ESCALATE: "escalate to the clinical lead",
    P.RESOLVE_ESCALATION: "resolve an escalation",
    P.EDIT_CARE_PLAN: "edit a care plan",
    P.SIGN_OFF_PLAN: "sign off a care plan",
    P.OVERRIDE_CONSENT: "override a declined consent",
    P.EXPORT_PLAN: "export or print a care plan",
    P.IMPORT_COHORT: "import a cohort list",
    P.RUN_HUDDLE: "run a huddle",
    P.VIEW_AUDIT: "view or export the audit trail",
    P.MANAGE_MEMBERS: "manage team members",
}


def require(actor: Actor, permission: Permission, granted: frozenset[str] = frozenset()) -> None:
    """Raise PermissionDenied unless allowed. Services should prefer
    ``int_desk.services.access.require`` which also reads team grants and audits the denial."""
    if not allowed(actor, permission, granted):
        raise PermissionDenied(ACTION_LABELS.get(permission, permission.value), actor.role.label)
