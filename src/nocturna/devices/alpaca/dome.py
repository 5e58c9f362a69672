"""Alpaca dome client (ASCOM IDome over HTTP)."""

from __future__ import annotations

from typing import Any

from nocturna.devices.alpaca.device import (
    AlpacaDevice,
    as_bool,
    as_enum,
    optional_float,
)
from nocturna.devices.dome import Dome, DomeInfo, DomeStatus
from nocturna.devices.types import ShutterState

_CAPABILITIES = ("canfindhome", "canpark", "cansetaltitude", "cansetazimuth", "cansetpark",
                 "cansetshutter", "canslave", "cansyncazimuth")
_STATE: dict[str, Any] = {
    "shutterstatus": int(ShutterState.OPEN), "azimuth": None, "altitude": None,
    "athome": False, "atpark": False, "slewing": False, "slaved": False,
}


class AlpacaDome(AlpacaDevice, Dome):
    """A dome or roll-off roof on an Alpaca server.

    A dome that can neither set, sync nor slave its azimuth is taken for a roof; one
    without a shutter status (0x400) is reported open (nothing covers the telescope).
    """

    alpaca_type = "dome"
    device_state_since = 3

    async def _read_info(self) -> DomeInfo:
        v = {k: as_bool(x) for k, x in (await self._values(
            dict.fromkeys(_CAPABILITIES, False))).items()}
        return DomeInfo(
            is_roof=not (v["cansetazimuth"] or v["cansyncazimuth"] or v["canslave"]),
            can_find_home=v["canfindhome"], can_park=v["canpark"],
            can_set_altitude=v["cansetaltitude"], can_set_azimuth=v["cansetazimuth"],
            can_set_park=v["cansetpark"], can_set_shutter=v["cansetshutter"],
            can_slave=v["canslave"], can_sync_azimuth=v["cansyncazimuth"],
        )

    async def info(self) -> DomeInfo:
        return self._info

    async def state(self) -> DomeStatus:
        v = await self._values(_STATE, state=True)
        return DomeStatus(
            shutter_status=as_enum(ShutterState, v["shutterstatus"]),
            azimuth_deg=optional_float(v["azimuth"]), altitude_deg=optional_float(v["altitude"]),
            at_home=as_bool(v["athome"]), at_park=as_bool(v["atpark"]),
            slewing=as_bool(v["slewing"]), slaved=as_bool(v["slaved"]),
        )

    async def open_shutter(self) -> None:
        await self._put("openshutter")

    async def close_shutter(self) -> None:
        await self._put("closeshutter")

    async def abort_slew(self) -> None:
        await self._put("abortslew")

    async def slew_to_azimuth(self, azimuth_deg: float) -> None:
        await self._put("slewtoazimuth", Azimuth=float(azimuth_deg))

    async def slew_to_altitude(self, altitude_deg: float) -> None:
        await self._put("slewtoaltitude", Altitude=float(altitude_deg))

    async def sync_to_azimuth(self, azimuth_deg: float) -> None:
        await self._put("synctoazimuth", Azimuth=float(azimuth_deg))

    async def find_home(self) -> None:
        await self._put("findhome")

    async def park(self) -> None:
        await self._put("park")

    async def set_park(self) -> None:
        await self._put("setpark")

    async def set_slaved(self, slaved: bool) -> None:
        await self._put("slaved", Slaved=bool(slaved))
