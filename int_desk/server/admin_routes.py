"""The endpoint's routes for joining a team and for the Administration page.

    POST /v1/join                             {code, label}  -> {token, user, member_id, teams}
    GET  /v1/admin/access                     invitations and devices, with their members
    POST /v1/admin/invitations                {member_id, hours, label} -> {id, code, expires_at}
    POST /v1/admin/invitations/{id}/cancel
    POST /v1/admin/devices/{id}/revoke
    POST /v1/admin/reference                  {entity, id, base_version, fields} -> {id, version}
    POST /v1/admin/membership                 {team_id, member_id, member}

``/v1/join`` needs no token (the code is the credential) and is slowed down per client after
repeated wrong codes. Every ``/v1/admin`` route needs a device token whose member may manage
team members (the administrator role, or a team grant); every change is audited here
(``srv_audit``) and reaches the laptops by sync. Answers never echo submitted values.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable
from datetime import timedelta
from typing import Any

from fastapi import Depends, FastAPI, Header, HTTPException, Query, Request
from fastapi.responses import JSONResponse
from pydantic import BaseModel, Field
from sqlalchemy import func, select
from sqlalchemy.orm import Session, sessionmaker

from int_desk.domain.errors import ConflictError, IntDeskError, NotFound, ValidationError
from int_desk.domain.permissions import Permission
from int_desk.server import audit, directory, invitations, sync_audit
from int_desk.server.models import ServerAudit, utcnow
from int_desk.wire import protocol as P

REFERENCE_REFUSED = "reference_refused"
FAILED_JOINS_ALLOWED = 10  # per client address in the window below, then 429
FAILED_JOIN_WINDOW_S = 600.0


class JoinRequest(BaseModel):
    code: str = Field(max_length=64)
    label: str = Field(default="", max_length=120)


class InviteRequest(BaseModel):
    member_id: uuid.UUID
    hours: float = Field(default=invitations.DEFAULT_HOURS, gt=0, le=invitations.MAX_HOURS)
    label: str = Field(default="", max_length=120)


class ReferenceRequest(BaseModel):
    entity: str = Field(max_length=40)
    id: uuid.UUID | None = None
    base_version: int | None = Field(default=None, ge=0, le=2**62)
    fields: dict[str, Any] = Field(default_factory=dict, max_length=40)


class MembershipRequest(BaseModel):
    team_id: uuid.UUID
    member_id: uuid.UUID
    member: bool = True
    visiting: bool = False


def wrong_codes_recently(session: Session, client: str) -> int:
    """Wrong invitation codes from this client address in the window, counted from the
    endpoint's audit (every refusal is committed there), so every process and host of one
    endpoint shares the count: --workers or a second host gives a guesser no more tries."""
    since = (utcnow() - timedelta(seconds=FAILED_JOIN_WINDOW_S)).isoformat(timespec="microseconds")
    return (
        session.scalar(
            select(func.count()).where(
                ServerAudit.action == invitations.JOIN_REFUSED,
                ServerAudit.at >= since,
                ServerAudit.detail.endswith(f" client={client[:60]}", autoescape=True),
            )
        )
        or 0
    )


def _problem(exc: IntDeskError, status: int = 422) -> JSONResponse:
    body: dict[str, Any] = {"detail": str(exc)}
    if isinstance(exc, ValidationError) and exc.field:
        body["field"] = exc.field
    return JSONResponse(body, status_code=status)


def install(
    app: FastAPI,
    factory: sessionmaker[Session],
    authenticated: Callable[..., Any],
) -> None:
    """Add the routes to the endpoint's app (``create_app`` calls this)."""

    def editor(found: Any, session: Session) -> directory.Editor:
        """The caller, if they may change the team's set-up; else 403 (audited)."""
        caller, who = found
        may = getattr(who, "may", None)
        if who is None or may is None or not may(Permission.MANAGE_MEMBERS):
            raise HTTPException(
                403,
                detail="Only an INT administrator can change the team's set-up, invitations "
                "and devices.",
            )
        name = caller.user_name
        if getattr(who, "member_id", None) is not None:
            try:
                _rec, member = directory.get(session, "member", who.member_id)
                name = str(member.get("name") or name)
            except NotFound:
                pass
        return directory.Editor(name, caller.user_id, caller.device_id, who.member_id)

    @app.post("/v1/join")
    def join(
        req: JoinRequest,
        request: Request,
        x_intdesk_protocol: str | None = Header(default=None),
    ) -> Any:
        if x_intdesk_protocol != str(P.PROTOCOL_VERSION):
            raise HTTPException(
                426,
                detail=f"This endpoint speaks protocol {P.PROTOCOL_VERSION}; update INT Desk "
                "to join.",
            )
        client = request.client.host if request.client else "?"
        with factory() as s:
            blocked = wrong_codes_recently(s, client) >= FAILED_JOINS_ALLOWED
        if blocked:
            raise HTTPException(
                429, detail="Too many wrong invitation codes from here; wait ten minutes."
            )
        try:
            with factory.begin() as s:
                token, user, device = invitations.redeem(
                    s, req.code, label=req.label, client=client
                )
                teams = [str(t) for t in directory.user_teams(s, user.id)]
                body = {
                    "token": token,
                    "user": user.name,
                    "member_id": str(user.member_id) if user.member_id else None,
                    "device": str(device.id),
                    "teams": teams,
                }
        except invitations.JoinRefused as exc:
            return JSONResponse({"detail": str(exc)}, status_code=400)
        return body

    @app.get("/v1/admin/access")
    def access(found: Any = Depends(authenticated)) -> Any:
        with factory.begin() as s:
            editor(found, s)
            return {"items": invitations.listing(s)}

    @app.get("/v1/admin/audit")
    def audit_trail(
        person: str | None = Query(default=None, max_length=40),
        member: uuid.UUID | None = None,
        device: uuid.UUID | None = None,
        kind: list[str] = Query(default=[], max_length=20),
        since: str | None = Query(default=None, max_length=32),
        until: str | None = Query(default=None, max_length=32),
        limit: int = Query(default=100, ge=1, le=1000),
        found: Any = Depends(authenticated),
    ) -> Any:
        """The team's audit trail for its administrators: their own teams' chains only."""
        with factory.begin() as s:
            editor(found, s)
            return sync_audit.for_team_admin(
                s, found[0], person=person, member_id=member, device_id=device, kinds=kind,
                since=since, until=until, limit=limit,
            )  # fmt: skip

    @app.post("/v1/admin/invitations")
    def invite(req: InviteRequest, found: Any = Depends(authenticated)) -> Any:
        try:
            with factory.begin() as s:
                by = editor(found, s)
                inv, code = invitations.create(
                    s, req.member_id, by=by, hours=req.hours, label=req.label
                )
                return {"id": str(inv.id), "code": code, "expires_at": inv.expires_at}
        except NotFound as exc:
            return _problem(exc, 404)
        except ValidationError as exc:
            return _problem(exc)

    def withdraw(found: Any, undo: Callable[..., Any], record_id: uuid.UUID) -> Any:
        """Cancel an invitation or revoke a device, as the administrator ``found``."""
        try:
            with factory.begin() as s:
                undo(s, record_id, by=editor(found, s))
        except NotFound as exc:
            return _problem(exc, 404)
        return {"ok": True}

    @app.post("/v1/admin/invitations/{invitation_id}/cancel")
    def cancel(invitation_id: uuid.UUID, found: Any = Depends(authenticated)) -> Any:
        return withdraw(found, invitations.cancel, invitation_id)

    @app.post("/v1/admin/devices/{device_id}/revoke")
    def revoke(device_id: uuid.UUID, found: Any = Depends(authenticated)) -> Any:
        return withdraw(found, invitations.revoke_device, device_id)

    def refused(found: Any, entity: str, record_id: uuid.UUID | None, exc: Exception) -> None:
        """A refused change is audited too (its own transaction: the change rolled back)."""
        field = getattr(exc, "field", None) or ""
        with factory.begin() as s:
            audit.record(
                s, REFERENCE_REFUSED, user_id=found[0].user_id, device_id=found[0].device_id,
                entity=entity[:40], record_id=record_id,
                detail=f"{type(exc).__name__} field={field[:40]}",
            )  # fmt: skip

    @app.post("/v1/admin/reference")
    def reference(req: ReferenceRequest, found: Any = Depends(authenticated)) -> Any:
        try:
            with factory.begin() as s:
                rec = directory.save(
                    s, req.entity, req.id, dict(req.fields), base_version=req.base_version,
                    by=editor(found, s),
                )  # fmt: skip
                return {"id": str(rec.id), "version": rec.version}
        except directory.StaleEdit as exc:  # audited where it was found
            return JSONResponse(
                {"detail": str(exc), "current": exc.current, "version": exc.version},
                status_code=409,
            )
        except (ConflictError, NotFound, ValidationError) as exc:
            refused(found, req.entity, req.id, exc)
            status = (
                409 if isinstance(exc, ConflictError) else 404 if isinstance(exc, NotFound) else 422
            )
            return _problem(exc, status)

    @app.post("/v1/admin/membership")
    def membership(req: MembershipRequest, found: Any = Depends(authenticated)) -> Any:
        try:
            with factory.begin() as s:
                rec = directory.membership(
                    s, req.team_id, req.member_id, member=req.member, visiting=req.visiting,
                    by=editor(found, s),
                )  # fmt: skip
                return {"id": str(rec.id) if rec else None, "version": rec.version if rec else None}
        except NotFound as exc:
            return _problem(exc, 404)
        except ValidationError as exc:
            return _problem(exc)
