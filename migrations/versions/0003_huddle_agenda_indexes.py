"""covering indexes for the huddle agenda rules

Revision ID: 0003_huddle_agenda_indexes
Revises: 0002_sync_tables
Create Date: 2026-11-22 06:10:00
"""

from collections.abc import Sequence

from alembic import op

revision: str = "0003_huddle_agenda_indexes"
down_revision: str | None = "0002_sync_tables"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

INDEXES = (
    ("ix_flag_code_active", "flag", ["code", "active", "deleted", "patient_id"]),
    ("ix_escalation_status", "escalation", ["status", "deleted", "patient_id"]),
    (
        "ix_health_event_kind_occurred",
        "health_event",
        ["kind", "occurred_on", "deleted", "patient_id"],
    ),
    (
        "ix_care_plan_status_review",
        "care_plan",
        ["status", "review_date", "deleted", "patient_id"],
    ),
    ("ix_task_status_due", "task", ["status", "due_on", "deleted", "patient_id"]),
    ("ix_task_huddle_item", "task", ["huddle_item_id"]),
    (
        "ix_cohort_membership_agenda",
        "cohort_membership",
        ["cohort_id", "discharged_on", "deleted", "patient_id", "priority", "enrolled_on"],
    ),
)


def upgrade() -> None:
    for name, table, columns in INDEXES:
        op.create_index(name, table, columns, unique=False)


def downgrade() -> None:
    for name, table, _columns in reversed(INDEXES):
        op.drop_index(name, table_name=table)
