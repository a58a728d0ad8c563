"""practice logins: GP practice tokens become device tokens of a login of kind "practice"
(scope gp_notifications, its ODS code); srv_practice_token goes

Revision ID: s0006_practice_logins
Revises: s0005_record_nhs_number

Each practice gets one login (``practice-<ODS>``); each of its tokens keeps its id, hash,
label, creation and revocation, so a practice's system reads on with the token it has, and
gets the default lifetime from now (renewed by use, like any device token).
"""

import uuid
from collections.abc import Sequence
from datetime import UTC, datetime, timedelta

import sqlalchemy as sa
from alembic import op

revision: str = "s0006_practice_logins"
down_revision: str | None = "s0005_record_nhs_number"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

DEFAULT_TOKEN_DAYS = 90
PRACTICE_TOKEN = sa.table(
    "srv_practice_token",
    sa.column("id", sa.Uuid()),
    sa.column("ods_code", sa.String()),
    sa.column("label", sa.String()),
    sa.column("token_hash", sa.String()),
    sa.column("created_at", sa.String()),
    sa.column("revoked_at", sa.String()),
)
USER = sa.table(
    "srv_user",
    sa.column("id", sa.Uuid()),
    sa.column("name", sa.String()),
    sa.column("member_id", sa.Uuid()),
    sa.column("active", sa.Boolean()),
    sa.column("created_at", sa.String()),
    sa.column("kind", sa.String()),
    sa.column("scope", sa.String()),
    sa.column("ods_code", sa.String()),
)
DEVICE_TOKEN = sa.table(
    "srv_device_token",
    sa.column("id", sa.Uuid()),
    sa.column("user_id", sa.Uuid()),
    sa.column("label", sa.String()),
    sa.column("token_hash", sa.String()),
    sa.column("created_at", sa.String()),
    sa.column("revoked_at", sa.String()),
    sa.column("expires_at", sa.String()),
)


def upgrade() -> None:
    with op.batch_alter_table("srv_user", schema=None) as batch_op:
        batch_op.add_column(sa.Column("ods_code", sa.String(length=16), nullable=True))
    bind = op.get_bind()
    now = datetime.now(UTC)
    until = (now + timedelta(days=DEFAULT_TOKEN_DAYS)).isoformat(timespec="microseconds")
    logins: dict[str, uuid.UUID] = {}
    for token in bind.execute(sa.select(PRACTICE_TOKEN).order_by(PRACTICE_TOKEN.c.created_at)):
        ods = token.ods_code
        if ods not in logins:
            logins[ods] = uuid.uuid4()
            bind.execute(
                sa.insert(USER).values(
                    id=logins[ods], name=f"practice-{ods}", member_id=None, active=True,
                    created_at=token.created_at, kind="practice", scope="gp_notifications",
                    ods_code=ods,
                )
            )  # fmt: skip
        bind.execute(
            sa.insert(DEVICE_TOKEN).values(
                id=token.id, user_id=logins[ods], label=token.label, token_hash=token.token_hash,
                created_at=token.created_at, revoked_at=token.revoked_at, expires_at=until,
            )
        )  # fmt: skip
    with op.batch_alter_table("srv_practice_token", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_srv_practice_token_ods_code"))
    op.drop_table("srv_practice_token")


def downgrade() -> None:
    op.create_table(
        "srv_practice_token",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("ods_code", sa.String(length=16), nullable=False),
        sa.Column("label", sa.String(length=120), nullable=False),
        sa.Column("token_hash", sa.String(length=64), nullable=False),
        sa.Column("created_at", sa.String(length=32), nullable=False),
        sa.Column("revoked_at", sa.String(length=32), nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_srv_practice_token")),
        sa.UniqueConstraint("token_hash", name=op.f("uq_srv_practice_token_token_hash")),
    )
    with op.batch_alter_table("srv_practice_token", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_srv_practice_token_ods_code"), ["ods_code"], unique=False
        )
    bind = op.get_bind()
    rows = bind.execute(
        sa.select(DEVICE_TOKEN, USER.c.ods_code)
        .join(USER, USER.c.id == DEVICE_TOKEN.c.user_id)
        .where(USER.c.kind == "practice")
    ).all()
    for row in rows:
        bind.execute(
            sa.insert(PRACTICE_TOKEN).values(
                id=row.id, ods_code=row.ods_code or "", label=row.label,
                token_hash=row.token_hash, created_at=row.created_at, revoked_at=row.revoked_at,
            )
        )  # fmt: skip
    practice_users = sa.select(USER.c.id).where(USER.c.kind == "practice")
    bind.execute(sa.delete(DEVICE_TOKEN).where(DEVICE_TOKEN.c.user_id.in_(practice_users)))
    bind.execute(sa.delete(USER).where(USER.c.kind == "practice"))
    with op.batch_alter_table("srv_user", schema=None) as batch_op:
        batch_op.drop_column("ods_code")
