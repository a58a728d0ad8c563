"""Typed error taxonomy. Messages never contain patient-identifiable data."""

from __future__ import annotations

from enum import Enum


class IntDeskError(Exception):
    """An expected failure the user can act on (bad input, wrong passphrase, offline...)."""


class ValidationError(IntDeskError):
    def __init__(self, message: str, field: str | None = None) -> None:
        super().__init__(message)
        self.field = field


class NotFound(IntDeskError):
    pass


class WrongPassphrase(IntDeskError):
    def __init__(self, message: str = "That passphrase does not unlock this workspace.") -> None:
        super().__init__(message)


class WorkspaceError(IntDeskError):
    """The workspace is missing, damaged or from a newer version of INT Desk."""


class KeyUnavailable(IntDeskError):
    """The OS keyring does not hold (or cannot give) this workspace's key."""


class PermissionDenied(IntDeskError):
    def __init__(self, action: str, role: str | None = None) -> None:
        who = f" for the role '{role}'" if role else ""
        super().__init__(f"Not permitted{who}: {action}.")
        self.action = action
        self.role = role


class ConflictError(IntDeskError):
    """Someone else changed this record since you opened it."""


class Interrupted(IntDeskError):
    """The user cancelled a long operation; nothing was written."""


class SyncErrorKind(Enum):
    AUTH = "auth"
    EXPIRED = "expired"  # the device token expired unused: sign in again (edits are kept)
    NETWORK = "network"
    SERVER = "server"
    PROTOCOL = "protocol"


class SyncError(IntDeskError):
    def __init__(self, message: str, kind: SyncErrorKind) -> None:
        super().__init__(message)
        self.kind = kind
