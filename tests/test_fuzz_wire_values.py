"""Extreme values in every field of the wire schema, at a real endpoint: dates at the limits and
with offsets that overflow, NaN and infinities, huge integers, lone surrogates, NULs, 100 kB
strings, deep JSON. No request gets a 5xx, a refused value is a 422 naming the field, and
nothing unstorable is ever stored: afterwards every row a laptop downloads is valid.

``INT_DESK_FUZZ_SCALE`` multiplies the number of examples (400 by default).
"""

from __future__ import annotations

import json
import os
import uuid
from datetime import UTC, datetime
from typing import Any

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import select

from int_desk.server.models import Record
from int_desk.wire import schema
from tests.helpers.sync_env import Endpoint

SCALE = max(1, int(os.environ.get("INT_DESK_FUZZ_SCALE", "1")))
NOW = "2026-11-21T10:00:00.000000+00:00"

DEEP: Any = 1
for _ in range(30):
    DEEP = [DEEP]

EXTREMES: list[Any] = [
    None, True, False, 0, -1, 2**31, -(2**31) - 1, 2**53 + 1, 2**63, -(2**63) - 1, 10**40,
    float("nan"), float("inf"), float("-inf"), 1e308, -0.0, 5e-324,
    "", " ", "\ud800", "a\udfffb", "\udc00\ud800", "\x00", "x\x00y", "\u202e", "\ufeff",
    "9999-12-31", "0001-01-01", "1799-12-31", "2201-01-01", "2026-02-30", "20261121",
    "9999-12-31T23:30:00-05:00", "0001-01-01T00:10:00+05:00", "9999-12-31T23:59:59.999999+00:00",
    "2026-11-21T10:00:00", "2026-11-21T10:00:00+23:59", "2026-11-21T24:00:00Z",
    "x" * 100_000, "x" * 100_001, "é" * 60_000, "😀" * 30_000,
    [], {}, [None], {"a": "\ud800"}, {"\ud800": 1}, DEEP,
    {"n": 10**40}, str(uuid.uuid4()), "not-a-uuid", str(uuid.UUID(int=0)),
]  # fmt: skip


def _dt_text(dt: Any) -> str:
    return dt.isoformat()


VALUES = st.one_of(
    st.sampled_from(EXTREMES),
    st.text(max_size=50),
    st.integers(),
    st.floats(allow_nan=True, allow_infinity=True),
    st.dates().map(lambda d: d.isoformat()),
    st.datetimes(timezones=st.timezones()).map(_dt_text),
    st.lists(st.text(max_size=5), max_size=3),
    st.dictionaries(st.text(max_size=5), st.integers(), max_size=3),
)


BY_KIND: dict[str, list[Any]] = {
    "date": ["9999-12-31", "0001-01-01", "1799-12-31", "2201-01-01", "2026-02-30", "1800-01-01"],
    "datetime": [
        "9999-12-31T23:30:00-05:00", "0001-01-01T00:10:00+05:00", "0001-01-01T00:00:00+00:00",
        "9999-12-31T23:59:59.999999-23:59", "2200-12-31T23:00:00-02:00", "2026-11-21T10:00:00",
    ],
    "int": [2**31, -(2**31) - 1, 2**63, 10**40, -(10**40), 0, 11, -1],
    "float": [float("nan"), float("inf"), float("-inf"), 1e308, 10**400, -0.0],
    "str": ["\ud800", "a\udfffb", "\x00", "x" * 100_001, "é" * 60_000, "😀" * 60_000, "\u202e"],
    "json": [DEEP, {"a": "\ud800"}, {"\ud800": 1}, [float("nan")], {"n": 10**40}, "\x00"],
    "uuid": ["\ud800", "not-a-uuid", str(uuid.UUID(int=0)) + "\x00"],
    "bool": [0, 1, "true", None],
}  # fmt: skip


def _bad_value_field(problem: dict[str, Any]) -> str:
    return str(problem.get("field") or problem.get("loc") or problem.get("msg"))


def test_extreme_values_in_every_field_get_422_never_5xx_and_never_stored(
    sqlite_endpoint: Endpoint,
) -> None:
    ep = sqlite_endpoint
    team = ep.teams["Bicester INT"]
    with ep.session() as s:
        rows = {
            entity: [(r.id, r.version) for r in s.scalars(
                select(Record).where(Record.entity == entity, Record.scope == team).limit(3))]
            for entity in schema.ENTITIES
        }  # fmt: skip
    entities = sorted(e for e, found in rows.items() if found)
    statuses: dict[int, int] = {}
    versions = {rid: v for found in rows.values() for rid, v in found}
    applied: list[tuple[str, str]] = []
    client = ep.http("a")

    def push(entity: str, field: str, value: Any, rid: Any, base_version: Any) -> None:
        op = {
            "op_id": str(uuid.uuid4()), "entity": entity, "id": str(rid), "kind": "update",
            "base_version": base_version, "fields": {field: value, "updated_at": NOW},
        }  # fmt: skip
        body = json.dumps({"batch_id": str(uuid.uuid4()), "ops": [op]})  # NaN as JSON's NaN
        reply = client.post("/v1/push", content=body, headers={"content-type": "application/json"})
        statuses[reply.status_code] = statuses.get(reply.status_code, 0) + 1
        assert reply.status_code < 500, (entity, field, repr(value)[:80], reply.text[:300])
        assert reply.status_code in (200, 422), reply.text[:300]
        if reply.status_code == 200:
            result = reply.json()["results"][0]
            if "version" in result:
                versions[rid] = result["version"]
            if result["status"] == "applied":
                applied.append((entity, field))
        if reply.status_code == 422:
            problems = reply.json()["detail"]
            assert any(field in _bad_value_field(p) for p in problems), problems

    def every_limit_once() -> None:
        """Each date and time at the edges in every such field, always at the current version:
        random draws alone may never send one to where it would be applied."""
        for entity in entities:
            for field, column in sorted(schema.ENTITIES[entity].columns.items()):
                if column.kind in ("date", "datetime"):
                    rid = rows[entity][0][0]
                    for value in BY_KIND[column.kind]:
                        push(entity, field, value, rid, versions[rid])

    @settings(
        max_examples=400 * SCALE,
        deadline=None,
        derandomize=True,
        database=None,
        suppress_health_check=list(HealthCheck),
    )
    @given(data=st.data())
    def run(data: st.DataObject) -> None:
        entity = data.draw(st.sampled_from(entities))
        ent = schema.ENTITIES[entity]
        field = data.draw(st.sampled_from(sorted(ent.columns)))
        kind = ent.columns[field].kind
        value = data.draw(st.one_of(st.sampled_from(BY_KIND[kind]), VALUES))
        rid = data.draw(st.sampled_from([r for r, _v in rows[entity]]))
        version = versions[rid]  # current, so most values are applied unless refused
        push(entity, field, value, rid,
             data.draw(st.sampled_from([version, version, version, 0, None])))  # fmt: skip

    try:
        every_limit_once()
        run()
        # Pull with hostile cursors and positions: refused (410/422), never a 5xx.
        for token in ("\ud800.\udfff", "x" * 4096, "eyJzIjp7fX0.00", "\x00", "é.é"):
            for body in ({"cursor": token}, {"full": True, "after": token}):
                reply = client.post("/v1/pull", content=json.dumps(body),
                                    headers={"content-type": "application/json"})  # fmt: skip
                assert reply.status_code in (410, 422), (body, reply.status_code)
        # Whatever was accepted is storable and sendable: a full download of every row checks.
        after: str | None = None
        while True:
            page = client.post("/v1/pull", json={"full": True, "limit": 5000,
                                                 **({"after": after} if after else {})})  # fmt: skip
            assert page.status_code == 200, page.text[:300]
            payload = page.json()
            for change in payload["changes"]:
                # Storable and sendable, judged here and not by the code under test: valid
                # UTF-8, no NUL, finite numbers, times a laptop can convert.
                text = json.dumps(change["data"], ensure_ascii=False, allow_nan=False)
                text.encode("utf-8")
                assert "\x00" not in text, change["e"]
                ent = schema.ENTITIES[change["e"]]
                for name, value in change["data"].items():
                    kind = ent.columns[name].kind if name in ent.columns else ""
                    if kind in ("date", "datetime") and value:
                        when = datetime.fromisoformat(value)
                        assert 1800 <= when.year <= 2200, (change["e"], name)
                        if kind == "datetime":
                            when.astimezone(UTC)
            after = payload.get("after")
            if not payload["has_more"]:
                break
    finally:
        client.close()
    assert statuses.get(422, 0) > 100 and statuses.get(200, 0) > 20, statuses
    assert len(applied) > 20, applied  # values within the limits were stored


def test_one_value_at_each_reported_limit_is_refused_with_the_field_named(
    sqlite_endpoint: Endpoint,
) -> None:
    """The values the issue found: a far-future time with an offset, year 1 with an offset
    (both overflowed into a 500), and a lone surrogate (stored, then broke every new laptop)."""
    ep = sqlite_endpoint
    with ep.session() as s:
        contact = s.scalars(select(Record).where(Record.entity == "contact",
                                                 Record.scope == ep.teams["Bicester INT"])).first()  # fmt: skip
        before = (contact.version, contact.data)
    cases = [
        ("occurred_at", "9999-12-31T23:30:00-05:00", "between 1800 and 2200"),
        ("occurred_at", "0001-01-01T00:10:00+05:00", "between 1800 and 2200"),
        ("text", "Visited \ud800", "not valid Unicode"),
        ("text", "Visited\x00", "NUL"),
    ]
    with ep.http("a") as client:
        for field, value, why in cases:
            op = {"op_id": str(uuid.uuid4()), "entity": "contact", "id": str(contact.id),
                  "kind": "update", "base_version": contact.version, "fields": {field: value}}  # fmt: skip
            body = json.dumps({"batch_id": str(uuid.uuid4()), "ops": [op]})
            reply = client.post("/v1/push", content=body,
                                headers={"content-type": "application/json"})  # fmt: skip
            assert reply.status_code == 422, reply.text
            problem = reply.json()["detail"][0]
            assert problem["field"] == field and why in problem["msg"], problem
            assert f"contact.{field}" in problem["msg"]
    with ep.session() as s:
        rec = s.get(Record, ("contact", contact.id))
        assert (rec.version, rec.data) == before
