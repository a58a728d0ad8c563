import pytest

from int_desk.domain import nhs_number
from int_desk.domain.errors import ValidationError


@pytest.mark.parametrize(
    "raw, digits",
    [
        ("9994765914", "9994765914"),  # the 999 range is never issued to a person
        ("999 476 5914", "9994765914"),
        ("999-476-5914", "9994765914"),
        (" 9990000018 ", "9990000018"),
    ],
)
def test_valid_numbers_normalise(raw: str, digits: str) -> None:
    assert nhs_number.normalise(raw) == digits
    assert nhs_number.is_valid(raw)


@pytest.mark.parametrize(
    "raw, message",
    [
        ("9994765913", "NHS number check digit is wrong."),  # wrong check digit
        ("9990000027", "NHS number check digit is wrong."),
        ("", "NHS number is empty."),
        ("  - ", "NHS number is empty."),  # separators only
        ("999476591", "NHS number must have 10 digits (this has 9)."),
        ("94347659190", "NHS number must have 10 digits (this has 11)."),
        ("94347A5919", "NHS number must contain digits only."),
        ("９４３４７６５９１９", "NHS number must contain digits only."),  # full-width: not ASCII
    ],
)
def test_invalid_numbers_say_why(raw: str, message: str) -> None:
    """The exact words a person reads, against the field the form marks."""
    with pytest.raises(ValidationError) as err:
        nhs_number.normalise(raw)
    assert str(err.value) == message and err.value.field == "nhs_number"
    assert not nhs_number.is_valid(raw)


def test_check_digit_of_ten_is_never_valid() -> None:
    # e.g. 999000000 weighs to remainder 1 -> check digit 10, which is never issued.
    first_nine = next(
        f"999{n:06d}" for n in range(1000) if nhs_number.check_digit(f"999{n:06d}") is None
    )
    assert nhs_number.complete(first_nine) is None
    for last in "0123456789":
        assert not nhs_number.is_valid(first_nine + last)


def test_display_format() -> None:
    assert nhs_number.format_nhs("9994765914") == "999 476 5914"


@pytest.mark.parametrize("digit", "0123456789")
def test_placeholder_numbers_pass_modulus_11_but_are_refused(digit: str) -> None:
    placeholder = digit * 10
    assert nhs_number.check_digit(placeholder[:9]) == int(digit)  # Modulus 11 alone lets it in
    with pytest.raises(ValidationError, match=r"placeholder \(one digit repeated\)") as err:
        nhs_number.normalise(placeholder)
    assert err.value.field == "nhs_number"  # the form marks the NHS number box
    with pytest.raises(ValidationError, match="placeholder"):
        nhs_number.normalise(f"{digit * 3} {digit * 3} {digit * 4}")


def test_the_digits_in_sequence_are_refused() -> None:
    for placeholder in ("0123456789", "9876543210"):
        with pytest.raises(ValidationError, match=r"placeholder \(the digits in sequence\)"):
            nhs_number.normalise(placeholder)


def test_nine_digits_are_completed_and_odd_values_are_shown_as_they_are() -> None:
    assert nhs_number.complete("999476591") == "9994765914"
    assert nhs_number.complete("999000001") == "9990000018"
    assert nhs_number.check_digit("999000005") == 0  # 253 = 23 x 11: check digit 0, not 11
    assert nhs_number.normalise("999 000 0050") == "9990000050"
    assert nhs_number.format_nhs("999476591") == "999476591"
    assert nhs_number.format_nhs("") == ""
    with pytest.raises(ValidationError, match="NHS number is empty."):
        nhs_number.normalise(None)  # type: ignore[arg-type]
