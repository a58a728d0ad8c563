"""Checks of FHIR output by code nobody here wrote, plus the UK Core rules it does not know.

``fhir.resources`` (its R4B pydantic models) parses every resource: unknown elements, wrong
types, missing required elements and malformed dates, ids and URIs fail there. It does not
check codes against required bindings, nor UK Core's identifier rules, so those are here,
written from the FHIR R4 and UK Core specifications rather than from our mapping.
"""

from __future__ import annotations

from typing import Any

from fhir.resources.R4B import get_fhir_model_class

from int_desk.domain.nhs_number import is_valid

NHS = "https://fhir.nhs.uk/Id/nhs-number"
ODS = "https://fhir.nhs.uk/Id/ods-organization-code"
UK_CORE_TYPES = {
    "Patient", "Organization", "Practitioner", "CarePlan", "CareTeam", "Consent", "Flag",
    "Task", "ServiceRequest", "Provenance", "Communication", "Condition",
}  # fmt: skip
# Required bindings (FHIR R4 value sets), element -> allowed codes.
REQUIRED_CODES: dict[tuple[str, str], set[str]] = {
    ("Patient", "gender"): {"male", "female", "other", "unknown"},
    ("CarePlan", "status"): {"draft", "active", "on-hold", "revoked", "completed",
                             "entered-in-error", "unknown"},
    ("CarePlan", "intent"): {"proposal", "plan", "order", "option"},
    ("Goal", "lifecycleStatus"): {"proposed", "planned", "accepted", "active", "on-hold",
                                  "completed", "cancelled", "entered-in-error", "rejected"},
    ("Task", "status"): {"draft", "requested", "received", "accepted", "rejected", "ready",
                         "cancelled", "in-progress", "on-hold", "failed", "completed",
                         "entered-in-error"},
    ("Task", "intent"): {"unknown", "proposal", "plan", "order", "original-order",
                         "reflex-order", "filler-order", "instance-order", "option"},
    ("ServiceRequest", "status"): {"draft", "active", "on-hold", "revoked", "completed",
                                   "entered-in-error", "unknown"},
    ("ServiceRequest", "intent"): {"proposal", "plan", "directive", "order", "original-order",
                                   "reflex-order", "filler-order", "instance-order", "option"},
    ("Flag", "status"): {"active", "inactive", "entered-in-error"},
    ("Consent", "status"): {"draft", "proposed", "active", "rejected", "inactive",
                            "entered-in-error"},
    ("CareTeam", "status"): {"proposed", "active", "suspended", "inactive", "entered-in-error"},
    ("Communication", "status"): {"preparation", "in-progress", "not-done", "on-hold",
                                  "stopped", "completed", "entered-in-error", "unknown"},
}  # fmt: skip
ACTIVITY_STATUS = {"not-started", "scheduled", "in-progress", "on-hold", "completed",
                   "cancelled", "stopped", "unknown", "entered-in-error"}  # fmt: skip


def ods_ok(code: object, *, practice: bool = False) -> bool:
    if not isinstance(code, str) or not code.isalnum() or code != code.upper():
        return False
    if practice:  # a GP practice: one letter then five digits
        return len(code) == 6 and code[0].isalpha() and code[1:].isdigit()
    return 3 <= len(code) <= 6


def problems(resource: dict[str, Any]) -> list[str]:
    """Everything wrong with one resource ([] when it passes)."""
    rtype = resource.get("resourceType", "?")
    out: list[str] = []
    try:
        get_fhir_model_class(rtype).model_validate(resource)
    except Exception as exc:  # the library's own validation error, whatever its class
        out.append(f"{rtype}: fhir.resources refused it: {str(exc)[:300]}")
    for (t, element), allowed in REQUIRED_CODES.items():
        if t == rtype and element in resource and resource[element] not in allowed:
            out.append(f"{rtype}.{element} {resource[element]!r} is not in its required binding")
    profiles = (resource.get("meta") or {}).get("profile") or []
    if rtype in UK_CORE_TYPES:
        expected = f"https://fhir.hl7.org.uk/StructureDefinition/UKCore-{rtype}"
        if profiles != [expected]:
            out.append(f"{rtype}: meta.profile should be {expected}, is {profiles}")
    if rtype == "Patient":
        numbers = [i for i in resource.get("identifier", []) if i.get("system") == NHS]
        if len(numbers) != 1 or not is_valid(numbers[0].get("value", "")):
            out.append("Patient: needs exactly one NHS number passing Modulus 11")
        elif " " in numbers[0]["value"]:
            out.append("Patient: NHS number identifier must be 10 digits, no spaces")
        for gp in resource.get("generalPractitioner", []):
            ident = gp.get("identifier")
            if ident and (
                ident.get("system") != ODS or not ods_ok(ident.get("value"), practice=True)
            ):
                out.append("Patient.generalPractitioner: identifier is not a practice ODS code")
    if rtype == "Organization":
        for i in resource.get("identifier", []):
            if i.get("system") == ODS and not ods_ok(i.get("value")):
                out.append("Organization: ODS code has the wrong shape")
    if rtype == "CarePlan":
        for a in resource.get("activity", []):
            status = a.get("detail", {}).get("status")
            if status not in ACTIVITY_STATUS:
                out.append(f"CarePlan.activity.detail.status {status!r} not in its binding")
    return out


def references(value: Any) -> list[str]:
    """Every ``reference`` string inside a resource."""
    found: list[str] = []
    if isinstance(value, dict):
        for k, v in value.items():
            if k == "reference" and isinstance(v, str):
                found.append(v)
            else:
                found.extend(references(v))
    elif isinstance(value, list):
        for v in value:
            found.extend(references(v))
    return found
