"""The azcam command protocol's text: request lines in, reply lines out.

A request is one line, ``tool.method arg1 arg2 key=value …``, split shell-style:
whitespace separates tokens, single or double quotes group words and are removed, a
backslash escapes the next character outside single quotes. ``#`` is an ordinary
character (azcam's parser treats it as a comment; a title like ``"field #3"`` must
survive). A token ``name=value`` whose name is a Python identifier is a keyword
argument; any other token is positional. A first token without a dot names a method
of the default tool; a tool name may itself be dotted (``exposure.sendimage``: the
part before the last dot is the tool).

A reply is one line ending in CRLF: ``OK``, ``OK <payload>``, ``ERROR <message>`` or
``WARNING <message>``. Payloads: None → ``OK``; a string as is; a number plainly; a
bool as ``True``/``False``; a list space-joined, items with spaces, quotes or nothing
in them quoted so ``shlex.split`` gives the items back; a dict as JSON. Line breaks
inside a payload or message are written as ``\\n`` so a reply stays one line.
"""

from __future__ import annotations

import json
import math
import re
import shlex
from dataclasses import dataclass, field
from typing import Any

from nocturna.core.errors import InvalidValueError

_KEYWORD = re.compile(r"^([A-Za-z_][A-Za-z0-9_]*)=(.*)$", re.DOTALL)
_SPACE = re.compile(r"[ \t\r\n]+")  # shlex's whitespace
_TOOL_METHOD = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*(\.[A-Za-z_][A-Za-z0-9_]*)*$")


@dataclass(frozen=True)
class Request:
    """One parsed request line."""

    tool: str | None  # None: the default tool
    method: str
    args: tuple[str, ...] = ()
    kwargs: dict[str, str] = field(default_factory=dict)

    @property
    def name(self) -> str:
        return self.method if self.tool is None else f"{self.tool}.{self.method}"


def tokenize(line: str) -> list[str]:
    """Split a request line shell-style, quotes removed."""
    if not any(c in line for c in "'\"\\"):
        return [t for t in _SPACE.split(line) if t]  # nothing to unquote: same tokens, faster
    lexer = shlex.shlex(line, posix=True)
    lexer.whitespace_split = True
    lexer.commenters = ""
    try:
        return list(lexer)
    except ValueError as exc:  # "No closing quotation", "No escaped character"
        raise InvalidValueError(f"cannot split the request: {str(exc).lower()}") from None


def parse_request(line: str) -> Request:
    """``tool.method args…`` → :class:`Request`; a clear error for a malformed line."""
    tokens = tokenize(line)
    if not tokens:
        raise InvalidValueError("empty request")
    command, rest = tokens[0], tokens[1:]
    if not _TOOL_METHOD.match(command):
        raise InvalidValueError(f"{printable(command)!r} is not a command: expected "
                                "tool.method or method")
    tool, _, method = command.rpartition(".")
    args: list[str] = []
    kwargs: dict[str, str] = {}
    for token in rest:
        keyword = _KEYWORD.match(token)
        if keyword is None:
            if kwargs:
                raise InvalidValueError(f"{command}: positional argument {printable(token)!r} "
                                        "after keyword arguments")
            args.append(token)
            continue
        name, value = keyword.groups()
        if name in kwargs:
            raise InvalidValueError(f"{command}: keyword {name!r} given twice")
        kwargs[name] = value
    return Request(tool or None, method, tuple(args), kwargs)


def format_payload(payload: Any) -> str:
    """The text of a reply's payload ('' for none)."""
    if payload is None:
        return ""
    if isinstance(payload, str):
        return one_line(payload)
    if isinstance(payload, bool):
        return "True" if payload else "False"
    if isinstance(payload, dict):
        return json.dumps(_jsonable(payload), separators=(", ", ": "))
    if isinstance(payload, list | tuple):
        return " ".join(_list_item(item) for item in payload)
    if hasattr(payload, "item") and callable(payload.item):  # numpy scalar
        return format_payload(payload.item())
    if isinstance(payload, float):
        return repr(payload) if math.isfinite(payload) else str(payload)
    return one_line(str(payload))


def ok(payload: Any = None) -> str:
    """An ``OK`` reply line (without the CRLF)."""
    text = format_payload(payload)
    return f"OK {text}" if text else "OK"


def error(message: str) -> str:
    """An ``ERROR`` reply line (without the CRLF)."""
    return f"ERROR {one_line(message)}".rstrip()


def exception_text(exc: BaseException, *, with_type: bool = True) -> str:
    """What an ``ERROR`` reply says about ``exc``: its message (after its type name when
    ``with_type``), never empty: an exception raised without one is said to be."""
    message = str(exc)
    if not message:
        return f"{type(exc).__name__} (raised without a message)"
    return f"{type(exc).__name__}: {message}" if with_type else message


def one_line(text: str) -> str:
    """``text`` with line breaks written as ``\\n``/``\\r`` so it stays one line."""
    if "\n" in text or "\r" in text:
        text = text.replace("\r", "\\r").replace("\n", "\\n")
    return text


def printable(text: str, limit: int = 60) -> str:
    """``text`` shortened for an error message."""
    return text if len(text) <= limit else text[:limit] + "…"


def _list_item(item: Any) -> str:
    if isinstance(item, dict | list | tuple):
        return shlex.quote(json.dumps(_jsonable(item)))
    text = format_payload(item)
    if text == "" or any(c.isspace() or c in "'\"\\" for c in text):
        return shlex.quote(text)
    return text


def _jsonable(value: Any) -> Any:
    """JSON-ready: NaN/inf become null, numpy scalars Python numbers, others strings."""
    if isinstance(value, dict):
        return {str(k): _jsonable(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_jsonable(v) for v in value]
    if isinstance(value, bool) or value is None or isinstance(value, int | str):
        return value
    if isinstance(value, float):
        return value if math.isfinite(value) else None
    if hasattr(value, "item") and callable(value.item):
        return _jsonable(value.item())
    return str(value)
