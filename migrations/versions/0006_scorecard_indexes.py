"""covering indexes for the INT scorecard; the patient's IMD quintile (when no decile)

Revision ID: 0006_scorecard_indexes
Revises: 0005_information_needs
Create Date: 2026-11-24 09:00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0006_scorecard_indexes"
down_revision: str | None = "0005_information_needs"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

INDEXES = (
    (
        "ix_care_plan_scorecard",
        "care_plan",
        [
            "patient_id",
            "deleted",
            "status",
            "signed_off_at",
            "review_date",
            "series_id",
            "updated_at",
        ],
    ),  # fmt: skip
    (
        "ix_patient_scorecard",
        "patient",
        [
            "id",
            "deleted",
            "practice_id",
            "deprivation_decile",
            "deprivation_quintile",
            "date_of_birth",
        ],
    ),
    (
        "ix_health_event_patient_kind",
        "health_event",
        ["patient_id", "kind", "occurred_on", "deleted"],
    ),
)


def upgrade() -> None:
    with op.batch_alter_table("patient", schema=None) as batch_op:
        batch_op.add_column(sa.Column("deprivation_quintile", sa.Integer(), nullable=True))
    for name, table, columns in INDEXES:
        op.create_index(name, table, columns, unique=False)


def downgrade() -> None:
    for name, table, _columns in reversed(INDEXES):
        op.drop_index(name, table_name=table)
    with op.batch_alter_table("patient", schema=None) as batch_op:
        batch_op.drop_column("deprivation_quintile")
