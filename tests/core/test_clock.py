"""The clock: real and simulated time, speed, monotonicity, sleeping."""

from __future__ import annotations

import asyncio
import time
from datetime import UTC, datetime, timedelta

import pytest

from nocturna.core.clock import RealClock, SimClock, get_clock, parse_instant, use_clock
from nocturna.core.errors import InvalidValueError

START = "2026-12-15T04:00Z"


def test_simulated_clock_starts_at_the_given_instant():
    clock = SimClock(START, speed=0)
    assert clock.now() == datetime(2026, 12, 15, 4, 0, tzinfo=UTC)


def test_simulated_clock_runs_at_its_speed():
    clock = SimClock(START, speed=600)
    real_start = time.monotonic()
    time.sleep(0.05)
    elapsed_sim = (clock.now() - clock.start).total_seconds()
    elapsed_real = time.monotonic() - real_start
    assert elapsed_sim == pytest.approx(elapsed_real * 600, rel=0.2)


def test_simulated_sleep_takes_seconds_divided_by_speed():
    clock = SimClock(START, speed=600)
    began = time.perf_counter()
    asyncio.run(clock.sleep(60))  # one simulated minute
    real = time.perf_counter() - began
    assert (clock.now() - clock.start).total_seconds() >= 60
    assert 0.09 <= real < 0.5


def test_advance_wakes_a_sleeper_without_real_waiting():
    clock = SimClock(START, speed=0)  # frozen: only advance() moves it

    async def scenario() -> float:
        sleeper = asyncio.create_task(clock.sleep(3600))
        await asyncio.sleep(0.01)
        assert not sleeper.done()
        clock.advance(1800)
        await asyncio.sleep(0.01)
        assert not sleeper.done()  # half way: keeps sleeping
        began = time.perf_counter()
        clock.advance(1800)
        await asyncio.wait_for(sleeper, 1)
        return time.perf_counter() - began

    assert asyncio.run(scenario()) < 0.5
    assert clock.now() == parse_instant(START) + timedelta(hours=1)


def test_sleep_until_a_past_instant_returns_at_once():
    clock = SimClock(START, speed=0)
    asyncio.run(asyncio.wait_for(clock.sleep_until(parse_instant("2026-12-15T03:00Z")), 1))


def test_simulated_clock_never_goes_backwards():
    clock = SimClock(START, speed=1000)
    readings = [clock.now() for _ in range(2000)]
    assert readings == sorted(readings)
    with pytest.raises(InvalidValueError, match="only moves forward"):
        clock.advance(-1)
    with pytest.raises(InvalidValueError, match="cannot set the clock back"):
        clock.set_time("2026-12-15T03:00Z")


def test_set_time_jumps_forward():
    clock = SimClock(START, speed=0)
    clock.set_time("2026-12-15T06:30Z")
    assert clock.now() == datetime(2026, 12, 15, 6, 30, tzinfo=UTC)


def test_real_clock_is_utc_and_monotonic():
    clock = RealClock()
    first, second = clock.now(), clock.now()
    assert first.tzinfo is not None and first.utcoffset() == timedelta(0)
    assert second >= first
    assert abs(clock.timestamp() - time.time()) < 1


def test_use_clock_swaps_the_process_clock_and_restores_it():
    previous = get_clock()
    sim = SimClock(START, speed=0)
    with use_clock(sim):
        assert get_clock() is sim
    assert get_clock() is previous


def test_bad_speed_and_start_are_refused_with_a_clear_message():
    with pytest.raises(InvalidValueError, match="speed"):
        SimClock(START, speed=-1)
    with pytest.raises(InvalidValueError, match="not an ISO 8601 time"):
        SimClock("tomorrow evening")


def test_now_time_gives_an_astropy_time_in_utc():
    clock = SimClock(START, speed=0)
    assert clock.now_time().isot.startswith("2026-12-15T04:00:00")
    assert clock.now_time().scale == "utc"
