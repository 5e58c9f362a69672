"""Alpaca reply bodies: the transaction keys, JSON encoding, plain-text rejections.

Every JSON reply carries ``ClientTransactionID`` (the client's, or 0),
``ServerTransactionID`` (a process-wide counter starting at 1, one per request),
``ErrorNumber`` and ``ErrorMessage`` (``""`` on success), plus ``Value`` for members
that return one (only when they succeed).
"""

from __future__ import annotations

import itertools
import json
from typing import Any

import numpy as np

JSON_TYPE = b"application/json; charset=utf-8"
TEXT_TYPE = b"text/plain; charset=utf-8"
HTML_TYPE = b"text/html; charset=utf-8"

_counter = itertools.count(1)


def _plain(value: Any) -> Any:
    """numpy scalars and arrays as plain JSON values (anything else is refused)."""
    if isinstance(value, np.generic | np.ndarray):
        return value.tolist()
    raise TypeError(f"{type(value).__name__} values cannot be sent as JSON")


_encode = json.JSONEncoder(separators=(",", ":"), allow_nan=False, ensure_ascii=False,
                           default=_plain).encode


def next_server_id() -> int:
    """The next ServerTransactionID (process-wide, from 1; wraps within uint32)."""
    return (next(_counter) - 1) % 0xFFFF_FFFF + 1


def encode(value: Any) -> str:
    """Compact JSON (``ValueError`` for NaN or infinity, which JSON cannot carry)."""
    return _encode(value)


def success(value: Any, client_id: int, server_id: int, *, has_value: bool) -> bytes:
    """The body of a successful reply (``value`` already JSON-ready)."""
    head = f'{{"Value":{_encode(value)},' if has_value else "{"
    return (f'{head}"ClientTransactionID":{client_id},"ServerTransactionID":{server_id},'
            f'"ErrorNumber":0,"ErrorMessage":""}}').encode()


def failure(number: int, message: str, client_id: int, server_id: int) -> bytes:
    """The body of a reply whose operation failed (no ``Value``)."""
    return (f'{{"ClientTransactionID":{client_id},"ServerTransactionID":{server_id},'
            f'"ErrorNumber":{number},"ErrorMessage":{_encode(message or "error")}}}').encode()


def json_headers(length: int) -> list[tuple[bytes, bytes]]:
    return [(b"content-type", JSON_TYPE), (b"content-length", str(length).encode())]


def text_headers(length: int, content_type: bytes = TEXT_TYPE) -> list[tuple[bytes, bytes]]:
    return [(b"content-type", content_type), (b"content-length", str(length).encode())]
