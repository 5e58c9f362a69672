"""PANOPTES power board driver (the firmware's lines and commands: :mod:`.power_line`).

Channels, in order: one switch per relay, named by the ``relays`` option (five names by
default: mount, cameras, fans, weather, aux; the count must match the board's), each
0 (off) or 1 (on) and writable; then one read-only channel per relay with its current
sense reading (``<relay> current``, raw ADC counts 0-1023, 0 when off); then
``ac_ok`` and ``battery_low`` (read-only, 0 or 1, from the UPS).

``set_value`` sends ``{"relay":i,"power":0|1}`` and returns once a line from the board
shows the relay in that state (within ``switch_timeout_s``; :class:`SerialTimeoutError`
naming the relay otherwise); ``state_change_complete`` is false for
a relay while such a change is pending. The values come from the latest good line
(:mod:`.reader`; stale after ``stale_s``, then ``state()`` raises and the component
goes FAULT).

Not covered: the firmware's toggle (2) and cycle (3) commands, which leave the relay
off (see :mod:`.power_line`), renaming channels (``set_name``: names come from the
entry), and POCS's rolling mean of the currents (the latest reading is given as is).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from nocturna.core.errors import ConfigError, InvalidValueError, NotImplementedByDeviceError
from nocturna.devices.boards.power_line import ADC_MAX, PowerReading, encode_command, parse_power
from nocturna.devices.boards.reader import LineBoard, seconds_option
from nocturna.devices.switch import Switch, SwitchChannel, SwitchInfo, SwitchStatus

RELAYS = ("mount", "cameras", "fans", "weather", "aux")
"""Default relay names (the board's five relays, in order)."""
FLAGS = ("ac_ok", "battery_low")


class PowerBoard(LineBoard[PowerReading], Switch):
    """The PANOPTES power board as a switch (see the module docstring)."""

    driver_name = "power_board"
    board = "power board"
    default_baudrate = 9600
    extra_options = frozenset({"relays", "stale_s", "switch_timeout_s"})

    def __init__(self, name: str, *, relays: Sequence[str] = RELAYS,
                 switch_timeout_s: float = 5.0, **kwargs: Any) -> None:
        super().__init__(name, **kwargs)
        if isinstance(relays, str) or not isinstance(relays, Sequence) or not relays \
                or not all(isinstance(r, str) and r.strip() for r in relays) \
                or len(set(relays)) != len(relays):
            raise ConfigError(f"{name}.relays: expected a list of distinct relay names in "
                              f"the board's order, got {relays!r}")
        self.relays = [str(r) for r in relays]
        self.switch_timeout_s = seconds_option(name, "switch_timeout_s", switch_timeout_s)
        self._pending: set[int] = set()

    def parse(self, raw: bytes) -> PowerReading:
        return parse_power(raw, len(self.relays))

    # ------------------------------------------------------------ channels
    def _channels(self) -> list[SwitchChannel]:
        switches = [SwitchChannel(r, f"power board relay {i}: {r}", True, 0.0, 1.0, 1.0)
                    for i, r in enumerate(self.relays)]
        currents = [SwitchChannel(f"{r} current", f"current sense of relay {i} ({r}), ADC "
                                  "counts", False, 0.0, float(ADC_MAX), 1.0)
                    for i, r in enumerate(self.relays)]
        flags = [SwitchChannel("ac_ok", "UPS: mains power present", False, 0.0, 1.0, 1.0),
                 SwitchChannel("battery_low", "UPS: battery low", False, 0.0, 1.0, 1.0)]
        return switches + currents + flags

    async def info(self) -> SwitchInfo:
        return SwitchInfo(channels=self._channels())

    async def state(self) -> SwitchStatus:
        reading, _ = self.fresh()
        values = [float(on) for on in reading.relays] + [float(r) for r in reading.readings] \
            + [float(reading.ac_ok), float(reading.battery_low)]
        channels = self._channels()
        return SwitchStatus(values=values, names=[c.name for c in channels],
                            state_change_complete=[i not in self._pending
                                                   for i in range(len(channels))])

    async def set_value(self, channel: int, value: float) -> None:
        count = len(self._channels())
        if isinstance(channel, bool) or not isinstance(channel, int) \
                or not 0 <= channel < count:
            raise InvalidValueError(f"switch channel {channel!r} is not in 0..{count - 1}")
        if channel >= len(self.relays):
            raise NotImplementedByDeviceError(
                f"{self.kind} {self.name!r}: channel {channel} "
                f"({self._channels()[channel].name}) is read-only")
        if isinstance(value, bool) or value not in (0, 1):
            raise InvalidValueError(f"switch channel {channel} ({self.relays[channel]}): "
                                    f"{value!r} is not 0 (off) or 1 (on)")
        on = value == 1
        relay = self.relays[channel]
        async with self.line.exclusive():
            self._pending.add(channel)
            try:
                self.line.write(encode_command(channel, int(on)))
                await self.next_reading(lambda r: r.relays[channel] == on,
                                        self.switch_timeout_s,
                                        f"relay {channel} ({relay}) {'on' if on else 'off'}")
            finally:
                self._pending.discard(channel)
        self.publish("value.changed", channel=channel, name=relay, value=float(on))
