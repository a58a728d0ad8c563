"""Rules for a team's reference data (places, teams, GP practices, organisations, members),
shared by the workspace, the endpoint and the Administration page so all three say the same.

A GP practice's id is derived from its ODS code, so two laptops that meet the same unknown
practice offline (a first import) make the same practice, never two, and the endpoint can tell.
"""

from __future__ import annotations

import re
import uuid

from int_desk.domain.errors import ValidationError
from int_desk.domain.vocab import OrganisationKind, Role

PRACTICE_NAMESPACE = uuid.UUID("5b0e8a62-3c41-4f7e-9d55-6f1d2b7a9c01")
# England's GP practice codes: one letter then five digits (K84001, Y02345).
_ODS_PRACTICE = re.compile(r"^[A-Z][0-9]{5}$")
# Other organisations' ODS codes are 3 to 6 letters and digits (RTH, 5PV, NR5).
_ODS_ANY = re.compile(r"^[A-Z0-9]{3,6}$")
_PHONE = re.compile(r"^[0-9 +()-]{6,40}$")
_EMAIL = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")

AWAITING_NAME = ""
"""A practice made by an import from its code alone: named later on the Administration page."""

ORGANISATION_KIND_LABELS: dict[OrganisationKind, str] = {
    OrganisationKind.GP_PRACTICE: "GP practice",
    OrganisationKind.COMMUNITY_TRUST: "Community trust",
    OrganisationKind.ACUTE_TRUST: "Acute trust",
    OrganisationKind.COUNCIL: "Council",
    OrganisationKind.PHARMACY: "Pharmacy",
    OrganisationKind.VCSE: "VCSE",
    OrganisationKind.OTHER: "Other",
}


def normalise_ods(code: str) -> str:
    return "".join(code.split()).upper()


def is_practice_code(code: str) -> bool:
    return bool(_ODS_PRACTICE.match(normalise_ods(code)))


def practice_code(code: str) -> str:
    """The canonical GP practice code, or ValidationError."""
    text = normalise_ods(code)
    if not _ODS_PRACTICE.match(text):
        raise ValidationError(
            "A GP practice's ODS code is a letter and five digits, e.g. K84001.", "code"
        )
    return text


def organisation_code(code: str | None, kind: OrganisationKind | str) -> str | None:
    if code is None or not code.strip():
        if OrganisationKind(kind) == OrganisationKind.GP_PRACTICE:
            raise ValidationError("Enter the practice's ODS code, e.g. K84001.", "code")
        return None
    if OrganisationKind(kind) == OrganisationKind.GP_PRACTICE:
        return practice_code(code)
    text = normalise_ods(code)
    if not _ODS_ANY.match(text):
        raise ValidationError("An ODS code is 3 to 6 letters and digits.", "code")
    return text


def practice_id(code: str) -> uuid.UUID:
    """The id every laptop and the endpoint give the practice with this ODS code."""
    return uuid.uuid5(PRACTICE_NAMESPACE, practice_code(code))


def name(value: str, what: str, field: str = "name", limit: int = 200) -> str:
    text = " ".join(value.split())
    if not text:
        raise ValidationError(f"Enter the {what}.", field)
    if len(text) > limit:
        raise ValidationError(f"The {what} is longer than {limit} characters.", field)
    return text


def phone(value: str | None) -> str | None:
    text = " ".join((value or "").split())
    if not text:
        return None
    if not _PHONE.match(text) or sum(c.isdigit() for c in text) < 6:
        raise ValidationError(
            "Enter a phone number of digits and spaces, e.g. 01869 123456.", "phone"
        )
    return text


def email(value: str | None) -> str | None:
    text = (value or "").strip()
    if not text:
        return None
    if len(text) > 200 or not _EMAIL.match(text):
        raise ValidationError("Enter an email address such as team@nhs.net.", "email")
    return text


def role(value: str) -> Role:
    """A role from its value ('district_nurse') or its label ('District nurse')."""
    text = value.strip()
    for r in Role:
        if text.casefold() in (r.value.casefold(), r.label.casefold()):
            return r
    choices = ", ".join(r.value for r in Role)
    raise ValidationError(f"Unknown role '{text[:40]}'. Choose one of: {choices}.", "role")


def organisation_kind(value: str) -> OrganisationKind:
    text = value.strip()
    for kind, label in ORGANISATION_KIND_LABELS.items():
        if text.casefold() in (kind.value.casefold(), label.casefold()):
            return kind
    choices = ", ".join(k.value for k in OrganisationKind)
    raise ValidationError(f"Unknown kind of organisation. Choose one of: {choices}.", "kind")


def practice_label(code: str | None, practice_name: str) -> str:
    """How a practice reads in lists: its name and code, or that it awaits a name."""
    if not practice_name:
        return f"{code} (name not yet given)"
    return f"{practice_name} ({code})" if code else practice_name
