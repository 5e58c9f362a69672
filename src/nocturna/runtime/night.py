"""Running a night: clock, weather scenario, devices, storage, unit, state machine.

:func:`run_night` is what ``nocturna run`` does, as a coroutine: it builds the unit
from the configuration, runs the state machine until the end of the run and returns
the night summary, leaving the unit parked and closed. A unit whose devices are all
simulated must be run on a :class:`~nocturna.core.virtualtime.VirtualTimeLoop` (its
time is virtual); :func:`nocturna.runtime.runner.run` picks the loop, and is what
callers without a loop of their own use.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections.abc import Callable
from datetime import datetime
from pathlib import Path

from nocturna.core.clock import Clock, VirtualClock, get_clock, use_clock
from nocturna.core.config import Config
from nocturna.core.dayobs import observing_day
from nocturna.core.errors import ConfigError
from nocturna.core.events import get_event_bus
from nocturna.core.virtualtime import running_virtual_loop
from nocturna.network.publisher import Publisher
from nocturna.notify import Notifier
from nocturna.observatory.observe import close_open_observations
from nocturna.observatory.summary import NightSummary, summarize
from nocturna.observatory.telemetry import record_unit_status
from nocturna.observatory.unit import Observatory
from nocturna.runtime.control import Operator, UnitControl
from nocturna.runtime.plan import MORNING, NightPlan, plan_run, weather_source
from nocturna.runtime.reconcile import reconcile_images
from nocturna.runtime.resume import resume_night
from nocturna.runtime.status_board import StatusBoard
from nocturna.states.machine import StopRequest

log = logging.getLogger(__name__)

STATUS_EVERY_S = 0.25
"""How often (real seconds) the live status callback is called at most."""


async def run_night(
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
    stop: StopRequest | None = None,
    on_control: Callable[[UnitControl], None] | None = None,
) -> NightSummary:
    """Run the unit through the night; returns the summary (the unit ends parked/closed).

    ``stop``: set it to end the run early (the unit parks and closes first).
    ``on_control``: called with the unit's :class:`~nocturna.runtime.control.UnitControl`
    (operator commands and the status board, kept fresh meanwhile) once the unit and its
    state machine exist, before the night starts.

    With ``network.broker`` set, a :class:`~nocturna.network.publisher.Publisher`
    publishes the night to the broker beside the notifier (and takes network commands
    through the same control); it is stopped after the notifier, flushing for at most
    ``network.flush_timeout``.
    """
    plan = plan_run(config, start=start, until=until, speed=speed, simulate=simulate, seed=seed)
    clock: Clock | None = None
    if plan.virtual:
        loop = running_virtual_loop()
        if loop is None:
            raise ConfigError("a simulated night runs on virtual time: run it with "
                              "nocturna.runtime.runner.run(), or on a "
                              "nocturna.core.virtualtime.VirtualTimeLoop")
        loop.pace = plan.pace
        clock = VirtualClock(plan.start, loop)
    log.info("the run starts at %s on %s (seed %d)", plan.start.isoformat(), plan.time_base,
             plan.seed)
    with use_clock(clock) if clock is not None else contextlib.nullcontext():
        return await _run(config, plan, simulate=simulate, fields=fields, weather=weather,
                          on_status=on_status, on_unit=on_unit, stop=stop,
                          on_control=on_control)


async def _run(config: Config, plan: NightPlan, *, simulate: bool, fields: str | Path | None,
               weather: str | None, on_status: Callable[[Observatory], None] | None,
               on_unit: Callable[[Observatory], None] | None,
               stop: StopRequest | None,
               on_control: Callable[[UnitControl], None] | None = None) -> NightSummary:
    from nocturna.core.storage import Storage
    from nocturna.devices.factory import build_devices
    from nocturna.observatory.build import build_observatory
    from nocturna.states.machine import StateMachine

    clock = get_clock()
    site = config.model.site
    scenario = None
    if weather is not None:
        from nocturna.devices.sim.scenario import load_scenario

        scenario = load_scenario(weather_source(weather), start=clock.now(),
                                 timezone=site.timezone,
                                 longitude_deg=float(site.longitude.to_value("deg")))
    devices = build_devices(config, simulate=simulate, scenario=scenario,
                            seed=plan.seed if plan.virtual else None)
    storage = Storage.open(config.model.storage.url, data_dir=config.data_dir)
    unit: Observatory | None = None
    try:
        publisher = Publisher.from_config(config, storage)
    except BaseException:
        storage.close()
        raise
    notifier = Notifier.from_config(config, announce=publisher.enabled)
    try:
        await publisher.start()
        await notifier.start()
        reconcile_images(storage, config.data_dir)
        unit = build_observatory(config, devices, storage, fields=fields)
        resume_night(unit, clock.now())
        if on_unit is not None:
            on_unit(unit)
        await unit.start()
        unit.sun_altitude()  # the day's Sun table
        started = clock.now()
        _announce(config, "night.started", start=started,
                  night=observing_day(started, site.timezone).isoformat())
        machine = StateMachine(unit, until=plan.until, until_morning=plan.until is None,
                               stop=stop)
        tasks = [asyncio.ensure_future(record_unit_status(unit))]
        if on_control is not None or publisher.enabled:
            board = StatusBoard(unit, time_base="virtual" if plan.virtual else "real")
            tasks.append(asyncio.ensure_future(board.keep()))
            control = UnitControl(unit, machine, board)
            if publisher.enabled:
                publisher.attach(control, network_operator)
            if on_control is not None:
                on_control(control)
        if on_status is not None:
            tasks.append(asyncio.ensure_future(_report(unit, on_status)))
        faults = scenario.faults if scenario is not None else None
        try:
            async with faults.running(clock, data_dir=config.data_dir) if faults is not None \
                    else contextlib.nullcontext():
                await machine.run()
        finally:
            for task in tasks:
                task.cancel()
            await asyncio.gather(*tasks, return_exceptions=True)
            if on_status is not None:
                on_status(unit)  # the last transitions
        close_open_observations(unit)
        summary = await summarize(unit, started, clock.now())
        summary.failure = machine.failure
        summary.seed = plan.seed
        summary.time_base = plan.time_base
        if summary.failure:
            _announce(config, "night.failed", error=summary.failure)
        _announce(config, "night.summary", summary=summary.as_dict())
        await publisher.final_status()
        return summary
    except Exception as exc:
        _announce(config, "night.failed", error=f"{type(exc).__name__}: {exc}")
        raise
    finally:
        if unit is not None:
            with contextlib.suppress(Exception):
                await asyncio.shield(unit.stop())
        else:
            with contextlib.suppress(Exception):
                await devices.disconnect_all()
        try:
            await notifier.stop()  # flushes for at most notifications.flush_timeout
        finally:
            try:
                await publisher.stop()  # flushes for at most network.flush_timeout
            finally:
                storage.close()


def network_operator(name: str) -> Operator:
    """Who sent a command over the network (``mqtt:<by>``): an operator, as only the
    broker's operators may publish commands."""
    return Operator(name, "operator", None)


def _announce(config: Config, topic: str, **data: object) -> None:
    """Publish ``unit.<topic>`` for the notifications (and any other listener)."""
    get_event_bus().publish(f"unit.{topic}", config.model.name, **data)


async def _report(unit: Observatory, on_status: Callable[[Observatory], None]) -> None:
    """Call ``on_status`` with the unit, at most every :data:`STATUS_EVERY_S` real seconds.

    It looks every 0.25 s of the unit's clock but calls back only when enough real
    time has passed, so a night on virtual time is not slowed by its display.
    """
    last = float("-inf")
    while True:
        now = time.monotonic()
        if now - last >= STATUS_EVERY_S:
            last = now
            unit.status.sun_alt_deg = unit.sun_altitude()
            on_status(unit)
        await unit.clock.sleep(min(30.0, STATUS_EVERY_S * unit.clock.speed))
