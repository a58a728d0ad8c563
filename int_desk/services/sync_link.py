"""The workspace's link to a sync endpoint, as pages and the command line show it."""

from __future__ import annotations

from sqlalchemy.orm import Session

from int_desk.sync import local


def endpoint_url(session: Session) -> str | None:
    """The endpoint this workspace syncs with, or None for a standalone workspace."""
    return local.state(session, "endpoint")
