"""One row of a cohort extract: its mapped cells checked and read, a pydantic type per column.

    row, problems = parse_row({"nhs_number": "943 476 5919", "date_of_birth": "01-Feb-1940"}, today)

Every cell is checked (NHS number by the domain's own Modulus 11 check, dates of birth in the
styles UK extracts write, postcodes, lengths, risk scores, IMD deciles and quintiles, sex) and
every refusal is listed in the words of the report, which adds the line; a row with any problem
is rejected and ``cohort_import`` writes nothing of a file with a rejected row.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date
from typing import Annotated, Any

from pydantic import AfterValidator, Field, TypeAdapter, ValidationInfo
from pydantic import ValidationError as PydanticValidationError
from pydantic_core import PydanticCustomError, SchemaValidator

from int_desk.domain import nhs_number, person_names
from int_desk.domain.errors import ValidationError
from int_desk.domain.vocab import Sex
from int_desk.services.cohort_fields import FIELDS
from int_desk.services.extract_reader import parse_uk_date

_POSTCODE = re.compile(r"^([A-Z]{1,2}\d[A-Z\d]?)\s*(\d[A-Z]{2})$")
_SEX = {
    "f": Sex.FEMALE, "female": Sex.FEMALE, "m": Sex.MALE, "male": Sex.MALE,
    "o": Sex.OTHER, "other": Sex.OTHER, "u": Sex.UNKNOWN, "unknown": Sex.UNKNOWN,
    "": Sex.UNKNOWN, "i": Sex.OTHER, "indeterminate": Sex.OTHER,
}  # fmt: skip
# Checked only when the cell is not blank.
_OPTIONAL = frozenset({"postcode", "risk_score", "imd_decile", "imd_quintile"})


def parse_dob(raw: str, today: date) -> tuple[date, str]:
    """A date of birth and the style it was written in; ValueError says what is wrong."""
    if not raw.strip():
        raise ValueError("date of birth is missing")
    try:
        d, style = parse_uk_date(raw)
    except ValueError as exc:
        reason = str(exc)
        if reason.startswith("date has"):  # two-digit year, unknown month name
            raise ValueError("date of birth" + reason.removeprefix("date")) from None
        if not reason.startswith("not a date"):  # 31/02/1940: date() says day out of range
            reason = "not a date (there is no such day)"
        raise ValueError(f"date of birth is {reason}") from None
    if d > today:
        raise ValueError("date of birth is in the future")
    if d.year < today.year - 125:
        raise ValueError("date of birth is more than 125 years ago")
    return d, style


_IMD = re.compile(r"^(?:q|quintile|d|decile)?\s*(\d{1,2})(?:\.0+)?(?:\s*\(.*\))?$", re.IGNORECASE)


def parse_imd(raw: str, top: int) -> int:
    """An IMD decile (``top`` 10) or quintile (5): '3', 'Q3', 'Decile 3', '1 (most deprived)'."""
    m = _IMD.match(raw.strip())
    if not m or not 1 <= int(m.group(1)) <= top:
        raise ValueError(f"must be a whole number from 1 (most deprived) to {top}")
    return int(m.group(1))


def parse_postcode(raw: str) -> str:
    text = re.sub(r"\s+", "", raw.strip().upper())
    m = _POSTCODE.match(text)
    if not m:
        raise ValueError("postcode is not a UK postcode")
    return f"{m.group(1)} {m.group(2)}"


@dataclass
class ParsedRow:
    nhs_number: str = ""
    given_name: str = ""
    family_name: str = ""
    date_of_birth: date | None = None
    postcode: str = ""
    practice_code: str = ""
    reason: str = ""
    risk_score: float | None = None
    sex: str = Sex.UNKNOWN.value
    date_style: str = ""  # how the file wrote the date of birth, e.g. dd-Mmm-yyyy
    full_name: str = ""  # a one-column name that could not be split for sure
    name_style: str = ""  # "SURNAME, Forename" when the file wrote it so
    imd_decile: int | None = None  # 1 = most deprived
    imd_quintile: int | None = None
    notes: list[str] = field(default_factory=list)


def _names(cells: dict[str, str], row: ParsedRow) -> None:
    """Given and family name as a person writes them, from two columns or one full name."""
    if "full_name" in cells and not (cells.get("given_name") or cells.get("family_name")):
        full = person_names.clean(cells["full_name"])
        parts = person_names.split_full_name(full)
        if "," in full:
            row.name_style = "SURNAME, Forename"
        if parts is None:
            row.full_name = full  # matched whole against a stored person; new people need columns
            return
        given, family = parts
    else:
        given, family = cells.get("given_name", ""), cells.get("family_name", "")
    for attr, value, label in (("given_name", given, "given"), ("family_name", family, "family")):
        cased, guessed = person_names.tidy_case(value)
        setattr(row, attr, cased)
        if guessed:
            row.notes.append(f"{label} name kept in capitals as sent (its casing is a guess)")


def refusal(message: str) -> PydanticCustomError:
    return PydanticCustomError("row", message)


def _nhs(raw: str) -> str:
    """The bare digits, by the domain's own check (Modulus 11 check digit, placeholders)."""
    try:
        return nhs_number.normalise(raw)
    except ValidationError as exc:
        reason = str(exc).rstrip(".")
        if "placeholder" in reason:  # "invalid NHS number: a placeholder (one digit repeated)..."
            raise refusal("invalid NHS number: " + reason.removeprefix("NHS number is ")) from None
        raise refusal(f"invalid NHS number ({reason.lower()})") from None


def _dob(raw: str, info: ValidationInfo) -> tuple[date, str]:
    try:
        return parse_dob(raw, (info.context or {})["today"])
    except ValueError as exc:
        raise refusal(str(exc)) from None


def refusing(parse: Callable[[str], Any], prefix: str = "") -> Callable[[str], Any]:
    """``parse`` with its ValueError as the row's refusal (its words, after ``prefix``)."""

    def check(raw: str) -> Any:
        try:
            return parse(raw)
        except ValueError as exc:
            raise refusal(prefix + str(exc)) from None

    return check


def _sex(raw: str) -> str:
    if raw not in _SEX:
        raise refusal("sex is not one of female, male, other, unknown")
    return _SEX[raw].value


_NAME = Annotated[str, Field(max_length=100)]
# A pydantic type per checked column, in the order the report lists a row's problems; a
# refusal's message is the report's own words (the line is added by the report).
_CELL_TYPES: dict[str, Any] = {
    "nhs_number": Annotated[str, AfterValidator(_nhs)],
    "given_name": _NAME,
    "family_name": _NAME,
    "date_of_birth": Annotated[str, AfterValidator(_dob)],
    "postcode": Annotated[str, AfterValidator(refusing(parse_postcode))],
    # Lax: the cell's text read as a number ("0.42", ".5", "4.2e-1").
    "risk_score": Annotated[
        float, Field(ge=0.0, le=1.0, allow_inf_nan=False), AfterValidator(lambda v: round(v, 4))
    ],
    "imd_decile": Annotated[
        str, AfterValidator(refusing(lambda r: parse_imd(r, 10), FIELDS["imd_decile"] + " "))
    ],
    "imd_quintile": Annotated[
        str, AfterValidator(refusing(lambda r: parse_imd(r, 5), FIELDS["imd_quintile"] + " "))
    ],
    "sex": Annotated[str, AfterValidator(_sex)],
}
_CELL_CHECKS = {
    name: SchemaValidator(TypeAdapter(tp).core_schema) for name, tp in _CELL_TYPES.items()
}


def _cell_message(name: str, error: Any) -> str:
    if error["type"] == "row":
        return str(error["msg"])
    if name == "risk_score":
        if error["type"] == "float_parsing":
            return "risk score is not a number"
        return "risk score must be between 0 and 1"
    return f"{name.replace('_', ' ')} is longer than 100 characters"  # (a name)


def parse_row(cells: dict[str, str], today: date) -> tuple[ParsedRow, list[str]]:
    row = ParsedRow()
    _names(cells, row)
    given = {
        "nhs_number": cells.get("nhs_number", ""),
        "given_name": row.given_name,
        "family_name": row.family_name,
        "date_of_birth": cells.get("date_of_birth", ""),
        "postcode": cells.get("postcode", "").strip() and cells["postcode"],
        "risk_score": cells.get("risk_score", "").strip(),
        "imd_decile": cells.get("imd_decile", "").strip(),
        "imd_quintile": cells.get("imd_quintile", "").strip(),
        "sex": cells.get("sex", "").strip().lower(),
    }
    problems: list[str] = []
    context = {"today": today}
    for name, raw in given.items():
        if not raw and name in _OPTIONAL:
            continue
        try:
            value = _CELL_CHECKS[name].validate_python(raw, context=context)
        except PydanticValidationError as exc:
            problems.append(_cell_message(name, exc.errors(include_url=False)[0]))
            continue
        if name == "date_of_birth":
            row.date_of_birth, row.date_style = value
        else:
            setattr(row, name, value)
    row.practice_code = cells.get("practice_code", "").strip().upper()
    row.reason = " ".join(cells.get("reason", "").split())[:2000]
    return row, problems
