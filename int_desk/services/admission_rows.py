"""One row of an admissions extract: its cells checked and read, a pydantic type per column
(as ``cohort_rows`` does for a cohort extract).

    stay, problems = parse_stay({"nhs_number": "943 476 5919", "admission_date": "01/03/2026",
                                 "admission_method": "21"}, today)

NHS number by the domain's own Modulus 11 check; admission and discharge dates in the styles UK
extracts write, neither in the future nor more than 30 years ago; the admission method as an
NHS Data Dictionary code or a usual word. Every refusal is listed in the words of the report,
which adds the line; the import writes no row with a problem.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import date
from typing import Annotated, Any

from pydantic import AfterValidator, TypeAdapter, ValidationInfo
from pydantic import ValidationError as PydanticValidationError
from pydantic_core import SchemaValidator

from int_desk.domain import nhs_number
from int_desk.domain.errors import ValidationError
from int_desk.domain.vocab import HealthEventKind
from int_desk.services.cohort_rows import refusal, refusing
from int_desk.services.extract_reader import norm_header, parse_uk_date

# NHS Data Dictionary ADMISSION METHOD.
EMERGENCY_CODES = frozenset({*(str(c) for c in range(21, 29)), "2A", "2B", "2C", "2D"})
OTHER_CODES = frozenset({"11", "12", "13", "31", "32", "81", "82", "83"})
_WORDS = {
    "emergency": "21", "nonelective": "21", "non-elective": "21", "elective": "11",
    "waitinglist": "11", "booked": "12", "planned": "13", "maternity": "31",
}  # fmt: skip
DEFAULT_PROVIDER = "Hospital admissions extract"


def admission_kind(raw: str) -> HealthEventKind:
    """The event an admission method code (or word) makes; ValueError when not a known code."""
    text = raw.strip().upper()
    if len(text) == 1 and text.isdigit():
        text = text.zfill(2)
    code = _WORDS.get(norm_header(raw), text)
    if code in EMERGENCY_CODES:
        return HealthEventKind.EMERGENCY_ADMISSION
    if code in OTHER_CODES:
        return HealthEventKind.ADMISSION
    if not text:
        raise ValueError("admission method is missing")
    raise ValueError(
        "admission method is not a known code (21-28 or 2A-2D emergency; 11-13 elective; "
        "31-32 maternity; 81-83 other)"
    )


def stay_date(raw: str, what: str, today: date) -> date | None:
    """A stay's date (None when blank); ValueError says what is wrong, naming ``what``."""
    if not raw.strip():
        return None
    try:
        d, _style = parse_uk_date(raw)
    except ValueError as exc:
        reason = str(exc)
        if reason.startswith("date has"):  # two-digit year, unknown month name
            raise ValueError(what + reason.removeprefix("date")) from None
        if not reason.startswith("not a date"):  # 31/02/2026: date() says day out of range
            reason = "not a date (there is no such day)"
        raise ValueError(f"{what} is {reason}") from None
    if d > today:
        raise ValueError(f"{what} is in the future")
    if d.year < today.year - 30:
        raise ValueError(f"{what} is more than 30 years ago")
    return d


def _nhs(raw: str) -> str:
    try:
        return nhs_number.normalise(raw)
    except ValidationError as exc:
        raise refusal(f"invalid NHS number ({str(exc).rstrip('.').lower()})") from None


def _dated(what: str) -> Callable[[str, ValidationInfo], date | None]:
    def check(raw: str, info: ValidationInfo) -> date | None:
        try:
            return stay_date(raw, what, (info.context or {})["today"])
        except ValueError as exc:
            raise refusal(str(exc)) from None

    return check


# A pydantic type per checked column, in the order the report lists a row's problems.
_CELL_TYPES: dict[str, Any] = {
    "nhs_number": Annotated[str, AfterValidator(_nhs)],
    "admission_date": Annotated[str, AfterValidator(_dated("admission date"))],
    "discharge_date": Annotated[str, AfterValidator(_dated("discharge date"))],
    "admission_method": Annotated[str, AfterValidator(refusing(admission_kind))],
}
_CELL_CHECKS = {
    name: SchemaValidator(TypeAdapter(tp).core_schema) for name, tp in _CELL_TYPES.items()
}


@dataclass
class Stay:
    nhs_number: str = ""
    kind: HealthEventKind | None = None
    admitted: date | None = None
    discharged: date | None = None
    provider: str = DEFAULT_PROVIDER


_AS = {"admission_date": "admitted", "discharge_date": "discharged", "admission_method": "kind"}


def parse_stay(cells: dict[str, str], today: date) -> tuple[Stay, list[str]]:
    """The stay a row describes, and its problems (none: it may be written)."""
    stay = Stay()
    problems: list[str] = []
    context = {"today": today}
    for name, check in _CELL_CHECKS.items():
        if name == "admission_method":  # (the report lists the dates' problems together)
            problems += _between_dates(stay, problems)
        try:
            value = check.validate_python(cells.get(name, ""), context=context)
        except PydanticValidationError as exc:
            problems.append(str(exc.errors(include_url=False)[0]["msg"]))
            continue
        setattr(stay, _AS.get(name, name), value)
    stay.provider = " ".join(cells.get("provider", "").split())[:120] or DEFAULT_PROVIDER
    return stay, problems


def _between_dates(stay: Stay, problems: list[str]) -> list[str]:
    """A stay needs its admission, and ends after it begins."""
    if stay.admitted is None and not any(p.startswith("admission date") for p in problems):
        return ["admission date is missing"]
    if stay.admitted and stay.discharged and stay.discharged < stay.admitted:
        return ["discharge date is before the admission date"]
    return []
