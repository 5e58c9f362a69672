"""The state machine on a simulated unit: cancelling parks and closes; meridian flips."""

from __future__ import annotations

import asyncio
from datetime import timedelta
from typing import Any

import pytest

from nocturna.core.clock import SimClock, VirtualClock, use_clock
from nocturna.devices.types import ShutterState
from nocturna.observatory.observe import needs_meridian_flip
from nocturna.scheduler import Field, Observation
from nocturna.scheduler.settings import configured_fields
from nocturna.states import StateMachine
from unit_helpers import MIDNIGHT, close_unit, make_unit, unit_config


async def advance_until_done(clock: SimClock, work: Any) -> None:
    """Run ``work`` on a stopped clock, moving it a second at a time."""
    task = asyncio.ensure_future(work)
    while not task.done():
        clock.advance(1.0)
        await asyncio.sleep(0)
    await task


@pytest.mark.virtual_time
async def test_cancelling_the_run_parks_and_closes(tmp_path):
    config = unit_config(tmp_path)
    with use_clock(VirtualClock(MIDNIGHT)):
        unit = make_unit(config, fields=configured_fields(config.model.scheduler))
        await unit.start()
        try:
            machine = StateMachine(unit)
            run = asyncio.ensure_future(machine.run())
            for _ in range(600):
                if machine.state == "observing":
                    break
                await asyncio.sleep(5.0)
            assert machine.state == "observing"
            run.cancel()
            await asyncio.gather(run, return_exceptions=True)
            assert (await unit.mount.state()).at_park
            assert (await unit.dome.state()).shutter_status == ShutterState.CLOSED
            reasons = [t.reason for t in unit.storage.list_transitions()]
            assert any("run cancelled" in r for r in reasons)
        finally:
            await close_unit(unit)


async def test_tracking_past_the_meridian_asks_for_a_flip(tmp_path):
    config = unit_config(tmp_path)
    with use_clock(SimClock(MIDNIGHT, speed=0.0)) as clock:
        unit = make_unit(config)
        await unit.start()
        try:
            status = await unit.mount.state()
            ra_deg = (status.sidereal_time_hours * 15.0 + 1.0) % 360.0  # 1° east of it
            observation = Observation(Field("east", ra_deg, 19.0))
            await unit.mount.unpark()
            await unit.mount.set_tracking(True)
            await advance_until_done(clock, unit.mount.slew_and_wait(ra_deg / 15.0, 19.0))
            assert not await needs_meridian_flip(unit, observation)
            clock.set_time(clock.now() + timedelta(minutes=16))  # 3° past the meridian
            assert await needs_meridian_flip(unit, observation)
            await advance_until_done(clock, unit.mount.slew_and_wait(ra_deg / 15.0, 19.0))
            assert not await needs_meridian_flip(unit, observation)
        finally:
            await close_unit(unit)


@pytest.mark.virtual_time
async def test_the_run_ends_at_until_though_every_state_is_shorter_than_a_check(tmp_path):
    """Sets of one 2 s frame make every working state far shorter than the 10 min
    safety check interval: the end of the run still comes at ``until``, at the next
    transition, not when some state happens to last a whole interval."""
    config = unit_config(tmp_path, observatory={"safety": {"check_interval": "10 min"}})
    with use_clock(VirtualClock(MIDNIGHT)) as clock:
        unit = make_unit(config)
        await unit.start()
        try:
            status = await unit.mount.state()
            overhead_deg = status.sidereal_time_hours * 15.0
            unit.scheduler.add_field(Field("overhead", overhead_deg, 19.5,
                                           exptimes_s=(2.0,), min_nexp=1000,
                                           exp_set_size=1))
            until = clock.now() + timedelta(minutes=5)
            machine = StateMachine(unit, until=until)
            await machine.run()
            transitions = unit.storage.list_transitions()
            ends = [t for t in transitions if t.reason == "end of the run"]
            assert ends, [(t.to_state, t.reason) for t in transitions]
            assert until <= ends[0].time < until + timedelta(seconds=30)
            assert machine.state in ("parked", "sleeping")
            assert (await unit.dome.state()).shutter_status == ShutterState.CLOSED
        finally:
            await close_unit(unit)
