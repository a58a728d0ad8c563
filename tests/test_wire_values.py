"""What the endpoint answers for each pushed value a column refuses, and the canonical form of
what it takes. The messages are what a laptop (or a hostile client) is told in the 422: they
name the table and the field, never the value. Through a real endpoint: test_fuzz_wire_values.
"""

from __future__ import annotations

from typing import Any

import pytest

from int_desk.wire.schema import ENTITIES
from int_desk.wire.values import InvalidValue, check_fields

UUID = "0b7e1c1e-6a62-4a8e-9a55-0d6c4f1d2e3a"

REFUSED = [
    ("contact", "nope", "x", "contact.nope is not a synced field"),
    ("contact", "patient_id", None, "contact.patient_id may not be empty"),
    ("contact", "patient_id", "not-a-uuid", "contact.patient_id should be of kind uuid"),
    ("contact", "patient_id", 5, "contact.patient_id should be of kind uuid"),
    ("contact", "patient_id", "\ud800", "contact.patient_id should be of kind uuid"),
    ("contact", "clinical", 1, "contact.clinical should be of kind bool"),
    ("contact", "clinical", "true", "contact.clinical should be of kind bool"),
    ("contact", "text", 5, "contact.text should be of kind str"),
    ("contact", "text", "x" * 100_001, "contact.text is longer than 100000"),
    ("contact", "text", "Visited\x00", "contact.text contains a NUL character"),
    ("contact", "text", "Visited \ud800", "contact.text is not valid Unicode (a lone surrogate)"),
    # Two faults: the length first, then NUL, then Unicode (as before pydantic did the work).
    ("contact", "kind", "\ud800" * 25, "contact.kind is longer than 24"),
    ("contact", "text", "\x00\ud800", "contact.text contains a NUL character"),
    ("contact", "occurred_at", "2026-11-21T10:00:00", "contact.occurred_at should be of kind datetime"),
    ("contact", "occurred_at", "2026-02-30T10:00:00+00:00", "contact.occurred_at should be of kind datetime"),
    ("contact", "occurred_at", 1700000000, "contact.occurred_at should be of kind datetime"),
    ("contact", "occurred_at", "9999-12-31T23:30:00-05:00", "contact.occurred_at should be between 1800 and 2200"),
    ("contact", "occurred_at", "0001-01-01T00:10:00+05:00", "contact.occurred_at should be between 1800 and 2200"),
    ("contact", "occurred_at", "2200-12-31T23:00:00-02:00", "contact.occurred_at should be between 1800 and 2200"),
    ("patient", "date_of_birth", "1799-12-31", "patient.date_of_birth should be between 1800 and 2200"),
    ("patient", "date_of_birth", "2026-02-30", "patient.date_of_birth should be of kind date"),
    ("patient", "deprivation_decile", 11, "patient.deprivation_decile should be between 1 and 10"),
    ("patient", "deprivation_decile", True, "patient.deprivation_decile should be of kind int"),
    ("patient", "deprivation_decile", 5.0, "patient.deprivation_decile should be of kind int"),
    ("huddle_item", "position", 2**31, "huddle_item.position should be between -2147483648 and 2147483647"),
    ("cohort_membership", "risk_score", float("nan"), "cohort_membership.risk_score should be a finite number"),
    ("cohort_membership", "risk_score", 1e16, "cohort_membership.risk_score should be a finite number"),
    ("cohort_membership", "risk_score", 10**400, "cohort_membership.risk_score should be of kind float"),
    ("cohort_membership", "risk_score", False, "cohort_membership.risk_score should be of kind float"),
    ("team", "config", None, "team.config may not be empty"),
    ("team", "config", {"a": "\ud800"}, "team.config is not valid Unicode (a lone surrogate)"),
    ("team", "config", [float("inf")], "team.config holds a number that is not finite"),
    ("team", "config", {"n": 2**63}, "team.config holds a number too large"),
    ("team", "config", {"x": "y" * 100_000}, "team.config is too large"),
]  # fmt: skip


@pytest.mark.parametrize(("entity", "field", "value", "message"), REFUSED)
def test_a_refused_value_is_named_by_table_and_field(
    entity: str, field: str, value: Any, message: str
) -> None:
    with pytest.raises(InvalidValue) as refused:
        check_fields(ENTITIES[entity], {field: value})
    assert refused.value.problems == [(field, message)]
    assert str(refused.value) == message


def test_json_nested_too_deeply_is_refused() -> None:
    deep: Any = 1
    for _ in range(30):
        deep = [deep]
    with pytest.raises(InvalidValue, match=r"^team.config is nested too deeply$"):
        check_fields(ENTITIES["team"], {"config": deep})


def test_every_refused_field_of_an_op_is_listed_in_the_order_sent() -> None:
    with pytest.raises(InvalidValue) as refused:
        check_fields(
            ENTITIES["contact"],
            {"text": "fine", "clinical": 0, "bogus": 1, "patient_id": None, "kind": "visit"},
        )
    assert [field for field, _ in refused.value.problems] == ["clinical", "bogus", "patient_id"]


TAKEN = [
    ("contact", "patient_id", UUID.upper(), UUID),
    ("contact", "patient_id", "{" + UUID + "}", UUID),
    ("contact", "patient_id", UUID.replace("-", ""), UUID),
    ("contact", "patient_id", "urn:uuid:" + UUID, UUID),
    ("contact", "occurred_at", "2026-11-21T10:00:00+05:30", "2026-11-21T04:30:00.000000+00:00"),
    ("contact", "occurred_at", "2026-11-21T10:00:00Z", "2026-11-21T10:00:00.000000+00:00"),
    ("contact", "occurred_at", "2200-12-31T23:00:00+02:00", "2200-12-31T21:00:00.000000+00:00"),
    ("patient", "date_of_birth", "19480314", "1948-03-14"),
    ("patient", "deprivation_decile", None, None),
    ("patient", "carer_needs", "", ""),
    ("cohort_membership", "risk_score", 1, 1.0),
    ("cohort_membership", "risk_score", 1e15, 1e15),
    ("team", "config", {"columns": ["name"], "n": -1.5}, {"columns": ["name"], "n": -1.5}),
]  # fmt: skip


@pytest.mark.parametrize(("entity", "field", "value", "canonical"), TAKEN)
def test_a_value_taken_leaves_in_its_canonical_wire_form(
    entity: str, field: str, value: Any, canonical: Any
) -> None:
    checked = check_fields(ENTITIES[entity], {field: value})
    assert checked == {field: canonical}
    assert type(checked[field]) is type(canonical)


def test_the_fields_leave_in_the_order_sent() -> None:
    """The merge lists conflicts, and the write rules their first refusal, in this order."""
    fields = {"updated_at": "2026-11-21T10:00:00+00:00", "text": "a", "patient_id": UUID}
    assert list(check_fields(ENTITIES["contact"], fields)) == list(fields)
