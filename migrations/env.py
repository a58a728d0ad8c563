"""Alembic environment for the client store.

The app passes an already-keyed SQLCipher connection in ``config.attributes["connection"]``;
there is no URL here, because the store cannot be opened without its key.
"""

from __future__ import annotations

from alembic import context

from int_desk.store import all_models

config = context.config
target_metadata = all_models.Base.metadata


def run_migrations_online() -> None:
    connection = config.attributes.get("connection")
    if connection is None:
        raise RuntimeError("INT Desk migrations run only through int_desk.store.migrate")
    context.configure(
        connection=connection,
        target_metadata=target_metadata,
        render_as_batch=True,
        compare_type=True,
        user_module_prefix="int_desk.store.base.",
    )
    with context.begin_transaction():
        context.run_migrations()


if context.is_offline_mode():
    raise RuntimeError("offline (SQL script) migrations are not supported")
run_migrations_online()
