"""Automatic recovery of components from FAULT: backoff, cancellation, config, telemetry."""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Iterator
from datetime import datetime, timedelta

import pytest
from test_components import REAL_LIMIT_S, Bench, FlakyFocuser, settle

from nocturna.components import (
    DeviceComponent,
    RecoveryPolicy,
    SummaryState,
)
from nocturna.core.clock import VirtualClock, use_clock
from nocturna.core.config import Config
from nocturna.core.errors import (
    ConfigError,
    DeviceTimeoutError,
    InvalidOperationError,
    InvalidValueError,
)
from nocturna.core.events import Subscription
from unit_helpers import MIDNIGHT, close_unit, make_unit, unit_config

OFFLINE, STANDBY, DISABLED, ENABLED, FAULT = (
    SummaryState.OFFLINE, SummaryState.STANDBY, SummaryState.DISABLED, SummaryState.ENABLED,
    SummaryState.FAULT,
)
POLICY = RecoveryPolicy(first_retry_s=30, max_retry_s=120)
"""Attempts 30 s after the fault, then after 60 s, then every 120 s."""


class CountingFocuser(FlakyFocuser):
    """A flaky focuser that counts connection attempts and can hold a connect."""

    def __init__(self, name: str = "foc0", **options) -> None:
        super().__init__(name, **options)
        self.connects = 0
        self.hold_connect: asyncio.Event | None = None

    async def _connect(self) -> None:
        self.connects += 1
        if self.hold_connect is not None:
            await self.hold_connect.wait()
        await super()._connect()


@pytest.fixture
async def bench():
    bench = Bench()
    yield bench
    await bench.close()


@contextlib.contextmanager
def logged(name: str, level: int = logging.WARNING) -> Iterator[list[logging.LogRecord]]:
    """The records of logger ``name`` at ``level`` and above, while inside (the "nocturna"
    logger may not propagate to the root, where caplog listens)."""
    records: list[logging.LogRecord] = []
    handler = logging.Handler(level)
    handler.emit = records.append  # type: ignore[method-assign]
    logger = logging.getLogger(name)
    logger.addHandler(handler)
    try:
        yield records
    finally:
        logger.removeHandler(handler)


def gone(focuser: FlakyFocuser) -> None:
    """The device's server stops answering: reads time out, connecting is refused."""
    focuser.state_error = DeviceTimeoutError("no reply from the focuser server")
    focuser.connect_error = OSError("connection refused")


def back(focuser: FlakyFocuser) -> None:
    focuser.state_error = focuser.connect_error = None


async def faulted(bench: Bench, policy: RecoveryPolicy | None = POLICY,
                  state: SummaryState = ENABLED, **options
                  ) -> tuple[CountingFocuser, DeviceComponent, datetime]:
    """A focuser whose component was ``state`` until its device stopped answering:
    in FAULT after three missed heartbeats; also the clock time of the fault."""
    focuser = CountingFocuser(clock=bench.clock, events=bench.events)
    component = bench.component(focuser, recovery=policy, **options)
    await component.set_state(state)
    await settle()
    gone(focuser)
    for _ in range(3):
        await bench.tick(1)
    assert component.state is FAULT
    return focuser, component, bench.clock.now()


async def run_for(bench: Bench, seconds: float, step: float = 1.0) -> None:
    """Move the clock ``seconds`` forward in ``step`` ticks, letting every task run."""
    for _ in range(round(seconds / step)):
        await bench.tick(step)


def attempt_times(changes: Subscription, since: datetime) -> list[float]:
    """Clock seconds after ``since`` at which recovery attempts began."""
    return [(e.time - since).total_seconds() for e in changes.drain()
            if e.data["from"] is FAULT and e.data["reason"].startswith("recovery attempt")]


def steps(changes: Subscription) -> list[tuple[str, str, str]]:
    return [(e.data["from"].name, e.data["to"].name, e.data["reason"]) for e in changes.drain()]


# ------------------------------------------------------------------ recovery
async def test_a_device_that_answers_again_is_enabled_again_by_itself(bench):
    focuser, component, _ = await faulted(bench)
    assert "no reply from the focuser server, 3 times in a row" in component.fault_reason
    back(focuser)
    await bench.tick(29)
    assert component.state is FAULT
    await bench.tick(1)
    assert component.state is ENABLED and focuser.connected
    await focuser.move_to(30100)
    await bench.tick(1)
    assert (await focuser.state()).position == 30100


async def test_each_step_of_a_recovery_is_published_with_its_reason(bench):
    focuser, _, _ = await faulted(bench)
    back(focuser)
    with bench.events.subscribe("component.*") as events:
        await bench.tick(30)
        published = events.drain()
    changes = [(e.data["from"].name, e.data["to"].name, e.data["reason"]) for e in published
               if e.topic == "component.state"]
    assert changes == [("FAULT", "STANDBY", "recovery attempt 1: leaving FAULT"),
                       ("STANDBY", "DISABLED", "recovery attempt 1: reconnecting"),
                       ("DISABLED", "ENABLED", "recovery attempt 1: re-enabling")]
    [recovered] = [e for e in published if e.topic == "component.recovered"]
    assert recovered.source == "foc0" and recovered.data == {"state": ENABLED, "attempts": 1}


async def test_a_failed_attempt_faults_again_naming_the_attempt(bench):
    _, component, _ = await faulted(bench)
    await run_for(bench, 90)
    assert component.state is FAULT and component.recovery_attempts == 2
    assert component.fault_reason == ("recovery attempt 2 failed: focuser 'foc0': connect "
                                      "failed: OSError: connection refused")


async def test_recovery_needs_one_answered_probe(bench):
    focuser, component, _ = await faulted(bench)
    focuser.connect_error = None  # connects, but state() still goes unanswered
    with bench.events.subscribe("component.state") as changes:
        await bench.tick(30)
        assert steps(changes)[-1] == (
            "ENABLED", "FAULT", "recovery attempt 1 failed: focuser 'foc0' state() raised "
                                "DeviceTimeoutError: no reply from the focuser server")
    assert component.state is FAULT


async def test_a_recovery_probe_that_hangs_fails_the_attempt(bench):
    focuser, component, _ = await faulted(bench, probe_timeout_s=0.05)
    back(focuser)
    focuser.hang = True
    with bench.events.subscribe("component.state") as changes:
        bench.clock.advance(30)
        async with asyncio.timeout(REAL_LIMIT_S):
            while component.state is not FAULT or component.recovery_attempts != 1:
                await asyncio.sleep(0.01)
        assert steps(changes)[-1][2] == ("recovery attempt 1 failed: focuser 'foc0' did not "
                                         "answer state() within 0.05 s")
    focuser.hang = False
    await run_for(bench, 60)
    assert component.state is ENABLED


async def test_retries_back_off_to_the_longest_wait(bench):
    _, component, fault_time = await faulted(bench)
    with bench.events.subscribe("component.state") as changes:
        await run_for(bench, 460)
        assert attempt_times(changes, fault_time) == [30, 90, 210, 330, 450]
    assert component.next_recovery == fault_time + timedelta(seconds=570)


async def test_a_device_that_never_comes_back_is_retried_at_the_longest_wait(bench):
    focuser, component, fault_time = await faulted(bench, RecoveryPolicy(30, 600))
    probes, connects = focuser.state_calls, focuser.connects
    with bench.events.subscribe("component.state") as changes:
        await run_for(bench, 2 * 3600, step=10)
        times = attempt_times(changes, fault_time)
    # waits 30, 60, 120, 240, 480 s, then 600 s: attempts at 930 s, 1530 s ... 6930 s
    assert times == [30, 90, 210, 450, 930, *range(1530, 7200, 600)]
    assert focuser.connects - connects == len(times) == component.recovery_attempts == 15
    assert focuser.state_calls == probes  # never connected: never probed
    assert component.state is FAULT


async def test_success_resets_the_wait(bench):
    focuser, component, _ = await faulted(bench)
    await run_for(bench, 30)  # attempt 1 fails: the next waits 60 s
    back(focuser)
    await run_for(bench, 60)
    assert component.state is ENABLED and component.recovery_attempts == 0
    gone(focuser)
    await run_for(bench, 3)
    refault = bench.clock.now()
    assert component.state is FAULT
    assert component.next_recovery == refault + timedelta(seconds=30)


async def test_a_component_that_was_disabled_comes_back_disabled(bench):
    focuser, component, _ = await faulted(bench, state=DISABLED)
    back(focuser)
    with bench.events.subscribe("component.state") as changes:
        await run_for(bench, 40)
        assert [to for _, to, _ in steps(changes)] == ["STANDBY", "DISABLED"]
    assert component.state is DISABLED and focuser.connected


async def test_a_component_that_faulted_connecting_is_not_recovered(bench):
    focuser = CountingFocuser(clock=bench.clock, events=bench.events)
    focuser.connect_error = OSError("serial port busy")
    component = bench.component(focuser, recovery=POLICY)
    with pytest.raises(OSError):
        await component.enable()
    focuser.connect_error = None
    await run_for(bench, 300, step=10)
    assert component.state is FAULT and component.next_recovery is None
    assert focuser.connects == 1


async def test_recovery_times_are_in_the_summary(bench):
    _, component, fault_time = await faulted(bench)
    row = component.summary()
    assert row["recovery_attempts"] == 0
    assert row["next_recovery"] == fault_time + timedelta(seconds=30)
    await run_for(bench, 30)
    row = component.summary()
    assert row["recovery_attempts"] == 1
    assert row["next_recovery"] == fault_time + timedelta(seconds=90)


async def test_a_group_passes_the_policy_to_its_components(bench):
    focuser, wheel = FlakyFocuser(clock=bench.clock, events=bench.events), bench.wheel()
    group = bench.group([focuser, wheel], recovery=POLICY)
    assert all(component.recovery is POLICY for component in group)
    await group.enable()
    gone(focuser)
    await run_for(bench, 3)
    assert group.get_state("foc0") is FAULT
    back(focuser)
    await run_for(bench, 30)
    group.assert_all_enabled()


# ----------------------------------------------------- without or cancelled
async def test_without_a_policy_fault_stays(bench):
    focuser, component, _ = await faulted(bench, policy=None)
    back(focuser)
    with bench.events.subscribe("component.state") as changes:
        await run_for(bench, 3600, step=60)
        assert changes.drain() == []
    assert component.state is FAULT and component.summary()["next_recovery"] is None
    assert focuser.connects == 1


async def test_standby_while_recovery_is_pending_stops_it(bench):
    focuser, component, _ = await faulted(bench)
    back(focuser)
    await run_for(bench, 10)
    await component.standby()
    await run_for(bench, 600, step=10)
    assert component.state is STANDBY and not focuser.connected
    assert component.next_recovery is None and focuser.connects == 1


async def test_standby_during_a_recovery_attempt_stops_it(bench):
    focuser, component, _ = await faulted(bench)
    back(focuser)
    focuser.hold_connect = asyncio.Event()
    await bench.tick(30)
    assert component.state is STANDBY and focuser.connects == 2  # attempt 1 is connecting
    with bench.events.subscribe("component.*") as events:
        standing_by = asyncio.ensure_future(component.standby())
        await settle()
        focuser.hold_connect.set()
        async with asyncio.timeout(REAL_LIMIT_S):
            await standing_by
        await run_for(bench, 600, step=10)
        published = [(e.topic, e.data.get("to")) for e in events.drain()
                     if e.topic != "component.heartbeat"]
    assert published == [("component.state", DISABLED), ("component.state", STANDBY)]
    assert component.state is STANDBY and not focuser.connected
    assert component.next_recovery is None and focuser.connects == 2


async def test_an_enable_refused_in_fault_leaves_recovery_pending(bench):
    _, component, fault_time = await faulted(bench)
    with pytest.raises(InvalidOperationError, match="put it in STANDBY first"):
        await component.enable()
    assert component.next_recovery == fault_time + timedelta(seconds=30)


async def test_a_closed_component_does_not_recover(bench):
    focuser, component, _ = await faulted(bench)
    back(focuser)
    await component.close()
    await run_for(bench, 600, step=10)
    assert component.state is FAULT and component.next_recovery is None
    assert focuser.connects == 1


# ------------------------------------------------------------------- logging
async def test_a_repeating_fault_is_logged_at_error_once_then_summarised(bench):
    with logged("nocturna.components") as records:
        _, component, _ = await faulted(bench, RecoveryPolicy(30, 30, log_every=5))
        await run_for(bench, 30 * 12, step=10)
    assert component.recovery_attempts == 12
    errors = [r for r in records if r.levelno >= logging.ERROR]
    assert len(errors) == 1 and "ENABLED -> FAULT" in errors[0].getMessage()
    summaries = [r.getMessage() for r in records if "still in FAULT" in r.getMessage()]
    assert len(summaries) == 2
    assert summaries[0].startswith("focuser 'foc0' still in FAULT after 5 recovery attempts "
                                   "(recovery attempt 5 failed: ")
    assert summaries[0].endswith("; next in 30 s)")
    assert "after 10 recovery attempts" in summaries[1]


# --------------------------------------------------------------------- policy
@pytest.mark.parametrize(("options", "fragment"), [
    ({"first_retry_s": 0}, "first_retry_s must be"),
    ({"first_retry_s": 60, "max_retry_s": 30}, "max_retry_s must be"),
    ({"factor": 0.5}, "factor must be"),
    ({"log_every": 0}, "log_every must be"),
])
def test_a_policy_refuses_bad_values(options, fragment):
    with pytest.raises(InvalidValueError, match=fragment):
        RecoveryPolicy(**options)


def test_the_wait_doubles_up_to_the_longest():
    policy = RecoveryPolicy(first_retry_s=30, max_retry_s=600)
    assert [policy.delay_s(n) for n in range(7)] == [30, 60, 120, 240, 480, 600, 600]
    assert policy.delay_s(10_000) == 600


# ---------------------------------------------------------------------- config
def test_fault_recovery_is_on_by_default():
    settings = Config.load(None, load_local=False, environ={}).model.observatory.fault_recovery
    assert settings.enabled is True
    assert settings.first_retry.to_value("s") == 30
    assert settings.max_retry.to_value("s") == 600


@pytest.mark.parametrize(("overrides", "fragment"), [
    ({"observatory.fault_recovery.first_retry": "0 s"},
     "observatory.fault_recovery.first_retry = '0 s'"),
    ({"observatory.fault_recovery.first_retry": "-5 s"},
     "observatory.fault_recovery.first_retry"),
    ({"observatory.fault_recovery.first_retry": "3 m"},
     "observatory.fault_recovery.first_retry"),
    ({"observatory.fault_recovery.max_retry": "10 s"},
     "observatory.fault_recovery.max_retry = '10 s' (from command line): expected at least "
     "first_retry (30 s)"),
    ({"observatory.fault_recovery.first_retry": "20 min"},
     "observatory.fault_recovery.max_retry"),
    ({"observatory.fault_recovery.retries": 3}, "observatory.fault_recovery.retries"),
])
def test_bad_fault_recovery_settings_are_errors_naming_the_key(overrides, fragment):
    with pytest.raises(ConfigError) as error:
        Config.load(None, load_local=False, environ={}, overrides=overrides)
    assert fragment in str(error.value)


# ------------------------------------------------------------------ the unit
@pytest.fixture
async def midnight():
    """A virtual clock at midnight (the unit tests below are marked ``virtual_time``)."""
    with use_clock(VirtualClock(MIDNIGHT)) as clock:
        yield clock


@pytest.mark.virtual_time
async def test_a_unit_gives_every_component_the_configured_policy(tmp_path, midnight):
    unit = make_unit(unit_config(tmp_path, observatory={"fault_recovery": {
        "first_retry": "1 min", "max_retry": "15 min"}}))
    try:
        assert {c.recovery for c in unit.components} == {RecoveryPolicy(60, 900)}
        assert "cam0-instrument" in unit.components
    finally:
        await close_unit(unit)


@pytest.mark.virtual_time
async def test_a_unit_with_recovery_off_leaves_fault_alone(tmp_path, midnight):
    unit = make_unit(unit_config(tmp_path, observatory={
        "fault_recovery": {"enabled": False}}))
    try:
        assert {c.recovery for c in unit.components} == {None}
    finally:
        await close_unit(unit)


@pytest.mark.virtual_time
async def test_a_unit_records_component_state_changes_as_telemetry(tmp_path, midnight):
    unit = make_unit(unit_config(tmp_path, observatory={"fault_recovery": {
        "first_retry": "5 s"}}))
    try:
        await unit.start()
        focuser = unit.components["foc0"]
        with unit.events.subscribe("component.recovered") as recovered:
            await focuser.fault("test glitch")
            async with asyncio.timeout(60):  # virtual seconds: the retry is due after 5
                await recovered.get()
        rows = sorted((r for r in unit.storage.list_telemetry("component.state")
                       if r.data["component"] == "foc0"), key=lambda r: r.id)
    finally:
        await close_unit(unit)
    assert {r.source for r in rows} == {unit.name} == {"nocturna-demo"}
    assert {r.data["kind"] for r in rows} == {"focuser"}
    assert [(r.data["from"], r.data["to"], r.data["reason"]) for r in rows] == [
        ("offline", "standby", ""), ("standby", "disabled", ""), ("disabled", "enabled", ""),
        ("enabled", "fault", "test glitch"),
        ("fault", "standby", "recovery attempt 1: leaving FAULT"),
        ("standby", "disabled", "recovery attempt 1: reconnecting"),
        ("disabled", "enabled", "recovery attempt 1: re-enabling"),
    ]
    fault_row, first_step = rows[3], rows[4]
    assert (first_step.time - fault_row.time).total_seconds() == pytest.approx(5, abs=0.5)


@pytest.mark.virtual_time
async def test_a_unit_goes_on_when_recording_a_state_change_fails(tmp_path, midnight):
    unit = make_unit(unit_config(tmp_path))

    def broken(*args, **kwargs):
        raise OSError("database is locked")

    unit.storage.add_telemetry = broken
    try:
        with logged("nocturna.observatory.build", logging.ERROR) as records:
            await unit.start()
        unit.components.assert_all_enabled()
        assert records and all(r.getMessage() == "could not record a component state change"
                               for r in records)
    finally:
        await close_unit(unit)
