"""Domain rules as a user meets them: names cased and split as people write them, reference
data refused with a message that names the box to fix, Place-level counts under 5 hidden,
scorecard periods, groups and units, dates in UK form, plan states, a team's agenda settings
stored back as they were given. Pure functions: no store, no Qt."""

from __future__ import annotations

from datetime import UTC, date, datetime

import pytest

from int_desk.domain import care_plan, huddle_agenda, reference, scorecard
from int_desk.domain.errors import ValidationError
from int_desk.domain.person_names import split_full_name, tidy_case
from int_desk.domain.uk_time import uk_date
from int_desk.domain.vocab import OrganisationKind


@pytest.mark.parametrize(
    ("sent", "written"),
    [
        ("MCDONALD", "McDonald"),
        ("O'BRIEN", "O'Brien"),
        ("SMITH-JONES", "Smith-Jones"),
        ("MARY MCA", "Mary Mca"),  # too short to be Mc + a name
        ("NÍ BHRIAIN", "Ní Bhriain"),
        ("Jan van der Berg", "Jan van der Berg"),  # not all capitals: left as typed
    ],
)
def test_names_in_capitals_are_cased_as_people_write_them(sent: str, written: str) -> None:
    assert tidy_case(sent) == (written, False)


@pytest.mark.parametrize("sent", ["JAN VAN DER BERG", "MACHIN", "DE'ATH", "Ó MBRIAIN"])
def test_a_casing_that_would_be_a_guess_keeps_the_capitals_and_says_so(sent: str) -> None:
    assert tidy_case(sent) == (sent, True)


@pytest.mark.parametrize(
    ("cell", "split"),
    [
        ("SMITH, John", ("John", "SMITH")),
        ("Ann Smith", ("Ann", "Smith")),
        ("Cher", ("", "Cher")),
        ("Jan van der Berg", ("Jan", "van der Berg")),
        ("Ann de la Cruz", ("Ann", "de la Cruz")),
        ("Mary Ann Smith", None),
        ("Mary Ann van Berg", None),  # a second forename before the particle: still a guess
    ],
)
def test_a_full_name_is_split_only_when_the_split_is_not_a_guess(
    cell: str, split: tuple[str, str] | None
) -> None:
    assert split_full_name(cell) == split


def _refused(call: object, *args: object, **kwargs: object) -> tuple[str, str | None]:
    with pytest.raises(ValidationError) as caught:
        call(*args, **kwargs)  # type: ignore[operator]
    return str(caught.value), caught.value.field


def test_reference_data_is_refused_with_a_message_naming_the_box() -> None:
    assert reference.name("  Bicester   INT ", "team name") == "Bicester INT"
    assert _refused(reference.name, "  ", "team name") == ("Enter the team name.", "name")
    assert _refused(reference.name, "x" * 201, "team name") == (
        "The team name is longer than 200 characters.",
        "name",
    )
    assert _refused(reference.name, "abcd", "place", field="place", limit=3) == (
        "The place is longer than 3 characters.",
        "place",
    )


def test_ods_codes_are_checked_for_the_kind_of_organisation() -> None:
    gp, trust = OrganisationKind.GP_PRACTICE, OrganisationKind.COMMUNITY_TRUST
    assert reference.organisation_code(" k84 001", gp) == "K84001"
    assert reference.organisation_code(" rth ", trust) == "RTH"
    assert reference.organisation_code("  ", trust) is None
    assert _refused(reference.organisation_code, "", gp) == (
        "Enter the practice's ODS code, e.g. K84001.",
        "code",
    )
    assert _refused(reference.organisation_code, "RTH", gp) == (
        "A GP practice's ODS code is a letter and five digits, e.g. K84001.",
        "code",
    )
    assert _refused(reference.organisation_code, "R-TH", trust) == (
        "An ODS code is 3 to 6 letters and digits.",
        "code",
    )


def test_a_practice_reads_with_its_code_or_as_awaiting_a_name() -> None:
    assert reference.practice_label("K84001", "Bicester Health Centre") == (
        "Bicester Health Centre (K84001)"
    )
    assert reference.practice_label("K84001", "") == "K84001 (name not yet given)"
    assert reference.practice_label(None, "A practice with no code") == "A practice with no code"


@pytest.mark.parametrize(("count", "hidden"), [(0, True), (4, True), (4.5, True), (5, False)])
def test_place_level_counts_under_five_are_hidden(count: float, hidden: bool) -> None:
    assert scorecard.suppressed(count) is hidden


def test_the_default_scorecard_period_is_the_last_two_years_of_whole_months() -> None:
    today = date(2026, 11, 20)
    assert scorecard.default_range(today) == (date(2024, 12, 1), today)
    assert scorecard.default_range(today, months=1) == (date(2026, 11, 1), today)
    assert scorecard.default_range(date(2026, 1, 15), months=13) == (
        date(2025, 1, 1),
        date(2026, 1, 15),
    )


def test_groups_read_all_first_then_in_their_natural_order_and_not_known_last() -> None:
    labels = ["Not known", "bicester", "All", "Abingdon", "Carterton"]
    order = sorted(labels, key=lambda label: scorecard.group_order(None, label))
    assert order == ["All", "Abingdon", "bicester", "Carterton", "Not known"]
    ages = ["85 and over", "Not known", "0-17", "All", "65-74"]
    age_order = sorted(
        ages, key=lambda label: scorecard.group_order(scorecard.Breakdown.AGE, label)
    )
    assert age_order == ["All", "0-17", "65-74", "85 and over", "Not known"]


def test_measures_show_their_unit_except_percentages_and_blanks() -> None:
    by_key = {m.key: m for m in scorecard.MEASURES}
    days, coverage = by_key["escalation_days"], by_key["plan_coverage"]
    assert days.fmt_with_unit(12.25) == "12.2 days"
    assert days.fmt_with_unit(None) == "-"
    assert coverage.fmt_with_unit(80.0) == "80.0%"


def test_dates_read_day_month_year_in_london() -> None:
    assert uk_date(None) == ""
    assert uk_date(date(2026, 3, 5)) == "05/03/2026"
    assert uk_date(datetime(2026, 6, 30, 23, 30, tzinfo=UTC)) == "01/07/2026"  # BST


def test_a_plan_state_reads_as_words() -> None:
    today = date(2026, 11, 20)
    assert care_plan.status_label("active", date(2027, 1, 1), today) == "Active"
    assert care_plan.status_label("draft", None, today) == "Draft (not signed off)"
    assert care_plan.status_label("archived-elsewhere", None, today) == "archived-elsewhere"


def test_a_teams_agenda_settings_are_stored_back_as_given() -> None:
    given = {
        "max_items": 12,
        "rules": {code: {"enabled": False} for code in huddle_agenda.RULES[:1]},
    }
    config = huddle_agenda.resolve(given)
    stored = config.as_dict()
    assert huddle_agenda.resolve(stored) == config
    first = huddle_agenda.RULES[0]
    assert stored["max_items"] == 12 and stored["rules"][first]["enabled"] is False
    assert set(stored["rules"][first]) >= {"enabled", "weight"}


def test_contact_details_are_checked_and_refusals_name_the_box() -> None:
    assert reference.phone(" 01869   123456 ") == "01869 123456"
    assert reference.phone("123 456") == "123 456"  # six digits are enough
    assert _refused(reference.phone, "12 345") == (
        "Enter a phone number of digits and spaces, e.g. 01869 123456.",
        "phone",
    )
    assert reference.email(" team@nhs.net ") == "team@nhs.net"
    assert _refused(reference.email, "team at nhs") == (
        "Enter an email address such as team@nhs.net.",
        "email",
    )


@pytest.mark.parametrize(
    ("stored", "message", "field"),
    [
        ("not an object", "The huddle agenda configuration must be an object.", ""),
        ({"rules": 3}, "rules must map rule names to settings.", "rules"),
        ({"max_items": "ten"}, "max_items must be a whole number.", "max_items"),
        ({"max_items": 0}, "max_items must be between 1 and 200.", "max_items"),
    ],
)
def test_bad_agenda_settings_are_refused_naming_the_setting(
    stored: object, message: str, field: str
) -> None:
    assert _refused(huddle_agenda.resolve, stored) == (message, field)
