"""Import every model so ``Base.metadata`` is complete (Alembic's env.py imports this)."""

from int_desk.store import (
    models,  # noqa: F401
    sync_tables,  # noqa: F401
)
from int_desk.store.base import Base

__all__ = ["Base"]
