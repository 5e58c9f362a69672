"""Astrohaven clamshell dome on RS-232 (a Vision 130 PLC; bytes in :mod:`.protocol`).

Covered: the shutter. ``open_shutter``/``close_shutter`` start a move and return;
``state().shutter_status`` shows OPENING/CLOSING while it runs, then OPEN/CLOSED, or
ERROR. A move drives leaf A, then leaf B, as POCS does: the leaf's command byte is
sent every ``repeat_s`` clock seconds (the PLC runs a motor only while its command
keeps coming; pacing on the clock means no busy loop, and a simulated night on virtual
time moves on) until the leaf's limit byte comes back, twice when closing (POCS's
rule); then the next status byte must confirm it (3 after opening, 0 after closing).
A leaf that has not reached its limit after ``move_timeout_s`` ends the move in ERROR
with the reason (a leaf whose command is echoed but which never arrives is reported as
stuck), logged and published as ``dome.shutter.error``; ``last_error`` keeps it. The
next open or close tries again. ``abort_slew`` stops sending (the motors stop): a
shutter left part-way reads ERROR until opened or closed again.

Reading: a background task reads every byte. The status byte (about once a second)
gives the shutter when no move runs: 0 CLOSED, 3 OPEN, 1 or 2 (one leaf closed, the
other not) ERROR; POCS's current meaning of 1 and 2 is used. Connecting waits for a
status byte (``connect_timeout_s``). ``state()`` raises :class:`SerialTimeoutError`
when nothing has been heard for ``listen_timeout_s`` (the component then goes FAULT;
its recovery connects again), and :class:`SerialProtocolError` when the last byte
heard is no protocol byte (line noise: the next byte clears it).

Not covered: the dome has no azimuth (``is_roof`` is true: a shutter and nothing
else, like a roll-off roof); the azimuth, park, home and slaving members raise
:class:`NotImplementedByDeviceError`. Moving one leaf alone, the ``O``/``C`` both-leaf
commands (they do nothing on 7' domes, POCS found) and ``R`` (reset) are not used.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from typing import Any

from nocturna.core.errors import DeviceTimeoutError, InvalidValueError, NocturnaError
from nocturna.devices.astrohaven.protocol import (
    BOTH_CLOSED,
    LEAVES,
    NONE_CLOSED,
    REPLY_BYTES,
    STATUS_BYTES,
    LeafBytes,
    describe_status,
)
from nocturna.devices.dome import Dome, DomeInfo, DomeStatus
from nocturna.devices.serial.device import SerialDevice
from nocturna.devices.serial.line import (
    SerialLinkError,
    SerialProtocolError,
    SerialTimeoutError,
)
from nocturna.devices.types import ShutterState

log = logging.getLogger(__name__)

CLOSE_FEEDBACKS = 2
"""Close limit bytes a closing leaf must answer (one may be a stale echo of the end)."""
READ_WAIT_S = 3600.0
"""How long one read of the background reader waits (it simply reads again)."""


class AstrohavenDome(SerialDevice, Dome):
    """An Astrohaven clamshell dome (see the module docstring)."""

    driver_name = "astrohaven"
    default_baudrate = 9600
    extra_options = frozenset({"move_timeout_s", "repeat_s", "listen_timeout_s"})

    def __init__(self, name: str, *, move_timeout_s: float = 60.0, repeat_s: float = 0.25,
                 listen_timeout_s: float = 3.0, **kwargs: Any) -> None:
        super().__init__(name, **kwargs)
        for key, value in (("move_timeout_s", move_timeout_s), ("repeat_s", repeat_s),
                           ("listen_timeout_s", listen_timeout_s)):
            if isinstance(value, bool) or not isinstance(value, int | float) or not value > 0:
                raise InvalidValueError(f"{name}.{key}: expected a number of seconds > 0, "
                                        f"got {value!r}")
        self.move_timeout_s = float(move_timeout_s)
        self.repeat_s = float(repeat_s)
        self.listen_timeout_s = float(listen_timeout_s)
        self.last_error: str | None = None
        """Why the last move failed (None after a move that succeeded)."""
        self._reader: asyncio.Task[None] | None = None
        self._move: asyncio.Task[None] | None = None
        self._opening = False
        self._partial = False  # stopped part-way (aborted or failed)
        self._status: int | None = None
        self._statuses = 0  # status bytes heard since connecting
        self._heard_at = float("-inf")  # clock time of the last protocol byte
        self._noise: int | None = None  # the last byte heard, if it was no protocol byte
        self._early_noise: int | None = None  # the first such byte, if before any status
        self._replies: list[int] = []
        self._arrived = asyncio.Event()

    # ------------------------------------------------------------ connection
    async def _handshake(self) -> None:
        """Wait for a status byte; any other byte first means another device (or a wrong
        baud rate) on the port."""
        self._status, self._statuses, self._noise = None, 0, None
        self._early_noise = None
        self._heard_at = float("-inf")
        self._reader = asyncio.create_task(self._read_forever(), name=f"astrohaven {self.name}")
        try:
            async with asyncio.timeout(self.connect_timeout_s):
                while self._status is None and self._early_noise is None:
                    await self._next_byte()
            if self._early_noise is not None:
                raise SerialProtocolError(
                    f"{self.kind} {self.name!r}: {self.port} sent "
                    f"{bytes([self._early_noise])!r}, "
                    "which is no Astrohaven byte (another device on the port, or a wrong "
                    "baud rate?)")
        except TimeoutError:
            raise SerialTimeoutError(
                f"{self.kind} {self.name!r}: no status byte from the Astrohaven PLC on "
                f"{self.port} within {self.connect_timeout_s:g} s") from None
        finally:
            if self._status is None or self._early_noise is not None:
                await self._stop_tasks()

    async def _disconnect(self) -> None:
        await self._stop_tasks()
        await super()._disconnect()

    async def _stop_tasks(self) -> None:
        for task in (self._move, self._reader):
            if task is not None and not task.done():
                task.cancel()
                with contextlib.suppress(asyncio.CancelledError, Exception):
                    await task
        if self._move is not None:
            self._partial = self._partial or not self._move.done() or self._move.cancelled()
        self._move = self._reader = None

    # ------------------------------------------------------------ reading
    async def _read_forever(self) -> None:
        while True:
            try:
                data = await self.line.read_some(READ_WAIT_S)
            except SerialTimeoutError:
                continue
            except SerialLinkError:
                self._wake()
                return
            for byte in data:
                self._heard(byte)
            self._wake()

    def _heard(self, byte: int) -> None:
        if byte in STATUS_BYTES:
            self._status = byte
            self._statuses += 1
        elif byte in REPLY_BYTES:
            self._replies.append(byte)
        else:
            log.warning("%s: ignored %r from the Astrohaven PLC (no protocol byte)", self.name,
                        bytes([byte]), extra={"device": self.name})
            self._noise = byte
            if self._status is None and self._early_noise is None:
                self._early_noise = byte  # before any status byte: not our device?
            return
        self._noise = None
        self._heard_at = self.clock.timestamp()

    def _wake(self) -> None:
        self._arrived.set()

    async def _next_byte(self) -> None:
        self._arrived.clear()
        await self._arrived.wait()

    def _check_line(self) -> None:
        """Raise if the PLC has gone quiet or the last byte was noise."""
        if self._noise is not None:
            raise SerialProtocolError(
                f"{self.kind} {self.name!r}: the Astrohaven PLC sent {bytes([self._noise])!r}, "
                "which is no status, echo or limit byte")
        quiet = self.clock.timestamp() - self._heard_at
        if quiet > self.listen_timeout_s:
            raise SerialTimeoutError(
                f"{self.kind} {self.name!r}: nothing from the Astrohaven PLC on {self.port} "
                f"for {quiet:.1f} s (it sends a status byte every second)")

    def _shutter(self) -> ShutterState:
        if self._move is not None and not self._move.done():
            return ShutterState.OPENING if self._opening else ShutterState.CLOSING
        if self.last_error is not None:
            return ShutterState.ERROR
        if self._status == BOTH_CLOSED[0]:
            return ShutterState.CLOSED
        if self._partial or self._status != NONE_CLOSED[0]:
            return ShutterState.ERROR  # part-way, one leaf closed, or no status since
        return ShutterState.OPEN

    async def info(self) -> DomeInfo:
        return DomeInfo(is_roof=True, can_find_home=False, can_park=False,
                        can_set_altitude=False, can_set_azimuth=False, can_set_park=False,
                        can_set_shutter=True, can_slave=False, can_sync_azimuth=False)

    async def state(self) -> DomeStatus:
        self._check_line()
        shutter = self._shutter()
        return DomeStatus(shutter_status=shutter, azimuth_deg=None, altitude_deg=None,
                          at_home=False, at_park=False,
                          slewing=shutter in (ShutterState.OPENING, ShutterState.CLOSING),
                          slaved=False)

    # ------------------------------------------------------------ moving
    async def open_shutter(self) -> None:
        await self._start(opening=True)

    async def close_shutter(self) -> None:
        await self._start(opening=False)

    async def abort_slew(self) -> None:
        """Stop the shutter where it is (the PLC stops a motor whose command stops)."""
        if self._move is not None and not self._move.done():
            self._move.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._move
            self._partial = True

    async def _start(self, *, opening: bool) -> None:
        self._check_line()
        if self._move is not None and not self._move.done():
            if self._opening == opening:
                return
            await self.abort_slew()
        self._opening, self.last_error = opening, None
        self._status = None  # unknown until the PLC reports after the move
        self._move = asyncio.create_task(self._run_move(opening),
                                         name=f"astrohaven {self.name} move")

    async def _run_move(self, opening: bool) -> None:
        what = "opening" if opening else "closing"
        try:
            for leaf in LEAVES:
                await self._drive(leaf, opening)
            await self._confirm(NONE_CLOSED[0] if opening else BOTH_CLOSED[0], what)
        except NocturnaError as exc:
            self.last_error = f"{what} the shutter failed: {exc}"
            self._partial = True
            log.error("%s: %s", self.name, self.last_error, extra={"device": self.name})
            self.publish("shutter.error", message=self.last_error)
            return
        self._partial = False
        self.publish("shutter.moved", open=opening)

    async def _drive(self, leaf: LeafBytes, opening: bool) -> None:
        """Send ``leaf``'s command until its limit answers (twice when closing)."""
        command, limit = leaf.command(opening), leaf.limit(opening)[0]
        needed = 1 if opening else CLOSE_FEEDBACKS
        echoed = False
        deadline = self.clock.timestamp() + self.move_timeout_s
        self._replies.clear()
        while True:
            self.line.write(command)
            await self.clock.sleep(self.repeat_s)
            replies, self._replies = self._replies, []
            for byte in replies:
                if byte == limit:
                    needed -= 1
                elif byte == command[0]:
                    echoed = True
            if needed <= 0:
                return
            if self.clock.timestamp() >= deadline:
                end = "open" if opening else "close"
                why = (f"the PLC echoes {command!r} but the leaf never gets there: stuck?"
                       if echoed else f"the PLC did not answer {command!r}")
                raise DeviceTimeoutError(
                    f"leaf {leaf.name} did not reach its {end} limit "
                    f"({bytes([limit])!r}) within {self.move_timeout_s:g} s: {why}")

    async def _confirm(self, expected: int, what: str) -> None:
        """Wait for the status byte after a move and check it."""
        heard = self._statuses
        try:
            async with asyncio.timeout(self.listen_timeout_s):
                while self._statuses == heard:
                    await self._next_byte()
        except TimeoutError:
            raise SerialTimeoutError(
                f"no status byte within {self.listen_timeout_s:g} s after {what}") from None
        if self._status != expected:
            raise SerialProtocolError(
                f"after {what} both leaves, the PLC reports {describe_status(self._status)}, "
                f"not {describe_status(expected)}")
