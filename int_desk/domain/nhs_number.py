"""NHS number: 10 digits with a Modulus 11 check digit, shown as ``XXX XXX XXXX``."""

from __future__ import annotations

import re

from int_desk.domain.errors import ValidationError

_SEPARATORS = re.compile(r"[\s-]")


def check_digit(first_nine: str) -> int | None:
    """Modulus 11 check digit for nine digits; None when the result is 10 (never issued)."""
    total = sum(int(d) * w for d, w in zip(first_nine, range(10, 1, -1), strict=True))
    check = 11 - (total % 11)
    if check == 11:
        return 0
    if check == 10:
        return None
    return check


def normalise(raw: str) -> str:
    """Validate and return the bare 10 digits; raise ValidationError saying what is wrong."""
    digits = _SEPARATORS.sub("", raw or "")
    if not digits:
        raise ValidationError("NHS number is empty.", field="nhs_number")
    if not digits.isdigit() or not digits.isascii():
        raise ValidationError("NHS number must contain digits only.", field="nhs_number")
    if len(digits) != 10:
        raise ValidationError(
            f"NHS number must have 10 digits (this has {len(digits)}).", field="nhs_number"
        )
    expected = check_digit(digits[:9])
    if expected is None or expected != int(digits[9]):
        raise ValidationError("NHS number check digit is wrong.", field="nhs_number")
    reason = placeholder_reason(digits)
    if reason:
        raise ValidationError(
            f"NHS number is a placeholder ({reason}), not a person's number.",
            field="nhs_number",
        )
    return digits


# Pass Modulus 11 but are typed where a number is unknown: every repeated digit (0000000000 ...
# 9999999999 all pass) and the digits in sequence.
PLACEHOLDERS = {"0123456789": "the digits in sequence", "9876543210": "the digits in sequence"}


def placeholder_reason(digits: str) -> str | None:
    """Why ten digits that pass Modulus 11 are still no one's NHS number, or None."""
    if len(set(digits)) == 1:
        return "one digit repeated"
    return PLACEHOLDERS.get(digits)


def is_valid(raw: str) -> bool:
    try:
        normalise(raw)
    except ValidationError:
        return False
    return True


def format_nhs(digits: str) -> str:
    """``9994765914`` -> ``999 476 5914``: every display of an NHS number goes through here.

    Anything but ten characters (an empty or unexpected value) is shown as it is."""
    return f"{digits[:3]} {digits[3:6]} {digits[6:]}" if len(digits) == 10 else digits


def complete(first_nine: str) -> str | None:
    """Append the check digit to nine digits, or None when no valid number exists."""
    check = check_digit(first_nine)
    return None if check is None else first_nine + str(check)
