"""Alpaca ``safetymonitor`` members over :class:`~nocturna.devices.safety.SafetyMonitor`.

ISafetyMonitor asks ``IsSafe`` to read false, not to fail, while the device is not
connected (ASCOM ConformU checks it before connecting); the handler answers so when it
is called on a disconnected device.
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
