"""A delete never silently beats an edit, on every entity that can be deleted: two laptops of the
same person (so only the order of events differs), one deletes a row while the other edits it.

- Delete first, edit second: the edit is not applied to the deleted row; the editing laptop's
  conflict holds both sides (its edit, and "Deleted"); "keep mine" restores the row with the
  edit, on the server and then on the other laptop.
- Edit first, delete second: the delete is the conflict and the server keeps the edited row.
"""

from __future__ import annotations

import json
import uuid
from pathlib import Path
from typing import Any

from sqlalchemy import select

from int_desk.server import admin
from int_desk.server.models import Record, ServerUser
from int_desk.services import sync_conflicts
from int_desk.services.identity import actor_for
from int_desk.store.sync_tables import SyncConflict
from int_desk.store.wire_entities import SYNCED_BY_NAME
from int_desk.store.workspace import Workspace
from int_desk.wire import schema
from tests.conftest import PASSPHRASE
from tests.helpers.sync_env import Endpoint, laptop, sync

# One content field per entity a person can edit, and the edited value.
EDITS: dict[str, tuple[str, Any]] = {
    "cohort": ("description", "Edited on the other laptop"),
    "patient": ("phone", "01632 960123"),
    "flag": ("note", "Edited on the other laptop"),
    "cohort_membership": ("enrol_reason", "Edited on the other laptop"),
    "care_team_participant": ("note", "Edited"),
    "care_plan": ("what_matters", "Edited on the other laptop"),
    "goal": ("target_measure", "Edited on the other laptop"),
    "plan_action": ("when", "Edited"),
    "task": ("description", "Edited on the other laptop"),
    "contact": ("text", "Edited on the other laptop"),
    "referral": ("outcome", "Edited on the other laptop"),
    "escalation": ("reason", "Edited on the other laptop"),
    "health_event": ("source", "Edited"),
    "huddle": ("minutes", "Edited on the other laptop"),
    "huddle_item": ("outcome", "Edited on the other laptop"),
    "saved_view": ("name", "Edited"),
    "team_membership": ("visiting", True),  # by an administrator (manage members)
}
CENTRAL = {"place", "organisation", "member", "team"}  # not deleted by laptops
NOTHING_TO_EDIT = {"huddle_attendee"}  # only what places it: deleted or not, never edited
KEPT_AS_SENT = {"gp_notification"}  # what the GP was told: never edited (a clinician may withdraw)


def test_every_deletable_entity_is_covered() -> None:
    assert set(EDITS) | CENTRAL | NOTHING_TO_EDIT | KEPT_AS_SENT == set(schema.ENTITIES)
    for entity in NOTHING_TO_EDIT:
        editable = set(schema.ENTITIES[entity].columns) - schema.META_FIELDS - {"deleted"}
        assert editable <= {"huddle_id", "member_id"}


def _second_device(ep: Endpoint, user: str, name: str) -> str:
    with ep.session() as s:
        ep.tokens[name] = admin.issue_token(s, user, f"{name} laptop")[1]
    return name


def _member(ep: Endpoint, user: str) -> uuid.UUID:
    with ep.session() as s:
        member = s.scalar(select(ServerUser.member_id).where(ServerUser.name == user))
        assert member is not None
        return member


def _model(entity: str) -> Any:
    return SYNCED_BY_NAME[entity]


def _pick(ws: Workspace, entities: list[str]) -> dict[str, uuid.UUID]:
    out = {}
    with ws.session() as s:
        for entity in entities:
            model = _model(entity)
            row = s.scalars(
                select(model).where(model.deleted.is_(False), model.server_version.is_not(None))
                .order_by(model.id)
            ).first()  # fmt: skip
            assert row is not None, entity
            out[entity] = row.id
    return out


def _set(ws: Workspace, rows: dict[str, uuid.UUID], **values: Any) -> None:
    with ws.session() as s:
        for entity, rid in rows.items():
            row = s.get(_model(entity), rid)
            field, value = EDITS[entity]
            if "deleted" in values:
                row.deleted = values["deleted"]
            else:
                setattr(row, field, value)


def _server(ep: Endpoint, entity: str, rid: uuid.UUID) -> tuple[bool, dict[str, Any]]:
    with ep.session() as s:
        rec = s.get(Record, (entity, rid))
        return rec.deleted, json.loads(rec.data)


def _round(ep: Endpoint, tmp: Path, user: str, entities: list[str]) -> None:
    deleter = laptop(tmp / f"{user}-del", ep, _second_device(ep, user, f"{user}-2"), PASSPHRASE)
    editor = laptop(tmp / f"{user}-edit", ep, user, PASSPHRASE)
    try:
        sync(deleter)
        sync(editor)
        member = _member(ep, user)

        # --- delete first, edit second ---------------------------------------------------
        rows = _pick(editor, entities)
        _set(deleter, rows, deleted=True)
        assert sync(deleter).pushed == len(rows)
        _set(editor, rows)  # (offline: it has not seen the delete)
        result = sync(editor)
        assert result.conflicts == len(rows), result
        with editor.session() as s:
            actor = actor_for(s, member)
            views = sync_conflicts.list_conflicts(session=s, actor=actor)
            by_entity = {v.entity: v for v in views}
            assert set(by_entity) == set(rows)
            for entity, view in by_entity.items():
                field, value = EDITS[entity]
                assert view.field == "deleted" and view.remote_text == "Deleted"
                assert str(value) in view.local_text  # the edit is held by the conflict
                assert s.get(_model(entity), rows[entity]).deleted  # the row is as the server's
        for entity, rid in rows.items():
            assert _server(ep, entity, rid)[0]  # nothing applied to the deleted row
        with editor.session() as s:
            actor = actor_for(s, member)
            for view in views:
                sync_conflicts.resolve_conflict(
                    session=s, actor=actor, conflict_id=view.id, choice="local"
                )
        sync(editor)
        for entity, rid in rows.items():
            field, value = EDITS[entity]
            deleted, data = _server(ep, entity, rid)
            assert not deleted and data[field] == value, entity  # restored, with the edit
        sync(deleter)
        with deleter.session() as s:
            for entity, rid in rows.items():
                field, value = EDITS[entity]
                row = s.get(_model(entity), rid)
                assert not row.deleted and getattr(row, field) == value, entity

        # --- edit first, delete second -----------------------------------------------------
        with editor.session() as s:  # other rows, so this half starts clean
            for entity, rid in rows.items():
                model = _model(entity)
                rows[entity] = s.scalars(
                    select(model.id).where(model.deleted.is_(False), model.id != rid,
                                           model.server_version.is_not(None)).order_by(model.id)
                ).first()  # fmt: skip
        sync(deleter)
        _set(editor, rows)
        assert sync(editor).pushed == len(rows)
        _set(deleter, rows, deleted=True)  # (offline: it has not seen the edit)
        assert sync(deleter).conflicts == len(rows)
        for entity, rid in rows.items():
            field, value = EDITS[entity]
            deleted, data = _server(ep, entity, rid)
            assert not deleted and data[field] == value, entity  # the edit stands
        with deleter.session() as s:
            open_ = s.scalars(select(SyncConflict).where(SyncConflict.status == "open")).all()
            assert {c.entity for c in open_} == set(rows)
            assert all(c.field == "deleted" and c.local_value is True for c in open_)
    finally:
        deleter.close()
        editor.close()


def test_delete_against_edit_keeps_the_edit_on_every_entity(
    sqlite_endpoint: Endpoint, demo_ws: Workspace, tmp_path: Path
) -> None:
    ep = sqlite_endpoint
    _add_missing_rows(ep)
    coordinator = [e for e in EDITS if e != "team_membership"]
    _round(ep, tmp_path, "a", coordinator)
    with demo_ws.session() as s:  # an administrator (manage members) for team memberships
        from int_desk.store import models as m

        admin_member = s.scalar(
            select(m.Member.id).join(m.TeamMembership, m.TeamMembership.member_id == m.Member.id)
            .where(m.Member.role == "admin", m.TeamMembership.team_id == uuid.UUID(
                ep.teams["Bicester INT"]))
        )  # fmt: skip
    with ep.session() as s:
        admin.add_user(s, "adm", ["Bicester INT"], member_id=admin_member)
        ep.tokens["adm"] = admin.issue_token(s, "adm", "adm laptop")[1]
    _round(ep, tmp_path, "adm", ["team_membership"])


def _add_missing_rows(ep: Endpoint) -> None:
    """The demo has no care-team participants or saved views: two of each, pushed by ``a``."""
    member = _member(ep, "a")
    with ep.session() as s:
        patients = s.scalars(
            select(Record.id).where(Record.entity == "patient",
                                    Record.scope == ep.teams["Bicester INT"]).order_by(Record.id)
        ).all()[:2]  # fmt: skip
    now = "2026-11-21T10:00:00.000000+00:00"
    base = {"created_at": now, "updated_at": now, "created_by": None, "updated_by": None,
            "deleted": False}  # fmt: skip
    ops = []
    for pid in patients:
        ops.append(("care_team_participant", {**base, "patient_id": str(pid),
                                              "member_id": str(member), "note": "Weekly"}))  # fmt: skip
        ops.append(("saved_view", {**base, "member_id": str(member), "name": "Mine",
                                   "filters": {}}))  # fmt: skip
    with ep.http("a") as client:
        body = {
            "batch_id": str(uuid.uuid4()),
            "ops": [{"op_id": str(uuid.uuid4()), "entity": e, "id": str(uuid.uuid4()),
                     "kind": "insert", "fields": f} for e, f in ops],
        }  # fmt: skip
        results = client.post("/v1/push", json=body).json()["results"]
    assert all(r["status"] == "applied" for r in results), results
