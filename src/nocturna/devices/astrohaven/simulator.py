"""A simulated Astrohaven clamshell dome: its PLC's side of the serial line
(kind ``astrohaven``; the bytes are in :mod:`.protocol`).

Two leaves, A and B, each between 0 (fully closed) and 1 (fully open). A command byte
runs the leaf's motor for ``hold_s`` clock seconds, so a leaf moves only while its
command keeps coming, as on the real PLC; a full travel takes ``travel_s``. Each
accepted command is answered at once: the echo while the leaf is short of its end,
its limit byte (``x X y Y``) once it is there (and to every later command in that
direction). After acting, the PLC ignores input for ``busy_s`` (what arrives then is
dropped, as POCS observed). ``O``/``C`` drive both leaves and answer with the echo
until both are at their ends, then with leaf B's limit; ``R`` and unknown bytes are
ignored. When it is not answering, the PLC sends its status byte every
``status_interval_s`` (POCS's current meaning: 0 both closed, 1 only A closed, 2 only B
closed, 3 neither closed).

Faults: :meth:`AstrohavenSimulator.stick` (a leaf's motor stops: it echoes commands
forever and never reaches a limit), and the base class's ``go_silent``/``garble_next``
(a garbled byte has its top bit flipped, so it is no protocol byte).
"""

from __future__ import annotations

from dataclasses import dataclass

from nocturna.core.clock import Clock
from nocturna.core.errors import InvalidValueError
from nocturna.devices.astrohaven.protocol import (
    CLOSE_BOTH,
    LEAF_A,
    LEAF_B,
    OPEN_BOTH,
    LeafBytes,
    status_byte,
)
from nocturna.devices.boards.sim_support import number_option
from nocturna.devices.serial.simulator import ProtocolSimulator

KIND = "astrohaven"


@dataclass
class Leaf:
    """One leaf of the clamshell: where it is and where its motor drives it."""

    wire: LeafBytes
    position: float = 0.0  # 0 closed .. 1 open
    direction: int = 0  # +1 opening, -1 closing, 0 still
    since: float = 0.0  # clock time position was computed for
    run_until: float = 0.0  # the motor stops then unless another command comes
    stuck: bool = False

    def settle(self, t: float, travel_s: float) -> None:
        """Bring ``position`` up to clock time ``t``."""
        if self.direction and not self.stuck:
            moved = (min(t, self.run_until) - self.since) / travel_s
            if moved > 0:
                self.position = min(1.0, max(0.0, self.position + self.direction * moved))
            if t >= self.run_until or self.position in (0.0, 1.0):
                self.direction = 0
        self.since = t

    def at_end(self, opening: bool) -> bool:
        return not self.stuck and self.position == (1.0 if opening else 0.0)

    def drive(self, opening: bool, t: float, hold_s: float) -> bool:
        """Run the motor towards an end for ``hold_s``; whether the leaf is there."""
        if self.at_end(opening):
            return True
        self.direction = 1 if opening else -1
        self.run_until = t + hold_s
        return False


class AstrohavenSimulator(ProtocolSimulator):
    """The PLC of an Astrohaven clamshell dome (see the module docstring)."""

    kind = KIND

    def __init__(self, *, clock: Clock | None = None, travel_s: float | str = 20.0,
                 hold_s: float | str = 0.5, busy_s: float | str = 0.2,
                 status_interval_s: float | str = 1.0) -> None:
        super().__init__(clock=clock)
        self.travel_s = number_option(KIND, "travel_s", travel_s)
        self.hold_s = number_option(KIND, "hold_s", hold_s)
        self.busy_s = number_option(KIND, "busy_s", busy_s, zero_ok=True)
        self.status_interval_s = number_option(KIND, "status_interval_s", status_interval_s)
        self.leaves = {"a": Leaf(LEAF_A), "b": Leaf(LEAF_B)}
        self._busy_until = float("-inf")
        self._next_status = float("-inf")

    # ------------------------------------------------------------ the model
    def _now(self) -> float:
        t = self.clock.timestamp()
        for leaf in self.leaves.values():
            leaf.settle(t, self.travel_s)
        return t

    @property
    def positions(self) -> tuple[float, float]:
        """(leaf A, leaf B) now, 0 closed .. 1 open."""
        self._now()
        return self.leaves["a"].position, self.leaves["b"].position

    def status(self) -> bytes:
        """The status byte now."""
        self._now()
        return status_byte(self.leaves["a"].position == 0.0, self.leaves["b"].position == 0.0)

    def stick(self, side: str, stuck: bool = True) -> None:
        """Jam (or free) leaf ``side`` ("a" or "b"): it stops where it is."""
        leaf = self.leaves.get(str(side).lower())
        if leaf is None:
            raise InvalidValueError(f"an Astrohaven dome has leaves 'a' and 'b', not {side!r}")
        self._now()
        leaf.stuck = stuck
        leaf.direction = 0

    # ------------------------------------------------------------ the wire
    def receive(self, data: bytes) -> None:
        for byte in data:
            t = self._now()
            if t < self._busy_until:
                continue  # the PLC is acting: input is lost
            reply = self._command(bytes([byte]), t)
            if reply:
                self._busy_until = t + self.busy_s
                self._next_status = t + self.status_interval_s
                self.send(reply)

    def _command(self, command: bytes, t: float) -> bytes | None:
        for leaf in self.leaves.values():
            for opening in (True, False):
                if command == leaf.wire.command(opening):
                    there = leaf.drive(opening, t, self.hold_s)
                    return leaf.wire.limit(opening) if there else command
        if command in (OPEN_BOTH, CLOSE_BOTH):
            opening = command == OPEN_BOTH
            ends = [leaf.drive(opening, t, self.hold_s) for leaf in self.leaves.values()]
            return LEAF_B.limit(opening) if all(ends) else command
        return None  # R and anything else: ignored

    def garbled(self, data: bytes) -> bytes:
        return bytes(byte ^ 0x80 for byte in data)

    async def run(self) -> None:
        """The status byte every ``status_interval_s`` while no command is answered."""
        while True:
            t = self._now()
            if t >= self._next_status:
                self.send(self.status())
                self._next_status = t + self.status_interval_s
            await self.clock.sleep(max(self._next_status - t, 1e-3))

