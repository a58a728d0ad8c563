"""login kinds (person | integration), device-token expiry, the endpoint's audit of refusals

Revision ID: s0003_login_kinds_audit_expiry
Revises: s0002_fhir_audit_practice

Existing logins become persons (a login without a member then has no access: fail closed;
re-create a feed with ``int-desk admin add-integration``). Existing tokens get the default
lifetime from now, so an upgrade signs nobody out.
"""

from collections.abc import Sequence
from datetime import UTC, datetime, timedelta

import sqlalchemy as sa
from alembic import op

revision: str = "s0003_login_kinds_audit_expiry"
down_revision: str | None = "s0002_fhir_audit_practice"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

DEFAULT_TOKEN_DAYS = 90


def upgrade() -> None:
    with op.batch_alter_table("srv_user", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("kind", sa.String(length=16), nullable=False, server_default="person")
        )
        batch_op.add_column(sa.Column("scope", sa.String(length=40), nullable=True))
    with op.batch_alter_table("srv_device_token", schema=None) as batch_op:
        batch_op.add_column(sa.Column("expires_at", sa.String(length=32), nullable=True))
        batch_op.add_column(sa.Column("last_used_at", sa.String(length=32), nullable=True))
    until = (datetime.now(UTC) + timedelta(days=DEFAULT_TOKEN_DAYS)).isoformat(
        timespec="microseconds"
    )
    op.execute(
        sa.text(
            "UPDATE srv_device_token SET expires_at = :until WHERE expires_at IS NULL"
        ).bindparams(until=until)
    )
    op.create_table(
        "srv_audit",
        sa.Column("seq", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column("at", sa.String(length=32), nullable=False),
        sa.Column("action", sa.String(length=32), nullable=False),
        sa.Column("user_id", sa.Uuid(), nullable=True),
        sa.Column("device_id", sa.Uuid(), nullable=True),
        sa.Column("entity", sa.String(length=40), nullable=False),
        sa.Column("record_id", sa.Uuid(), nullable=True),
        sa.Column("detail", sa.Text(), nullable=False),
        sa.PrimaryKeyConstraint("seq", name=op.f("pk_srv_audit")),
    )
    with op.batch_alter_table("srv_audit", schema=None) as batch_op:
        batch_op.create_index("ix_srv_audit_at", ["at"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("srv_audit", schema=None) as batch_op:
        batch_op.drop_index("ix_srv_audit_at")
    op.drop_table("srv_audit")
    with op.batch_alter_table("srv_device_token", schema=None) as batch_op:
        batch_op.drop_column("last_used_at")
        batch_op.drop_column("expires_at")
    with op.batch_alter_table("srv_user", schema=None) as batch_op:
        batch_op.drop_column("scope")
        batch_op.drop_column("kind")
