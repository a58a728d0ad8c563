"""OperationOutcome documents and the FHIR search Bundle, as plain dicts."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from int_desk.fhir import ukcore

MEDIA_TYPE = "application/fhir+json"

# HTTP status -> OperationOutcome.issue.code (FHIR issue-type value set)
ISSUE_CODES = {
    400: "invalid",
    401: "login",
    403: "forbidden",
    404: "not-found",
    405: "not-supported",
    410: "deleted",
    413: "too-costly",
    422: "processing",
    500: "exception",
}


def operation_outcome(status: int, diagnostics: str, *, severity: str = "error") -> dict[str, Any]:
    return {
        "resourceType": "OperationOutcome",
        "meta": {"profile": ukcore.profile("OperationOutcome")},
        "issue": [
            {
                "severity": severity,
                "code": ISSUE_CODES.get(status, "processing"),
                "diagnostics": diagnostics,
            }
        ],
    }


def searchset(
    base: str,
    self_url: str,
    matches: list[dict[str, Any]],
    includes: Sequence[dict[str, Any]] = (),
) -> dict[str, Any]:
    """A searchset Bundle: matches then includes, each with its RESTful fullUrl."""

    def entry(resource: dict[str, Any], mode: str) -> dict[str, Any]:
        return {
            "fullUrl": f"{base}/{resource['resourceType']}/{resource['id']}",
            "resource": resource,
            "search": {"mode": mode},
        }

    seen: set[tuple[str, str]] = set()
    entries = []
    for resources, mode in ((matches, "match"), (includes, "include")):
        for r in resources:
            key = (r["resourceType"], r["id"])
            if key not in seen:
                seen.add(key)
                entries.append(entry(r, mode))
    return {
        "resourceType": "Bundle",
        "meta": {"profile": ukcore.profile("Bundle")},
        "type": "searchset",
        "total": len(matches),
        "link": [{"relation": "self", "url": self_url}],
        "entry": entries,
    }
