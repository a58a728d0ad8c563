"""One person's INT Desk records as FHIR R4 resources (UK Core profiles where they exist).

Input is ``PersonData``: wire-form dicts (UUIDs and dates as text, ``id`` included), which is
both what ``int_desk.wire.schema.row_to_wire`` makes of ORM rows and what the endpoint stores.
References are relative (``Patient/<id>``), as the endpoint and Bulk Data NDJSON use them;
``file_bundle`` rewrites them to ``urn:uuid:`` for a standalone Bundle file.

Resource ids are our record UUIDs. A resource with no row of its own takes the id of the row
it comes from (ids are unique per resource type): CareTeam the patient's, Consent and
Provenance the plan version's; Conditions (several per person) get name-based UUIDs (uuid5)
of the patient and label. So the same record always exports under the same id, and the
endpoint can read any of them back. The mapping table is docs/fhir.md.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from typing import Any

from int_desk.domain.gp_notification import TRIGGER_LABELS, Trigger
from int_desk.domain.vocab import (
    ROLE_LABELS,
    FlagCode,
    ReferralService,
    Role,
)
from int_desk.fhir import ukcore

Resource = dict[str, Any]
Row = dict[str, Any]

# uuid5 namespace of the ids made for resources that have no row of their own.
ID_NAMESPACE = uuid.UUID("6f1c1f2e-5d0b-4c8e-9a51-1d2f4b0c7e10")

PLAN_STATUS = {  # our lifecycle -> (CarePlan.status, CarePlan.intent)
    "draft": ("draft", "proposal"),
    "active": ("active", "plan"),
    "superseded": ("revoked", "plan"),
    "closed": ("completed", "plan"),
}
ACTIVITY_STATUS = {  # PlanAction.status (Task statuses) -> CarePlan.activity.detail.status
    "draft": "not-started",
    "requested": "not-started",
    "accepted": "scheduled",
    "in-progress": "in-progress",
    "on-hold": "on-hold",
    "completed": "completed",
    "cancelled": "cancelled",
}
REFERRAL_STATUS = {  # Referral.status -> ServiceRequest.status
    "sent": "active",
    "accepted": "active",
    "declined": "revoked",
    "completed": "completed",
    "cancelled": "revoked",
}
PLAN_NOTES = (  # CarePlan.note, in the order the plan shows them
    ("about_me", "About me"),
    ("contingency_plan", "Contingency / crisis plan"),
    ("carer_involvement", "Unpaid carer's involvement"),
    ("clinical_summary", "Clinical summary"),
    ("medicines_notes", "Medicines notes"),
)
CONTINGENCY_LABEL = "Contingency / crisis plan"
CARE_TEAM_FUNCTION = {
    "lead": "Named lead professional",
    "usual_gp": "Usual GP",
    "involved": "Also involved",
}


@dataclass
class PersonData:
    """One person's rows, as wire dicts with ``id``; members/teams/practice by id."""

    patient: Row
    practice: Row | None = None
    plan: Row | None = None
    goals: list[Row] = field(default_factory=list)
    actions: list[Row] = field(default_factory=list)
    flags: list[Row] = field(default_factory=list)
    tasks: list[Row] = field(default_factory=list)
    referrals: list[Row] = field(default_factory=list)
    participants: list[Row] = field(default_factory=list)  # care_team_participant rows
    lead_member_id: str | None = None  # the named lead (cohort membership, else the plan's)
    team_names: list[str] = field(default_factory=list)  # the INT(s) caring for the person
    members: dict[str, Row] = field(default_factory=dict)


def make_id(*parts: object) -> str:
    return str(uuid.uuid5(ID_NAMESPACE, ":".join(str(p) for p in parts)))


def care_team_id(patient_id: str) -> str:
    """A person has one CareTeam: it shares the patient's id (ids are unique per type)."""
    return patient_id


def ref(resource_type: str, rid: str | None) -> dict[str, str] | None:
    return {"reference": f"{resource_type}/{rid}"} if rid else None


def _meta(resource_type: str, updated: str | None = None) -> dict[str, Any]:
    meta: dict[str, Any] = {}
    if updated:
        meta["lastUpdated"] = updated
    profiles = ukcore.profile(resource_type)
    if profiles:
        meta["profile"] = profiles
    return meta


def _resource(resource_type: str, rid: str, row: Row | None = None, **body: Any) -> Resource:
    """A resource with id and meta, dropping empty elements (FHIR forbids empty values)."""
    out: Resource = {"resourceType": resource_type, "id": rid}
    meta = _meta(resource_type, (row or {}).get("updated_at"))
    if meta:
        out["meta"] = meta
    out.update(_clean(body))
    return out


def _empty(value: Any) -> bool:
    """FHIR forbids empty elements; False and 0 are values."""
    return value is None or (not value and not isinstance(value, bool | int | float))


def _clean(value: Any) -> Any:
    """Drop empty elements and trim text, in one pass (an export maps millions of elements)."""
    kind = type(value)
    if kind is dict:
        return _clean_dict(value)
    if kind is list:
        return _clean_list(value)
    if kind is str:
        return value.strip()
    return value


def _clean_item(value: Any) -> Any:
    """``value`` cleaned, or None when it is empty. Leaves are handled here, not by recursion:
    most elements are short strings, and a call per element was most of the mapping's time."""
    kind = type(value)
    if kind is str:
        return value.strip() or None
    if kind is dict:
        return _clean_dict(value) or None
    if kind is list:
        return _clean_list(value) or None
    if value is None or kind is bool or kind is int or kind is float:
        return value
    return None if _empty(value) else value


def _clean_dict(value: dict[str, Any]) -> dict[str, Any]:
    out = {}
    for key, item in value.items():
        item = _clean_item(item)
        if item is not None:
            out[key] = item
    return out


def _clean_list(value: list[Any]) -> list[Any]:
    return [item for item in map(_clean_item, value) if item is not None]


def _text(value: Any) -> str:
    return str(value or "").strip()


def _coding(system: str, code: str, display: str = "") -> dict[str, Any]:
    return {"coding": [{"system": system, "code": code, "display": display}], "text": display}


def _in_sentence(label: str) -> str:
    """A vocabulary label inside a sentence: 'District nursing' -> 'district nursing', while a
    label that starts with an abbreviation keeps it ('GP', 'VCSE (voluntary sector)')."""
    first = label.split(" ", 1)[0]
    if len(first) > 1 and first.isupper():
        return label
    return label[:1].lower() + label[1:]


def _local_identifier(rid: str) -> dict[str, str]:
    return {"system": ukcore.URI_SYSTEM, "value": f"urn:uuid:{rid}"}


# --- people and organisations ------------------------------------------------------------------


def patient(person: PersonData) -> Resource:
    p = person.patient
    nhs = {
        "system": ukcore.NHS_NUMBER_SYSTEM,
        "value": p["nhs_number"],
        "extension": [
            {
                "url": ukcore.NHS_VERIFICATION_EXTENSION,
                "valueCodeableConcept": _coding(
                    ukcore.NHS_VERIFICATION_SYSTEM, *ukcore.NHS_VERIFICATION_CODE
                ),
            }
        ],
    }
    given = _text(p.get("given_name")).split()
    return _resource(
        "Patient",
        p["id"],
        p,
        identifier=[nhs],
        name=[{"use": "official", "family": p.get("family_name"), "given": given}],
        gender=p.get("sex") or "unknown",
        birthDate=p.get("date_of_birth"),
        address=[
            {"use": "home", "text": p.get("address"), "postalCode": p.get("postcode")},
        ],
        telecom=[{"system": "phone", "value": p.get("phone"), "use": "home"}],
        generalPractitioner=[_practice_ref(person.practice)],
    )


def _practice_ref(practice: Row | None) -> dict[str, Any] | None:
    """The registered practice: a reference that also carries its ODS code and name, so a
    reader without the Organization resource still knows the practice."""
    if not practice:
        return None
    out: dict[str, Any] = {"reference": f"Organization/{practice['id']}"}
    if practice.get("code"):
        out["identifier"] = {"system": ukcore.ODS_SYSTEM, "value": practice["code"]}
    out["display"] = practice.get("name")
    return out


def organization(org: Row) -> Resource:
    identifier = [{"system": ukcore.ODS_SYSTEM, "value": org["code"]}] if org.get("code") else []
    return _resource("Organization", org["id"], org, identifier=identifier, name=org.get("name"))


def practitioner(member: Row) -> Resource:
    parts = _text(member.get("name")).split()
    return _resource(
        "Practitioner",
        member["id"],
        member,
        identifier=[_local_identifier(member["id"])],
        name=[
            {"text": " ".join(parts), "family": parts[-1] if parts else None, "given": parts[:-1]}
        ],
        active=member.get("active", True),
    )


def role_concept(role: str | None) -> dict[str, Any] | None:
    if not role:
        return None
    try:
        label = ROLE_LABELS[Role(role)]
    except ValueError:
        label = role
    return _coding(ukcore.ROLE_SYSTEM, role, label)


def care_team(person: PersonData) -> Resource:
    pid = person.patient["id"]
    seen: set[str] = set()
    participants = []

    def add(member_id: str | None, function: str) -> None:
        if not member_id or member_id in seen:
            return
        seen.add(member_id)
        member = person.members.get(member_id, {})
        roles = [_coding(ukcore.ROLE_SYSTEM, function, CARE_TEAM_FUNCTION[function])]
        participants.append(
            {
                "role": roles + [role_concept(member.get("role"))],
                "member": ref("Practitioner", member_id),
            }
        )

    add(person.lead_member_id, "lead")
    add(person.patient.get("usual_gp_id"), "usual_gp")
    for row in person.participants:
        add(row.get("member_id"), "involved")
    return _resource(
        "CareTeam",
        care_team_id(pid),
        None,
        status="active",
        name=", ".join(person.team_names),
        subject=ref("Patient", pid),
        participant=participants,
    )


# --- the plan ----------------------------------------------------------------------------------


def care_plan(person: PersonData) -> Resource | None:
    plan = person.plan
    if plan is None:
        return None
    pid = person.patient["id"]
    status, intent = PLAN_STATUS.get(plan.get("status") or "draft", ("unknown", "plan"))
    notes = [
        {"text": f"{label}: {_text(plan.get(name))}"}
        for name, label in PLAN_NOTES
        if _text(plan.get(name))
    ]
    start = (plan.get("signed_off_at") or plan.get("created_at") or "")[:10] or None
    activities = []
    for action in sorted(person.actions, key=lambda a: a.get("position") or 0):
        performer = action.get("owner_member_id")
        activities.append(
            {
                "detail": {
                    "kind": "Task",
                    "status": ACTIVITY_STATUS.get(action.get("status") or "", "unknown"),
                    "description": action.get("description"),
                    "scheduledString": action.get("when"),
                    "performer": [ref("Practitioner", performer)],
                    "goal": [ref("Goal", action.get("goal_id"))],
                    "code": role_concept(action.get("owner_role")) if not performer else None,
                }
            }
        )
    return _resource(
        "CarePlan",
        plan["id"],
        plan,
        identifier=[_local_identifier(plan.get("series_id") or plan["id"])],
        status=status,
        intent=intent,
        category=[{"text": "Personalised care and support plan"}],
        title=f"Personalised care and support plan, version {plan.get('version') or 1}",
        description=_text(plan.get("what_matters")),
        subject=ref("Patient", pid),
        period={"start": start, "end": plan.get("review_date")},
        created=plan.get("created_at"),
        author=ref("Practitioner", plan.get("lead_member_id") or person.lead_member_id),
        careTeam=[ref("CareTeam", care_team_id(pid))],
        goal=[ref("Goal", g["id"]) for g in _live(person.goals)],
        activity=activities,
        note=notes,
    )


def goal(person: PersonData, row: Row) -> Resource:
    target = {
        "measure": {"text": _text(row.get("target_measure"))},
        "dueDate": row.get("target_date"),
    }
    if not _text(row.get("target_measure")):
        target.pop("measure")
    return _resource(
        "Goal",
        row["id"],
        row,
        lifecycleStatus=row.get("lifecycle_status") or "active",
        achievementStatus={
            "coding": [
                {
                    "system": "http://terminology.hl7.org/CodeSystem/goal-achievement",
                    "code": row.get("achievement_status") or "in-progress",
                }
            ]
        },
        description={"text": row.get("description") or "(no description)"},
        subject=ref("Patient", person.patient["id"]),
        target=[target],
    )


def consent(person: PersonData) -> Resource | None:
    plan = person.plan
    if plan is None or plan.get("consent_decision") not in ("permit", "deny"):
        return None
    shared_with = _text(plan.get("consent_with"))
    rule = "Sharing the personalised care and support plan for direct care"
    return _resource(
        "Consent",
        plan["id"],  # one Consent per plan version: the version's id
        plan,
        status="active",
        scope=_coding(
            "http://terminology.hl7.org/CodeSystem/consentscope", "patient-privacy", "Privacy Consent"
        ),
        category=[_coding("http://terminology.hl7.org/CodeSystem/v3-ActCode", "INFA", "information access")],
        patient=ref("Patient", person.patient["id"]),
        dateTime=plan.get("consent_date"),
        performer=[ref("Patient", person.patient["id"])],
        policyRule={"text": f"{rule}; shared with: {shared_with}" if shared_with else rule},
        provision={
            "type": plan["consent_decision"],
            "purpose": [
                {"system": "http://terminology.hl7.org/CodeSystem/v3-ActReason", "code": "TREAT",
                 "display": "treatment"}
            ],
        },
    )  # fmt: skip


def provenance(person: PersonData) -> Resource | None:
    """The sign-off of the plan version: who attested it, and when."""
    plan = person.plan
    if plan is None or not plan.get("signed_off_at"):
        return None
    return _resource(
        "Provenance",
        plan["id"],  # one sign-off per plan version: the version's id
        None,
        target=[ref("CarePlan", plan["id"])],
        recorded=plan["signed_off_at"],
        activity=_coding("http://terminology.hl7.org/CodeSystem/v3-DataOperation", "UPDATE", "revise"),
        agent=[
            {
                "type": _coding(
                    "http://terminology.hl7.org/CodeSystem/provenance-participant-type",
                    "attester", "Attester",
                ),
                "who": ref("Practitioner", plan.get("signed_off_by")) or {"display": "unknown"},
            }
        ],
    )  # fmt: skip


# --- flags, conditions, work --------------------------------------------------------------------


def flag(person: PersonData, row: Row) -> Resource:
    code = row.get("code") or ""
    try:
        label = FlagCode(code).label
    except ValueError:
        label = code.replace("_", " ").capitalize()
    return _resource(
        "Flag",
        row["id"],
        row,
        status="active" if row.get("active", True) else "inactive",
        code=_coding(ukcore.FLAG_SYSTEM, code, label),
        subject=ref("Patient", person.patient["id"]),
        period={"start": row.get("since")},
    )


def conditions(person: PersonData) -> list[Resource]:
    """The long-term conditions the record lists (labels only; no codes are held)."""
    labels = [c.strip() for c in (person.patient.get("long_term_conditions") or "").split(",")]
    out = []
    for label in dict.fromkeys(lbl for lbl in labels if lbl):
        out.append(
            _resource(
                "Condition",
                make_id("condition", person.patient["id"], label.lower()),
                None,
                clinicalStatus=_coding(
                    "http://terminology.hl7.org/CodeSystem/condition-clinical", "active", "Active"
                ),
                category=[
                    _coding(
                        "http://terminology.hl7.org/CodeSystem/condition-category",
                        "problem-list-item",
                        "Problem List Item",
                    )
                ],
                code={"text": label},
                subject=ref("Patient", person.patient["id"]),
            )
        )
    return out


def task(person: PersonData, row: Row) -> Resource:
    kind = row.get("kind") or "task"
    return _resource(
        "Task",
        row["id"],
        row,
        identifier=[_local_identifier(row["id"])],
        status=row.get("status") or "requested",
        intent="order",
        code=_coding(ukcore.TASK_KIND_SYSTEM, kind, kind.replace("_", " ").capitalize()),
        description=row.get("description"),
        **{"for": ref("Patient", person.patient["id"])},
        authoredOn=row.get("created_at"),
        lastModified=row.get("updated_at"),
        requester=ref("Practitioner", row.get("requester_id")),
        owner=ref("Practitioner", row.get("owner_member_id")),
        restriction={"period": {"end": row.get("due_on")}},
        executionPeriod={"end": row.get("completed_at")},
    )


def service_request(person: PersonData, row: Row) -> Resource:
    service = row.get("service") or "other"
    try:
        label = ReferralService(service).label
    except ValueError:
        label = service
    return _resource(
        "ServiceRequest",
        row["id"],
        row,
        identifier=[_local_identifier(row["id"])],
        status=REFERRAL_STATUS.get(row.get("status") or "", "unknown"),
        intent="order",
        code={
            "coding": [
                {"system": ukcore.REFERRAL_SERVICE_SYSTEM, "code": service, "display": label}
            ],
            "text": "Referral to another service"
            if service == ReferralService.OTHER
            else f"Referral to {_in_sentence(label)}",
        },
        subject=ref("Patient", person.patient["id"]),
        authoredOn=row.get("referred_on"),
        requester=ref("Practitioner", row.get("referred_by")),
        performer=[ref("Practitioner", row.get("to_member_id"))],
        reasonCode=[{"text": row.get("reason")}],
        note=[{"text": f"Outcome: {_text(row.get('outcome'))}"}]
        if _text(row.get("outcome"))
        else [],
    )


# --- assembling --------------------------------------------------------------------------------


def _live(rows: Iterable[Row]) -> list[Row]:
    return [r for r in rows if not r.get("deleted")]


def referenced_members(person: PersonData) -> list[str]:
    ids: list[str | None] = [person.lead_member_id, person.patient.get("usual_gp_id")]
    ids += [r.get("member_id") for r in person.participants]
    if person.plan:
        ids += [person.plan.get(k) for k in ("lead_member_id", "signed_off_by")]
    ids += [a.get("owner_member_id") for a in _live(person.actions)]
    ids += [t.get(k) for t in _live(person.tasks) for k in ("owner_member_id", "requester_id")]
    ids += [r.get(k) for r in _live(person.referrals) for k in ("referred_by", "to_member_id")]
    return [i for i in dict.fromkeys(ids) if i]


def person_resources(person: PersonData, written: set[str] | None = None) -> list[Resource]:
    """Every resource for the person: Patient first, then what refers to it.

    ``written``, when given, remembers the resources many people share (their practice, the
    practitioners) across calls: each is mapped and returned only the first time, as a bulk
    export writes it once.
    """
    out: list[Resource] = [patient(person)]
    wanted: list[tuple[str, str, Any]] = []
    if person.practice:
        wanted.append(("Organization", person.practice["id"], person.practice))
    for member_id in referenced_members(person):
        member = person.members.get(member_id)
        if member is not None:
            wanted.append(("Practitioner", member_id, member))
    for rtype, rid, row in wanted:
        if written is not None:
            if f"{rtype}/{rid}" in written:
                continue
            written.add(f"{rtype}/{rid}")
        out.append(_shared_resource(rtype, rid, row))
    out.append(care_team(person))
    for make in (care_plan, consent, provenance):
        resource = make(person)
        if resource is not None:
            out.append(resource)
    if person.plan is not None:
        out += [
            goal(person, g)
            for g in sorted(_live(person.goals), key=lambda g: g.get("position") or 0)
        ]
    out += [flag(person, f) for f in _live(person.flags)]
    out += conditions(person)
    out += [task(person, t) for t in _live(person.tasks)]
    out += [service_request(person, r) for r in _live(person.referrals)]
    return out


def _shared_resource(rtype: str, rid: str, row: Row) -> Resource:
    return organization(row) if rtype == "Organization" else practitioner({**row, "id": rid})


def _rewrite_refs(value: Any, urls: dict[str, str]) -> Any:
    if isinstance(value, dict):
        return {
            k: urls.get(v, v) if k == "reference" and isinstance(v, str) else _rewrite_refs(v, urls)
            for k, v in value.items()
        }
    if isinstance(value, list):
        return [_rewrite_refs(v, urls) for v in value]
    return value


def file_bundle(resources: list[Resource], *, bundle_id: str, timestamp: str) -> Resource:
    """A standalone collection Bundle: each entry's fullUrl a ``urn:uuid:``, references
    rewritten to match. Resources sharing an id across types (a CareTeam has its patient's)
    get a name-based UUID for the second one, so every fullUrl is unique."""
    urls: dict[str, str] = {}
    used: set[str] = set()
    for r in resources:
        rid = r["id"] if r["id"] not in used else make_id(r["resourceType"], r["id"])
        used.add(rid)
        urls[f"{r['resourceType']}/{r['id']}"] = f"urn:uuid:{rid}"
    entries = [
        {"fullUrl": urls[f"{r['resourceType']}/{r['id']}"], "resource": _rewrite_refs(r, urls)}
        for r in resources
    ]
    return {
        "resourceType": "Bundle",
        "id": bundle_id,
        "meta": {"profile": ukcore.profile("Bundle")},
        "identifier": _local_identifier(bundle_id),
        "type": "collection",
        "timestamp": timestamp,
        "entry": entries,
    }


def by_type(resources: Iterable[Resource]) -> Iterator[tuple[str, Resource]]:
    """(resourceType, resource) pairs, for writing one NDJSON file per type."""
    for r in resources:
        yield r["resourceType"], r


# --- GP notifications ------------------------------------------------------------------------


def communication(
    row: Row,
    *,
    patient_row: Row | None,
    team_name: str = "",
    practice_name: str = "",
    summary_url: str | None = None,
    updated: str | None = None,
) -> Resource:
    """A GP notification as a Communication from the INT to the registered practice."""
    trigger = row.get("trigger") or ""
    try:
        label = TRIGGER_LABELS[Trigger(trigger)]
    except ValueError:
        label = trigger
    sent = bool(row.get("recipient_ods"))
    subject: dict[str, Any] = {"reference": f"Patient/{row['patient_id']}"}
    if patient_row:
        subject["identifier"] = {
            "system": ukcore.NHS_NUMBER_SYSTEM,
            "value": patient_row["nhs_number"],
        }
        subject["display"] = (
            f"{_text(patient_row.get('given_name'))} {_text(patient_row.get('family_name')).upper()}"
        )
    payload: list[dict[str, Any]] = [{"contentString": row.get("text")}]
    if summary_url:
        payload.append(
            {"contentAttachment": {"contentType": "application/pdf", "url": summary_url,
                                   "title": "GP summary (one page)"}}
        )  # fmt: skip
    source = row.get("source_entity")
    about = [ref("CarePlan", row.get("source_id"))] if source == "care_plan" else []
    resource = _resource(
        "Communication",
        row["id"],
        None,
        status="completed" if sent else "not-done",
        statusReason={"text": "No registered practice with an ODS code"} if not sent else None,
        category=[_coding(ukcore.NOTIFICATION_SYSTEM, trigger, label)],
        subject=subject,
        topic={"text": row.get("subject")},
        about=about,
        sent=row.get("queued_at"),
        received=row.get("read_at"),
        recipient=[
            {"identifier": {"system": ukcore.ODS_SYSTEM, "value": row.get("recipient_ods")},
             "display": practice_name}
        ] if sent else [],
        sender={"identifier": {"system": ukcore.TEAM_SYSTEM, "value": row.get("team_id")},
                "display": team_name} if row.get("team_id") else None,
        payload=payload,
    )  # fmt: skip
    if updated:
        resource.setdefault("meta", {})["lastUpdated"] = updated
    return resource
