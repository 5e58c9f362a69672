"""The DSLR driver against the stand-in that replays recorded Canon EOS responses.

Boundary: the gphoto2 layer interface nocturna owns. libgphoto2's virtual camera has no
Canon widgets (test_libgphoto2_vcamera.py), so the Canon path (eosremoterelease bulb,
iso, imageformat, ownername, serial number) is checked on widgets recorded from real
Canon cameras, serving a DNG written to the spec as the raw file.
"""

from __future__ import annotations

import asyncio

import numpy as np
import pytest

from component_helpers import next_change
from nocturna.components import DeviceComponent, RecoveryPolicy, SummaryState
from nocturna.core.clock import SimClock, use_clock
from nocturna.core.config.models import DeviceConfig
from nocturna.core.errors import ConfigError, InvalidValueError, NotConnectedError
from nocturna.core.events import EventBus
from nocturna.devices.gphoto2.camera import Gphoto2Camera
from nocturna.devices.gphoto2.dng import dng_bytes
from nocturna.devices.gphoto2.layer import CameraGoneError
from nocturna.devices.gphoto2.standin import FileSource, ReplayCamera, ReplayLayer
from nocturna.devices.types import CameraState

RECORDED_SERIAL = "ABAEF5B71140D804CB09C2A9F28C4844"
PIXELS = np.random.default_rng(5).integers(0, 4096, (40, 60), dtype=np.uint16)
DNG = dng_bytes(PIXELS, pattern="RGGB", white_level=4095)


@pytest.fixture
def clock():
    clock = SimClock("2026-12-15T08:00Z", speed=200.0)
    with use_clock(clock):
        yield clock


def eos(port: str, serial: str | None = None, *, clock=None) -> ReplayCamera:
    values = {"serialnumber": serial} if serial else None
    return ReplayCamera("Canon EOS 100D", port, FileSource(DNG, "dng"), values=values,
                        clock=clock)


def driver(layer, clock, **options) -> Gphoto2Camera:
    options.setdefault("image_format", "RAW")
    return Gphoto2Camera("cam", layer=layer, clock=clock, events=EventBus(), **options)


async def test_a_bulb_exposure_presses_waits_releases_and_downloads_the_raw(clock):
    canon = eos("usb:001,005", clock=clock)
    camera = driver(ReplayLayer([canon]), clock, iso=400, owner_name="PAN012")
    await camera.connect()
    assert ("iso", "400") in canon.settings_log
    assert ("imageformat2", "RAW") in canon.settings_log  # imageformat offers no RAW
    assert ("ownername", "PAN012") in canon.settings_log
    start = clock.now()
    await camera.start_exposure(30.0)
    assert (await camera.state()).camera_state == CameraState.EXPOSING
    assert canon.settings_log[-1] == ("eosremoterelease", "Press Full")
    await camera.wait_until_ready(30.0)
    assert (clock.now() - start).total_seconds() >= 30.0
    releases = [v for k, v in canon.settings_log if k == "eosremoterelease"]
    assert releases == ["Press Full", "Release Full"]
    image = await camera.image()
    assert np.array_equal(image.data, PIXELS)
    assert image.duration_s == 30.0 and start <= image.start_time
    cards = image.extra["header_cards"]
    assert cards["BAYERPAT"][0] == "RGGB"
    assert cards["ISOSPEED"][0] == 400
    assert cards["CAMSERNO"][0] == RECORDED_SERIAL
    info = await camera.info()
    assert (info.width, info.height) == (60, 40)
    assert (info.bayer_offset_x, info.bayer_offset_y) == (0, 0)
    assert info.gains is not None and info.gains[image.gain] == "400"
    await camera.disconnect()


async def test_an_iso_or_format_the_camera_does_not_offer_is_refused_by_name(clock):
    with pytest.raises(InvalidValueError, match="iso '150' is not offered"):
        await driver(ReplayLayer([eos("usb:001,005")]), clock, iso=150).connect()
    with pytest.raises(InvalidValueError, match="image format 'TIFF' is not offered"):
        await driver(ReplayLayer([eos("usb:001,005")]), clock, image_format="TIFF").connect()


async def test_two_cameras_are_told_apart_by_serial_number_and_by_port(clock):
    first, second = eos("usb:001,005", "12345", clock=clock), eos("usb:001,006", "67890",
                                                                  clock=clock)
    layer = ReplayLayer([first, second])
    by_serial = driver(layer, clock, serial_number="67890")
    await by_serial.connect()
    assert by_serial.link is second and not first.is_open
    by_port = driver(layer, clock, port="usb:001,005")
    await by_port.connect()
    assert by_port.link is first
    with pytest.raises(ConfigError, match="2 cameras found"):
        await driver(layer, clock).connect()
    with pytest.raises(CameraGoneError, match="no camera on port usb:001,005 has serial "
                                              "number '67890'"):
        await driver(layer, clock, port="usb:001,005", serial_number="67890").connect()
    await by_serial.start_exposure(1.0)
    await by_serial.wait_until_ready(1.0)
    assert [k for k, _ in first.settings_log].count("eosremoterelease") == 0
    assert (await by_serial.image()).extra["header_cards"]["CAMSERNO"][0] == "67890"


async def test_abort_releases_the_shutter_and_no_image_comes(clock):
    canon = eos("usb:001,005", clock=clock)
    camera = driver(ReplayLayer([canon]), clock)
    await camera.connect()
    await camera.start_exposure(60.0)
    await camera.abort_exposure()
    assert canon.settings_log[-1] == ("eosremoterelease", "Release Full")
    assert (await camera.state()).camera_state == CameraState.IDLE
    assert not (await camera.state()).image_ready
    await camera.start_exposure(1.0)  # the aborted frame's file is drained, not taken
    await camera.wait_until_ready(1.0)
    assert (await camera.image()).extra["raw_file"] == "IMG_0002.DNG"


async def test_a_camera_that_vanishes_mid_exposure_is_an_error_then_disconnected(clock):
    canon = eos("usb:001,005", clock=clock)
    camera = driver(ReplayLayer([canon]), clock)
    await camera.connect()
    await camera.start_exposure(5.0)
    canon.unplug()
    with pytest.raises(NotConnectedError):
        await camera.wait_until_ready(5.0)
    assert not camera.connected
    with pytest.raises(CameraGoneError, match="no camera on port usb:001,005"):
        await driver(ReplayLayer([canon]), clock, port="usb:001,005").connect()


async def test_a_replayed_refusal_matches_libgphoto2s():
    canon = eos("usb:001,005")
    with pytest.raises(Exception, match=r"\[-2\] Bad parameters"):
        await canon.set_config("eosremoterelease", "Press Sideways")


def test_entry_options_are_checked_with_their_names():
    cfg = DeviceConfig(name="cam0", driver="gphoto2", port="usb:001,005", iso=800,
                       serial_number="12345", bogus=1)
    with pytest.raises(ConfigError, match=r"cam0\.bogus: not an option of the gphoto2"):
        Gphoto2Camera.from_config(cfg)
    cfg = DeviceConfig(name="cam0", driver="gphoto2", port="usb:001,005", iso=800,
                       serial_number="12345", file_timeout_s=-1)
    with pytest.raises(ConfigError, match=r"cam0\.file_timeout_s"):
        Gphoto2Camera.from_config(cfg)
    good = Gphoto2Camera.from_config(DeviceConfig(name="cam0", driver="gphoto2",
                                                  port="usb:001,005", iso=800))
    assert (good.port, good.iso, good.image_format) == ("usb:001,005", "800", "RAW")



async def test_a_vanished_camera_faults_its_component_which_recovers_when_it_is_back():
    events = EventBus()
    canon = eos("usb:001,005")
    camera = Gphoto2Camera("cam", layer=ReplayLayer([canon]), events=events)
    component = DeviceComponent(camera, events=events, heartbeat_interval_s=0.2,
                                probe_timeout_s=1.0,
                                recovery=RecoveryPolicy(first_retry_s=0.5, max_retry_s=1.0))
    try:
        with events.subscribe("component.*") as changes:
            async with asyncio.timeout(60):
                await component.set_state(SummaryState.ENABLED)
                canon.unplug()
                fault = await next_change(
                    changes, lambda d: d.get("to") is SummaryState.FAULT)
                assert "cam" in fault["reason"]
                canon.plug_in()
                await next_change(changes, lambda d: d["topic"] == "component.recovered")
                image = await camera.expose(0.1)
                assert image.data.size > 0
    finally:
        await component.close()
