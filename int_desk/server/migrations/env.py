"""Alembic environment of the sync server's database (a chain separate from the client's)."""

from __future__ import annotations

from alembic import context

from int_desk.server.models import ServerBase

config = context.config


def run_migrations_online() -> None:
    connection = config.attributes.get("connection")
    if connection is None:
        raise RuntimeError("server migrations run only through int_desk.server.db.upgrade")
    context.configure(
        connection=connection,
        target_metadata=ServerBase.metadata,
        render_as_batch=connection.dialect.name == "sqlite",
        compare_type=True,
        version_table="srv_alembic_version",
    )
    with context.begin_transaction():
        context.run_migrations()


run_migrations_online()
