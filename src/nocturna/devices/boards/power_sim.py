"""A simulated PANOPTES power board (kind ``power_board``), after its firmware.

Five relays, all on at power-up; a line (:mod:`.power_line`) when the line opens and
then every ``interval_s`` clock seconds. A relay that is on reads its load's current
(``loads``, ADC counts), one that is off reads 0. Commands are JSON objects
``{"relay":i,"power":n}`` in any chunking (newlines optional); what does not parse, or
names no relay, is dropped, as the firmware drops it. The firmware's quirk is kept:
after acting it sets the relay on for n = 1 and off otherwise, so toggle (2) and
cycle (3) leave it off, and a cycle stops the board for 5 s (no lines). ``ac_ok`` and
``battery_low`` are attributes a test may set (a power cut). Faults: ``go_silent`` and
``garble_next`` (a garbled line is still one line).
"""

from __future__ import annotations

import json
import logging

from nocturna.core.clock import Clock
from nocturna.devices.boards.power_line import CYCLE, ON, TOGGLE, PowerReading, encode_power
from nocturna.devices.boards.sim_support import garble_line, number_option
from nocturna.devices.serial.simulator import ProtocolSimulator

log = logging.getLogger(__name__)

KIND = "power_board"
RELAYS = 5
LOADS = (120, 300, 80, 60, 200)
"""Current-sense counts of each relay's load while on."""
CYCLE_S = 5.0
MAX_COMMAND = 256


class PowerBoardSimulator(ProtocolSimulator):
    """The power board's firmware (see the module docstring)."""

    kind = KIND

    def __init__(self, *, clock: Clock | None = None, interval_s: float | str = 2.0,
                 loads: tuple[int, ...] = LOADS) -> None:
        super().__init__(clock=clock)
        self.interval_s = number_option(KIND, "interval_s", interval_s)
        self.relays = [True] * RELAYS
        self.loads = tuple(loads)
        self.ac_ok = True
        self.battery_low = False
        self.commands: list[dict[str, object]] = []
        """Every command the board took, in order (for tests)."""
        self._powered_at = self.clock.timestamp()
        self._quiet_until = float("-inf")
        self._input = bytearray()

    def reading(self) -> PowerReading:
        return PowerReading(
            ac_ok=self.ac_ok, battery_low=self.battery_low, relays=tuple(self.relays),
            readings=tuple(load if on else 0 for on, load in zip(self.relays, self.loads,
                                                                  strict=True)),
            uptime_s=self.clock.timestamp() - self._powered_at)

    # ------------------------------------------------------------ input
    def receive(self, data: bytes) -> None:
        self._input += data
        while True:
            start = self._input.find(b"{")
            if start < 0:
                self._input.clear()
                return
            del self._input[:start]
            end = self._input.find(b"}")
            if end < 0:
                if len(self._input) > MAX_COMMAND:
                    self._input.clear()
                return
            text = bytes(self._input[:end + 1])
            del self._input[:end + 1]
            self._command(text)

    def _command(self, text: bytes) -> None:
        try:
            command = json.loads(text)
            relay, power = command["relay"], command["power"]
        except (ValueError, TypeError, KeyError):
            log.debug("power board simulator: dropped %r", text)
            return
        if isinstance(relay, bool) or not isinstance(relay, int) \
                or not 0 <= relay < RELAYS or isinstance(power, bool) \
                or not isinstance(power, int):
            log.debug("power board simulator: dropped %r", text)
            return
        self.commands.append(command)
        if power == TOGGLE:
            self.relays[relay] = not self.relays[relay]
        elif power == CYCLE:
            self._quiet_until = self.clock.timestamp() + CYCLE_S
        self.relays[relay] = power == ON  # the firmware's last word

    # ------------------------------------------------------------ output
    def garbled(self, data: bytes) -> bytes:
        return garble_line(data)

    async def run(self) -> None:
        while True:
            if self.clock.timestamp() >= self._quiet_until:
                self.send(encode_power(self.reading()))
            await self.clock.sleep(self.interval_s)
