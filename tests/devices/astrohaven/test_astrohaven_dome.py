"""The Astrohaven dome driver against its PLC simulator over ``nocturna-sim://astrohaven``,
on virtual time (the leaves take their travel time; the test takes none)."""

from __future__ import annotations

import itertools
import logging

import pytest

from nocturna.core.clock import VirtualClock, use_clock
from nocturna.core.config.models import DeviceConfig
from nocturna.core.errors import ConfigError, InvalidValueError, NotImplementedByDeviceError
from nocturna.core.events import EventBus
from nocturna.devices.astrohaven.dome import AstrohavenDome
from nocturna.devices.astrohaven.simulator import AstrohavenSimulator
from nocturna.devices.serial.line import SerialProtocolError, SerialTimeoutError
from nocturna.devices.serial.simulator import register_simulator, unregister_simulator
from nocturna.devices.types import ShutterState
from serial_helpers import silenced_then_recovered

pytestmark = pytest.mark.virtual_time
NIGHT = "2026-12-15T22:00:00Z"
OPEN, CLOSED, OPENING, CLOSING, ERROR = (ShutterState.OPEN, ShutterState.CLOSED,
                                         ShutterState.OPENING, ShutterState.CLOSING,
                                         ShutterState.ERROR)


class RecordingPlc(AstrohavenSimulator):
    """The PLC simulator, keeping what the driver wrote and when (clock seconds)."""

    def __init__(self, **options) -> None:
        super().__init__(**options)
        self.received: list[tuple[float, bytes]] = []

    def receive(self, data: bytes) -> None:
        self.received.append((self.clock.timestamp(), data))
        super().receive(data)


@pytest.fixture
async def plc():
    with use_clock(VirtualClock(NIGHT)) as clock:
        sim = RecordingPlc(clock=clock, travel_s=10)
        url = register_simulator("dome-test", sim)
        sim.url = url
        yield sim
        unregister_simulator("dome-test")


async def connected(plc: RecordingPlc, **options) -> AstrohavenDome:
    dome = AstrohavenDome("dome", port=plc.url, **options)
    await dome.connect()
    return dome


async def shutter(dome: AstrohavenDome) -> ShutterState:
    return (await dome.state()).shutter_status


async def test_open_then_close_runs_each_leaf_to_its_limits(plc):
    dome = await connected(plc)
    try:
        info = await dome.info()
        assert info.can_set_shutter and info.is_roof and not info.can_set_azimuth
        assert await shutter(dome) == CLOSED
        began = plc.clock.timestamp()
        await dome.open_shutter()  # returns at once
        status = await dome.state()
        assert status.shutter_status == OPENING and status.slewing
        await dome.wait_until(lambda s: s.shutter_status != OPENING, timeout_s=120)
        took = plc.clock.timestamp() - began
        assert await shutter(dome) == OPEN and dome.last_error is None
        assert plc.positions == (1.0, 1.0)
        assert 20 <= took <= 25  # two leaves of 10 s, then the status byte
        sent = b"".join(data for _, data in plc.received)
        assert set(sent) == set(b"ab") and sent.index(b"b") > sent.rindex(b"a")  # A, then B

        plc.received.clear()
        await dome.close_shutter()
        assert await shutter(dome) == CLOSING
        await dome.wait_until(lambda s: s.shutter_status != CLOSING, timeout_s=120)
        assert await shutter(dome) == CLOSED and plc.positions == (0.0, 0.0)
        sent = b"".join(data for _, data in plc.received)
        assert set(sent) == set(b"AB")
    finally:
        await dome.disconnect()


async def test_commands_are_paced_on_the_clock(plc):
    dome = await connected(plc, repeat_s=0.5)
    try:
        await dome.open_and_wait(timeout_s=120)
        times = [t for t, _ in plc.received]
        gaps = [b - a for a, b in itertools.pairwise(times)]
        assert min(gaps) >= 0.5 - 1e-6  # never faster than repeat_s: no busy loop
        assert 20 / 0.5 <= len(times) <= 20 / 0.5 + 6
    finally:
        await dome.disconnect()


async def test_closing_waits_for_the_close_limit_twice(plc):
    dome = await connected(plc)
    try:
        await dome.close_and_wait(timeout_s=30)  # already closed: each leaf answers X/Y
        sent = b"".join(data for _, data in plc.received)
        assert sent == b"AABB"
    finally:
        await dome.disconnect()


async def test_a_stuck_leaf_ends_the_move_in_error_with_the_reason(plc):
    events = EventBus()
    dome = AstrohavenDome("dome", port=plc.url, move_timeout_s=30, events=events)
    await dome.connect()
    try:
        plc.stick("b")
        with events.subscribe("dome.*") as published:
            await dome.open_shutter()
            await dome.wait_until(lambda s: s.shutter_status != OPENING, timeout_s=120)
            assert await shutter(dome) == ERROR
            [event] = [e for e in published.drain() if e.topic != "dome.connected"]
        assert event.topic == "dome.shutter.error"
        assert dome.last_error == (
            "opening the shutter failed: leaf B did not reach its open limit (b'y') within "
            "30 s: the PLC echoes b'b' but the leaf never gets there: stuck?")
        assert event.data["message"] == dome.last_error
        assert plc.positions == (1.0, 0.0)

        plc.stick("b", False)
        await dome.open_and_wait(timeout_s=120)  # a new move clears the error
        assert dome.last_error is None
    finally:
        await dome.disconnect()


async def test_abort_leaves_the_shutter_in_error_until_it_is_moved_again(plc):
    dome = await connected(plc)
    try:
        await dome.open_shutter()
        await plc.clock.sleep(4)
        await dome.abort_slew()
        assert await shutter(dome) == ERROR  # leaf A part-way
        where = plc.positions
        await plc.clock.sleep(5)
        assert plc.positions[0] == pytest.approx(where[0], abs=0.06)  # the motor stopped
        await dome.close_and_wait(timeout_s=60)
        assert plc.positions == (0.0, 0.0)
    finally:
        await dome.disconnect()


async def test_reversing_a_move_stops_it_and_starts_the_other(plc):
    dome = await connected(plc)
    try:
        await dome.open_shutter()
        await plc.clock.sleep(3)
        await dome.open_shutter()  # the same way: nothing changes
        assert await shutter(dome) == OPENING
        await dome.close_shutter()
        assert await shutter(dome) == CLOSING
        await dome.wait_until(lambda s: s.shutter_status != CLOSING, timeout_s=60)
        assert await shutter(dome) == CLOSED and plc.positions == (0.0, 0.0)
    finally:
        await dome.disconnect()


async def test_a_garbled_byte_is_a_clear_protocol_error_and_the_next_one_clears_it(plc,
                                                                                   caplog):
    dome = await connected(plc)
    try:
        plc.garble_next()
        await plc.clock.sleep(1.01)
        with caplog.at_level(logging.WARNING), pytest.raises(SerialProtocolError,
                           match=r"sent b'\\xb0', which is no status, echo or limit"):
            await dome.state()
        await plc.clock.sleep(1)
        assert await shutter(dome) == CLOSED
        assert "no protocol byte" in caplog.text
    finally:
        await dome.disconnect()


async def test_a_quiet_plc_is_a_timeout_naming_the_port(plc):
    dome = await connected(plc, listen_timeout_s=3)
    try:
        plc.go_silent()
        await plc.clock.sleep(3.5)
        with pytest.raises(SerialTimeoutError, match=r"nothing from the Astrohaven PLC on "
                                                     r"nocturna-sim://astrohaven/dome-test"):
            await dome.state()
        with pytest.raises(SerialTimeoutError):
            await dome.open_shutter()
    finally:
        await dome.disconnect()


async def test_a_silent_plc_faults_the_component_which_recovers_when_it_answers(plc):
    events = EventBus()
    dome = AstrohavenDome("dome", port=plc.url, listen_timeout_s=2, connect_timeout_s=2,
                          events=events)
    reason, recovered = await silenced_then_recovered(dome, plc, events)
    assert "SerialTimeoutError" in reason and "nothing from the Astrohaven PLC" in reason
    assert recovered["state"].name == "ENABLED"
    assert await shutter(dome) == CLOSED
    await dome.disconnect()


async def test_connecting_to_another_device_or_nothing_fails_clearly(plc):
    with pytest.raises(SerialProtocolError, match=r"sent b'\{', which is no Astrohaven byte "
                                                  r"\(another device on the port"):
        await AstrohavenDome("dome", port="nocturna-sim://weather_board").connect()
    plc.go_silent()
    quiet = AstrohavenDome("dome", port=plc.url, connect_timeout_s=2)
    with pytest.raises(SerialTimeoutError, match="no status byte from the Astrohaven PLC on "
                                                 "nocturna-sim://astrohaven/dome-test within "
                                                 "2 s"):
        await quiet.connect()
    assert not quiet.connected and not quiet.line.is_open
    plc.go_silent(False)
    await quiet.connect()
    assert await shutter(quiet) == CLOSED
    await quiet.disconnect()


async def test_azimuth_members_are_not_implemented(plc):
    dome = await connected(plc)
    try:
        status = await dome.state()
        assert status.azimuth_deg is None and not status.slaved and not status.at_park
        for call in (dome.slew_to_azimuth(90.0), dome.park(), dome.find_home(),
                     dome.set_slaved(True)):
            with pytest.raises(NotImplementedByDeviceError):
                await call
    finally:
        await dome.disconnect()


async def test_entry_options():
    entry = DeviceConfig.model_validate({"name": "dome", "driver": "astrohaven",
                                         "port": "/dev/ttyUSB1", "move_timeout_s": 90,
                                         "repeat_s": 0.1, "listen_timeout_s": 5})
    dome = AstrohavenDome.from_config(entry)
    assert (dome.line.baudrate, dome.move_timeout_s, dome.repeat_s, dome.listen_timeout_s) \
        == (9600, 90.0, 0.1, 5.0)
    bad = DeviceConfig.model_validate({"name": "dome", "driver": "astrohaven",
                                       "port": "/dev/ttyUSB1", "travel_s": 3})
    with pytest.raises(ConfigError, match=r"dome\.travel_s: not an option of the astrohaven "
                                          r"driver"):
        AstrohavenDome.from_config(bad)
    with pytest.raises(InvalidValueError, match=r"dome\.repeat_s: expected a number of "
                                                r"seconds > 0"):
        AstrohavenDome("dome", port="/dev/ttyUSB1", repeat_s=0)

