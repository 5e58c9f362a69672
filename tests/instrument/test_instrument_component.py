"""The instrument as a component: sequences need ENABLED; its devices are components too."""

from __future__ import annotations

import asyncio

import pytest
from instrument_helpers import NIGHT, make_rig

from nocturna.components import LivelinessError, SummaryState
from nocturna.core.clock import VirtualClock, use_clock
from nocturna.core.errors import InvalidOperationError
from nocturna.instrument.instrument import instrument_components

pytestmark = pytest.mark.virtual_time


@pytest.fixture(autouse=True)
async def clock():
    with use_clock(VirtualClock(NIGHT)) as clock:
        yield clock


@pytest.fixture
async def unit(tmp_path):
    rig = await make_rig(tmp_path)
    for device in rig.instrument.devices():
        await device.disconnect()  # the components connect them
    group = instrument_components(rig.instrument, [rig.mount], heartbeat_interval_s=1.0,
                                  probe_timeout_s=0.5, fault_after=10)
    yield rig, group
    await group.close()
    rig.storage.close()


async def test_a_sequence_is_refused_until_the_instrument_is_enabled(unit) -> None:
    rig, group = unit
    with pytest.raises(InvalidOperationError, match=r"cam0-instrument.*OFFLINE.*enable it"):
        await rig.instrument.take_bias(1)
    assert rig.storage.list_exposures() == []
    await group.enable()
    assert len(await rig.instrument.take_bias(1)) == 1


async def test_group_lists_the_instrument_and_its_devices(unit) -> None:
    _, group = unit
    assert set(group.components) == {"cam0", "fw0", "focuser", "mount", "cam0-instrument"}
    await group.enable()
    group.assert_all_enabled()
    group.assert_liveliness()
    versions = group.get_software_versions()
    assert versions["cam0"] == "sim 1.0"
    assert versions["cam0-instrument"].startswith("nocturna ")
    assert all(group.get_simulation_mode().values())


async def test_a_disabled_filter_wheel_refuses_the_setup_of_a_sequence(unit) -> None:
    rig, group = unit
    await group.enable()
    await group.set_state(SummaryState.DISABLED, components=["fw0"])
    with pytest.raises(InvalidOperationError, match=r"fw0.*DISABLED"):
        await rig.instrument.take_object(0.5, 1, filter="R")
    with pytest.raises(InvalidOperationError, match="fw0"):
        group.assert_all_enabled()
    assert rig.storage.list_exposures() == []


async def test_liveliness_fails_when_the_camera_stops_answering(unit) -> None:
    rig, group = unit
    await group.enable()
    hang = asyncio.Event()

    async def never_answers(*args, **kwargs):
        await hang.wait()

    rig.camera.state = never_answers  # type: ignore[method-assign]
    for _ in range(4):  # 4 s: each camera probe times out after 0.5 s (not 10: no FAULT)
        await group.next_heartbeat("fw0", timeout_s=10)
    with pytest.raises(LivelinessError) as failure:
        group.assert_liveliness(timeout_s=3.0)
    message = str(failure.value)
    assert "camera 'cam0' did not answer state() within 0.5 s" in message
    stale = {name for name in group.components if f"{name} (" in message}
    assert stale == {"cam0", "cam0-instrument"}  # the others still answer
    assert group["cam0"].state is SummaryState.ENABLED
    hang.set()
