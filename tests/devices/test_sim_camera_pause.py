"""Pausing an exposure (azcam's pause/resume): the simulator closes the shutter and stops
the integration timer; cameras without a pause refuse it with a clear error."""

from __future__ import annotations

import asyncio
import dataclasses
from datetime import timedelta

import pytest

from nocturna.core.clock import SimClock, use_clock
from nocturna.core.errors import (
    InvalidOperationError,
    NotImplementedByDeviceError,
    OperationCancelledError,
)
from nocturna.core.events import EventBus
from nocturna.devices.camera import Camera, CameraImage, CameraInfo, CameraStatus
from nocturna.devices.sim.camera import SimCamera, SimCameraModel
from nocturna.devices.types import CameraState

START = "2026-12-15T10:00Z"
# Readout: 1.0 s for the full frame + 0.05 s overhead.
MODEL = SimCameraModel(width=64, height=64, readout_s=1.0, readout_overhead_s=0.05,
                       noise_seed=1)
READOUT_S = 1.05


@pytest.fixture
def clock():
    clock = SimClock(START, speed=0)  # time moves only through advance()
    with use_clock(clock):
        yield clock


@pytest.fixture
async def camera(clock):
    camera = SimCamera("cam0", model=MODEL, clock=clock, events=EventBus())
    await camera.connect()
    yield camera
    await camera.disconnect()


async def settle() -> None:
    for _ in range(10):
        await asyncio.sleep(0)


async def test_a_paused_exposure_is_ready_after_its_full_open_time(clock, camera):
    t0 = clock.now()
    await camera.start_exposure(10.0)
    waiting = asyncio.ensure_future(camera.wait_until_ready(10.0))
    clock.advance(3.0)
    await camera.pause_exposure()
    state = await camera.state()
    assert state.camera_state == CameraState.EXPOSING and state.paused
    assert state.percent_completed == 30
    clock.advance(5.0)  # t = 8 s: still paused, the timer has not moved
    await settle()
    state = await camera.state()
    assert state.camera_state == CameraState.EXPOSING and state.paused
    assert state.percent_completed == 30
    assert not waiting.done()
    await camera.resume_exposure()
    assert not (await camera.state()).paused
    clock.advance(6.9)  # t = 14.9 s: 9.9 s of light
    await settle()
    assert (await camera.state()).camera_state == CameraState.EXPOSING
    clock.advance(0.1)  # t = 15 s: the full 10 s collected, reading out
    await settle()
    assert (await camera.state()).camera_state == CameraState.READING
    assert not waiting.done()
    clock.advance(READOUT_S - 0.01)
    await settle()
    assert not waiting.done()
    clock.advance(0.01)
    await asyncio.wait_for(waiting, 5)
    assert clock.now() - t0 == timedelta(seconds=15 + READOUT_S)
    image = await camera.image()
    assert image.duration_s == 10.0 and image.start_time == t0
    assert image.extra["paused_s"] == pytest.approx(5.0)
    status = await camera.state()
    assert status.image_ready and not status.paused
    assert status.last_exposure_duration_s == 10.0


async def test_pause_twice_sums_the_closed_time(clock, camera):
    await camera.start_exposure(4.0)
    for _ in range(2):
        clock.advance(1.0)
        await camera.pause_exposure()
        clock.advance(2.5)
        await camera.resume_exposure()
    # 2 s open, 5 s closed so far: 2 s still to collect.
    clock.advance(1.99)
    assert (await camera.state()).camera_state == CameraState.EXPOSING
    clock.advance(0.01 + READOUT_S)
    await settle()
    assert (await camera.state()).image_ready
    assert (await camera.image()).extra["paused_s"] == pytest.approx(5.0)


async def test_stop_while_paused_keeps_the_light_collected(clock, camera):
    await camera.start_exposure(10.0)
    clock.advance(2.0)
    await camera.pause_exposure()
    clock.advance(30.0)
    await camera.stop_exposure()
    clock.advance(READOUT_S)
    await settle()
    assert (await camera.image()).duration_s == pytest.approx(2.0)


async def test_abort_while_paused_leaves_no_image(clock, camera):
    await camera.start_exposure(10.0)
    waiting = asyncio.ensure_future(camera.wait_until_ready(10.0))
    clock.advance(1.0)
    await camera.pause_exposure()
    await camera.abort_exposure()
    with pytest.raises(OperationCancelledError):
        await asyncio.wait_for(waiting, 5)
    state = await camera.state()
    assert state.camera_state == CameraState.IDLE and not state.paused
    with pytest.raises(InvalidOperationError, match="no paused exposure"):
        await camera.resume_exposure()


async def test_pause_and_resume_refuse_the_wrong_state(clock, camera):
    with pytest.raises(InvalidOperationError, match="no exposure in progress to pause"):
        await camera.pause_exposure()
    with pytest.raises(InvalidOperationError, match="no paused exposure to resume"):
        await camera.resume_exposure()
    await camera.start_exposure(2.0)
    with pytest.raises(InvalidOperationError, match="no paused exposure to resume"):
        await camera.resume_exposure()
    await camera.pause_exposure()
    with pytest.raises(InvalidOperationError, match="already paused"):
        await camera.pause_exposure()
    await camera.resume_exposure()
    clock.advance(2.0)  # reading out: nothing to pause any more
    with pytest.raises(InvalidOperationError, match="no exposure in progress to pause"):
        await camera.pause_exposure()
    clock.advance(READOUT_S)
    await settle()
    assert (await camera.state()).image_ready


async def test_a_stuttered_exposure_cannot_pause(clock, camera):
    await camera.start_stuttered_exposure(1.0, 2, 4)
    with pytest.raises(InvalidOperationError, match="stuttered exposure cannot be paused"):
        await camera.pause_exposure()
    await camera.abort_exposure()


async def test_the_simulator_says_it_can_pause(camera):
    assert (await camera.info()).can_pause


class NoPauseCamera(Camera):
    """The smallest camera: it has no pause (the interface's default)."""

    driver_name = "nopause"

    async def info(self) -> CameraInfo:
        raise NotImplementedError

    async def state(self) -> CameraStatus:
        raise NotImplementedError

    async def start_exposure(self, duration_s: float, light: bool = True) -> None:
        return None

    async def image(self) -> CameraImage:
        raise NotImplementedError


async def test_cameras_without_pause_say_so(clock):
    camera = NoPauseCamera("plain", clock=clock, events=EventBus())
    await camera.connect()
    with pytest.raises(NotImplementedByDeviceError, match=r"cannot pause.*ASCOM"):
        await camera.pause_exposure()
    with pytest.raises(NotImplementedByDeviceError, match="resume_exposure"):
        await camera.resume_exposure()
    defaults = {f.name: f.default for f in dataclasses.fields(CameraInfo)}
    assert defaults["can_pause"] is False
    assert {f.name: f.default for f in dataclasses.fields(CameraStatus)}["paused"] is False
