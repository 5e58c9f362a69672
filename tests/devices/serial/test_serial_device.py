"""The base of serial drivers: entry options, connect = open + handshake, a silent
device faults its component and recovers with it."""

from __future__ import annotations

import pytest
from test_serial_line import EchoSimulator

from nocturna.core.config.models import DeviceConfig
from nocturna.core.errors import ConfigError
from nocturna.core.events import EventBus
from nocturna.devices.base import Snapshot
from nocturna.devices.serial.device import SerialDevice
from nocturna.devices.serial.line import SerialProtocolError
from nocturna.devices.serial.simulator import register_simulator, unregister_simulator
from serial_helpers import silenced_then_recovered


class EchoDevice(SerialDevice):
    """A device whose handshake expects ``ID#`` to ``id\\r``, and whose state asks."""

    kind = "echo"
    driver_name = "echo"
    default_baudrate = 115200
    extra_options = frozenset({"greeting"})

    def __init__(self, name: str, *, greeting: str = "id", **kwargs) -> None:
        super().__init__(name, **kwargs)
        self.greeting = greeting

    async def _handshake(self) -> None:
        reply = await self.line.request(self.greeting.encode() + b"\r", until=b"#",
                                        timeout_s=self.connect_timeout_s)
        if reply != b"ID#":
            raise SerialProtocolError(f"{self.name}: not an echo device: {reply!r}")

    async def info(self) -> Snapshot:
        return Snapshot()

    async def state(self) -> Snapshot:
        await self.line.request(b"state\r", until=b"#", timeout_s=0.5)
        return Snapshot()


def entry(**values) -> DeviceConfig:
    return DeviceConfig.model_validate({"name": "echo0", **values})


def test_entry_options_are_checked_together():
    with pytest.raises(ConfigError) as caught:
        EchoDevice.from_config(entry(baudrate="fast", colour="red", timeout_s=-1))
    text = str(caught.value)
    assert "echo0.port: a echo device needs its serial port" in text
    assert "nocturna-sim://echo" in text
    assert "echo0.colour: not an option of the echo driver (options: port, baudrate, " \
           "connect_timeout_s, description, greeting, timeout_s)" in text
    assert "echo0.timeout_s: expected a number of seconds > 0" in text
    device = EchoDevice.from_config(entry(port="/dev/ttyUSB3", greeting="hello",
                                          focal_length_mm=200))
    assert (device.port, device.line.baudrate, device.greeting) == \
        ("/dev/ttyUSB3", 115200, "hello")


async def test_connect_runs_the_handshake_and_a_wrong_device_leaves_the_port_closed():
    echo = EchoSimulator()
    url = register_simulator("echo-dev", echo)
    try:
        wrong = EchoDevice("echo0", port=url, greeting="who")
        with pytest.raises(SerialProtocolError, match="not an echo device: b'WHO#'"):
            await wrong.connect()
        assert not wrong.connected and not wrong.line.is_open
        right = EchoDevice("echo0", port=url)
        await right.connect()
        assert right.connected
        await right.disconnect()
        assert not right.line.is_open
    finally:
        unregister_simulator("echo-dev")


async def test_a_silent_device_faults_and_recovers():
    echo = EchoSimulator()
    url = register_simulator("echo-rec", echo)
    events = EventBus()
    try:
        device = EchoDevice("echo0", port=url, connect_timeout_s=0.5, events=events)
        reason, recovered = await silenced_then_recovered(device, echo, events)
        assert "SerialTimeoutError" in reason and "nocturna-sim://echo/echo-rec" in reason
        assert recovered["state"].name == "ENABLED"
    finally:
        unregister_simulator("echo-rec")
