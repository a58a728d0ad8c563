"""Controlled vocabularies, named after FHIR R4 / UK Core where one exists.

Values are stored as their string value, so they survive sync and export unchanged.
"""

from __future__ import annotations

from enum import StrEnum


class Role(StrEnum):
    GP = "gp"
    DISTRICT_NURSE = "district_nurse"
    COMMUNITY_MATRON = "community_matron"
    PRACTICE_NURSE = "practice_nurse"
    CARE_COORDINATOR = "care_coordinator"
    SOCIAL_PRESCRIBER = "social_prescriber"
    CLINICAL_PHARMACIST = "clinical_pharmacist"
    COMMUNITY_PHARMACIST = "community_pharmacist"
    OPTOMETRIST = "optometrist"
    DENTIST = "dentist"
    SOCIAL_WORKER = "social_worker"
    MENTAL_HEALTH_PRACTITIONER = "mental_health_practitioner"
    PHYSIO_OT = "physio_ot"
    HEALTH_WELLBEING_COACH = "health_wellbeing_coach"
    VCSE_WORKER = "vcse_worker"
    CLINICAL_LEAD = "clinical_lead"
    ADMIN = "admin"

    @property
    def label(self) -> str:
        return ROLE_LABELS[self]


def role_label(role: str | None) -> str:
    """A stored role's label: an unknown role (a newer app's) as stored, none as ''."""
    if not role:
        return ""
    try:
        return Role(role).label
    except ValueError:
        return role


ROLE_LABELS: dict[Role, str] = {
    Role.GP: "GP",
    Role.DISTRICT_NURSE: "District nurse",
    Role.COMMUNITY_MATRON: "Community matron",
    Role.PRACTICE_NURSE: "Practice nurse",
    Role.CARE_COORDINATOR: "Care coordinator",
    Role.SOCIAL_PRESCRIBER: "Social prescriber",
    Role.CLINICAL_PHARMACIST: "Clinical pharmacist",
    Role.COMMUNITY_PHARMACIST: "Community pharmacist",
    Role.OPTOMETRIST: "Optometrist",
    Role.DENTIST: "Dentist",
    Role.SOCIAL_WORKER: "Social worker",
    Role.MENTAL_HEALTH_PRACTITIONER: "Mental health practitioner",
    Role.PHYSIO_OT: "Physiotherapist / OT",
    Role.HEALTH_WELLBEING_COACH: "Health and wellbeing coach",
    Role.VCSE_WORKER: "VCSE worker",
    Role.CLINICAL_LEAD: "INT clinical lead",
    Role.ADMIN: "Administrator",
}


class OrganisationKind(StrEnum):
    GP_PRACTICE = "gp_practice"
    COMMUNITY_TRUST = "community_trust"
    ACUTE_TRUST = "acute_trust"
    COUNCIL = "council"
    PHARMACY = "pharmacy"
    VCSE = "vcse"
    OTHER = "other"


class Sex(StrEnum):  # FHIR administrative-gender
    FEMALE = "female"
    MALE = "male"
    OTHER = "other"
    UNKNOWN = "unknown"


class FlagCode(StrEnum):
    HOUSEBOUND = "housebound"
    CARE_HOME = "care_home"
    END_OF_LIFE = "end_of_life"
    RECENTLY_DISCHARGED = "recently_discharged"
    FALLS_RISK = "falls_risk"
    LIVES_ALONE = "lives_alone"
    SAFEGUARDING = "safeguarding"
    ADD_TO_HUDDLE = "add_to_huddle"

    @property
    def label(self) -> str:
        return self.value.replace("_", " ").capitalize()


class Priority(StrEnum):
    HIGH = "high"
    MEDIUM = "medium"
    LOW = "low"

    @property
    def rank(self) -> int:
        return {"high": 0, "medium": 1, "low": 2}[self.value]


class CarePlanStatus(StrEnum):
    """Our lifecycle; 'due for review' is derived from the review date, not stored."""

    DRAFT = "draft"
    ACTIVE = "active"
    SUPERSEDED = "superseded"
    CLOSED = "closed"


class ConsentDecision(StrEnum):  # FHIR Consent.provision.type
    PERMIT = "permit"
    DENY = "deny"


class GoalLifecycle(StrEnum):
    PROPOSED = "proposed"
    ACTIVE = "active"
    ON_HOLD = "on-hold"
    COMPLETED = "completed"
    CANCELLED = "cancelled"


class GoalAchievement(StrEnum):
    IN_PROGRESS = "in-progress"
    IMPROVING = "improving"
    WORSENING = "worsening"
    NO_CHANGE = "no-change"
    ACHIEVED = "achieved"
    NOT_ACHIEVED = "not-achieved"


class TaskStatus(StrEnum):  # FHIR Task.status (subset)
    DRAFT = "draft"
    REQUESTED = "requested"
    ACCEPTED = "accepted"
    IN_PROGRESS = "in-progress"
    ON_HOLD = "on-hold"
    COMPLETED = "completed"
    CANCELLED = "cancelled"

    @property
    def is_open(self) -> bool:
        return self not in (TaskStatus.COMPLETED, TaskStatus.CANCELLED)


OPEN_TASK_STATUSES = tuple(s.value for s in TaskStatus if s.is_open)


class TaskKind(StrEnum):
    TASK = "task"
    HOME_VISIT = "home_visit"


class ContactKind(StrEnum):
    HOME_VISIT = "home_visit"
    PHONE_CALL = "phone_call"
    CARER_CALL = "carer_call"
    NOTE = "note"
    HUDDLE_DISCUSSION = "huddle_discussion"

    @property
    def label(self) -> str:
        return self.value.replace("_", " ").capitalize()


class ReferralService(StrEnum):
    GP = "gp"
    DISTRICT_NURSING = "district_nursing"
    COMMUNITY_PHARMACY = "community_pharmacy"
    OPTOMETRY = "optometry"
    DENTISTRY = "dentistry"
    SOCIAL_PRESCRIBING = "social_prescribing"
    SOCIAL_CARE = "social_care"
    MENTAL_HEALTH = "mental_health"
    VCSE = "vcse"
    OTHER = "other"

    @property
    def label(self) -> str:
        return REFERRAL_SERVICE_LABELS[self]


# Proper names, not the code capitalised ("Gp", "Vcse").
REFERRAL_SERVICE_LABELS = {
    ReferralService.GP: "GP",
    ReferralService.DISTRICT_NURSING: "District nursing",
    ReferralService.COMMUNITY_PHARMACY: "Community pharmacy",
    ReferralService.OPTOMETRY: "Optometry",
    ReferralService.DENTISTRY: "Dentistry",
    ReferralService.SOCIAL_PRESCRIBING: "Social prescribing",
    ReferralService.SOCIAL_CARE: "Social care",
    ReferralService.MENTAL_HEALTH: "Mental health",
    ReferralService.VCSE: "VCSE (voluntary sector)",
    ReferralService.OTHER: "Other",
}


class ReferralStatus(StrEnum):
    SENT = "sent"
    ACCEPTED = "accepted"
    DECLINED = "declined"
    COMPLETED = "completed"
    CANCELLED = "cancelled"


class EscalationStatus(StrEnum):
    OPEN = "open"
    RESOLVED = "resolved"


class HealthEventKind(StrEnum):
    ED_ATTENDANCE = "ed_attendance"
    EMERGENCY_ADMISSION = "emergency_admission"
    ADMISSION = "admission"  # elective, maternity or other: not an emergency
    DISCHARGE = "discharge"

    @property
    def label(self) -> str:
        return {
            "ed_attendance": "ED attendance",
            "emergency_admission": "Emergency admission",
            "admission": "Hospital admission (not an emergency)",
            "discharge": "Discharged from hospital",
        }[self.value]


class HuddleKind(StrEnum):
    DAILY = "daily"
    WEEKLY = "weekly"


class HuddleStatus(StrEnum):
    PLANNED = "planned"
    IN_PROGRESS = "in_progress"
    CLOSED = "closed"


class HuddleItemStatus(StrEnum):
    PENDING = "pending"
    DISCUSSED = "discussed"
    DEFERRED = "deferred"
    REMOVED = "removed"


class AuditAction(StrEnum):  # FHIR AuditEvent.action plus our sign-off
    CREATE = "C"
    READ = "R"
    UPDATE = "U"
    DELETE = "D"
    EXECUTE = "E"  # export, import, sync and similar operations
    SIGN_OFF = "S"

    @property
    def label(self) -> str:
        return {
            "C": "create",
            "R": "view",
            "U": "update",
            "D": "delete",
            "E": "export/execute",
            "S": "sign-off",
        }[self.value]
