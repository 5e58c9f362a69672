"""Exposure ids (``YYYYMMDDNNNNN``) and group ids.

An exposure id is the observing day times 100 000 plus the frame's sequence number
within that day. The observing day is the site's local date of the evening the night
began: the local time minus 12 hours, so a night never straddles two days. Sequence
numbers come from storage (:meth:`Storage.reserve_exposure_numbers`), so they never
repeat within a day, even across restarts or between processes sharing a database.

A sequence that knows how many frames it will take says so (:meth:`ExposureIdSource.
expect`): its ids are then reserved up to :data:`RESERVE_AHEAD` at a time, so most
frames get theirs without a database round trip between exposures. Numbers a sequence
reserved but did not use (it stopped early) are dropped: a gap of at most
``RESERVE_AHEAD - 1``.

A group id ties the frames of one sequence call together: the clock's time in TAI, ISO
format with microseconds, strictly increasing within the process.
"""

from __future__ import annotations

import asyncio
import threading
import weakref
from datetime import UTC, date, datetime, timedelta, tzinfo

from nocturna.core.clock import Clock, get_clock
from nocturna.core.dayobs import day_obs_number, observing_day
from nocturna.core.errors import InvalidValueError

SEQUENCE_DIGITS = 5
MAX_SEQUENCE_NUMBER = 10**SEQUENCE_DIGITS - 1
RESERVE_AHEAD = 10
"""Most exposure numbers a sequence reserves in one transaction."""


def make_exposure_id(day_obs: int, sequence_number: int) -> int:
    """``YYYYMMDD`` and a number 1…99999 → the exposure id ``YYYYMMDDNNNNN``."""
    if not 1 <= sequence_number <= MAX_SEQUENCE_NUMBER:
        raise InvalidValueError(f"sequence number {sequence_number} is not in "
                                f"1..{MAX_SEQUENCE_NUMBER}")
    if not 10_000_101 <= day_obs <= 99_991_231:
        raise InvalidValueError(f"observing day {day_obs} is not a YYYYMMDD date")
    return day_obs * 10**SEQUENCE_DIGITS + sequence_number


def split_exposure_id(exposure_id: int) -> tuple[int, int]:
    """The exposure id → (``YYYYMMDD``, sequence number)."""
    return divmod(int(exposure_id), 10**SEQUENCE_DIGITS)


class ExposureIdSource:
    """Hands out the exposure ids of one stream (an instrument) from storage."""

    def __init__(self, storage: object, stream: str, *, timezone: str | tzinfo | None = None,
                 clock: Clock | None = None) -> None:
        reserve = getattr(storage, "reserve_exposure_numbers", None)
        if reserve is None:
            raise InvalidValueError(f"exposure ids need a Storage, got {storage!r}")
        self._reserve = reserve
        self.stream = stream
        self.timezone = timezone
        self._clock = clock
        self._expected = 0  # ids still to come in the announced sequence
        self._day_obs = 0  # the observing day of the numbers reserved ahead
        self._ahead: range = range(0)  # numbers reserved ahead, not yet handed out

    @property
    def clock(self) -> Clock:
        return self._clock if self._clock is not None else get_clock()

    def day_obs(self, when: datetime | None = None) -> int:
        """The observing day (``YYYYMMDD``) of ``when`` (default: now)."""
        return day_obs_number(observing_day(when or self.clock.now(), self.timezone))

    def expect(self, count: int) -> None:
        """The next ``count`` ids are for one sequence: reserve them several at a time.
        ``0`` ends the sequence and drops the numbers reserved and not used."""
        if isinstance(count, bool) or not isinstance(count, int) or count < 0:
            raise InvalidValueError(f"expected exposure count must be an integer >= 0, "
                                    f"got {count!r}")
        self._expected = count
        self._ahead = range(0)

    async def next_id(self, when: datetime | None = None) -> int:
        """Reserve the next exposure id of the observing day of ``when`` (default: now)."""
        day_obs = self.day_obs(when)
        if not self._ahead or day_obs != self._day_obs:
            count = min(max(1, self._expected), RESERVE_AHEAD)
            self._ahead = await asyncio.to_thread(self._reserve, self.stream, day_obs, count,
                                                  limit=MAX_SEQUENCE_NUMBER)
            self._day_obs = day_obs
        number, self._ahead = self._ahead[0], self._ahead[1:]
        self._expected = max(0, self._expected - 1)
        return make_exposure_id(day_obs, number)


_group_lock = threading.Lock()
_last_group: weakref.WeakKeyDictionary[Clock, datetime] = weakref.WeakKeyDictionary()
_TAI_MINUS_UTC: dict[date, float] = {}


def _tai_minus_utc(day: date) -> float:
    """TAI − UTC in seconds on ``day`` (astropy's leap-second table, cached per day)."""
    offset = _TAI_MINUS_UTC.get(day)
    if offset is None:
        from astropy.time import Time

        t = Time(datetime(day.year, day.month, day.day, 12, tzinfo=UTC), scale="utc")
        offset = round((t.tai.datetime - t.utc.datetime).total_seconds(), 3)
        _TAI_MINUS_UTC[day] = offset
    return offset


def next_group_id(clock: Clock | None = None) -> str:
    """A new group id: the clock's time in TAI, ``YYYY-MM-DDThh:mm:ss.ffffff``.

    Two calls at the same time of one clock (a stopped simulated clock) still get
    different ids: each is at least a microsecond after the previous one.
    """
    clock = clock or get_clock()
    now = clock.now().astimezone(UTC)
    tai = now.replace(tzinfo=None) + timedelta(seconds=_tai_minus_utc(now.date()))
    with _group_lock:
        last = _last_group.get(clock)
        if last is not None and tai <= last:
            tai = last + timedelta(microseconds=1)
        _last_group[clock] = tai
    return tai.isoformat(timespec="microseconds")
