"""Components: summary states, transitions, the command gate, heartbeats, liveliness, groups."""

from __future__ import annotations

import asyncio
import logging

import pytest

from nocturna.components import (
    Component,
    ComponentGroup,
    ComponentStateError,
    DeviceComponent,
    LivelinessError,
    StateChange,
    SummaryState,
    parse_state,
)
from nocturna.core.clock import SimClock
from nocturna.core.errors import (
    DeviceTimeoutError,
    InvalidOperationError,
    InvalidValueError,
)
from nocturna.core.events import EventBus, Subscription
from nocturna.devices.sim.filterwheel import SimFilterWheel
from nocturna.devices.sim.focuser import SimFocuser

OFFLINE, STANDBY, DISABLED, ENABLED, FAULT = (
    SummaryState.OFFLINE, SummaryState.STANDBY, SummaryState.DISABLED, SummaryState.ENABLED,
    SummaryState.FAULT,
)
START = "2026-12-15T08:00:00Z"
REAL_LIMIT_S = 5.0  # upper bound on real waiting, only reached when a test fails


class FlakyFocuser(SimFocuser):
    """A simulated focuser that can be told to hang or fail."""

    def __init__(self, name: str = "foc0", **options) -> None:
        super().__init__(name, **options)
        self.hang = False
        self.state_error: Exception | None = None
        self.move_error: Exception | None = None
        self.connect_error: Exception | None = None
        self.disconnect_error: Exception | None = None
        self.state_calls = 0

    async def state(self):
        self.state_calls += 1
        if self.hang:
            await asyncio.Event().wait()  # never answers
        if self.state_error is not None:
            raise self.state_error
        return await super().state()

    async def move_to(self, position: int) -> None:
        if self.move_error is not None:
            raise self.move_error
        await super().move_to(position)

    async def _connect(self) -> None:
        if self.connect_error is not None:
            raise self.connect_error

    async def _disconnect(self) -> None:
        if self.disconnect_error is not None:
            raise self.disconnect_error


class HardwareFocuser(FlakyFocuser):
    driver_name = "serial"
    driver_version = "2.3"


class ListHandler(logging.Handler):
    def __init__(self) -> None:
        super().__init__(logging.DEBUG)
        self.messages: list[str] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.messages.append(record.getMessage())


async def settle() -> None:
    """Let every ready task run up to its next wait."""
    for _ in range(20):
        await asyncio.sleep(0)


class Bench:
    """A frozen clock, an event bus, and everything to close after the test."""

    def __init__(self) -> None:
        self.clock = SimClock(START, speed=0)
        self.events = EventBus()
        self._open: list[Component | ComponentGroup] = []

    def focuser(self, name: str = "foc0", cls: type[FlakyFocuser] = FlakyFocuser
                ) -> FlakyFocuser:
        return cls(name, clock=self.clock, events=self.events)

    def wheel(self, name: str = "fw0") -> SimFilterWheel:
        return SimFilterWheel(name, clock=self.clock, events=self.events)

    def component(self, device, **options) -> DeviceComponent:
        component = DeviceComponent(device, **options)
        self._open.append(component)
        return component

    def group(self, devices, **options) -> ComponentGroup:
        group = ComponentGroup.for_devices(devices, **options)
        self._open.append(group)
        return group

    async def tick(self, seconds: float = 1.0) -> None:
        self.clock.advance(seconds)
        await settle()

    async def close(self) -> None:
        for item in self._open:
            await item.close()


@pytest.fixture
async def bench():
    bench = Bench()
    yield bench
    await bench.close()


async def in_state(component: Component, state: SummaryState) -> Component:
    """Bring a fresh component to ``state`` (FAULT through fault())."""
    if state is FAULT:
        await component.set_state(DISABLED)
        await component.fault("test fault")
    else:
        await component.set_state(state)
    await settle()
    return component


async def next_event(subscription: Subscription):
    async with asyncio.timeout(REAL_LIMIT_S):
        return await subscription.get()


def transitions(subscription: Subscription) -> list[tuple[str, str]]:
    return [(e.data["from"].name, e.data["to"].name) for e in subscription.drain()
            if e.topic == "component.state"]


# ---------------------------------------------------------------- transitions
async def test_a_new_component_is_offline_and_silent(bench):
    component = bench.component(bench.focuser())
    await component.start()
    await bench.tick(5)
    assert component.state is OFFLINE
    assert component.last_heartbeat is None and component.heartbeat_count == 0


@pytest.mark.parametrize(("start", "target"), [
    (OFFLINE, STANDBY), (STANDBY, OFFLINE), (STANDBY, DISABLED), (DISABLED, STANDBY),
    (DISABLED, ENABLED), (ENABLED, DISABLED), (FAULT, STANDBY),
])
async def test_each_allowed_step_is_taken(bench, start, target):
    component = await in_state(bench.component(bench.focuser()), start)
    with bench.events.subscribe("component.state") as changes:
        await component.set_state(target)
        assert component.state is target
        assert transitions(changes) == [(start.name, target.name)]


@pytest.mark.parametrize("start", [OFFLINE, STANDBY, DISABLED, ENABLED])
async def test_any_state_can_fault(bench, start):
    component = await in_state(bench.component(bench.focuser()), start)
    await component.fault("the cable fell out")
    assert component.state is FAULT and component.fault_reason == "the cable fell out"


async def test_standby_to_enabled_goes_through_disabled(bench):
    component = await in_state(bench.component(bench.focuser()), STANDBY)
    with bench.events.subscribe("component.state") as changes:
        await component.set_state(ENABLED)
        assert transitions(changes) == [("STANDBY", "DISABLED"), ("DISABLED", "ENABLED")]


async def test_enabled_to_offline_goes_through_disabled_and_standby(bench):
    component = await in_state(bench.component(bench.focuser()), ENABLED)
    with bench.events.subscribe("component.state") as changes:
        await component.offline()
        assert transitions(changes) == [("ENABLED", "DISABLED"), ("DISABLED", "STANDBY"),
                                        ("STANDBY", "OFFLINE")]


async def test_fault_to_enabled_is_refused_naming_the_states(bench):
    component = await in_state(bench.component(bench.focuser()), FAULT)
    with pytest.raises(InvalidOperationError) as refused:
        await component.enable()
    message = str(refused.value)
    assert "focuser 'foc0' cannot go from FAULT" in message and "to ENABLED" in message
    assert "allowed next from FAULT: STANDBY" in message
    assert component.state is FAULT


async def test_fault_to_offline_is_refused(bench):
    component = await in_state(bench.component(bench.focuser()), FAULT)
    with pytest.raises(InvalidOperationError, match="put it in STANDBY first"):
        await component.offline()


async def test_set_state_cannot_enter_fault(bench):
    component = await in_state(bench.component(bench.focuser()), ENABLED)
    with pytest.raises(InvalidOperationError, match=r"only fault\(reason\)") as refused:
        await component.set_state(FAULT)
    assert "allowed next from ENABLED: DISABLED" in str(refused.value)
    assert component.state is ENABLED


async def test_states_are_read_from_names_in_any_case():
    assert parse_state("Enabled") is ENABLED and parse_state(STANDBY) is STANDBY
    with pytest.raises(InvalidValueError, match="OFFLINE, STANDBY, DISABLED, ENABLED, FAULT"):
        parse_state("running")


# ---------------------------------------------------------------- connection
async def test_enabling_from_standby_connects_the_device(bench):
    focuser = bench.focuser()
    component = await in_state(bench.component(focuser), STANDBY)
    assert not focuser.connected
    await component.enable()
    assert focuser.connected


async def test_standby_disconnects_the_device(bench):
    focuser = bench.focuser()
    component = await in_state(bench.component(focuser), ENABLED)
    await component.standby()
    assert not focuser.connected and component.state is STANDBY


async def test_a_connect_failure_faults_the_component_and_raises(bench):
    focuser = bench.focuser()
    focuser.connect_error = OSError("serial port /dev/ttyUSB0 is busy")
    component = bench.component(focuser)
    with pytest.raises(OSError, match="busy"):
        await component.enable()
    assert component.state is FAULT
    assert "connect failed" in component.fault_reason
    assert "/dev/ttyUSB0 is busy" in component.fault_reason


async def test_leaving_fault_reaches_standby_even_if_disconnecting_fails(bench):
    focuser = bench.focuser()
    component = await in_state(bench.component(focuser), FAULT)
    focuser.disconnect_error = OSError("no answer")
    handler = ListHandler()  # on the module's logger: the "nocturna" logger may not propagate
    logger = logging.getLogger("nocturna.components")
    logger.addHandler(handler)
    try:
        await component.standby()
    finally:
        logger.removeHandler(handler)
    assert component.state is STANDBY and component.fault_reason is None
    assert "error while leaving FAULT (ignored): OSError: no answer" in handler.messages


async def test_recovery_goes_from_fault_through_standby_to_enabled(bench):
    focuser = bench.focuser()
    component = await in_state(bench.component(focuser), FAULT)
    await component.standby()
    assert not focuser.connected
    await component.enable()
    assert component.state is ENABLED and focuser.connected
    await focuser.move_to(30100)


# -------------------------------------------------------------------- gating
async def test_commands_that_act_are_refused_while_disabled(bench):
    focuser = bench.focuser()
    await in_state(bench.component(focuser), DISABLED)
    with pytest.raises(InvalidOperationError,
                       match=r"focuser 'foc0' is DISABLED: enable it first \(commands need "
                             r"ENABLED"):
        await focuser.move_to(31000)
    assert (await focuser.state()).position == 30000
    assert (await focuser.info()).max_step == 60000


async def test_commands_that_act_run_while_enabled(bench):
    focuser = bench.focuser()
    await in_state(bench.component(focuser), ENABLED)
    await focuser.move_to(30500)
    await bench.tick(1)
    assert (await focuser.state()).position == 30500


async def test_commands_in_fault_are_refused_with_the_fault_reason(bench):
    focuser = bench.focuser()
    await in_state(bench.component(focuser), FAULT)
    with pytest.raises(InvalidOperationError, match=r"is FAULT \(test fault\).*STANDBY"):
        await focuser.move_to(31000)


async def test_filter_wheel_moves_need_enabled(bench):
    wheel = bench.wheel()
    component = await in_state(bench.component(wheel), DISABLED)
    with pytest.raises(InvalidOperationError, match="filterwheel 'fw0' is DISABLED"):
        await wheel.move_to("R", wait=False)
    await component.enable()
    await wheel.move_to("R", wait=False)


async def test_a_device_is_under_one_open_component_at_a_time(bench):
    focuser = bench.focuser()
    first = bench.component(focuser)
    with pytest.raises(InvalidOperationError, match="already under"):
        DeviceComponent(focuser)
    await first.close()
    bench.component(focuser)  # a closed component lets go


# ---------------------------------------------------------------- heartbeats
async def test_heartbeats_follow_the_clock(bench):
    component = await in_state(bench.component(bench.focuser()), ENABLED)
    first = component.heartbeat_count
    assert first >= 1 and component.last_heartbeat == bench.clock.now()
    with bench.events.subscribe("component.heartbeat") as beats:
        await bench.tick(0.5)
        assert component.heartbeat_count == first
        await bench.tick(0.5)
        assert component.heartbeat_count == first + 1
        assert component.last_heartbeat == bench.clock.now()
        [event] = beats.drain()
    assert event.source == "foc0" and event.data["state"] is ENABLED


async def test_standby_heartbeats_do_not_touch_the_device(bench):
    focuser = bench.focuser()
    component = await in_state(bench.component(focuser), STANDBY)
    before = component.heartbeat_count
    await bench.tick(1)
    await bench.tick(1)
    assert component.heartbeat_count == before + 2
    assert focuser.state_calls == 0


async def test_enabled_heartbeats_probe_the_device_state(bench):
    focuser = bench.focuser()
    await in_state(bench.component(focuser), ENABLED)
    calls = focuser.state_calls
    await bench.tick(1)
    assert focuser.state_calls == calls + 1


async def test_offline_sends_no_heartbeats(bench):
    component = await in_state(bench.component(bench.focuser()), STANDBY)
    await component.offline()
    await settle()
    count = component.heartbeat_count
    await bench.tick(3)
    assert component.heartbeat_count == count


async def test_a_hanging_device_faults_after_three_unanswered_probes(bench):
    focuser = bench.focuser()
    component = await in_state(bench.component(focuser, probe_timeout_s=0.05), ENABLED)
    count = component.heartbeat_count
    focuser.hang = True
    with bench.events.subscribe("component.heartbeat_missed") as missed:
        for attempt in (1, 2, 3):
            await settle()  # the heartbeat is back on its clock sleep
            bench.clock.advance(1)
            event = await next_event(missed)
            assert event.data["failures"] == attempt
    await settle()
    assert component.state is FAULT
    assert component.fault_reason == (
        "focuser 'foc0' did not answer state() within 0.05 s, 3 times in a row")
    assert component.heartbeat_count >= count  # FAULT still beats: the component is alive


async def test_a_device_whose_state_keeps_raising_faults(bench):
    focuser = bench.focuser()
    component = await in_state(bench.component(focuser), ENABLED)
    focuser.state_error = DeviceTimeoutError("no reply on the serial line")
    for _ in range(3):
        await bench.tick(1)
    assert component.state is FAULT
    assert component.fault_reason == (
        "focuser 'foc0' state() raised DeviceTimeoutError: no reply on the serial line, "
        "3 times in a row")


async def test_one_answered_probe_resets_the_miss_count(bench):
    focuser = bench.focuser()
    component = await in_state(bench.component(focuser), ENABLED)
    focuser.state_error = OSError("glitch")
    await bench.tick(1)
    await bench.tick(1)
    assert component.probe_failures == 2
    focuser.state_error = None
    await bench.tick(1)
    assert component.probe_failures == 0
    focuser.state_error = OSError("glitch")
    await bench.tick(1)
    await bench.tick(1)
    assert component.state is ENABLED


async def test_repeated_command_failures_fault_the_component(bench):
    focuser = bench.focuser()
    component = await in_state(bench.component(focuser), ENABLED)
    focuser.move_error = OSError("motor driver not responding")
    for _ in range(3):
        with pytest.raises(OSError):
            await focuser.move_to(31000)
    assert component.state is FAULT
    assert "3 commands failed in a row" in component.fault_reason
    assert "move_to() raised OSError: motor driver not responding" in component.fault_reason


async def test_refused_values_are_not_device_failures(bench):
    focuser = bench.focuser()
    component = await in_state(bench.component(focuser), ENABLED)
    for _ in range(5):
        with pytest.raises(InvalidValueError):
            await focuser.move_to(-1)
    assert component.state is ENABLED and component.command_failures == 0


async def test_a_successful_command_resets_the_failure_count(bench):
    focuser = bench.focuser()
    component = await in_state(bench.component(focuser), ENABLED)
    focuser.move_error = OSError("flaky")
    for _ in range(2):
        with pytest.raises(OSError):
            await focuser.move_to(31000)
    focuser.move_error = None
    await focuser.move_to(30100)
    assert component.command_failures == 0 and component.state is ENABLED


async def test_next_heartbeat_waits_on_the_clock(bench):
    component = await in_state(bench.component(bench.focuser()), ENABLED)
    waiting = asyncio.ensure_future(component.next_heartbeat(timeout_s=5))
    await settle()
    assert not waiting.done()
    await bench.tick(1)
    assert await waiting == bench.clock.now()


async def test_next_heartbeat_gives_up_after_its_clock_limit(bench):
    component = bench.component(bench.focuser())  # OFFLINE: no heartbeats
    waiting = asyncio.ensure_future(component.next_heartbeat(timeout_s=2))
    await settle()
    await bench.tick(2)
    with pytest.raises(LivelinessError, match="sent no heartbeat within 2 s"):
        await waiting


# -------------------------------------------------------- events and callbacks
async def test_state_changes_are_published_with_the_reason(bench):
    component = bench.component(bench.focuser())
    with bench.events.subscribe("component.state") as changes:
        await component.set_state(STANDBY, reason="start of night")
        [event] = changes.drain()
    assert event.source == "foc0" and event.time == bench.clock.now()
    assert event.data == {"from": OFFLINE, "to": STANDBY, "reason": "start of night"}


async def test_change_callbacks_may_be_sync_or_async(bench):
    seen: list[StateChange] = []

    async def later(change: StateChange) -> None:
        await asyncio.sleep(0)
        seen.append(change)

    component = bench.component(bench.focuser(), on_change=seen.append)
    component.add_on_change(later)
    await component.set_state(STANDBY)
    assert [(c.previous, c.state) for c in seen] == [(OFFLINE, STANDBY)] * 2


# --------------------------------------------------------------------- groups
async def test_a_group_enables_every_device(bench):
    focuser, wheel = bench.focuser(), bench.wheel()
    group = bench.group([focuser, wheel])
    await group.enable()
    assert group.get_state("foc0") is ENABLED and group.get_state("fw0") is ENABLED
    assert focuser.connected and wheel.connected


async def test_a_group_changes_only_the_named_components(bench):
    group = bench.group([bench.focuser(), bench.wheel()])
    await group.standby(["fw0"])
    assert group.get_state("fw0") is STANDBY and group.get_state("foc0") is OFFLINE


async def test_unknown_component_names_are_refused_listing_the_known(bench):
    group = bench.group([bench.focuser(), bench.wheel()])
    with pytest.raises(InvalidValueError, match=r"'cam9'.*known: foc0, fw0"):
        await group.enable(["foc0", "cam9"])
    assert group.get_state("foc0") is OFFLINE


async def test_a_group_tries_every_component_and_lists_each_failure(bench):
    broken, wheel = bench.focuser(), bench.wheel()
    broken.connect_error = OSError("no such port")
    group = bench.group([broken, wheel])
    with pytest.raises(ComponentStateError, match="1 of 2 components to ENABLED") as failed:
        await group.enable()
    assert "foc0: OSError: no such port" in str(failed.value)
    assert set(failed.value.failures) == {"foc0"}
    assert group.get_state("fw0") is ENABLED and group.get_state("foc0") is FAULT


async def test_assert_all_enabled_names_the_laggards(bench):
    group = bench.group([bench.focuser(), bench.wheel(), bench.focuser("foc1")])
    await group.enable(["foc0"])
    await group.standby(["fw0"])
    with pytest.raises(InvalidOperationError) as failed:
        group.assert_all_enabled("cannot take flats")
    message = str(failed.value)
    assert "fw0 is STANDBY" in message and "foc1 is OFFLINE" in message
    assert "foc0" not in message and message.endswith("cannot take flats")
    await group.enable()
    group.assert_all_enabled()


async def test_components_left_unchecked_are_not_asserted(bench):
    group = bench.group([bench.focuser(), bench.wheel()])
    await group.enable(["foc0"])
    group.set_check("fw0", False)
    group.assert_all_enabled()
    group.assert_liveliness()
    group.reset_checks()
    with pytest.raises(InvalidOperationError, match="fw0 is OFFLINE"):
        group.assert_all_enabled()


async def test_liveliness_holds_while_heartbeats_are_fresh(bench):
    group = bench.group([bench.focuser(), bench.wheel()])
    await group.enable()
    await settle()
    for _ in range(5):
        await bench.tick(1)
        group.assert_liveliness()


async def test_liveliness_fails_naming_a_device_that_stopped_answering(bench):
    hanging, wheel = bench.focuser(), bench.wheel()
    group = bench.group([hanging, wheel], probe_timeout_s=0.05, fault_after=100)
    await group.enable()
    await settle()
    hanging.hang = True
    with bench.events.subscribe("component.heartbeat_missed") as missed:
        for step in (1, 1, 1.5):
            await settle()
            bench.clock.advance(step)
            await next_event(missed)
    await settle()
    with pytest.raises(LivelinessError) as failed:
        group.assert_liveliness()
    message = str(failed.value)
    assert "foc0 (ENABLED, last heartbeat 3.5 s ago" in message and "limit 3 s" in message
    assert "did not answer state()" in message
    assert "fw0" not in message


async def test_liveliness_names_components_that_never_sent_a_heartbeat(bench):
    group = bench.group([bench.focuser(), bench.wheel()])
    await group.enable(["fw0"])
    await settle()
    with pytest.raises(LivelinessError, match=r"foc0 \(OFFLINE, no heartbeat yet"):
        group.assert_liveliness(timeout_s=10)


async def test_group_heartbeat_accessors(bench):
    group = bench.group([bench.focuser()])
    assert group.get_heartbeat("foc0") is None
    await group.enable()
    await settle()
    assert group.get_heartbeat("foc0") == bench.clock.now()
    waiting = asyncio.ensure_future(group.next_heartbeat("foc0", timeout_s=3))
    await settle()
    await bench.tick(1)
    assert await waiting == group.get_heartbeat("foc0") == bench.clock.now()


async def test_software_versions_and_simulation_modes(bench):
    group = bench.group([bench.focuser(), bench.focuser("foc1", cls=HardwareFocuser)])
    assert group.get_software_versions() == {"foc0": "sim 1.0", "foc1": "serial 2.3"}
    assert group.get_simulation_mode() == {"foc0": True, "foc1": False}
    assert group.get_simulation_mode(["foc1"]) == {"foc1": False}


async def test_summary_has_one_row_per_component(bench):
    group = bench.group([bench.focuser(), bench.wheel()])
    await group.enable(["foc0"])
    await settle()
    await bench.tick(0.5)
    rows = {row["name"]: row for row in group.summary()}
    assert rows["foc0"]["kind"] == "focuser" and rows["foc0"]["state"] == "enabled"
    assert rows["foc0"]["heartbeat_age_s"] == pytest.approx(0.5)
    assert rows["fw0"]["state"] == "offline" and rows["fw0"]["last_heartbeat"] is None
    assert rows["fw0"]["heartbeat_age_s"] is None and rows["fw0"]["fault_reason"] is None


async def test_a_group_as_context_manager_stops_its_heartbeats(bench):
    async with ComponentGroup.for_devices([bench.focuser()]) as group:
        await group.standby()
        await settle()
        count = group["foc0"].heartbeat_count
        await bench.tick(1)
        assert group["foc0"].heartbeat_count == count + 1
    await bench.tick(1)
    assert group["foc0"].heartbeat_count == count + 1


async def test_two_components_of_a_group_cannot_share_a_name(bench):
    with pytest.raises(InvalidValueError, match="two components are named 'foc0'"):
        ComponentGroup([Component("foc0"), Component("foc0")])


async def test_a_plain_component_is_alive_through_its_probe_hook(bench):
    probes: list[SummaryState] = []

    class Service(Component):
        kind = "service"

        async def _probe(self) -> None:
            probes.append(self.state)

    service = Service("svc", clock=bench.clock, events=bench.events)
    bench._open.append(service)
    await service.enable()
    await settle()
    await bench.tick(1)
    assert probes == [ENABLED, ENABLED] and service.heartbeat_count == 2


async def test_a_plain_component_gates_what_it_controls(bench):
    service = Component("svc", clock=bench.clock, events=bench.events)
    bench._open.append(service)
    await service.disable()
    with pytest.raises(InvalidOperationError,
                       match=r"component 'svc' is DISABLED: enable it first.*take bias refused"):
        service.require_enabled("take bias")
    await service.enable()
    service.require_enabled("take bias")
