"""applied ops keyed by team: srv_applied_op.scope (the team whose row the op wrote)

Revision ID: s0007_applied_op_scope
Revises: s0006_practice_logins

A push looks a batch's stored results up within the caller's teams, so every query it makes
names the team it touches (what a database distributed by team needs). Ops stored before get
their row's scope; refused ops whose row the server never held, the first team of their login.
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "s0007_applied_op_scope"
down_revision: str | None = "s0006_practice_logins"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("srv_applied_op", schema=None) as batch_op:
        batch_op.add_column(sa.Column("scope", sa.String(length=36), nullable=True))
    op.execute(
        "UPDATE srv_applied_op SET scope = (SELECT r.scope FROM srv_record r "
        "WHERE r.entity = srv_applied_op.entity AND r.id = srv_applied_op.record_id)"
    )
    # The rest: the first team of the login that sent them (team ids as canonical text).
    applied = sa.table(
        "srv_applied_op", sa.column("user_id", sa.Uuid()), sa.column("scope", sa.String())
    )
    links = sa.table(
        "srv_team_user", sa.column("user_id", sa.Uuid()), sa.column("team_id", sa.Uuid())
    )
    conn = op.get_bind()
    users = conn.execute(sa.select(applied.c.user_id).where(applied.c.scope.is_(None)).distinct())
    for (user_id,) in list(users):
        teams = conn.execute(sa.select(links.c.team_id).where(links.c.user_id == user_id))
        first = min((str(t) for (t,) in teams), default="global")
        conn.execute(
            sa.update(applied)
            .where(applied.c.user_id == user_id, applied.c.scope.is_(None))
            .values(scope=first)
        )


def downgrade() -> None:
    with op.batch_alter_table("srv_applied_op", schema=None) as batch_op:
        batch_op.drop_column("scope")
