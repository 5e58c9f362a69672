"""Alpaca ``dome`` members over nocturna's :class:`~nocturna.devices.dome.Dome` (IDomeV3).

A method (or setting ``Slaved``) whose ``Can*`` flag is false answers "not
implemented"; so do the altitude and the azimuth of a dome that has none (a roll-off
roof). Azimuths must be in [0, 360) and altitudes in [0, 90], else "invalid value".
"""

from __future__ import annotations

import math
from typing import Any

from nocturna.alpaca.kinds.base import Args, Table
from nocturna.core.errors import InvalidValueError, NotImplementedByDeviceError
from nocturna.devices.dome import Dome
from nocturna.devices.types import ShutterState

table = Table()


def _require(device: Dome, allowed: bool, flag: str, member: str) -> None:
    if not allowed:
        raise NotImplementedByDeviceError(
            f"dome {device.name!r} does not implement {member} ({flag} is false)")


def _azimuth(value: float) -> float:
    if not math.isfinite(value) or not 0.0 <= value < 360.0:
        raise InvalidValueError(f"azimuth {value!r} is not in the range 0 <= azimuth < 360")
    return float(value)


def _altitude(value: float) -> float:
    if not math.isfinite(value) or not 0.0 <= value <= 90.0:
        raise InvalidValueError(f"altitude {value!r} is not in the range 0..90")
    return float(value)


# ------------------------------------------------------------- capabilities
def _flag(member: str, field: str) -> None:
    async def read(device: Dome, args: Args) -> bool:
        return bool(getattr(await device.info(), field))

    table.get(member)(read)


for _member, _field in (
    ("canfindhome", "can_find_home"), ("canpark", "can_park"),
    ("cansetaltitude", "can_set_altitude"), ("cansetazimuth", "can_set_azimuth"),
    ("cansetpark", "can_set_park"), ("cansetshutter", "can_set_shutter"),
    ("canslave", "can_slave"), ("cansyncazimuth", "can_sync_azimuth"),
):
    _flag(_member, _field)


# ------------------------------------------------------------------- state
@table.get("altitude")
async def altitude(device: Dome, args: Args) -> float:
    value = (await device.state()).altitude_deg
    if value is None:
        raise device.not_implemented("Altitude (it has no altitude axis)")
    return float(value)


@table.get("azimuth")
async def azimuth(device: Dome, args: Args) -> float:
    value = (await device.state()).azimuth_deg
    if value is None:
        raise device.not_implemented("Azimuth (it has no azimuth axis)")
    return float(value)


@table.get("athome")
async def at_home(device: Dome, args: Args) -> bool:
    return (await device.state()).at_home


@table.get("atpark")
async def at_park(device: Dome, args: Args) -> bool:
    return (await device.state()).at_park


@table.get("shutterstatus")
async def shutter_status(device: Dome, args: Args) -> ShutterState:
    return (await device.state()).shutter_status


@table.get("slewing")
async def slewing(device: Dome, args: Args) -> bool:
    return (await device.state()).slewing


@table.get("slaved")
async def slaved(device: Dome, args: Args) -> bool:
    return (await device.state()).slaved


@table.put("slaved")
async def set_slaved(device: Dome, args: Args) -> None:
    _require(device, (await device.info()).can_slave, "CanSlave", "Slaved")
    await device.set_slaved(bool(args["Slaved"]))


# ----------------------------------------------------------------- methods
@table.put("abortslew")
async def abort_slew(device: Dome, args: Args) -> None:
    await device.abort_slew()


@table.put("openshutter")
async def open_shutter(device: Dome, args: Args) -> None:
    _require(device, (await device.info()).can_set_shutter, "CanSetShutter", "OpenShutter")
    await device.open_shutter()


@table.put("closeshutter")
async def close_shutter(device: Dome, args: Args) -> None:
    _require(device, (await device.info()).can_set_shutter, "CanSetShutter", "CloseShutter")
    await device.close_shutter()


@table.put("findhome")
async def find_home(device: Dome, args: Args) -> None:
    _require(device, (await device.info()).can_find_home, "CanFindHome", "FindHome")
    await device.find_home()


@table.put("park")
async def park(device: Dome, args: Args) -> None:
    _require(device, (await device.info()).can_park, "CanPark", "Park")
    await device.park()


@table.put("setpark")
async def set_park(device: Dome, args: Args) -> None:
    _require(device, (await device.info()).can_set_park, "CanSetPark", "SetPark")
    await device.set_park()


@table.put("slewtoaltitude")
async def slew_to_altitude(device: Dome, args: Args) -> None:
    _require(device, (await device.info()).can_set_altitude, "CanSetAltitude",
             "SlewToAltitude")
    await device.slew_to_altitude(_altitude(args["Altitude"]))


@table.put("slewtoazimuth")
async def slew_to_azimuth(device: Dome, args: Args) -> None:
    _require(device, (await device.info()).can_set_azimuth, "CanSetAzimuth", "SlewToAzimuth")
    await device.slew_to_azimuth(_azimuth(args["Azimuth"]))


@table.put("synctoazimuth")
async def sync_to_azimuth(device: Dome, args: Args) -> None:
    _require(device, (await device.info()).can_sync_azimuth, "CanSyncAzimuth",
             "SyncToAzimuth")
    await device.sync_to_azimuth(_azimuth(args["Azimuth"]))


HANDLERS = table.handlers


async def device_state(device: Dome) -> dict[str, Any]:
    """Altitude, AtHome, AtPark, Azimuth, ShutterStatus, Slewing (axes it lacks omitted)."""
    state = await device.state()
    values: dict[str, Any] = {}
    if state.altitude_deg is not None:
        values["Altitude"] = float(state.altitude_deg)
    values["AtHome"] = state.at_home
    values["AtPark"] = state.at_park
    if state.azimuth_deg is not None:
        values["Azimuth"] = float(state.azimuth_deg)
    values["ShutterStatus"] = state.shutter_status
    values["Slewing"] = state.slewing
    return values
