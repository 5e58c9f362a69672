"""What the line-printing boards share: a background reader that keeps the latest reading.

A board prints one reading per line on its own (nobody asks). :class:`LineBoard` reads
every line in a background task from connecting on, parses it with the subclass's
:meth:`LineBoard.parse`, and keeps the latest reading with its arrival time on the
device's clock. A line that does not parse is skipped with a warning (the reading kept
is the last good one); ``skipped`` counts them and ``last_problem`` says what was wrong.

Connecting waits up to ``connect_timeout_s`` for the first good line (a board that
prints only bad lines is not the expected board: :class:`SerialProtocolError` with the
last problem; one that prints nothing: :class:`SerialTimeoutError`). After that,
:meth:`LineBoard.fresh` gives the latest reading, or raises :class:`SerialTimeoutError`
once it is older than ``stale_s``: a board that went quiet makes ``state()`` fail, so
its component goes FAULT, and its recovery connects again.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Callable
from typing import Any, ClassVar, Generic, TypeVar

from nocturna.core.errors import InvalidValueError
from nocturna.devices.serial.device import SerialDevice
from nocturna.devices.serial.line import SerialLinkError, SerialProtocolError, SerialTimeoutError

log = logging.getLogger(__name__)

R = TypeVar("R")
READ_WAIT_S = 3600.0
"""How long one read of the background reader waits (it simply reads again)."""


def seconds_option(name: str, key: str, value: Any) -> float:
    """A driver option in seconds, > 0 (InvalidValueError naming ``name.key``)."""
    if isinstance(value, bool) or not isinstance(value, int | float) or not value > 0:
        raise InvalidValueError(f"{name}.{key}: expected a number of seconds > 0, "
                                f"got {value!r}")
    return float(value)


class LineBoard(SerialDevice, Generic[R]):
    """Base of the boards that print a reading per line (see the module docstring)."""

    board: ClassVar[str] = "board"
    """How messages name the board."""

    def __init__(self, name: str, *, stale_s: float = 180.0, **kwargs: Any) -> None:
        super().__init__(name, **kwargs)
        self.stale_s = seconds_option(name, "stale_s", stale_s)
        self.skipped = 0
        self.last_problem: str | None = None
        self._latest: R | None = None
        self._received_at = float("-inf")
        self._count = 0  # good lines since connecting
        self._arrived = asyncio.Event()
        self._reader: asyncio.Task[None] | None = None

    def parse(self, raw: bytes) -> R:
        """One line (without its newline) as a reading; SerialProtocolError if it is none."""
        raise NotImplementedError

    # ------------------------------------------------------------ connection
    async def _handshake(self) -> None:
        self._latest, self._count, self.last_problem = None, 0, None
        self._received_at = float("-inf")
        self._reader = asyncio.create_task(self._read_forever(),
                                           name=f"{self.board} {self.name}")
        try:
            await self.next_reading(lambda _: True, self.connect_timeout_s,
                                    "its first reading")
        except BaseException:
            await self._stop_reader()
            raise

    async def _disconnect(self) -> None:
        await self._stop_reader()
        await super()._disconnect()

    async def _stop_reader(self) -> None:
        reader, self._reader = self._reader, None
        if reader is not None and not reader.done():
            reader.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await reader

    # ------------------------------------------------------------ reading
    async def _read_forever(self) -> None:
        while True:
            try:
                raw = await self.line.read_line(READ_WAIT_S)
            except SerialTimeoutError:
                continue
            except SerialProtocolError as exc:  # a line too long to be one: skip it
                self._skip(str(exc))
                continue
            except SerialLinkError:
                self._arrived.set()
                return
            if not raw.strip():
                continue
            try:
                reading = self.parse(raw)
            except SerialProtocolError as exc:
                self._skip(str(exc))
                continue
            self._latest, self._received_at = reading, self.clock.timestamp()
            self._count += 1
            self._arrived.set()

    def _skip(self, problem: str) -> None:
        self.skipped += 1
        self.last_problem = problem
        log.warning("%s: skipped a line: %s", self.name, problem, extra={"device": self.name})

    def latest(self) -> tuple[R, float] | None:
        """The latest good reading and its age in clock seconds (None before the first)."""
        if self._latest is None:
            return None
        return self._latest, self.clock.timestamp() - self._received_at

    def fresh(self) -> tuple[R, float]:
        """The latest reading and its age; SerialTimeoutError once it is stale."""
        latest = self.latest()
        if latest is None or latest[1] > self.stale_s:
            age = "no reading" if latest is None else f"the last reading is {latest[1]:.0f} s old"
            problem = f"; the last bad line: {self.last_problem}" if self.last_problem else ""
            raise SerialTimeoutError(f"{self.board} {self.name!r} on {self.port}: {age} "
                                     f"(stale after {self.stale_s:g} s){problem}")
        return latest

    async def next_reading(self, wanted: Callable[[R], bool], timeout_s: float,
                           what: str) -> R:
        """Wait for a reading that arrives from now on and satisfies ``wanted``."""
        seen = self._count
        try:
            async with asyncio.timeout(timeout_s):
                while True:
                    if self._count > seen and self._latest is not None:
                        seen = self._count
                        if wanted(self._latest):
                            return self._latest
                    if self._reader is None or self._reader.done():
                        raise SerialLinkError(f"{self.board} {self.name!r}: port {self.port} "
                                              "is closed")
                    self._arrived.clear()
                    await self._arrived.wait()
        except TimeoutError:
            if self._count == seen and self.last_problem is not None and seen == 0:
                raise SerialProtocolError(
                    f"{self.board} {self.name!r} on {self.port}: no good line within "
                    f"{timeout_s:g} s for {what}; the last: {self.last_problem}") from None
            raise SerialTimeoutError(f"{self.board} {self.name!r} on {self.port}: "
                                     f"no line within {timeout_s:g} s gave {what}") from None
