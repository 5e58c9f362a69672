"""SimCoverCalibrator: cover travel, halt, panel warm-up, brightness limits, errors."""

from __future__ import annotations

import pytest
from sim_device_helpers import device_kwargs, frozen_clock

from nocturna.core.errors import InvalidValueError, NotConnectedError, NotImplementedByDeviceError
from nocturna.devices.sim.covercalibrator import SimCoverCalibrator
from nocturna.devices.types import CalibratorState, CoverState


async def make_panel(**options):
    clock = frozen_clock()
    panel = SimCoverCalibrator("flat", **options, **device_kwargs(clock))
    await panel.connect()
    return panel, clock


async def test_cover_moves_for_its_travel_time_then_opens():
    panel, clock = await make_panel(cover_time_s=10.0)
    assert (await panel.state()).cover_state == CoverState.CLOSED
    await panel.open_cover()
    clock.advance(9.9)
    moving = await panel.state()
    assert moving.cover_state == CoverState.MOVING and moving.cover_moving
    clock.advance(0.1)
    opened = await panel.state()
    assert opened.cover_state == CoverState.OPEN and not opened.cover_moving


async def test_cover_closes_for_its_travel_time():
    panel, clock = await make_panel(cover_open=True, cover_time_s=10.0)
    await panel.close_cover()
    clock.advance(5)
    assert (await panel.state()).cover_state == CoverState.MOVING
    clock.advance(5)
    assert (await panel.state()).cover_state == CoverState.CLOSED


async def test_halted_cover_is_neither_open_nor_closed():
    panel, clock = await make_panel()
    await panel.open_cover()
    clock.advance(4)
    await panel.halt_cover()
    clock.advance(60)
    state = await panel.state()
    assert state.cover_state == CoverState.UNKNOWN and not state.cover_moving


async def test_calibrator_warms_up_before_it_is_ready():
    panel, clock = await make_panel(warmup_s=3.0)
    assert (await panel.state()).calibrator_state == CalibratorState.OFF
    await panel.calibrator_on(128)
    warming = await panel.state()
    assert warming.calibrator_state == CalibratorState.NOT_READY
    assert warming.calibrator_changing and warming.brightness == 128
    clock.advance(3.0)
    ready = await panel.state()
    assert ready.calibrator_state == CalibratorState.READY and not ready.calibrator_changing


async def test_calibrator_off_turns_the_light_off():
    panel, clock = await make_panel()
    await panel.calibrator_on(255)
    clock.advance(10)
    await panel.calibrator_off()
    state = await panel.state()
    assert state.calibrator_state == CalibratorState.OFF and state.brightness == 0


async def test_calibrator_ready_is_published():
    panel, clock = await make_panel(warmup_s=2.0)
    subscription = panel.events.subscribe("covercalibrator.calibrator.*")
    await panel.calibrator_on(10)
    clock.advance(2.0)
    await panel.state()
    assert [e.topic for e in subscription.drain()] == [
        "covercalibrator.calibrator.on", "covercalibrator.calibrator.ready"]


@pytest.mark.parametrize("brightness", [-1, 256, 12.5])
async def test_invalid_brightness_is_refused(brightness):
    panel, _ = await make_panel(max_brightness=255)
    with pytest.raises(InvalidValueError, match=r"0\.\.255"):
        await panel.calibrator_on(brightness)


async def test_missing_cover_is_not_present_and_not_implemented():
    panel, _ = await make_panel(has_cover=False)
    assert (await panel.state()).cover_state == CoverState.NOT_PRESENT
    with pytest.raises(NotImplementedByDeviceError):
        await panel.open_cover()


async def test_missing_calibrator_is_not_present_and_not_implemented():
    panel, _ = await make_panel(has_calibrator=False)
    assert (await panel.info()).max_brightness == 0
    assert (await panel.state()).calibrator_state == CalibratorState.NOT_PRESENT
    with pytest.raises(NotImplementedByDeviceError):
        await panel.calibrator_on(1)


@pytest.mark.parametrize("call", [
    lambda p: p.state(),
    lambda p: p.open_cover(),
    lambda p: p.calibrator_on(10),
    lambda p: p.calibrator_off(),
], ids=["state", "open", "on", "off"])
async def test_members_while_disconnected_raise_not_connected(call):
    panel = SimCoverCalibrator("flat", **device_kwargs(frozen_clock()))
    with pytest.raises(NotConnectedError):
        await call(panel)
