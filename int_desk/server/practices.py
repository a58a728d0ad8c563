"""The one piece of a team's set-up a laptop may push: a GP practice awaiting a name.

A first import on a connected laptop meets practice codes nobody has set up yet. It keeps
every person and makes each unknown practice from its ODS code alone (``team_setup.
add_awaiting_practices``), with the id derived from the code, so that laptops importing offline
make one practice, not several. The endpoint accepts exactly that insert from someone who may
import cohorts: no name, kind GP practice, the code's own id. An administrator names it later
(Administration page, ``int-desk admin add-practice CODE NAME``). Anything else about
organisations stays "managed centrally".
"""

from __future__ import annotations

from typing import Any

from sqlalchemy.orm import Session

from int_desk.domain import reference as ref
from int_desk.domain.errors import ValidationError
from int_desk.domain.permissions import Permission
from int_desk.domain.vocab import OrganisationKind
from int_desk.server.models import Record
from int_desk.wire import protocol as P


def is_awaiting_practice(entity: str, kind: str, fields: dict[str, Any]) -> bool:
    return (
        entity == "organisation"
        and kind == "insert"
        and fields.get("kind") == OrganisationKind.GP_PRACTICE.value
        and not (fields.get("name") or "").strip()
    )


def push_awaiting_practice(
    session: Session, who: Any, caller: Any, op: Any, fields: dict[str, Any]
) -> dict[str, Any] | None:
    """The op's result when it is a practice awaiting a name this caller may add; None when the
    op is something else (the ordinary write rules then decide, and refuse reference data)."""
    if not is_awaiting_practice(op.entity, op.kind, fields):
        return None
    from int_desk.server import directory  # it builds on engine_ops, which calls this

    may = getattr(who, "may", None)
    if may is None or not may(Permission.IMPORT_COHORT):
        return None
    try:
        code = ref.practice_code(str(fields.get("code") or ""))
    except ValidationError as exc:
        return {"op_id": str(op.op_id), "status": P.REJECTED, "reason": str(exc)}
    if op.id != ref.practice_id(code):
        return {
            "op_id": str(op.op_id),
            "status": P.REJECTED,
            "reason": "a practice awaiting a name must have the id its ODS code gives",
        }
    existing = session.get(Record, ("organisation", op.id))
    if existing is None:
        other = directory.find_practice(session, code)
        if other is not None:  # set up by hand with another id (e.g. seeded): not twice
            return {
                "op_id": str(op.op_id),
                "status": P.REJECTED,
                "reason": f"{code} is already a practice on the endpoint under another id; "
                "your administrator can tell you which",
            }
        member = getattr(who, "member_id", None)
        by = directory.Editor(caller.user_name, caller.user_id, caller.device_id, member)
        keep = {k: v for k, v in fields.items() if k in ("code", "kind", "name", "place_id")}
        existing = directory.save(session, "organisation", op.id, keep, base_version=None, by=by)
    # Already there (another laptop, or named since): this laptop just takes the stored row.
    return {"op_id": str(op.op_id), "status": P.APPLIED, "version": existing.version, "_row": True}
