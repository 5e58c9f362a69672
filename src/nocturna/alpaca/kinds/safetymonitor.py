"""Alpaca ``safetymonitor`` members over :class:`~nocturna.devices.safety.SafetyMonitor`.

ASCOM ConformU expects ``IsSafe`` to read false, not to fail, while the device is not
connected; the handler answers so when called on a disconnected device. The server
checks the connection before any handler and answers 0x407 (nocturna's rule for every
member but the connection and identity ones), so over HTTP that branch is not reached.
"""

from __future__ import annotations

from typing import Any

from nocturna.alpaca.kinds.base import Args, Table
from nocturna.devices.safety import SafetyMonitor

table = Table()


@table.get("issafe")
async def is_safe(device: SafetyMonitor, args: Args) -> bool:
    if not device.connected:
        return False
    return bool((await device.state()).is_safe)


HANDLERS = table.handlers


async def device_state(device: SafetyMonitor) -> dict[str, Any]:
    """IsSafe."""
    return {"IsSafe": bool((await device.state()).is_safe)}
