"""Opaque, signed cursors: base64url JSON plus an HMAC, so a client cannot forge positions."""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
from typing import Any


class BadCursor(ValueError):
    """Unreadable, tampered with, or signed by another server key: the client must re-download."""


def encode(key: bytes, payload: dict[str, Any]) -> str:
    body = base64.urlsafe_b64encode(json.dumps(payload, separators=(",", ":")).encode()).decode()
    sig = hmac.new(key, body.encode(), hashlib.sha256).hexdigest()[:32]
    return f"{body}.{sig}"


def decode(key: bytes, token: str) -> dict[str, Any]:
    body, _, sig = token.rpartition(".")
    if not body.isascii() or not sig.isascii():  # (a forged cursor may hold anything)
        raise BadCursor("cursor is not readable")
    expected = hmac.new(key, body.encode(), hashlib.sha256).hexdigest()[:32]
    if not body or not hmac.compare_digest(sig.encode(), expected.encode()):
        raise BadCursor("cursor signature does not match")
    try:
        payload = json.loads(base64.urlsafe_b64decode(body.encode()))
    except ValueError:
        raise BadCursor("cursor is not readable") from None
    if not isinstance(payload, dict):
        raise BadCursor("cursor is not readable")
    return payload
