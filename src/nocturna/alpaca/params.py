"""Request parameters: parsing and typing them as the Alpaca protocol says.

* GET parameters come in the query string and their keys are case-insensitive;
  PUT parameters come in an ``application/x-www-form-urlencoded`` body and their keys
  are case-sensitive (a required key in another casing is missing).
* Unknown parameters are ignored.
* Booleans are ``true``/``false`` in any casing; integers and numbers use the
  invariant culture (no thousands separators, ``.`` as the decimal point). A value
  that does not parse, or a missing required parameter, is a bad request (HTTP 400):
  the protocol layer could not understand it. A value that parses but is out of
  range is the device's business (ErrorNumber 0x401).
* ``ClientID`` and ``ClientTransactionID`` are optional unsigned 32-bit integers; one
  that is absent or not a valid uint32 counts as 0 ("a valid value was not
  supplied", AlpacaResponse), never an error (robustness principle). Their keys are
  matched case-insensitively in PUT bodies too.
"""

from __future__ import annotations

import math
import re
from collections.abc import Callable
from typing import Any
from urllib.parse import parse_qsl

from nocturna.alpaca.members import MemberSpec

UINT32_MAX = 0xFFFF_FFFF
INT32_MIN, INT32_MAX = -0x8000_0000, 0x7FFF_FFFF

_INTEGER = re.compile(r"[+-]?[0-9]+")
_NUMBER = re.compile(r"[+-]?(?:[0-9]+\.?[0-9]*|\.[0-9]+)(?:[eE][+-]?[0-9]+)?")


class BadRequest(Exception):
    """The request cannot be understood: HTTP 400 with this text."""


def parse_integer(name: str, text: str) -> int:
    if _INTEGER.fullmatch(text) is None:
        raise BadRequest(f"parameter {name}={text!r} is not an integer")
    value = int(text)
    if not INT32_MIN <= value <= INT32_MAX:
        raise BadRequest(f"parameter {name}={text!r} is outside the 32-bit integer range")
    return value


def parse_number(name: str, text: str) -> float:
    if _NUMBER.fullmatch(text) is None:
        raise BadRequest(f"parameter {name}={text!r} is not a number (invariant culture, "
                         "'.' decimal point)")
    value = float(text)
    if not math.isfinite(value):
        raise BadRequest(f"parameter {name}={text!r} is out of the double range")
    return value


def parse_boolean(name: str, text: str) -> bool:
    lowered = text.lower()
    if lowered == "true":
        return True
    if lowered == "false":
        return False
    raise BadRequest(f"parameter {name}={text!r} is not true or false")


def parse_string(name: str, text: str) -> str:
    return text


PARSERS: dict[str, Callable[[str, str], Any]] = {
    "integer": parse_integer, "number": parse_number, "boolean": parse_boolean,
    "string": parse_string,
}


def uint32(text: str | None) -> int:
    """A transaction id or client id: its value, or 0 when absent or invalid."""
    if text is None or not text.isascii() or not text.isdigit():
        return 0
    value = int(text)
    return value if value <= UINT32_MAX else 0


class ParamSpec:
    """How one operation reads its parameters (precomputed for speed)."""

    __slots__ = ("fields", "method", "required")

    def __init__(self, spec: MemberSpec) -> None:
        self.method = spec.method
        # (spec-cased name, lookup key, parser)
        key = str.lower if spec.method == "GET" else str
        self.fields = tuple((name, key(name), PARSERS[kind])
                            for name, kind in spec.params.items())
        self.required = frozenset(spec.required)

    def parse(self, pairs: dict[str, str]) -> dict[str, Any]:
        """Typed arguments from the request's keys (lower-cased for GET)."""
        args: dict[str, Any] = {}
        for name, key, parser in self.fields:
            text = pairs.get(key)
            if text is None:
                if name in self.required:
                    raise BadRequest(f"missing required parameter {name}"
                                     + (" (form keys are case-sensitive)"
                                        if self.method == "PUT" else ""))
                continue
            args[name] = parser(name, text)
        return args


def query_pairs(query: bytes) -> dict[str, str]:
    """GET query parameters, keys lower-cased (the first of repeated keys wins)."""
    pairs: dict[str, str] = {}
    if query:
        for key, value in parse_qsl(query.decode("utf-8", errors="replace"),
                                    keep_blank_values=True):
            pairs.setdefault(key.lower(), value)
    return pairs


def form_pairs(body: bytes) -> dict[str, str]:
    """PUT form parameters, keys as sent (the first of repeated keys wins)."""
    pairs: dict[str, str] = {}
    if body:
        try:
            text = body.decode("utf-8")
        except UnicodeDecodeError:
            raise BadRequest("the form body is not UTF-8 text") from None
        for key, value in parse_qsl(text, keep_blank_values=True):
            pairs.setdefault(key, value)
    return pairs


def transaction_ids(pairs: dict[str, str], *, lowered: bool) -> tuple[int, int]:
    """(ClientID, ClientTransactionID) from the request's pairs."""
    if lowered:
        return uint32(pairs.get("clientid")), uint32(pairs.get("clienttransactionid"))
    client = transaction = None
    for key, value in pairs.items():
        lower = key.lower()
        if lower == "clientid" and client is None:
            client = value
        elif lower == "clienttransactionid" and transaction is None:
            transaction = value
    return uint32(client), uint32(transaction)
