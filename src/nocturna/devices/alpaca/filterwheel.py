"""Alpaca filter wheel client (ASCOM IFilterWheel over HTTP)."""

from __future__ import annotations

from nocturna.core.errors import NocturnaError
from nocturna.devices.alpaca.device import AlpacaDevice, as_int, as_strings
from nocturna.devices.filterwheel import FilterWheel, FilterWheelInfo, FilterWheelStatus

DARK_NAMES = frozenset({"dark"})
"""A slot with one of these names (any case) is the dark slot, as for the simulator."""


class AlpacaFilterWheel(AlpacaDevice, FilterWheel):
    """A filter wheel on an Alpaca server: names and focus offsets, read at connect."""

    alpaca_type = "filterwheel"
    device_state_since = 3

    async def _read_info(self) -> FilterWheelInfo:
        v = await self._values({"names": [], "focusoffsets": []})
        names = as_strings(v["names"])
        offsets = [as_int(x) for x in v["focusoffsets"]] or [0] * len(names)
        if len(offsets) != len(names):
            raise NocturnaError(f"filterwheel {self.name!r}: the server lists {len(names)} "
                                f"names and {len(offsets)} focus offsets")
        dark = [i for i, name in enumerate(names) if name.lower() in DARK_NAMES]
        return FilterWheelInfo(names=names, focus_offsets=offsets,
                               dark_position=dark[0] if dark else None)

    async def info(self) -> FilterWheelInfo:
        return self._info

    async def state(self) -> FilterWheelStatus:
        position = as_int((await self._values({"position": -1}, state=True))["position"])
        names = self._info.names
        return FilterWheelStatus(position=position,
                                 name=names[position] if 0 <= position < len(names) else None)

    async def set_position(self, position: int) -> None:
        await self._put("position", Position=int(position))
