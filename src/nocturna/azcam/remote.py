"""Marking the tool methods that the azcam command server may call.

Only methods decorated with :func:`remote` are reachable over the network: the
command server never looks up arbitrary attributes. A remote method takes its
arguments as the annotated types (``str``, ``int``, ``float``, ``bool``, or an optional
of one); the server converts the request's text tokens and refuses a token that does
not convert, naming the argument. It may be a coroutine function. Its return value is
the reply's payload (None, str, number, bool, list or dict).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, TypeVar

F = TypeVar("F", bound=Callable[..., Any])

REMOTE_MARK = "__azcam_remote__"


def remote(func: F) -> F:
    """Declare ``func`` callable through the azcam command server."""
    setattr(func, REMOTE_MARK, True)
    return func


def remote_methods(tool: object) -> dict[str, Callable[..., Any]]:
    """The bound methods of ``tool`` declared :func:`remote`, by name."""
    methods: dict[str, Callable[..., Any]] = {}
    for cls in reversed(type(tool).__mro__):
        for name, value in vars(cls).items():
            if callable(value) and getattr(value, REMOTE_MARK, False):
                methods[name] = getattr(tool, name)
            elif name in methods and not getattr(value, REMOTE_MARK, False):
                del methods[name]  # overridden without the mark: not remote
    return methods
