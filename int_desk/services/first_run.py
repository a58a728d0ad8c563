"""First-run use cases, Qt-free: a new standalone workspace, or joining a team's endpoint.

    ws = create_local_workspace(directory, passphrase, member_name=..., role=Role.X,
                                team_name=..., neighbourhood=..., remember=True)
    info = probe_endpoint(url, token)        # certificate, protocol, who the token belongs to
    ws = create_workspace_for_endpoint(directory, passphrase, remember=True)
    initial_sync(ws, url, token, progress)   # first download, with progress callbacks

Tokens are never logged or stored in settings; only the endpoint address is a preference.
"""

from __future__ import annotations

import logging
import socket
import ssl
import threading
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any
from urllib.parse import urlparse

from int_desk.domain.errors import SyncError, SyncErrorKind, ValidationError, WorkspaceError
from int_desk.domain.vocab import AuditAction, Role
from int_desk.settings_schema import validate_url
from int_desk.store import audit
from int_desk.store.models import Member, Place, Team, TeamMembership, WorkspaceMeta
from int_desk.store.workspace import Workspace

log = logging.getLogger(__name__)

PROTOCOL_HEADER = "X-IntDesk-Protocol"

if TYPE_CHECKING:
    import httpx

Progress = Callable[[int, int, str], None]  # done, total (0 = unknown), message


def create_local_workspace(
    directory: Path,
    passphrase: str,
    *,
    member_name: str,
    role: Role | str,
    team_name: str,
    neighbourhood: str = "",
    remember: bool = False,
    phone: str | None = None,
    email: str | None = None,
) -> Workspace:
    """A new encrypted workspace for one team on this computer, with you signed in.

    Whoever sets up a standalone team administers it: the team grants their role
    MANAGE_MEMBERS (``Team.config``), so they can name practices and add colleagues. Once the
    workspace joins an endpoint, the endpoint's copy of the team decides.
    """
    from int_desk.domain import reference as ref
    from int_desk.domain.permissions import ROLE_GRANTS_KEY, Permission

    member_name, team_name = member_name.strip(), team_name.strip()
    if not member_name:
        raise ValidationError("Enter your name as your team knows it.", "member_name")
    if not team_name:
        raise ValidationError("Enter your team's name, e.g. 'Bicester INT'.", "team_name")
    try:
        role = Role(role)
    except ValueError:
        raise ValidationError("Choose your role.", "role") from None
    phone, email = ref.phone(phone), ref.email(email)
    ws = Workspace.create(directory, passphrase, use_keyring=remember)
    try:
        from int_desk.services.identity import set_current_member

        with ws.session() as s:
            place = Place(name=neighbourhood.strip() or team_name)
            s.add(place)
            s.flush()
            team = Team(
                name=team_name,
                place_id=place.id,
                neighbourhood=neighbourhood.strip() or team_name,
                phone=phone,
                email=email,
                config={ROLE_GRANTS_KEY: {role.value: [Permission.MANAGE_MEMBERS.value]}},
            )
            member = Member(name=member_name, role=role.value)
            s.add_all([team, member])
            s.flush()
            s.add(TeamMembership(team_id=team.id, member_id=member.id))
            set_current_member(s, member.id)
            audit.record(
                s,
                actor_id=member.id,
                action=AuditAction.CREATE,
                entity_type="workspace",
                entity_id=member.id,
                detail=f"team_id={team.id} via=first_run",
            )
    except BaseException:
        ws.close()
        raise
    log.info("first run: created workspace %s", ws.workspace_id)
    return ws


# --- joining a team's endpoint ----------------------------------------------------------------


@dataclass(frozen=True)
class CertificateInfo:
    subject: str
    issuer: str
    not_after: str

    def describe(self) -> str:
        return f"Certificate verified: issued to {self.subject} by {self.issuer}, valid until {self.not_after}."


@dataclass(frozen=True)
class EndpointInfo:
    url: str
    user: str
    teams: tuple[str, ...]
    protocol: int
    certificate: CertificateInfo | None = None
    member_id: uuid.UUID | None = None  # the user's Member row, when the endpoint says
    notes: tuple[str, ...] = field(default_factory=tuple)


def normalise_endpoint(url: str) -> str:
    text = url.strip().rstrip("/")
    problem = validate_url(text)
    if problem:
        raise ValidationError(problem, "endpoint_url")
    return text


def _name(parts: tuple) -> str:  # ssl.getpeercert() RDN tuples -> "CN=..., O=..."
    names = {}
    for rdn in parts:
        for key, value in rdn:
            names[key] = value
    return names.get("commonName") or names.get("organizationName") or "unknown"


def check_certificate(
    url: str, *, timeout: float = 10, cafile: str | None = None
) -> CertificateInfo:
    """Verify an https endpoint's certificate against the system's trusted authorities."""
    parsed = urlparse(url)
    host, port = parsed.hostname or "", parsed.port or 443
    context = ssl.create_default_context(cafile=cafile)
    try:
        with socket.create_connection((host, port), timeout=timeout) as raw:
            with context.wrap_socket(raw, server_hostname=host) as tls:
                cert = tls.getpeercert()
    except ssl.SSLCertVerificationError as exc:
        raise SyncError(
            f"The endpoint's certificate could not be verified ({exc.verify_message}). Do not "
            "continue: check the address with your administrator.",
            SyncErrorKind.NETWORK,
        ) from None
    except (OSError, ssl.SSLError) as exc:
        raise SyncError(
            f"Could not reach {host}:{port} ({type(exc).__name__}). Check the address and that "
            "you are online.",
            SyncErrorKind.NETWORK,
        ) from None
    return CertificateInfo(
        subject=_name(cert.get("subject", ())),
        issuer=_name(cert.get("issuer", ())),
        not_after=str(cert.get("notAfter", "")),
    )


def probe_endpoint(
    url: str, token: str, *, timeout: float = 10, cafile: str | None = None
) -> EndpointInfo:
    """Check the address, its certificate (https), the protocol version and the token."""

    from int_desk.wire.protocol import PROTOCOL_VERSION

    url = normalise_endpoint(url)
    token = token.strip()
    if not token:
        raise ValidationError("Paste the device token your administrator gave you.", "token")
    certificate = None
    if url.startswith("https://"):
        certificate = check_certificate(url, timeout=timeout, cafile=cafile)
    verify: ssl.SSLContext | bool = ssl.create_default_context(cafile=cafile)
    headers = {"Authorization": f"Bearer {token}", PROTOCOL_HEADER: str(PROTOCOL_VERSION)}
    health, who = _ask_endpoint(
        url, timeout, verify, lambda client: client.get("/v1/whoami", headers=headers)
    )
    if who.status_code == 401:
        raise SyncError(
            "The endpoint did not accept this token. Ask your administrator for a new one.",
            SyncErrorKind.AUTH,
        )
    if who.status_code == 426:
        raise SyncError(_detail(who), SyncErrorKind.PROTOCOL)
    if who.status_code != 200:
        raise SyncError(f"The endpoint answered HTTP {who.status_code}.", SyncErrorKind.SERVER)
    body = who.json()
    notes = () if body.get("teams") else ("This token's user is not yet in any team.",)
    return EndpointInfo(
        url=url,
        user=str(body.get("user", "")),
        teams=tuple(str(t) for t in body.get("teams", ())),
        protocol=int(health.json().get("protocol", PROTOCOL_VERSION)),
        certificate=certificate,
        member_id=_uuid_or_none(body.get("member_id")),
        notes=notes,
    )


def looks_like_token(text: str) -> bool:
    """A device token an administrator handed out (``idt_...``), not an invitation code."""
    return text.strip().startswith("idt_")


def probe_address(url: str, *, timeout: float = 10, cafile: str | None = None) -> EndpointInfo:
    """Check an endpoint's address and certificate before an invitation code is spent on it."""

    from int_desk.wire.protocol import PROTOCOL_VERSION

    url = normalise_endpoint(url)
    certificate = None
    if url.startswith("https://"):
        certificate = check_certificate(url, timeout=timeout, cafile=cafile)
    health, _ = _ask_endpoint(url, timeout, ssl.create_default_context(cafile=cafile))
    protocol = int(health.json().get("protocol", 0))
    if protocol != PROTOCOL_VERSION:
        raise SyncError(
            f"This endpoint speaks protocol {protocol}; this INT Desk speaks {PROTOCOL_VERSION}. "
            "Ask your IT service which version to install.",
            SyncErrorKind.PROTOCOL,
        )
    return EndpointInfo(url=url, user="", teams=(), protocol=protocol, certificate=certificate)


def redeem_invitation(
    url: str, code: str, *, label: str = "", timeout: float = 15, cafile: str | None = None
) -> tuple[EndpointInfo, str]:
    """Exchange an administrator's one-time invitation code for this computer's device token.

    Over TLS (plain http only to this computer); the certificate is checked first. Returns what
    the endpoint said about the member and the token, which the caller keeps in the keyring or
    the encrypted store and never shows.
    """

    from int_desk.wire.protocol import PROTOCOL_VERSION

    url = normalise_endpoint(url)
    text = "".join(c for c in code if c.isalnum())
    if not text:
        raise ValidationError("Enter the invitation code your administrator gave you.", "code")
    if len(text) != 12:
        raise ValidationError(
            "An invitation code is 12 letters and digits, like K7Q4-M9XH-2PDA.", "code"
        )
    certificate = None
    if url.startswith("https://"):
        certificate = check_certificate(url, timeout=timeout, cafile=cafile)
    verify: ssl.SSLContext = ssl.create_default_context(cafile=cafile)
    headers = {PROTOCOL_HEADER: str(PROTOCOL_VERSION)}
    join = {"code": code.strip()[:64], "label": label[:120]}
    health, answer = _ask_endpoint(
        url, timeout, verify, lambda client: client.post("/v1/join", json=join, headers=headers)
    )
    if answer.status_code in (400, 429):
        raise ValidationError(_detail(answer), "code")
    if answer.status_code == 426:
        raise SyncError(_detail(answer), SyncErrorKind.PROTOCOL)
    if answer.status_code != 200:
        raise SyncError(f"The endpoint answered HTTP {answer.status_code}.", SyncErrorKind.SERVER)
    body = answer.json()
    token = str(body.get("token") or "")
    if not token:
        raise SyncError("The endpoint did not give this computer a token.", SyncErrorKind.SERVER)
    teams = tuple(str(t) for t in body.get("teams", ()))
    info = EndpointInfo(
        url=url,
        user=str(body.get("user", "")),
        teams=teams,
        protocol=int(health.json().get("protocol", PROTOCOL_VERSION)),
        certificate=certificate,
        member_id=_uuid_or_none(body.get("member_id")),
        notes=() if teams else ("Your administrator has not put you in a team yet.",),
    )
    log.info("joined endpoint by invitation: device %s", str(body.get("device", ""))[:36])
    return info, token


def _uuid_or_none(value: object) -> uuid.UUID | None:
    try:
        return uuid.UUID(str(value)) if value else None
    except ValueError:
        return None


def _ask_endpoint(
    url: str,
    timeout: float,
    verify: ssl.SSLContext | bool,
    ask: Callable[[httpx.Client], httpx.Response] | None = None,
) -> tuple[httpx.Response, httpx.Response]:
    """The endpoint's /v1/health answer, then ``ask``'s (the health answer again without one):
    a clear error when nothing answers or what answers is not an INT Desk endpoint."""
    import httpx

    try:
        with httpx.Client(base_url=url, timeout=timeout, verify=verify) as client:
            health = client.get("/v1/health")
            if health.status_code != 200:
                raise SyncError(
                    f"{url} does not look like an INT Desk endpoint (HTTP {health.status_code}).",
                    SyncErrorKind.SERVER,
                )
            return health, ask(client) if ask else health
    except httpx.HTTPError as exc:
        raise SyncError(
            f"Could not reach {url} ({type(exc).__name__}). Check the address and that you are "
            "online.",
            SyncErrorKind.NETWORK,
        ) from None


def _detail(response: Any) -> str:
    try:
        return str(response.json().get("detail"))
    except Exception:
        return "The endpoint and this app speak different protocol versions."


def create_workspace_for_endpoint(
    directory: Path, passphrase: str, endpoint: EndpointInfo, *, remember: bool = False
) -> Workspace:
    """The local encrypted copy for a team member joining an endpoint (filled by the sync)."""
    return Workspace.create(directory, passphrase, use_keyring=remember)


def sync_engine_available() -> bool:
    try:
        import int_desk.sync.client  # noqa: F401
    except ImportError:
        return False
    return True


STAGES = {
    "push": "Sending changes made on this computer",
    "pull": "Receiving your team's records",
    "download": "Downloading your team's records",
    "verify": "Checking everything arrived",
}


def initial_sync(
    ws: Workspace,
    endpoint: EndpointInfo,
    token: str,
    progress: Progress,
    cancel: threading.Event | None = None,
) -> str:
    """Connect ``ws`` to the endpoint, download the team's records, sign the user in.

    Returns a one-line summary for the user; raises SyncError when the download fails (the
    workspace stays connected, so a retry continues where it stopped).
    """
    from int_desk.sync import client, credentials

    progress(0, 0, "Connecting to your team...")
    credentials.connect(ws, endpoint.url, token)

    def on_progress(stage: str, done: int, total: int) -> None:
        label = STAGES.get(stage, stage.capitalize())
        count = f"{done:,} of {total:,}" if total else f"{done:,} received"
        progress(done, total, f"{label}: {count}" if stage == "download" or not total else label)

    result = client.SyncEngine(ws, endpoint.url, token, progress=on_progress, cancel=cancel).run()
    if not result.ok:
        kind = {k.value: k for k in SyncErrorKind}.get(
            result.error_kind or "", SyncErrorKind.SERVER
        )
        raise SyncError(result.error or "The download did not finish.", kind)
    member = sign_in_synced_member(ws, endpoint)
    teams = len(endpoint.teams)
    return (
        f"Downloaded {result.pulled:,} records for your {'team' if teams == 1 else 'teams'} in "
        f"{result.seconds:.1f} s. You are signed in as {member}."
    )


def sign_in_synced_member(ws: Workspace, endpoint: EndpointInfo) -> str:
    """Make the token's team member the signed-in member (by id, else by unique name)."""
    from sqlalchemy import select

    from int_desk.services.identity import CURRENT_MEMBER_KEY, set_current_member

    with ws.session() as s:
        current = s.get(WorkspaceMeta, CURRENT_MEMBER_KEY)
        if current is not None and current.value:
            member = s.get(Member, uuid.UUID(current.value))
            if member is not None:
                return member.name
        member = None
        if endpoint.member_id:
            member = s.get(Member, endpoint.member_id)
        if member is None:
            matches = list(s.scalars(select(Member).where(Member.name == endpoint.user)))
            if not matches and endpoint.user.startswith("member-"):
                # Logins the endpoint's admin tool makes for seeded members: member-<id prefix>.
                prefix = endpoint.user.removeprefix("member-")
                matches = [m for m in s.scalars(select(Member)) if str(m.id).startswith(prefix)]
            member = matches[0] if len(matches) == 1 else None
        if member is None:
            raise WorkspaceError(
                f"Your team's records arrived, but the login '{endpoint.user}' is not linked to "
                "a team member. Ask your administrator to link it, then press Retry."
            )
        set_current_member(s, member.id)
        return member.name
