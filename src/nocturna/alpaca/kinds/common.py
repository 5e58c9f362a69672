"""Members every device type shares (identity, connection, actions, DeviceState).

``Connect``/``Disconnect`` (Platform 7) start the operation and return at once;
``Connecting`` is true while one runs. Setting ``Connected`` connects or disconnects
before replying, as the older interfaces require. nocturna devices take no raw
commands, so ``CommandBlind``/``CommandBool``/``CommandString`` are not implemented
(0x400); ``Action`` goes to the device (an unknown action is 0x40C).
"""

from __future__ import annotations

import inspect
from typing import Any

from nocturna.alpaca.kinds import background
from nocturna.alpaca.kinds.base import Args, Table
from nocturna.core.errors import NotImplementedByDeviceError
from nocturna.devices.base import Device

table = Table()

CONNECTION_OPERATIONS = ("connect", "disconnect")


@table.put("action")
async def action(device: Device, args: Args) -> str:
    return await device.action(args["Action"], args["Parameters"])


def _no_raw_commands(member: str) -> NotImplementedByDeviceError:
    return NotImplementedByDeviceError(f"{member}: nocturna devices take no raw commands")


@table.put("commandblind")
async def command_blind(device: Device, args: Args) -> None:
    raise _no_raw_commands("CommandBlind")


@table.put("commandbool")
async def command_bool(device: Device, args: Args) -> bool:
    raise _no_raw_commands("CommandBool")


@table.put("commandstring")
async def command_string(device: Device, args: Args) -> str:
    raise _no_raw_commands("CommandString")


@table.put("connect")
async def connect(device: Device, args: Args) -> None:
    if not device.connected or background.running(device, "disconnect"):
        background.start(device, "connect", device.connect())


@table.put("disconnect")
async def disconnect(device: Device, args: Args) -> None:
    if device.connected or background.running(device, "connect"):
        await background.cancel(device, "connect")
        background.start(device, "disconnect", device.disconnect())


@table.get("connected")
async def get_connected(device: Device, args: Args) -> bool:
    return device.connected


@table.put("connected")
async def put_connected(device: Device, args: Args) -> None:
    await background.cancel(device, *CONNECTION_OPERATIONS)
    if args["Connected"]:
        await device.connect()
    else:
        await device.disconnect()


@table.get("connecting")
async def connecting(device: Device, args: Args) -> bool:
    return background.running(device, *CONNECTION_OPERATIONS)


@table.get("description")
async def description(device: Device, args: Args) -> str:
    return device.identity.description


@table.get("driverinfo")
async def driver_info(device: Device, args: Args) -> str:
    return device.identity.driver_info


@table.get("driverversion")
async def driver_version(device: Device, args: Args) -> str:
    return device.identity.driver_version


PLATFORM_7_INTERFACE_VERSIONS = {
    "camera": 4, "covercalibrator": 2, "dome": 3, "filterwheel": 3, "focuser": 4,
    "observingconditions": 2, "rotator": 4, "safetymonitor": 3, "switch": 3, "telescope": 4,
}
"""The interface versions of ASCOM Platform 7 (ICameraV4, ICoverCalibratorV2...): the
server implements their members (Connect, Disconnect, Connecting, DeviceState) for every
device, so it reports at least these, whatever older version a device declares."""


@table.get("interfaceversion")
async def interface_version(device: Device, args: Args) -> int:
    return max(device.identity.interface_version,
               PLATFORM_7_INTERFACE_VERSIONS.get(device.kind, 1))


@table.get("name")
async def name(device: Device, args: Args) -> str:
    return device.identity.name


@table.get("supportedactions")
async def supported_actions(device: Device, args: Args) -> list[str]:
    return list(device.supported_actions)


@table.get("devicestate")
async def device_state(device: Device, args: Args) -> list[dict[str, Any]]:
    """The kind's operational properties as ``{Name, Value}`` items, plus ``TimeStamp``."""
    from nocturna.alpaca.kinds import module_for

    values = module_for(device.kind).device_state(device)
    if inspect.isawaitable(values):
        values = await values
    items = [{"Name": key, "Value": value} for key, value in values.items()]
    items.append({"Name": "TimeStamp", "Value": device.clock.now()})
    return items


HANDLERS = table.handlers

DISCONNECTED_MEMBERS = frozenset({"connected", "connecting", "connect", "disconnect", "name",
                                  "description", "driverinfo", "driverversion",
                                  "interfaceversion", "supportedactions"})
"""Members that work while the device is disconnected (any other answers 0x407)."""
