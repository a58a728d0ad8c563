"""The endpoint's FHIR R4 read API, read by a real FHIR client library (fhirclient, SMART on
FHIR's) and by hand: same tokens and read scope as sync, OperationOutcome on every error, no
5xx, every read audited."""

from __future__ import annotations

import json
import uuid
from typing import Any

import httpx
from fhirclient.models.bundle import Bundle
from fhirclient.models.careplan import CarePlan as FcCarePlan
from fhirclient.models.patient import Patient as FcPatient
from fhirclient.server import FHIRServer
from sqlalchemy import func, select

from int_desk.server import admin
from int_desk.server.models import Record, ServerAuditEvent
from tests.helpers.fhir_checks import problems
from tests.helpers.sync_env import Endpoint

NHS = "https://fhir.nhs.uk/Id/nhs-number"


def _team_person(ep: Endpoint, team: str, *, plan_status: str = "active") -> tuple[str, str, str]:
    """(patient id, NHS number, plan id) of someone in ``team`` with a plan of that status."""
    with ep.session() as s:
        for plan_id, patient_id, data in s.execute(
            select(Record.id, Record.patient_id, Record.data).where(
                Record.entity == "care_plan", Record.scope == ep.teams[team]
            )
        ):
            if json.loads(data)["status"] == plan_status:
                patient = json.loads(s.get(Record, ("patient", patient_id)).data)
                return str(patient_id), patient["nhs_number"], str(plan_id)
    raise AssertionError("no such person")


def _server(ep: Endpoint, user: str) -> FHIRServer:
    server = FHIRServer(None, f"{ep.url}/fhir/R4")
    server.session.headers["Authorization"] = f"Bearer {ep.tokens[user]}"
    return server


def _get(ep: Endpoint, path: str, token: str | None = None, **kw: Any) -> httpx.Response:
    headers = {"Authorization": f"Bearer {token}"} if token else {}
    return httpx.request(kw.pop("method", "GET"), f"{ep.url}/fhir/R4{path}", headers=headers,
                         timeout=10, **kw)  # fmt: skip


def test_fhirclient_reads_the_capability_patient_and_care_plan(sqlite_endpoint: Endpoint) -> None:
    ep = sqlite_endpoint
    patient_id, nhs, plan_id = _team_person(ep, "Bicester INT")
    server = _server(ep, "a")
    capability = server.capabilityStatement
    assert capability.fhirVersion == "4.0.1"
    assert {r.type for r in capability.rest[0].resource} >= {"Patient", "CarePlan", "Communication"}

    found = list(FcPatient.where({"identifier": f"{NHS}|{nhs}"}).perform_resources_iter(server))
    assert [p.id for p in found] == [patient_id]
    assert [i.value for i in found[0].identifier if i.system == NHS] == [nhs]

    search = (
        FcCarePlan.where({"subject:identifier": f"{NHS}|{nhs}", "status": "active"})
        .include("goal")
        .include("careTeam")
    )
    bundle: Bundle = next(search.perform_iter(server))
    kinds = [(e.resource.resource_type, e.search.mode) for e in bundle.entry]
    assert kinds[0] == ("CarePlan", "match") and bundle.total == 1
    assert ("CareTeam", "include") in kinds and ("Goal", "include") in kinds
    plan = bundle.entry[0].resource
    assert plan.id == plan_id and plan.status == "active" and plan.intent == "plan"
    assert plan.subject.reference == f"Patient/{patient_id}"
    goal_ids = {r.reference for r in plan.goal}
    assert goal_ids == {
        f"Goal/{e.resource.id}" for e in bundle.entry if e.resource.resource_type == "Goal"
    }

    read = FcCarePlan.read(plan_id, server)
    assert read.id == plan_id and read.careTeam[0].reference == f"CareTeam/{patient_id}"


def test_every_resource_the_api_serves_passes_fhir_resources(sqlite_endpoint: Endpoint) -> None:
    ep = sqlite_endpoint
    patient_id, nhs, plan_id = _team_person(ep, "Bicester INT")
    token = ep.tokens["a"]
    served = [
        _get(ep, "/metadata").json(),
        _get(ep, f"/Patient?identifier={NHS}|{nhs}", token).json(),
        _get(ep, f"/CarePlan?subject:identifier={NHS}|{nhs}&_include=*", token).json(),
        _get(ep, f"/CarePlan/{plan_id}", token).json(),
        _get(ep, f"/CarePlan/{plan_id}?_include=CarePlan:goal", token).json(),
        _get(ep, f"/CareTeam/{patient_id}", token).json(),
        _get(ep, f"/Patient/{patient_id}", token).json(),
    ]
    resources = served + [e["resource"] for b in served for e in b.get("entry", [])]
    assert {r["resourceType"] for r in resources} >= {
        "CapabilityStatement", "Bundle", "Patient", "CarePlan", "Goal", "CareTeam"
    }  # fmt: skip
    assert [p for r in resources for p in problems(r)] == []
    goal = next(r for r in resources if r["resourceType"] == "Goal")
    assert _get(ep, f"/Goal/{goal['id']}", token).json()["id"] == goal["id"]


def test_scope_is_the_sync_scope(sqlite_endpoint: Endpoint) -> None:
    """Another team's token sees nobody; a VCSE worker's only people referred to them, without
    clinical content."""
    ep = sqlite_endpoint
    patient_id, nhs, plan_id = _team_person(ep, "Bicester INT")
    other = ep.tokens["c"]  # Reading West
    assert _get(ep, f"/Patient?identifier={NHS}|{nhs}", other).json()["total"] == 0
    assert _get(ep, f"/CarePlan/{plan_id}", other).status_code == 404
    assert _get(ep, f"/CareTeam/{patient_id}", other).status_code == 404

    with ep.session() as s:
        referral = next(
            json.loads(d)
            for d in s.scalars(
                select(Record.data).where(
                    Record.entity == "referral", Record.scope == ep.teams["Bicester INT"]
                )
            )
            if json.loads(d).get("to_member_id")
        )
        vcse_member = referral["to_member_id"]
        admin.add_user(s, "vcse", ["Bicester INT"], member_id=uuid.UUID(vcse_member))
        token = admin.issue_token(s, "vcse", "phone")[1]
        referred = json.loads(s.get(Record, ("patient", uuid.UUID(referral["patient_id"]))).data)
        s.get(Record, ("member", uuid.UUID(vcse_member)))
    role = None
    with ep.session() as s:
        role = json.loads(s.get(Record, ("member", uuid.UUID(vcse_member))).data)["role"]
    assert role == "vcse_worker"
    seen = _get(ep, f"/Patient?identifier={NHS}|{referred['nhs_number']}", token).json()
    assert seen["total"] == 1
    plans = _get(
        ep, f"/CarePlan?subject:identifier={NHS}|{referred['nhs_number']}&_include=*", token
    ).json()
    notes = [n["text"] for e in plans["entry"] for n in e["resource"].get("note", [])]
    assert not any(n.startswith(("Clinical summary", "Medicines notes")) for n in notes)
    if nhs != referred["nhs_number"]:
        assert _get(ep, f"/Patient?identifier={NHS}|{nhs}", token).json()["total"] == 0


BAD_REQUESTS = [
    ("/Patient?identifier=x", "a", "GET", 400),
    ("/Patient?identifier=urn:other|9994765914", "a", "GET", 400),
    (f"/Patient?identifier={NHS}|9994765913", "a", "GET", 400),  # Modulus 11
    (f"/Patient?identifier={NHS}|943", "a", "GET", 400),
    ("/Patient", "a", "GET", 400),
    (f"/Patient?identifier={NHS}|9994765914&name=x", "a", "GET", 400),
    (f"/Patient?identifier={NHS}|9994765914&_format=xml", "a", "GET", 400),
    (f"/Patient?identifier={NHS}|9994765914&identifier={NHS}|9994765914", "a", "GET", 400),
    ("/CarePlan?status=bogus&_id=1", "a", "GET", 400),
    ("/CarePlan?_id=1&_include=CarePlan:author", "a", "GET", 400),
    ("/CarePlan", "a", "GET", 400),
    ("/CarePlan/not-a-uuid", "a", "GET", 404),
    (f"/CarePlan/{uuid.uuid4()}", "a", "GET", 404),
    ("/Observation?code=x", "a", "GET", 404),
    ("/Patient", "a", "POST", 405),
    ("/Patient/1", "a", "DELETE", 405),
    (f"/Patient?identifier={NHS}|9994765914", None, "GET", 401),
    (f"/Patient?identifier={NHS}|9994765914", "not-a-token", "GET", 401),
    ("/Patient?identifier=" + "9" * 20_000, "a", "GET", 400),
    ("/Patient?identifier=%ff%fe", "a", "GET", 400),
]


def test_bad_requests_get_an_operation_outcome_never_a_5xx(sqlite_endpoint: Endpoint) -> None:
    ep = sqlite_endpoint
    for path, token, method, status in BAD_REQUESTS:
        r = _get(ep, path, ep.tokens.get(token or "", token), method=method)
        assert r.status_code == status, (path, r.text[:300])
        body = r.json()
        assert body["resourceType"] == "OperationOutcome" and body["issue"][0]["diagnostics"]
        assert problems(body) == []
        assert "9994765914" not in r.text


def test_every_read_is_audited(sqlite_endpoint: Endpoint) -> None:
    ep = sqlite_endpoint
    patient_id, nhs, plan_id = _team_person(ep, "Bicester INT")

    def entries() -> list[ServerAuditEvent]:
        with ep.session() as s:
            return list(s.scalars(select(ServerAuditEvent).order_by(ServerAuditEvent.seq)))

    before = len(entries())
    _get(ep, f"/Patient?identifier={NHS}|{nhs}", ep.tokens["a"])
    _get(ep, f"/CarePlan/{plan_id}", ep.tokens["b"])
    _get(ep, f"/CarePlan/{plan_id}", ep.tokens["c"])  # another team: refused, still audited
    _get(ep, f"/CarePlan/{plan_id}", "forged")
    new = entries()[before:]
    assert [(e.resource_type, e.outcome) for e in new] == [
        ("Patient", 200), ("CarePlan", 200), ("CarePlan", 404), ("CarePlan", 401)
    ]  # fmt: skip
    assert {str(e.patient_id) for e in new[:2]} == {patient_id}
    assert new[0].user_id != new[1].user_id and new[3].user_id is None
    assert not any(nhs in e.detail for e in new)
    with ep.session() as s:
        assert s.scalar(select(func.count()).select_from(ServerAuditEvent)) == before + 4


def test_fuzzed_fhir_requests_never_get_a_5xx(sqlite_endpoint: Endpoint) -> None:
    """Hypothesis-generated paths, parameters and values (unicode, huge, encoded, repeated)
    with good, forged and missing tokens: every answer is below 500, and every refusal an
    OperationOutcome."""
    from hypothesis import HealthCheck, given, settings
    from hypothesis import strategies as st

    ep = sqlite_endpoint
    _patient_id, nhs, plan_id = _team_person(ep, "Bicester INT")
    names = ["identifier", "subject:identifier", "status", "_id", "_include", "_format",
             "recipient", "_lastUpdated", "name", "_count"]  # fmt: skip
    values = st.one_of(
        st.text(max_size=40),
        st.sampled_from([f"{NHS}|{nhs}", f"{NHS}|", "|", "active,draft", "CarePlan:goal", "*",
                         "gt2026-01-01", "json", plan_id, "x" * 5000, "%00", "\ud7ff"]),
    )  # fmt: skip
    paths = st.sampled_from(["/Patient", f"/Patient/{_patient_id}", "/CarePlan",
                             f"/CarePlan/{plan_id}", "/Goal/x", "/CareTeam/..", "/Communication",
                             f"/Binary/{plan_id}", "/metadata", "/Observation/1", "/"])  # fmt: skip
    tokens = st.sampled_from([ep.tokens["a"], ep.tokens["a"], ep.tokens["c"], "forged", None])
    seen: dict[int, int] = {}
    with httpx.Client(base_url=f"{ep.url}/fhir/R4", timeout=10) as client:

        @settings(max_examples=150, deadline=None, derandomize=True, database=None,
                  suppress_health_check=list(HealthCheck))  # fmt: skip
        @given(path=paths, params=st.lists(st.tuples(st.sampled_from(names), values), max_size=4),
               token=tokens)  # fmt: skip
        def run(path: str, params: list[tuple[str, str]], token: str | None) -> None:
            headers = {"Authorization": f"Bearer {token}"} if token else {}
            try:
                r = client.get(path, params=params, headers=headers)
            except (httpx.InvalidURL, UnicodeEncodeError):
                return  # the client refused to send it
            seen[r.status_code] = seen.get(r.status_code, 0) + 1
            assert r.status_code < 500, (path, params, r.text[:300])
            if r.status_code >= 400:
                assert r.json()["resourceType"] == "OperationOutcome"

        run()
    assert seen.get(200, 0) > 5 and sum(v for k, v in seen.items() if k >= 400) > 50, seen


def test_a_corrected_nhs_number_is_found_by_the_new_number_only(sqlite_endpoint: Endpoint) -> None:
    """The endpoint keeps the NHS number key with each write of the patient row (as sync's
    update does), so a search never finds a person by a number they no longer have."""
    ep = sqlite_endpoint
    patient_id, nhs, _plan = _team_person(ep, "Bicester INT")
    new = "9999999905"  # valid, synthetic; checked unused just below
    assert _get(ep, f"/Patient?identifier={NHS}|{new}", ep.tokens["a"]).json()["total"] == 0
    with ep.session() as s:
        rec = s.get(Record, ("patient", uuid.UUID(patient_id)))
        rec.data = json.dumps({**json.loads(rec.data), "nhs_number": new})
    try:
        found = _get(ep, f"/Patient?identifier={NHS}|{new}", ep.tokens["a"]).json()
        assert [e["resource"]["id"] for e in found.get("entry", [])] == [patient_id]
        assert _get(ep, f"/Patient?identifier={NHS}|{nhs}", ep.tokens["a"]).json()["total"] == 0
    finally:
        with ep.session() as s:
            rec = s.get(Record, ("patient", uuid.UUID(patient_id)))
            rec.data = json.dumps({**json.loads(rec.data), "nhs_number": nhs})


def test_patients_pushed_by_sync_are_found_by_their_nhs_number(
    sqlite_endpoint: Endpoint, laptops
) -> None:
    """A new person and a corrected NHS number, both sent by a laptop's sync (the push writes
    rows set-based, not through the ORM), are found by FHIR search by their numbers."""
    from datetime import date

    from int_desk.store import models as m
    from tests.helpers.sync_env import sync

    ep = sqlite_endpoint
    a = laptops(ep, "a")
    sync(a)
    new_person, corrected = "9999999913", "9999999921"  # valid check digits, synthetic
    with a.session() as s:
        for n in (new_person, corrected):
            assert s.scalar(select(func.count()).where(m.Patient.nhs_number == n)) == 0
        someone = s.scalars(select(m.Patient).order_by(m.Patient.id)).first()
        old, someone.nhs_number = someone.nhs_number, corrected
        added = m.Patient(
            nhs_number=new_person, given_name="Test", family_name="Pushed",
            date_of_birth=date(1940, 1, 2), sex="female", postcode="OX26 6AA",
        )  # fmt: skip
        s.add(added)
        s.flush()
        ids = {new_person: str(added.id), corrected: str(someone.id)}
    assert sync(a).rejected == 0
    for number, pid in ids.items():
        found = _get(ep, f"/Patient?identifier={NHS}|{number}", ep.tokens["a"]).json()
        assert [e["resource"]["id"] for e in found.get("entry", [])] == [pid]
    assert _get(ep, f"/Patient?identifier={NHS}|{old}", ep.tokens["a"]).json()["total"] == 0
