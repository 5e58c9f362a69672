"""nocturna's Alpaca client drivers against alpaca-simulators (software nocturna did not write).

The camera has its own module (test_alpaca_client_camera.py).
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from typing import Any

import pytest

from nocturna.core.config import Config
from nocturna.core.errors import (
    ConfigError,
    InvalidValueError,
    InvalidWhileParkedError,
    NotConnectedError,
    NotImplementedByDeviceError,
)
from nocturna.devices.alpaca.camera import AlpacaCamera
from nocturna.devices.alpaca.conditions import AlpacaObservingConditions
from nocturna.devices.alpaca.covercalibrator import AlpacaCoverCalibrator
from nocturna.devices.alpaca.device import AlpacaDevice
from nocturna.devices.alpaca.dome import AlpacaDome
from nocturna.devices.alpaca.filterwheel import AlpacaFilterWheel
from nocturna.devices.alpaca.focuser import AlpacaFocuser
from nocturna.devices.alpaca.mount import AlpacaMount
from nocturna.devices.alpaca.rotator import AlpacaRotator
from nocturna.devices.alpaca.safety import AlpacaSafetyMonitor
from nocturna.devices.alpaca.switch import AlpacaSwitch
from nocturna.devices.alpaca.transport import lease
from nocturna.devices.factory import build_devices
from nocturna.devices.types import (
    CalibratorState,
    CoverState,
    DriveRate,
    PierSide,
    ShutterState,
)


@asynccontextmanager
async def connected(cls: type[AlpacaDevice], address: str, number: int = 0,
                    **kwargs: Any) -> AsyncIterator[Any]:
    device = cls(f"{cls.alpaca_type}{number}", address=address, device_number=number, **kwargs)
    await device.connect()
    try:
        yield device
    finally:
        await device.disconnect()


def record_gets(device: AlpacaDevice) -> list[str]:
    """The members ``device`` GETs from now on."""
    seen: list[str] = []
    original: Callable[..., Any] = device._get

    async def spy(member: str, **params: Any) -> Any:
        seen.append(member)
        return await original(member, **params)

    device._get = spy  # type: ignore[method-assign]
    return seen


# ---------------------------------------------------------------- telescope
async def test_telescope_unparks_tracks_slews_and_parks(alpaca_sim):
    async with connected(AlpacaMount, alpaca_sim) as mount:
        info = await mount.info()
        assert info.can_slew_async and info.can_park
        assert info.site_latitude_deg == 48.0
        assert DriveRate.SIDEREAL in info.tracking_rates
        assert info.axis_rates[0][0].maximum_deg_s == 10.0
        await mount.unpark()
        await mount.set_tracking(True)
        state = await mount.slew_and_wait(5.5, 20.0, timeout_s=30)
        assert not state.slewing and not state.at_park and state.tracking
        assert state.ra_hours == pytest.approx(5.5, abs=0.01)
        assert state.dec_deg == pytest.approx(20.0, abs=0.05)
        assert state.target_ra_hours == pytest.approx(5.5)
        assert isinstance(state.side_of_pier, PierSide)
        await mount.park()
        assert (await mount.state()).at_park


async def test_telescope_refuses_to_slew_while_parked(alpaca_sim):
    async with connected(AlpacaMount, alpaca_sim) as mount:
        await mount.park()
        with pytest.raises(InvalidWhileParkedError, match="parked"):
            await mount.slew_to_coordinates(3.0, 10.0)


async def test_telescope_out_of_range_coordinates_are_invalid_values(alpaca_sim):
    async with connected(AlpacaMount, alpaca_sim) as mount:
        await mount.unpark()
        with pytest.raises(InvalidValueError):
            await mount.slew_to_coordinates(3.0, 95.0)
        await mount.park()


async def test_telescope_site_changes_update_the_cached_info(alpaca_sim):
    async with connected(AlpacaMount, alpaca_sim) as mount:
        await mount.set_site(19.5, -155.5, 3400.0)
        assert (await mount.info()).site_latitude_deg == 19.5
    async with connected(AlpacaMount, alpaca_sim) as mount:
        info = await mount.info()
        assert (info.site_longitude_deg, info.site_elevation_m) == (-155.5, 3400.0)
        await mount.set_site(48.0, 8.0, 1000.0)


# --------------------------------------------------------------------- dome
async def test_dome_opens_and_closes_its_shutter(alpaca_sim):
    async with connected(AlpacaDome, alpaca_sim) as dome:
        assert not (await dome.info()).is_roof
        assert (await dome.open_and_wait(timeout_s=10)).shutter_status == ShutterState.OPEN
        assert (await dome.close_and_wait(timeout_s=10)).shutter_status == ShutterState.CLOSED


async def test_dome_slews_in_azimuth(alpaca_sim):
    async with connected(AlpacaDome, alpaca_sim) as dome:
        await dome.slew_to_azimuth(90.0)
        assert (await dome.state()).slewing
        state = await dome.wait_until(lambda s: not s.slewing, timeout_s=15, poll_s=0.25)
        assert state.azimuth_deg == pytest.approx(90.0)
        with pytest.raises(InvalidValueError):
            await dome.slew_to_azimuth(400.0)


# ------------------------------------------------------------------ focuser
async def test_focuser_moves_to_positions(alpaca_sim):
    async with connected(AlpacaFocuser, alpaca_sim) as focuser:
        info = await focuser.info()
        assert (info.absolute, info.max_step, info.step_size_um) == (True, 100000, 1.0)
        assert (await focuser.move_and_wait(12345, timeout_s=10)).position == 12345
        await focuser.move_by(-345)
        state = await focuser.state()
        assert (state.position, state.is_moving, state.temperature_c) == (12000, False, 20.0)


async def test_state_reads_members_concurrently_without_device_state_on_old_servers(
        alpaca_sim):
    async with connected(AlpacaFocuser, alpaca_sim) as focuser:
        gets = record_gets(focuser)
        await focuser.state()
    assert sorted(gets) == ["ismoving", "position", "tempcomp", "temperature"]


async def test_state_uses_device_state_when_the_interface_has_it(alpaca_sim):
    async with connected(AlpacaFocuser, alpaca_sim, 1) as focuser:
        assert focuser.remote.interface_version == 4
        gets = record_gets(focuser)
        state = await focuser.state()
        assert gets == ["devicestate", "tempcomp"]  # what DeviceState lacks, one by one
        assert (state.position, state.is_moving, state.temperature_c) == (2000, False, 20.0)
        await focuser.move_to(2500)
        assert (await focuser.state()).position == 2500


# ------------------------------------------------------------- filter wheel
async def test_filter_wheel_names_offsets_and_moves(alpaca_sim):
    async with connected(AlpacaFilterWheel, alpaca_sim) as wheel:
        info = await wheel.info()
        assert info.names == ["Red", "Green", "Blue", "Clear", "Luminance"]
        assert info.focus_offsets == [-100, -100, 50, 0, 100]
        state = await wheel.move_to("blu", timeout_s=10)
        assert (state.position, state.name) == (2, "Blue")
        await wheel.set_position(4)
        assert (await wheel.state()).name == "Luminance"


async def test_an_invalid_filter_position_is_the_servers_invalid_value(alpaca_sim):
    async with connected(AlpacaFilterWheel, alpaca_sim) as wheel:
        with pytest.raises(InvalidValueError, match="out of range") as caught:
            await wheel.set_position(9)  # the server refuses it (0x401)
    assert caught.value.ascom_number == 0x401
    assert "0x401" in str(caught.value)


# ------------------------------------------------------------------ rotator
async def test_rotator_moves_syncs_and_reverses(alpaca_sim):
    async with connected(AlpacaRotator, alpaca_sim) as rotator:
        assert (await rotator.info()).can_reverse
        await rotator.move_absolute(45.0)
        state = await rotator.state()
        assert (state.position_deg, state.target_position_deg, state.is_moving) == (
            45.0, 45.0, False)
        await rotator.set_reverse(True)
        assert (await rotator.state()).reverse
        await rotator.set_reverse(False)


# ------------------------------------------------------------------- switch
async def test_switch_channels_and_values(alpaca_sim):
    async with connected(AlpacaSwitch, alpaca_sim) as switch:
        channels = (await switch.info()).channels
        assert [c.name for c in channels] == ["Power Switch 1", "Dimmer 1"]
        assert (channels[1].minimum, channels[1].maximum, channels[1].step) == (0.0, 1.0, 0.1)
        assert channels[0].can_write and not channels[0].can_async
        await switch.set_switch(0, True)
        await switch.set_value(1, 0.3)
        state = await switch.state()
        assert state.values == [1.0, pytest.approx(0.3)]
        assert state.is_on(0) and state.state_change_complete == [True, True]
        await switch.set_switch(0, False)
        assert not (await switch.state()).is_on(0)


async def test_switch_refuses_bad_channels_and_values(alpaca_sim):
    async with connected(AlpacaSwitch, alpaca_sim) as switch:
        with pytest.raises(InvalidValueError, match="channel 5"):
            await switch.set_value(5, 1.0)
        with pytest.raises(InvalidValueError, match="out of range"):
            await switch.set_value(1, 7.0)  # the server refuses it


# ----------------------------------------------------------- safety monitor
async def test_safety_monitors_give_their_verdict(alpaca_sim):
    async with connected(AlpacaSafetyMonitor, alpaca_sim) as safe:
        assert await safe.is_safe()
        assert (await safe.state()).reasons == []
    async with connected(AlpacaSafetyMonitor, alpaca_sim, 1) as unsafe:
        state = await unsafe.state()
        assert not state.is_safe
        assert alpaca_sim in state.reasons[0]


# ------------------------------------------------------ observing conditions
async def test_observing_conditions_read_every_sensor(alpaca_sim):
    async with connected(AlpacaObservingConditions, alpaca_sim) as station:
        info = await station.info()
        assert len(info.sensor_descriptions) == 13
        await station.refresh()
        state = await station.state()
        assert (state.temperature_c, state.wind_speed_m_s, state.humidity_pct) == (
            15.0, 3.0, 60.0)
        assert state.pressure_hpa == 1013.25
        assert state.time_since_last_update_s == 1.0
        await station.set_average_period(0.5)
        assert (await station.state()).average_period_h == 0.5
        await station.set_average_period(60.0)


# --------------------------------------------------------- cover calibrator
async def test_cover_calibrator_light_and_cover(alpaca_sim):
    async with connected(AlpacaCoverCalibrator, alpaca_sim) as panel:
        assert (await panel.info()).max_brightness == 255
        await panel.calibrator_on(100)
        state = await panel.state()
        assert (state.calibrator_state, state.brightness) == (CalibratorState.READY, 100)
        await panel.calibrator_off()
        assert (await panel.state()).calibrator_state == CalibratorState.OFF
        await panel.open_cover()
        assert (await panel.state()).cover_state == CoverState.OPEN
        await panel.close_cover()
        state = await panel.state()
        assert (state.cover_state, state.cover_moving) == (CoverState.CLOSED, False)
        with pytest.raises(NotImplementedByDeviceError):
            await panel.halt_cover()  # the server's cover is synchronous (0x400)


# --------------------------------------------------------------- connection
async def test_connect_and_disconnect_set_the_servers_connected(alpaca_sim):
    focuser = AlpacaFocuser("foc", address=alpaca_sim)
    await focuser.connect()
    async with lease(alpaca_sim) as client:
        assert await client.get("/api/v1/focuser/0/connected") is True
        await focuser.disconnect()
        assert await client.get("/api/v1/focuser/0/connected") is False
    assert focuser.remote is not None and focuser.remote.name == "Simulator Focuser"


async def test_members_need_a_connection(alpaca_sim):
    focuser = AlpacaFocuser("foc", address=alpaca_sim)
    with pytest.raises(NotConnectedError):
        await focuser.state()


async def test_connecting_to_nobody_fails_and_stays_disconnected():
    import socket

    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        address = f"127.0.0.1:{sock.getsockname()[1]}"
    focuser = AlpacaFocuser("foc", address=address)
    with pytest.raises(NotConnectedError, match=address):
        await focuser.connect()
    assert not focuser.connected


# ------------------------------------------------------------------ factory
def alpaca_config(tmp_path, address: str, **changes: Any) -> Config:
    from unit_helpers import unit_config

    def entry(name: str, **extra: Any) -> dict[str, Any]:
        return {"name": name, "driver": "alpaca", "address": address, "device_number": 0,
                **extra}

    sections = {
        "mount": entry("mount0"), "dome": entry("dome0"),
        "cameras": [entry("cam0", primary=True, filterwheel="fw0", focuser="foc0",
                          focal_length_mm=85, aperture_mm=60, rotation_deg=0,
                          model="simulator", timeout_s=20)],
        "focusers": [entry("foc0")], "filterwheels": [entry("fw0")],
        "rotators": [entry("rot0")], "switches": [entry("power0")],
        "weather": [entry("weather0")],
        "safety_monitors": [entry("safety0", weather="weather0")],
        "cover_calibrators": [entry("flat0", description="the flat panel")],
    }
    sections.update(changes)
    return unit_config(tmp_path, **sections)


async def test_the_factory_builds_alpaca_drivers_for_every_kind(alpaca_sim, tmp_path):
    devices = build_devices(alpaca_config(tmp_path, alpaca_sim))
    kinds = {type(d) for d in devices}
    assert kinds == {AlpacaMount, AlpacaDome, AlpacaCamera, AlpacaFocuser, AlpacaFilterWheel,
                     AlpacaRotator, AlpacaSwitch, AlpacaObservingConditions,
                     AlpacaSafetyMonitor, AlpacaCoverCalibrator}
    assert all(d.driver_name == "alpaca" for d in devices)
    assert devices.camera().timeout_s == 20
    assert devices.cover_calibrators["flat0"].description == "the flat panel"
    await devices.connect_all()
    try:
        assert (await devices.filterwheels["fw0"].info()).names[0] == "Red"
        assert (await devices.camera().info()).width == 320
    finally:
        await devices.disconnect_all()


def test_an_alpaca_device_needs_an_address(tmp_path):
    config = alpaca_config(tmp_path, "127.0.0.1:1",
                           focusers=[{"name": "foc0", "driver": "alpaca"}])
    with pytest.raises(ConfigError, match=r"foc0\.address"):
        build_devices(config)


def test_a_malformed_address_names_the_device(tmp_path):
    config = alpaca_config(tmp_path, "127.0.0.1:1", focusers=[
        {"name": "foc0", "driver": "alpaca", "address": "focuser.local"}])
    with pytest.raises(ConfigError, match=r"foc0\.address.*host:port"):
        build_devices(config)


def test_unknown_options_are_refused_by_name(tmp_path):
    config = alpaca_config(tmp_path, "127.0.0.1:1", focusers=[
        {"name": "foc0", "driver": "alpaca", "address": "127.0.0.1:1", "max_step": 5}])
    with pytest.raises(ConfigError, match=r"foc0\.max_step: not an option of the alpaca"):
        build_devices(config)


def test_a_driver_the_section_lacks_lists_the_available_ones(tmp_path):
    config = alpaca_config(tmp_path, "127.0.0.1:1", spectrographs=[
        {"name": "spec0", "driver": "alpaca", "address": "127.0.0.1:1"}])
    with pytest.raises(ConfigError, match=r"spectrographs.*\(available: sim\)"):
        build_devices(config)
