"""The limits of a request to the configuration service, and reading its JSON body.

* At most :data:`MAX_BODY_BYTES` (1 MiB) of body: enforced by the HTTP server
  (:mod:`.httpserver`) while the body arrives, with 413.
* At most :data:`MAX_DEPTH` levels of nested arrays and objects (the configuration
  itself is 6 deep): checked on the raw text before it is parsed, since a deeply
  nested document exhausts the parser's recursion (400).
* A JSON object at the top level (400).
"""

from __future__ import annotations

import json
import re
from itertools import accumulate
from typing import Any

from nocturna.core.errors import InvalidValueError

MAX_BODY_BYTES = 1 << 20
MAX_DEPTH = 32

_STRING = re.compile(rb'"(?:[^"\\]|\\.)*"', re.DOTALL)
_NOT_BRACKET = bytes(b for b in range(256) if b not in b"[]{}")
_STEP = {ord("["): 1, ord("{"): 1, ord("]"): -1, ord("}"): -1}


def nesting_depth(raw: bytes) -> int:
    """How deeply arrays and objects nest in JSON text (brackets inside strings do not
    count)."""
    brackets = _STRING.sub(b"", raw).translate(None, _NOT_BRACKET)
    return max(accumulate(_STEP[b] for b in brackets), default=0)


def json_object(raw: bytes) -> dict[str, Any]:
    """The body as a JSON object (an empty body is an empty object)."""
    if not raw:
        return {}
    few_brackets = raw.count(b"[") + raw.count(b"{") <= MAX_DEPTH  # then it cannot be deep
    if not few_brackets and nesting_depth(raw) > MAX_DEPTH:
        raise InvalidValueError(
            f"request body nests arrays and objects deeper than {MAX_DEPTH} levels")
    try:
        data = json.loads(raw)
    except (ValueError, RecursionError) as exc:
        raise InvalidValueError(f"request body is not valid JSON: {exc}") from None
    if not isinstance(data, dict):
        raise InvalidValueError("request body must be a JSON object")
    return data
