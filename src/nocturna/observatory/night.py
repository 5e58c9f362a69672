"""Running a night: clock, weather scenario, devices, storage, unit, state machine.

:func:`run_night` is what ``nocturna run`` does, usable from Python too. With
``simulate`` every device runs on its simulator and the clock is simulated: by default
it starts a little before the next evening flat twilight and runs at the speed that
finishes the night in about a minute. Weather scenarios are YAML files
(:mod:`nocturna.devices.sim.scenario`) or the names of the built-in ones in
``observatory/weather/`` (``clear``, ``rain``, ``unsafe``, ``random``).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

from nocturna.core.clock import Clock, SimClock, get_clock, use_clock
from nocturna.core.config import Config
from nocturna.core.errors import ConfigError
from nocturna.observatory.summary import NightSummary, summarize
from nocturna.observatory.sun import SunAltitudes
from nocturna.observatory.telemetry import record_unit_status
from nocturna.observatory.unit import Observatory

log = logging.getLogger(__name__)

WEATHER_DIR = Path(__file__).with_name("weather")
WALL_SECONDS_PER_NIGHT = 60.0
MORNING = "morning"


def built_in_scenarios() -> list[str]:
    return sorted(p.stem for p in WEATHER_DIR.glob("*.yaml"))


def weather_source(name: str) -> Path:
    """A scenario file: the path if it exists, else a built-in scenario's name."""
    path = Path(name).expanduser()
    if path.is_file():
        return path
    built_in = WEATHER_DIR / f"{name}.yaml"
    if built_in.is_file():
        return built_in
    raise ConfigError(f"--weather {name!r}: no such file and no built-in scenario of that name "
                      f"(built-in: {', '.join(built_in_scenarios())})")


@dataclass
class NightPlan:
    """When the run starts and ends and how fast the simulated clock goes."""

    start: datetime
    until: datetime | None  # None: until the morning housekeeping is done
    speed: float
    expected_end: datetime


def plan_run(config: Config, *, start: datetime | None, until: str | datetime | None,
             speed: float | None, simulate: bool) -> NightPlan:
    """Resolve ``--start``, ``--until`` and ``--speed`` against the site's twilights."""
    from nocturna.core.astro import site_location

    site = config.model.site
    sun = SunAltitudes(site_location(site))
    flat = site.twilight.flat.to_value("deg")
    clock_settings = config.model.clock
    if start is None and simulate:
        start = clock_settings.start
    if start is None and simulate:
        evening = sun.crossing(flat, datetime.now(UTC), rising=False)
        if evening is None:
            raise ConfigError(f"site {site.name!r}: the Sun does not set below {flat:+g}° in the "
                              "next two days; give --start")
        start = evening - timedelta(minutes=20)
    if start is None:
        start = get_clock().now()
    end_of_night = sun.crossing(flat, start + timedelta(hours=1), rising=True)
    if end_of_night is None:
        raise ConfigError(f"site {site.name!r}: no morning twilight after {start:%Y-%m-%dT%H:%MZ}")
    expected_end = end_of_night + timedelta(hours=1)  # morning flats + housekeeping
    stop: datetime | None = None
    if until is not None and until != MORNING:
        from nocturna.core.clock import parse_instant

        stop = parse_instant(until) if isinstance(until, str) else until
        if stop <= start:
            raise ConfigError(f"--until {stop:%Y-%m-%dT%H:%M:%SZ} is not after the start "
                              f"{start:%Y-%m-%dT%H:%M:%SZ}")
        expected_end = stop
    if speed is None:
        if simulate:
            speed = max(1.0, (expected_end - start).total_seconds() / WALL_SECONDS_PER_NIGHT)
        else:
            speed = clock_settings.speed if clock_settings.mode == "simulated" else 1.0
    return NightPlan(start, stop, float(speed), expected_end)


async def run_night(
    config: Config,
    *,
    simulate: bool = False,
    start: datetime | None = None,
    until: str | datetime | None = MORNING,
    speed: float | None = None,
    fields: str | Path | None = None,
    weather: str | None = None,
    on_status: Callable[[Observatory], None] | None = None,
    on_unit: Callable[[Observatory], None] | None = None,
) -> NightSummary:
    """Run the unit through the night; returns the summary (the unit ends parked/closed)."""
    plan = plan_run(config, start=start, until=until, speed=speed, simulate=simulate)
    simulated = simulate or config.model.clock.mode == "simulated"
    clock: Clock | None = SimClock(plan.start, plan.speed) if simulated else None
    with use_clock(clock) if clock is not None else contextlib.nullcontext():
        return await _run(config, plan, simulate=simulate, fields=fields, weather=weather,
                          on_status=on_status, on_unit=on_unit)


async def _run(config: Config, plan: NightPlan, *, simulate: bool, fields: str | Path | None,
               weather: str | None, on_status: Callable[[Observatory], None] | None,
               on_unit: Callable[[Observatory], None] | None) -> NightSummary:
    from nocturna.core.storage import Storage
    from nocturna.devices.factory import build_devices
    from nocturna.observatory.build import build_observatory
    from nocturna.states import StateMachine

    clock = get_clock()
    site = config.model.site
    scenario = None
    if weather is not None:
        from nocturna.devices.sim.scenario import load_scenario

        scenario = load_scenario(weather_source(weather), start=clock.now(),
                                 timezone=site.timezone,
                                 longitude_deg=float(site.longitude.to_value("deg")))
    devices = build_devices(config, simulate=simulate, scenario=scenario)
    storage = Storage.open(config.model.storage.url, data_dir=config.data_dir)
    unit: Observatory | None = None
    try:
        with clock.paused():  # the run starts at its start time once everything is up
            unit = build_observatory(config, devices, storage, fields=fields)
            if on_unit is not None:
                on_unit(unit)
            await unit.start()
            unit.sun_altitude()  # the day's Sun table
        started = clock.now()
        machine = StateMachine(unit, until=plan.until, until_morning=plan.until is None)
        tasks = [asyncio.ensure_future(record_unit_status(unit))]
        if on_status is not None:
            tasks.append(asyncio.ensure_future(_report(unit, on_status)))
        try:
            await machine.run()
        finally:
            for task in tasks:
                task.cancel()
            await asyncio.gather(*tasks, return_exceptions=True)
        return await summarize(unit, started, clock.now())
    finally:
        if unit is not None:
            with contextlib.suppress(Exception):
                await asyncio.shield(unit.stop())
        else:
            with contextlib.suppress(Exception):
                await devices.disconnect_all()
        storage.close()


async def _report(unit: Observatory, on_status: Callable[[Observatory], None]) -> None:
    """Call ``on_status`` about four times a real second with the unit's status."""
    while True:
        unit.status.sun_alt_deg = unit.sun_altitude()
        on_status(unit)
        await asyncio.sleep(0.25)
