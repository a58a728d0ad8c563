"""Rows from the endpoint a laptop cannot store (``sync/incoming.py``), against the real
endpoint served in this process: each is set aside with its reason, the rest of its page is
kept, support's log says which page and which rows, and a repaired row replaces the entry.

tests/test_sync_bad_rows.py proves the same against an endpoint process (and the admin's
commands); here the client's code runs where the broad mutation score's sync-client target
can judge it (tests/mutation/broad.py).
"""

from __future__ import annotations

import json
import uuid

import pytest
from sqlalchemy import select

from int_desk.server import repair
from int_desk.server.models import Record
from int_desk.store import models as m
from int_desk.sync import incoming, local
from tests.helpers.sync_env import Endpoint, sync
from tests.test_sync_in_process import _server_counts, ep, small_template  # noqa: F401


def _spoil(ep: Endpoint, entity: str, field: str, value: object, nth: int = 0) -> uuid.UUID:  # noqa: F811
    """Write a value straight into a stored row, as an endpoint without the checks did."""
    with ep.session() as s:
        rec = s.scalars(
            select(Record).where(Record.entity == entity, Record.scope == ep.teams["Bicester INT"],
                                 Record.deleted.is_(False)).order_by(Record.id)
        ).all()[nth]  # fmt: skip
        rec.data = json.dumps({**json.loads(rec.data), field: value})
        return rec.id


def _aside(ws) -> dict[tuple[str, str], tuple[str, bool]]:  # type: ignore[no-untyped-def]
    with ws.session() as s:
        return {
            (e, rid): (info["problem"], info["del"]) for e, rid, info in incoming.quarantined(s)
        }


def test_rows_a_laptop_cannot_store_are_set_aside_and_the_rest_of_their_page_kept(
    ep: Endpoint,  # noqa: F811
    laptops,
    caplog: pytest.LogCaptureFixture,
) -> None:  # type: ignore[no-untyped-def]
    note = _spoil(ep, "contact", "text", "Visited \ud800 today")
    odd = _spoil(ep, "contact", "patient_id", 12345, nth=1)  # a number where an id belongs
    task = _spoil(ep, "task", "completed_at", "9999-12-31T23:30:00.000000-05:00")
    server = _server_counts(ep, "a")
    a = laptops(ep, "a")
    with caplog.at_level("INFO", logger=incoming.__name__):
        first = sync(a)
    assert (first.quarantined, first.verified) == (3, True)
    assert first.summary().startswith(f"Synced: sent 0, received {sum(server.values()) - 3}, ")
    assert first.notes == ["3 records set aside this time"]
    assert _aside(a) == {
        ("contact", note.hex): ("text that is not valid Unicode", False),
        ("contact", odd.hex): (incoming.WRONG_KIND, False),
        ("task", task.hex): ("task.completed_at is a date this laptop cannot use", False),
    }
    with a.session() as s:  # everything else arrived, the same page's other contacts too
        assert s.get(m.Contact, note) is None and s.get(m.Task, task) is None
        stored = {e: s.query(t).count() for e, t in (("contact", m.Contact), ("task", m.Task))}
        assert local.counts(s) == server  # (the verify counts what is set aside as held)
    assert stored == {"contact": server["contact"] - 2, "task": server["task"] - 1}
    told = [r.getMessage() for r in caplog.records]  # what support reads: ids, never values
    assert "a page of contact rows could not be stored (UnicodeEncodeError)" in told
    assert sum(line.startswith("quarantined ") for line in told) == 3
    assert f"quarantined contact {note.hex} v" in "\n".join(told)
    assert "Visited" not in "\n".join(told)

    with ep.session() as s:  # the administrator repairs what can be repaired
        repaired, _left = repair.repair(s)
    assert repaired == 2
    after = sync(a)
    assert (after.quarantined, after.verified) == (1, True)  # the id stays set aside
    assert _aside(a) == {("contact", odd.hex): (incoming.WRONG_KIND, False)}
    with a.session() as s:
        assert s.get(m.Contact, note).text == "Visited \ufffd today"
        assert s.get(m.Task, task).completed_at is None
