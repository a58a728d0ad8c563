"""UK Core identifier systems, profiles and code systems, and the rules a generic model misses.

Profiles are those of UK Core STU3 (R4 4.0.1, fhir.hl7.org.uk). Goal has no UK Core profile, so
it carries none. Our own vocabularies (flag codes, roles, referral services, notification
triggers) use ``urn:int-desk:`` code systems: they are local, unpublished, and say so; binding
them to SNOMED CT needs a terminologist's review (docs/fhir.md).
"""

from __future__ import annotations

import re

from int_desk.domain import nhs_number

FHIR_VERSION = "4.0.1"
NHS_NUMBER_SYSTEM = "https://fhir.nhs.uk/Id/nhs-number"
ODS_SYSTEM = "https://fhir.nhs.uk/Id/ods-organization-code"
UK_CORE = "https://fhir.hl7.org.uk/StructureDefinition/"
NHS_VERIFICATION_EXTENSION = UK_CORE + "Extension-UKCore-NHSNumberVerificationStatus"
NHS_VERIFICATION_SYSTEM = (
    "https://fhir.hl7.org.uk/CodeSystem/UKCore-NHSNumberVerificationStatusEngland"
)
# A PHM extract's NHS number has not been traced against PDS by INT Desk.
NHS_VERIFICATION_CODE = ("02", "Number present but not traced")

# Resource type -> UK Core profile (only where one exists).
PROFILES: dict[str, str] = {
    t: f"{UK_CORE}UKCore-{t}"
    for t in (
        "Patient",
        "Organization",
        "Practitioner",
        "PractitionerRole",
        "CarePlan",
        "CareTeam",
        "Consent",
        "Flag",
        "Task",
        "ServiceRequest",
        "Provenance",
        "Communication",
        "Condition",
        "Bundle",
        "OperationOutcome",
    )
}

# Identifiers of INT Desk's own records: a UUID needs no namespace of ours (RFC 3986 URN).
URI_SYSTEM = "urn:ietf:rfc:3986"
LOCAL = "urn:int-desk:fhir:"
FLAG_SYSTEM = LOCAL + "CodeSystem:flag"
ROLE_SYSTEM = LOCAL + "CodeSystem:team-role"
REFERRAL_SERVICE_SYSTEM = LOCAL + "CodeSystem:referral-service"
TASK_KIND_SYSTEM = LOCAL + "CodeSystem:task-kind"
NOTIFICATION_SYSTEM = LOCAL + "CodeSystem:gp-notification-trigger"
CONDITION_LABEL_SYSTEM = LOCAL + "CodeSystem:long-term-condition"
TEAM_SYSTEM = LOCAL + "Id:team"

# Code systems an import reads for Conditions (any of these with a display or text is a label).
SNOMED = "http://snomed.info/sct"
ICD10 = "http://hl7.org/fhir/sid/icd-10"
ICD10_UK = "http://hl7.org/fhir/sid/icd-10-uk"
KNOWN_CONDITION_SYSTEMS = frozenset({SNOMED, ICD10, ICD10_UK, CONDITION_LABEL_SYSTEM})

# ODS codes: a GP practice is a letter and five digits (e.g. A81001); other organisations have
# 3 to 6 letters and digits (trusts RXX, sites RXX01, branch surgeries Y/W codes, ...).
_PRACTICE_ODS = re.compile(r"^[A-Z][0-9]{5}$")
_ANY_ODS = re.compile(r"^[A-Z0-9]{3,6}$")


def nhs_number_problem(value: object) -> str:
    """'' when ``value`` is a valid bare NHS number (10 digits, Modulus 11), else why not."""
    if not isinstance(value, str) or not value.isdigit() or len(value) != 10:
        return "an NHS number is 10 digits with no spaces"
    if not nhs_number.is_valid(value):
        return "the NHS number fails its Modulus 11 check"
    return ""


def ods_problem(value: object, *, practice: bool = False) -> str:
    """'' when ``value`` has the shape of an ODS code (a GP practice's when ``practice``)."""
    if not isinstance(value, str) or not _ANY_ODS.match(value):
        return "an ODS code is 3 to 6 capital letters and digits"
    if practice and not _PRACTICE_ODS.match(value):
        return "a GP practice ODS code is a letter and five digits"
    return ""


def profile(resource_type: str) -> list[str]:
    """``meta.profile`` for a resource type ([] where UK Core has no profile)."""
    url = PROFILES.get(resource_type)
    return [url] if url else []
