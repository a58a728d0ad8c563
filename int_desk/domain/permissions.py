"""Roles and permissions as data. Services call ``require`` before acting (so the GUI, the CLI
and sync all obey the same rules); teams may grant extra permissions in their configuration.
"""

from __future__ import annotations

from enum import StrEnum

from int_desk.domain.actor import Actor
from int_desk.domain.errors import PermissionDenied
from int_desk.domain.vocab import Role


class Permission(StrEnum):
    VIEW_CASELOAD = "view_caseload"  # demographics, team, flags of the team's patients
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
    Role.VCSE_WORKER: frozenset({P.ADD_CONTACT, P.MANAGE_TASKS}),  # referred patients only
    Role.CLINICAL_LEAD: _CLINICAL_CORE
    | {P.RESOLVE_ESCALATION, P.SIGN_OFF_PLAN, P.OVERRIDE_CONSENT, P.IMPORT_COHORT, P.VIEW_AUDIT},
    Role.ADMIN: frozenset({P.MANAGE_MEMBERS, P.VIEW_AUDIT, P.VIEW_CASELOAD}),
}


def allowed(actor: Actor, permission: Permission, granted: frozenset[str] = frozenset()) -> bool:
    """True when the actor's role has the permission, or the team config grants it to the role."""
    return permission in ROLE_PERMISSIONS.get(actor.role, frozenset()) or permission in granted


def require(actor: Actor, permission: Permission, granted: frozenset[str] = frozenset()) -> None:
    if not allowed(actor, permission, granted):
        raise PermissionDenied(permission.value.replace("_", " "), actor.role.label)
