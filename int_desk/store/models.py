"""ORM models of the local store (and the shapes the central endpoint mirrors).

Names follow FHIR R4 where one exists (CarePlan, Goal, Task, CareTeam, Flag, AuditEvent).
Goals, actions, contacts and the like are separate rows, never lists inside a parent, so two
people adding one each never overwrite each other.
"""

from __future__ import annotations

import uuid
from datetime import date, datetime
from typing import Any

from sqlalchemy import JSON, ForeignKey, Index, String, Text, UniqueConstraint, types
from sqlalchemy.orm import Mapped, mapped_column

from int_desk.domain.vocab import (
    CarePlanStatus,
    EscalationStatus,
    GoalAchievement,
    GoalLifecycle,
    HuddleItemStatus,
    HuddleKind,
    HuddleStatus,
    Priority,
    ReferralStatus,
    TaskKind,
    TaskStatus,
)
from int_desk.store.base import Base, Synced, UTCDateTime, utcnow

Uuid = types.Uuid
# --- organisation and team -------------------------------------------------------------------


class Place(Synced, Base):
    """Buckinghamshire, Oxfordshire, Berkshire West: the Place-based Partnership level."""

    __tablename__ = "place"
    name: Mapped[str] = mapped_column(String(120), unique=True)


class Organisation(Synced, Base):
    __tablename__ = "organisation"
    name: Mapped[str] = mapped_column(String(200))
    kind: Mapped[str] = mapped_column(String(32))
    code: Mapped[str | None] = mapped_column(String(16), unique=True)  # ODS code
    place_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("place.id"))


class Team(Synced, Base):
    """An Integrated Neighbourhood Team, attached at neighbourhood (PCN or PCN group) level."""

    __tablename__ = "team"
    name: Mapped[str] = mapped_column(String(200), unique=True)
    place_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("place.id"))
    neighbourhood: Mapped[str] = mapped_column(String(200))
    huddle_kind: Mapped[str] = mapped_column(String(16), default=HuddleKind.DAILY.value)
    # How people and carers reach the team: printed on care plans and the carer copy.
    phone: Mapped[str | None] = mapped_column(String(40))
    email: Mapped[str | None] = mapped_column(String(200))
    # Team configuration as data: agenda rules, permissions granted, etc.
    config: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)


class Member(Synced, Base):
    """A team member (FHIR Practitioner + PractitionerRole)."""

    __tablename__ = "member"
    name: Mapped[str] = mapped_column(String(200))
    role: Mapped[str] = mapped_column(String(40))
    organisation_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("organisation.id"))
    email: Mapped[str | None] = mapped_column(String(200))
    active: Mapped[bool] = mapped_column(default=True)


class TeamMembership(Synced, Base):
    __tablename__ = "team_membership"
    __table_args__ = (UniqueConstraint("team_id", "member_id"),)
    team_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("team.id"), index=True)
    member_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("member.id"), index=True)
    visiting: Mapped[bool] = mapped_column(default=False)  # e.g. pharmacist at weekly meetings


class Cohort(Synced, Base):
    __tablename__ = "cohort"
    __table_args__ = (UniqueConstraint("team_id", "name"),)
    team_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("team.id"), index=True)
    name: Mapped[str] = mapped_column(String(120))
    description: Mapped[str] = mapped_column(Text, default="")


# --- the person ------------------------------------------------------------------------------


class Patient(Synced, Base):
    __tablename__ = "patient"
    nhs_number: Mapped[str] = mapped_column(String(10), unique=True)
    given_name: Mapped[str] = mapped_column(String(100))
    family_name: Mapped[str] = mapped_column(String(100))
    date_of_birth: Mapped[date]
    sex: Mapped[str] = mapped_column(String(16))
    postcode: Mapped[str] = mapped_column(String(10), index=True)
    deprivation_decile: Mapped[int | None]  # IMD decile, 1 = most deprived
    # IMD quintile (1 = most deprived) when the extract gave a quintile and no decile
    deprivation_quintile: Mapped[int | None]
    practice_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("organisation.id"))
    usual_gp_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("member.id"))
    phone: Mapped[str | None] = mapped_column(String(40))
    address: Mapped[str | None] = mapped_column(String(300))
    communication_needs: Mapped[str] = mapped_column(Text, default="")
    # Accessible Information Standard needs as codes (domain/information_needs.py). Nullable:
    # rows synced by an older version carry no value for it.
    information_needs: Mapped[str | None] = mapped_column(String(200))
    carer_name: Mapped[str | None] = mapped_column(String(200))
    carer_relationship: Mapped[str | None] = mapped_column(String(100))
    carer_phone: Mapped[str | None] = mapped_column(String(40))
    carer_needs: Mapped[str] = mapped_column(Text, default="")
    long_term_conditions: Mapped[str] = mapped_column(Text, default="")  # comma-separated labels

    @property
    def display_name(self) -> str:
        return f"{self.given_name} {self.family_name}"


Index("ix_patient_family_given", Patient.family_name, Patient.given_name)


class Flag(Synced, Base):
    """FHIR Flag: housebound, end of life, add to next huddle..."""

    __tablename__ = "flag"
    __table_args__ = (Index("ix_flag_patient_code", "patient_id", "code"),)
    patient_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("patient.id"))
    code: Mapped[str] = mapped_column(String(32))
    active: Mapped[bool] = mapped_column(default=True)
    since: Mapped[date | None]
    note: Mapped[str] = mapped_column(Text, default="")


class CohortMembership(Synced, Base):
    __tablename__ = "cohort_membership"
    __table_args__ = (
        Index("ix_cohort_membership_cohort_patient", "cohort_id", "patient_id"),
        # Covering: the scorecard reads the memberships in person order from it (0008).
        Index(
            "ix_cohort_membership_patient",
            "patient_id",
            "cohort_id",
            "deleted",
            "enrolled_on",
            "discharged_on",
        ),
    )
    cohort_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("cohort.id"))
    patient_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("patient.id"))
    enrolled_on: Mapped[date]
    enrol_reason: Mapped[str] = mapped_column(Text, default="")
    source: Mapped[str] = mapped_column(String(40), default="manual")  # manual | phm_import
    risk_score: Mapped[float | None]
    discharged_on: Mapped[date | None]
    discharge_reason: Mapped[str | None] = mapped_column(Text)
    lead_member_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("member.id"), index=True)
    priority: Mapped[str] = mapped_column(String(8), default=Priority.MEDIUM.value)


class CareTeamParticipant(Synced, Base):
    """Others involved in the person's care beyond the named lead and usual GP."""

    __tablename__ = "care_team_participant"
    patient_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("patient.id"), index=True)
    member_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("member.id"))
    note: Mapped[str] = mapped_column(String(200), default="")


# --- care plan -------------------------------------------------------------------------------


class CarePlan(Synced, Base):
    """One version of a personalised care and support plan (FHIR CarePlan).

    Versions of one person's plan share ``series_id``; a signed-off version is immutable.
    """

    __tablename__ = "care_plan"
    __table_args__ = (Index("ix_care_plan_patient_status", "patient_id", "status"),)
    patient_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("patient.id"))
    series_id: Mapped[uuid.UUID] = mapped_column(Uuid, index=True)
    version: Mapped[int] = mapped_column(default=1)
    status: Mapped[str] = mapped_column(String(16), default=CarePlanStatus.DRAFT.value)
    about_me: Mapped[str] = mapped_column(Text, default="")
    what_matters: Mapped[str] = mapped_column(Text, default="")
    contingency_plan: Mapped[str] = mapped_column(Text, default="")
    clinical_summary: Mapped[str] = mapped_column(Text, default="")
    medicines_notes: Mapped[str] = mapped_column(Text, default="")
    carer_involvement: Mapped[str] = mapped_column(Text, default="")
    consent_decision: Mapped[str | None] = mapped_column(String(8))
    consent_with: Mapped[str] = mapped_column(Text, default="")
    consent_date: Mapped[date | None]
    consent_recorded_by: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("member.id"))
    lead_member_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("member.id"))
    review_date: Mapped[date | None]
    signed_off_by: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("member.id"))
    signed_off_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    previous_version_id: Mapped[uuid.UUID | None] = mapped_column(Uuid)


class Goal(Synced, Base):
    __tablename__ = "goal"
    care_plan_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("care_plan.id"), index=True)
    description: Mapped[str] = mapped_column(Text)  # the person's own words
    target_measure: Mapped[str] = mapped_column(Text, default="")
    target_date: Mapped[date | None]
    lifecycle_status: Mapped[str] = mapped_column(String(16), default=GoalLifecycle.ACTIVE.value)
    achievement_status: Mapped[str] = mapped_column(
        String(16), default=GoalAchievement.IN_PROGRESS.value
    )
    position: Mapped[int] = mapped_column(default=0)


class PlanAction(Synced, Base):
    """A care-plan activity: what, who (team/role/person), when, status, linked goal."""

    __tablename__ = "plan_action"
    care_plan_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("care_plan.id"), index=True)
    goal_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("goal.id"))
    description: Mapped[str] = mapped_column(Text)
    owner_team_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("team.id"))
    owner_role: Mapped[str | None] = mapped_column(String(40))
    owner_member_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("member.id"))
    when: Mapped[str] = mapped_column(String(200), default="")
    status: Mapped[str] = mapped_column(String(16), default=TaskStatus.REQUESTED.value)
    position: Mapped[int] = mapped_column(default=0)


# --- work and events -------------------------------------------------------------------------


class Task(Synced, Base):
    """FHIR Task; a planned home visit is a task of kind ``home_visit``."""

    __tablename__ = "task"
    __table_args__ = (
        Index("ix_task_patient_status", "patient_id", "status"),
        Index("ix_task_owner_member_status", "owner_member_id", "status"),
    )
    patient_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("patient.id"))
    kind: Mapped[str] = mapped_column(String(16), default=TaskKind.TASK.value)
    description: Mapped[str] = mapped_column(Text)
    status: Mapped[str] = mapped_column(String(16), default=TaskStatus.REQUESTED.value)
    owner_team_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("team.id"))
    owner_role: Mapped[str | None] = mapped_column(String(40))
    owner_member_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("member.id"))
    requester_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("member.id"))
    due_on: Mapped[date | None]
    completed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    huddle_item_id: Mapped[uuid.UUID | None] = mapped_column(Uuid)


class Contact(Synced, Base):
    """Append-only: a visit, phone call, carer call, note or huddle discussion."""

    __tablename__ = "contact"
    __table_args__ = (Index("ix_contact_patient_occurred", "patient_id", "occurred_at"),)
    patient_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("patient.id"))
    kind: Mapped[str] = mapped_column(String(24))
    occurred_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    author_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("member.id"))
    text: Mapped[str] = mapped_column(Text, default="")
    clinical: Mapped[bool] = mapped_column(default=True)  # hidden from non-clinical roles


class Referral(Synced, Base):
    __tablename__ = "referral"
    patient_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("patient.id"), index=True)
    service: Mapped[str] = mapped_column(String(32))
    reason: Mapped[str] = mapped_column(Text, default="")
    referred_on: Mapped[date]
    referred_by: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("member.id"))
    to_member_id: Mapped[uuid.UUID | None] = mapped_column(
        ForeignKey("member.id")
    )  # e.g. a VCSE worker
    status: Mapped[str] = mapped_column(String(16), default=ReferralStatus.SENT.value)
    outcome: Mapped[str] = mapped_column(Text, default="")
    outcome_on: Mapped[date | None]


class Escalation(Synced, Base):
    __tablename__ = "escalation"
    __table_args__ = (Index("ix_escalation_patient_status", "patient_id", "status"),)
    patient_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("patient.id"))
    raised_by: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("member.id"))
    raised_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    reason: Mapped[str] = mapped_column(Text)
    status: Mapped[str] = mapped_column(String(16), default=EscalationStatus.OPEN.value)
    resolved_by: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("member.id"))
    resolved_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    resolution: Mapped[str] = mapped_column(Text, default="")


class HealthEvent(Synced, Base):
    """ED attendance, emergency admission or discharge, usually from a PHM/hospital feed."""

    __tablename__ = "health_event"
    __table_args__ = (Index("ix_health_event_patient_occurred", "patient_id", "occurred_on"),)
    patient_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("patient.id"))
    kind: Mapped[str] = mapped_column(String(24))
    occurred_on: Mapped[date]
    source: Mapped[str] = mapped_column(String(120), default="")
    detail: Mapped[str] = mapped_column(Text, default="")


# --- huddles ---------------------------------------------------------------------------------


class Huddle(Synced, Base):
    __tablename__ = "huddle"
    __table_args__ = (Index("ix_huddle_team_scheduled", "team_id", "scheduled_at"),)
    team_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("team.id"))
    scheduled_at: Mapped[datetime] = mapped_column(UTCDateTime)
    kind: Mapped[str] = mapped_column(String(16), default=HuddleKind.DAILY.value)
    chair_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("member.id"))
    status: Mapped[str] = mapped_column(String(16), default=HuddleStatus.PLANNED.value)
    started_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    closed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    minutes: Mapped[str] = mapped_column(Text, default="")


class HuddleAttendee(Synced, Base):
    __tablename__ = "huddle_attendee"
    __table_args__ = (UniqueConstraint("huddle_id", "member_id"),)
    huddle_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("huddle.id"), index=True)
    member_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("member.id"))


class HuddleItem(Synced, Base):
    __tablename__ = "huddle_item"
    __table_args__ = (Index("ix_huddle_item_patient", "patient_id"),)
    huddle_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("huddle.id"), index=True)
    patient_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("patient.id"))
    position: Mapped[int] = mapped_column(default=0)
    reasons: Mapped[list[str]] = mapped_column(JSON, default=list)
    status: Mapped[str] = mapped_column(String(16), default=HuddleItemStatus.PENDING.value)
    outcome: Mapped[str] = mapped_column(Text, default="")
    decisions: Mapped[str] = mapped_column(Text, default="")
    seconds_spent: Mapped[int] = mapped_column(default=0)
    rolled_over_from_id: Mapped[uuid.UUID | None] = mapped_column(Uuid)


# Covering indexes the huddle agenda reads through (services/huddles/agenda.py): each rule seeks
# on its own predicate and never touches the table rows (migration 0003).
Index("ix_flag_code_active", Flag.code, Flag.active, Flag.deleted, Flag.patient_id)
Index("ix_escalation_status", Escalation.status, Escalation.deleted, Escalation.patient_id)
Index(
    "ix_health_event_kind_occurred",
    HealthEvent.kind,
    HealthEvent.occurred_on,
    HealthEvent.deleted,
    HealthEvent.patient_id,
)
Index(
    "ix_care_plan_status_review",
    CarePlan.status,
    CarePlan.review_date,
    CarePlan.deleted,
    CarePlan.patient_id,
)
Index("ix_task_status_due", Task.status, Task.due_on, Task.deleted, Task.patient_id)
Index("ix_task_huddle_item", Task.huddle_item_id)
Index(
    "ix_cohort_membership_agenda",
    CohortMembership.cohort_id,
    CohortMembership.discharged_on,
    CohortMembership.deleted,
    CohortMembership.patient_id,
    CohortMembership.priority,
    CohortMembership.enrolled_on,
)
# Covering indexes the scorecard reads through (services/scorecard.py, migration 0006): care
# plans, patients and hospital events are wide rows, and reading them whole over 50,000 people
# turned every scorecard into a scan of hundreds of megabytes of decrypted pages.
Index(
    "ix_care_plan_scorecard",
    CarePlan.patient_id,
    CarePlan.deleted,
    CarePlan.status,
    CarePlan.signed_off_at,
    CarePlan.review_date,
    CarePlan.series_id,
    CarePlan.updated_at,
)
Index(
    "ix_patient_scorecard",
    Patient.id,
    Patient.deleted,
    Patient.practice_id,
    Patient.deprivation_decile,
    Patient.deprivation_quintile,
    Patient.date_of_birth,
)
Index(
    "ix_health_event_patient_kind",
    HealthEvent.patient_id,
    HealthEvent.kind,
    HealthEvent.occurred_on,
    HealthEvent.deleted,
)


# --- GP notifications ------------------------------------------------------------------------


class GpNotification(Synced, Base):
    """A notification for the person's registered practice that the INT acted (FHIR
    Communication): queued by the service that acted, in the same transaction; the endpoint
    serves it to the practice's token and records when it was read (``read_at``/``read_by``,
    written only by the endpoint)."""

    __tablename__ = "gp_notification"
    __table_args__ = (Index("ix_gp_notification_patient_queued", "patient_id", "queued_at"),)
    patient_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("patient.id"))
    team_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("team.id"))  # the sender
    practice_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("organisation.id"))
    recipient_ods: Mapped[str] = mapped_column(String(16), default="")  # "" = no practice
    trigger: Mapped[str] = mapped_column(String(32))
    source_entity: Mapped[str] = mapped_column(String(40), default="")
    source_id: Mapped[uuid.UUID | None] = mapped_column(Uuid)
    subject: Mapped[str] = mapped_column(String(200))
    text: Mapped[str] = mapped_column(Text, default="")
    queued_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    read_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    read_by: Mapped[str | None] = mapped_column(String(120))


# --- local-only tables (not synced) ----------------------------------------------------------


class AuditEvent(Base):
    """Append-only, hash-chained record of who did what to which record, and when.

    ``detail`` holds ids and field names, never names, NHS numbers or free text.
    """

    __tablename__ = "audit_event"
    seq: Mapped[int] = mapped_column(primary_key=True, autoincrement=True)
    id: Mapped[uuid.UUID] = mapped_column(Uuid, unique=True)
    recorded_at: Mapped[datetime] = mapped_column(UTCDateTime)
    actor_id: Mapped[uuid.UUID | None] = mapped_column(Uuid, index=True)
    action: Mapped[str] = mapped_column(String(2))
    entity_type: Mapped[str] = mapped_column(String(40))
    entity_id: Mapped[uuid.UUID | None] = mapped_column(Uuid)
    patient_id: Mapped[uuid.UUID | None] = mapped_column(Uuid, index=True)
    detail: Mapped[str] = mapped_column(Text, default="")
    prev_hash: Mapped[str] = mapped_column(String(64))
    hash: Mapped[str] = mapped_column(String(64))


class SavedView(Synced, Base):
    """A named caseload filter; ``member_id`` NULL means built in for everyone."""

    __tablename__ = "saved_view"
    member_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("member.id"), index=True)
    name: Mapped[str] = mapped_column(String(120))
    filters: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)


class WorkspaceMeta(Base):
    """Key/value facts about this workspace (its id, current member); no patient data."""

    __tablename__ = "workspace_meta"
    key: Mapped[str] = mapped_column(String(64), primary_key=True)
    value: Mapped[str] = mapped_column(Text)


SYNCED_MODELS: tuple[type[Synced], ...] = tuple(
    m for m in Base.__subclasses__() if issubclass(m, Synced)
)
