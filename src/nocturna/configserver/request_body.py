"""Reading a request's JSON body within limits, before it can hurt the service.

* At most :data:`MAX_BODY_BYTES` (1 MiB): a larger ``Content-Length`` is refused
  before any of the body is read, and a body sent without one (chunked) is refused
  as soon as it passes the limit, so it is never held in memory whole (HTTP 413).
* At most :data:`MAX_DEPTH` levels of nested arrays and objects (the configuration
  itself is 6 deep): checked on the raw text before it is parsed, since a deeply
  nested document exhausts the parser's recursion (HTTP 400).
* A JSON object at the top level (HTTP 400).
"""

from __future__ import annotations

import json
import re
from itertools import accumulate
from typing import Any

from starlette.requests import Request

from nocturna.core.errors import InvalidValueError

MAX_BODY_BYTES = 1 << 20
MAX_DEPTH = 32

_STRING = re.compile(rb'"(?:[^"\\]|\\.)*"', re.DOTALL)
_NOT_BRACKET = bytes(b for b in range(256) if b not in b"[]{}")
_STEP = {ord("["): 1, ord("{"): 1, ord("]"): -1, ord("}"): -1}


class RequestTooLargeError(InvalidValueError):
    """The request body is larger than the service accepts."""


def nesting_depth(raw: bytes) -> int:
    """How deeply arrays and objects nest in JSON text (brackets inside strings do not
    count). Cheap for ordinary bodies: with few brackets the depth cannot be large."""
    if raw.count(b"[") + raw.count(b"{") <= MAX_DEPTH:
        return raw.count(b"[") + raw.count(b"{")
    brackets = _STRING.sub(b"", raw).translate(None, _NOT_BRACKET)
    return max(accumulate(_STEP[b] for b in brackets), default=0)


def _too_large() -> RequestTooLargeError:
    return RequestTooLargeError(
        f"request body is larger than {MAX_BODY_BYTES:,} bytes, the most this service accepts")


async def read_body(request: Request) -> bytes:
    """The raw body, refused (413) past :data:`MAX_BODY_BYTES` without reading it all."""
    declared = request.headers.get("content-length")
    if declared is not None:
        if not declared.strip().isdigit():
            raise InvalidValueError(f"Content-Length {declared[:40]!r} is not a byte count")
        if int(declared) > MAX_BODY_BYTES:
            raise _too_large()
    chunks: list[bytes] = []
    size = 0
    async for chunk in request.stream():
        size += len(chunk)
        if size > MAX_BODY_BYTES:
            raise _too_large()
        chunks.append(chunk)
    return b"".join(chunks)


async def read_json_object(request: Request) -> dict[str, Any]:
    """The body as a JSON object (an empty body is an empty object)."""
    raw = await read_body(request)
    if not raw:
        return {}
    if nesting_depth(raw) > MAX_DEPTH:
        raise InvalidValueError(
            f"request body nests arrays and objects deeper than {MAX_DEPTH} levels")
    try:
        data = json.loads(raw)
    except (ValueError, RecursionError) as exc:
        raise InvalidValueError(f"request body is not valid JSON: {exc}") from None
    if not isinstance(data, dict):
        raise InvalidValueError("request body must be a JSON object")
    return data
