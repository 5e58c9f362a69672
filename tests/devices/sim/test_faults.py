"""Faults injected into a simulated unit: device faults through the fault hook,
unit-wide faults through the plan's runner, and the ``faults:`` list of scenarios."""

from __future__ import annotations

import asyncio
import errno
import logging
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

import pytest
from sim_device_helpers import NIGHT_START, device_kwargs, frozen_clock, topics

from nocturna.core.atomic import atomic_write_bytes
from nocturna.core.clock import SimClock, VirtualClock, parse_instant, use_clock
from nocturna.core.config import Config
from nocturna.core.errors import (
    ConfigError,
    DeviceTimeoutError,
    NotConnectedError,
)
from nocturna.core.events import EventBus
from nocturna.core.virtualtime import VirtualTimeLoop
from nocturna.devices.base import Device, Snapshot, command
from nocturna.devices.factory import build_devices
from nocturna.devices.sim.camera import SimCamera, SimCameraModel
from nocturna.devices.sim.faults import (
    DeviceFaults,
    FaultPlan,
    SimulatedFaultError,
    plan_from_data,
)
from nocturna.devices.sim.focuser import SimFocuser
from nocturna.devices.sim.scenario import ConstantWeather, load_scenario
from nocturna.states.safety import SafetySupervisor
from unit_helpers import disk_check_unit

T0 = parse_instant(NIGHT_START)  # 22:00 in Hawaii
SMALL = SimCameraModel(width=128, height=128, readout_s=1.0, readout_overhead_s=0.0,
                       noise_seed=3)


def at(seconds: float) -> str:
    """The ISO time ``seconds`` after T0."""
    return (T0 + timedelta(seconds=seconds)).isoformat()


def plan(*entries: dict[str, Any]) -> FaultPlan:
    return plan_from_data(list(entries), start=T0)


async def settle() -> None:
    """Let woken tasks run up to their next wait."""
    for _ in range(10):
        await asyncio.sleep(0)


async def focuser_with(clock: Any, *entries: dict[str, Any], **kwargs: Any) -> SimFocuser:
    focuser = SimFocuser("foc0", **device_kwargs(clock), **kwargs)
    await focuser.connect()
    plan(*entries).install([focuser])
    return focuser


async def camera_with(clock: SimClock, *entries: dict[str, Any]) -> SimCamera:
    camera = SimCamera("cam0", model=SMALL, **device_kwargs(clock))
    await camera.connect()
    plan(*entries).install([camera])
    return camera


def run_virtual(work: Any) -> Any:
    """Run ``work(clock)`` on virtual time, with a VirtualClock starting at T0."""
    async def main() -> Any:
        return await work(VirtualClock(T0))

    with asyncio.Runner(loop_factory=VirtualTimeLoop) as runner:
        return runner.run(main())


def elapsed(clock: Any) -> float:
    return (clock.now() - T0).total_seconds()


# ------------------------------------------------------------------ the hook
@dataclass(frozen=True)
class Nothing(Snapshot):
    value: int = 0


class Widget(Device):
    kind = "widget"
    driver_name = "sim"

    async def info(self) -> Nothing:
        return Nothing()

    async def state(self) -> Nothing:
        return Nothing()

    @command
    async def act(self) -> None:
        await self.state()  # a member calling another: the hook sees the outer call only


class Recording:
    """A fault hook that records the members it sees."""

    def __init__(self) -> None:
        self.members: list[str] = []

    async def __call__(self, device: Device, member: str) -> None:
        self.members.append(member)

    def link_down(self, device: Device) -> bool:
        return False


async def test_the_hook_sees_connect_read_only_members_and_each_outer_call_once():
    widget = Widget("w0", **device_kwargs(frozen_clock()))
    widget.fault = hook = Recording()
    await widget.connect()
    await widget.state()
    await widget.act()
    assert hook.members == ["connect", "state", "act"]


async def test_the_hook_is_not_reached_by_a_call_on_a_disconnected_device():
    widget = Widget("w0", **device_kwargs(frozen_clock()))
    widget.fault = hook = Recording()
    with pytest.raises(NotConnectedError):
        await widget.state()
    assert hook.members == []


# -------------------------------------------------------------------- freeze
def test_a_frozen_device_times_out_during_the_window_and_answers_after():
    async def work(clock: VirtualClock) -> None:
        focuser = await focuser_with(
            clock, {"kind": "freeze", "device": "foc0", "from": at(60), "until": at(600)},
            timeout_s=5.0)
        await clock.sleep(60)
        with pytest.raises(DeviceTimeoutError):
            await focuser.state()
        assert elapsed(clock) == pytest.approx(65)
        await clock.sleep(600 - elapsed(clock))
        assert (await focuser.state()).position == 30000

    run_virtual(work)


def test_connecting_a_frozen_device_times_out():
    async def work(clock: VirtualClock) -> None:
        focuser = await focuser_with(
            clock, {"kind": "freeze", "device": "foc0", "from": at(60)}, timeout_s=5.0)
        await focuser.disconnect()
        await clock.sleep(60)
        with pytest.raises(DeviceTimeoutError, match="connect did not finish within 5 s"):
            await focuser.connect()
        assert not focuser.connected

    run_virtual(work)


def test_a_call_during_a_short_freeze_answers_when_it_ends():
    async def work(clock: VirtualClock) -> None:
        focuser = await focuser_with(
            clock, {"kind": "freeze", "device": "foc0", "from": at(10), "duration": 3},
            timeout_s=5.0)
        await clock.sleep(10)
        await focuser.state()
        assert elapsed(clock) == pytest.approx(13)

    run_virtual(work)


# ---------------------------------------------------------------- disconnect
DISCONNECT = {"kind": "disconnect", "device": "foc0", "from": at(60), "until": at(120)}


async def test_a_disconnected_device_reads_disconnected_and_its_calls_fail_until_the_end():
    clock = frozen_clock()
    focuser = await focuser_with(clock, DISCONNECT)
    clock.advance(60)
    assert not focuser.connected
    with pytest.raises(NotConnectedError):
        await focuser.state()
    clock.advance(60)
    assert focuser.connected
    assert (await focuser.state()).position == 30000


async def test_connect_fails_while_the_link_is_down_and_works_after():
    clock = frozen_clock()
    focuser = await focuser_with(clock, DISCONNECT)
    clock.advance(90)
    await focuser.disconnect()
    with pytest.raises(NotConnectedError, match="link is down"):
        await focuser.connect()
    clock.advance(30)
    await focuser.connect()
    assert focuser.connected


async def test_a_fault_is_published_once_when_it_starts_and_once_when_it_ends():
    clock = frozen_clock()
    focuser = await focuser_with(clock, DISCONNECT)
    events = focuser.events.subscribe("focuser.fault.*")
    clock.advance(60)
    for _ in range(3):
        with pytest.raises(NotConnectedError):
            await focuser.state()
    clock.advance(60)
    await focuser.state()
    await focuser.state()
    assert topics(events) == ["focuser.fault.started", "focuser.fault.ended"]


# ----------------------------------------------------------------- exception
async def expose(camera: SimCamera, clock: SimClock, duration_s: float = 1.0) -> Any:
    await camera.start_exposure(duration_s)
    clock.advance(duration_s + 5)
    await settle()
    return await camera.image()


async def test_an_exception_fault_fails_exactly_one_exposure():
    clock = frozen_clock()
    camera = await camera_with(clock, {"kind": "exception", "device": "cam0", "from": at(30),
                                       "message": "readout failed"})
    outcomes = []
    for _ in range(4):  # every 18 s: the one at 36 s, the first after 30 s, fails
        try:
            await expose(camera, clock)
            outcomes.append("image")
        except SimulatedFaultError as exc:
            assert "readout failed" in str(exc)
            outcomes.append("failed")
        clock.advance(12)
    assert outcomes == ["image", "image", "failed", "image"]


async def test_the_image_of_the_failed_exposure_stays_unreadable():
    clock = frozen_clock()
    camera = await camera_with(clock, {"kind": "exception", "device": "cam0", "from": at(0)})
    with pytest.raises(SimulatedFaultError):
        await expose(camera, clock)
    with pytest.raises(SimulatedFaultError):
        await camera.image()


# -------------------------------------------------------------- slow readout
async def ready_after(camera: SimCamera, clock: SimClock, duration_s: float = 2.0,
                      step_s: float = 0.25) -> float:
    """Seconds from an exposure's start until its image is ready."""
    await camera.start_exposure(duration_s)
    waited = 0.0
    while not (await camera.state()).image_ready:
        clock.advance(step_s)
        waited += step_s
        assert waited < 100, "the image never became ready"
    return waited


async def test_slow_readout_makes_the_image_ready_factor_times_later():
    clock = frozen_clock()
    camera = await camera_with(clock, {"kind": "slow_readout", "device": "cam0",
                                       "from": at(0), "until": at(60), "factor": 4})
    assert await ready_after(camera, clock) == pytest.approx(2.0 + 4 * 1.0)


async def test_after_a_slow_readout_the_readout_is_normal_again():
    clock = frozen_clock()
    camera = await camera_with(clock, {"kind": "slow_readout", "device": "cam0",
                                       "from": at(0), "until": at(5), "factor": 4})
    clock.advance(10)
    assert await ready_after(camera, clock) == pytest.approx(2.0 + 1.0)
    assert camera.model is SMALL


# ----------------------------------------------------------- unit-wide faults
def disk_unit(tmp_path) -> Any:
    """What the safety disk check reads of a unit."""
    return disk_check_unit(tmp_path, 1)


async def test_disk_full_fills_the_data_directory_during_the_window_only(tmp_path):
    clock = frozen_clock()
    supervisor = SafetySupervisor(disk_unit(tmp_path))
    disk_full = plan({"kind": "disk_full", "from": at(60), "duration": 60})
    async with disk_full.running(clock, events=EventBus(), data_dir=tmp_path):
        clock.advance(60)
        await settle()
        (reason,) = supervisor.disk()
        assert reason.startswith("only 0 MB free")
        with pytest.raises(OSError) as caught:
            atomic_write_bytes(tmp_path / "frame.fits", b"x" * 2880)
        assert caught.value.errno == errno.ENOSPC
        clock.advance(60)
        await settle()
        assert supervisor.disk() == []
        atomic_write_bytes(tmp_path / "frame.fits", b"x" * 2880)


async def test_stopping_the_plan_ends_a_disk_shortage_in_force(tmp_path):
    clock = frozen_clock()
    bus = EventBus()
    events = bus.subscribe("fault.*")
    disk_full = plan({"kind": "disk_full", "from": at(0)})
    async with disk_full.running(clock, events=bus, data_dir=tmp_path):
        await settle()
        assert SafetySupervisor(disk_unit(tmp_path)).disk() != []
    assert SafetySupervisor(disk_unit(tmp_path)).disk() == []
    assert topics(events) == ["fault.started", "fault.ended"]


def test_clock_jump_steps_a_virtual_clock_forward_at_its_time():
    async def work(clock: VirtualClock) -> tuple[float, float]:
        jump = plan({"kind": "clock_jump", "from": at(60), "seconds": 300})
        async with jump.running(clock, events=EventBus()):
            await asyncio.sleep(59)
            before = elapsed(clock)
            await asyncio.sleep(2)
            return before, elapsed(clock)

    before, after = run_virtual(work)
    assert before == pytest.approx(59)
    assert after == pytest.approx(61 + 300)


async def test_a_clock_jump_on_a_clock_that_cannot_step_is_logged(caplog):
    clock = frozen_clock()
    jump = plan({"kind": "clock_jump", "from": at(10), "seconds": 300})
    with caplog.at_level(logging.WARNING, logger="nocturna.devices.sim.faults"):
        async with jump.running(clock, events=EventBus()):
            clock.advance(10)
            await settle()
    assert "cannot step" in caplog.text
    assert elapsed(clock) == pytest.approx(10)


# --------------------------------------------------------------------- errors
VALID = {"kind": "freeze", "device": "foc0", "from": "23:00", "duration": 60}


@pytest.mark.parametrize(("entry", "where"), [
    ({"device": "foc0", "from": "23:00"}, "faults[1].kind"),
    ({"kind": "melt", "device": "foc0", "from": "23:00"}, "faults[1].kind"),
    ({"kind": "freeze", "from": "23:00"}, "faults[1].device"),
    ({"kind": "disk_full", "device": "foc0", "from": "23:00"}, "faults[1].device"),
    ({"kind": "freeze", "device": "foc0"}, "faults[1].from"),
    ({"kind": "freeze", "device": "foc0", "from": "tonight"}, "faults[1].from"),
    ({"kind": "freeze", "device": "foc0", "from": "23:00", "until": "22:00"},
     "faults[1].until"),
    ({"kind": "freeze", "device": "foc0", "from": "23:00", "until": "23:30",
      "duration": 60}, "faults[1]: give 'until' or 'duration'"),
    ({"kind": "freeze", "device": "foc0", "from": "23:00", "duration": -5},
     "faults[1].duration"),
    ({"kind": "slow_readout", "device": "cam0", "from": "23:00"}, "faults[1].factor"),
    ({"kind": "slow_readout", "device": "cam0", "from": "23:00", "factor": 0.5},
     "faults[1].factor"),
    ({"kind": "clock_jump", "from": "23:00", "seconds": 0}, "faults[1].seconds"),
    ({"kind": "exception", "device": "cam0", "from": "23:00", "until": "23:30"},
     "faults[1].until"),
    ({"kind": "disk_full", "from": "23:00", "free_mb": "lots"}, "faults[1].free_mb"),
    ("freeze foc0", "faults[1]: expected a mapping"),
], ids=["no-kind", "unknown-kind", "no-device", "unit-wide-with-device", "no-from",
        "bad-from", "until-before-from", "until-and-duration", "negative-duration",
        "no-factor", "factor-below-1", "zero-jump", "once-with-until", "bad-free-mb",
        "not-a-mapping"])
def test_a_bad_fault_entry_names_the_entry_and_the_field(entry, where):
    with pytest.raises(ConfigError) as caught:
        plan(VALID, entry)
    assert where in str(caught.value)


def test_faults_must_be_a_list():
    with pytest.raises(ConfigError, match="faults: expected a list"):
        plan_from_data({"kind": "freeze"})


def test_a_fault_naming_no_device_lists_the_known_ones():
    focuser = SimFocuser("foc0", **device_kwargs(frozen_clock()))
    with pytest.raises(ConfigError, match=r"faults\[0\]\.device: no device named 'foc9' "
                                          r"\(known: foc0\)"):
        plan({**VALID, "device": "foc9"}).install([focuser])


def test_a_camera_fault_on_another_kind_of_device_is_refused():
    focuser = SimFocuser("foc0", **device_kwargs(frozen_clock()))
    entry = {"kind": "slow_readout", "device": "foc0", "from": "23:00", "factor": 2}
    with pytest.raises(ConfigError, match=r"faults\[0\]\.device: 'foc0' is a focuser"):
        plan(entry).install([focuser])


def test_a_device_that_is_not_simulated_gets_no_fault():
    class RealWidget(Widget):
        driver_name = "serial"

    widget = RealWidget("w0", **device_kwargs(frozen_clock()))
    with pytest.raises(ConfigError, match="'w0' is not simulated"):
        plan({**VALID, "device": "w0"}).install([widget])
    assert widget.fault is None


# ------------------------------------------------------------------ scenarios
SCENARIO = """\
night: 2026-12-14
timeline:
  - {from: "23:00", until: "23:30", clouds: 80}
faults:
  - {kind: freeze, device: cam0, from: "22:30", until: "22:40"}
  - {kind: disconnect, device: foc0, from: "23:00", duration: 600}
  - {kind: disk_full, from: "01:00", duration: 60}
"""


@pytest.fixture
def config(tmp_path):
    return Config.load(environ={}, load_local=False, overrides={"data_dir": str(tmp_path)})


@pytest.fixture
def clock():
    clock = SimClock("2026-12-14T22:00Z", speed=0)
    with use_clock(clock):
        yield clock


def test_a_scenario_without_faults_has_an_empty_plan():
    assert len(ConstantWeather().faults) == 0
    assert len(load_scenario([{"clouds": 50}]).faults) == 0


def test_a_scenario_file_with_faults_loads_its_weather_and_its_plan(tmp_path):
    path = tmp_path / "faulty.yaml"
    path.write_text(SCENARIO, encoding="utf-8")
    scenario = load_scenario(path)
    assert scenario.at(datetime.fromisoformat("2026-12-14T23:10Z").timestamp()) \
        .cloud_cover_pct == 80
    assert [f.kind for f in scenario.faults] == ["freeze", "disconnect", "disk_full"]
    assert scenario.faults.device_names == {"cam0", "foc0"}


def test_problems_of_faults_in_a_file_are_prefixed_with_its_name(tmp_path):
    path = tmp_path / "faulty.yaml"
    path.write_text("faults: [{kind: freeze, device: foc0, from: '2026-12-14T23:00Z', "
                    "duration: 0}]\n", encoding="utf-8")
    with pytest.raises(ConfigError, match=r"faulty\.yaml: faults\[0\]\.duration"):
        load_scenario(path)


async def test_a_unit_built_from_a_scenario_with_faults_has_the_hooks(tmp_path, config, clock):
    path = tmp_path / "faulty.yaml"
    path.write_text(SCENARIO, encoding="utf-8")
    devices = build_devices(config, simulate=True, scenario=load_scenario(path))
    hooked = {device.name for device in devices if isinstance(device.fault, DeviceFaults)}
    assert hooked == {"cam0", "foc0"}
    focuser = devices.focusers["foc0"]
    await focuser.connect()
    clock.set_time("2026-12-14T23:00Z")
    with pytest.raises(NotConnectedError):
        await focuser.state()


def test_a_scenario_fault_on_an_unknown_device_fails_the_build(tmp_path, config, clock):
    path = tmp_path / "faulty.yaml"
    path.write_text(SCENARIO.replace("device: foc0", "device: foc7"), encoding="utf-8")
    with pytest.raises(ConfigError, match=r"faulty\.yaml: faults\[1\]\.device: no device "
                                          r"named 'foc7' \(known: .*cam0.*foc0"):
        build_devices(config, simulate=True, scenario=load_scenario(path))
