"""Full-download pages in the column form (docs/sync-protocol.md, "Pull"): per entity the column
names once, then each row as an array. The laptop asks for it; the endpoint writes it where the
database writes the page and the row form elsewhere; the laptop reads either, and an endpoint
from before the form (which refuses the field) gets the row form asked for instead.

Against real endpoints (uvicorn on 127.0.0.1, SQLite and PostgreSQL) and real encrypted laptops.
"""

from __future__ import annotations

import json
import shutil
import uuid
from pathlib import Path
from typing import Any

import httpx
import pytest
from pydantic import Field, StrictBool, StrictInt, StrictStr
from sqlalchemy import select

from int_desk.server import admin
from int_desk.store import models as m
from int_desk.store.workspace import Workspace
from int_desk.sync import incoming, local
from int_desk.wire import protocol as P
from int_desk.wire import schema
from tests.helpers import sync_env
from tests.helpers.sync_env import Endpoint, sync

LIMIT = 700  # rows a page: the demo team's download takes several, some ending inside an entity


def _download(http: httpx.Client, form: str | None) -> list[dict[str, Any]]:
    pages, after = [], ""
    while True:
        body: dict[str, Any] = {"full": True, "limit": LIMIT}
        if form:
            body["form"] = form
        if after:
            body["after"] = after
        answer = http.post("/v1/pull", json=body)
        assert answer.status_code == 200, answer.text
        pages.append(answer.json())
        after = pages[-1]["after"] or ""
        if not pages[-1]["has_more"]:
            return pages


def _rows_of(pages: list[dict[str, Any]]) -> dict[tuple[str, str], tuple[int, dict[str, Any]]]:
    """Every row of a download by (entity, id): its version and its values by column."""
    out = {}
    for page in pages:
        for change in page.get("changes", ()):
            assert change["del"] is False
            data = {k: v for k, v in change["data"].items() if k != "deleted"}
            out[(change["e"], change["id"])] = (change["v"], data)
        for table in page.get("tables", ()):
            for row in table["rows"]:
                values = dict(zip(table["cols"], row[2:], strict=True))
                out[(table["e"], row[0])] = (row[1], values)
    return out


def test_the_column_form_carries_every_row_and_value_of_the_row_form(endpoint: Endpoint) -> None:
    with endpoint.http("a") as a:
        rows = _download(a, None)  # an older laptop: no form asked, the row form
        columns = _download(a, "columns")
        for form in ("COLUMNS", "", 1, True, None, ["columns"]):  # nothing else is a form
            refused = a.post("/v1/pull", json={"full": True, "form": form})
            assert refused.status_code == 422 and "form" in refused.text, (form, refused.text)
    assert all("changes" in p and "tables" not in p for p in rows)
    assert all("tables" in p and "changes" not in p for p in columns)
    assert len(columns) == len(rows) > 3
    for page in columns:  # the names once an entity a page; the entities in download order
        entities = [t["e"] for t in page["tables"]]
        assert len(set(entities)) == len(entities)
        assert entities == sorted(entities, key=schema.ORDER.index)
        for table in page["tables"]:
            assert table["cols"] == [
                c for c in schema.ENTITIES[table["e"]].columns if c != "deleted"
            ]
    assert sum(len(json.dumps(p)) for p in columns) < 0.75 * sum(len(json.dumps(p)) for p in rows)
    same = _rows_of(columns)
    assert same == _rows_of(rows) and len(same) > 3 * LIMIT
    assert {e for e, _id in same} >= {"patient", "contact", "care_plan", "goal", "task"}
    # The same download position and snapshot cursor in both forms.
    assert [p["cursor"] for p in columns][-1:] == [p["cursor"] for p in rows][-1:]


def test_a_caller_whose_rows_are_cut_gets_the_row_form_and_the_laptop_reads_it(
    sqlite_endpoint: Endpoint, laptops
) -> None:  # type: ignore[no-untyped-def]
    ep = sqlite_endpoint
    with ep.session() as s:  # a population-health feed: no clinical content
        admin.add_integration(s, "feed", [ep.teams["Bicester INT"]], "phm_feed")
        ep.tokens["feed"] = admin.issue_token(s, "feed")[1]
    with ep.http("feed") as feed:
        pages = _download(feed, "columns")
    assert pages and all("changes" in p and "tables" not in p for p in pages)
    ws = laptops(ep, "feed")
    result = sync(ws)
    assert result.ok and result.verified and result.pulled == len(_rows_of(pages))
    with ws.session() as s:
        assert s.query(m.Patient).count() > 50
        notes = s.scalars(select(m.Contact.text).where(m.Contact.clinical.is_(True))).all()
        assert notes and set(notes) == {""}  # clinical notes cut, as the row form has it


class _PullRequestBeforeColumns(P._Strict):
    """``PullRequest`` as an endpoint from before the column form has it (no ``form``)."""

    cursor: StrictStr | None = Field(default=None, max_length=4096)
    limit: StrictInt = Field(default=P.PULL_PAGE, ge=1, le=P.MAX_PULL_PAGE)
    full: StrictBool = False
    after: StrictStr | None = Field(default=None, max_length=4096)

    @property
    def form(self) -> str:  # (what the rest of this endpoint reads: it wrote rows only)
        return "rows"


def test_an_endpoint_from_before_the_column_form_gets_the_row_form_asked_for(
    sqlite_endpoint: Endpoint,
    tmp_path: Path,
    laptops,
    monkeypatch: pytest.MonkeyPatch,
    caplog: pytest.LogCaptureFixture,
) -> None:  # type: ignore[no-untyped-def]
    path = tmp_path / "older.db"  # the same database, served by an older endpoint
    shutil.copy(sqlite_endpoint.db_url.removeprefix("sqlite:///"), path)
    monkeypatch.setattr(P, "PullRequest", _PullRequestBeforeColumns)
    older = sync_env.serve_in_process(f"sqlite:///{path}", faults=False)
    older.tokens, older.teams = sqlite_endpoint.tokens, sqlite_endpoint.teams
    try:
        with older.http("a") as a:
            refused = a.post("/v1/pull", json={"full": True, "form": "columns"})
        assert refused.status_code == 422 and "form" in refused.text
        ws = laptops(older, "a")
        engine = sync_env.engine(ws, pull_page=LIMIT)
        with caplog.at_level("INFO", logger="int_desk.sync.client"):
            result = engine.run()
        assert result.ok and result.verified and result.pulled > 3 * LIMIT, result.error
        assert engine.columns is False  # asked once, then rows for the rest of the download
        told = [r.getMessage() for r in caplog.records if "rows only" in r.getMessage()]
        assert told == ["the sync server writes full pages as rows only"]  # (for support)
        with ws.session() as s:
            assert local.state(s, local.CURSOR) and local.state(s, local.FULL_AFTER) is None
    finally:
        older.stop()


def _page(entity: str, cols: list[str], rows: list[list[Any]]) -> dict[str, Any]:
    return {"tables": [{"e": entity, "cols": cols, "rows": rows}], "has_more": False}


@pytest.mark.parametrize("version", ["another", "the same"])
def test_the_laptop_picks_columns_by_name_and_sets_aside_rows_it_cannot_store(
    demo_ws: Workspace, version: str
) -> None:
    """A page from an endpoint of another version (columns in another order, one this laptop
    does not know, one it does not send) is read by name; a row of the wrong shape or with a
    date this laptop cannot use is set aside (under its id when it has one), the rest stored.
    The same from an endpoint of this laptop's version (its columns as they come)."""
    with demo_ws.session() as s:
        flag = s.scalars(select(m.Flag)).first()
        patient_id, author = flag.patient_id, flag.created_by
    cols = [c for c in schema.ENTITIES["flag"].columns if c not in ("deleted", "updated_by")]
    cols = [*reversed(cols), "a_column_of_a_later_version"]
    if version == "the same":
        cols = [c for c in schema.ENTITIES["flag"].columns if c != "deleted"]
        assert [*cols, "deleted"] == list(schema.ENTITIES["flag"].columns)
    ids = [uuid.uuid4() for _ in range(5)]

    def row(rid: uuid.UUID, **values: Any) -> list[Any]:
        base = {
            "patient_id": str(patient_id), "code": "frailty", "since": "2026-01-02",
            "active": True, "note": "Falls twice", "created_by": str(author) if author else None,
            "created_at": "2026-01-02T10:00:00.000000+00:00",
            "updated_at": "2026-01-02T10:00:00.000000+00:00", "updated_by": str(author) if author else None,
            "a_column_of_a_later_version": {"any": "thing"},
        }  # fmt: skip
        base.update(values)
        return [str(rid), 7, *(base.get(c) for c in cols)]

    rows = [row(ids[0]), row(ids[1], since="9999-01-01"), row(ids[2])[:-3], row(ids[3])]
    rows += [row(ids[4])[:2], "not a row", None]  # an id and a version only; nothing to read
    with demo_ws.session() as s:
        counted = local.counts(s).get("flag", 0)
    with local.apply_session(demo_ws) as s:
        aside: list[str] = []
        applied, _skipped = incoming.apply_rows(
            s, incoming.prepare_page(_page("flag", cols, rows)), set(), aside
        )
    assert applied == 2 and len(aside) == 4
    with demo_ws.session() as s:
        stored = {f.id: f for f in s.scalars(select(m.Flag).where(m.Flag.id.in_(ids)))}
        assert set(stored) == {ids[0], ids[3]}
        kept = stored[ids[0]]
        assert (kept.code, kept.active, kept.deleted, kept.note) == (
            "frailty",
            True,
            False,
            "Falls twice",
        )
        assert kept.updated_by == (None if version == "another" else author)  # not sent: null
        assert kept.patient_id == patient_id and kept.server_version == 7
        active = select(m.Flag.id).where(m.Flag.id.in_(ids), m.Flag.active.is_(True))
        assert set(s.scalars(active)) == {ids[0], ids[3]}  # (as the caseload's flags ask)
        problems = {rid: info["problem"] for _e, rid, info in incoming.quarantined(s)}
        versions = {rid: info["v"] for _e, rid, info in incoming.quarantined(s)}
    assert problems == {
        ids[1].hex: "flag.since is a date this laptop cannot use",
        ids[2].hex: incoming.WRONG_SHAPE,
        ids[4].hex: incoming.WRONG_SHAPE,
        "": incoming.WRONG_SHAPE,
    }
    assert versions == {ids[1].hex: 7, ids[2].hex: 7, ids[4].hex: 7, "": 0}
    with demo_ws.session() as s:  # the 2 stored and the 3 live rows set aside, held: the
        assert local.counts(s)["flag"] == counted + 5  # server's count agrees (no re-download)
