"""Run a night from start to end: the lock, the event loop, the signals.

:func:`run` is ``nocturna run`` without its display: it takes the data directory's
lock (one controller per unit), picks the event loop (virtual time when every device
is simulated, uvloop or asyncio's loop on real time otherwise), turns SIGTERM,
SIGINT and SIGHUP into a clean stop (park, close, summary) and returns the summary
with the exit code the process should end with.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

from nocturna.core.config import Config
from nocturna.core.listen import loop_factory
from nocturna.core.virtualtime import VirtualTimeLoop
from nocturna.devices.factory import all_simulated
from nocturna.observatory.summary import NightSummary
from nocturna.observatory.unit import Observatory
from nocturna.runtime.control import UnitControl
from nocturna.runtime.lock import unit_lock
from nocturna.runtime.night import run_night
from nocturna.runtime.plan import MORNING
from nocturna.runtime.stop import exit_code, stop_on_signals
from nocturna.states.machine import StopRequest


@dataclass
class RunResult:
    """How a run ended: its summary and the exit code for the process."""

    summary: NightSummary
    exit_code: int
    stopped_by: str | None  # why a stop was requested (a signal), None if it ran out


def run(
    config: Config,
    *,
    simulate: bool = False,
    start: datetime | str | None = None,
    until: str | datetime | None = MORNING,
    speed: float | None = None,
    seed: int | None = None,
    fields: str | Path | None = None,
    weather: str | None = None,
    on_status: Callable[[Observatory], None] | None = None,
    on_unit: Callable[[Observatory], None] | None = None,
    signals: bool = True,
    on_control: Callable[[UnitControl], None] | None = None,
) -> RunResult:
    """Run the night on the right loop, holding the unit's lock (see the module doc).

    ``on_control`` gets the unit's operator control and status board (in the unit's
    loop, before the night starts; see :func:`~nocturna.runtime.night.run_night`)."""
    virtual = all_simulated(config, simulate=simulate)
    factory: Callable[[], asyncio.AbstractEventLoop] = VirtualTimeLoop if virtual \
        else loop_factory()
    with unit_lock(config.data_dir), asyncio.Runner(loop_factory=factory) as runner:
        stop = StopRequest()
        handling = stop_on_signals(stop, runner.get_loop()) if signals \
            else contextlib.nullcontext()
        with handling:
            summary = runner.run(run_night(
                config, simulate=simulate, start=start, until=until, speed=speed, seed=seed,
                fields=fields, weather=weather, on_status=on_status, on_unit=on_unit,
                stop=stop, on_control=on_control))
    return RunResult(summary, exit_code(stop), stop.reason if stop.requested else None)
