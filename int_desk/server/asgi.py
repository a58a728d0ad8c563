"""ASGI entry for multi-process serving: ``uvicorn int_desk.server.asgi:app --workers N``.

Reads the database URL from INT_DESK_SERVER_DB (``int-desk serve --workers N`` sets it).
"""

from __future__ import annotations

import os

from int_desk.server import ops
from int_desk.server.app import create_app

ops.configure_logging(
    os.environ.get("INT_DESK_LOG_FORMAT", "json"), os.environ.get("INT_DESK_LOG_LEVEL", "info")
)
app = create_app(os.environ.get("INT_DESK_SERVER_DB", "int-desk-server.db"))
