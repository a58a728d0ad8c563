"""Stored rows the endpoint would refuse today (written before it checked such values): find
them and repair them so every laptop can store them again.

    int-desk admin bad-rows                    # entity, id, team, field and problem; no values
    int-desk admin repair-rows [--entity E --id ID]

A repair keeps everything it can: text loses only its unencodable characters (a lone surrogate
becomes U+FFFD, a NUL is dropped) or what is past the column's length; a number that is not
finite or out of range, or a date outside the years a laptop can use, becomes empty where the
column allows it. Anything else is reported and left. The repaired row gets a new version, so
laptops that set the old one aside receive it on their next sync; the repair is audited.
"""

from __future__ import annotations

import json
import math
import uuid
from dataclasses import dataclass
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from int_desk.domain.errors import NotFound
from int_desk.server import audit
from int_desk.server.engine_ops import _Seqs, lock_scopes
from int_desk.server.models import Record, utcnow_text
from int_desk.wire import schema, values

UNREPAIRABLE = "left as it is (a required field with no safe replacement)"


@dataclass(frozen=True)
class BadField:
    entity: str
    id: uuid.UUID
    scope: str
    field: str
    problem: str


def row_problems(entity: str, data: dict[str, Any]) -> list[tuple[str, str]]:
    """(field, problem) for every stored value the push check would refuse."""
    ent = schema.ENTITIES.get(entity)
    if ent is None:
        return []
    out = []
    for name, value in data.items():
        if name not in ent.columns:
            continue
        try:
            values.check_value(ent, name, value)
        except values.InvalidValue as exc:
            out.append((name, str(exc)))
    return out


def bad_rows(session: Session, entity: str | None = None) -> list[BadField]:
    q = select(Record.entity, Record.id, Record.scope, Record.data)
    if entity:
        q = q.where(Record.entity == entity)
    out = []
    for ent, rid, scope, data in session.execute(q):
        for name, problem in row_problems(ent, json.loads(data)):
            out.append(BadField(ent, rid, scope, name, problem))
    return out


def _fix_text(value: str, max_length: int | None) -> str:
    fixed = "".join("\ufffd" if 0xD800 <= ord(ch) <= 0xDFFF else ch for ch in value)
    fixed = fixed.replace("\x00", "")
    return fixed[:max_length] if max_length else fixed


def _fix_json(value: Any) -> Any:
    if isinstance(value, str):
        return _fix_text(value, None)
    if isinstance(value, float) and not math.isfinite(value):
        return None
    if isinstance(value, list):
        return [_fix_json(v) for v in value]
    if isinstance(value, dict):
        return {_fix_text(str(k), None): _fix_json(v) for k, v in value.items()}
    return value


def _repaired(entity: str, name: str, value: Any) -> tuple[bool, Any]:
    """(True, new value) when the field can be repaired."""
    col = schema.ENTITIES[entity].columns[name]
    if col.kind == "str" and isinstance(value, str):
        return True, _fix_text(value, col.max_length)
    if col.kind == "json":
        return True, _fix_json(value)
    if col.nullable:
        return True, None
    return False, value


def repair(
    session: Session, entity: str | None = None, record_id: uuid.UUID | None = None
) -> tuple[int, list[BadField]]:
    """Repair the bad rows (all, one entity's, or one row): (rows repaired, fields left)."""
    found = bad_rows(session, entity)
    if record_id is not None:
        found = [b for b in found if b.id == record_id]
        if not found and session.get(Record, (entity or "", record_id)) is None:
            raise NotFound("No such row on this server.")
    by_row: dict[tuple[str, uuid.UUID], list[BadField]] = {}
    for b in found:
        by_row.setdefault((b.entity, b.id), []).append(b)
    if not by_row:
        return 0, []
    lock_scopes(session, tuple(sorted({b.scope for b in found})))
    seqs = _Seqs(session)
    now = utcnow_text()
    left: list[BadField] = []
    repaired = 0
    for (ent, rid), fields in by_row.items():
        rec = session.get(Record, (ent, rid))
        assert rec is not None
        data = json.loads(rec.data)
        meta = json.loads(rec.field_meta)
        changed = []
        for b in fields:
            ok, value = _repaired(ent, b.field, data.get(b.field))
            if ok and row_problems(ent, {b.field: value}) == []:
                data[b.field] = value
                changed.append(b.field)
            else:
                left.append(b)
        if not changed:
            continue
        version = seqs.next(rec.scope)
        for name in changed:
            meta[name] = [version, "repair", "int-desk admin", now]
        rec.data, rec.field_meta = json.dumps(data), json.dumps(meta)
        rec.version, rec.updated_at = version, now
        audit.record(
            session, audit.ROW_REPAIRED, entity=ent, record_id=rid,
            detail=f"repaired fields: {', '.join(changed)}",
        )  # fmt: skip
        repaired += 1
    session.flush()
    return repaired, left
