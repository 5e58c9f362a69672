"""One source of time for all of nocturna.

Every component asks a :class:`Clock` for the time and sleeps through it, never
through :func:`time.time` or :func:`asyncio.sleep` directly. Three clocks exist:

* :class:`RealClock`: wall-clock UTC time (any real device: the unit runs on it).
* :class:`VirtualClock`: simulated time on a
  :class:`~nocturna.core.virtualtime.VirtualTimeLoop`. Time moves only when nothing
  can run, by jumping to the next deadline, so a simulated night runs as fast as the
  CPU allows and gives the same result at any load. Work that takes time on a real
  unit costs modelled time (:meth:`Clock.takes`).
* :class:`SimClock`: a simulated clock on any loop that starts at a chosen instant
  and runs ``speed`` times faster than real time. It can also be moved forward by
  hand (:meth:`SimClock.advance`), which wakes every sleeper whose deadline has
  passed, so unit tests never wait for real.

All are monotonic: :meth:`Clock.now` never goes backwards (short of a deliberate
:meth:`VirtualClock.step`, which simulates a system clock step).

The process-wide clock is :func:`get_clock`; :func:`set_clock` or the
:func:`use_clock` context manager swap it (tests, ``--simulate``).
"""

from __future__ import annotations

import asyncio
import contextlib
import threading
import time
from collections.abc import AsyncIterator, Iterator
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING

from nocturna.core.errors import InvalidValueError

if TYPE_CHECKING:
    from astropy.time import Time

    from nocturna.core.virtualtime import VirtualTimeLoop


def parse_instant(instant: datetime | str) -> datetime:
    """An instant (datetime or ISO 8601 text) as an aware UTC datetime; naive means UTC."""
    if isinstance(instant, str):
        text = instant.strip()
        if text.endswith(("Z", "z")):
            text = text[:-1] + "+00:00"
        try:
            instant = datetime.fromisoformat(text)
        except ValueError as exc:
            raise InvalidValueError(
                f"clock start {instant!r} is not an ISO 8601 time such as 2026-12-15T04:00Z"
            ) from exc
    if instant.tzinfo is None:
        return instant.replace(tzinfo=UTC)
    return instant.astimezone(UTC)


class Clock:
    """Interface of every clock. Times are aware UTC datetimes."""

    speed: float = 1.0

    def now(self) -> datetime:
        """The current time (aware, UTC)."""
        raise NotImplementedError

    def timestamp(self) -> float:
        """The current time as POSIX seconds."""
        return self.now().timestamp()

    def now_time(self) -> Time:
        """The current time as an astropy Time (UTC scale)."""
        from astropy.time import Time  # deferred: astropy.time is not light

        return Time(self.now(), scale="utc")

    async def sleep(self, seconds: float) -> None:
        """Sleep for ``seconds`` of this clock's time."""
        raise NotImplementedError

    @contextlib.asynccontextmanager
    async def takes(self, seconds: float) -> AsyncIterator[None]:
        """A block of work that takes ``seconds`` on a real unit (a readout, a solve).

        On virtual time the block ends no earlier than ``seconds`` after it began, so
        its modelled cost shows in simulated time whatever the computing took; on
        other clocks the work takes the time it really takes.
        """
        yield

    async def sleep_until(self, instant: datetime) -> None:
        """Sleep until this clock reads ``instant`` (returns at once if past)."""
        await self.sleep((parse_instant(instant) - self.now()).total_seconds())

    def real_seconds(self, seconds: float) -> float:
        """How many real seconds ``seconds`` of clock time last."""
        return seconds / self.speed


class RealClock(Clock):
    """Wall-clock time, made monotonic: a backwards system-time step is held flat."""

    def __init__(self) -> None:
        self._last = datetime.fromtimestamp(0, UTC)
        self._lock = threading.Lock()

    def now(self) -> datetime:
        current = datetime.now(UTC)
        with self._lock:
            if current < self._last:
                return self._last
            self._last = current
            return current

    async def sleep(self, seconds: float) -> None:
        await asyncio.sleep(max(0.0, seconds))

    def __repr__(self) -> str:
        return "RealClock()"


class SimClock(Clock):
    """A simulated clock: ``start`` instant, running ``speed`` times real time.

    ``speed`` may be 0 (time only moves through :meth:`advance`). Sleepers wait in
    real time for ``seconds / speed`` but are woken early by :meth:`advance`, and
    always re-check the simulated time, so a jump forward ends them correctly.
    Computing takes simulated time here (``speed`` times what it really took): whole
    runs use :class:`VirtualClock`, which does not.
    """

    def __init__(self, start: datetime | str, speed: float = 1.0) -> None:
        if not speed >= 0 or speed == float("inf"):
            raise InvalidValueError(f"clock speed {speed!r} must be a finite number >= 0")
        self.speed = float(speed)
        self._start = parse_instant(start)
        self._real_origin = time.monotonic()
        self._offset = 0.0  # seconds added by advance()
        self._lock = threading.Lock()
        self._waiters: set[tuple[asyncio.AbstractEventLoop, asyncio.Event]] = set()

    @property
    def start(self) -> datetime:
        return self._start

    def _elapsed(self) -> float:
        return (time.monotonic() - self._real_origin) * self.speed + self._offset

    def now(self) -> datetime:
        with self._lock:
            return self._start + timedelta(seconds=self._elapsed())

    def advance(self, seconds: float) -> None:
        """Jump forward by ``seconds`` and wake sleepers (never backwards)."""
        if not seconds >= 0:
            raise InvalidValueError(
                f"cannot advance the clock by {seconds!r} s: time only moves forward"
            )
        with self._lock:
            self._offset += seconds
            waiters = list(self._waiters)
        for loop, event in waiters:
            if loop.is_closed():
                continue
            loop.call_soon_threadsafe(event.set)

    def set_time(self, instant: datetime | str) -> None:
        """Move the clock forward to ``instant``; earlier instants are refused."""
        delta = (parse_instant(instant) - self.now()).total_seconds()
        if delta < 0:
            raise InvalidValueError(
                f"cannot set the clock back to {instant}: it reads {self.now().isoformat()}"
            )
        self.advance(delta)

    def real_seconds(self, seconds: float) -> float:
        return float("inf") if self.speed == 0 else seconds / self.speed

    async def sleep(self, seconds: float) -> None:
        deadline = self.now() + timedelta(seconds=max(0.0, seconds))
        loop = asyncio.get_running_loop()
        event = asyncio.Event()
        entry = (loop, event)
        with self._lock:
            self._waiters.add(entry)
        try:
            while True:
                remaining = (deadline - self.now()).total_seconds()
                if remaining <= 0:
                    return
                event.clear()
                timeout = None if self.speed == 0 else remaining / self.speed
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(event.wait(), timeout)
        finally:
            with self._lock:
                self._waiters.discard(entry)

    def __repr__(self) -> str:
        return f"SimClock(start={self._start.isoformat()!r}, speed={self.speed:g})"


class VirtualClock(Clock):
    """Simulated time on a virtual-time loop: it reads ``start`` plus the loop's time.

    Made inside the running :class:`~nocturna.core.virtualtime.VirtualTimeLoop` (or
    given one). Threads may read :meth:`now`; sleeping is the loop's own, so every
    ``asyncio`` timeout in the process runs on the same time base. ``speed`` is the
    loop's real-time pacing (``inf``: as fast as possible).
    """

    def __init__(self, start: datetime | str, loop: VirtualTimeLoop | None = None) -> None:
        from nocturna.core.virtualtime import VirtualTimeLoop, running_virtual_loop

        loop = loop or running_virtual_loop()
        if not isinstance(loop, VirtualTimeLoop):
            raise InvalidValueError("a VirtualClock needs a running VirtualTimeLoop "
                                    "(nocturna.core.virtualtime)")
        self._loop = loop
        self._start = parse_instant(start)
        self._origin = loop.time()
        self._step = 0.0  # seconds added by step()

    @property
    def start(self) -> datetime:
        return self._start

    @property
    def speed(self) -> float:  # type: ignore[override]
        return float("inf") if self._loop.pace is None else self._loop.pace

    @property
    def loop(self) -> VirtualTimeLoop:
        return self._loop

    def now(self) -> datetime:
        return self._start + timedelta(seconds=self._loop.time() - self._origin + self._step)

    async def sleep(self, seconds: float) -> None:
        await asyncio.sleep(max(0.0, seconds))

    @contextlib.asynccontextmanager
    async def takes(self, seconds: float) -> AsyncIterator[None]:
        began = self._loop.time()
        yield
        remaining = began + max(0.0, seconds) - self._loop.time()
        if remaining > 0:
            await asyncio.sleep(remaining)

    def step(self, seconds: float) -> None:
        """Step the reading by ``seconds`` without waking anyone (a system clock step).

        Sleepers keep their durations, as they would across an NTP step; what compares
        readings (heartbeat ages, deadlines by instant) sees the step. Negative steps
        are refused: nocturna's clock never goes backwards.
        """
        if not seconds >= 0:
            raise InvalidValueError(f"cannot step the clock by {seconds!r} s: it only moves "
                                    "forward")
        self._step += seconds

    def real_seconds(self, seconds: float) -> float:
        return 0.0 if self._loop.pace is None else seconds / self._loop.pace

    def __repr__(self) -> str:
        pace = "as fast as possible" if self._loop.pace is None else f"{self._loop.pace:g}x"
        return f"VirtualClock(start={self._start.isoformat()!r}, {pace})"


_clock: Clock = RealClock()


def get_clock() -> Clock:
    """The process-wide clock."""
    return _clock


def set_clock(clock: Clock) -> Clock:
    """Replace the process-wide clock; returns the previous one."""
    global _clock
    previous, _clock = _clock, clock
    return previous


@contextlib.contextmanager
def use_clock(clock: Clock) -> Iterator[Clock]:
    """Use ``clock`` as the process-wide clock inside a ``with`` block."""
    previous = set_clock(clock)
    try:
        yield clock
    finally:
        set_clock(previous)


def now() -> datetime:
    """Shortcut for ``get_clock().now()``."""
    return _clock.now()
