"""Devices and a client for the Alpaca server tests: small simulators, a camera whose
pixels the test chooses, and a few assertions about Alpaca replies."""

from __future__ import annotations

import asyncio
import socket
import time
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

import httpx
import numpy as np
import uvloop

from nocturna.core.errors import InvalidOperationError
from nocturna.devices.camera import Camera, CameraImage, CameraInfo, CameraStatus
from nocturna.devices.factory import DeviceSet
from nocturna.devices.sim.camera import SimCamera, SimCameraModel
from nocturna.devices.sim.mount import SimMount
from nocturna.devices.types import CameraState, SensorType

EVENT_LOOPS = {"uvloop": uvloop.new_event_loop, "asyncio": asyncio.new_event_loop}
"""The event loops transport tests serve on: uvloop's, which ``nocturna alpaca serve``
runs on, and asyncio's own (their transports differ: sendfile, buffering, writes)."""

TRANSACTION_KEYS = ("ClientTransactionID", "ServerTransactionID", "ErrorNumber",
                    "ErrorMessage")


class FakeCamera(Camera):
    """A camera whose image is :attr:`data` (settable), ready as soon as exposed."""

    driver_name = "fake"

    def __init__(self, name: str, data: np.ndarray, *, broken: bool = False) -> None:
        super().__init__(name)
        self.data = data
        self.broken = broken  # state() raises an unexpected exception
        self._exposure: tuple[datetime, float] | None = None

    async def info(self) -> CameraInfo:
        height, width = self.data.shape[:2]
        return CameraInfo(
            sensor_name="fake", sensor_type=SensorType.MONOCHROME, width=width,
            height=height, pixel_size_x_um=5.0, pixel_size_y_um=5.0, max_bin_x=1,
            max_bin_y=1, can_asymmetric_bin=False, full_well_e=1e5, electrons_per_adu=1.0,
            max_adu=65535, exposure_min_s=0.0, exposure_max_s=10.0,
            exposure_resolution_s=0.001, readout_modes=["normal"], has_shutter=False,
            can_abort_exposure=False, can_stop_exposure=False, can_pulse_guide=False,
            can_set_ccd_temperature=False, can_get_cooler_power=False, can_fast_readout=False)

    async def state(self) -> CameraStatus:
        if self.broken:
            raise RuntimeError("the fake camera's firmware crashed")
        height, width = self.data.shape[:2]
        last = self._exposure
        return CameraStatus(
            camera_state=CameraState.IDLE, ccd_temperature_c=20.0,
            heat_sink_temperature_c=20.0, cooler_on=False, cooler_power_pct=0.0,
            set_ccd_temperature_c=20.0, temperature_stable=False, bin_x=1, bin_y=1,
            start_x=0, start_y=0, num_x=width, num_y=height, gain=None, offset=None,
            readout_mode=0, fast_readout=False, image_ready=last is not None,
            percent_completed=100 if last else 0, is_pulse_guiding=False,
            last_exposure_duration_s=last[1] if last else None,
            last_exposure_start_time=last[0] if last else None)

    async def start_exposure(self, duration_s: float, light: bool = True) -> None:
        self._exposure = (datetime.now(UTC), float(duration_s))

    async def image(self) -> CameraImage:
        if self._exposure is None:
            raise InvalidOperationError("no image is ready")
        start, duration = self._exposure
        return CameraImage(self.data, start, duration, True, 1, 1, 0, 0, None, None, 0,
                           20.0, 20.0)


def small_sim_camera(name: str = "cam0", mount: SimMount | None = None) -> SimCamera:
    """A 64 × 48 simulated camera that reads out at once."""
    model = SimCameraModel(width=64, height=48, readout_s=0.0, fast_readout_s=0.0,
                           readout_overhead_s=0.0, max_bin=4)
    return SimCamera(name, model=model, mount=mount)


def fast_mount(name: str = "mount0") -> SimMount:
    """A simulated mount that slews at 90°/s and settles in 0.1 s (starts parked)."""
    return SimMount(name, slew_rate_deg_s=90.0, slew_settle_time_s=0.1, min_altitude_deg=0.0)


def unit(*cameras: Camera, mount: SimMount | None = None) -> DeviceSet:
    """A unit with ``mount`` and ``cameras`` (numbered in this order)."""
    return DeviceSet(mount=mount, cameras={camera.name: camera for camera in cameras})


def free_udp_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def alpaca_body(response: httpx.Response) -> dict[str, Any]:
    """The JSON body of a 200 reply, checked for the keys every reply carries."""
    assert response.status_code == 200, response.text
    assert response.headers["content-type"] == "application/json; charset=utf-8"
    body = response.json()
    for key in TRANSACTION_KEYS:
        assert key in body, (key, body)
    return body


def ok(response: httpx.Response) -> Any:
    """The ``Value`` of a successful reply (None for a method)."""
    body = alpaca_body(response)
    assert body["ErrorNumber"] == 0 and body["ErrorMessage"] == "", body
    return body.get("Value")


def error_number(response: httpx.Response) -> int:
    """The ``ErrorNumber`` of a failed reply (which has a message and no Value)."""
    body = alpaca_body(response)
    assert body["ErrorNumber"] != 0 and body["ErrorMessage"], body
    assert "Value" not in body, body
    return int(body["ErrorNumber"])


def rejected(response: httpx.Response) -> str:
    """The text of an HTTP 400 reply."""
    assert response.status_code == 400, (response.status_code, response.text)
    assert response.headers["content-type"] == "text/plain; charset=utf-8"
    assert response.text
    return response.text


def wait_for(condition: Callable[[], bool], timeout_s: float = 10.0) -> None:
    """Poll ``condition`` until true (fails after ``timeout_s``)."""
    deadline = time.monotonic() + timeout_s
    while not condition():
        assert time.monotonic() < deadline, "condition not met in time"
        time.sleep(0.02)
