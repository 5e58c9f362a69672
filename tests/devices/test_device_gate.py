"""Device gate and outcome hooks: which members are gated, what is reported, and when."""

from __future__ import annotations

import asyncio
import logging
from dataclasses import dataclass

import pytest

from nocturna.core.clock import SimClock
from nocturna.core.errors import InvalidOperationError, InvalidValueError
from nocturna.core.events import EventBus
from nocturna.devices.base import Device, Snapshot, command
from nocturna.devices.mount import Mount
from nocturna.devices.sim.mount import SimMount


@dataclass(frozen=True)
class Nothing(Snapshot):
    value: int = 0


class Widget(Device):
    """A small device with one member of each sort."""

    kind = "widget"
    driver_name = "test"

    def __init__(self, name: str = "w0") -> None:
        super().__init__(name, clock=SimClock("2026-12-15T08:00Z", speed=0), events=EventBus(),
                         timeout_s=1.0)
        self.acted = 0
        self.release = asyncio.Event()

    async def info(self) -> Nothing:
        return Nothing()

    async def state(self) -> Nothing:
        return Nothing(self.acted)

    @command(read_only=True)
    async def reading(self) -> int:
        return self.acted

    @command
    async def act(self) -> None:
        self.acted += 1

    @command
    async def refuse(self) -> None:
        raise InvalidValueError("not that value")

    @command
    async def hang(self) -> None:
        await self.release.wait()


class Redeclared(Widget):
    """Re-declares info/state with a plain @command, as some interfaces do."""

    @command
    async def info(self) -> Nothing:
        return Nothing()

    @command
    async def state(self) -> Nothing:
        return Nothing()


class Overriding(Widget):
    """A driver override that calls the member it overrides."""

    async def act(self) -> None:
        await super().act()


class Recorder:
    def __init__(self, refuse: bool = False) -> None:
        self.gated: list[str] = []
        self.outcomes: list[tuple[str, Exception | None]] = []
        self.refuse = refuse

    def gate(self, device: Device, member: str) -> None:
        self.gated.append(member)
        if self.refuse:
            raise InvalidOperationError(f"{device.name}: {member} refused by the gate")

    def outcome(self, device: Device, member: str, error: Exception | None) -> None:
        self.outcomes.append((member, error))


async def connected(device: Device, recorder: Recorder | None = None) -> Device:
    await device.connect()
    if recorder is not None:
        device.gate = recorder.gate
        device.outcome = recorder.outcome
    return device


async def test_without_a_gate_commands_run_as_before():
    widget = await connected(Widget())
    await widget.act()
    assert widget.acted == 1 and widget.gate is None and widget.outcome is None


async def test_the_gate_sees_every_command_that_acts():
    recorder = Recorder()
    widget = await connected(Widget(), recorder)
    await widget.act()
    with pytest.raises(InvalidValueError):
        await widget.refuse()
    assert recorder.gated == ["act", "refuse"]


async def test_reads_pass_the_gate_untouched():
    recorder = Recorder(refuse=True)
    widget = await connected(Widget(), recorder)
    await widget.info()
    await widget.state()
    assert await widget.reading() == 0
    await widget.status()
    assert recorder.gated == []


async def test_info_and_state_are_reads_even_when_redeclared_without_the_flag():
    recorder = Recorder(refuse=True)
    widget = await connected(Redeclared(), recorder)
    await widget.info()
    await widget.state()
    assert recorder.gated == []


async def test_connect_and_disconnect_pass_the_gate_and_are_not_reported():
    recorder = Recorder(refuse=True)
    widget = Widget()
    widget.gate, widget.outcome = recorder.gate, recorder.outcome
    await widget.connect()
    await widget.disconnect()
    assert recorder.gated == [] and recorder.outcomes == []


async def test_a_refusing_gate_stops_the_command_before_the_driver_runs():
    recorder = Recorder(refuse=True)
    widget = await connected(Widget(), recorder)
    with pytest.raises(InvalidOperationError, match="act refused by the gate"):
        await widget.act()
    assert widget.acted == 0
    assert recorder.outcomes == []  # refused, not run: nothing to report


async def test_outcomes_report_success_and_the_error():
    recorder = Recorder()
    widget = await connected(Widget(), recorder)
    await widget.act()
    await widget.state()
    with pytest.raises(InvalidValueError):
        await widget.refuse()
    assert [(m, type(e).__name__ if e else None) for m, e in recorder.outcomes] == [
        ("act", None), ("state", None), ("refuse", "InvalidValueError")]


async def test_a_timeout_is_reported_as_a_device_timeout():
    recorder = Recorder()
    widget = await connected(Widget(), recorder)
    widget.timeout_s = 0.01
    with pytest.raises(TimeoutError, match="hang did not finish"):
        await widget.hang()
    assert recorder.outcomes[-1][0] == "hang"
    assert type(recorder.outcomes[-1][1]).__name__ == "DeviceTimeoutError"


async def test_a_cancelled_command_is_not_reported():
    recorder = Recorder()
    widget = await connected(Widget(), recorder)
    task = asyncio.ensure_future(widget.hang())
    await asyncio.sleep(0)
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await task
    assert recorder.outcomes == []


async def test_an_override_calling_super_is_gated_and_reported_once():
    recorder = Recorder()
    widget = await connected(Overriding(), recorder)
    await widget.act()
    assert widget.acted == 1
    assert recorder.gated == ["act"] and recorder.outcomes == [("act", None)]


async def test_an_async_outcome_callback_is_awaited():
    seen: list[str] = []

    async def outcome(device: Device, member: str, error: Exception | None) -> None:
        await asyncio.sleep(0)
        seen.append(member)

    widget = await connected(Widget())
    widget.outcome = outcome
    await widget.act()
    assert seen == ["act"]


class ListHandler(logging.Handler):
    def __init__(self) -> None:
        super().__init__(logging.DEBUG)
        self.messages: list[str] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.messages.append(record.getMessage())


async def test_a_failing_outcome_callback_is_logged_not_raised():
    def outcome(device: Device, member: str, error: Exception | None) -> None:
        raise RuntimeError("callback bug")

    widget = await connected(Widget())
    widget.outcome = outcome
    handler = ListHandler()  # on the module's logger: the "nocturna" logger may not propagate
    logger = logging.getLogger("nocturna.devices.base")
    logger.addHandler(handler)
    try:
        await widget.act()
    finally:
        logger.removeHandler(handler)
    assert widget.acted == 1
    assert handler.messages == ["device outcome callback failed"]


async def test_mount_destination_side_of_pier_is_a_read():
    recorder = Recorder(refuse=True)
    mount = SimMount("mount0", clock=SimClock("2026-12-15T08:00Z", speed=0), events=EventBus())
    await connected(mount, recorder)
    await mount.destination_side_of_pier(5.0, 20.0)
    await mount.state()
    assert recorder.gated == []
    with pytest.raises(InvalidOperationError):
        await mount.slew_to_coordinates(5.0, 20.0)
    assert recorder.gated == ["slew_to_coordinates"]
    assert Mount.destination_side_of_pier.__nocturna_command__.read_only
