"""Sync protocol v1: request shapes (pydantic), headers, limits. See docs/sync-protocol.md.

Responses are plain JSON objects described in the document; the server writes pull pages
straight from stored JSON text, so they have no pydantic model on the hot path.
"""

from __future__ import annotations

import uuid
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, StrictBool, StrictInt, StrictStr

PROTOCOL_VERSION = 1
PROTOCOL_HEADER = "X-IntDesk-Protocol"
# The endpoint database's generation (every answer; a laptop sends back the one it synced with).
# An older one is answered 409 with the new one and, in RESTORED_SINCE_HEADER, the version
# above which changes were made after the restore (int_desk/server/backup.py).
GENERATION_HEADER = "X-IntDesk-Generation"
RESTORED_SINCE_HEADER = "X-IntDesk-Restored-Since"
# An endpoint that answers a whole cycle in one request (``POST /v1/cycle``) says so on its sync
# answers; a laptop that has seen it sends its cycles there (docs/sync-protocol.md).
CYCLE_HEADER = "X-IntDesk-Cycle"
CYCLE_PATH = "/v1/cycle"
MAX_BODY_BYTES = 8 * 1024 * 1024
MAX_OPS_PER_BATCH = 1000
MAX_FIELDS_PER_OP = 64
PUSH_BATCH = 250
PULL_PAGE = 2000
MAX_PULL_PAGE = 5000

# Per-op results
APPLIED = "applied"
CONFLICT = "conflict"
REJECTED = "rejected"


class _Strict(BaseModel):
    # Lax only where JSON has no native type (UUIDs arrive as strings); numbers, booleans and
    # text must arrive as themselves, so "5" for a version is a 422, not a silent coercion.
    model_config = ConfigDict(extra="forbid")


class Op(_Strict):
    """One edit of one row: the changed fields (all of them for an insert) and its base version."""

    op_id: uuid.UUID
    entity: StrictStr = Field(min_length=1, max_length=40)
    id: uuid.UUID
    kind: Literal["insert", "update"]
    base_version: StrictInt | None = Field(default=None, ge=0)
    fields: dict[str, Any] = Field(max_length=MAX_FIELDS_PER_OP)
    resolves_conflict: uuid.UUID | None = None


class PushRequest(_Strict):
    batch_id: uuid.UUID
    ops: list[Op] = Field(min_length=1, max_length=MAX_OPS_PER_BATCH)


class PullRequest(_Strict):
    cursor: StrictStr | None = Field(default=None, max_length=4096)
    limit: StrictInt = Field(default=PULL_PAGE, ge=1, le=MAX_PULL_PAGE)
    # A full (re-)download pages by entity and id instead of by change sequence.
    full: StrictBool = False
    after: StrictStr | None = Field(default=None, max_length=4096)  # opaque token for full download
    # How a full page is written: "rows" (each change an object, as incremental pages) or
    # "columns" (per entity the column names once, then each row as an array; see
    # docs/sync-protocol.md). Asked for by the client; an endpoint may answer either, so the
    # client reads whichever comes. Incremental pages are always "rows".
    form: Literal["rows", "columns"] = "rows"


class CyclePull(_Strict):
    """The pull of a one-request cycle: incremental only (a full download pages on its own)."""

    cursor: StrictStr = Field(min_length=1, max_length=4096)
    limit: StrictInt = Field(default=PULL_PAGE, ge=1, le=MAX_PULL_PAGE)


class CycleRequest(_Strict):
    """A whole sync cycle in one request: push (when the outbox holds anything), then one
    incremental page, then (asked for) the verify counts: as the three requests would answer."""

    push: PushRequest | None = None
    pull: CyclePull
    verify: StrictBool = False
