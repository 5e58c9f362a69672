"""SimFilterWheel: slots, names, offsets, finite speed the short way, errors."""

from __future__ import annotations

import pytest
from sim_device_helpers import device_kwargs, frozen_clock, run_advancing

from nocturna.core.config.models import DeviceConfig
from nocturna.core.errors import InvalidValueError, NotConnectedError
from nocturna.devices.sim.filterwheel import SimFilterWheel


async def make_wheel(**options):
    clock = frozen_clock()
    wheel = SimFilterWheel("fw", **options, **device_kwargs(clock))
    await wheel.connect()
    return wheel, clock


async def test_info_lists_default_filters_offsets_and_dark_slot():
    wheel, _ = await make_wheel()
    info = await wheel.info()
    assert info.names == ["L", "R", "G", "B", "Ha", "OIII", "SII", "Dark"]
    assert len(info.focus_offsets) == 8 and info.focus_offsets[0] == 0
    assert info.dark_position == 7


async def test_position_is_minus_one_while_turning():
    wheel, clock = await make_wheel()
    await wheel.set_position(3)  # three slots at 0.5 s
    clock.advance(1.49)
    moving = await wheel.state()
    assert moving.position == -1 and moving.name is None
    clock.advance(0.01)
    arrived = await wheel.state()
    assert arrived.position == 3 and arrived.name == "B"


async def test_wheel_turns_the_shorter_way_round():
    wheel, clock = await make_wheel()
    await wheel.set_position(7)  # 0 → 7 is one slot backwards
    clock.advance(0.5)
    assert (await wheel.state()).position == 7


async def test_move_to_by_name_waits_for_the_filter():
    wheel, clock = await make_wheel()
    state = await run_advancing(clock, wheel.move_to("ha"), step_s=0.1)
    assert state.position == 4 and state.name == "Ha"


async def test_change_of_mind_while_turning_starts_from_where_the_wheel_is():
    wheel, clock = await make_wheel()
    await wheel.set_position(4)  # 2 s
    clock.advance(1.0)  # at slot 2
    await wheel.set_position(1)  # one more slot back: 0.5 s
    clock.advance(0.49)
    assert (await wheel.state()).position == -1
    clock.advance(0.01)
    assert (await wheel.state()).position == 1


async def test_setting_the_current_slot_does_not_move():
    wheel, _ = await make_wheel(position=2)
    await wheel.set_position(2)
    assert (await wheel.state()).position == 2


@pytest.mark.parametrize("position", [-1, 8, 100])
async def test_position_out_of_range_is_refused(position):
    wheel, _ = await make_wheel()
    with pytest.raises(InvalidValueError, match=r"not in 0\.\.7"):
        await wheel.set_position(position)


async def test_unknown_filter_name_is_refused():
    wheel, _ = await make_wheel()
    with pytest.raises(InvalidValueError, match="no filter named"):
        await wheel.move_to("V")


async def test_duplicate_names_are_refused():
    with pytest.raises(InvalidValueError, match="unique"):
        SimFilterWheel("fw", names=["L", "l"])


@pytest.mark.parametrize("call", [
    lambda w: w.state(),
    lambda w: w.info(),
    lambda w: w.set_position(1),
], ids=["state", "info", "set_position"])
async def test_members_while_disconnected_raise_not_connected(call):
    wheel = SimFilterWheel("fw", **device_kwargs(frozen_clock()))
    with pytest.raises(NotConnectedError):
        await call(wheel)


async def test_from_config_reads_names_offsets_and_speed():
    clock = frozen_clock()
    wheel = SimFilterWheel.from_config(
        DeviceConfig(name="fw1", names=["u", "g", "r"], focus_offsets=[5, 0, -5],
                     seconds_per_slot="2 s"), clock=clock)
    await wheel.connect()
    info = await wheel.info()
    assert info.names == ["u", "g", "r"] and info.focus_offsets == [5, 0, -5]
    assert info.dark_position is None
    await wheel.set_position(1)
    clock.advance(1.9)
    assert (await wheel.state()).position == -1
