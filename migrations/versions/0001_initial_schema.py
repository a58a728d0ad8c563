"""initial schema

Revision ID: 0001_initial
Revises:
Create Date: 2026-11-22 05:44:28.944380
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import int_desk.store.base

revision: str = "0001_initial"
down_revision: str | None = None
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "audit_event",
        sa.Column("seq", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("recorded_at", int_desk.store.base.UTCDateTime(length=32), nullable=False),
        sa.Column("actor_id", sa.Uuid(), nullable=True),
        sa.Column("action", sa.String(length=2), nullable=False),
        sa.Column("entity_type", sa.String(length=40), nullable=False),
        sa.Column("entity_id", sa.Uuid(), nullable=True),
        sa.Column("patient_id", sa.Uuid(), nullable=True),
        sa.Column("detail", sa.Text(), nullable=False),
        sa.Column("prev_hash", sa.String(length=64), nullable=False),
        sa.Column("hash", sa.String(length=64), nullable=False),
        sa.PrimaryKeyConstraint("seq", name=op.f("pk_audit_event")),
        sa.UniqueConstraint("id", name=op.f("uq_audit_event_id")),
    )
    with op.batch_alter_table("audit_event", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_audit_event_actor_id"), ["actor_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_audit_event_patient_id"), ["patient_id"], unique=False)

    op.create_table(
        "place",
        sa.Column("name", sa.String(length=120), nullable=False),
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("created_at", int_desk.store.base.UTCDateTime(length=32), nullable=False),
        sa.Column("created_by", sa.Uuid(), nullable=True),
        sa.Column("updated_at", int_desk.store.base.UTCDateTime(length=32), nullable=False),
        sa.Column("updated_by", sa.Uuid(), nullable=True),
        sa.Column("server_version", sa.Integer(), nullable=True),
        sa.Column("deleted", sa.Boolean(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_place")),
        sa.UniqueConstraint("name", name=op.f("uq_place_name")),
    )
    op.create_table(
        "workspace_meta",
        sa.Column("key", sa.String(length=64), nullable=False),
        sa.Column("value", sa.Text(), nullable=False),
        sa.PrimaryKeyConstraint("key", name=op.f("pk_workspace_meta")),
    )
    op.create_table(
        "organisation",
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.Column("kind", sa.String(length=32), nullable=False),
        sa.Column("code", sa.String(length=16), nullable=True),
        sa.Column("place_id", sa.Uuid(), nullable=True),
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("created_at", int_desk.store.base.UTCDateTime(length=32), nullable=False),
        sa.Column("created_by", sa.Uuid(), nullable=True),
        sa.Column("updated_at", int_desk.store.base.UTCDateTime(length=32), nullable=False),
        sa.Column("updated_by", sa.Uuid(), nullable=True),
        sa.Column("server_version", sa.Integer(), nullable=True),
        sa.Column("deleted", sa.Boolean(), nullable=False),
        sa.ForeignKeyConstraint(
            ["place_id"], ["place.id"], name=op.f("fk_organisation_place_id_place")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_organisation")),
        sa.UniqueConstraint("code", name=op.f("uq_organisation_code")),
    )
    op.create_table(
        "team",
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.Column("place_id", sa.Uuid(), nullable=False),
        sa.Column("neighbourhood", sa.String(length=200), nullable=False),
        sa.Column("huddle_kind", sa.String(length=16), nullable=False),
        sa.Column("config", sa.JSON(), nullable=False),
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("created_at", int_desk.store.base.UTCDateTime(length=32), nullable=False),
        sa.Column("created_by", sa.Uuid(), nullable=True),
        sa.Column("updated_at", int_desk.store.base.UTCDateTime(length=32), nullable=False),
        sa.Column("updated_by", sa.Uuid(), nullable=True),
        sa.Column("server_version", sa.Integer(), nullable=True),
        sa.Column("deleted", sa.Boolean(), nullable=False),
        sa.ForeignKeyConstraint(["place_id"], ["place.id"], name=op.f("fk_team_place_id_place")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_team")),
        sa.UniqueConstraint("name", name=op.f("uq_team_name")),
    )
    op.create_table(
        "cohort",
        sa.Column("team_id", sa.Uuid(), nullable=False),
        sa.Column("name", sa.String(length=120), nullable=False),
        sa.Column("description", sa.Text(), nullable=False),
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("created_at", int_desk.store.base.UTCDateTime(length=32), nullable=False),
        sa.Column("created_by", sa.Uuid(), nullable=True),
        sa.Column("updated_at", int_desk.store.base.UTCDateTime(length=32), nullable=False),
        sa.Column("updated_by", sa.Uuid(), nullable=True),
        sa.Column("server_version", sa.Integer(), nullable=True),
        sa.Column("deleted", sa.Boolean(), nullable=False),
        sa.ForeignKeyConstraint(["team_id"], ["team.id"], name=op.f("fk_cohort_team_id_team")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_cohort")),
        sa.UniqueConstraint("team_id", "name", name=op.f("uq_cohort_team_id_name")),
    )
    with op.batch_alter_table("cohort", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_cohort_team_id"), ["team_id"], unique=False)

    op.create_table(
        "member",
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.Column("role", sa.String(length=40), nullable=False),
        sa.Column("organisation_id", sa.Uuid(), nullable=True),
        sa.Column("email", sa.String(length=200), nullable=True),
        sa.Column("active", sa.Boolean(), nullable=False),
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("created_at", int_desk.store.base.UTCDateTime(length=32), nullable=False),
        sa.Column("created_by", sa.Uuid(), nullable=True),
        sa.Column("updated_at", int_desk.store.base.UTCDateTime(length=32), nullable=False),
        sa.Column("updated_by", sa.Uuid(), nullable=True),
        sa.Column("server_version", sa.Integer(), nullable=True),
        sa.Column("deleted", sa.Boolean(), nullable=False),
        sa.ForeignKeyConstraint(
            ["organisation_id"],
            ["organisation.id"],
            name=op.f("fk_member_organisation_id_organisation"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_member")),
    )
    op.create_table(
        "huddle",
        sa.Column("team_id", sa.Uuid(), nullable=False),
        sa.Column("scheduled_at", int_desk.store.base.UTCDateTime(length=32), nullable=False),
        sa.Column("kind", sa.String(length=16), nullable=False),
        sa.Column("chair_id", sa.Uuid(), nullable=True),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("started_at", int_desk.store.base.UTCDateTime(length=32), nullable=True),
        sa.Column("closed_at", int_desk.store.base.UTCDateTime(length=32), nullable=True),
        sa.Column("minutes", sa.Text(), nullable=False),
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("created_at", int_desk.store.base.UTCDateTime(length=32), nullable=False),
        sa.Column("created_by", sa.Uuid(), nullable=True),
        sa.Column("updated_at", int_desk.store.base.UTCDateTime(length=32), nullable=False),
        sa.Column("updated_by", sa.Uuid(), nullable=True),
        sa.Column("server_version", sa.Integer(), nullable=True),
        sa.Column("deleted", sa.Boolean(), nullable=False),
        sa.ForeignKeyConstraint(
            ["chair_id"], ["member.id"], name=op.f("fk_huddle_chair_id_member")
        ),
        sa.ForeignKeyConstraint(["team_id"], ["team.id"], name=op.f("fk_huddle_team_id_team")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_huddle")),
    )
    with op.batch_alter_table("huddle", schema=None) as batch_op:
        batch_op.create_index("ix_huddle_team_scheduled", ["team_id", "scheduled_at"], unique=False)

    op.create_table(
        "patient",
        sa.Column("nhs_number", sa.String(length=10), nullable=False),
        sa.Column("given_name", sa.String(length=100), nullable=False),
        sa.Column("family_name", sa.String(length=100), nullable=False),
        sa.Column("date_of_birth", sa.Date(), nullable=False),
        sa.Column("sex", sa.String(length=16), nullable=False),
        sa.Column("postcode", sa.String(length=10), nullable=False),
        sa.Column("deprivation_decile", sa.Integer(), nullable=True),
        sa.Column("practice_id", sa.Uuid(), nullable=True),
        sa.Column("usual_gp_id", sa.Uuid(), nullable=True),
        sa.Column("phone", sa.String(length=40), nullable=True),
        sa.Column("address", sa.String(length=300), nullable=True),
        sa.Column("communication_needs", sa.Text(), nullable=False),
        sa.Column("carer_name", sa.String(length=200), nullable=True),
        sa.Column("carer_relationship", sa.String(length=100), nullable=True),
        sa.Column("carer_phone", sa.String(length=40), nullable=True),
        sa.Column("carer_needs", sa.Text(), nullable=False),
        sa.Column("long_term_conditions", sa.Text(), nullable=False),
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("created_at", int_desk.store.base.UTCDateTime(length=32), nullable=False),
        sa.Column("created_by", sa.Uuid(), nullable=True),
        sa.Column("updated_at", int_desk.store.base.UTCDateTime(length=32), nullable=False),
        sa.Column("updated_by", sa.Uuid(), nullable=True),
        sa.Column("server_version", sa.Integer(), nullable=True),
        sa.Column("deleted", sa.Boolean(), nullable=False),
        sa.ForeignKeyConstraint(
            ["practice_id"], ["organisation.id"], name=op.f("fk_patient_practice_id_organisation")
        ),
        sa.ForeignKeyConstraint(
            ["usual_gp_id"], ["member.id"], name=op.f("fk_patient_usual_gp_id_member")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_patient")),
        sa.UniqueConstraint("nhs_number", name=op.f("uq_patient_nhs_number")),
    )
    with op.batch_alter_table("patient", schema=None) as batch_op:
        batch_op.create_index(
            "ix_patient_family_given", ["family_name", "given_name"], unique=False
        )
        batch_op.create_index(batch_op.f("ix_patient_postcode"), ["postcode"], unique=False)

    op.create_table(
        "saved_view",
        sa.Column("member_id", sa.Uuid(), nullable=True),
        sa.Column("name", sa.String(length=120), nullable=False),
        sa.Column("filters", sa.JSON(), nullable=False),
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("created_at", int_desk.store.base.UTCDateTime(length=32), nullable=False),
        sa.Column("created_by", sa.Uuid(), nullable=True),
        sa.Column("updated_at", int_desk.store.base.UTCDateTime(length=32), nullable=False),
        sa.Column("updated_by", sa.Uuid(), nullable=True),
        sa.Column("server_version", sa.Integer(), nullable=True),
        sa.Column("deleted", sa.Boolean(), nullable=False),
        sa.ForeignKeyConstraint(
            ["member_id"], ["member.id"], name=op.f("fk_saved_view_member_id_member")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_saved_view")),
    )
    with op.batch_alter_table("saved_view", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_saved_view_member_id"), ["member_id"], unique=False)

    op.create_table(
        "team_membership",
        sa.Column("team_id", sa.Uuid(), nullable=False),
        sa.Column("member_id", sa.Uuid(), nullable=False),
        sa.Column("visiting", sa.Boolean(), nullable=False),
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("created_at", int_desk.store.base.UTCDateTime(length=32), nullable=False),
        sa.Column("created_by", sa.Uuid(), nullable=True),
        sa.Column("updated_at", int_desk.store.base.UTCDateTime(length=32), nullable=False),
        sa.Column("updated_by", sa.Uuid(), nullable=True),
        sa.Column("server_version", sa.Integer(), nullable=True),
        sa.Column("deleted", sa.Boolean(), nullable=False),
        sa.ForeignKeyConstraint(
            ["member_id"], ["member.id"], name=op.f("fk_team_membership_member_id_member")
        ),
        sa.ForeignKeyConstraint(
            ["team_id"], ["team.id"], name=op.f("fk_team_membership_team_id_team")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_team_membership")),
        sa.UniqueConstraint(
            "team_id", "member_id", name=op.f("uq_team_membership_team_id_member_id")
        ),
    )
    with op.batch_alter_table("team_membership", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_team_membership_member_id"), ["member_id"], unique=False
        )
        batch_op.create_index(batch_op.f("ix_team_membership_team_id"), ["team_id"], unique=False)

    op.create_table(
        "care_plan",
        sa.Column("patient_id", sa.Uuid(), nullable=False),
        sa.Column("series_id", sa.Uuid(), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("about_me", sa.Text(), nullable=False),
        sa.Column("what_matters", sa.Text(), nullable=False),
        sa.Column("contingency_plan", sa.Text(), nullable=False),
        sa.Column("clinical_summary", sa.Text(), nullable=False),
        sa.Column("medicines_notes", sa.Text(), nullable=False),
        sa.Column("carer_involvement", sa.Text(), nullable=False),
        sa.Column("consent_decision", sa.String(length=8), nullable=True),
        sa.Column("consent_with", sa.Text(), nullable=False),
        sa.Column("consent_date", sa.Date(), nullable=True),
        sa.Column("consent_recorded_by", sa.Uuid(), nullable=True),
        sa.Column("lead_member_id", sa.Uuid(), nullable=True),
        sa.Column("review_date", sa.Date(), nullable=True),
        sa.Column("signed_off_by", sa.Uuid(), nullable=True),
        sa.Column("signed_off_at", int_desk.store.base.UTCDateTime(length=32), nullable=True),
        sa.Column("previous_version_id", sa.Uuid(), nullable=True),
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("created_at", int_desk.store.base.UTCDateTime(length=32), nullable=False),
        sa.Column("created_by", sa.Uuid(), nullable=True),
        sa.Column("updated_at", int_desk.store.base.UTCDateTime(length=32), nullable=False),
        sa.Column("updated_by", sa.Uuid(), nullable=True),
        sa.Column("server_version", sa.Integer(), nullable=True),
        sa.Column("deleted", sa.Boolean(), nullable=False),
        sa.ForeignKeyConstraint(
            ["consent_recorded_by"],
            ["member.id"],
            name=op.f("fk_care_plan_consent_recorded_by_member"),
        ),
        sa.ForeignKeyConstraint(
            ["lead_member_id"], ["member.id"], name=op.f("fk_care_plan_lead_member_id_member")
        ),
        sa.ForeignKeyConstraint(
            ["patient_id"], ["patient.id"], name=op.f("fk_care_plan_patient_id_patient")
        ),
        sa.ForeignKeyConstraint(
            ["signed_off_by"], ["member.id"], name=op.f("fk_care_plan_signed_off_by_member")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_care_plan")),
    )
    with op.batch_alter_table("care_plan", schema=None) as batch_op:
        batch_op.create_index("ix_care_plan_patient_status", ["patient_id", "status"], unique=False)
        batch_op.create_index(batch_op.f("ix_care_plan_series_id"), ["series_id"], unique=False)

    op.create_table(
        "care_team_participant",
        sa.Column("patient_id", sa.Uuid(), nullable=False),
        sa.Column("member_id", sa.Uuid(), nullable=False),
        sa.Column("note", sa.String(length=200), nullable=False),
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("created_at", int_desk.store.base.UTCDateTime(length=32), nullable=False),
        sa.Column("created_by", sa.Uuid(), nullable=True),
        sa.Column("updated_at", int_desk.store.base.UTCDateTime(length=32), nullable=False),
        sa.Column("updated_by", sa.Uuid(), nullable=True),
        sa.Column("server_version", sa.Integer(), nullable=True),
        sa.Column("deleted", sa.Boolean(), nullable=False),
        sa.ForeignKeyConstraint(
            ["member_id"], ["member.id"], name=op.f("fk_care_team_participant_member_id_member")
        ),
        sa.ForeignKeyConstraint(
            ["patient_id"], ["patient.id"], name=op.f("fk_care_team_participant_patient_id_patient")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_care_team_participant")),
    )
    with op.batch_alter_table("care_team_participant", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_care_team_participant_patient_id"), ["patient_id"], unique=False
        )

    op.create_table(
        "cohort_membership",
        sa.Column("cohort_id", sa.Uuid(), nullable=False),
        sa.Column("patient_id", sa.Uuid(), nullable=False),
        sa.Column("enrolled_on", sa.Date(), nullable=False),
        sa.Column("enrol_reason", sa.Text(), nullable=False),
        sa.Column("source", sa.String(length=40), nullable=False),
        sa.Column("risk_score", sa.Double(), nullable=True),
        sa.Column("discharged_on", sa.Date(), nullable=True),
        sa.Column("discharge_reason", sa.Text(), nullable=True),
        sa.Column("lead_member_id", sa.Uuid(), nullable=True),
        sa.Column("priority", sa.String(length=8), nullable=False),
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("created_at", int_desk.store.base.UTCDateTime(length=32), nullable=False),
        sa.Column("created_by", sa.Uuid(), nullable=True),
        sa.Column("updated_at", int_desk.store.base.UTCDateTime(length=32), nullable=False),
        sa.Column("updated_by", sa.Uuid(), nullable=True),
        sa.Column("server_version", sa.Integer(), nullable=True),
        sa.Column("deleted", sa.Boolean(), nullable=False),
        sa.ForeignKeyConstraint(
            ["cohort_id"], ["cohort.id"], name=op.f("fk_cohort_membership_cohort_id_cohort")
        ),
        sa.ForeignKeyConstraint(
            ["lead_member_id"],
            ["member.id"],
            name=op.f("fk_cohort_membership_lead_member_id_member"),
        ),
        sa.ForeignKeyConstraint(
            ["patient_id"], ["patient.id"], name=op.f("fk_cohort_membership_patient_id_patient")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_cohort_membership")),
    )
    with op.batch_alter_table("cohort_membership", schema=None) as batch_op:
        batch_op.create_index(
            "ix_cohort_membership_cohort_patient", ["cohort_id", "patient_id"], unique=False
        )
        batch_op.create_index(
            batch_op.f("ix_cohort_membership_lead_member_id"), ["lead_member_id"], unique=False
        )
        batch_op.create_index("ix_cohort_membership_patient", ["patient_id"], unique=False)

    op.create_table(
        "contact",
        sa.Column("patient_id", sa.Uuid(), nullable=False),
        sa.Column("kind", sa.String(length=24), nullable=False),
        sa.Column("occurred_at", int_desk.store.base.UTCDateTime(length=32), nullable=False),
        sa.Column("author_id", sa.Uuid(), nullable=True),
        sa.Column("text", sa.Text(), nullable=False),
        sa.Column("clinical", sa.Boolean(), nullable=False),
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("created_at", int_desk.store.base.UTCDateTime(length=32), nullable=False),
        sa.Column("created_by", sa.Uuid(), nullable=True),
        sa.Column("updated_at", int_desk.store.base.UTCDateTime(length=32), nullable=False),
        sa.Column("updated_by", sa.Uuid(), nullable=True),
        sa.Column("server_version", sa.Integer(), nullable=True),
        sa.Column("deleted", sa.Boolean(), nullable=False),
        sa.ForeignKeyConstraint(
            ["author_id"], ["member.id"], name=op.f("fk_contact_author_id_member")
        ),
        sa.ForeignKeyConstraint(
            ["patient_id"], ["patient.id"], name=op.f("fk_contact_patient_id_patient")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_contact")),
    )
    with op.batch_alter_table("contact", schema=None) as batch_op:
        batch_op.create_index(
            "ix_contact_patient_occurred", ["patient_id", "occurred_at"], unique=False
        )

    op.create_table(
        "escalation",
        sa.Column("patient_id", sa.Uuid(), nullable=False),
        sa.Column("raised_by", sa.Uuid(), nullable=True),
        sa.Column("raised_at", int_desk.store.base.UTCDateTime(length=32), nullable=False),
        sa.Column("reason", sa.Text(), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("resolved_by", sa.Uuid(), nullable=True),
        sa.Column("resolved_at", int_desk.store.base.UTCDateTime(length=32), nullable=True),
        sa.Column("resolution", sa.Text(), nullable=False),
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("created_at", int_desk.store.base.UTCDateTime(length=32), nullable=False),
        sa.Column("created_by", sa.Uuid(), nullable=True),
        sa.Column("updated_at", int_desk.store.base.UTCDateTime(length=32), nullable=False),
        sa.Column("updated_by", sa.Uuid(), nullable=True),
        sa.Column("server_version", sa.Integer(), nullable=True),
        sa.Column("deleted", sa.Boolean(), nullable=False),
        sa.ForeignKeyConstraint(
            ["patient_id"], ["patient.id"], name=op.f("fk_escalation_patient_id_patient")
        ),
        sa.ForeignKeyConstraint(
            ["raised_by"], ["member.id"], name=op.f("fk_escalation_raised_by_member")
        ),
        sa.ForeignKeyConstraint(
            ["resolved_by"], ["member.id"], name=op.f("fk_escalation_resolved_by_member")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_escalation")),
    )
    with op.batch_alter_table("escalation", schema=None) as batch_op:
        batch_op.create_index(
            "ix_escalation_patient_status", ["patient_id", "status"], unique=False
        )

    op.create_table(
        "flag",
        sa.Column("patient_id", sa.Uuid(), nullable=False),
        sa.Column("code", sa.String(length=32), nullable=False),
        sa.Column("active", sa.Boolean(), nullable=False),
        sa.Column("since", sa.Date(), nullable=True),
        sa.Column("note", sa.Text(), nullable=False),
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("created_at", int_desk.store.base.UTCDateTime(length=32), nullable=False),
        sa.Column("created_by", sa.Uuid(), nullable=True),
        sa.Column("updated_at", int_desk.store.base.UTCDateTime(length=32), nullable=False),
        sa.Column("updated_by", sa.Uuid(), nullable=True),
        sa.Column("server_version", sa.Integer(), nullable=True),
        sa.Column("deleted", sa.Boolean(), nullable=False),
        sa.ForeignKeyConstraint(
            ["patient_id"], ["patient.id"], name=op.f("fk_flag_patient_id_patient")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_flag")),
    )
    with op.batch_alter_table("flag", schema=None) as batch_op:
        batch_op.create_index("ix_flag_patient_code", ["patient_id", "code"], unique=False)

    op.create_table(
        "health_event",
        sa.Column("patient_id", sa.Uuid(), nullable=False),
        sa.Column("kind", sa.String(length=24), nullable=False),
        sa.Column("occurred_on", sa.Date(), nullable=False),
        sa.Column("source", sa.String(length=120), nullable=False),
        sa.Column("detail", sa.Text(), nullable=False),
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("created_at", int_desk.store.base.UTCDateTime(length=32), nullable=False),
        sa.Column("created_by", sa.Uuid(), nullable=True),
        sa.Column("updated_at", int_desk.store.base.UTCDateTime(length=32), nullable=False),
        sa.Column("updated_by", sa.Uuid(), nullable=True),
        sa.Column("server_version", sa.Integer(), nullable=True),
        sa.Column("deleted", sa.Boolean(), nullable=False),
        sa.ForeignKeyConstraint(
            ["patient_id"], ["patient.id"], name=op.f("fk_health_event_patient_id_patient")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_health_event")),
    )
    with op.batch_alter_table("health_event", schema=None) as batch_op:
        batch_op.create_index(
            "ix_health_event_patient_occurred", ["patient_id", "occurred_on"], unique=False
        )

    op.create_table(
        "huddle_attendee",
        sa.Column("huddle_id", sa.Uuid(), nullable=False),
        sa.Column("member_id", sa.Uuid(), nullable=False),
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("created_at", int_desk.store.base.UTCDateTime(length=32), nullable=False),
        sa.Column("created_by", sa.Uuid(), nullable=True),
        sa.Column("updated_at", int_desk.store.base.UTCDateTime(length=32), nullable=False),
        sa.Column("updated_by", sa.Uuid(), nullable=True),
        sa.Column("server_version", sa.Integer(), nullable=True),
        sa.Column("deleted", sa.Boolean(), nullable=False),
        sa.ForeignKeyConstraint(
            ["huddle_id"], ["huddle.id"], name=op.f("fk_huddle_attendee_huddle_id_huddle")
        ),
        sa.ForeignKeyConstraint(
            ["member_id"], ["member.id"], name=op.f("fk_huddle_attendee_member_id_member")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_huddle_attendee")),
        sa.UniqueConstraint(
            "huddle_id", "member_id", name=op.f("uq_huddle_attendee_huddle_id_member_id")
        ),
    )
    with op.batch_alter_table("huddle_attendee", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_huddle_attendee_huddle_id"), ["huddle_id"], unique=False
        )

    op.create_table(
        "huddle_item",
        sa.Column("huddle_id", sa.Uuid(), nullable=False),
        sa.Column("patient_id", sa.Uuid(), nullable=False),
        sa.Column("position", sa.Integer(), nullable=False),
        sa.Column("reasons", sa.JSON(), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("outcome", sa.Text(), nullable=False),
        sa.Column("decisions", sa.Text(), nullable=False),
        sa.Column("seconds_spent", sa.Integer(), nullable=False),
        sa.Column("rolled_over_from_id", sa.Uuid(), nullable=True),
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("created_at", int_desk.store.base.UTCDateTime(length=32), nullable=False),
        sa.Column("created_by", sa.Uuid(), nullable=True),
        sa.Column("updated_at", int_desk.store.base.UTCDateTime(length=32), nullable=False),
        sa.Column("updated_by", sa.Uuid(), nullable=True),
        sa.Column("server_version", sa.Integer(), nullable=True),
        sa.Column("deleted", sa.Boolean(), nullable=False),
        sa.ForeignKeyConstraint(
            ["huddle_id"], ["huddle.id"], name=op.f("fk_huddle_item_huddle_id_huddle")
        ),
        sa.ForeignKeyConstraint(
            ["patient_id"], ["patient.id"], name=op.f("fk_huddle_item_patient_id_patient")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_huddle_item")),
    )
    with op.batch_alter_table("huddle_item", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_huddle_item_huddle_id"), ["huddle_id"], unique=False)
        batch_op.create_index("ix_huddle_item_patient", ["patient_id"], unique=False)

    op.create_table(
        "referral",
        sa.Column("patient_id", sa.Uuid(), nullable=False),
        sa.Column("service", sa.String(length=32), nullable=False),
        sa.Column("reason", sa.Text(), nullable=False),
        sa.Column("referred_on", sa.Date(), nullable=False),
        sa.Column("referred_by", sa.Uuid(), nullable=True),
        sa.Column("to_member_id", sa.Uuid(), nullable=True),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("outcome", sa.Text(), nullable=False),
        sa.Column("outcome_on", sa.Date(), nullable=True),
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("created_at", int_desk.store.base.UTCDateTime(length=32), nullable=False),
        sa.Column("created_by", sa.Uuid(), nullable=True),
        sa.Column("updated_at", int_desk.store.base.UTCDateTime(length=32), nullable=False),
        sa.Column("updated_by", sa.Uuid(), nullable=True),
        sa.Column("server_version", sa.Integer(), nullable=True),
        sa.Column("deleted", sa.Boolean(), nullable=False),
        sa.ForeignKeyConstraint(
            ["patient_id"], ["patient.id"], name=op.f("fk_referral_patient_id_patient")
        ),
        sa.ForeignKeyConstraint(
            ["referred_by"], ["member.id"], name=op.f("fk_referral_referred_by_member")
        ),
        sa.ForeignKeyConstraint(
            ["to_member_id"], ["member.id"], name=op.f("fk_referral_to_member_id_member")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_referral")),
    )
    with op.batch_alter_table("referral", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_referral_patient_id"), ["patient_id"], unique=False)

    op.create_table(
        "task",
        sa.Column("patient_id", sa.Uuid(), nullable=False),
        sa.Column("kind", sa.String(length=16), nullable=False),
        sa.Column("description", sa.Text(), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("owner_team_id", sa.Uuid(), nullable=True),
        sa.Column("owner_role", sa.String(length=40), nullable=True),
        sa.Column("owner_member_id", sa.Uuid(), nullable=True),
        sa.Column("requester_id", sa.Uuid(), nullable=True),
        sa.Column("due_on", sa.Date(), nullable=True),
        sa.Column("completed_at", int_desk.store.base.UTCDateTime(length=32), nullable=True),
        sa.Column("huddle_item_id", sa.Uuid(), nullable=True),
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("created_at", int_desk.store.base.UTCDateTime(length=32), nullable=False),
        sa.Column("created_by", sa.Uuid(), nullable=True),
        sa.Column("updated_at", int_desk.store.base.UTCDateTime(length=32), nullable=False),
        sa.Column("updated_by", sa.Uuid(), nullable=True),
        sa.Column("server_version", sa.Integer(), nullable=True),
        sa.Column("deleted", sa.Boolean(), nullable=False),
        sa.ForeignKeyConstraint(
            ["owner_member_id"], ["member.id"], name=op.f("fk_task_owner_member_id_member")
        ),
        sa.ForeignKeyConstraint(
            ["owner_team_id"], ["team.id"], name=op.f("fk_task_owner_team_id_team")
        ),
        sa.ForeignKeyConstraint(
            ["patient_id"], ["patient.id"], name=op.f("fk_task_patient_id_patient")
        ),
        sa.ForeignKeyConstraint(
            ["requester_id"], ["member.id"], name=op.f("fk_task_requester_id_member")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_task")),
    )
    with op.batch_alter_table("task", schema=None) as batch_op:
        batch_op.create_index(
            "ix_task_owner_member_status", ["owner_member_id", "status"], unique=False
        )
        batch_op.create_index("ix_task_patient_status", ["patient_id", "status"], unique=False)

    op.create_table(
        "goal",
        sa.Column("care_plan_id", sa.Uuid(), nullable=False),
        sa.Column("description", sa.Text(), nullable=False),
        sa.Column("target_measure", sa.Text(), nullable=False),
        sa.Column("target_date", sa.Date(), nullable=True),
        sa.Column("lifecycle_status", sa.String(length=16), nullable=False),
        sa.Column("achievement_status", sa.String(length=16), nullable=False),
        sa.Column("position", sa.Integer(), nullable=False),
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("created_at", int_desk.store.base.UTCDateTime(length=32), nullable=False),
        sa.Column("created_by", sa.Uuid(), nullable=True),
        sa.Column("updated_at", int_desk.store.base.UTCDateTime(length=32), nullable=False),
        sa.Column("updated_by", sa.Uuid(), nullable=True),
        sa.Column("server_version", sa.Integer(), nullable=True),
        sa.Column("deleted", sa.Boolean(), nullable=False),
        sa.ForeignKeyConstraint(
            ["care_plan_id"], ["care_plan.id"], name=op.f("fk_goal_care_plan_id_care_plan")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_goal")),
    )
    with op.batch_alter_table("goal", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_goal_care_plan_id"), ["care_plan_id"], unique=False)

    op.create_table(
        "plan_action",
        sa.Column("care_plan_id", sa.Uuid(), nullable=False),
        sa.Column("goal_id", sa.Uuid(), nullable=True),
        sa.Column("description", sa.Text(), nullable=False),
        sa.Column("owner_team_id", sa.Uuid(), nullable=True),
        sa.Column("owner_role", sa.String(length=40), nullable=True),
        sa.Column("owner_member_id", sa.Uuid(), nullable=True),
        sa.Column("when", sa.String(length=200), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("position", sa.Integer(), nullable=False),
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("created_at", int_desk.store.base.UTCDateTime(length=32), nullable=False),
        sa.Column("created_by", sa.Uuid(), nullable=True),
        sa.Column("updated_at", int_desk.store.base.UTCDateTime(length=32), nullable=False),
        sa.Column("updated_by", sa.Uuid(), nullable=True),
        sa.Column("server_version", sa.Integer(), nullable=True),
        sa.Column("deleted", sa.Boolean(), nullable=False),
        sa.ForeignKeyConstraint(
            ["care_plan_id"], ["care_plan.id"], name=op.f("fk_plan_action_care_plan_id_care_plan")
        ),
        sa.ForeignKeyConstraint(["goal_id"], ["goal.id"], name=op.f("fk_plan_action_goal_id_goal")),
        sa.ForeignKeyConstraint(
            ["owner_member_id"], ["member.id"], name=op.f("fk_plan_action_owner_member_id_member")
        ),
        sa.ForeignKeyConstraint(
            ["owner_team_id"], ["team.id"], name=op.f("fk_plan_action_owner_team_id_team")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_plan_action")),
    )
    with op.batch_alter_table("plan_action", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_plan_action_care_plan_id"), ["care_plan_id"], unique=False
        )


def downgrade() -> None:
    with op.batch_alter_table("plan_action", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_plan_action_care_plan_id"))

    op.drop_table("plan_action")
    with op.batch_alter_table("goal", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_goal_care_plan_id"))

    op.drop_table("goal")
    with op.batch_alter_table("task", schema=None) as batch_op:
        batch_op.drop_index("ix_task_patient_status")
        batch_op.drop_index("ix_task_owner_member_status")

    op.drop_table("task")
    with op.batch_alter_table("referral", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_referral_patient_id"))

    op.drop_table("referral")
    with op.batch_alter_table("huddle_item", schema=None) as batch_op:
        batch_op.drop_index("ix_huddle_item_patient")
        batch_op.drop_index(batch_op.f("ix_huddle_item_huddle_id"))

    op.drop_table("huddle_item")
    with op.batch_alter_table("huddle_attendee", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_huddle_attendee_huddle_id"))

    op.drop_table("huddle_attendee")
    with op.batch_alter_table("health_event", schema=None) as batch_op:
        batch_op.drop_index("ix_health_event_patient_occurred")

    op.drop_table("health_event")
    with op.batch_alter_table("flag", schema=None) as batch_op:
        batch_op.drop_index("ix_flag_patient_code")

    op.drop_table("flag")
    with op.batch_alter_table("escalation", schema=None) as batch_op:
        batch_op.drop_index("ix_escalation_patient_status")

    op.drop_table("escalation")
    with op.batch_alter_table("contact", schema=None) as batch_op:
        batch_op.drop_index("ix_contact_patient_occurred")

    op.drop_table("contact")
    with op.batch_alter_table("cohort_membership", schema=None) as batch_op:
        batch_op.drop_index("ix_cohort_membership_patient")
        batch_op.drop_index(batch_op.f("ix_cohort_membership_lead_member_id"))
        batch_op.drop_index("ix_cohort_membership_cohort_patient")

    op.drop_table("cohort_membership")
    with op.batch_alter_table("care_team_participant", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_care_team_participant_patient_id"))

    op.drop_table("care_team_participant")
    with op.batch_alter_table("care_plan", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_care_plan_series_id"))
        batch_op.drop_index("ix_care_plan_patient_status")

    op.drop_table("care_plan")
    with op.batch_alter_table("team_membership", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_team_membership_team_id"))
        batch_op.drop_index(batch_op.f("ix_team_membership_member_id"))

    op.drop_table("team_membership")
    with op.batch_alter_table("saved_view", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_saved_view_member_id"))

    op.drop_table("saved_view")
    with op.batch_alter_table("patient", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_patient_postcode"))
        batch_op.drop_index("ix_patient_family_given")

    op.drop_table("patient")
    with op.batch_alter_table("huddle", schema=None) as batch_op:
        batch_op.drop_index("ix_huddle_team_scheduled")

    op.drop_table("huddle")
    op.drop_table("member")
    with op.batch_alter_table("cohort", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_cohort_team_id"))

    op.drop_table("cohort")
    op.drop_table("team")
    op.drop_table("organisation")
    op.drop_table("workspace_meta")
    op.drop_table("place")
    with op.batch_alter_table("audit_event", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_audit_event_patient_id"))
        batch_op.drop_index(batch_op.f("ix_audit_event_actor_id"))

    op.drop_table("audit_event")
