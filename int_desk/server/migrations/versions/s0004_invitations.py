"""invitations: one-time codes a team member exchanges for a device token

Revision ID: s0004_invitations
Revises: s0003_login_kinds_audit_expiry
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "s0004_invitations"
down_revision: str | None = "s0003_login_kinds_audit_expiry"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "srv_invitation",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("user_id", sa.Uuid(), nullable=False),
        sa.Column("code_hash", sa.String(length=64), nullable=False),
        sa.Column("label", sa.String(length=120), nullable=False),
        sa.Column("created_by", sa.String(length=200), nullable=False),
        sa.Column("created_at", sa.String(length=32), nullable=False),
        sa.Column("expires_at", sa.String(length=32), nullable=False),
        sa.Column("used_at", sa.String(length=32), nullable=True),
        sa.Column("cancelled_at", sa.String(length=32), nullable=True),
        sa.Column("device_id", sa.Uuid(), nullable=True),
        sa.ForeignKeyConstraint(
            ["user_id"], ["srv_user.id"], name=op.f("fk_srv_invitation_user_id_srv_user")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_srv_invitation")),
        sa.UniqueConstraint("code_hash", name=op.f("uq_srv_invitation_code_hash")),
    )
    with op.batch_alter_table("srv_invitation", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_srv_invitation_user_id"), ["user_id"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("srv_invitation", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_srv_invitation_user_id"))
    op.drop_table("srv_invitation")
