"""What a device kind's Alpaca member table is made of.

Each module in this package (one per ASCOM device type, plus ``common``) exports

* ``HANDLERS``: ``{("GET" | "PUT", member): handler}`` with ``member`` the lower-case
  Alpaca member name, for every member :mod:`members.json <nocturna.alpaca.members>`
  lists for that kind (the test of the tables checks there is one for each);
* ``device_state(device) -> dict[str, Any]`` (not in ``common``): the operational
  properties the kind's ``DeviceState`` member returns, ASCOM-cased names → values.

A handler is ``async def handler(device, args) -> value``: ``device`` is the nocturna
device served, ``args`` the member's parameters already parsed and typed by the
server (keys exactly as the specification names them, e.g. ``"Duration"``, all the
required ones present, optional ones only when sent). It returns the ``Value``
(``None`` for a method: the reply then has no ``Value``) as plain Python: bool, int,
float, str, lists/dicts of those, an ``IntEnum`` or a ``datetime`` (the server
converts, see :func:`to_alpaca`). It raises nocturna's typed errors; the server turns
them into the ``ErrorNumber`` (``NotImplementedByDeviceError`` → 0x400, and so on).
The server checks the connection before calling a handler, so handlers need not.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from datetime import UTC, datetime
from enum import IntEnum
from typing import Any

from nocturna.core.errors import NotImplementedByDeviceError
from nocturna.devices.base import Device

Args = dict[str, Any]
Handler = Callable[[Device, Args], Awaitable[Any]]
HandlerTable = dict[tuple[str, str], Handler]


class Table:
    """Collects one kind's handlers: ``@table.get("name")`` / ``@table.put("name")``."""

    def __init__(self) -> None:
        self.handlers: HandlerTable = {}

    def _add(self, method: str, member: str) -> Callable[[Handler], Handler]:
        def register(handler: Handler) -> Handler:
            key = (method, member)
            if key in self.handlers:
                raise ValueError(f"two handlers for {method} {member}")
            self.handlers[key] = handler
            return handler

        return register

    def get(self, member: str) -> Callable[[Handler], Handler]:
        return self._add("GET", member)

    def put(self, member: str) -> Callable[[Handler], Handler]:
        return self._add("PUT", member)


async def require(device: Device, flag: str, what: str) -> Any:
    """The device's info, or 0x400 if its capability ``flag`` (an info field such as
    ``can_park``) is false; ``what`` names the refused member for the message."""
    info = await device.info()
    if not getattr(info, flag):
        raise NotImplementedByDeviceError(
            f"{device.kind} {device.name!r} does not implement {what} ({flag} is false)")
    return info


def alpaca_time(value: datetime) -> str:
    """ISO 8601 UTC with a ``Z``, as Alpaca dates are sent (e.g. UTCDate)."""
    if value.tzinfo is None:
        value = value.replace(tzinfo=UTC)
    return value.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.%f")[:-3] + "Z"


def to_alpaca(value: Any) -> Any:
    """A handler's return value as JSON-ready Alpaca data."""
    if isinstance(value, bool) or value is None:
        return value
    if isinstance(value, IntEnum):
        return int(value)
    if isinstance(value, datetime):
        return alpaca_time(value)
    if isinstance(value, list | tuple):
        return [to_alpaca(item) for item in value]
    if isinstance(value, dict):
        return {key: to_alpaca(item) for key, item in value.items()}
    return value
