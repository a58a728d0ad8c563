"""srv_record.nhs_number: a patient row's NHS number as a key, for FHIR search by identifier

Revision ID: s0005_record_nhs_number
Revises: s0004_invitations
"""

import json
from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "s0005_record_nhs_number"
down_revision: str | None = "s0004_invitations"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

RECORD = sa.table(
    "srv_record",
    sa.column("entity", sa.String()),
    sa.column("id", sa.Uuid()),
    sa.column("data", sa.Text()),
    sa.column("nhs_number", sa.String()),
)


def upgrade() -> None:
    with op.batch_alter_table("srv_record", schema=None) as batch_op:
        batch_op.add_column(sa.Column("nhs_number", sa.String(length=10), nullable=True))
        batch_op.create_index(batch_op.f("ix_srv_record_nhs_number"), ["nhs_number"], unique=False)
    bind = op.get_bind()
    rows = bind.execute(
        sa.select(RECORD.c.id, RECORD.c.data).where(RECORD.c.entity == "patient")
    ).all()
    keys = [
        {"rid": rid, "nhs": str(number)[:10]}
        for rid, data in rows
        if (number := json.loads(data).get("nhs_number"))
    ]
    statement = (
        sa.update(RECORD)
        .where(RECORD.c.entity == "patient", RECORD.c.id == sa.bindparam("rid"))
        .values(nhs_number=sa.bindparam("nhs"))
    )
    for start in range(0, len(keys), 5000):
        bind.execute(statement, keys[start : start + 5000])


def downgrade() -> None:
    with op.batch_alter_table("srv_record", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_srv_record_nhs_number"))
        batch_op.drop_column("nhs_number")
