"""A simulated night steered by a script of operator commands (on virtual time)."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from nocturna.core.events import Event
from nocturna.core.storage import Storage
from nocturna.observatory.unit import Observatory
from nocturna.runtime.control import Operator, UnitControl
from nocturna.runtime.runner import RunResult, run
from unit_helpers import unit_config

ALICE = Operator("alice", "operator", "127.0.0.1")
LONGITUDE_DEG = -155.58  # the default site's
LATITUDE_DEG = 19.54


def at(hour: int, minute: int, second: int = 0) -> datetime:
    """A time on the night of 2026-12-14/15 (UTC; Hawaii is 10 h behind)."""
    return datetime(2026, 12, 15, hour, minute, second, tzinfo=UTC)


def zenith_ra_deg(when: datetime) -> float:
    """The right ascension at the site's zenith at ``when`` (a target surely up)."""
    from astropy.time import Time

    return float(Time(when).sidereal_time("apparent", longitude=LONGITUDE_DEG).deg)


@dataclass
class SteeredNight:
    """What a scripted night left: its result, its storage, the script's notes."""

    result: RunResult
    storage: Storage
    notes: dict[str, Any] = field(default_factory=dict)
    events: list[Event] = field(default_factory=list)


Script = Callable[[UnitControl, dict[str, Any]], Awaitable[None]]


def steered_night(root: Path, script: Script, *, start: datetime, until: datetime | str,
                  weather: str | None = None, topics: str = "unit.*",
                  **config: Any) -> SteeredNight:
    """Run a simulated night with ``script(control, notes)`` running beside it in the
    unit's loop; ``topics``: the events kept (in order)."""
    configuration = unit_config(root, observatory={"status_interval": "5 s"}, **config)
    notes: dict[str, Any] = {}
    events: list[Event] = []
    tasks: list[asyncio.Task[None]] = []

    async def keep_events(control: UnitControl) -> None:
        with control.unit.events.subscribe(topics, maxsize=100_000) as subscription:
            async for event in subscription:
                events.append(event)

    def on_control(control: UnitControl) -> None:
        notes["control"] = control
        tasks.append(asyncio.ensure_future(keep_events(control)))
        tasks.append(asyncio.ensure_future(script(control, notes)))

    result = run(configuration, simulate=True, start=start, until=until, weather=weather,
                 signals=False, on_control=on_control)
    script_task = tasks[1]
    assert script_task.done() and not script_task.cancelled(), "the script did not finish"
    script_task.result()  # its failures are the test's
    return SteeredNight(result, Storage.open(data_dir=configuration.data_dir), notes, events)


async def next_event(unit: Observatory, topic: str,
                     accept: Callable[[Event], bool] = lambda e: True) -> Event:
    """The next event of ``topic`` the unit publishes that ``accept`` takes."""
    with unit.events.subscribe(topic) as subscription:
        async for event in subscription:
            if accept(event):
                return event
    raise AssertionError("unreachable")
