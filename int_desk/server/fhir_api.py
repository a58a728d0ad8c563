"""The endpoint's FHIR R4 read API under ``/fhir/R4`` (UK Core profiles; JSON only).

    GET /fhir/R4/metadata                                              CapabilityStatement (open)
    GET /fhir/R4/Patient?identifier=https://fhir.nhs.uk/Id/nhs-number|N
    GET /fhir/R4/Patient/{id}
    GET /fhir/R4/CarePlan?subject:identifier=https://fhir.nhs.uk/Id/nhs-number|N&status=active
        [&_include=CarePlan:goal&_include=CarePlan:care-team&_include=CarePlan:subject]
    GET /fhir/R4/CarePlan?_id={id}&_include=...        CarePlan/{id}?_include=... (a Bundle)
    GET /fhir/R4/CarePlan/{id}   Goal/{id}   CareTeam/{id}
    GET /fhir/R4/Communication?recipient=...&_lastUpdated=gt...        (server/gp_notify_api.py)

Staff use their sync device token (``Authorization: Bearer``; no protocol header needed) and see
what sync would send them: their teams' people, cut by their role's read scope (a VCSE worker:
only people referred to them, no clinical content). Every answer that is not a success is an
OperationOutcome; every read is audited (``srv_audit_event``), refusals included. Unknown
search parameters are refused (400) rather than ignored, so a typo never widens a search.
"""

from __future__ import annotations

import json
import logging
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from fastapi import APIRouter, FastAPI, Request
from fastapi.responses import Response
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from int_desk.domain.nhs_number import is_valid
from int_desk.fhir import mapping, ukcore
from int_desk.fhir.outcome import MEDIA_TYPE, operation_outcome, searchset
from int_desk.server import fhir_records as fr
from int_desk.server import gp_notify_api, storage_full, sync_audit
from int_desk.server.admin import hash_token
from int_desk.server.auth_cache import AuthCache
from int_desk.server.models import GLOBAL_SCOPE, DeviceToken, ServerUser
from int_desk.server.principal import NO_MEMBER, PRACTICE, PRACTICE_SCOPE
from int_desk.server.read_scope import scope_of
from int_desk.wire import protocol as P

log = logging.getLogger(__name__)

BASE = "/fhir/R4"
PLAN_STATUS_SEARCH: dict[str, str] = {
    fhir: ours for ours, (fhir, _intent) in mapping.PLAN_STATUS.items()
}
INCLUDES = ("CarePlan:goal", "CarePlan:care-team", "CarePlan:subject")
# Clients that name the element rather than the search parameter (fhirclient does).
INCLUDE_ALIASES = {
    "CarePlan:careTeam": "CarePlan:care-team",
    "CarePlan:patient": "CarePlan:subject",
}
ALWAYS_ALLOWED_PARAMS = frozenset({"_format"})


class FhirError(Exception):
    """An answer as an OperationOutcome (status and a message naming no patient data)."""

    def __init__(self, status: int, message: str) -> None:
        super().__init__(message)
        self.status = status


@dataclass(frozen=True)
class PracticeReader:
    """A practice login's token: reads the notifications addressed to ``ods_code`` only."""

    token_id: uuid.UUID
    user_id: uuid.UUID
    ods_code: str
    label: str  # the token's label (e.g. the practice's system), else the login's name


Reader = fr.StaffReader | PracticeReader
Lookup = Callable[[str], Any]  # token hash -> (Caller, Principal | None) | None


def fhir_json(payload: Any, status: int = 200) -> Response:
    return Response(
        json.dumps(payload, separators=(",", ":"), ensure_ascii=False),
        status_code=status,
        media_type=MEDIA_TYPE,
    )


def outcome_response(status: int, message: str) -> Response:
    headers = {"WWW-Authenticate": "Bearer"} if status == 401 else None
    response = fhir_json(operation_outcome(status, message), status)
    if headers:
        response.headers.update(headers)
    return response


def parse_token_param(value: str, *, what: str) -> str:
    """``system|value`` of an NHS number identifier -> the bare number (400 otherwise)."""
    system, sep, number = value.partition("|")
    if not sep:
        raise FhirError(400, f"{what} needs system|value, e.g. {ukcore.NHS_NUMBER_SYSTEM}|N.")
    if system != ukcore.NHS_NUMBER_SYSTEM:
        raise FhirError(400, f"{what}: only the system {ukcore.NHS_NUMBER_SYSTEM} is supported.")
    number = number.strip()
    if not number.isdigit() or len(number) != 10:
        raise FhirError(400, f"{what}: an NHS number is 10 digits with no spaces.")
    if not is_valid(number):
        raise FhirError(400, f"{what}: the NHS number fails its Modulus 11 check.")
    return number


def query_params(request: Request, allowed: set[str]) -> dict[str, list[str]]:
    params: dict[str, list[str]] = {}
    for key, value in request.query_params.multi_items():
        if key not in allowed and key not in ALWAYS_ALLOWED_PARAMS:
            raise FhirError(400, f"Unsupported search parameter {key[:40]!r}.")
        params.setdefault(key, []).append(value)
    fmt = params.get("_format", ["json"])[0]
    if fmt not in ("json", "application/json", "application/fhir+json"):
        raise FhirError(400, "Only JSON is supported (_format=json).")
    return params


def one(params: dict[str, list[str]], name: str) -> str | None:
    values = params.get(name)
    if not values:
        return None
    if len(values) > 1:
        raise FhirError(400, f"Give {name} once.")
    return values[0]


def parse_id(value: str) -> uuid.UUID:
    try:
        return uuid.UUID(value)
    except ValueError:
        raise FhirError(404, "No such resource.") from None


def mount(
    app: FastAPI,
    factory: sessionmaker[Session],
    *,
    lookup: Lookup,
    auth_cache: AuthCache,
) -> None:
    """Add the FHIR routes to the endpoint's app (not in its OpenAPI schema: FHIR clients read
    the CapabilityStatement, and the sync schema stays the sync protocol's)."""
    router = APIRouter(include_in_schema=False)

    def authenticate(request: Request, session: Session) -> Reader:
        header = request.headers.get("authorization") or ""
        if not header.startswith("Bearer ") or not header[7:].strip():
            raise FhirError(401, "A bearer token is required.")
        token_hash = hash_token(header[7:].strip())
        connection = request.scope.get("client")
        found = auth_cache.get(connection, token_hash) if connection else None
        if found is None:
            found = lookup(token_hash)
            if found is not None and connection:
                auth_cache.put(connection, token_hash, found)
        if found is None:
            raise FhirError(401, "This token is not valid, has expired or was revoked.")
        caller, who = found
        if caller.kind == PRACTICE:
            return practice_reader(session, caller)
        if who is None:  # fail closed: no member with a known role, no declared scope
            raise FhirError(403, NO_MEMBER)
        if not caller.teams:
            raise FhirError(403, "You are not a member of any team on this server.")
        # The principal came with the token (cached with it): not worked out again per read.
        return fr.StaffReader(caller.user_id, caller.teams, scope_of(session, who))

    def practice_reader(session: Session, caller: Any) -> PracticeReader:
        """A practice login reads only with its declared scope and a practice ODS code."""
        row = session.execute(
            select(ServerUser.scope, ServerUser.ods_code, DeviceToken.label)
            .join(DeviceToken, DeviceToken.user_id == ServerUser.id)
            .where(DeviceToken.id == caller.device_id, ServerUser.id == caller.user_id)
        ).first()
        ods = (row.ods_code or "") if row else ""
        if row is None or row.scope != PRACTICE_SCOPE or ukcore.ods_problem(ods, practice=True):
            raise FhirError(
                403, "This practice login has no declared scope or practice ODS code, so it "
                "reads nothing. Issue its token again with int-desk admin issue-practice-token.",
            )  # fmt: skip
        return PracticeReader(caller.device_id, caller.user_id, ods, row.label or caller.user_name)

    def handle(
        request: Request,
        resource_type: str,
        work: Callable[[Session, Any], tuple[Any, list[Any], Any, str]],  # reader: Reader
        *,
        staff_only: bool = True,
    ) -> Response:
        """Authenticate, run ``work`` (-> payload, patient ids, resource id, detail), audit.

        An unexpected failure rolls back and still answers an OperationOutcome (500), naming
        only the kind of error in the log."""
        try:
            return _handle(request, resource_type, work, staff_only=staff_only)
        except Exception as exc:  # a bug, not bad input: bad input is a FhirError
            log.error("FHIR %s request failed: %s", resource_type, type(exc).__name__)
            if storage_full.is_storage_full(exc):  # try again later, as the sync routes say
                answer = outcome_response(503, storage_full.READ_DETAIL)
                answer.headers["Retry-After"] = str(storage_full.RETRY_AFTER_SECONDS)
                return answer
            return outcome_response(500, "The server could not answer this request.")

    def _handle(
        request: Request,
        resource_type: str,
        work: Callable[[Session, Any], tuple[Any, list[Any], Any, str]],  # reader: Reader
        *,
        staff_only: bool,
    ) -> Response:
        with factory.begin() as session:
            reader: Reader | None = None
            try:
                reader = authenticate(request, session)
                if staff_only and isinstance(reader, PracticeReader):
                    raise FhirError(403, "A practice token reads its GP notifications only.")
                payload, patients, rid, detail = work(session, reader)
                _audit(session, reader, resource_type, rid, patients, 200, detail)
                return payload if isinstance(payload, Response) else fhir_json(payload)
            except FhirError as exc:
                _audit(session, reader, resource_type, None, [], exc.status, "refused")
                return outcome_response(exc.status, str(exc))

    def _audit(
        session: Session,
        reader: Reader | None,
        resource_type: str,
        rid: Any,
        patients: list[Any],
        status: int,
        detail: str,
    ) -> None:
        teams = getattr(reader, "teams", ())
        sync_audit.add(
            session, sync_audit.FHIR_READ, chain=teams[0] if teams else GLOBAL_SCOPE,
            outcome=str(status), user_id=getattr(reader, "user_id", None),
            device_id=getattr(reader, "token_id", None), entity=resource_type[:40],
            record_id=rid, patients=sync_audit.people(patients), detail=detail,
        )  # fmt: skip
        fr.audit(
            session,
            user_id=reader.user_id if reader is not None else None,
            practice_token_id=reader.token_id if isinstance(reader, PracticeReader) else None,
            resource_type=resource_type,
            resource_id=rid,
            patient_ids=patients,
            outcome=status,
            detail=detail,
        )

    def base_url(request: Request) -> str:
        return str(request.base_url).rstrip("/") + BASE

    @router.get(f"{BASE}/metadata")
    def metadata(request: Request) -> Response:
        return fhir_json(capability_statement(base_url(request)))

    @router.get(f"{BASE}/Patient")
    def patient_search(request: Request) -> Response:
        def work(s: Session, reader: fr.StaffReader) -> tuple[Any, list[Any], Any, str]:
            params = query_params(request, {"identifier"})
            value = one(params, "identifier")
            if value is None:
                raise FhirError(400, "Search Patients by identifier (system|NHS number).")
            nhs = parse_token_param(value, what="identifier")
            found = [
                mapping.patient(fr.person_data(s, reader, fr.PersonRows(p, {}), None))
                for p in fr.patients_by_nhs(s, reader, nhs)
            ]
            bundle = searchset(base_url(request), str(request.url), found)
            return bundle, [p["id"] for p in found], None, f"search-type n={len(found)}"

        return handle(request, "Patient", work)

    @router.get(f"{BASE}/Patient/{{rid}}")
    def patient_read(request: Request, rid: str) -> Response:
        def work(s: Session, reader: fr.StaffReader) -> tuple[Any, list[Any], Any, str]:
            query_params(request, set())
            person = fr.person_rows(s, reader, parse_id(rid))
            if person is None:
                raise FhirError(404, "No such Patient, or not one you may read.")
            resource = mapping.patient(fr.person_data(s, reader, person, None))
            return resource, [rid], rid, "read"

        return handle(request, "Patient", work)

    def plans_bundle(
        request: Request,
        s: Session,
        reader: fr.StaffReader,
        people: list[fr.PersonRows],
        plan_filter: Callable[[dict[str, Any]], bool],
        includes: list[str],
    ) -> tuple[Any, list[Any], Any, str]:
        matches: list[dict[str, Any]] = []
        extra: list[dict[str, Any]] = []
        for person in people:
            for plan in person.plans():
                if not plan_filter(plan):
                    continue
                data = fr.person_data(s, reader, person, plan)
                resource = mapping.care_plan(data)
                assert resource is not None
                matches.append(resource)
                if "CarePlan:goal" in includes:
                    extra += [mapping.goal(data, g) for g in data.goals if not g.get("deleted")]
                if "CarePlan:care-team" in includes:
                    extra.append(mapping.care_team(data))
                if "CarePlan:subject" in includes:
                    extra.append(mapping.patient(data))
        bundle = searchset(base_url(request), str(request.url), matches, extra)
        patients = [p.patient["id"] for p in people if any(plan_filter(x) for x in p.plans())]
        return bundle, patients, None, f"search-type n={len(matches)}"

    def includes_of(params: dict[str, list[str]]) -> list[str]:
        wanted = [INCLUDE_ALIASES.get(i, i) for i in params.get("_include", [])]
        unknown = [i for i in wanted if i not in INCLUDES and i != "*"]
        if unknown:
            raise FhirError(400, f"_include supports {', '.join(INCLUDES)}.")
        return list(INCLUDES) if "*" in wanted else wanted

    @router.get(f"{BASE}/CarePlan")
    def care_plan_search(request: Request) -> Response:
        def work(s: Session, reader: fr.StaffReader) -> tuple[Any, list[Any], Any, str]:
            params = query_params(
                request, {"subject:identifier", "patient:identifier", "status", "_id", "_include"}
            )
            includes = includes_of(params)
            statuses = set()
            for value in params.get("status", []):
                for code in value.split(","):
                    if code not in PLAN_STATUS_SEARCH:
                        raise FhirError(
                            400, f"status is one of {', '.join(sorted(PLAN_STATUS_SEARCH))}."
                        )
                    statuses.add(PLAN_STATUS_SEARCH[code])
            subject = one(params, "subject:identifier") or one(params, "patient:identifier")
            plan_id = one(params, "_id")
            if subject is None and plan_id is None:
                raise FhirError(400, "Search CarePlans by subject:identifier or _id.")
            people: list[fr.PersonRows] = []
            wanted_id: str | None = None
            if plan_id is not None:
                plan = fr.record(s, reader, "care_plan", parse_id(plan_id))
                wanted_id = plan["id"] if plan else "-"
                person = fr.person_rows(s, reader, uuid.UUID(plan["patient_id"])) if plan else None
                people = [person] if person else []
            if subject is not None:
                nhs = parse_token_param(subject, what="subject:identifier")
                found = [
                    fr.person_rows(s, reader, uuid.UUID(p["id"]))
                    for p in fr.patients_by_nhs(s, reader, nhs)
                ]
                by_id = {p.patient["id"]: p for p in found if p}
                people = (
                    [p for p in people if p.patient["id"] in by_id]
                    if plan_id
                    else list(by_id.values())
                )

            def keep(plan: dict[str, Any]) -> bool:
                if wanted_id is not None and plan["id"] != wanted_id:
                    return False
                return not statuses or plan.get("status") in statuses

            return plans_bundle(request, s, reader, people, keep, includes)

        return handle(request, "CarePlan", work)

    def read_route(resource_type: str, entity: str) -> None:
        @router.get(f"{BASE}/{resource_type}/{{rid}}", name=f"read_{resource_type}")
        def read(request: Request, rid: str) -> Response:
            def work(s: Session, reader: fr.StaffReader) -> tuple[Any, list[Any], Any, str]:
                params = query_params(
                    request, {"_include"} if resource_type == "CarePlan" else set()
                )
                row = fr.record(s, reader, entity, parse_id(rid))
                patient_id = (row or {}).get("patient_id") or (row or {}).get("id")
                if entity == "goal" and row:
                    plan = fr.record(s, reader, "care_plan", uuid.UUID(row["care_plan_id"]))
                    patient_id = plan["patient_id"] if plan else None
                person = fr.person_rows(s, reader, uuid.UUID(patient_id)) if patient_id else None
                if row is None or person is None:
                    raise FhirError(404, f"No such {resource_type}, or not one you may read.")
                if resource_type == "CarePlan" and params.get("_include"):
                    includes = includes_of(params)
                    return plans_bundle(
                        request, s, reader, [person], lambda p: p["id"] == row["id"], includes
                    )
                if resource_type == "CarePlan":
                    resource = mapping.care_plan(fr.person_data(s, reader, person, row))
                elif resource_type == "Goal":
                    resource = mapping.goal(fr.person_data(s, reader, person, None), row)
                else:
                    resource = mapping.care_team(fr.person_data(s, reader, person, None))
                return resource, [person.patient["id"]], rid, "read"

            return handle(request, resource_type, work)

    read_route("CarePlan", "care_plan")
    read_route("Goal", "goal")
    read_route("CareTeam", "patient")  # a person's CareTeam has the patient's id

    gp_notify_api.register(router, handle, base_url)

    @router.api_route(
        f"{BASE}/{{rest:path}}", methods=["GET", "POST", "PUT", "PATCH", "DELETE", "HEAD"]
    )
    def unsupported(request: Request, rest: str) -> Response:
        if request.method != "GET":
            return outcome_response(405, "This FHIR API is read-only.")
        return outcome_response(
            404, "This FHIR API serves Patient, CarePlan, Goal, CareTeam and Communication."
        )

    app.include_router(router)


def capability_statement(base: str) -> dict[str, Any]:
    def resource(
        rtype: str, interactions: list[str], params: list[tuple[str, str]], **more: Any
    ) -> dict[str, Any]:
        out: dict[str, Any] = {
            "type": rtype,
            "interaction": [{"code": i} for i in interactions],
        }
        if ukcore.profile(rtype):
            out["profile"] = ukcore.profile(rtype)[0]
        if params:
            out["searchParam"] = [{"name": n, "type": t} for n, t in params]
        out.update(more)
        return out

    return {
        "resourceType": "CapabilityStatement",
        "status": "active",
        "date": "2026-12-06",
        "publisher": "INT Desk",
        "kind": "instance",
        "software": {"name": "INT Desk sync endpoint", "version": str(P.PROTOCOL_VERSION)},
        "implementation": {"description": "INT Desk FHIR R4 read API", "url": base},
        "fhirVersion": ukcore.FHIR_VERSION,
        "format": ["json"],
        "rest": [
            {
                "mode": "server",
                "security": {
                    "description": (
                        "Bearer tokens: a team member's INT Desk device token (their teams, as "
                        "their role reads), or a GP practice's token (its notifications only)."
                    )
                },
                "resource": [
                    resource("Patient", ["read", "search-type"], [("identifier", "token")]),
                    resource(
                        "CarePlan",
                        ["read", "search-type"],
                        [("subject:identifier", "token"), ("status", "token"), ("_id", "token")],
                        searchInclude=list(INCLUDES),
                    ),
                    resource("Goal", ["read"], []),
                    resource("CareTeam", ["read"], []),
                    resource(
                        "Communication",
                        ["search-type"],
                        [("recipient", "reference"), ("_lastUpdated", "date")],
                    ),
                ],
            }
        ],
    }
