"""The Administration page's link to the endpoint (Qt-free): a connected workspace's set-up is
the endpoint's, so changes go there (checked and audited there) and come back by sync.

    client = AdminClient.for_workspace(ws)          # None when the workspace is standalone
    client.save("team", team_id, {"phone": "01869 ..."}, base_version=12)
    code, expires_at = client.invite(member_id)

Errors are the app's own: ValidationError (with the field), StaleEdit (someone else changed
the row: their values and version), PermissionDenied, NotFound, SyncError (network, auth).
"""

from __future__ import annotations

import ssl
import uuid
from dataclasses import dataclass
from typing import Any

import httpx

from int_desk.domain.errors import (
    ConflictError,
    NotFound,
    PermissionDenied,
    SyncError,
    SyncErrorKind,
    ValidationError,
)
from int_desk.store.workspace import Workspace
from int_desk.wire.protocol import PROTOCOL_VERSION


class StaleEdit(ConflictError):
    """Another administrator changed the row since this laptop last synced it."""

    def __init__(self, message: str, current: dict[str, Any], version: int) -> None:
        super().__init__(message)
        self.current = current
        self.version = version


@dataclass
class AdminClient:
    url: str
    token: str
    timeout: float = 20.0

    @classmethod
    def for_workspace(cls, ws: Workspace) -> AdminClient | None:
        from int_desk.sync import credentials

        conn = credentials.load(ws)
        return cls(conn.endpoint, conn.token) if conn is not None else None

    def _call(self, method: str, path: str, body: dict[str, Any] | None = None) -> Any:
        headers = {
            "Authorization": f"Bearer {self.token}",
            "X-IntDesk-Protocol": str(PROTOCOL_VERSION),
        }
        try:
            with httpx.Client(
                base_url=self.url, timeout=self.timeout, verify=ssl.create_default_context()
            ) as client:
                resp = client.request(method, path, json=body, headers=headers)
        except httpx.HTTPError as exc:
            raise SyncError(
                f"Your team's endpoint could not be reached ({type(exc).__name__}). Changes to "
                "the team's set-up need a connection; nothing was changed.",
                SyncErrorKind.NETWORK,
            ) from None
        try:
            payload = resp.json()
        except ValueError:
            payload = {}
        detail = str(payload.get("detail", "")) if isinstance(payload, dict) else ""
        if resp.status_code < 400:
            return payload
        if resp.status_code == 409 and "current" in payload:
            raise StaleEdit(detail, dict(payload["current"]), int(payload.get("version", 0)))
        if resp.status_code == 409:
            raise ConflictError(detail)
        if resp.status_code == 422:
            raise ValidationError(
                detail or "The endpoint refused these values.", payload.get("field")
            )
        if resp.status_code == 404:
            raise NotFound(detail or "Not found on the endpoint.")
        if resp.status_code == 403:
            raise (
                PermissionDenied("change the team's set-up", None)
                if not detail
                else _Denied(detail)
            )
        if resp.status_code == 401:
            raise SyncError(
                "Your team's endpoint no longer accepts this computer (its access was withdrawn "
                "or expired). Ask your administrator for a new invitation code.",
                SyncErrorKind.AUTH,
            )
        raise SyncError(f"The endpoint answered HTTP {resp.status_code}.", SyncErrorKind.SERVER)

    # --- the routes (int_desk.server.admin_routes) ------------------------------------------

    def save(
        self,
        entity: str,
        record_id: uuid.UUID | None,
        fields: dict[str, Any],
        *,
        base_version: int | None,
    ) -> tuple[uuid.UUID, int]:
        body = {
            "entity": entity,
            "id": str(record_id) if record_id else None,
            "base_version": base_version,
            "fields": {k: str(v) if isinstance(v, uuid.UUID) else v for k, v in fields.items()},
        }
        reply = self._call("POST", "/v1/admin/reference", body)
        return uuid.UUID(reply["id"]), int(reply["version"])

    def membership(
        self, team_id: uuid.UUID, member_id: uuid.UUID, *, member: bool, visiting: bool = False
    ) -> None:
        body = {"team_id": str(team_id), "member_id": str(member_id), "member": member,
                "visiting": visiting}  # fmt: skip
        self._call("POST", "/v1/admin/membership", body)

    def invite(self, member_id: uuid.UUID, hours: float = 72, label: str = "") -> tuple[str, str]:
        body = {"member_id": str(member_id), "hours": hours, "label": label}
        reply = self._call("POST", "/v1/admin/invitations", body)
        return str(reply["code"]), str(reply["expires_at"])

    def access(self) -> list[dict[str, Any]]:
        return list(self._call("GET", "/v1/admin/access").get("items", []))

    def cancel_invitation(self, invitation_id: str) -> None:
        self._call("POST", f"/v1/admin/invitations/{uuid.UUID(invitation_id)}/cancel")

    def revoke_device(self, device_id: str) -> None:
        self._call("POST", f"/v1/admin/devices/{uuid.UUID(device_id)}/revoke")


class _Denied(PermissionDenied):
    def __init__(self, message: str) -> None:
        Exception.__init__(self, message)
        self.action, self.role = message, None
