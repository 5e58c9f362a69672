"""Alpaca switch client (ASCOM ISwitch over HTTP)."""

from __future__ import annotations

import asyncio
from typing import Any

from nocturna.core.errors import InvalidValueError
from nocturna.devices.alpaca.device import (
    REQUIRED,
    AlpacaDevice,
    Unset,
    as_bool,
    as_float,
    as_int,
)
from nocturna.devices.switch import Switch, SwitchChannel, SwitchInfo, SwitchStatus

_CHANNEL: dict[str, Any] = {
    "getswitchname": REQUIRED, "getswitchdescription": "", "canwrite": False,
    "minswitchvalue": REQUIRED, "maxswitchvalue": REQUIRED, "switchstep": REQUIRED,
    "canasync": False,
}


class AlpacaSwitch(AlpacaDevice, Switch):
    """The channels of a switch device on an Alpaca server (read per channel at connect)."""

    alpaca_type = "switch"
    device_state_since = 3

    async def _read_info(self) -> SwitchInfo:
        count = as_int(await self._get("maxswitch"))
        channels = await asyncio.gather(*(self._read_channel(i) for i in range(count)))
        return SwitchInfo(channels=list(channels))

    async def _read_channel(self, channel: int) -> SwitchChannel:
        v = dict(zip(_CHANNEL, await asyncio.gather(
            *(self._value(member, default, Id=channel) for member, default in _CHANNEL.items())
        ), strict=True))
        return SwitchChannel(
            name=str(v["getswitchname"]), description=str(v["getswitchdescription"]),
            can_write=as_bool(v["canwrite"]), minimum=as_float(v["minswitchvalue"]),
            maximum=as_float(v["maxswitchvalue"]), step=as_float(v["switchstep"]),
            can_async=as_bool(v["canasync"]),
        )

    async def info(self) -> SwitchInfo:
        return self._info

    async def state(self) -> SwitchStatus:
        channels = range(len(self._info.channels))
        values, names, complete = await asyncio.gather(
            asyncio.gather(*(self._get("getswitchvalue", Id=i) for i in channels)),
            asyncio.gather(*(self._get("getswitchname", Id=i) for i in channels)),
            asyncio.gather(*(self._value("statechangecomplete", Unset(True), Id=i)
                             for i in channels)),
        )
        return SwitchStatus(values=[as_float(v) for v in values],
                            names=[str(n) for n in names],
                            state_change_complete=[as_bool(c) for c in complete])

    def _check(self, channel: int) -> None:
        count = len(self._info.channels)
        if isinstance(channel, bool) or not isinstance(channel, int) \
                or not 0 <= channel < count:
            raise InvalidValueError(f"switch {self.name!r}: channel {channel!r} is not in "
                                    f"0..{count - 1}")

    async def set_value(self, channel: int, value: float) -> None:
        self._check(channel)
        await self._put("setswitchvalue", Id=channel, Value=float(value))

    async def set_name(self, channel: int, name: str) -> None:
        self._check(channel)
        await self._put("setswitchname", Id=channel, Name=name)
