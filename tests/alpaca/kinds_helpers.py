"""Helpers for the tests that call the Alpaca member handlers of one device kind directly."""

from __future__ import annotations

import json
from collections.abc import Awaitable, Callable, Mapping
from importlib.resources import files
from typing import Any

Call = Callable[..., Awaitable[Any]]


def caller(handlers: Mapping[tuple[str, str], Callable[..., Awaitable[Any]]]) -> tuple[Call, Call]:
    """The `get(device, member, **args)` and `put(...)` that call a kind's handlers."""

    async def get(device, member, **args):
        return await handlers[("GET", member)](device, args)

    async def put(device, member, **args):
        return await handlers[("PUT", member)](device, args)

    return get, put


async def connected(device):
    await device.connect()
    return device


def members(kind: str) -> set[tuple[str, str]]:
    """The (method, member) pairs the shipped members table lists for a device kind."""
    table = json.loads((files("nocturna.alpaca") / "members.json").read_text(encoding="utf-8"))
    return {(method, member) for member, ops in table[kind].items() for method in ops}
