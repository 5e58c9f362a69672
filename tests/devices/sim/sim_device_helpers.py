"""Helpers for the simulator tests (test_sim_*): a frozen clock and clock-driven waits.

Kept out of conftest.py on purpose (that file is shared with other test modules).
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable
from typing import Any, TypeVar

from nocturna.core.clock import SimClock
from nocturna.core.events import Event, EventBus, Subscription

T = TypeVar("T")

NIGHT_START = "2026-12-15T08:00:00Z"
"""22:00 in Hawaii: the middle of the evening at the default site (Mauna Loa)."""


def frozen_clock(start: str = NIGHT_START) -> SimClock:
    """A simulated clock that only moves through ``advance()``."""
    return SimClock(start, speed=0)


def device_kwargs(clock: SimClock) -> dict[str, Any]:
    """Clock and a private event bus for a device under test."""
    return {"clock": clock, "events": EventBus()}


async def run_advancing(clock: SimClock, awaitable: Awaitable[T], *, step_s: float = 0.5,
                        max_steps: int = 100_000) -> T:
    """Await ``awaitable`` while moving ``clock`` forward ``step_s`` at a time."""
    task = asyncio.ensure_future(awaitable)
    for _ in range(max_steps):
        for _ in range(5):  # let the task run up to its next clock sleep
            await asyncio.sleep(0)
        if task.done():
            return task.result()
        clock.advance(step_s)
    task.cancel()
    raise AssertionError(f"still not done after {max_steps * step_s:g} simulated seconds")


def topics(subscription: Subscription) -> list[str]:
    """Topics of the events received so far."""
    return [event.topic for event in subscription.drain()]


def drain(subscription: Subscription) -> list[Event]:
    return subscription.drain()

