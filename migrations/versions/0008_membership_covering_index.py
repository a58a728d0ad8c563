"""a person's cohort memberships, covering what the scorecard reads

Revision ID: 0008_membership_covering_index
Revises: 0007_gp_notification
Create Date: 2026-12-06 23:30:00

ix_cohort_membership_patient (patient_id) gains the cohort, deleted flag, enrolment and
discharge dates: the scorecard reads every membership of the chosen cohorts in person order
from the index alone (no sort to group them by person, no table rows). Anything that sought a
person's memberships by patient_id still seeks them through it.
"""

from collections.abc import Sequence

from alembic import op

revision: str = "0008_membership_covering_index"
down_revision: str | None = "0007_gp_notification"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

NAME = "ix_cohort_membership_patient"
COVERING = ["patient_id", "cohort_id", "deleted", "enrolled_on", "discharged_on"]


def upgrade() -> None:
    op.drop_index(NAME, table_name="cohort_membership")
    op.create_index(NAME, "cohort_membership", COVERING, unique=False)


def downgrade() -> None:
    op.drop_index(NAME, table_name="cohort_membership")
    op.create_index(NAME, "cohort_membership", ["patient_id"], unique=False)
