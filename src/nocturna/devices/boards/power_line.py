"""The PANOPTES power board's lines and commands (POCS ``resources/arduino/PowerBoard``).

An Arduino Uno with an Infineon 24 V relay shield, 9600 baud. About every 1.5 s it
prints one JSON object on a line::

    {"ac_ok":true,"battery_low":false,"relays":[true,true,true,true,true],
     "readings":[120,0,80,0,200],"name":"power_board","uptime":1234}

``ac_ok``/``battery_low`` come from the UPS, ``relays`` says which of the five relays
are on, ``readings`` are the raw current-sense values of the PROFETs (ADC counts,
0-1023; the fifth is the mean of two reads) and ``uptime`` is in seconds. A command is
one JSON object, ``{"relay":<0-4>,"power":<n>}`` with n = 0 off, 1 on, 2 toggle,
3 cycle (off 5 s, then on). The firmware, after acting, also sets the relay on if n is
1 and off otherwise, so toggle and cycle end with the relay off: nocturna sends only
0 and 1.
"""

from __future__ import annotations

import json
from dataclasses import dataclass

from nocturna.devices.boards.lines import bool_field, decode_line, number_field
from nocturna.devices.serial.line import SerialProtocolError

BOARD = "power_board"
OFF, ON, TOGGLE, CYCLE = 0, 1, 2, 3
ADC_MAX = 1023


@dataclass(frozen=True)
class PowerReading:
    """One line of the power board."""

    ac_ok: bool
    battery_low: bool
    relays: tuple[bool, ...]
    readings: tuple[int, ...]
    uptime_s: float | None = None


def parse_power(raw: bytes, relay_count: int | None = None) -> PowerReading:
    """A power board line (without its newline); SerialProtocolError if it is not one,
    or if it does not have ``relay_count`` relays."""
    data = decode_line(raw, BOARD)
    relays, readings = data.get("relays"), data.get("readings")
    if not isinstance(relays, list) or not relays \
            or not all(isinstance(r, bool) or r in (0, 1) for r in relays):
        raise SerialProtocolError(f"{BOARD}: relays is {relays!r}, not a list of "
                                  f"true/false, in {raw!r}")
    if not isinstance(readings, list) or len(readings) != len(relays) or not all(
            not isinstance(r, bool) and isinstance(r, int) and 0 <= r <= ADC_MAX
            for r in readings):
        raise SerialProtocolError(f"{BOARD}: readings is {readings!r}, not {len(relays)} "
                                  f"current readings (0-{ADC_MAX}), in {raw!r}")
    if relay_count is not None and len(relays) != relay_count:
        raise SerialProtocolError(f"{BOARD}: the line has {len(relays)} relays, the "
                                  f"driver is set up for {relay_count}: {raw!r}")
    return PowerReading(
        ac_ok=bool_field(data, "ac_ok", raw, BOARD),
        battery_low=bool_field(data, "battery_low", raw, BOARD),
        relays=tuple(bool(r) for r in relays), readings=tuple(readings),
        uptime_s=number_field(data, "uptime", raw, BOARD))


def encode_power(reading: PowerReading) -> bytes:
    """The line for ``reading`` (keys in the firmware's order), with its newline."""
    data: dict[str, object] = {"ac_ok": reading.ac_ok, "battery_low": reading.battery_low,
                               "relays": list(reading.relays),
                               "readings": list(reading.readings), "name": BOARD}
    if reading.uptime_s is not None:
        data["uptime"] = int(reading.uptime_s)
    return json.dumps(data, separators=(",", ":")).encode() + b"\n"


def encode_command(relay: int, power: int) -> bytes:
    """The command setting ``relay`` (0 off, 1 on, 2 toggle, 3 cycle), with a newline."""
    return json.dumps({"relay": relay, "power": power}, separators=(",", ":")).encode() + b"\n"
