"""Opaque, signed pull cursors (itsdangerous): a client can read its position but not forge one.

A cursor is itsdangerous's URL-safe compact JSON (zlib-compressed when that is shorter) and an
HMAC-SHA256 of it under the server's key. A cursor in the older hand-signed form (``<base64
JSON>.<32 hex digits>``, before this module used itsdangerous) does not verify: the pull answers
410, and the laptop re-downloads its scope, keeping every unsent edit in its outbox
(``tests/test_sync_engine.py::test_a_cursor_in_the_old_format_redownloads_and_keeps_unsent_edits``).
"""

from __future__ import annotations

import functools
import hashlib
from typing import Any

from itsdangerous import BadData, URLSafeSerializer

_SALT = "int-desk.pull-cursor"


class BadCursor(ValueError):
    """Unreadable, tampered with, or signed by another server key: the client must re-download."""


@functools.lru_cache(maxsize=8)  # one a server key; made once, not per pull
def _serializer(key: bytes) -> URLSafeSerializer:
    return URLSafeSerializer(key, salt=_SALT, signer_kwargs={"digest_method": hashlib.sha256})


def encode(key: bytes, payload: dict[str, Any]) -> str:
    token = _serializer(key).dumps(payload)
    return token if isinstance(token, str) else token.decode()


def decode(key: bytes, token: str) -> dict[str, Any]:
    if not token.isascii():  # a forged cursor may hold anything, lone surrogates too
        raise BadCursor("cursor is not readable")
    try:
        payload = _serializer(key).loads(token)
    except BadData:
        raise BadCursor("cursor signature does not match") from None
    if not isinstance(payload, dict):
        raise BadCursor("cursor is not readable")
    return payload
