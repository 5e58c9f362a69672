"""Proof against software nocturna did not write: the official ASCOM client, alpyca,
driving nocturna's Alpaca server (simulated unit, real HTTP on 127.0.0.1).

The devices run on a simulated clock 50× faster than real time, so slews, shutter
and focuser moves end in a fraction of a real second while alpyca polls in real time.
"""

from __future__ import annotations

import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from datetime import UTC, datetime
from pathlib import Path

import httpx
import numpy as np
import pytest
from alpaca import discovery, management
from alpaca.camera import Camera
from alpaca.dome import Dome, ShutterState
from alpaca.exceptions import InvalidValueException, ParkedException
from alpaca.filterwheel import FilterWheel
from alpaca.focuser import Focuser
from alpaca.telescope import Telescope
from astropy.io import fits

from nocturna.alpaca.runner import ServerThread, start_in_thread
from nocturna.core.clock import SimClock, use_clock
from nocturna.devices.factory import build_devices
from nocturna.devices.sim.camera import SimCameraModel
from nocturna.devices.sim.sky.render import FrameSpec, hot_pixels
from unit_helpers import unit_config

WORKFLOW = Path(__file__).parent / "data" / "alpyca_fits_workflow.py"
"""Our script making the calls of alpyca's documented camera-to-FITS workflow."""
WIDTH, HEIGHT = 320, 240


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ServerThread]:
    tmp = tmp_path_factory.mktemp("alpyca")
    camera = {"name": "cam0", "driver": "sim", "primary": True, "filterwheel": "fw0",
              "focuser": "foc0", "width": WIDTH, "height": HEIGHT}
    config = unit_config(tmp, cameras=[camera])
    with use_clock(SimClock(datetime.now(UTC), 50.0)):
        devices = build_devices(config, simulate=True)
        with start_in_thread(devices, unit="proof-unit", discovery_port=0) as running:
            yield running


@pytest.fixture(scope="module")
def address(server: ServerThread) -> str:
    return server.url.removeprefix("http://")


def wait_for(condition: Callable[[], bool], timeout_s: float = 20.0) -> None:
    deadline = time.monotonic() + timeout_s
    while not condition():
        assert time.monotonic() < deadline, "condition not reached in time"
        time.sleep(0.05)


def test_alpyca_fits_workflow_writes_the_camera_image_in_fits_order(
        address: str, tmp_path: Path) -> None:
    out = tmp_path / "frame.fits"
    run = subprocess.run([sys.executable, str(WORKFLOW), "--address", address, "--seconds",
                          "2", "--out", str(out)], capture_output=True, text=True, timeout=120)
    assert run.returncode == 0, run.stderr
    assert f"wrote {out}: ({WIDTH}, {HEIGHT}) pixels" in run.stdout

    with fits.open(out) as hdul:
        header, data = hdul[0].header, hdul[0].data
        assert data.shape == (HEIGHT, WIDTH)  # FITS: NAXIS1 = x, numpy (y, x)
        assert (header["NAXIS1"], header["NAXIS2"]) == (WIDTH, HEIGHT)
        assert header["BITPIX"] == 16 and header["BZERO"] == 32768
        assert header["EXPTIME"] == pytest.approx(2.0)
        assert header["INSTRUME"] == "nocturna-sim-2k"
        assert (header["XBINNING"], header["YBINNING"]) == (1, 1)
        start = datetime.fromisoformat(header["DATE-OBS"])
        assert abs((datetime.now(UTC).replace(tzinfo=None) - start).days) <= 1
        # a dark-looking frame (closed dome) at the simulated sensor's bias level
        assert abs(float(np.median(data)) - 310) < 10  # bias 300 ADU + offset 10
        assert 1 < float(data.std()) < 50  # read noise and dark current, not a constant
        # orientation: the simulated sensor's hottest pixels are where its model puts them
        hx, hy, factor = hot_pixels(WIDTH, HEIGHT, SimCameraModel.hot_pixel_fraction,
                                    SimCameraModel.sensor_seed, FrameSpec.hot_pixel_factor)
        hottest = np.argsort(factor)[-3:]
        floor = np.median(data) + 10 * data.std()
        assert (data[hy[hottest], hx[hottest]] > floor).all()


def test_alpyca_image_array_is_the_json_image_array_of_the_same_frame(address: str) -> None:
    camera = Camera(address, 0)
    camera.Connected = True
    try:
        camera.StartExposure(0.5, False)
        wait_for(lambda: camera.ImageReady)
        pixels = np.asarray(camera.ImageArray)  # alpyca decodes nocturna's ImageBytes
        assert camera.ImageArrayInfo.Rank == 2
        with httpx.Client(timeout=30) as http:  # no Accept header: the JSON form
            reply = http.get(f"http://{address}/api/v1/camera/0/imagearray").json()
        assert reply["ErrorNumber"] == 0 and (reply["Type"], reply["Rank"]) == (2, 2)
        assert pixels.shape == (WIDTH, HEIGHT)  # ASCOM order: [x][y]
        assert np.array_equal(pixels, np.asarray(reply["Value"]))
    finally:
        camera.Connected = False


def test_telescope_unparks_slews_and_parks(address: str) -> None:
    scope = Telescope(address, 0)
    scope.Connected = True
    try:
        if scope.AtPark:
            scope.Unpark()
        scope.Tracking = True
        ra, dec = scope.SiderealTime, scope.SiteLatitude  # the zenith
        scope.SlewToCoordinatesAsync(ra, dec)
        wait_for(lambda: not scope.Slewing)
        assert abs(scope.Declination - dec) < 1 / 60
        assert abs((scope.RightAscension - ra + 12) % 24 - 12) * 15 < 0.5  # tracking drift
        assert scope.Altitude > 80
        scope.Park()
        wait_for(lambda: scope.AtPark)
        with pytest.raises(ParkedException):
            scope.SlewToCoordinatesAsync(ra, dec)
    finally:
        scope.Connected = False


def test_dome_opens_turns_and_closes(address: str) -> None:
    dome = Dome(address, 0)
    dome.Connected = True
    try:
        dome.OpenShutter()
        wait_for(lambda: dome.ShutterStatus == ShutterState.shutterOpen)
        dome.SlewToAzimuth(90.0)
        wait_for(lambda: not dome.Slewing)
        assert dome.Azimuth == pytest.approx(90.0, abs=0.5)
        with pytest.raises(InvalidValueException):
            dome.SlewToAzimuth(400.0)
        dome.CloseShutter()
        wait_for(lambda: dome.ShutterStatus == ShutterState.shutterClosed)
    finally:
        dome.Connected = False


def test_focuser_moves_to_a_position(address: str) -> None:
    focuser = Focuser(address, 0)
    focuser.Connected = True
    try:
        assert focuser.Absolute
        target = min(focuser.MaxStep, focuser.Position + 500)
        focuser.Move(target)
        wait_for(lambda: not focuser.IsMoving)
        assert focuser.Position == target
    finally:
        focuser.Connected = False


def test_filter_wheel_changes_filter(address: str) -> None:
    wheel = FilterWheel(address, 0)
    wheel.Connected = True
    try:
        names = wheel.Names
        assert len(names) == len(wheel.FocusOffsets) >= 3
        wheel.Position = 2
        wait_for(lambda: wheel.Position == 2)
        with pytest.raises(InvalidValueException):
            wheel.Position = len(names)
    finally:
        wheel.Connected = False


def test_alpyca_discovery_finds_the_server_and_lists_its_devices(
        server: ServerThread, address: str, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(discovery, "port", server.discovery_port)
    found = discovery.search_ipv4(numquery=1, timeout=1)
    assert f"127.0.0.1:{server.port}" in found
    devices = management.configureddevices(address)
    kinds = {d["DeviceType"] for d in devices}
    assert {"Camera", "Telescope", "Dome", "Focuser", "FilterWheel"} <= kinds
    assert len({d["UniqueID"] for d in devices}) == len(devices)
