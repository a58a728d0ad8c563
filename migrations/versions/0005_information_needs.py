"""patient information needs (Accessible Information Standard codes: large print, braille...)

Revision ID: 0005_information_needs
Revises: 0004_team_contact
Create Date: 2026-12-06 20:00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0005_information_needs"
down_revision: str | None = "0004_team_contact"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("patient", schema=None) as batch_op:
        batch_op.add_column(sa.Column("information_needs", sa.String(length=200), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("patient", schema=None) as batch_op:
        batch_op.drop_column("information_needs")
