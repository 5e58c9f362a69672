"""One source of time for all of nocturna.

Every component asks a :class:`Clock` for the time and sleeps through it, never
through :func:`time.time` or :func:`asyncio.sleep` directly. Two clocks exist:

* :class:`RealClock`: wall-clock UTC time.
* :class:`SimClock`: a simulated clock that starts at a chosen instant and runs
  ``speed`` times faster than real time (e.g. a night at 600x passes in about a
  minute). It can also be moved forward by hand (:meth:`SimClock.advance`), which
  wakes every sleeper whose deadline has passed, so tests never wait for real.

Both are monotonic: :meth:`Clock.now` never goes backwards.

The process-wide clock is :func:`get_clock`; :func:`set_clock` or the
:func:`use_clock` context manager swap it (tests, ``--simulate``).
"""

from __future__ import annotations

import asyncio
import contextlib
import threading
import time
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING

from nocturna.core.errors import InvalidValueError

if TYPE_CHECKING:
    from astropy.time import Time


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

    def paused(self) -> contextlib.AbstractContextManager[None]:
        """A block during which simulated time stands still (a real clock never stops)."""
        return contextlib.nullcontext()

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

    :meth:`paused` stops simulated time while a simulator computes (rendering a frame,
    say), so its cost in real time does not show up as simulated time: a simulated
    camera is not slower at 800x than at 1x.
    """

    def __init__(self, start: datetime | str, speed: float = 1.0) -> None:
        if not speed >= 0 or speed == float("inf"):
            raise InvalidValueError(f"clock speed {speed!r} must be a finite number >= 0")
        self.speed = float(speed)
        self._start = parse_instant(start)
        self._real_origin = time.monotonic()
        self._offset = 0.0  # seconds added by advance()
        self._pauses = 0  # paused() blocks in progress
        self._paused_at = 0.0  # monotonic time the current pause began
        self._lock = threading.Lock()
        self._waiters: set[tuple[asyncio.AbstractEventLoop, asyncio.Event]] = set()

    @property
    def start(self) -> datetime:
        return self._start

    def _elapsed(self) -> float:
        real = self._paused_at if self._pauses else time.monotonic()
        return (real - self._real_origin) * self.speed + self._offset

    @contextlib.contextmanager
    def paused(self) -> Iterator[None]:  # type: ignore[override]
        """Simulated time stands still inside this block (blocks may nest or overlap)."""
        with self._lock:
            if self._pauses == 0:
                self._paused_at = time.monotonic()
            self._pauses += 1
        try:
            yield
        finally:
            with self._lock:
                self._pauses -= 1
                if self._pauses == 0:
                    self._real_origin += time.monotonic() - self._paused_at

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
