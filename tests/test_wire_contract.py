"""The wire contract sits below both sides: the endpoint validates exactly the laptop's columns.

int_desk/wire/entities.py is generated from the desktop store's models; while it differs from
them a laptop could send a column the endpoint refuses (or the endpoint accept one the laptop
cannot store).
"""

from __future__ import annotations

from int_desk.store.models import SYNCED_MODELS
from int_desk.store.wire_entities import GENERATED, SYNCED_TABLES, render
from int_desk.wire import schema


def test_the_generated_entities_match_the_store_models() -> None:
    assert GENERATED.read_text(encoding="utf-8") == render(), (
        "a synced model's columns changed: run `python -m int_desk.store.wire_entities`"
    )


def test_every_synced_model_travels_and_nothing_else() -> None:
    assert set(schema.ENTITIES) == {m.__tablename__ for m in SYNCED_MODELS} == set(SYNCED_TABLES)
    assert set(schema.ORDER) == set(schema.ENTITIES)


def test_a_new_rows_defaults_are_the_models_defaults() -> None:
    # The endpoint's directory fills in a new row as the laptop's model would.
    team = schema.ENTITIES["team"].columns
    assert team["huddle_kind"].default_value() == "daily"
    assert team["config"].default_value() == {}
    assert schema.ENTITIES["huddle_item"].columns["reasons"].default_value() == []
    assert schema.ENTITIES["contact"].columns["occurred_at"].default_value().tzinfo is not None
    assert schema.ENTITIES["patient"].columns["nhs_number"].default_value() is None
