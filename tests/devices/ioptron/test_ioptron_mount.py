"""IoptronMount through ``nocturna-sim://ioptron``: every command reaches the SimMount
behind the simulator, on virtual time; silence faults the component, which recovers;
garbled replies are clear errors."""

from __future__ import annotations

import itertools
import math

import pytest

from nocturna.core.clock import VirtualClock
from nocturna.core.config.models import DeviceConfig
from nocturna.core.errors import (
    ConfigError,
    DeviceTimeoutError,
    InvalidValueError,
    InvalidWhileParkedError,
)
from nocturna.core.events import EventBus
from nocturna.devices.ioptron import protocol as iop
from nocturna.devices.ioptron.mount import IoptronMount
from nocturna.devices.ioptron.simulator import IoptronSimulator
from nocturna.devices.serial.line import SerialProtocolError
from nocturna.devices.serial.simulator import register_simulator, unregister_simulator
from nocturna.devices.sim.equatorial import SIDEREAL_DEG_PER_S
from nocturna.devices.sim.mount import SimMount
from nocturna.devices.types import DriveRate, GuideDirection, TelescopeAxis
from serial_helpers import silenced_then_recovered
from unit_helpers import PERFECT_MOUNT

pytestmark = pytest.mark.virtual_time
NIGHT = "2026-12-15T08:00:00Z"  # 22:00 in Hawaii
SITE = (19.54, -155.58, 3400.0)
ARCSEC = 1 / 3600
_names = itertools.count()


def separation_deg(ra1_h: float, dec1: float, ra2_h: float, dec2: float) -> float:
    a1, d1, a2, d2 = map(math.radians, (ra1_h * 15, dec1, ra2_h * 15, dec2))
    cos = math.sin(d1) * math.sin(d2) + math.cos(d1) * math.cos(d2) * math.cos(a1 - a2)
    return math.degrees(math.acos(max(-1.0, min(1.0, cos))))


class Rig:
    """A SimMount behind an iOptron simulator, and the driver on its URL."""

    def __init__(self, **driver_options) -> None:
        self.clock = VirtualClock(NIGHT)
        self.events = EventBus()
        self.sky = SimMount("cem40", clock=self.clock, events=EventBus(),
                            latitude_deg=0.0, longitude_deg=0.0, slew_rate_deg_s=5.0,
                            slew_settle_time_s=1.0, **PERFECT_MOUNT)
        self.simulator = IoptronSimulator(self.sky, clock=self.clock, model="0040")
        self.name = f"iop-test-{next(_names)}"
        self.url = register_simulator(self.name, self.simulator)
        options = {"site": SITE, "connect_timeout_s": 1.0, "timeout_s": 5.0} | driver_options
        self.mount = IoptronMount("mount0", port=self.url, clock=self.clock,
                                  events=self.events, **options)

    async def close(self) -> None:
        await self.mount.disconnect()
        unregister_simulator(self.name)


@pytest.fixture
async def rig():
    rig = Rig()
    await rig.mount.connect()
    yield rig
    await rig.close()


async def unparked(rig: Rig):
    await rig.mount.unpark()
    return await rig.mount.state()


async def test_connect_identifies_the_mount_and_sets_its_time_and_site(rig):
    sent = rig.simulator.received
    assert sent[:3] == ["MountInfo", "FW1", "FW2"]
    assert sent[3].startswith("SUT") and sent[4:6] == ["SG+000", "SDS0"]
    assert sent[6] == f"SLO-{round(155.58 * 360000):08d}"
    assert sent[7] == f"SLA+{round(19.54 * 360000):08d}"
    assert sent[8] == "SHE1"  # the northern hemisphere
    assert iop.parse_status(await rig.simulator.answer("GLS")).northern
    assert (rig.sky.latitude_deg, rig.sky.longitude_deg) == (19.54, -155.58)  # it moved
    assert rig.mount.model_name == "CEM40" and rig.mount.firmware.mainboard == "210105"
    time = iop.parse_time(await rig.simulator.answer("GUT"))
    assert abs((time.utc - rig.clock.now()).total_seconds()) < 0.01
    info = await rig.mount.info()
    assert (info.site_latitude_deg, info.site_longitude_deg, info.site_elevation_m) == \
        pytest.approx(SITE)
    assert info.can_park and info.can_pulse_guide and DriveRate.KING in info.tracking_rates


async def test_options_and_a_mount_of_another_model():
    rig = Rig(model="CEM60", set_time=False, set_site=False)
    try:
        with pytest.raises(SerialProtocolError, match=r"is a CEM40 \(0040\), not the "
                                                       r"configured CEM60"):
            await rig.mount.connect()
        assert not rig.mount.connected
        rig.mount.expected_model = "0040"
        await rig.mount.connect()
        assert not any(c.startswith(("SUT", "SLO")) for c in rig.simulator.received)
        assert rig.sky.latitude_deg == 0.0  # the site was left alone
    finally:
        await rig.close()
    with pytest.raises(ConfigError, match=r"mount0\.model: 'CEM41' is not an iOptron model"):
        IoptronMount("mount0", port="nocturna-sim://ioptron", model="CEM41")
    entry = DeviceConfig.model_validate({"name": "mount0", "port": "/dev/ttyUSB0",
                                         "model": "iEQ30 Pro", "set_time": "yes"})
    with pytest.raises(ConfigError, match=r"mount0\.set_time: expected true or false"):
        IoptronMount.from_config(entry)
    entry = DeviceConfig.model_validate({"name": "mount0", "port": "/dev/ttyUSB0",
                                         "model": "iEQ30 Pro", "set_site": False})
    mount = IoptronMount.from_config(entry)
    assert (mount.expected_model, mount.line.baudrate, mount.set_site_at_connect) == \
        ("0030", 115200, False)


async def test_state_reports_what_the_simmount_does(rig):
    state = await rig.mount.state()
    truth = await rig.sky.state()
    assert state.at_park and not state.tracking and not state.slewing
    await unparked(rig)
    await rig.mount.set_tracking(True)
    state, truth = await rig.mount.state(), await rig.sky.state()
    assert separation_deg(state.ra_hours, state.dec_deg, truth.ra_hours, truth.dec_deg) \
        < 0.1 * ARCSEC
    assert state.alt_deg == pytest.approx(truth.alt_deg, abs=1e-3)
    assert state.sidereal_time_hours == pytest.approx(truth.sidereal_time_hours, abs=1e-6)
    assert state.tracking and not state.at_park and state.side_of_pier == truth.side_of_pier


async def test_slew_sync_abort(rig):
    start = await unparked(rig)
    target = ((start.sidereal_time_hours + 1.0) % 24, 20.0)
    await rig.mount.slew_to_coordinates(*target)
    assert (await rig.mount.state()).slewing
    final = await rig.mount.wait_for_slew(timeout_s=120)
    truth = await rig.sky.state()
    assert separation_deg(truth.ra_hours, truth.dec_deg, *target) < 0.5 * ARCSEC
    assert final.tracking and (final.target_ra_hours, final.target_dec_deg) == target
    assert separation_deg(final.ra_hours, final.dec_deg, *target) < 0.5 * ARCSEC

    shifted = (target[0], target[1] + 0.1)
    await rig.mount.sync_to_coordinates(*shifted)
    state = await rig.mount.state()
    assert separation_deg(state.ra_hours, state.dec_deg, *shifted) < 1 * ARCSEC

    await rig.mount.slew_to_coordinates(target[0], -10.0)
    await rig.clock.sleep(2.0)
    await rig.mount.abort_slew()
    state = await rig.mount.state()
    assert not state.slewing and state.dec_deg > 0  # stopped well short of -10°

    with pytest.raises(InvalidValueError, match="refused the goto"):
        await rig.mount.slew_to_coordinates((start.sidereal_time_hours + 12) % 24, -60.0)
    with pytest.raises(InvalidValueError, match="declination 95"):
        await rig.mount.slew_to_coordinates(1.0, 95.0)


async def test_park_unpark_home_and_set_park(rig):
    with pytest.raises(InvalidWhileParkedError, match="parked: cannot slew"):
        await rig.mount.slew_to_coordinates(1.0, 10.0)
    with pytest.raises(InvalidWhileParkedError):
        await rig.mount.pulse_guide(GuideDirection.NORTH, 100)
    start = await unparked(rig)
    await rig.mount.slew_to_coordinates(start.sidereal_time_hours, 30.0)
    await rig.mount.wait_for_slew(timeout_s=120)
    await rig.mount.set_park()
    alt_az = rig.simulator.park_position
    state = await rig.mount.state()
    assert alt_az[1] == pytest.approx(state.alt_deg * 360000, abs=2)
    assert alt_az[0] == pytest.approx(state.az_deg * 360000, abs=2)
    await rig.mount.find_home()
    assert (await rig.sky.state()).at_home and (await rig.mount.state()).at_home
    await rig.mount.park()
    assert (await rig.sky.state()).at_park and (await rig.mount.state()).at_park
    await rig.mount.park()  # already parked: nothing to do


async def test_tracking_rates_guide_rates_pulses_and_axis_moves(rig):
    await unparked(rig)
    await rig.mount.set_tracking(True)
    await rig.mount.set_tracking_rate(DriveRate.LUNAR)
    assert (await rig.sky.state()).tracking_rate == DriveRate.LUNAR
    assert (await rig.mount.state()).tracking_rate == DriveRate.LUNAR
    await rig.mount.set_ra_rate(0.25)  # custom rate 0.75 x sidereal
    assert "RR07500" in rig.simulator.received
    sky, state = await rig.sky.state(), await rig.mount.state()
    assert sky.ra_rate == pytest.approx(0.25) and state.ra_rate == pytest.approx(0.25)
    assert sky.tracking_rate == state.tracking_rate == DriveRate.SIDEREAL
    await rig.mount.set_ra_rate(0.0)
    assert (await rig.sky.state()).ra_rate == 0.0
    with pytest.raises(InvalidValueError, match=r"RA rate 1\.5"):
        await rig.mount.set_ra_rate(1.5)

    await rig.mount.set_guide_rates(0.3 * SIDEREAL_DEG_PER_S, 0.6 * SIDEREAL_DEG_PER_S)
    sky = await rig.sky.state()
    assert sky.guide_rate_dec_deg_s == pytest.approx(0.6 * SIDEREAL_DEG_PER_S)
    assert (await rig.mount.state()).guide_rate_ra_deg_s == \
        pytest.approx(0.3 * SIDEREAL_DEG_PER_S)
    with pytest.raises(InvalidValueError, match="RA guide rate"):
        await rig.mount.set_guide_rates(2 * SIDEREAL_DEG_PER_S, 0.5 * SIDEREAL_DEG_PER_S)

    await rig.mount.slew_to_coordinates((await rig.mount.state()).sidereal_time_hours, 10.0)
    await rig.mount.wait_for_slew(timeout_s=120)
    before = (await rig.sky.state()).dec_deg
    await rig.mount.pulse_guide(GuideDirection.SOUTH, 2000)
    assert (await rig.mount.state()).is_pulse_guiding
    await rig.clock.sleep(3.0)
    after = (await rig.sky.state()).dec_deg
    assert before - after == pytest.approx(2 * 0.6 * SIDEREAL_DEG_PER_S, rel=1e-3)
    with pytest.raises(InvalidValueError, match="pulse duration"):
        await rig.mount.pulse_guide(GuideDirection.EAST, 100_000)

    await rig.mount.move_axis(TelescopeAxis.SECONDARY, 16 * SIDEREAL_DEG_PER_S)
    assert "SR4" in rig.simulator.received and (await rig.mount.state()).slewing
    await rig.clock.sleep(2.0)
    await rig.mount.move_axis(TelescopeAxis.SECONDARY, 0)
    moved = (await rig.sky.state()).dec_deg - after
    assert moved == pytest.approx(2 * 16 * SIDEREAL_DEG_PER_S, rel=0.05)
    assert not (await rig.mount.state()).slewing
    await rig.mount.set_tracking(False)
    assert not (await rig.sky.state()).tracking


async def test_set_site_moves_the_mount_site(rig):
    await rig.mount.set_site(-30.25, 149.0, 1100.0)
    assert (rig.sky.latitude_deg, rig.sky.longitude_deg) == (-30.25, 149.0)
    assert rig.simulator.received[-2] == "SHE0" and not rig.simulator.northern
    info = await rig.mount.info()
    assert (info.site_latitude_deg, info.site_longitude_deg, info.site_elevation_m) == \
        pytest.approx((-30.25, 149.0, 1100.0))
    with pytest.raises(InvalidValueError, match="latitude"):
        await rig.mount.set_site(95.0, 0.0, 0.0)


async def test_a_silent_mount_times_out_naming_the_command(rig):
    rig.simulator.go_silent()
    with pytest.raises(DeviceTimeoutError, match=":GLS#"):
        await rig.mount.state()
    rig.simulator.go_silent(False)
    assert (await rig.mount.state()).at_park


async def test_garbled_replies_are_clear_errors_and_the_next_exchange_works(rig):
    rig.simulator.garble_next(1)
    with pytest.raises(SerialProtocolError, match=r"iOptron :GLS#: longitude .*got b'\?{23}#'"):
        await rig.mount.state()
    assert (await rig.mount.state()).at_park
    rig.simulator.garble_next(1)
    with pytest.raises(SerialProtocolError, match=r"iOptron :MP0#: expected '1' or '0', "
                                                   r"got b'\?'"):
        await rig.mount.unpark()
    await rig.mount.unpark()
    assert not (await rig.sky.state()).at_park


async def test_a_silent_mount_faults_its_component_which_recovers():
    rig = Rig(timeout_s=0.5)  # replies awaited 0.5 s: less than the heartbeat's probe
    try:
        reason, recovered = await silenced_then_recovered(rig.mount, rig.simulator,
                                                          rig.events)
        assert "SerialTimeoutError" in reason and rig.url in reason and ":GLS#" in reason
        assert recovered["state"].name == "ENABLED"
    finally:
        await rig.close()


async def test_destination_side_of_pier_matches_the_mount_behind(rig):
    status = await unparked(rig)
    lst_h = status.sidereal_time_hours
    for hours_west in (-5.0, -0.5, 0.5, 5.0):
        ra = (lst_h - hours_west) % 24.0
        ours = await rig.mount.destination_side_of_pier(ra, 10.0)
        assert ours == await rig.sky.destination_side_of_pier(ra, 10.0), hours_west
    await rig.mount.slew_to_coordinates((lst_h - 2.0) % 24.0, 10.0)
    await rig.mount.wait_until(lambda s: not s.slewing, timeout_s=600, poll_s=1.0)
    assert (await rig.mount.state()).side_of_pier == \
        await rig.mount.destination_side_of_pier((lst_h - 2.0) % 24.0, 10.0)
