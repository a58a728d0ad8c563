"""GP notifications (FHIR Communication to the registered practice when the INT acts)

Revision ID: 0007_gp_notification
Revises: 0006_scorecard_indexes
Create Date: 2026-12-06 20:00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import int_desk.store.base

revision: str = "0007_gp_notification"
down_revision: str | None = "0006_scorecard_indexes"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "gp_notification",
        sa.Column("patient_id", sa.Uuid(), nullable=False),
        sa.Column("team_id", sa.Uuid(), nullable=True),
        sa.Column("practice_id", sa.Uuid(), nullable=True),
        sa.Column("recipient_ods", sa.String(length=16), nullable=False),
        sa.Column("trigger", sa.String(length=32), nullable=False),
        sa.Column("source_entity", sa.String(length=40), nullable=False),
        sa.Column("source_id", sa.Uuid(), nullable=True),
        sa.Column("subject", sa.String(length=200), nullable=False),
        sa.Column("text", sa.Text(), nullable=False),
        sa.Column("queued_at", int_desk.store.base.UTCDateTime(length=32), nullable=False),
        sa.Column("read_at", int_desk.store.base.UTCDateTime(length=32), nullable=True),
        sa.Column("read_by", sa.String(length=120), nullable=True),
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("created_at", int_desk.store.base.UTCDateTime(length=32), nullable=False),
        sa.Column("created_by", sa.Uuid(), nullable=True),
        sa.Column("updated_at", int_desk.store.base.UTCDateTime(length=32), nullable=False),
        sa.Column("updated_by", sa.Uuid(), nullable=True),
        sa.Column("server_version", sa.Integer(), nullable=True),
        sa.Column("deleted", sa.Boolean(), nullable=False),
        sa.ForeignKeyConstraint(
            ["patient_id"], ["patient.id"], name=op.f("fk_gp_notification_patient_id_patient")
        ),
        sa.ForeignKeyConstraint(
            ["practice_id"],
            ["organisation.id"],
            name=op.f("fk_gp_notification_practice_id_organisation"),
        ),
        sa.ForeignKeyConstraint(
            ["team_id"], ["team.id"], name=op.f("fk_gp_notification_team_id_team")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_gp_notification")),
    )
    op.create_index(
        "ix_gp_notification_patient_queued",
        "gp_notification",
        ["patient_id", "queued_at"],
        unique=False,
    )


def downgrade() -> None:
    op.drop_index("ix_gp_notification_patient_queued", table_name="gp_notification")
    op.drop_table("gp_notification")
