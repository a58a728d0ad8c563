"""the endpoint's chained audit trail: srv_audit_log and its chains' heads (srv_audit_head)

Revision ID: s0008_audit_log
Revises: s0007_applied_op_scope

Every read and write through the endpoint gets an entry (server/sync_audit.py), one hash chain
per team. The older srv_audit and srv_audit_event tables stay as they were.
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "s0008_audit_log"
down_revision: str | None = "s0007_applied_op_scope"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "srv_audit_log",
        sa.Column("chain", sa.String(length=36), nullable=False),
        sa.Column("no", sa.BigInteger(), autoincrement=False, nullable=False),
        sa.Column("at", sa.String(length=32), nullable=False),
        sa.Column("kind", sa.String(length=32), nullable=False),
        sa.Column("outcome", sa.String(length=32), nullable=False),
        sa.Column("user_id", sa.Uuid(), nullable=True),
        sa.Column("member_id", sa.Uuid(), nullable=True),
        sa.Column("device_id", sa.Uuid(), nullable=True),
        sa.Column("entity", sa.String(length=40), nullable=False),
        sa.Column("record_id", sa.Uuid(), nullable=True),
        sa.Column("patient_id", sa.Uuid(), nullable=True),
        sa.Column("patients", sa.Text(), nullable=False),
        sa.Column("detail", sa.Text(), nullable=False),
        sa.Column("prev_hash", sa.String(length=64), nullable=False),
        sa.Column("hash", sa.String(length=64), nullable=False),
        sa.PrimaryKeyConstraint("chain", "no", name=op.f("pk_srv_audit_log")),
    )
    op.create_index("ix_srv_audit_log_at", "srv_audit_log", ["at"], unique=False)
    op.create_index("ix_srv_audit_log_patient_id", "srv_audit_log", ["patient_id"], unique=False)
    op.create_table(
        "srv_audit_head",
        sa.Column("chain", sa.String(length=36), nullable=False),
        sa.Column("last_no", sa.BigInteger(), nullable=False),
        sa.Column("last_hash", sa.String(length=64), nullable=False),
        sa.PrimaryKeyConstraint("chain", name=op.f("pk_srv_audit_head")),
    )


def downgrade() -> None:
    op.drop_table("srv_audit_head")
    op.drop_index("ix_srv_audit_log_patient_id", table_name="srv_audit_log")
    op.drop_index("ix_srv_audit_log_at", table_name="srv_audit_log")
    op.drop_table("srv_audit_log")
