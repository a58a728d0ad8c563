"""The fields a cohort import maps columns to: their own module so that the command line can
list them in ``import-cohort --help`` without importing the import itself (``caseload`` shares
the command module and starts faster without it)."""

from __future__ import annotations

FIELDS: dict[str, str] = {
    "nhs_number": "NHS number",
    "given_name": "Given name",
    "family_name": "Family name",
    "full_name": "Full name",
    "date_of_birth": "Date of birth",
    "postcode": "Postcode",
    "practice_code": "Practice code",
    "reason": "Reason for inclusion",
    "risk_score": "Risk score",
    "sex": "Sex",
    "imd_decile": "IMD decile",
    "imd_quintile": "IMD quintile",
}
IGNORE = "ignore"
