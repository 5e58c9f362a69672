"""Parking and closing never wait on the second camera's write, and lose none of its
frames; a unit with two cameras observes with both by default."""

from __future__ import annotations

import asyncio
import threading
from pathlib import Path
from typing import Any

from nocturna.core.clock import SimClock, use_clock
from nocturna.devices.types import ShutterState
from nocturna.observatory.observe import take_set
from nocturna.scheduler import Field, Observation
from unit_helpers import FOCUSED, MIDNIGHT, SMALL_CAMERA, close_unit, make_unit, unit_config

SECOND_CAMERA = {**{k: v for k, v in SMALL_CAMERA.items() if k != "filterwheel"},
                 "name": "cam1", "primary": False, "focuser": "foc1"}
SECOND_FOCUSER = {**FOCUSED, "name": "foc1"}


class StuckDisk:
    """An encoder whose writes wait until :attr:`release` is set (a disk that hangs)."""

    def __init__(self, encoder: Any) -> None:
        self.encoder = encoder
        self.started = threading.Event()
        self.release = threading.Event()

    def __getattr__(self, name: str) -> Any:
        return getattr(self.encoder, name)

    def write(self, *args: Any, **kwargs: Any) -> Any:
        self.started.set()
        self.release.wait()
        return self.encoder.write(*args, **kwargs)


def two_camera_config(tmp_path: Path):
    return unit_config(tmp_path, cameras=[SMALL_CAMERA, SECOND_CAMERA],
                       focusers=[FOCUSED, SECOND_FOCUSER])


async def overhead(unit: Any, name: str, frames: int) -> Observation:
    status = await unit.mount.state()
    field = Field(name, status.sidereal_time_hours * 15.0, 19.5, exptimes_s=(2.0,),
                  min_nexp=frames, exp_set_size=frames)
    unit.scheduler.add_field(field)
    observation = unit.observations[name] = unit.current = Observation(field)
    return observation


async def test_parking_does_not_wait_for_the_second_cameras_write(tmp_path):
    with use_clock(SimClock(MIDNIGHT, speed=50.0)):
        unit = make_unit(two_camera_config(tmp_path))
        second = unit.instruments["cam1"]
        disk = StuckDisk(second.pipeline.encoder)
        second.pipeline.encoder = disk
        await unit.start()
        try:
            await unit.open_up()
            observation = await overhead(unit, "overhead", 10)
            await unit.slew_to_current()
            observing = asyncio.ensure_future(take_set(unit, observation))
            while not disk.started.is_set():
                assert not observing.done(), "the second camera wrote nothing"
                await asyncio.sleep(0.01)
            parking = unit.begin_park_and_close()  # as the state machine does when unsafe
            observing.cancel()
            await asyncio.wait_for(asyncio.shield(parking), 120.0)  # never hangs the test
            assert not disk.release.is_set() and disk.started.is_set()
            assert (await unit.mount.state()).at_park
            assert (await unit.dome.state()).shutter_status == ShutterState.CLOSED
            disk.release.set()
            await asyncio.gather(observing, return_exceptions=True)
            rows = unit.storage.list_exposures(camera="cam1")
            assert rows and all(Path(r.path).is_file() for r in rows)  # nothing lost
        finally:
            disk.release.set()
            await close_unit(unit)


async def test_the_second_camera_takes_each_frame_with_the_primary(tmp_path):
    with use_clock(SimClock(MIDNIGHT, speed=50.0)):
        unit = make_unit(two_camera_config(tmp_path))
        await unit.start()
        try:
            assert [i.name for i in unit.imaging_followers] == ["cam1"]
            await unit.open_up()
            observation = await overhead(unit, "overhead", 3)
            await unit.slew_to_current()
            assert await take_set(unit, observation) == 3
            assert observation.exposures_taken == 3  # the primary's frames make the plan
            rows = unit.storage.list_exposures(image_type="OBJECT")
            cameras = sorted(r.camera for r in rows)
            assert cameras == ["cam0"] * 3 + ["cam1"] * 3
            groups = {r.header["GROUPID"] for r in rows}
            assert len(groups) == 1
            assert sorted((r.header["VISIT"], r.camera) for r in rows) == \
                [(v, c) for v in (1, 2, 3) for c in ("cam0", "cam1")]
            assert len({r.header["EXPID"] for r in rows}) == 6
            assert unit.storage.exposure_counts(image_type="OBJECT") == {"cam0": 3, "cam1": 3}
        finally:
            await close_unit(unit)
