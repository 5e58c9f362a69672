"""Waiting for a camera's image: the default back-off poll, the simulator's exact wake-up,
and Camera.expose on top of them."""

from __future__ import annotations

import asyncio
import dataclasses
from datetime import datetime

import numpy as np
import pytest

from nocturna.core.clock import SimClock
from nocturna.core.errors import (
    DeviceTimeoutError,
    InvalidOperationError,
    NocturnaError,
    NotImplementedByDeviceError,
    OperationCancelledError,
)
from nocturna.core.events import EventBus
from nocturna.devices.camera import Camera, CameraImage, CameraInfo, CameraStatus
from nocturna.devices.sim.camera import SimCamera, SimCameraModel
from nocturna.devices.types import CameraState

START = "2026-12-15T10:00Z"


class JumpClock(SimClock):
    """A simulated clock on which every sleep jumps straight to its end."""

    def __init__(self) -> None:
        super().__init__(START, speed=0)

    async def sleep(self, seconds: float) -> None:
        self.advance(max(0.0, seconds))
        await asyncio.sleep(0)


class ScriptedCamera(Camera):
    """Exposes for the requested time, reads out for ``readout_s``, then has an image.

    ``ends`` = "image" (normal), "abort" (goes idle without an image at ``stop_at``),
    "error" (reports the error state at ``stop_at``). Records when state() is asked.
    """

    driver_name = "scripted"

    def __init__(self, clock: SimClock, *, readout_s: float = 1.0, ends: str = "image",
                 stop_at: float = 0.0) -> None:
        super().__init__("scripted", clock=clock, events=EventBus())
        self.readout_s, self.ends, self.stop_at = readout_s, ends, stop_at
        self.started: datetime | None = None
        self.duration_s = 0.0
        self.polls: list[float] = []  # clock seconds since the exposure started

    def _since_start(self) -> float:
        assert self.started is not None
        return (self.clock.now() - self.started).total_seconds()

    async def info(self) -> CameraInfo:
        raise NotImplementedError

    async def state(self) -> CameraStatus:
        elapsed = self._since_start()
        self.polls.append(round(elapsed, 9))
        ready = False
        if self.ends != "image" and elapsed >= self.stop_at:
            phase = CameraState.IDLE if self.ends == "abort" else CameraState.ERROR
        elif elapsed < self.duration_s:
            phase = CameraState.EXPOSING
        elif elapsed < self.duration_s + self.readout_s:
            phase = CameraState.READING
        else:
            phase, ready = CameraState.IDLE, True
        return CameraStatus(
            camera_state=phase, ccd_temperature_c=0.0, heat_sink_temperature_c=0.0,
            cooler_on=False, cooler_power_pct=0.0, set_ccd_temperature_c=0.0,
            temperature_stable=False, bin_x=1, bin_y=1, start_x=0, start_y=0, num_x=4,
            num_y=4, gain=None, offset=None, readout_mode=0, fast_readout=False,
            image_ready=ready, percent_completed=100, is_pulse_guiding=False,
            last_exposure_duration_s=None, last_exposure_start_time=None)

    async def start_exposure(self, duration_s: float, light: bool = True) -> None:
        self.started, self.duration_s = self.clock.now(), duration_s
        self.polls.clear()

    async def image(self) -> CameraImage:
        assert self.started is not None
        return CameraImage(data=np.zeros((4, 4), np.uint16), start_time=self.started,
                           duration_s=self.duration_s, light=True, bin_x=1, bin_y=1,
                           start_x=0, start_y=0, gain=None, offset=None, readout_mode=0,
                           ccd_temperature_c=0.0, set_ccd_temperature_c=0.0)


async def scripted(**kwargs) -> ScriptedCamera:
    camera = ScriptedCamera(JumpClock(), **kwargs)
    await camera.connect()
    return camera


# --- the default: sleep the exposure time, then poll with a back-off --------------------


async def test_default_wait_sleeps_the_exposure_then_polls_with_a_doubling_back_off():
    camera = await scripted(readout_s=1.0)
    await camera.start_exposure(10.0)
    await camera.wait_until_ready(10.0)
    # 5 ms, then doubling: 10, 20, 40, 80, 160, 320 ms, then capped at 0.5 s.
    assert camera.polls == pytest.approx(
        [10.0, 10.005, 10.015, 10.035, 10.075, 10.155, 10.315, 10.635, 11.135])


async def test_the_back_off_stays_at_half_a_second():
    camera = await scripted(readout_s=3.0)
    await camera.start_exposure(1.0)
    await camera.wait_until_ready(1.0)
    intervals = np.diff(camera.polls)
    assert intervals[-3:] == pytest.approx([0.5, 0.5, 0.5])
    assert camera.polls[-1] == pytest.approx(4.135)


async def test_an_image_ready_at_the_end_of_the_exposure_is_seen_at_once():
    camera = await scripted(readout_s=0.0)
    await camera.start_exposure(2.0)
    await camera.wait_until_ready(2.0)
    assert camera.polls == [2.0]


async def test_default_wait_times_out_on_the_clock():
    camera = await scripted(readout_s=1000.0)
    await camera.start_exposure(10.0)
    with pytest.raises(DeviceTimeoutError, match="within 12 s"):
        await camera.wait_until_ready(10.0, timeout_s=12.0)
    assert camera.polls[-1] == pytest.approx(12.0)


async def test_a_camera_that_goes_idle_without_an_image_was_aborted():
    camera = await scripted(ends="abort", stop_at=4.0)
    await camera.start_exposure(10.0)
    with pytest.raises(OperationCancelledError, match="without an image"):
        await camera.wait_until_ready(10.0)


async def test_a_camera_in_the_error_state_ends_the_wait():
    camera = await scripted(ends="error", stop_at=10.5)
    await camera.start_exposure(10.0)
    with pytest.raises(NocturnaError, match="error"):
        await camera.wait_until_ready(10.0)


async def test_expose_waits_with_wait_until_ready_and_returns_the_image():
    camera = await scripted(readout_s=0.0)
    image = await camera.expose(3.0)
    assert image.duration_s == 3.0 and camera.polls == [3.0]


async def test_stuttered_exposures_are_optional_and_flagged():
    camera = await scripted()
    with pytest.raises(NotImplementedByDeviceError, match="start_stuttered_exposure"):
        await camera.start_stuttered_exposure(1.0, 3, 10)
    can_stutter = next(f for f in dataclasses.fields(CameraInfo) if f.name == "can_stutter")
    assert can_stutter.default is False


# --- the simulator: sleeps until the image is ready, no polling --------------------------

MODEL = SimCameraModel(width=64, height=64, readout_s=2.0, readout_overhead_s=0.5,
                       noise_seed=1)


async def sim_camera(clock: SimClock, model: SimCameraModel = MODEL) -> SimCamera:
    camera = SimCamera("cam0", model=model, clock=clock, events=EventBus())
    await camera.connect()
    return camera


async def settle() -> None:
    for _ in range(10):
        await asyncio.sleep(0)


async def test_the_simulator_wakes_exactly_when_the_image_is_ready_without_polling():
    clock = SimClock(START, speed=0)
    camera = await sim_camera(clock)
    polls = 0
    state = camera.state

    async def counting_state():
        nonlocal polls
        polls += 1
        return await state()

    camera.state = counting_state  # type: ignore[method-assign]
    await camera.start_exposure(10.0)
    waiter = asyncio.ensure_future(camera.wait_until_ready(10.0))
    clock.advance(12.49)  # 10 s exposure + 2 s readout + 0.5 s overhead = 12.5 s
    await settle()
    assert not waiter.done()
    clock.advance(0.01)
    await asyncio.wait_for(waiter, 1)
    assert polls == 0
    assert (await camera.image()).duration_s == 10.0


async def test_zero_readout_makes_the_image_ready_at_the_end_of_the_exposure():
    clock = SimClock(START, speed=0)
    model = dataclasses.replace(MODEL, readout_s=0.0, fast_readout_s=0.0,
                                readout_overhead_s=0.0)
    camera = await sim_camera(clock, model)
    await camera.start_exposure(5.0)
    waiter = asyncio.ensure_future(camera.wait_until_ready(5.0))
    clock.advance(5.0)
    await asyncio.wait_for(waiter, 1)
    assert (await camera.state()).image_ready


async def test_the_simulator_wait_ends_at_once_on_abort():
    clock = SimClock(START, speed=0)
    camera = await sim_camera(clock)
    await camera.start_exposure(100.0)
    waiter = asyncio.ensure_future(camera.wait_until_ready(100.0))
    clock.advance(3)
    await settle()
    await camera.abort_exposure()
    with pytest.raises(OperationCancelledError, match="abandoned"):
        await asyncio.wait_for(waiter, 1)


async def test_the_simulator_wait_follows_a_stopped_exposure():
    clock = SimClock(START, speed=0)
    camera = await sim_camera(clock)
    await camera.start_exposure(100.0)
    waiter = asyncio.ensure_future(camera.wait_until_ready(100.0))
    clock.advance(20)
    await settle()
    await camera.stop_exposure()
    clock.advance(2.5)  # the readout of the stopped exposure
    await asyncio.wait_for(waiter, 1)
    assert (await camera.image()).duration_s == pytest.approx(20.0)


async def test_the_simulator_wait_times_out_on_the_clock():
    clock = SimClock(START, speed=0)
    camera = await sim_camera(clock)
    await camera.start_exposure(100.0)
    waiter = asyncio.ensure_future(camera.wait_until_ready(100.0, timeout_s=30.0))
    await settle()  # the wait starts now: its 30 s count from here
    clock.advance(29.9)
    await settle()
    assert not waiter.done()
    clock.advance(0.2)
    with pytest.raises(DeviceTimeoutError, match="within 30 s"):
        await asyncio.wait_for(waiter, 1)


async def test_waiting_without_an_exposure_is_an_invalid_operation():
    camera = await sim_camera(SimClock(START, speed=0))
    with pytest.raises(InvalidOperationError, match="no exposure"):
        await camera.wait_until_ready(1.0)


async def test_expose_on_the_simulator_returns_the_frame_at_real_time_pace():
    clock = SimClock(START, speed=1.0)
    model = dataclasses.replace(MODEL, readout_s=0.0, readout_overhead_s=0.0)
    camera = await sim_camera(clock, model)
    image = await asyncio.wait_for(camera.expose(0.001), 10)
    assert image.data.shape == (64, 64) and image.duration_s == 0.001
