"""The central endpoint: FastAPI routes over ``engine_ops`` (push) and
``read_ops`` (pull, verify); several processes may share one DB.

Run with ``int-desk serve --db URL``. Every request but /v1/health needs a device token
(``Authorization: Bearer ...``) and the protocol header; a mismatch answers 426 telling the
user to update the app. Payload problems answer 4xx with field names, never the values sent.
"""

from __future__ import annotations

import asyncio
import inspect
import json
import logging
import os
from collections.abc import Awaitable, Callable, Iterator
from contextlib import contextmanager
from typing import Any, TypeVar

import tenacity
from fastapi import Depends, FastAPI, Header, HTTPException, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import PlainTextResponse, Response
from fastapi.routing import APIRoute
from pydantic import BaseModel, ValidationError
from sqlalchemy import bindparam, select, update
from sqlalchemy.exc import DBAPIError, IntegrityError, OperationalError
from starlette.concurrency import run_in_threadpool

from int_desk.server import (
    audit,
    backup,
    db,
    fhir_api,
    models,
    ops,
    storage_full,
    sync_audit,
    tokens,
)
from int_desk.server.access import author_name
from int_desk.server.admin import hash_token
from int_desk.server.auth_cache import AuthCache
from int_desk.server.engine_ops import Caller, CursorGone, PayloadInvalid, push
from int_desk.server.models import DeviceToken, ServerTeamUser, ServerUser
from int_desk.server.principal import (
    NO_MEMBER,
    PRACTICE,
    PRACTICE_ONLY,
    Principal,
    login_principal,
)
from int_desk.server.push_batch import Collision
from int_desk.server.read_ops import pull, verify
from int_desk.wire import protocol as P

log = logging.getLogger(__name__)
Model = TypeVar("Model", bound=BaseModel)
FAULTS_ENV = "INT_DESK_SYNC_TEST_FAULTS"


BODY_SECONDS = 10.0
"""A request body must arrive whole within this (a slow or short body is answered 408, and the
connection closed); the request head has the same limit in ``serving.py``."""


class BodyLimit:
    """Refuse bodies over the limit with 413, and bodies not received within ``seconds`` with
    408, before anything parses them (the event loop serves other requests meanwhile)."""

    def __init__(self, app: Any, limit: int, seconds: float = BODY_SECONDS) -> None:
        self.app, self.limit, self.seconds = app, limit, seconds

    async def __call__(self, scope: dict[str, Any], receive: Any, send: Any) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        declared = dict(scope.get("headers") or []).get(b"content-length")
        if declared is not None and (not declared.isdigit() or int(declared) > self.limit):
            await _send_json(send, 413, {"detail": "request body too large"})
            return
        chunks: list[bytes] = []
        size = 0
        more = True
        loop = asyncio.get_running_loop()
        deadline = loop.time() + self.seconds
        while more:
            try:
                message = await asyncio.wait_for(receive(), max(0.0, deadline - loop.time()))
            except TimeoutError:
                log.info("request body not received within %.0f s: 408", self.seconds)
                await _send_json(send, 408, {"detail": "request body not received in time"})
                return
            if message["type"] == "http.disconnect":
                return
            chunk = message.get("body", b"")
            size += len(chunk)
            if size > self.limit:
                await _send_json(send, 413, {"detail": "request body too large"})
                return
            chunks.append(chunk)
            more = message.get("more_body", False)
        whole = {"type": "http.request", "body": b"".join(chunks), "more_body": False}
        await self.app(scope, replaying(whole, receive), send)


def replaying(message: dict[str, Any], receive: Any) -> Callable[[], Awaitable[dict[str, Any]]]:
    """An ASGI ``receive`` that gives ``message`` (a body read already) first, then what
    ``receive`` gives (a disconnect)."""
    sent = False

    async def again() -> dict[str, Any]:
        nonlocal sent
        if sent:
            later: dict[str, Any] = await receive()
            return later
        sent = True
        return message

    return again


async def _send_json(send: Any, status: int, payload: dict[str, Any]) -> None:
    body = json.dumps(payload).encode()
    await send(
        {
            "type": "http.response.start",
            "status": status,
            "headers": [
                (b"content-type", b"application/json"),
                (b"content-length", b"%d" % len(body)),
                # The rest of the body is not read: the connection cannot carry another request.
                (b"connection", b"close"),
            ],
        }
    )
    await send({"type": "http.response.body", "body": body})


Handler = Callable[[Request], Awaitable[Response]]


class SyncRoutes:
    """ASGI: the three requests of every sync cycle (``POST /v1/push``, ``POST /v1/pull``,
    ``GET /v1/verify``) answered here, past FastAPI's middleware, routing (a match tried against
    every route of the app in turn) and request handling, a tenth of a cycle's CPU; every other
    request goes on to ``app``. Errors are answered as FastAPI answers them: by the app's own
    exception handlers (an ``HTTPException``, a validation error, a full disk's 503), and
    anything they do not answer as a plain 500, raised again so the server logs it."""

    def __init__(self, app: FastAPI, routes: dict[tuple[str, str], tuple[Any, Handler]]) -> None:
        self.app, self.routes = app, routes

    async def __call__(self, scope: dict[str, Any], receive: Any, send: Any) -> None:
        found = None
        if scope["type"] == "http" and not scope.get("root_path"):
            found = self.routes.get((scope["method"], scope["path"]))
        if found is None:
            await self.app(scope, receive, send)
            return
        route, handler = found
        scope["route"] = route  # (as FastAPI's router sets it: ``ops.RequestLog`` names it)
        request = Request(scope, receive)
        try:
            try:
                response = await handler(request)
            except Exception as exc:
                answer = self._handler_for(exc)
                if answer is None:
                    raise
                response = answer(request, exc)
                if inspect.isawaitable(response):
                    response = await response
        except Exception:
            await PlainTextResponse("Internal Server Error", status_code=500)(scope, receive, send)
            raise
        await response(scope, receive, send)

    def _handler_for(self, exc: Exception) -> Any:
        """The app's handler for this kind of error, as Starlette looks it up (by class)."""
        handlers = self.app.exception_handlers
        for kind in type(exc).__mro__:
            if kind in handlers:
                return handlers[kind]
        return None


def _json(payload: Any, status: int = 200) -> Response:
    """A JSON answer encoded once (FastAPI's default walks the whole structure first), as ASCII:
    a refusal naming a field sent as a lone surrogate must still encode (no 500)."""
    return Response(
        json.dumps(payload, separators=(",", ":")),
        status_code=status,
        media_type="application/json",
    )


_TOKEN_CALLER = (
    select(
        DeviceToken.id,
        DeviceToken.revoked_at,
        ServerUser.id,
        ServerUser.name,
        ServerUser.active,
        ServerTeamUser.team_id,
        ServerUser.member_id,
        ServerUser.kind,
        ServerUser.scope,
        DeviceToken.expires_at,
        tokens.LIFETIME_SETTING,  # (in the same round trip)
    )
    .join(ServerUser, ServerUser.id == DeviceToken.user_id)
    .outerjoin(ServerTeamUser, ServerTeamUser.user_id == ServerUser.id)
    .where(DeviceToken.token_hash == bindparam("hash"))
)
"""A token's caller: the token, its login, and one row per team of the login."""


RETRIES = 3
"""A batch is tried again, in a new transaction, when PostgreSQL chose it as a deadlock's
victim (two batches locking the same rows in turn) or it met rows of another team."""


def _push_retrying(attempt: Callable[[bool], list[dict[str, Any]]]) -> list[dict[str, Any]]:
    """Run ``attempt(careful)``: first keyed by the caller's teams; after a ``Collision``
    (ids another team holds, or made meanwhile) or a unique-key clash, carefully from then on.
    Nothing of a failed attempt was committed."""
    careful = False

    def once() -> list[dict[str, Any]]:
        nonlocal careful
        try:
            return attempt(careful)
        except (Collision, IntegrityError):
            careful = True
            raise

    retrying = tenacity.Retrying(
        stop=tenacity.stop_after_attempt(RETRIES),
        retry=tenacity.retry_if_exception(_worth_again),
        before_sleep=_log_retry,
        reraise=True,
    )
    return retrying(once)


def _worth_again(exc: BaseException) -> bool:
    if isinstance(exc, OperationalError):
        return _deadlock(exc)
    return isinstance(exc, Collision | IntegrityError)


def _log_retry(state: tenacity.RetryCallState) -> None:
    if state.outcome and isinstance(state.outcome.exception(), OperationalError):
        log.info("push chosen as a deadlock victim: tried again")


def _deadlock(exc: OperationalError) -> bool:
    return getattr(exc.orig, "sqlstate", None) in ("40P01", "40001")


_HEADERS = [
    {
        "name": name, "in": "header", "required": False,
        "schema": {"anyOf": [{"type": "string"}, {"type": "null"}], "title": title},
    }
    for name, title in (("authorization", "Authorization"), ("x-intdesk-protocol", "X-Intdesk-Protocol"))
]  # fmt: skip


def sync_schema(model: type[BaseModel] | None) -> dict[str, Any]:
    """A sync route's API schema, as declared headers and a JSON body of ``model`` give it."""
    invalid = {"$ref": "#/components/schemas/HTTPValidationError"}
    extra: dict[str, Any] = {
        "parameters": _HEADERS,
        "responses": {
            "422": {
                "description": "Validation Error",
                "content": {"application/json": {"schema": invalid}},
            }
        },
    }
    if model is not None:
        ref = {"$ref": f"#/components/schemas/{model.__name__}"}
        extra["requestBody"] = {"required": True, "content": {"application/json": {"schema": ref}}}
    return extra


def add_schemas(app: FastAPI, models: tuple[type[BaseModel], ...]) -> None:
    """The request models' schemas in the API schema's components (``sync_schema`` names them)."""
    made = app.openapi

    def openapi() -> dict[str, Any]:
        if app.openapi_schema is None:
            spec = made()
            found = spec.setdefault("components", {}).setdefault("schemas", {})
            for model in models:
                schema = model.model_json_schema(ref_template="#/components/schemas/{model}")
                for name, definition in schema.pop("$defs", {}).items():
                    found.setdefault(name, definition)
                found.setdefault(model.__name__, schema)
        return app.openapi_schema or {}

    app.openapi = openapi  # type: ignore[method-assign]


def parsed(model: type[Model], raw: bytes) -> Model:
    """A request body as ``model``, from its JSON bytes; a 422 naming fields, never values.

    Read by Python's JSON reader, as FastAPI's body handling did: it takes what a hostile
    client may send inside valid-looking JSON (a lone surrogate escape, NaN), so the write
    checks can refuse it by field name, where pydantic's own reader refuses the whole body."""
    try:
        payload = json.loads(raw)
    except ValueError as exc:  # (not JSON, or not UTF-8)
        where = getattr(exc, "pos", 0)
        raise RequestValidationError(
            [{"type": "json_invalid", "loc": ("body", where), "msg": "JSON decode error"}]
        ) from None
    try:
        return model.model_validate(payload)
    except ValidationError as exc:
        raise RequestValidationError(
            [{**e, "loc": ("body", *e.get("loc", ()))} for e in exc.errors()]
        ) from None


def create_app(db_url: str, *, pool_size: int = 10, auth_cache: AuthCache | None = None) -> Any:
    engine, factory = db.open_db(db_url, pool_size=pool_size)
    auth_cache = auth_cache or AuthCache()
    with factory.begin() as s:
        key = db.secret(s)
        generation = backup.generation(s)  # (a restore is made with every endpoint stopped)
    app = FastAPI(title="INT Desk sync endpoint", version=str(P.PROTOCOL_VERSION), docs_url=None)
    app.state.engine = engine
    app.state.sessions = factory

    @app.exception_handler(RequestValidationError)
    async def _invalid(_request: Request, exc: RequestValidationError) -> Response:
        # Never echo the submitted values back (they may be patient data).
        problems = [
            {"loc": [str(p) for p in e.get("loc", ())][:6], "msg": e.get("msg", "")}
            for e in exc.errors()[:50]
        ]
        return _json({"detail": problems}, 422)

    @app.exception_handler(DBAPIError)
    @app.exception_handler(OSError)
    async def _storage_full(request: Request, exc: Exception) -> Response:
        """503 + Retry-After when the disk is full (the transaction was rolled back: nothing
        stored); any other error goes on to the 500 it always was."""
        if not storage_full.is_storage_full(exc):
            raise exc
        # The error's kind only: its text carries the statement's parameters (patient data).
        kind = type(getattr(exc, "orig", None) or exc).__name__
        route = getattr(request.scope.get("route"), "path", "other")
        log.error("storage full (%s): %s answered 503", kind, route)
        answer = _json({"detail": storage_full.DETAIL}, 503)
        answer.headers["Retry-After"] = str(storage_full.RETRY_AFTER_SECONDS)
        return answer

    # Sessions are opened inside each route, not by a generator dependency: FastAPI closes those
    # on another pool thread after the response, which under load can wait on a pool connection
    # held by a thread waiting for it (a deadlock until the pool times out).

    Authed = tuple[Caller, Principal | None]

    reads = db.read_sessions(engine)
    # The token's look-up: one query (token, user, teams: ``_TOKEN_CALLER``), once per sync
    # cycle (a new connection), on a connection in autocommit: no BEGIN and COMMIT round trips
    # for a read (and never a ROLLBACK, at which psycopg forgets every statement it prepared).

    def lookup(token_hash: str) -> Authed | None:
        """The caller of a token and who they are (None: a login with no member, an unknown
        role or scope: no access), or None for no caller."""
        with reads() as s:
            rows = s.connection().execute(_TOKEN_CALLER, {"hash": token_hash}).all()
            if not rows or rows[0][1] is not None or not rows[0][4]:
                return None
            token_id, _revoked, user_id, user_name, _active, _team, member, kind, scope, until = (
                rows[0][:10]
            )
            if tokens.expired(until):
                return None  # (``refusal`` says why)
            days = tokens.days_from(rows[0][10])
            s.info["int_desk_read_once"] = {}  # the member's row is read once, not twice
            teams = tuple(sorted({str(r[5]) for r in rows if r[5] is not None}))
            who = login_principal(s, user_id, member, kind, scope, teams)
            author = (
                author_name(s, user_id, teams, who, user_name) if who is not None else user_name
            )
        # Writes, rarely, once the reads' session is closed (on SQLite it holds the lock).
        if tokens.due_for_renewal(until, days):  # in use: pushed forward, once a day
            with factory.begin() as w:
                w.execute(
                    update(DeviceToken)
                    .where(DeviceToken.id == token_id)
                    .values(expires_at=tokens.expiry(days), last_used_at=models.utcnow_text())
                )
        if who is None and kind != PRACTICE:  # a practice is a known login, not nobody
            with factory.begin() as w:
                audit.record(
                    w, audit.LOGIN_REFUSED, user_id=user_id, device_id=token_id,
                    detail="no member with a known role, and not an integration account",
                )  # fmt: skip
        return Caller(user_id, user_name, token_id, teams, author, kind), who

    def refusal(token_hash: str) -> HTTPException:
        """The 401 for a token ``lookup`` refused: expired (the app asks to sign in again), or
        unknown, revoked or of an inactive login."""
        with factory() as s:
            row = s.execute(
                select(DeviceToken.expires_at, DeviceToken.revoked_at).where(
                    DeviceToken.token_hash == token_hash
                )
            ).first()
            if row is not None and row.revoked_at is None and tokens.expired(row.expires_at):
                message = tokens.EXPIRED.format(days=tokens.lifetime_days(s))
                return HTTPException(
                    401, detail=message, headers={"WWW-Authenticate": tokens.WWW_AUTHENTICATE}
                )
        return HTTPException(401, detail="This device token is not valid or was revoked.")

    def gate(request: Request) -> str:
        """The checks before anything else (426 protocol, 409 restored, 401 no token): the
        hash of the token sent."""
        sent_protocol = request.headers.get("x-intdesk-protocol")
        if sent_protocol != str(P.PROTOCOL_VERSION):
            raise HTTPException(
                426,
                detail=(
                    f"This sync server speaks protocol {P.PROTOCOL_VERSION}; your INT Desk "
                    f"sent {sent_protocol or 'none'}. Update the app to sync."
                ),
            )
        # (read here, not declared as a parameter: the laptop's, not part of the API schema)
        sent_generation = request.headers.get(P.GENERATION_HEADER)
        if sent_generation is not None and sent_generation != generation.id:
            # Restored from a backup since this laptop last synced: nothing is applied or
            # served until it has sent again what the endpoint lost (sync/client.py).
            raise HTTPException(
                409,
                detail="The sync server was restored from a backup; your INT Desk sends again "
                "what it lost, then syncs.",
                headers={P.RESTORED_SINCE_HEADER: str(generation.since)},  # (and generation)
            )
        authorization = request.headers.get("authorization")
        if not authorization or not authorization.startswith("Bearer "):
            raise HTTPException(401, detail="A device token is required.")
        return hash_token(authorization[7:].strip())

    def remembered(request: Request, token_hash: str) -> Authed | None:
        connection = request.scope.get("client")  # remembered per connection, briefly
        return auth_cache.get(connection, token_hash) if connection else None

    def looked_up(request: Request, token_hash: str) -> Authed:
        """The caller from the database (a thread's work), or the 401 saying why not."""
        found = lookup(token_hash)
        if found is None:
            raise refusal(token_hash)
        connection = request.scope.get("client")
        if connection:
            auth_cache.put(connection, token_hash, found)
        return found

    def admitted(request: Request, found: Authed) -> Authed:
        """A caller who may use the sync routes (403 for a practice's token, or nobody)."""
        if found[0].kind == PRACTICE:
            raise HTTPException(403, detail=PRACTICE_ONLY)
        if found[1] is None:  # fail closed: a login that is nobody gets nothing
            raise HTTPException(403, detail=NO_MEMBER)
        request.state.device, request.state.user = str(found[0].device_id), str(found[0].user_id)
        return found

    async def authenticated(
        request: Request,
        authorization: str | None = Header(default=None),  # (declared for the API schema)
        x_intdesk_protocol: str | None = Header(default=None),
    ) -> Authed:
        token_hash = gate(request)
        found = remembered(request, token_hash)
        if found is None:  # one thread hop, on a miss only
            found = await run_in_threadpool(looked_up, request, token_hash)
        return admitted(request, found)

    async def caller(found: Authed = Depends(authenticated)) -> Caller:
        return found[0]

    @contextmanager
    def transaction(found: Authed) -> Iterator[Any]:
        """A route's transaction, knowing who the caller is already (``principal``)."""
        with factory.begin() as s:
            s.info["int_desk_principal"] = {found[0].user_id: found[1]}
            yield s

    @app.get("/v1/health")
    def health() -> dict[str, Any]:
        return {"status": "ok", "protocol": P.PROTOCOL_VERSION}

    head = db.head_revision()

    def database_ready() -> str:
        """ "" when the database answers with this server's schema, else why not."""
        with engine.connect() as conn:
            current = db.current_revision(conn)
        return "" if current == head else "the database's schema is not this server's"

    @app.get("/v1/ready", include_in_schema=False)
    async def ready() -> Response:
        """Readiness: the database answers within a few seconds, with this server's schema."""
        try:
            problem = await asyncio.wait_for(run_in_threadpool(database_ready), ops.READY_SECONDS)
        except TimeoutError:
            problem = "the database did not answer in time"
        except Exception as exc:  # unreachable, refused, ...: not ready (no detail leaks)
            problem = f"the database cannot be reached ({type(exc).__name__})"
        if problem:
            return _json({"status": "not ready", "detail": problem}, 503)
        return _json({"status": "ready", "protocol": P.PROTOCOL_VERSION})

    @app.get("/metrics", include_in_schema=False)
    def metrics() -> Response:
        body, content_type = ops.metrics_text()
        return Response(body, media_type=content_type)

    @app.get("/v1/whoami")
    def whoami(found: Authed = Depends(authenticated)) -> dict[str, Any]:
        who, person = found
        # The team member this login is, so the app signs them in as it.
        member = person.member_id if person is not None else None
        return {
            "user": who.user_name,
            "device": str(who.device_id),
            "teams": list(who.teams),
            "member_id": str(member) if member else None,
            "kind": "integration" if person and person.integration_scope else "person",
        }

    # The three routes of every sync cycle take the request whole: FastAPI's dependency and
    # body handling cost about a seventh of a cycle's CPU, and the token's look-up (on a new
    # connection) ran in a thread of its own before the route's. Here the checks run in the
    # order ``authenticated`` has (426, 409, 401, then 403), then the body is validated (422,
    # pydantic from the JSON bytes), all in the one thread the route's database work runs in.
    # The API schema is the same as a declared body and headers give (``sync_schema``).

    async def sync_route(request: Request, work: Callable[[Authed, bytes], Response]) -> Response:
        token_hash = gate(request)
        known = remembered(request, token_hash)
        raw = await request.body() if request.method == "POST" else b""

        def run() -> Response:
            found = admitted(request, known or looked_up(request, token_hash))
            answer = work(found, raw)
            answer.headers[P.CYCLE_HEADER] = P.CYCLE_PATH  # (a laptop then sends cycles there)
            return answer

        return await run_in_threadpool(run)

    @app.post("/v1/push", openapi_extra=sync_schema(P.PushRequest))
    async def push_route(request: Request) -> Response:
        return await sync_route(request, push_work)

    def push_work(found: Authed, raw: bytes) -> Response:
        req = parsed(P.PushRequest, raw)
        done = pushed(found, req)
        return done if isinstance(done, Response) else _json(done)

    def pushed(found: Authed, req: P.PushRequest) -> dict[str, Any] | Response:
        """A push committed: its answer, or the 422 naming the ops refused (nothing stored)."""
        who = found[0]
        if not who.teams:
            sync_audit.push_refused(factory, who, len(req.ops), 403, "no team")
            raise HTTPException(403, detail="You are not a member of any team on this server.")
        try:
            results = _push_retrying(lambda careful: _push_once(found, req, careful))
        except PayloadInvalid as exc:
            sync_audit.push_refused(
                factory, who, len(req.ops), 422, f"{len(exc.problems)} problems"
            )
            return _json({"detail": exc.problems[:100]}, 422)
        ops.count_push(results)
        return {"batch_id": str(req.batch_id), "results": results}

    def _push_once(found: Authed, req: P.PushRequest, careful: bool) -> list[dict[str, Any]]:
        with transaction(found) as s:
            return push(s, found[0], req, careful=careful)

    @app.post("/v1/pull", openapi_extra=sync_schema(P.PullRequest))
    async def pull_route(request: Request) -> Response:
        return await sync_route(request, pull_work)

    def pull_work(found: Authed, raw: bytes) -> Response:
        req = parsed(P.PullRequest, raw)
        if req.cursor is not None or (req.full and not req.after):
            ops.SYNC_CYCLES.inc()
        try:
            with transaction(found) as s:
                body = pull(s, found[0], key, req)
        except CursorGone as exc:
            return _json({"detail": f"Re-download needed: {exc}"}, 410)
        return Response(body, media_type="application/json")

    @app.get("/v1/verify", openapi_extra=sync_schema(None))
    async def verify_route(request: Request) -> Response:
        return await sync_route(request, verify_work)

    def verify_work(found: Authed, _raw: bytes) -> Response:
        with transaction(found) as s:
            return _json(verify(s, found[0]))

    @app.post(P.CYCLE_PATH, openapi_extra=sync_schema(P.CycleRequest))
    async def cycle_route(request: Request) -> Response:
        return await sync_route(request, cycle_work)

    def cycle_work(found: Authed, raw: bytes) -> Response:
        """A whole cycle in one request: the push committed first, in its own transaction as
        ``/v1/push`` commits it (its retries, its team lock held no longer), then the page and
        the verify counts read in one transaction (one snapshot, one audit append). A refusal
        answers as the request refused alone would (the 422 of a push names its ops, and
        nothing is stored); a stale cursor is the pull's 410, or, when the push was stored, a
        200 with the push's results, ``"pull": null`` and why in ``"gone"``."""
        req = parsed(P.CycleRequest, raw)
        sent: dict[str, Any] | None = None
        if req.push is not None:
            done = pushed(found, req.push)
            if isinstance(done, Response):
                return done
            sent = done
        ops.SYNC_CYCLES.inc()
        try:
            with transaction(found) as s:
                page = pull(
                    s, found[0], key, P.PullRequest(cursor=req.pull.cursor, limit=req.pull.limit)
                )
                counts = verify(s, found[0]) if req.verify else None
        except CursorGone as exc:
            gone = f"Re-download needed: {exc}"
            if sent is None:
                return _json({"detail": gone}, 410)
            # The push is stored: its results, with no page (never a 4xx that stored something).
            return _json({"push": sent, "pull": None, "verify": None, "gone": gone})
        body = (
            f'{{"push":{json.dumps(sent, separators=(",", ":"))},"pull":{page},'
            f'"verify":{json.dumps(counts, separators=(",", ":"))}}}'
        )
        return Response(body, media_type="application/json")

    add_schemas(app, (P.PushRequest, P.PullRequest, P.CycleRequest))
    served = {
        "/v1/push": push_work,
        "/v1/pull": pull_work,
        "/v1/verify": verify_work,
        P.CYCLE_PATH: cycle_work,
    }

    def straight(work: Callable[[Authed, bytes], Response]) -> Handler:
        return lambda request: sync_route(request, work)

    shortcuts = {
        (method, route.path): (route, straight(served[route.path]))
        for route in app.routes
        if isinstance(route, APIRoute) and route.path in served
        for method in route.methods or ()
    }

    # FHIR R4 read API (/fhir/R4): same tokens and read scope as sync, OperationOutcome errors.
    fhir_api.mount(app, factory, lookup=lookup, auth_cache=auth_cache)

    from int_desk.server import admin_routes

    admin_routes.install(app, factory, authenticated)  # joining by invitation, Administration
    asgi: Any = SyncRoutes(app, shortcuts)
    if os.environ.get(FAULTS_ENV) == "1":
        from int_desk.server.faults import FaultInjector

        asgi = FaultInjector(asgi)
        log.warning("test-only fault injection is ON (%s=1)", FAULTS_ENV)
    return ops.RequestLog(BodyLimit(backup.GenerationHeader(asgi, generation.id), P.MAX_BODY_BYTES))
