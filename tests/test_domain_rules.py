"""Domain rules as a user meets them: names cased and split as people write them, reference
data refused with a message that names the box to fix, Place-level counts under 5 hidden,
scorecard periods, groups and units, dates in UK form, plan states, a team's agenda settings
stored back as they were given. Pure functions: no store, no Qt."""

from __future__ import annotations

import time
import uuid
from datetime import UTC, date, datetime, timedelta, timezone
from datetime import time as time_of_day
from zoneinfo import ZoneInfo

import pytest

from int_desk.domain import (
    care_plan,
    huddle_agenda,
    information_needs,
    permissions,
    person_names,
    reference,
    scorecard,
    security,
    uk_time,
    vocab,
    wording,
)
from int_desk.domain.actor import Actor
from int_desk.domain.errors import (
    PermissionDenied,
    SyncError,
    SyncErrorKind,
    ValidationError,
    WrongPassphrase,
)
from int_desk.domain.ids import new_id
from int_desk.domain.permissions import Permission
from int_desk.domain.person_names import split_full_name, tidy_case
from int_desk.domain.text import json_problem, text_problem
from int_desk.domain.uk_time import uk_date
from int_desk.domain.vocab import HealthEventKind, OrganisationKind, Role


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
    assert reference.name("x" * 200, "team name") == "x" * 200  # the limit itself is allowed
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


# --- a team's huddle agenda settings ----------------------------------------------------------


def test_no_stored_settings_give_the_documented_default_agenda() -> None:
    # What a new team's huddle uses: every rule on, the weights and windows in DEFAULT_CONFIG.
    assert huddle_agenda.resolve(None).as_dict() == huddle_agenda.DEFAULT_CONFIG
    assert huddle_agenda.resolve({"rules": None}) == huddle_agenda.default_config()
    config = huddle_agenda.resolve({"rules": {"end_of_life": None}})
    assert config.max_items == 15 and config.minutes_per_item == 2
    assert config.enabled("end_of_life") and config.rule("end_of_life")["every_days"] == 7
    assert config.rule("end_of_life").weight == 30
    assert [config.rule(code).code for code in huddle_agenda.RULES] == list(huddle_agenda.RULES)


def test_a_partial_setting_changes_only_what_it_names() -> None:
    config = huddle_agenda.resolve(
        {
            "max_items": 200,
            "minutes_per_item": 60,
            "rules": {
                "not_discussed": {"days_by_priority": {"high": 3}},
                "acute_event": {"kinds": ["ed_attendance", "ed_attendance"], "weight": 0},
                "care_plan_review": {"due_within_days": 0, "enabled": False},
                "recent_discharge": {"days": 365, "weight": 1000},
            },
        }
    )
    assert (config.max_items, config.minutes_per_item) == (200, 60)
    # One priority changed: the other two keep their defaults.
    assert config.rule("not_discussed")["days_by_priority"] == {"high": 3, "medium": 28, "low": 84}
    assert config.rule("acute_event")["kinds"] == ["ed_attendance"]  # listed once
    assert config.rule("acute_event").weight == 0
    assert config.rule("acute_event")["first_huddle_days"] == 7
    assert not config.enabled("care_plan_review")
    assert config.rule("care_plan_review")["due_within_days"] == 0
    assert config.rule("recent_discharge").weight == 1000
    assert config.rule("recent_discharge")["days"] == 365
    assert config.enabled("recent_discharge")
    stored = config.as_dict()
    assert stored["rules"]["care_plan_review"] == {
        "enabled": False,
        "weight": 30,
        "due_within_days": 0,
    }
    assert huddle_agenda.resolve(stored) == config
    # Storing the settings hands out a copy: changing it does not change the agenda in use.
    stored["rules"]["not_discussed"]["days_by_priority"]["low"] = 1
    assert config.rule("not_discussed")["days_by_priority"]["low"] == 84


@pytest.mark.parametrize(
    ("stored", "message", "field"),
    [
        ({"colour": "blue"}, "Unknown agenda setting 'colour'.", "colour"),
        ({"max_items": True}, "max_items must be a whole number.", "max_items"),
        ({"max_items": 201}, "max_items must be between 1 and 200.", "max_items"),
        ({"minutes_per_item": 0}, "minutes_per_item must be between 1 and 60.", "minutes_per_item"),
        (
            {"minutes_per_item": 61},
            "minutes_per_item must be between 1 and 60.",
            "minutes_per_item",
        ),
        ({"rules": {"gut_feeling": {}}}, "Unknown agenda rule 'gut_feeling'.", "rules.gut_feeling"),
        ({"rules": {"roll_over": 3}}, "rules.roll_over must be an object.", "rules.roll_over"),
        (
            {"rules": {"roll_over": {"window": 3}}},
            "Unknown parameter 'window' for rule roll_over.",
            "rules.roll_over.window",
        ),
        (
            {"rules": {"roll_over": {"enabled": 1}}},
            "rules.roll_over.enabled must be true or false.",
            "rules.roll_over.enabled",
        ),
        (
            {"rules": {"roll_over": {"weight": 1001}}},
            "rules.roll_over.weight must be between 0 and 1000.",
            "rules.roll_over.weight",
        ),
        (
            {"rules": {"roll_over": {"weight": -1}}},
            "rules.roll_over.weight must be between 0 and 1000.",
            "rules.roll_over.weight",
        ),
        (
            {"rules": {"recent_discharge": {"days": 366}}},
            "rules.recent_discharge.days must be between 1 and 365.",
            "rules.recent_discharge.days",
        ),
        (
            {"rules": {"recent_discharge": {"days": 7.0}}},
            "rules.recent_discharge.days must be a whole number.",
            "rules.recent_discharge.days",
        ),
        (
            {"rules": {"acute_event": {"kinds": []}}},
            "rules.acute_event.kinds must be a non-empty list of event kinds.",
            "rules.acute_event.kinds",
        ),
        (
            {"rules": {"acute_event": {"kinds": "ed_attendance"}}},
            "rules.acute_event.kinds must be a non-empty list of event kinds.",
            "rules.acute_event.kinds",
        ),
        (
            {"rules": {"not_discussed": {"days_by_priority": [7]}}},
            "rules.not_discussed.days_by_priority must map priorities to days.",
            "rules.not_discussed.days_by_priority",
        ),
        (
            {"rules": {"not_discussed": {"days_by_priority": {"urgent": 1}}}},
            "rules.not_discussed.days_by_priority: unknown priority 'urgent'.",
            "rules.not_discussed.days_by_priority",
        ),
        (
            {"rules": {"not_discussed": {"days_by_priority": {"high": 731}}}},
            "rules.not_discussed.days_by_priority.high must be between 1 and 730.",
            "rules.not_discussed.days_by_priority.high",
        ),
    ],
)
def test_each_bad_agenda_setting_is_refused_naming_it(
    stored: object, message: str, field: str
) -> None:
    assert _refused(huddle_agenda.resolve, stored) == (message, field)


def test_an_unknown_event_kind_is_refused_listing_the_kinds_there_are() -> None:
    message, field = _refused(
        huddle_agenda.resolve, {"rules": {"acute_event": {"kinds": ["ed_attendance", "fall"]}}}
    )
    kinds = sorted(k.value for k in HealthEventKind)
    assert message == (
        f"rules.acute_event.kinds: unknown event kind 'fall' (use {', '.join(kinds)})."
    )
    assert field == "rules.acute_event.kinds"


# --- auto-lock and quick unlock -----------------------------------------------------------------


@pytest.mark.parametrize(
    ("value", "teams", "expected"),
    [
        (None, [], 5),
        ("", [], 5),
        ("abc", [], 5),
        ([3], [], 5),
        ("7", [], 7),
        ("7.9", [], 7),
        (15, [], 15),
        (16, [], 15),
        (60, [], 15),
        (1, [], 1),
        (0, [], 1),
        (-4, [], 1),
        (10, [{"idle_lock_minutes": 3}], 3),
        (2, [{"idle_lock_minutes": 3}], 2),
        (10, [{"idle_lock_minutes": 3.5}], 3),
        (10, [{"idle_lock_minutes": 1}], 1),
        (10, [None, {"idle_lock_minutes": 20}, {"idle_lock_minutes": 6}], 6),
        (10, [{"idle_lock_minutes": 4}, {"idle_lock_minutes": 8}], 4),  # the strictest team
        (10, [{"idle_lock_minutes": 0}], 10),  # a limit under a minute is ignored
        (10, [{"idle_lock_minutes": "3"}], 10),  # so is one that is not a number
        (10, [{"other": 3}], 10),
    ],
)
def test_the_idle_lock_is_never_over_fifteen_minutes_or_a_teams_limit(
    value: object, teams: list, expected: int
) -> None:
    assert security.clamp_idle_minutes(value, teams) == expected


def test_no_teams_means_only_the_fifteen_minute_cap() -> None:
    assert security.clamp_idle_minutes(30) == 15


@pytest.mark.parametrize(
    ("teams", "allowed"),
    [
        ([], False),  # no team: no quick unlock
        ([{"allow_quick_unlock": True}], True),
        ([{"allow_quick_unlock": True}, {"allow_quick_unlock": True}], True),
        ([{"allow_quick_unlock": True}, {}], False),  # the strictest team wins
        ([{"allow_quick_unlock": True}, None], False),
        ([{"allow_quick_unlock": "yes"}], False),  # only a real true
        ([{"allow_quick_unlock": False}], False),
    ],
)
def test_quick_unlock_only_when_every_team_allows_it(teams: list, allowed: bool) -> None:
    assert security.quick_unlock_allowed(iter(teams)) is allowed


# --- text that can be stored and sent -----------------------------------------------------------


def test_text_that_cannot_be_stored_says_why() -> None:
    assert text_problem("Ann Smith, café at 10") is None
    assert text_problem("") is None
    assert text_problem("a\x00b") == "contains a NUL character"
    assert text_problem("a\ud800b") == "is not valid Unicode (a lone surrogate)"


def test_json_that_cannot_be_stored_says_why() -> None:
    nested: object = 1
    for _ in range(20):
        nested = [nested]
    assert json_problem(nested) is None  # 20 levels deep
    assert json_problem([nested]) == "is nested too deeply"
    assert json_problem({"a": [1, 2**63]}) == "holds a number too large"  # beyond 64 bits
    assert json_problem(-(2**63)) == "holds a number too large"
    assert json_problem(2**63 - 1) is None and json_problem(True) is None
    assert json_problem(float("nan")) == "holds a number that is not finite"
    assert json_problem(float("-inf")) == "holds a number that is not finite"
    assert json_problem({"k\x00": 1}) == "contains a NUL character"  # a key
    assert json_problem(["ok", "a\x00"]) == "contains a NUL character"
    assert json_problem({"ok": {"deeper": "a\ud800"}}) == "is not valid Unicode (a lone surrogate)"
    assert json_problem(1.5) is None and json_problem(None) is None


# --- record ids --------------------------------------------------------------------------------


def test_record_ids_are_uuid7_in_creation_order_with_random_bits() -> None:
    before = time.time_ns() // 1_000_000
    ids = [new_id() for _ in range(200)]
    after = time.time_ns() // 1_000_000
    for value in ids:
        assert value.version == 7 and value.variant == uuid.RFC_4122
        assert before <= value.int >> 80 <= after  # the creation time, in milliseconds
    assert len(set(ids)) == len(ids)
    # Every one of the 74 random bits (12 after the version, 62 after the variant) varies.
    random_mask = (0xFFF << 64) | ((1 << 62) - 1)
    ones = zeros = 0
    for value in ids:
        ones |= value.int & random_mask
        zeros |= ~value.int & random_mask
    assert ones == zeros == random_mask
    time.sleep(0.002)
    assert new_id() > ids[-1]  # a later millisecond sorts after
    # The whole millisecond count is kept, its last bit too: odd and even milliseconds appear.
    parities: set[int] = set()
    deadline = time.monotonic() + 2
    while len(parities) < 2 and time.monotonic() < deadline:
        parities.add((new_id().int >> 80) & 1)
    assert parities == {0, 1}


# --- who may read and write what ---------------------------------------------------------------


def test_clinical_fields_of_a_row_are_read_by_clinical_roles_and_the_author_only() -> None:
    me, other = uuid.uuid4(), uuid.uuid4()
    escalation = {"raised_by": str(me), "reason": "falls"}
    read = permissions.reads_clinical_row
    assert read("escalation", escalation, clinical=True, member_id=other)
    assert read("escalation", escalation, clinical=False, member_id=me)  # the author
    assert not read("escalation", escalation, clinical=False, member_id=other)
    assert not read("escalation", escalation, clinical=False, member_id=None)
    assert not read("escalation", {"raised_by": None}, clinical=False, member_id=me)
    assert not read("health_event", {"raised_by": str(me)}, clinical=False, member_id=me)
    # A contact not marked clinical holds no clinical content; one marked (or not saying) does.
    assert read("contact", {"clinical": False}, clinical=False, member_id=other)
    assert not read("contact", {"clinical": True}, clinical=False, member_id=other)
    assert not read("contact", {}, clinical=False, member_id=other)
    assert read("task", {"text": "call"}, clinical=False, member_id=other)  # not a clinical table
    assert read("care_plan", None, clinical=False, member_id=other)
    assert permissions.row_is_clinical("care_plan", {})
    assert not permissions.row_is_clinical("care_plan", None)
    assert not permissions.row_is_clinical("task", {"text": "call"})
    assert not permissions.row_is_clinical("contact", {"clinical": 0})


def test_team_grants_widen_a_role_but_never_to_clinical_content_for_non_clinical_roles() -> None:
    configs = [
        {"role_permissions": {"social_prescriber": ["sign_off_plan", "view_audit", "fly"]}},
        None,
        {"grants": {"social_prescriber": "import_cohort", "gp": ["view_audit"]}},
        {"grants": ["not a table"]},
        {"role_permissions": {"social_prescriber": [3]}},
    ]
    granted = permissions.grants_from_configs(configs, Role.SOCIAL_PRESCRIBER)
    assert granted == {"view_audit", "import_cohort"}
    assert permissions.grants_from_configs(configs, Role.GP) == {"view_audit"}
    assert permissions.grants_from_configs(configs, Role.DENTIST) == frozenset()
    prescriber = Actor(uuid.uuid4(), Role.SOCIAL_PRESCRIBER)
    assert permissions.allowed(prescriber, Permission.VIEW_AUDIT, granted)
    assert not permissions.allowed(prescriber, Permission.VIEW_AUDIT)
    assert not permissions.allowed(prescriber, Permission.SIGN_OFF_PLAN, {"sign_off_plan"})
    assert permissions.allowed(prescriber, Permission.RUN_HUDDLE)


def test_a_refusal_names_the_action_and_the_role() -> None:
    vcse = Actor(uuid.uuid4(), Role.VCSE_WORKER)
    with pytest.raises(PermissionDenied) as refused:
        permissions.require(vcse, Permission.VIEW_CLINICAL, frozenset({"view_clinical"}))
    assert str(refused.value) == (
        "Not permitted for the role 'VCSE worker': view clinical notes and medicines."
    )
    assert (refused.value.action, refused.value.role) == (
        "view clinical notes and medicines",
        "VCSE worker",
    )
    permissions.require(vcse, Permission.MANAGE_TASKS)  # allowed: no error
    assert str(PermissionDenied("run a huddle")) == "Not permitted: run a huddle."


# --- information needs (Accessible Information Standard) --------------------------------------


def test_information_needs_are_stored_as_codes_in_the_standards_order() -> None:
    needs = information_needs
    assert needs.serialise(["braille", needs.InformationNeed.LARGE_PRINT, "braille"]) == (
        "large_print,braille"
    )
    assert needs.serialise([]) == ""
    assert _refused(needs.serialise, ["large print"]) == (
        "That is not one of the information needs the app records.",
        "information_needs",
    )
    parsed = needs.parse(" braille , large_print,sign_language_v9")  # a newer app's code ignored
    assert parsed == (needs.InformationNeed.LARGE_PRINT, needs.InformationNeed.BRAILLE)
    assert needs.parse(None) == ()
    assert needs.labels(parsed) == "Large print, Braille"
    assert needs.wants_large_print(parsed) and not needs.wants_large_print(parsed[1:])
    assert needs.unmet_by_pdf(
        (needs.InformationNeed.ELECTRONIC, needs.InformationNeed.EASY_READ)
    ) == (needs.InformationNeed.EASY_READ,)


# --- scorecard periods, groups and targets ------------------------------------------------------


def test_periods_are_whole_calendar_months_clipped_to_the_range() -> None:
    months = scorecard.periods(date(2027, 12, 14), date(2028, 3, 10), scorecard.Grain.MONTH)
    assert [(p.key, p.start, p.end) for p in months] == [
        (date(2027, 12, 1), date(2027, 12, 14), date(2027, 12, 31)),
        (date(2028, 1, 1), date(2028, 1, 1), date(2028, 1, 31)),
        (date(2028, 2, 1), date(2028, 2, 1), date(2028, 2, 29)),  # a leap year
        (date(2028, 3, 1), date(2028, 3, 1), date(2028, 3, 10)),
    ]
    assert [p.days for p in months] == [18, 31, 29, 10]
    assert [p.complete for p in months] == [False, True, True, False]
    assert [p.label for p in months] == ["Dec 2027", "Jan 2028", "Feb 2028", "Mar 2028"]
    one_day = scorecard.periods(date(2026, 2, 1), date(2026, 2, 1), scorecard.Grain.MONTH)
    assert [(p.start, p.end, p.days, p.complete) for p in one_day] == [
        (date(2026, 2, 1), date(2026, 2, 1), 1, False)
    ]


def test_weeks_start_on_monday_and_are_clipped_to_the_range() -> None:
    weeks = scorecard.periods(date(2026, 1, 14), date(2026, 1, 27), scorecard.Grain.WEEK)
    assert [(p.key, p.start, p.end) for p in weeks] == [
        (date(2026, 1, 12), date(2026, 1, 14), date(2026, 1, 18)),
        (date(2026, 1, 19), date(2026, 1, 19), date(2026, 1, 25)),
        (date(2026, 1, 26), date(2026, 1, 26), date(2026, 1, 27)),
    ]
    assert [p.complete for p in weeks] == [False, True, False]
    assert [p.label for p in weeks] == ["w/c 12 Jan 2026", "w/c 19 Jan 2026", "w/c 26 Jan 2026"]


def test_a_backwards_or_too_long_range_is_refused_naming_the_date_to_change() -> None:
    week = scorecard.Grain.WEEK
    assert _refused(scorecard.periods, date(2026, 1, 4), date(2026, 1, 3), week) == (
        "The scorecard's end date is before its start date.",
        "to",
    )
    five_years = scorecard.periods(date(2021, 1, 4), date(2025, 12, 28), week)
    assert len(five_years) == scorecard.MAX_PERIODS == 260
    assert _refused(scorecard.periods, date(2021, 1, 4), date(2026, 1, 4), week) == (
        "That range has more than 260 weeks; choose a shorter one.",
        "from",
    )


def test_age_bands_in_order_and_a_label_that_is_no_band_after_them() -> None:
    age = scorecard.Breakdown.AGE
    assert scorecard.group_order(age, "18-64") == (1, "18-64")
    assert scorecard.group_order(age, "Unbanded") == (50, "Unbanded")
    assert scorecard.group_order(age, "Not known") == (99, "")
    assert scorecard.group_order(scorecard.Breakdown.TEAM, "Bicester INT") == (0, "bicester int")
    assert scorecard.Breakdown.DEPRIVATION.label == "Deprivation quintile (IMD)"
    assert [b.label for b in scorecard.Breakdown] == [
        "Team",
        "Practice",
        "Cohort",
        "Deprivation quintile (IMD)",
        "Age band",
    ]


def test_a_teams_targets_replace_the_defaults_and_bad_entries_are_ignored() -> None:
    defaults = scorecard.targets_from_config(None)
    assert defaults == {m.key: m.default_target for m in scorecard.MEASURES}
    assert defaults["plan_coverage"] == 80.0 and defaults["escalation_days"] == 7.0
    targets = scorecard.targets_from_config(
        {
            "scorecard_targets": {
                "plan_coverage": 85,
                "escalation_days": None,  # no target
                "readmissions": True,  # not a number
                "actions_on_time": "95",
                "made_up": 3,
            }
        }
    )
    assert targets == {
        **defaults,
        "plan_coverage": 85.0,
        "escalation_days": None,
    }
    assert isinstance(targets["plan_coverage"], float)
    assert scorecard.targets_from_config({"scorecard_targets": [85]}) == defaults
    assert scorecard.targets_from_config({"scorecard_targets": None}) == defaults


def test_figures_read_with_thousands_separators_and_their_decimals() -> None:
    by_key = scorecard.MEASURE_BY_KEY
    assert by_key["plan_coverage"].fmt(1234.56) == "1,234.6%"
    assert by_key["emergency_admissions"].fmt(1234.56) == "1,234.6"
    assert by_key["emergency_admissions"].fmt_with_unit(3.04) == "3.0 per 1,000 per month"
    assert by_key["plan_coverage"].fmt(None) == "-"
    assert not scorecard.suppressed(None)  # no count is not a small count


# --- care plans: sign-off, review and what changed between versions ---------------------------


def test_sign_off_lists_everything_missing_in_editor_order() -> None:
    today = date(2026, 11, 20)
    problems = care_plan.sign_off_problems(
        goals=0, review_date=None, consent_decision=None, today=today
    )
    assert [(p.field, p.message) for p in problems] == [
        ("goals", "Add at least one goal in the person's own words."),
        ("review_date", "Set a review date."),
        ("consent_decision", "Record the consent-to-share decision (given or declined)."),
    ]
    past = care_plan.sign_off_problems(
        goals=1, review_date=date(2026, 11, 19), consent_decision="unknown", today=today
    )
    assert [(p.field, p.message) for p in past] == [
        ("review_date", "The review date is in the past."),
        ("consent_decision", "Record the consent-to-share decision (given or declined)."),
    ]
    for decision in ("permit", "deny"):  # declined is a decision too: the plan is not shared
        assert (
            care_plan.sign_off_problems(
                goals=2, review_date=today, consent_decision=decision, today=today
            )
            == []
        )


def test_an_active_plan_is_due_for_review_from_its_review_date() -> None:
    today = date(2026, 11, 20)
    state = care_plan.review_state
    assert state("active", date(2026, 11, 21), today) == ""
    assert state("active", today, today) == "due for review today"
    assert state("active", date(2026, 11, 8), today) == "review overdue by 12 days"
    assert state("draft", date(2026, 11, 8), today) == ""  # only a signed-off plan is reviewed
    assert state("active", None, today) == ""
    assert care_plan.status_label("active", today, today) == "Active - due for review"
    assert care_plan.status_label("superseded", date(2026, 1, 1), today) == "Superseded"
    assert care_plan.status_label("closed", None, today) == "Closed"


def _plan(version: int, **fields: object) -> care_plan.PlanView:
    patient = care_plan.PatientSummary(
        uuid.UUID(int=1), "Ann Smith", "9990000018", date(1940, 1, 1)
    )
    return care_plan.PlanView(
        uuid.UUID(int=version),
        uuid.UUID(int=99),
        version,
        "draft",
        patient,
        **fields,  # type: ignore[arg-type]
    )


def _goal(number: int, description: str, **fields: object) -> care_plan.GoalView:
    return care_plan.GoalView(uuid.uuid4(), number, description, **fields)  # type: ignore[arg-type]


def _action(number: int, description: str, **fields: object) -> care_plan.ActionView:
    return care_plan.ActionView(uuid.uuid4(), number, description, **fields)  # type: ignore[arg-type]


def test_a_new_version_lists_each_change_a_reader_can_follow() -> None:
    lead = "Nurse Bee (District nurse)"
    before = _plan(
        1,
        what_matters="Staying at home",
        clinical_summary="COPD",
        consent_decision="permit",
        consent_recorded_by="Dr Aye (GP)",
        lead=lead,
        lead_member_id=uuid.UUID(int=5),
        review_date=date(2026, 12, 1),
        goals=(
            _goal(1, "Walk to the shop twice a week", target_date=date(2026, 12, 1)),
            _goal(2, "Sleep through the night"),
            _goal(3, "See the falls team"),
        ),
        actions=(
            _action(1, "Check blood pressure monthly", who="Nurse Bee"),
            _action(2, "Order a walking frame", goal_number=1),
        ),
    )
    after = _plan(
        2,
        what_matters="Staying at home with my cat",
        clinical_summary="COPD",
        consent_decision="deny",
        consent_recorded_by="Dr Cee (GP)",
        lead=lead,
        lead_member_id=uuid.UUID(int=6),  # another record of the same named lead
        review_date=date(2027, 1, 15),
        goals=(
            _goal(
                1,
                "Sleep through the night",
                target_date=date(2027, 2, 1),
                achievement_status="improving",
            ),
            _goal(2, "Walk to the shop three times a week", target_date=date(2026, 12, 1)),
            _goal(3, "Join a lunch club"),
        ),
        actions=(
            _action(1, "Order a walking frame", goal_number=1),
            _action(2, "Check blood pressure weekly", who="Nurse Dee"),
        ),
    )
    diff = care_plan.diff_plans(before, after)
    assert (diff.from_version, diff.to_version) == (1, 2)
    assert diff.lines() == [
        "What matters to me: 'Staying at home' -> 'Staying at home with my cat'",
        "Consent to share: 'Given' -> 'Declined'",
        "Consent recorded by: 'Dr Aye (GP)' -> 'Dr Cee (GP)'",
        "Review date: '2026-12-01' -> '2027-01-15'",
        "Goal added: Join a lunch club",
        "Goal removed: See the falls team",
        "Goal changed (target date, progress): Sleep through the night",
        "Goal changed (goal): Walk to the shop three times a week",
        "Action changed (what, who): Check blood pressure weekly",
    ]
    assert diff.goals_changed[1].before == "Walk to the shop twice a week"
    assert diff.changed_fields == [
        "what_matters",
        "consent_decision",
        "consent_recorded_by",
        "review_date",
        "goals",
        "actions",
    ]
    assert not diff.is_empty
    same = care_plan.diff_plans(before, before)
    assert same.is_empty and same.changed_fields == [] and same.lines() == ["No differences."]


def test_each_kind_of_change_alone_is_seen() -> None:
    goal, action = _goal(1, "Sleep through the night"), _action(1, "Order a walking frame")
    base = _plan(1, goals=(goal,), actions=(action,))
    changes = {
        "Named lead professional: '' -> 'Dr Eff (GP)'": {"lead": "Dr Eff (GP)"},
        "Goal added: Garden again": {"goals": (goal, _goal(2, "Garden again"))},
        "Goal removed: Sleep through the night": {"goals": ()},
        "Goal changed (target): Sleep through the night": {
            "goals": (_goal(1, "Sleep through the night", target_measure="8 hours"),)
        },
        "Action added: Ring the carer": {"actions": (action, _action(2, "Ring the carer"))},
        "Action removed: Order a walking frame": {"actions": ()},
        "Action changed (status): Order a walking frame": {
            "actions": (_action(1, "Order a walking frame", status="completed"),)
        },
        "Consent to share: '' -> 'Given'": {"consent_decision": "permit"},
    }
    for line, fields in changes.items():
        after = _plan(2, **{"goals": (goal,), "actions": (action,), **fields})
        diff = care_plan.diff_plans(base, after)
        assert diff.lines() == [line]
        assert not diff.is_empty
        kind = "goals" if "Goal" in line else "actions" if "Action" in line else None
        field = "lead_member_id" if "lead" in fields else "consent_decision"
        assert diff.changed_fields == [kind or field]


def test_a_reworded_row_pairs_with_its_closest_earlier_wording_only() -> None:
    before = [
        _goal(1, "Check blood sugar monthly"),
        _goal(2, "Check blood pressure monthly"),
        _goal(3, "Walk to the shop twice a week"),
    ]
    after = [_goal(1, "Check blood pressure weekly"), _goal(2, "Sleep through the night")]
    diff = care_plan.diff_plans(_plan(1, goals=tuple(before)), _plan(2, goals=tuple(after)))
    assert [(c.before, c.after) for c in diff.goals_changed] == [
        ("Check blood pressure monthly", "Check blood pressure weekly")
    ]
    assert diff.goals_removed == ["Check blood sugar monthly", "Walk to the shop twice a week"]
    assert diff.goals_added == ["Sleep through the night"]


def test_long_or_ragged_wording_is_shortened_in_the_summary() -> None:
    long_goal = "Walk   to the\nshop " + "and back again " * 6
    diff = care_plan.diff_plans(_plan(1), _plan(2, goals=(_goal(1, long_goal),)))
    line = diff.lines()[0]
    squashed = " ".join(long_goal.split())
    assert line == f"Goal added: {squashed[:79]}…"
    exact = "x" * 80
    assert care_plan.diff_plans(_plan(1), _plan(2, goals=(_goal(1, exact),))).lines() == [
        f"Goal added: {exact}"
    ]


def test_a_plan_knows_whether_it_is_a_draft_and_whether_consent_was_declined() -> None:
    plan = _plan(1, consent_decision="deny")
    assert plan.is_draft and plan.consent_declined
    assert not _plan(1, consent_decision="permit").consent_declined


# --- names: matching, casing and display ------------------------------------------------------


def test_two_spellings_of_one_name_match() -> None:
    assert person_names.fold("Zoë ŁUKASZ Straße") == "zoe lukasz strasse"
    assert person_names.fold("ÆSIR Øst") == "aesir ost"
    assert person_names.clean(" O\u2019Brien\u00a0\u00a0Smith\u2013Jones \u200b") == (
        "O'Brien Smith-Jones"
    )
    assert person_names.match_key("O\u2019BRIEN") == person_names.match_key("o'brien")
    assert person_names.squash("O\u2019Brien-Smith Jr.") == "obriensmith jr"


@pytest.mark.parametrize(
    ("sent", "written", "guessed"),
    [
        ("O'BRIEN-MCGEE", "O'Brien-McGee", False),
        ("MACK", "Mack", False),  # too short to be Mac + a name
        ("MACKIE", "MACKIE", True),
        ("MACEY", "MACEY", True),  # Macey or MacEy: five letters are already a guess
        ("AB'C", "AB'C", True),  # an apostrophe after more than one letter
        ("MAC GIOLLA", "Mac Giolla", False),
        ("NÍ NGUYEN", "NÍ NGUYEN", True),  # eclipsed after Ní: a guess
        ("Ó BRIAIN NGUYEN", "Ó Briain Nguyen", False),  # only the word after Ó is eclipsed
        ("ST JOHN", "ST JOHN", True),
        ("123", "123", False),
    ],
)
def test_more_names_in_capitals(sent: str, written: str, guessed: bool) -> None:
    assert tidy_case(sent) == (written, guessed)


def test_a_name_cell_with_a_comma_or_one_word_splits_as_written() -> None:
    assert split_full_name(" SMITH ,  John ") == ("John", "SMITH")
    assert split_full_name("Jan de Berg") == ("Jan", "de Berg")
    assert split_full_name("") == ("", "")


class _Shown(person_names.PersonDisplay):
    def __init__(self, family: str, given: str, nhs: str, born: date) -> None:
        self.family_name, self.given_name = family, given
        self.nhs_number, self.date_of_birth = nhs, born


def test_a_person_shows_as_family_name_first_with_their_age_on_the_day() -> None:
    ann = _Shown("Smith", "Ann", "9990000018", date(1940, 6, 15))
    assert ann.display_name == "SMITH, Ann"
    assert ann.nhs_display == "999 000 0018"
    assert ann.age(date(2026, 6, 14)) == 85
    assert ann.age(date(2026, 6, 15)) == 86  # the birthday itself
    assert ann.age(date(2026, 7, 1)) == 86
    assert ann.age(date(2026, 5, 20)) == 85


# --- reference data: practices, roles, kinds, contact details -----------------------------------


def test_a_practice_gets_the_same_id_on_every_laptop_and_version() -> None:
    # Two laptops meeting practice K84001 offline must make one practice: the id is fixed.
    expected = uuid.UUID("483fa271-49fc-58b3-acf5-4d8d9f127d04")
    assert reference.practice_id("k84 001") == reference.practice_id("K84001") == expected
    assert reference.is_practice_code(" k84001 ") and not reference.is_practice_code("RTH")
    assert _refused(reference.practice_id, "RTH")[1] == "code"


def test_roles_and_kinds_are_read_from_their_code_or_their_label() -> None:
    assert reference.role(" District Nurse ") is Role.DISTRICT_NURSE
    assert reference.role("GP") is Role.GP
    assert reference.role("clinical_lead") is Role.CLINICAL_LEAD
    message, field = _refused(reference.role, "  wizard of oz and more text beyond forty chars ")
    assert message == (
        "Unknown role 'wizard of oz and more text beyond forty '. Choose one of: "
        + ", ".join(r.value for r in Role)
        + "."
    )
    assert field == "role"
    assert reference.organisation_kind(" council ") is OrganisationKind.COUNCIL
    assert reference.organisation_kind("Community trust") is OrganisationKind.COMMUNITY_TRUST
    assert _refused(reference.organisation_kind, "x") == (
        "Unknown kind of organisation. Choose one of: "
        + ", ".join(k.value for k in OrganisationKind)
        + ".",
        "kind",
    )


@pytest.mark.parametrize(
    ("given", "stored"),
    [
        (None, None),
        ("   ", None),
        ("+44 (0)1869 123456", "+44 (0)1869 123456"),
        ("1" * 40, "1" * 40),
        ("1" * 41, "refused"),
        ("++ ()  -- 12", "refused"),  # only two digits
        ("12345-", "refused"),  # five digits
        ("ab123456", "refused"),
    ],
)
def test_phone_numbers(given: str | None, stored: str | None) -> None:
    if stored == "refused":
        assert _refused(reference.phone, given)[1] == "phone"
    else:
        assert reference.phone(given) == stored


@pytest.mark.parametrize(
    ("given", "stored"),
    [
        (None, None),
        ("  ", None),
        ("a@b.c", "a@b.c"),
        ("x" * 195 + "@b.co", "x" * 195 + "@b.co"),  # 200 characters
        ("x" * 196 + "@b.co", "refused"),
        ("a@b", "refused"),
        ("a b@c.d", "refused"),
        ("a@@b.c", "refused"),
    ],
)
def test_email_addresses(given: str | None, stored: str | None) -> None:
    if stored == "refused":
        assert _refused(reference.email, given) == (
            "Enter an email address such as team@nhs.net.",
            "email",
        )
    else:
        assert reference.email(given) == stored


# --- times as the team sees them, counts in words, labels --------------------------------------


def test_instants_read_in_london_whatever_the_computers_zone() -> None:
    june_night = datetime(2026, 5, 31, 23, 30)  # naive: UTC, as the store writes it
    assert uk_time.in_london(june_night).isoformat() == "2026-06-01T00:30:00+01:00"
    assert uk_time.london_date(june_night) == date(2026, 6, 1)
    paris = datetime(2026, 6, 1, 1, 30, tzinfo=timezone(timedelta(hours=2)))  # 23:30 UTC
    assert uk_time.in_london(paris).isoformat() == "2026-06-01T00:30:00+01:00"
    assert uk_time.london_today(datetime(2026, 5, 31, 23, 30, tzinfo=UTC)) == date(2026, 6, 1)
    assert uk_time.london_hhmm(datetime(2026, 1, 5, 14, 5, tzinfo=UTC)) == "14:05"
    assert uk_time.london_hhmm(datetime(2026, 7, 5, 14, 5, tzinfo=UTC)) == "15:05"
    assert uk_time.london_hhmm(None) == ""
    nine = uk_time.london_wall(date(2026, 7, 1), time_of_day(9))
    assert nine.astimezone(UTC) == datetime(2026, 7, 1, 8, 0, tzinfo=UTC)
    assert uk_time.london_wall(date(2026, 1, 1)).astimezone(UTC) == datetime(2026, 1, 1, tzinfo=UTC)
    form = uk_time.from_london_wall(datetime(2026, 7, 1, 9, 0))
    assert form.astimezone(UTC) == datetime(2026, 7, 1, 8, 0, tzinfo=UTC)
    aware = datetime(2026, 7, 1, 9, 0, tzinfo=UTC)
    assert uk_time.from_london_wall(aware) is aware
    assert uk_time.day_text(date(1941, 3, 3)) == "3 Mar 1941"
    now = uk_time.london_now()
    assert now.utcoffset() == uk_time.LONDON.utcoffset(now.replace(tzinfo=None))
    assert abs(now - datetime.now(UTC)).total_seconds() < 5
    assert abs(uk_time.london_today() - uk_time.london_date(datetime.now(UTC))).days == 0


def test_today_and_now_are_londons_whatever_zone_the_laptops_clock_is_in(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    # 23:30 UTC on 30 June is 00:30 on 1 July in London; the laptop's clock is set to New York.
    instant = datetime(2026, 6, 30, 23, 30, tzinfo=UTC)

    class LaptopClock(datetime):
        @classmethod
        def now(cls, tz: object = None) -> datetime:  # type: ignore[override]
            if tz is None:  # a naive wall-clock time in the laptop's own zone
                return instant.astimezone(ZoneInfo("America/New_York")).replace(tzinfo=None)
            return instant.astimezone(tz)  # type: ignore[arg-type]

    monkeypatch.setattr(uk_time, "datetime", LaptopClock)
    assert uk_time.london_today() == date(2026, 7, 1)
    assert uk_time.london_now() == instant
    assert uk_time.london_now().utcoffset() == timedelta(hours=1)


def test_counts_with_an_irregular_plural_read_in_words() -> None:
    assert wording.plural(1, "person", "people") == "1 person"
    assert wording.noun_for([1, 2], "person", "people") == "people 1 and 2"
    assert wording.noun_for(["A"], "person", "people") == "person A"


def test_labels_a_user_reads() -> None:
    assert vocab.role_label("district_nurse") == "District nurse"
    assert vocab.role_label("wizard") == "wizard"  # a newer app's role, as stored
    assert vocab.role_label(None) == "" and vocab.role_label("") == ""
    assert vocab.FlagCode.FALLS_RISK.label == "Falls risk"
    assert [a.label for a in vocab.AuditAction] == [
        "create",
        "view",
        "update",
        "delete",
        "export/execute",
        "sign-off",
    ]
    assert str(SyncError("The server is busy.", SyncErrorKind.SERVER)) == "The server is busy."
    assert SyncError("x", SyncErrorKind.AUTH).kind is SyncErrorKind.AUTH
    assert str(WrongPassphrase()) == "That passphrase does not unlock this workspace."
