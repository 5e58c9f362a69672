"""Alpaca safety monitor client (ASCOM ISafetyMonitor over HTTP)."""

from __future__ import annotations

from nocturna.devices.alpaca.device import REQUIRED, AlpacaDevice, as_bool
from nocturna.devices.safety import SafetyInfo, SafetyMonitor, SafetyStatus


class AlpacaSafetyMonitor(AlpacaDevice, SafetyMonitor):
    """A safety monitor on an Alpaca server: its ``issafe`` verdict."""

    alpaca_type = "safetymonitor"
    device_state_since = 3

    async def _read_info(self) -> SafetyInfo:
        remote = self.remote.name if self.remote is not None and self.remote.name else \
            f"safetymonitor {self.device_number}"
        return SafetyInfo(checks=[f"IsSafe of {remote} at {self.address}"])

    async def info(self) -> SafetyInfo:
        return self._info

    async def state(self) -> SafetyStatus:
        safe = as_bool((await self._values({"issafe": REQUIRED}, state=True))["issafe"])
        reasons = [] if safe else [f"the Alpaca safety monitor at {self.address} reports "
                                   "unsafe"]
        return SafetyStatus(is_safe=safe, reasons=reasons)
