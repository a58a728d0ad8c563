"""The desktop store's side of the wire contract: which table each synced entity is, and the
generator of ``int_desk/wire/entities.py`` (each synced column's wire kind, from the models).

    python -m int_desk.store.wire_entities     # after changing a synced model's columns

tests/test_wire_contract.py fails while the generated module differs from the models, so the
endpoint (which never imports the desktop store) validates exactly the columns the laptop has.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any, cast

from sqlalchemy import JSON, Boolean, Date, Float, Integer, String, Table, Text, types

from int_desk.store.base import Base, Synced, UTCDateTime, utcnow
from int_desk.store.models import SYNCED_MODELS
from int_desk.wire.schema import MAX_TEXT, NOT_DATA


def _table(model: Any) -> Table:
    return cast(Table, model.__table__)


# entity name -> its table and ORM class (the entity name is the table name)
SYNCED_TABLES: dict[str, Table] = {_table(m).name: _table(m) for m in SYNCED_MODELS}
SYNCED_BY_NAME: dict[str, type[Synced]] = {_table(m).name: m for m in SYNCED_MODELS}
GENERATED = Path(__file__).resolve().parent.parent / "wire" / "entities.py"
_FACTORIES: dict[Any, str] = {utcnow: "now", dict: "dict", list: "list"}


def wire_kind(col_type: Any) -> tuple[str, int | None]:
    """A column type's wire kind and, for text, its longest value."""
    if isinstance(col_type, UTCDateTime):
        return "datetime", None
    if isinstance(col_type, types.Uuid):
        return "uuid", None
    if isinstance(col_type, Date):
        return "date", None
    if isinstance(col_type, JSON):
        return "json", None
    if isinstance(col_type, Boolean):
        return "bool", None
    if isinstance(col_type, Integer):
        return "int", None
    if isinstance(col_type, Float):
        return "float", None
    if isinstance(col_type, Text):
        return "str", MAX_TEXT
    if isinstance(col_type, String):
        return "str", col_type.length
    raise TypeError(f"no sync codec for {col_type!r}")


def _default(column: Any) -> tuple[Any, bool]:
    """(a constant default, False) or (a factory's name, True)."""
    default = column.default
    if default is None:
        return None, False
    if default.is_callable:
        fn = getattr(default.arg, "__wrapped__", None) or default.arg
        for factory, name in _FACTORIES.items():
            if fn is factory or getattr(fn, "__name__", "") == factory.__name__:
                return name, True
        raise TypeError(f"no wire name for the default of {column.table.name}.{column.name}")
    return default.arg, False


def columns(table: Table) -> tuple[tuple[Any, ...], ...]:
    out = []
    for c in table.columns:
        if c.name in NOT_DATA:
            continue
        kind, max_length = wire_kind(c.type)
        default, factory = _default(c)
        out.append((c.name, kind, bool(c.nullable), max_length, default, factory))
    return tuple(out)


def _literal(value: Any) -> str:
    """A Python literal as ruff formats it (double-quoted strings)."""
    return json.dumps(value) if isinstance(value, str) else repr(value)


def render() -> str:
    """The generated module's text, already as ``ruff format`` leaves it."""
    order = [t.name for t in Base.metadata.sorted_tables if t.name in SYNCED_TABLES]
    lines = [
        '"""The synced entities\' columns as the wire carries them. GENERATED from the desktop',
        "store's models by ``python -m int_desk.store.wire_entities``: do not edit by hand",
        '(tests/test_wire_contract.py checks it is current)."""',
        "",
        "from typing import Any",
        "",
        "# entity -> its data columns: (name, kind, nullable, max length, default, whether the",
        "# default names a factory); parents before children.",
        "ENTITY_COLUMNS: dict[str, tuple[tuple[Any, ...], ...]] = {",
    ]
    for name in order:
        lines.append(f"    {_literal(name)}: (")
        for column in columns(SYNCED_TABLES[name]):
            lines.append(f"        ({', '.join(_literal(v) for v in column)}),")
        lines.append("    ),")
    lines += [
        "}",
        "",
        "# Parents before children, so a full download can be applied in this order.",
    ]
    lines += ["ORDER: tuple[str, ...] = ("] + [f"    {_literal(n)}," for n in order] + [")"]
    return "\n".join(lines) + "\n"


if __name__ == "__main__":
    GENERATED.write_text(render(), encoding="utf-8")
